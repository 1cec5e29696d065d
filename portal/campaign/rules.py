"""Rules versions (rule 16): the text's structure, what is in force, what changed.

A rules body is Markdown with one clause per paragraph, each starting with its
number (``5.`` or ``4.2.``), an optional ``# title`` first, and an optional closing
note after a line ``---``. Clauses are what readers cite and what the comparison
between two versions is made of.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from difflib import SequenceMatcher

import sqlalchemy as sa

from portal.campaign import audit, news, subscriptions
from portal.models import Campaign, RulesVersion, db

CLAUSE_START = re.compile(r"^(\d{1,3}(?:\.\d{1,3})*)\.\s+(\S.*)$")
NOTE_SEPARATOR = "---"
# How alike two clauses must be to be shown as one clause changed rather than
# one removed and one added.
SAME_CLAUSE_RATIO = 0.5


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
    """Why a body cannot be rules: ``no-clauses`` or ``duplicate`` (of clause ``number``)."""

    kind: str
    number: str = ""

    def __str__(self) -> str:
        return (
            "no numbered clauses"
            if self.kind == "no-clauses"
            else f"clause {self.number} appears twice"
        )


def rules_problems(body: str) -> list[RulesProblem]:
    """What makes a body unusable as rules, or []."""
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


@dataclass(frozen=True)
class Segment:
    """A run of text in a word-level comparison: ``equal``, ``insert`` or ``delete``."""

    op: str
    text: str


def word_diff(old: str, new: str) -> list[Segment]:
    """The word-level changes that turn ``old`` into ``new``."""
    a, b = TOKEN.findall(old), TOKEN.findall(new)
    segments: list[Segment] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
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


def _part(old: str, new: str) -> PartChange:
    return PartChange(old, new, tuple(word_diff(old, new)) if old != new else ())


def _similarity(old: Clause, new: Clause) -> float:
    return SequenceMatcher(None, old.text, new.text, autojunk=False).ratio()


def _pair_block(old: list[Clause], new: list[Clause]) -> list[ClauseChange]:
    """Pair the clauses of a replaced block: alike ones changed, the rest removed or added."""
    changes: list[ClauseChange] = []
    j = 0
    for old_clause in old:
        match = None
        for k in range(j, len(new)):
            same_number = new[k].number == old_clause.number
            if same_number or _similarity(old_clause, new[k]) >= SAME_CLAUSE_RATIO:
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
            segments = tuple(word_diff(old_clause.text, new_clause.text))
            changes.append(ClauseChange("changed", old_clause, new_clause, segments))
        j = match + 1
    changes.extend(ClauseChange("added", None, clause) for clause in new[j:])
    return changes


def diff_rules(old_body: str, new_body: str) -> RulesDiff:
    """Compare two rules bodies clause by clause."""
    old, new = parse_rules(old_body), parse_rules(new_body)
    result = RulesDiff(
        title=_part(old.title, new.title),
        preamble=_part(old.preamble, new.preamble),
        note=_part(old.note, new.note),
    )
    a, b = list(old.clauses), list(new.clauses)
    matcher = SequenceMatcher(None, [c.text for c in a], [c.text for c in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            result.clauses.extend(
                ClauseChange("unchanged", x, y) for x, y in zip(a[i1:i2], b[j1:j2], strict=True)
            )
        elif op == "delete":
            result.clauses.extend(ClauseChange("removed", x, None) for x in a[i1:i2])
        elif op == "insert":
            result.clauses.extend(ClauseChange("added", None, y) for y in b[j1:j2])
        else:
            result.clauses.extend(_pair_block(a[i1:i2], b[j1:j2]))
    return result


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
        if rules_problems(version.tr("body", lang)):
            raise RulesChangeRefused("text", lang)
        if not version.tr("summary", lang).strip():
            raise RulesChangeRefused("summary", lang)
    if version.effective_on < today:
        raise RulesChangeRefused("date")
    version.published = True
    version.published_at = now
    db.session.flush()


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
