"""A campaign's eligibility conditions, as data (rule 4 of the 2022 campaign).

Each condition is a row of ``campaign_condition``: a ``kind`` the portal knows, its
parameters, the import column it reads, its names and evidence sentences, and the
``slot`` of ``activity`` where its figure and its verdict are stored. The slots are the
2022 campaign's columns, whose names are historical (docs/DESIGN.md, "Conditions as
data"): two date slots, two number slots and the legal form. A campaign's set must fit
them (``check_fit``); an unused slot stays NULL and does not count in ``eligible``.

From the same rows, ``sql_verdicts`` builds the one statement that judges a month and
``explain`` the evidence for one participant; both read the figure the same way, and
``tests/test_conditions.py`` checks that they agree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from portal.campaign import audit
from portal.models import Activity, Campaign, CampaignCondition, ReportingPeriod, db

# slot (the ``activity`` column) -> its type, and the name of its verdict ``ok_<name>``
# and funnel count ``passed_<name>``.
SLOTS = {
    "app_authorized_on": ("date", "app"),
    "ekassa_connected_on": ("date", "ekassa"),
    "paid_months": ("number", "paid"),
    "receipts_in_period": ("number", "receipts"),
    "legal_form": ("legal-form", "legal_form"),
}
VERDICTS = tuple(name for _, name in SLOTS.values())  # in the funnel's column order
KINDS = {
    "date-by-period-end": "date",
    "date-within": "date",
    "count-at-least": "number",
    "number-at-least": "number",
    "legal-form-in": "legal-form",
}
# The ends a date-within window may have besides a fixed date (YYYY-MM-DD); a list of
# ends is the earliest of them.
ENDS = ("campaign-start", "campaign-end", "period-end")
# The import's identity columns (``imports.IDENTITY``): no condition may take their
# names, except the legal form's own condition, which reads ``legal_form``.
IDENTITY_COLUMNS = (
    "account_number",
    "bin_iin",
    "legal_form",
    "company_name",
    "director_name",
    "email",
    "phone",
    "city",
)
CODE_LENGTH = 32
COLUMN_LENGTH = 64


class ConditionsRefused(ValueError):
    """A set of conditions the portal cannot apply; ``code`` says why, ``detail`` where
    (``portal.wording.messages.describe_conditions_refusal`` words it)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code} {detail}".strip())
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Condition:
    """One condition as it is applied (from its row, or from a run's snapshot)."""

    code: str
    kind: str
    slot: str
    column: str
    params: dict = field(default_factory=dict, hash=False)
    name: dict = field(default_factory=dict, hash=False)  # lang -> text
    holds: dict = field(default_factory=dict, hash=False)
    fails: dict = field(default_factory=dict, hash=False)
    missing: dict = field(default_factory=dict, hash=False)
    early: dict = field(default_factory=dict, hash=False)

    @property
    def verdict(self) -> str:
        """The slot's verdict name: ``ok_<verdict>``, ``passed_<verdict>``."""
        return SLOTS[self.slot][1]

    @property
    def minimum(self) -> int:
        return int(self.params["min"])

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "kind": self.kind,
            "slot": self.slot,
            "column": self.column,
            "params": self.params,
            "name": self.name,
            "holds": self.holds,
            "fails": self.fails,
            "missing": self.missing,
            "early": self.early,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Condition:
        return cls(**{k: d.get(k, {}) for k in cls.__dataclass_fields__})

    @classmethod
    def of(cls, row: CampaignCondition) -> Condition:
        both = ("kk", "ru")
        return cls(
            row.code,
            row.kind,
            row.slot,
            row.column,
            json.loads(row.parameters or "{}"),
            {lang: getattr(row, f"name_{lang}") for lang in both},
            {lang: getattr(row, f"holds_{lang}") for lang in both},
            {lang: getattr(row, f"fails_{lang}") for lang in both},
            {lang: getattr(row, f"missing_{lang}") or "" for lang in both},
            {lang: getattr(row, f"early_{lang}") or "" for lang in both},
        )


