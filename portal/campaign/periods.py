"""Reporting periods (calendar months, or custom runs of days), the date by which each
period's draw is due (rules 1, 5), and how near a due date is on a given day."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from portal.models import Campaign, ReportingPeriod, db

CAMPAIGN_TZ = ZoneInfo("Asia/Almaty")

# Rule 5: the draw of a month is held no later than the 20th of the following month
# (the 2022 campaign's day; each campaign keeps its own, ``Campaign.draw_deadline_day``).
DRAW_DEADLINE_DAY = 20

# A deadline is "soon" within this many days (docs/DESIGN.md, "Deadlines").
SOON_DAYS = 3


def local_today(now: datetime | None = None) -> date:
    """Today's date in Kazakhstan, where the campaign's deadlines are counted."""
    return (now or datetime.now(CAMPAIGN_TZ)).astimezone(CAMPAIGN_TZ).date()


def urgency(due: date, today: date) -> tuple[str, int]:
    """How ``due`` stands on ``today``: ``overdue``, ``today``, ``soon`` (within
    ``SOON_DAYS``) or ``later``, and the days left (negative once past)."""
    days_left = (due - today).days
    if days_left < 0:
        return "overdue", days_left
    if days_left == 0:
        return "today", 0
    return ("soon" if days_left <= SOON_DAYS else "later"), days_left


def draw_deadline(year: int, month: int, day: int = DRAW_DEADLINE_DAY) -> date:
    """The last day on which the draw for ``year-month`` may be held: ``day`` of the next month."""
    if month == 12:
        return date(year + 1, 1, day)
    return date(year, month + 1, day)


def period_deadline(last_day: date, day: int = DRAW_DEADLINE_DAY) -> date:
    """The draw deadline of any period, a month or custom, ending on ``last_day``: ``day``
    of the month after the one its last day falls in (rule 5)."""
    return draw_deadline(last_day.year, last_day.month, day)


def months_between(starts_on: date, ends_on: date) -> list[tuple[int, int]]:
    """Every ``(year, month)`` that a campaign running from ``starts_on`` to ``ends_on`` touches."""
    months = []
    year, month = starts_on.year, starts_on.month
    while (year, month) <= (ends_on.year, ends_on.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def parse_period_key(key: str) -> tuple[int, int]:
    """``"2022-09"`` -> ``(2022, 9)``; ``ValueError`` for anything else."""
    try:
        year_text, month_text = key.split("-")
        if len(year_text) != 4 or len(month_text) != 2:
            raise ValueError
        year, month = int(year_text), int(month_text)
    except ValueError:
        raise ValueError(f"not a month in the form YYYY-MM: {key!r}") from None
    if not 1 <= month <= 12:
        raise ValueError(f"not a month in the form YYYY-MM: {key!r}")
    return year, month


def valid_period_key(key: str) -> bool:
    """``key`` has a period key's form: a month ``YYYY-MM`` or a first day ``YYYY-MM-DD``."""
    if len(key) == 10:
        try:
            return date.fromisoformat(key).isoformat() == key
        except ValueError:
            return False
    try:
        parse_period_key(key)
    except ValueError:
        return False
    return True


def ensure_periods(campaign: Campaign) -> list[ReportingPeriod]:
    """Create the missing reporting months of a campaign of months, each with its draw
    deadline (a campaign of custom periods has those staff listed, nothing more)."""
    if campaign.custom_periods:
        return campaign.periods
    have = {(p.year, p.month) for p in campaign.periods}
    day = campaign.draw_deadline_day or DRAW_DEADLINE_DAY
    for year, month in months_between(campaign.starts_on, campaign.ends_on):
        if (year, month) not in have:
            campaign.periods.append(
                ReportingPeriod(
                    year=year, month=month, draw_deadline=draw_deadline(year, month, day)
                )
            )
    return campaign.periods


def current_campaign(today: date | None = None) -> Campaign | None:
    """The campaign the public site shows: the latest one that has started, else the next one."""
    today = today or local_today()
    started = db.session.scalar(
        sa.select(Campaign).where(Campaign.starts_on <= today).order_by(Campaign.starts_on.desc())
    )
    if started is not None:
        return started
    return db.session.scalar(sa.select(Campaign).order_by(Campaign.starts_on))


UPCOMING, RUNNING, ENDED = "upcoming", "running", "ended"


def campaign_state(campaign: Campaign, today: date) -> str:
    """Where the campaign stands on ``today``: ``upcoming`` before its first day,
    ``running`` from its first to its last day (rule 1), ``ended`` after that."""
    if today < campaign.starts_on:
        return UPCOMING
    if today > campaign.ends_on:
        return ENDED
    return RUNNING


def find_period(campaign: Campaign, key: str) -> ReportingPeriod | None:
    """The campaign's reporting period ``key`` (``YYYY-MM`` or ``YYYY-MM-DD``), or None."""
    if not valid_period_key(key):
        return None
    return db.session.scalar(sa.select(ReportingPeriod).filter_by(campaign_id=campaign.id, key=key))


def next_draw_period(campaign: Campaign, today: date | None = None) -> ReportingPeriod | None:
    """The first month whose draw deadline has not yet passed, or None when all have."""
    today = today or local_today()
    for period in campaign.periods:
        if period.draw_deadline >= today:
            return period
    return None


class PeriodNotFound(LookupError):
    """A reporting month a command or a job named cannot be told: ``reason`` is
    ``bad-key``, ``no-campaign`` (no campaign with that slug), ``no-period`` (no campaign,
    or not the named one, has that month) or ``ambiguous`` (several have it: ``slugs``)."""

    def __init__(self, reason: str, key: str, slug: str | None = None, slugs=()) -> None:
        self.reason, self.key, self.slug, self.slugs = reason, key, slug, tuple(slugs)
        super().__init__(self.message())

    def message(self) -> str:
        if self.reason == "bad-key":
            return f"not a period in the form YYYY-MM or YYYY-MM-DD: {self.key}"
        if self.reason == "no-campaign":
            return f"no campaign with the slug {self.slug}"
        if self.reason == "ambiguous":
            return (
                f"the reporting month {self.key} belongs to several campaigns "
                f"({', '.join(self.slugs)}): say which with --campaign SLUG"
            )
        where = f"the campaign {self.slug}" if self.slug else "any campaign"
        return f"no reporting month {self.key} in {where}"


def resolve_period(key: str, slug: str | None = None) -> ReportingPeriod:
    """The reporting period ``key`` (``YYYY-MM`` or ``YYYY-MM-DD``) of the campaign ``slug``; without a slug,
    of the one campaign that has that month (drafts included). ``PeriodNotFound`` when
    the key is malformed, the campaign unknown, no campaign has the month, or several do."""
    if not valid_period_key(key):
        raise PeriodNotFound("bad-key", key, slug)
    query = (
        sa.select(ReportingPeriod)
        .join(Campaign, Campaign.id == ReportingPeriod.campaign_id)
        .filter(ReportingPeriod.key == key)
        .order_by(Campaign.id)
    )
    if slug:
        if db.session.scalar(sa.select(Campaign.id).filter_by(slug=slug)) is None:
            raise PeriodNotFound("no-campaign", key, slug)
        query = query.filter(Campaign.slug == slug)
    found = db.session.scalars(query).all()
    if not found:
        raise PeriodNotFound("no-period", key, slug)
    if len(found) > 1:
        raise PeriodNotFound("ambiguous", key, slugs=[p.campaign.slug for p in found])
    return found[0]
