"""A campaign set up by staff, without code (issue 19, part 4; docs/DESIGN.md, "Campaign
set-up").

A campaign starts as a draft: its fields and the organizer's requisites, its reporting
periods (the calendar months of its dates, or the custom ones staff list, ``PeriodSpec``;
each due by ``draw_deadline_day`` of the month after it ends, rule 5), its prizes, its eligibility conditions (``portal.campaign.conditions``) and version 1
of its rules in Kazakh and Russian. A draft is edited freely, or copied from an earlier
campaign; it is published once nothing is missing (``missing``), and from then on its
conditions' parameters and its prizes change only through a new rules version (rule 16),
for the months not drawn yet (``set_version_changes``, ``apply_version_changes``).

Every refusal is a ``SetupRefused`` with a ``code`` (and a ``detail``: which one), which
``portal.wording.setup`` words in the reader's language; a refused call changes nothing.
"""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime

import sqlalchemy as sa

from portal.campaign import audit, catalogue, conditions
from portal.campaign import rules as rules_domain
from portal.campaign.identity import is_valid_bin_iin
from portal.campaign.periods import DRAW_DEADLINE_DAY, ensure_periods, period_deadline
from portal.models import Campaign, Draw, Prize, ReportingPeriod, RulesVersion, db
from portal.models.campaign import period_key

# The campaign's own fields, as the set-up screen edits them.
TEXT_FIELDS = (
    "title_kk",
    "title_ru",
    "organizer_kk",
    "organizer_ru",
    "territory_kk",
    "territory_ru",
)
# The organizer's requisites (``portal.services.organizer``): empty is the settings'.
REQUISITES = (
    "organizer_bin",
    "organizer_address_kk",
    "organizer_address_ru",
    "organizer_hotline",
    "organizer_email",
    "organizer_signatory_kk",
    "organizer_signatory_ru",
    "organizer_position_kk",
    "organizer_position_ru",
)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# A month has a 28th: the latest day a draw deadline may name in every month.
LATEST_DEADLINE_DAY = 28