# --- which conditions, and do they fit ---------------------------------------------------


def of_campaign(campaign: Campaign) -> list[Condition]:
    """The campaign's conditions in force, in their order (``position``)."""
    rows = db.session.scalars(
        sa.select(CampaignCondition)
        .filter_by(campaign_id=campaign.id)
        .order_by(CampaignCondition.position, CampaignCondition.id)
    )
    return [Condition.of(row) for row in rows]


def check_fit(conditions: Iterable[Condition]) -> None:
    """Refuse (``ConditionsRefused``) a set the slots and the import cannot hold: an unknown
    kind or slot, a kind in a slot of another type, a slot, code or column twice, a column
    that is an identity column, or parameters the kind cannot read."""
    codes: set[str] = set()
    slots: set[str] = set()
    columns: set[str] = set()
    conditions = list(conditions)
    if not conditions:
        raise ConditionsRefused("none")
    for c in conditions:
        if c.kind not in KINDS:
            raise ConditionsRefused("kind-unknown", c.kind)
        if c.slot not in SLOTS:
            raise ConditionsRefused("slot-unknown", c.slot)
        if KINDS[c.kind] != SLOTS[c.slot][0]:
            raise ConditionsRefused("slot-kind", c.code)
        if not c.code or len(c.code) > CODE_LENGTH or c.code in codes:
            raise ConditionsRefused("code", c.code)
        if c.slot in slots:
            raise ConditionsRefused("slot-taken", c.code)
        column = c.column.strip()
        if not column or len(column) > COLUMN_LENGTH or column in columns:
            raise ConditionsRefused("column", c.column)
        if c.kind == "legal-form-in":
            if column != "legal_form":
                raise ConditionsRefused("legal-form-column", c.column)
        elif column in IDENTITY_COLUMNS:
            raise ConditionsRefused("column-identity", c.column)
        for lang in ("kk", "ru"):
            if not (c.name.get(lang) or "").strip():
                raise ConditionsRefused("name", c.code)
            if not c.holds.get(lang) or not c.fails.get(lang):
                raise ConditionsRefused("sentences", c.code)
        _check_params(c)
        codes.add(c.code)
        slots.add(c.slot)
        columns.add(column)


def _check_params(c: Condition) -> None:
    p = c.params
    if not isinstance(p, dict):
        raise ConditionsRefused("parameters", c.code)
    if KINDS[c.kind] == "number":
        value = p.get("min")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConditionsRefused("parameters", c.code)
    elif c.kind == "date-within":
        for end in ("from", "to"):
            if end not in p:
                raise ConditionsRefused("parameters", c.code)
            ends = p[end] if isinstance(p[end], list) else [p[end]]
            if not ends or not all(_valid_end(e) for e in ends):
                raise ConditionsRefused("parameters", c.code)
    elif c.kind == "legal-form-in":
        forms = p.get("forms")
        if not forms or not all(isinstance(f, str) and f.strip() for f in forms):
            raise ConditionsRefused("parameters", c.code)


def _valid_end(end) -> bool:
    if end in ENDS:
        return True
    try:
        date.fromisoformat(end)
    except (TypeError, ValueError):
        return False
    return True


def replace(campaign: Campaign, conditions: list[Condition]) -> list[CampaignCondition]:
    """Make ``conditions`` the campaign's set, in their order, once they fit (the caller
    commits). Raises ``ConditionsRefused`` and changes nothing when they do not fit."""
    check_fit(conditions)
    db.session.execute(
        sa.delete(CampaignCondition).where(CampaignCondition.campaign_id == campaign.id)
    )
    rows = []
    for position, c in enumerate(conditions, start=1):
        row = CampaignCondition(
            campaign_id=campaign.id,
            position=position,
            code=c.code,
            kind=c.kind,
            slot=c.slot,
            column=c.column.strip(),
            parameters=json.dumps(c.params, ensure_ascii=False, sort_keys=True),
        )
        for lang in ("kk", "ru"):
            setattr(row, f"name_{lang}", c.name[lang])
            setattr(row, f"holds_{lang}", c.holds[lang])
            setattr(row, f"fails_{lang}", c.fails[lang])
            setattr(row, f"missing_{lang}", c.missing.get(lang, ""))
            setattr(row, f"early_{lang}", c.early.get(lang, ""))
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    db.session.expire(campaign, ["conditions"])
    return rows


