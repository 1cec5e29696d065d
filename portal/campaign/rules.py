"""Rules versions (rule 16): the text's structure, what is in force, what changed.

A rules body is Markdown with one clause per paragraph, each starting with its
number (``5.`` or ``4.2.``), an optional ``# title`` first, and an optional closing
note after a line ``---``. Clauses are what readers cite and what the comparison
between two versions is made of.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from difflib import SequenceMatcher

import sqlalchemy as sa

from portal.campaign import LANGUAGES, audit, news, subscriptions
from portal.models import Campaign, RulesVersion, StoredRulesDiff, db

CLAUSE_START = re.compile(r"^(\d{1,3}(?:\.\d{1,3})*)\.\s+(\S.*)$")
NOTE_SEPARATOR = "---"
# How alike two clauses must be to be shown as one clause changed rather than
# one removed and one added.
SAME_CLAUSE_RATIO = 0.5
# A version's text in one language, in UTF-8 (the campaign's rules are 8 KB a language).
RULES_MAX_BYTES = 200 * 1024


@dataclass(frozen=True)
class Clause:
    """One numbered clause: its number as written and its Markdown text."""

    number: str
    text: str

    @property
    def anchor(self) -> str:
        return "clause-" + self.number.replace(".", "-")

    @property
    def depth(self) -> int:
        return self.number.count(".")


@dataclass(frozen=True)
class RulesDocument:
    """A rules body split into title, preamble, clauses and closing note."""

    title: str = ""
    preamble: str = ""
    clauses: tuple[Clause, ...] = ()
    note: str = ""

    def clause(self, number: str) -> Clause | None:
        return next((c for c in self.clauses if c.number == number), None)


def parse_rules(body: str) -> RulesDocument:
    """Split a rules body into its parts."""
    title = ""
    preamble: list[str] = []
    clauses: list[tuple[str, list[str]]] = []
    note: list[str] = []
    in_note = False
    for line in body.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if in_note:
            note.append(line)
            continue
        if stripped == NOTE_SEPARATOR and clauses:
            in_note = True
            continue
        match = CLAUSE_START.match(stripped)
        if match:
            clauses.append((match.group(1), [match.group(2)]))
        elif clauses:
            clauses[-1][1].append(line)
        elif stripped.startswith("# ") and not title and not any(p.strip() for p in preamble):
            title = stripped[2:].strip()
        else:
            preamble.append(line)
    return RulesDocument(
        title=title,
        preamble="\n".join(preamble).strip(),
        clauses=tuple(Clause(number, "\n".join(lines).strip()) for number, lines in clauses),
        note="\n".join(note).strip(),
    )


@dataclass(frozen=True)
class RulesProblem:
    """Why a body cannot be rules: ``too-large`` (over ``RULES_MAX_BYTES``, ``size`` its
    bytes), ``no-clauses`` or ``duplicate`` (of clause ``number``)."""

    kind: str
    number: str = ""
    size: int = 0

    def __str__(self) -> str:
        if self.kind == "too-large":
            return f"larger than {RULES_MAX_BYTES} bytes ({self.size})"
        return (
            "no numbered clauses"
            if self.kind == "no-clauses"
            else f"clause {self.number} appears twice"
        )


def rules_problems(body: str) -> list[RulesProblem]:
    """What makes a body unusable as rules, or []."""
    size = len(body.encode("utf-8", "surrogatepass"))
    if size > RULES_MAX_BYTES:
        return [RulesProblem("too-large", size=size)]
    document = parse_rules(body)
    problems = []
    if not document.clauses:
        problems.append(RulesProblem("no-clauses"))
    seen: set[str] = set()
    for clause in document.clauses:
        if clause.number in seen:
            problems.append(RulesProblem("duplicate", clause.number))
        seen.add(clause.number)
    return problems


# --- comparing two versions -------------------------------------------------------

TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)
WORD_AND_SPACE = re.compile(r"\s+|(?:\w+|[^\w\s])\s*", re.UNICODE)


@dataclass(frozen=True)
class Segment:
    """A run of text in a word-level comparison: ``equal``, ``insert`` or ``delete``."""

    op: str
    text: str


# The work one comparison of two versions may take, in steps of difflib's search for
# the longest match (its inner loop; about 5 million a second here): whatever the
# texts, a comparison ends within about 2 s (benchmarks/rules_diff_bench.py). A part
# that would take more is shown replaced as a whole, and once the budget is spent,
# clauses are paired by their numbers alone.
DIFF_BUDGET = 20_000_000
PAIR_STEPS = 5  # what looking at one pair of clauses costs, in those steps


class OverBudget(Exception):
    """The comparison's budget is spent."""