class SetupRefused(ValueError):
    """A set-up the portal refuses; ``code`` says why, ``detail`` which one."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code} {detail}".strip())
        self.code, self.detail = code, detail


class PublishRefused(ValueError):
    """A draft not ready to publish: every missing piece, each a ``SetupRefused``."""

    def __init__(self, missing: list[SetupRefused]) -> None:
        super().__init__(", ".join(str(m) for m in missing))
        self.missing = missing


@dataclass(frozen=True)
class PeriodSpec:
    """One custom reporting period as staff set it: its first and last day, and its name
    in each language (None: its days, ``portal.wording.formats.format_period``)."""

    first_day: date
    last_day: date
    label_kk: str | None = None
    label_ru: str | None = None


@dataclass(frozen=True)
class PrizeSpec:
    """One prize as staff set it: ``period`` is a period's key (``YYYY-MM``, or
    ``YYYY-MM-DD`` for a custom one), or None for every one."""

    position: int
    supplier: str
    name_kk: str
    name_ru: str
    nominal_kzt: int
    count: int = 1
    vat_included: bool = True
    period: str | None = None

    @classmethod
    def of(cls, prize: Prize) -> PrizeSpec:
        return cls(
            prize.position,
            prize.supplier,
            prize.name_kk,
            prize.name_ru,
            prize.nominal_kzt,
            prize.count_per_period,
            prize.vat_included,
            prize.period.key if prize.period is not None else None,
        )


# --- the campaign's fields -----------------------------------------------------------------


def check_slug(slug: str, campaign: Campaign | None = None) -> None:
    """Refuse a slug the addresses cannot take (``slug``) or another campaign has
    (``slug-taken``)."""
    if not catalogue.slug_allowed(slug):
        raise SetupRefused("slug", slug)
    taken = db.session.scalar(sa.select(Campaign.id).filter_by(slug=slug))
    if taken is not None and (campaign is None or taken != campaign.id):
        raise SetupRefused("slug-taken", slug)


def requisite_problems(values: dict) -> list[SetupRefused]:
    """What is wrong with the requisites given (empty ones are the settings')."""
    problems = []
    bin_ = (values.get("organizer_bin") or "").strip()
    if bin_ and not is_valid_bin_iin(bin_):
        problems.append(SetupRefused("bin", bin_))
    email = (values.get("organizer_email") or "").strip()
    if email and not EMAIL.fullmatch(email):
        problems.append(SetupRefused("email", email))
    return problems


def _check_fields(values: dict, campaign: Campaign | None) -> None:
    check_slug(values["slug"], campaign)
    for name in TEXT_FIELDS:
        if not (values.get(name) or "").strip():
            raise SetupRefused("field", name)
    if values["starts_on"] > values["ends_on"]:
        raise SetupRefused("dates")
    if not 1 <= values["draw_deadline_day"] <= LATEST_DEADLINE_DAY:
        raise SetupRefused("deadline-day", str(values["draw_deadline_day"]))
    if values["commission_min_members"] < 1:
        raise SetupRefused("commission")
    problems = requisite_problems(values)
    if problems:
        raise problems[0]
    if values.get("periods") is not None:
        check_periods(values["periods"], values["starts_on"], values["ends_on"])


def _assign(campaign: Campaign, values: dict) -> dict:
    """Set the fields, and what changed (for the audit trail)."""
    changes = {}
    for name in (
        "slug",
        *TEXT_FIELDS,
        "starts_on",
        "ends_on",
        "draw_deadline_day",
        "commission_min_members",
        *REQUISITES,
    ):
        value = values.get(name)
        if isinstance(value, str):
            value = " ".join(value.split()) if name in TEXT_FIELDS else value.strip()
            value = value or (None if name in REQUISITES else value)
        if getattr(campaign, name) != value:
            changes[name] = {"from": getattr(campaign, name), "to": value}
            setattr(campaign, name, value)
    return changes


def create(values: dict, *, actor: audit.Actor) -> Campaign:
    """A new draft campaign with its months (the caller commits)."""
    _check_fields(values, None)
    campaign = Campaign(status=Campaign.DRAFT)
    _assign(campaign, values)
    db.session.add(campaign)
    if values.get("periods") is not None:
        campaign.custom_periods = True
        _set_custom_periods(campaign, values["periods"])
    ensure_periods(campaign)
    db.session.flush()
    audit.record("campaign.create", campaign, {"slug": campaign.slug}, actor=actor)
    return campaign


def update(campaign: Campaign, values: dict, *, actor: audit.Actor) -> dict:
    """Change a campaign's fields (the caller commits). A draft's months follow its dates;
    a published campaign keeps its slug, dates and deadline day."""
    _check_fields(values, campaign)
    specs = values.get("periods")
    if campaign.status == Campaign.PUBLISHED:
        for name in ("slug", "starts_on", "ends_on", "draw_deadline_day"):
            if values[name] != getattr(campaign, name):
                raise SetupRefused("published-field", name)
        if "periods" in values and specs != (
            period_specs(campaign) if campaign.custom_periods else None
        ):
            raise SetupRefused("published-field", "periods")
    changes = _assign(campaign, values)
    if campaign.status == Campaign.DRAFT:
        if "periods" in values:
            before = period_specs(campaign) if campaign.custom_periods else None
            if before != specs:
                changes["periods"] = {
                    "from": period_lines(before) if before is not None else "monthly",
                    "to": period_lines(specs) if specs is not None else "monthly",
                }
            campaign.custom_periods = specs is not None
        _remake_periods(campaign, specs)
    if changes:
        audit.record("campaign.update", campaign, changes, actor=actor)
    db.session.flush()
    return changes


def _remake_periods(campaign: Campaign, specs: list[PeriodSpec] | None = None) -> None:
    """A draft's periods: a campaign of months has the months of its dates (those outside
    go, with their own prizes; the missing ones come); a campaign of custom periods has
    ``specs`` (or keeps its own when None). Each is due by the campaign's day."""
    if campaign.custom_periods:
        if specs is not None:
            _set_custom_periods(campaign, specs)
    else:
        inside = (
            (campaign.starts_on.year, campaign.starts_on.month),
            (campaign.ends_on.year, campaign.ends_on.month),
        )
        for period in list(campaign.periods):
            if not period.whole_month or not inside[0] <= (period.year, period.month) <= inside[1]:
                _drop_period(campaign, period)
            else:
                period.label_kk = period.label_ru = None
        db.session.flush()
        db.session.expire(campaign, ["prizes"])
        ensure_periods(campaign)
    for period in campaign.periods:
        period.draw_deadline = period_deadline(period.ends_on, campaign.draw_deadline_day)


def _drop_period(campaign: Campaign, period: ReportingPeriod) -> None:
    if period.id is not None:
        db.session.execute(sa.delete(Prize).where(Prize.period_id == period.id))
    campaign.periods.remove(period)


# --- custom periods -------------------------------------------------------------------------


def check_periods(specs: list[PeriodSpec], starts_on: date, ends_on: date) -> None:
    """Refuse custom periods that are none (``periods-none``), end before they start
    (``period-days``), fall outside the campaign's dates (``period-outside``), are not
    in order (``period-order``) or overlap the one before (``period-overlap``); the detail
    is the period's line number. Gaps between periods are allowed."""
    if not specs:
        raise SetupRefused("periods-none")
    for number, spec in enumerate(specs, start=1):
        if spec.first_day > spec.last_day:
            raise SetupRefused("period-days", str(number))
        if spec.first_day < starts_on or spec.last_day > ends_on:
            raise SetupRefused("period-outside", str(number))
        if number > 1:
            before = specs[number - 2]
            if spec.first_day < before.first_day:
                raise SetupRefused("period-order", str(number))
            if spec.first_day <= before.last_day:
                raise SetupRefused("period-overlap", str(number))


def period_specs(campaign: Campaign) -> list[PeriodSpec]:
    """The campaign's periods as the set-up screen gives them."""
    return [PeriodSpec(p.first_day, p.last_day, p.label_kk, p.label_ru) for p in campaign.periods]


def _set_custom_periods(campaign: Campaign, specs: list[PeriodSpec]) -> None:
    """The draft's periods become ``specs`` (checked): a period of the same key keeps its
    row (and its prizes) with the new last day and names; the others go and come."""
    wanted = {period_key(s.first_day, s.last_day): s for s in specs}
    for period in list(campaign.periods):
        if period.key not in wanted:
            _drop_period(campaign, period)
    db.session.flush()
    db.session.expire(campaign, ["prizes"])
    have = {p.key: p for p in campaign.periods}
    day = campaign.draw_deadline_day or DRAW_DEADLINE_DAY
    for key, spec in wanted.items():
        period = have.get(key)
        if period is None:
            campaign.periods.append(
                ReportingPeriod(
                    first_day=spec.first_day,
                    last_day=spec.last_day,
                    label_kk=spec.label_kk,
                    label_ru=spec.label_ru,
                    draw_deadline=period_deadline(spec.last_day, day),
                )
            )
            continue
        period.first_day, period.last_day = spec.first_day, spec.last_day
        period.year, period.month = spec.last_day.year, spec.last_day.month
        period.label_kk, period.label_ru = spec.label_kk, spec.label_ru
        period.draw_deadline = period_deadline(spec.last_day, day)
    db.session.flush()
    db.session.expire(campaign, ["periods"])


def _refuse_unless_draft(campaign: Campaign) -> None:
    if campaign.status != Campaign.DRAFT:
        raise SetupRefused("published")


# --- prizes ----------------------------------------------------------------------------------


def check_prizes(specs: list[PrizeSpec], periods: list[ReportingPeriod]) -> None:
    """Refuse prizes that cannot be drawn: a field missing or not positive, a month the
    campaign does not have, a position twice in one month."""
    keys = {p.key for p in periods}
    for spec in specs:
        label = str(spec.position)
        if not (spec.supplier.strip() and spec.name_kk.strip() and spec.name_ru.strip()):
            raise SetupRefused("prize-field", label)
        if spec.position < 1 or spec.nominal_kzt < 1 or spec.count < 1:
            raise SetupRefused("prize-number", label)
        if spec.period is not None and spec.period not in keys:
            raise SetupRefused("prize-period", spec.period)
    for key in (p.key for p in periods):
        positions = [s.position for s in specs if s.period in (None, key)]
        twice = sorted({p for p in positions if positions.count(p) > 1})
        if twice:
            raise SetupRefused("prize-position", f"{twice[0]} ({key})")


def set_prizes(campaign: Campaign, specs: list[PrizeSpec], *, actor: audit.Actor) -> None:
    """Make ``specs`` a draft's prizes (the caller commits)."""
    _refuse_unless_draft(campaign)
    check_prizes(specs, campaign.periods)
    db.session.execute(sa.delete(Prize).where(Prize.campaign_id == campaign.id))
    _add_prizes(campaign, specs, {p.key: p for p in campaign.periods})
    db.session.flush()
    db.session.expire(campaign, ["prizes"])
    audit.record("campaign.prizes", campaign, {"prizes": [asdict(s) for s in specs]}, actor=actor)


def _add_prizes(campaign: Campaign, specs: list[PrizeSpec], periods: dict) -> None:
    for spec in specs:
        db.session.add(
            Prize(
                campaign_id=campaign.id,
                supplier=spec.supplier.strip(),
                name_kk=spec.name_kk.strip(),
                name_ru=spec.name_ru.strip(),
                nominal_kzt=spec.nominal_kzt,
                vat_included=spec.vat_included,
                count_per_period=spec.count,
                position=spec.position,
                period_id=periods[spec.period].id if spec.period else None,
            )
        )


def prize_specs(campaign: Campaign) -> list[PrizeSpec]:
    """The campaign's prizes in force as specs (those a rules version withdrew aside)."""
    return [PrizeSpec.of(p) for p in campaign.prizes if p.withdrawn_from is None]


# --- conditions and rules ------------------------------------------------------------------


def set_conditions(
    campaign: Campaign, chosen: list[conditions.Condition], *, actor: audit.Actor
) -> None:
    """Make ``chosen`` a draft's conditions once they fit (``ConditionsRefused`` else)."""
    _refuse_unless_draft(campaign)
    conditions.replace(campaign, chosen)
    audit.record(
        "campaign.conditions", campaign, {"conditions": [c.code for c in chosen]}, actor=actor
    )


def same_conditions(one: list[conditions.Condition], other: list[conditions.Condition]) -> bool:
    """Whether two sets are the same conditions (an empty optional sentence and one not
    given alike)."""

    def plain(c: conditions.Condition) -> dict:
        d = c.as_dict()
        for text in ("missing", "early"):
            d[text] = {lang: v for lang, v in (d[text] or {}).items() if v}
        return d

    return [plain(c) for c in one] == [plain(c) for c in other]


def first_rules(campaign: Campaign) -> RulesVersion | None:
    """Version 1 of the campaign's rules, if it was written."""
    return db.session.scalar(sa.select(RulesVersion).filter_by(campaign_id=campaign.id, number=1))


def set_rules(campaign: Campaign, body_kk: str, body_ru: str, *, actor: audit.Actor) -> None:
    """Write version 1 of a draft's rules (Markdown, as ``portal.campaign.rules`` reads it),
    in force from the campaign's first day."""
    _refuse_unless_draft(campaign)
    version = first_rules(campaign)
    if version is None:
        version = RulesVersion(campaign=campaign, number=1, summary_kk="", summary_ru="")
        db.session.add(version)
    version.body_kk, version.body_ru = body_kk, body_ru
    version.effective_on = campaign.starts_on
    db.session.flush()
    audit.record("campaign.rules", campaign, {"number": 1}, actor=actor)


# --- publication ---------------------------------------------------------------------------


def missing(campaign: Campaign) -> list[SetupRefused]:
    """Every piece a draft lacks before it can be published."""
    found = []
    version = first_rules(campaign)
    for lang in ("kk", "ru"):
        if version is None or rules_domain.rules_problems(version.tr("body", lang)):
            found.append(SetupRefused("rules", lang))
    if not campaign.periods:
        found.append(SetupRefused("periods"))
    given = {p.period_id for p in campaign.prizes if p.withdrawn_from is None}
    for period in campaign.periods:
        if None not in given and period.id not in given:
            found.append(SetupRefused("prizes", period.key))
    try:
        conditions.check_fit(conditions.of_campaign(campaign))
    except conditions.ConditionsRefused as refused:
        found.append(SetupRefused("conditions", refused.code))
    found.extend(requisite_problems({n: getattr(campaign, n) for n in REQUISITES}))
    return found


def publish(campaign: Campaign, *, actor: audit.Actor, now: datetime) -> None:
    """Publish a draft and version 1 of its rules (the caller commits), or refuse with
    every missing piece (``PublishRefused``), nothing changed."""
    _refuse_unless_draft(campaign)
    found = missing(campaign)
    if found:
        raise PublishRefused(found)
    version = first_rules(campaign)
    version.published, version.published_at = True, now
    campaign.status = Campaign.PUBLISHED
    db.session.flush()
    audit.record("campaign.publish", campaign, {"slug": campaign.slug}, actor=actor)


# --- a copy ----------------------------------------------------------------------------------


def copy(
    source: Campaign, slug: str, starts_on: date, ends_on: date, *, actor: audit.Actor
) -> Campaign:
    """A draft made from ``source``: its fields, requisites, prizes, conditions and rules
    text as they stand, with a new slug and dates and its months made again; custom
    periods move by as many months as the start does (``shifted_periods``), those that
    then fall outside the new dates left out. A prize of one period goes to the copy's
    period at the same place, if it has one. No participant, draw or winner comes along."""
    values = {
        name: getattr(source, name)
        for name in (*TEXT_FIELDS, *REQUISITES, "draw_deadline_day", "commission_min_members")
    }
    values.update(slug=slug, starts_on=starts_on, ends_on=ends_on)
    if source.custom_periods:
        values["periods"] = shifted_periods(
            period_specs(source), source.starts_on, starts_on, ends_on
        )
    campaign = create(values, actor=actor)
    places = {p.key: i for i, p in enumerate(source.periods)}
    specs = []
    for spec in prize_specs(source):
        if spec.period is not None:
            place = places[spec.period]
            if place >= len(campaign.periods):
                continue
            spec = PrizeSpec(**{**asdict(spec), "period": campaign.periods[place].key})
        specs.append(spec)
    set_prizes(campaign, specs, actor=actor)
    chosen = conditions.of_campaign(source)
    if chosen:
        set_conditions(campaign, chosen, actor=actor)
    text = _latest_rules(source)
    if text is not None:
        set_rules(campaign, text.body_kk, text.body_ru, actor=actor)
    audit.record("campaign.copy", campaign, {"from": source.slug}, actor=actor)
    return campaign


def shifted_periods(
    specs: list[PeriodSpec], old_start: date, starts_on: date, ends_on: date
) -> list[PeriodSpec]:
    """Custom periods moved by as many calendar months as a campaign's start moves from
    ``old_start`` to ``starts_on`` (a period ending on a month's last day still does),
    keeping those inside ``starts_on``..``ends_on``; their names stay as they were."""
    months = (starts_on.year - old_start.year) * 12 + starts_on.month - old_start.month
    moved = [
        replace(
            s, first_day=_add_months(s.first_day, months), last_day=_add_months(s.last_day, months)
        )
        for s in specs
    ]
    return [s for s in moved if starts_on <= s.first_day and s.last_day <= ends_on]


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    was_last = day.day == calendar.monthrange(day.year, day.month)[1]
    return date(year, month + 1, last if was_last else min(day.day, last))


def _latest_rules(campaign: Campaign) -> RulesVersion | None:
    published = rules_domain.published_versions(campaign)
    return published[0] if published else first_rules(campaign)


# --- rule 16: a rules version's changes --------------------------------------------------------


def drawn(period: ReportingPeriod) -> bool:
    """Whether the month has a draw (any, even one later replaced)."""
    return db.session.scalar(sa.select(sa.exists().where(Draw.period_id == period.id)))


def version_changes(version: RulesVersion) -> dict:
    """What a rules version changes: ``{"conditions": {...}, "prizes": [PrizeSpec...]|None}``."""
    stored = json.loads(version.setup_changes or "{}")
    prizes = stored.get("prizes")
    return {
        "conditions": stored.get("conditions") or {},
        "prizes": None if prizes is None else [PrizeSpec(**p) for p in prizes],
    }


def _remaining(campaign: Campaign) -> list[ReportingPeriod]:
    """The months a version's changes reach: those after the last drawn one. Refused when
    every month is drawn."""
    periods = list(campaign.periods)
    last_drawn = max((i for i, p in enumerate(periods) if drawn(p)), default=-1)
    remaining = periods[last_drawn + 1 :]
    if not remaining:
        raise SetupRefused("all-drawn")
    return remaining


def set_version_changes(
    version: RulesVersion,
    condition_changes: dict[str, dict],
    prizes: list[PrizeSpec] | None,
    *,
    actor: audit.Actor,
) -> None:
    """Record on a draft version the conditions' parameters and the prizes it brings
    (``prizes`` None: the prizes stay), checked now and again when it is published."""
    if version.published:
        raise SetupRefused("version-published")
    _check_version_changes(version.campaign, condition_changes, prizes)
    version.setup_changes = (
        json.dumps(
            {
                "conditions": condition_changes,
                "prizes": None if prizes is None else [asdict(s) for s in prizes],
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        if condition_changes or prizes is not None
        else None
    )
    audit.record(
        "rules.setup_changes",
        version,
        {"number": version.number, "changes": version.setup_changes},
        actor=actor,
    )


def _check_version_changes(
    campaign: Campaign, condition_changes: dict, prizes: list[PrizeSpec] | None
) -> list[ReportingPeriod]:
    remaining = _remaining(campaign)
    if condition_changes:
        conditions.check_fit(conditions.with_parameters(campaign, condition_changes))
    if prizes is not None:
        if not prizes:
            raise SetupRefused("prizes-empty")
        keys = {p.key for p in remaining}
        every = {p.key for p in campaign.periods}
        for spec in prizes:
            if spec.period is not None and spec.period not in keys:
                code = "prize-period-drawn" if spec.period in every else "prize-period"
                raise SetupRefused(code, spec.period)
        check_prizes(prizes, remaining)
    return remaining


def apply_version_changes(version: RulesVersion, *, actor: audit.Actor) -> None:
    """Rule 16, as a version is published: its conditions' parameters and its prizes, for
    the months not drawn yet (the caller commits; ``SetupRefused`` or ``ConditionsRefused``,
    nothing changed, when they no longer fit). A drawn month keeps its prizes (an
    every-month prize is withdrawn from the first month reached on, ``Prize.withdrawn_from``,
    and those months get their own rows) and its verdicts (frozen, and computed with the
    conditions its run recorded)."""
    changes = version_changes(version)
    if not changes["conditions"] and changes["prizes"] is None:
        return
    campaign = version.campaign
    remaining = _check_version_changes(campaign, changes["conditions"], changes["prizes"])
    if changes["conditions"]:
        conditions.change_parameters(campaign, changes["conditions"], actor=actor)
    if changes["prizes"] is not None:
        cut = remaining[0].starts_on
        for prize in campaign.prizes:
            if prize.period_id is None and prize.withdrawn_from is None:
                prize.withdrawn_from = cut
        ids = [p.id for p in remaining]
        db.session.execute(sa.delete(Prize).where(Prize.period_id.in_(ids)))
        for period in remaining:
            specs = [s for s in changes["prizes"] if s.period in (None, period.key)]
            _add_prizes(
                campaign,
                [PrizeSpec(**{**asdict(s), "period": period.key}) for s in specs],
                {period.key: period},
            )
        db.session.flush()
        db.session.expire(campaign, ["prizes"])
        audit.record(
            "campaign.prizes",
            campaign,
            {
                "rules_version": version.number,
                "from_period": remaining[0].key,
                "prizes": [asdict(s) for s in changes["prizes"]],
            },
            actor=actor,
        )


# --- the set-up screen's custom periods, as lines ------------------------------------------


def period_lines(specs: list[PeriodSpec]) -> str:
    """Custom periods as the screen shows them, one a line:
    ``first day | last day | label kk | label ru`` (the days as YYYY-MM-DD)."""
    return "\n".join(
        " | ".join(
            (s.first_day.isoformat(), s.last_day.isoformat(), s.label_kk or "", s.label_ru or "")
        ).rstrip(" |")
        for s in specs
    )


def parse_period_lines(text: str) -> list[PeriodSpec]:
    """Custom periods from the screen's lines (``period_lines``; the names optional);
    ``SetupRefused("period-line", n)`` for a line that is not one."""
    specs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [" ".join(part.split()) for part in line.split("|")]
        parts += [""] * (4 - len(parts))
        try:
            if (
                len(parts) != 4
                or not all(DAY.fullmatch(part) for part in parts[:2])
                or any(len(label) > 200 for label in parts[2:])
            ):
                raise ValueError
            specs.append(
                PeriodSpec(
                    date.fromisoformat(parts[0]),
                    date.fromisoformat(parts[1]),
                    parts[2] or None,
                    parts[3] or None,
                )
            )
        except ValueError:
            raise SetupRefused("period-line", str(number)) from None
    return specs