def with_parameters(campaign: Campaign, changes: dict[str, dict]) -> list[Condition]:
    """The campaign's conditions with some parameters changed (``{code: {"min": 10}}``):
    what a new rules version (rule 16) applies, through ``replace``."""
    current = of_campaign(campaign)
    unknown = set(changes) - {c.code for c in current}
    if unknown:
        raise ConditionsRefused("code", sorted(unknown)[0])
    return [
        Condition.from_dict({**c.as_dict(), "params": {**c.params, **changes[c.code]}})
        if c.code in changes
        else c
        for c in current
    ]


# The 2022 campaign's rule 4, by code and kind: a campaign with exactly these is shown
# with the steps its rules word (the public page's "how to take part").
RULE_4_2022 = (
    ("app", "date-by-period-end"),
    ("ekassa", "date-within"),
    ("paid", "number-at-least"),
    ("receipts", "count-at-least"),
    ("legal_form", "legal-form-in"),
)


def is_standard(applied: list[Condition]) -> bool:
    """The conditions are the 2022 campaign's five kinds (their parameters aside)."""
    return tuple((c.code, c.kind) for c in applied) == RULE_4_2022


def change_parameters(campaign: Campaign, changes: dict[str, dict], *, actor) -> None:
    """Rule 16: a new rules version's thresholds, as its conditions' parameters
    (``{"receipts": {"min": 10}}``), on the record (the caller commits). The months
    computed before keep the conditions their runs recorded (the self-check, the
    winners' checks); a drawn month is never computed again (``eligibility.MonthFrozen``).
    Raises ``ConditionsRefused``, nothing changed, when the result does not fit."""
    before = {c.code: c.params for c in of_campaign(campaign)}
    replace(campaign, with_parameters(campaign, changes))
    audit.record(
        "conditions.parameters",
        campaign,
        {code: {"from": before[code], "to": {**before[code], **p}} for code, p in changes.items()},
        actor=actor,
    )


def snapshot(conditions: list[Condition]) -> str:
    """The conditions as an eligibility run records them."""
    return json.dumps([c.as_dict() for c in conditions], ensure_ascii=False, sort_keys=True)


def from_snapshot(text: str) -> list[Condition]:
    return [Condition.from_dict(d) for d in json.loads(text)]


def minimum_of(conditions: list[Condition], slot: str) -> int | None:
    """The threshold of the number condition in ``slot``, if there is one (the run keeps
    those of ``receipts_in_period`` and ``paid_months`` in its own columns)."""
    for c in conditions:
        if c.slot == slot and KINDS[c.kind] == "number":
            return c.minimum
    return None


# --- the window of a date, for a month ----------------------------------------------------


@dataclass(frozen=True)
class Month:
    """What a condition's parameters may refer to: the campaign's dates and the month's end."""

    campaign_starts_on: date
    campaign_ends_on: date
    month_ends_on: date

    @classmethod
    def of(cls, campaign: Campaign, period: ReportingPeriod) -> Month:
        return cls(campaign.starts_on, campaign.ends_on, period.ends_on)

    def end(self, spec) -> date:
        """A window's end: a fixed date, a named one, or the earliest of a list."""
        if isinstance(spec, list):
            return min(self.end(s) for s in spec)
        named = {
            "campaign-start": self.campaign_starts_on,
            "campaign-end": self.campaign_ends_on,
            "period-end": self.month_ends_on,
        }
        return named[spec] if spec in named else date.fromisoformat(spec)