class Budget:
    """The work left for one comparison (``DIFF_BUDGET`` steps)."""

    def __init__(self, steps: int = DIFF_BUDGET):
        self.left = steps

    def spend(self, steps: int) -> None:
        """Take ``steps`` from what is left, or raise ``OverBudget`` (leaving nothing)."""
        self.left -= steps
        if self.left < 0:
            self.left = 0
            raise OverBudget

    def may_compare(self, a: Sequence, b: Sequence) -> bool:
        """Whether comparing ``a`` with ``b`` may fit in what is left: the first search
        alone (for each item of ``a``, the places it occurs in ``b``) must. Looking
        costs the lengths, which are spent."""
        try:
            self.spend(len(a) + len(b))
        except OverBudget:
            return False
        occurrences: dict = {}
        for item in b:
            occurrences[item] = occurrences.get(item, 0) + 1
        get = occurrences.get
        return sum(get(item, 0) for item in a) <= self.left


class BoundedMatcher(SequenceMatcher):
    """difflib's matcher (no junk) that spends ``budget`` on each search for the
    longest match, as many steps as that search's inner loop takes, before making it."""

    def __init__(self, a: Sequence, b: Sequence, budget: Budget):
        self.budget = budget
        super().__init__(None, a, b, autojunk=False)

    def find_longest_match(self, alo=0, ahi=None, blo=0, bhi=None):
        ahi = len(self.a) if ahi is None else ahi
        bhi = len(self.b) if bhi is None else bhi
        b2j, steps = self.b2j, ahi - alo
        for item in self.a[alo:ahi]:
            where = b2j.get(item)
            if where:  # the loop runs over the item's places up to bhi
                steps += bisect_left(where, bhi)
        self.budget.spend(steps)
        return super().find_longest_match(alo, ahi, blo, bhi)


def opcodes(
    a: Sequence, b: Sequence, budget: Budget, *, whole: bool = True
) -> list[tuple[str, int, int, int, int]] | None:
    """``SequenceMatcher(None, a, b, autojunk=False).get_opcodes()`` within ``budget``.

    The common beginning and end are matched first; a middle too costly to compare is
    one ``replace`` (so the result is always a valid edit), or None unless ``whole``.
    """
    start, end_a, end_b = 0, len(a), len(b)
    while start < end_a and start < end_b and a[start] == b[start]:
        start += 1
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a, end_b = end_a - 1, end_b - 1
    middle: list[tuple[str, int, int, int, int]] | None = None
    if start == end_a and start == end_b:
        middle = []
    elif start == end_a:
        middle = [("insert", start, start, start, end_b)]
    elif start == end_b:
        middle = [("delete", start, end_a, start, start)]
    elif budget.may_compare(a[start:end_a], b[start:end_b]):
        try:
            matcher = BoundedMatcher(a[start:end_a], b[start:end_b], budget)
            middle = [
                (op, i1 + start, i2 + start, j1 + start, j2 + start)
                for op, i1, i2, j1, j2 in matcher.get_opcodes()
            ]
        except OverBudget:
            middle = None
    if middle is None:
        if not whole:
            return None
        middle = [("replace", start, end_a, start, end_b)]
    result = []
    if start:
        result.append(("equal", 0, start, 0, start))
    result.extend(middle)
    if end_a < len(a):
        result.append(("equal", end_a, len(a), end_b, len(b)))
    return result