# --- as SQL: one statement a month -------------------------------------------------------


def sql_condition(c: Condition, m: Month, a) -> sa.ColumnElement[bool]:
    """One condition as a boolean SQL expression over the slot columns ``a``."""
    value = a[c.slot]
    if c.kind == "date-by-period-end":
        return sa.and_(value.is_not(None), value <= m.month_ends_on)
    if c.kind == "date-within":
        return sa.and_(
            value.is_not(None),
            value >= m.end(c.params["from"]),
            value <= m.end(c.params["to"]),
        )
    if KINDS[c.kind] == "number":
        return value >= c.minimum  # NULL (no figure) is no TRUE: the case below says FALSE
    return value.in_(tuple(c.params["forms"]))


def sql_verdicts(conditions: list[Condition], m: Month, a=None) -> dict[str, sa.ColumnElement]:
    """What a month's computation stores, as SQL over ``a`` (the ``activity`` table's
    columns, or the import's staged rows under the same names): ``ok_<verdict>`` TRUE or
    FALSE for each slot a condition uses, NULL for the others, and ``eligible`` (FALSE for
    all without conditions)."""
    a = Activity.__table__.c if a is None else a
    expressions = {c.verdict: sql_condition(c, m, a) for c in conditions}
    values: dict[str, sa.ColumnElement] = {
        f"ok_{name}": (
            sa.case((expressions[name], True), else_=False) if name in expressions else sa.null()
        )
        for name in VERDICTS
    }
    # A campaign without conditions (never set: ``replace`` refuses an empty set) makes
    # nobody eligible, rather than everybody.
    values["eligible"] = (
        sa.case((sa.and_(*expressions.values()), True), else_=False) if expressions else sa.false()
    )
    return values


# --- as Python, with the evidence ---------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One condition for one participant: whether it holds, and the facts behind it.

    ``reason``: ``holds``, ``fails``, ``missing`` (no date given) or ``early`` (a date
    before its window); ``values`` fill the condition's sentence (``value``,
    ``threshold``, ``from``, ``to``); ``spec`` is the condition, for its words."""

    condition: str
    ok: bool
    reason: str
    values: dict
    spec: Condition | None = field(default=None, compare=False, repr=False)


def explain_one(c: Condition, activity, m: Month) -> Check:
    """One condition for one participant's figures (an ``Activity`` or alike)."""
    value = getattr(activity, c.slot)
    if KINDS[c.kind] == "date":
        if value is None:
            return Check(c.code, False, "missing", {}, c)
        if c.kind == "date-by-period-end":
            start, deadline = None, m.month_ends_on
        else:
            start, deadline = m.end(c.params["from"]), m.end(c.params["to"])
        facts = {"value": value, "to": deadline}
        if start is not None:
            facts["from"] = start
            if value < start:
                return Check(c.code, False, "early", facts, c)
        ok = value <= deadline
        return Check(c.code, ok, "holds" if ok else "fails", facts, c)
    if KINDS[c.kind] == "number":
        ok = value is not None and value >= c.minimum
        return Check(
            c.code, ok, "holds" if ok else "fails", {"value": value, "threshold": c.minimum}, c
        )
    ok = value in c.params["forms"]
    return Check(
        c.code, ok, "holds" if ok else "fails", {"value": value, "forms": c.params["forms"]}, c
    )


def explain(conditions: list[Condition], activity, m: Month) -> list[Check]:
    """Every condition for one participant and month, in the campaign's order."""
    return [explain_one(c, activity, m) for c in conditions]


def legal_forms(conditions: list[Condition]) -> tuple[str, ...]:
    """The legal forms the campaign's conditions name (the import keeps them in capitals)."""
    return tuple(
        form for c in conditions if c.kind == "legal-form-in" for form in c.params["forms"]
    )