def word_diff(old: str, new: str, budget: Budget | None = None) -> list[Segment]:
    """The word-level changes that turn ``old`` into ``new``.

    Words, spaces and signs are compared one by one; a text too long for that (its
    spaces alone would cost the budget) is compared word by word with each word's
    space attached; one longer still is shown replaced as a whole.
    """
    budget = budget or Budget()
    a, b = TOKEN.findall(old), TOKEN.findall(new)
    found = opcodes(a, b, budget, whole=False)
    if found is None:
        a, b = WORD_AND_SPACE.findall(old), WORD_AND_SPACE.findall(new)
        found = opcodes(a, b, budget)
    segments: list[Segment] = []
    for op, i1, i2, j1, j2 in found:
        if op == "equal":
            segments.append(Segment("equal", "".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            segments.append(Segment("delete", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            segments.append(Segment("insert", "".join(b[j1:j2])))
    return segments


@dataclass(frozen=True)
class ClauseChange:
    """One clause in a comparison: ``unchanged``, ``changed``, ``added`` or ``removed``."""

    status: str
    old: Clause | None
    new: Clause | None
    segments: tuple[Segment, ...] = ()

    @property
    def renumbered(self) -> bool:
        return self.old is not None and self.new is not None and self.old.number != self.new.number


@dataclass(frozen=True)
class PartChange:
    """A change of the title, preamble or closing note (``segments`` empty when unchanged)."""

    old: str
    new: str
    segments: tuple[Segment, ...] = ()

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass
class RulesDiff:
    """Everything that changed between two rules bodies, in reading order."""

    title: PartChange
    preamble: PartChange
    clauses: list[ClauseChange] = field(default_factory=list)
    note: PartChange = field(default_factory=lambda: PartChange("", ""))

    def blocks(self) -> list[tuple[str, list[ClauseChange]]]:
        """The clauses in reading order, runs of unchanged ones grouped together."""
        blocks: list[tuple[str, list[ClauseChange]]] = []
        for change in self.clauses:
            kind = (
                "unchanged" if change.status == "unchanged" and not change.renumbered else "change"
            )
            if kind == "unchanged" and blocks and blocks[-1][0] == "unchanged":
                blocks[-1][1].append(change)
            else:
                blocks.append((kind, [change]))
        return blocks

    def count(self, status: str) -> int:
        return sum(1 for c in self.clauses if c.status == status)

    @property
    def has_changes(self) -> bool:
        return (
            self.title.changed
            or self.preamble.changed
            or self.note.changed
            or any(c.status != "unchanged" or c.renumbered for c in self.clauses)
        )


def _part(old: str, new: str, budget: Budget) -> PartChange:
    return PartChange(old, new, tuple(word_diff(old, new, budget)) if old != new else ())


def _similar(old: Clause, new: Clause, budget: Budget) -> bool:
    """Whether two clauses are alike enough to be one clause changed (character by
    character, as far as the budget goes: beyond it, no two clauses are alike)."""
    a, b = old.text, new.text
    try:
        budget.spend(PAIR_STEPS)
    except OverBudget:
        return False
    if 2 * min(len(a), len(b)) < SAME_CLAUSE_RATIO * (len(a) + len(b)):
        return False  # the lengths alone rule it out
    if not budget.may_compare(a, b):
        return False
    try:
        return BoundedMatcher(a, b, budget).ratio() >= SAME_CLAUSE_RATIO
    except OverBudget:
        return False


def _pair_block(old: list[Clause], new: list[Clause], budget: Budget) -> list[ClauseChange]:
    """Pair the clauses of a replaced block: alike ones changed, the rest removed or added."""
    changes: list[ClauseChange] = []
    by_number: dict[str, list[int]] = {}
    for k, clause in enumerate(new):
        by_number.setdefault(clause.number, []).append(k)
    j = 0
    for old_clause in old:
        match = None
        for k in range(j, len(new)):
            if budget.left <= 0:  # no more likenesses: clauses pair by number alone
                same = by_number.get(old_clause.number, [])
                at = bisect_left(same, j)
                match = same[at] if at < len(same) else None
                break
            same_number = new[k].number == old_clause.number
            if same_number or _similar(old_clause, new[k], budget):
                match = k
                break
        if match is None:
            changes.append(ClauseChange("removed", old_clause, None))
            continue
        changes.extend(ClauseChange("added", None, clause) for clause in new[j:match])
        new_clause = new[match]
        if new_clause.text == old_clause.text:
            changes.append(ClauseChange("unchanged", old_clause, new_clause))
        else:
            segments = tuple(word_diff(old_clause.text, new_clause.text, budget))
            changes.append(ClauseChange("changed", old_clause, new_clause, segments))
        j = match + 1
    changes.extend(ClauseChange("added", None, clause) for clause in new[j:])
    return changes


def diff_rules(old_body: str, new_body: str) -> RulesDiff:
    """Compare two rules bodies clause by clause, within ``DIFF_BUDGET``."""
    budget = Budget()
    old, new = parse_rules(old_body), parse_rules(new_body)
    result = RulesDiff(
        title=_part(old.title, new.title, budget),
        preamble=_part(old.preamble, new.preamble, budget),
        note=_part(old.note, new.note, budget),
    )
    a, b = list(old.clauses), list(new.clauses)
    for op, i1, i2, j1, j2 in opcodes([c.text for c in a], [c.text for c in b], budget):
        if op == "equal":
            result.clauses.extend(
                ClauseChange("unchanged", x, y) for x, y in zip(a[i1:i2], b[j1:j2], strict=True)
            )
        elif op == "delete":
            result.clauses.extend(ClauseChange("removed", x, None) for x in a[i1:i2])
        elif op == "insert":
            result.clauses.extend(ClauseChange("added", None, y) for y in b[j1:j2])
        else:
            result.clauses.extend(_pair_block(a[i1:i2], b[j1:j2], budget))
    return result


# --- comparisons kept ------------------------------------------------------------------

# The form of a kept comparison's JSON; a kept one of another form is computed again.
DIFF_FORMAT = 1


def diff_to_json(diff: RulesDiff) -> str:
    """A comparison as JSON (``diff_from_json`` reads it back as it was)."""

    def part(change: PartChange) -> list:
        return [change.old, change.new, [[s.op, s.text] for s in change.segments]]

    def clause(c: Clause | None) -> list | None:
        return None if c is None else [c.number, c.text]

    return json.dumps(
        {
            "title": part(diff.title),
            "preamble": part(diff.preamble),
            "note": part(diff.note),
            "clauses": [
                [c.status, clause(c.old), clause(c.new), [[s.op, s.text] for s in c.segments]]
                for c in diff.clauses
            ],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def diff_from_json(text: str) -> RulesDiff:
    """The comparison ``diff_to_json`` wrote."""
    data = json.loads(text)

    def segments(items: list) -> tuple[Segment, ...]:
        return tuple(Segment(op, part) for op, part in items)

    def part(item: list) -> PartChange:
        return PartChange(item[0], item[1], segments(item[2]))

    def clause(item: list | None) -> Clause | None:
        return None if item is None else Clause(item[0], item[1])

    return RulesDiff(
        title=part(data["title"]),
        preamble=part(data["preamble"]),
        note=part(data["note"]),
        clauses=[
            ClauseChange(status, clause(old), clause(new), segments(items))
            for status, old, new, items in data["clauses"]
        ],
    )


def _kept(older: RulesVersion, newer: RulesVersion, lang: str) -> StoredRulesDiff | None:
    return db.session.scalar(
        sa.select(StoredRulesDiff).filter_by(older_id=older.id, newer_id=newer.id, language=lang)
    )


def keep_diff(older: RulesVersion, newer: RulesVersion, lang: str) -> RulesDiff:
    """Compare two versions in ``lang`` and keep the comparison (the caller commits)."""
    diff = diff_rules(older.tr("body", lang), newer.tr("body", lang))
    row = _kept(older, newer, lang) or StoredRulesDiff(
        older_id=older.id, newer_id=newer.id, language=lang
    )
    row.diff_format, row.diff_json = DIFF_FORMAT, diff_to_json(diff)
    db.session.add(row)
    db.session.flush()
    return diff


def stored_diff(older: RulesVersion, newer: RulesVersion, lang: str) -> RulesDiff:
    """What changed from ``older`` to ``newer`` in ``lang``: computed once, then kept.

    Published versions never change, so their comparison is read from ``rules_diff``
    once made (on publication, or on the first request for the pair) and committed at
    once; two requests making it at the same moment keep one. A draft's comparison is
    computed each time and not kept.
    """
    row = _kept(older, newer, lang)
    if row is not None and row.diff_format == DIFF_FORMAT:
        return diff_from_json(row.diff_json)
    if not (older.published and newer.published):
        return diff_rules(older.tr("body", lang), newer.tr("body", lang))
    try:
        diff = keep_diff(older, newer, lang)
        db.session.commit()
    except sa.exc.IntegrityError:  # kept by another request meanwhile: the same comparison
        db.session.rollback()
        diff = diff_from_json(_kept(older, newer, lang).diff_json)
    return diff


# --- versions of a campaign ---------------------------------------------------------


def published_versions(campaign: Campaign) -> list[RulesVersion]:
    """Every published version of the campaign's rules, newest first."""
    return list(
        db.session.scalars(
            sa.select(RulesVersion)
            .filter_by(campaign_id=campaign.id, published=True)
            .order_by(RulesVersion.number.desc())
        )
    )


def published_version(campaign: Campaign, number: int) -> RulesVersion | None:
    """Published version ``number`` of the campaign's rules, or None."""
    return db.session.scalar(
        sa.select(RulesVersion).filter_by(campaign_id=campaign.id, number=number, published=True)
    )


def version_in_force(campaign: Campaign, on: date) -> RulesVersion | None:
    """The published version in force on ``on``: the latest one already effective."""
    return db.session.scalar(
        sa.select(RulesVersion)
        .filter_by(campaign_id=campaign.id, published=True)
        .where(RulesVersion.effective_on <= on)
        .order_by(RulesVersion.effective_on.desc(), RulesVersion.number.desc())
    )


# --- drafting and publishing (rule 16) ------------------------------------------------


class RulesChangeRefused(ValueError):
    """A draft that cannot be published as it stands; ``code`` says why."""

    def __init__(self, code: str, lang: str = ""):
        super().__init__(f"{code} {lang}".strip())
        self.code, self.lang = code, lang


def next_version_number(campaign: Campaign) -> int:
    """The number the next version of the campaign's rules gets."""
    highest = db.session.scalar(
        sa.select(sa.func.max(RulesVersion.number)).filter_by(campaign_id=campaign.id)
    )
    return (highest or 0) + 1


def open_draft(campaign: Campaign) -> RulesVersion | None:
    """The campaign's unpublished draft, if one is being written."""
    return db.session.scalar(
        sa.select(RulesVersion).filter_by(campaign_id=campaign.id, published=False)
    )


def start_draft(campaign: Campaign, today: date) -> RulesVersion:
    """A new draft copied from the version in force (or the latest), or the open draft."""
    draft = open_draft(campaign)
    if draft is not None:
        return draft
    base = version_in_force(campaign, today) or next(iter(published_versions(campaign)), None)
    draft = RulesVersion(
        campaign=campaign,
        number=next_version_number(campaign),
        body_kk=base.body_kk if base else "",
        body_ru=base.body_ru if base else "",
        summary_kk="",
        summary_ru="",
        effective_on=today,
    )
    db.session.add(draft)
    db.session.flush()
    return draft


def publish(version: RulesVersion, now: datetime, today: date) -> None:
    """Publish a draft: from now on it is immutable, and public from its effective date."""
    if version.published:
        raise RulesChangeRefused("published")
    for lang in ("kk", "ru"):
        problems = rules_problems(version.tr("body", lang))
        if any(problem.kind == "too-large" for problem in problems):
            raise RulesChangeRefused("too-large", lang)
        if problems:
            raise RulesChangeRefused("text", lang)
        if not version.tr("summary", lang).strip():
            raise RulesChangeRefused("summary", lang)
    if version.effective_on < today:
        raise RulesChangeRefused("date")
    version.published = True
    version.published_at = now
    db.session.flush()
    # Compared at once with every earlier version, so no reader waits for it.
    for earlier in published_versions(version.campaign):
        if earlier.number < version.number:
            for lang in LANGUAGES:
                keep_diff(earlier, version, lang)


def publish_and_announce(
    version: RulesVersion,
    titles: dict[str, str],
    *,
    actor: audit.Actor,
    links: subscriptions.MailLinks,
    now: datetime,
    today: date,
) -> int:
    """Rule 16: publish a draft and announce it (its summary, under ``titles``) on the news
    page, in the feed and to the subscribers, on the record; how many e-mails were queued.

    Raises ``RulesChangeRefused`` as ``publish`` does. The caller commits.
    """
    publish(version, now, today)
    audit.record(
        "rules.publish",
        version,
        {"number": version.number, "effective_on": version.effective_on},
        actor=actor,
    )
    announcement = news.rules_change_draft(version, titles)
    return news.publish(announcement, actor=actor, links=links, now=now)
