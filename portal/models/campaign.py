"""A promotion campaign, its reporting months and its prizes."""

from __future__ import annotations

import calendar
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import UTCDateTime, db, utcnow
from portal.models.mixins import Bilingual


class Campaign(Bilingual, db.Model):
    """A prize campaign: who runs it, when and where; a draft is seen by staff only, a
    published campaign is on the public site under ``/<lang>/<slug>/``."""

    __tablename__ = "campaign"

    DRAFT = "draft"
    PUBLISHED = "published"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title_kk: Mapped[str] = mapped_column(sa.String(300))
    title_ru: Mapped[str] = mapped_column(sa.String(300))
    organizer_kk: Mapped[str] = mapped_column(sa.String(300))
    organizer_ru: Mapped[str] = mapped_column(sa.String(300))
    territory_kk: Mapped[str] = mapped_column(sa.String(300))
    territory_ru: Mapped[str] = mapped_column(sa.String(300))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    status: Mapped[str] = mapped_column(sa.String(16), default=PUBLISHED, server_default=PUBLISHED)
    # Rule 4.2's thresholds as the campaign was created with them: since migration 0030
    # the conditions (``CampaignCondition.parameters``) hold them, and nothing reads these.
    min_receipts: Mapped[int] = mapped_column(default=5, server_default="5")
    min_paid_months: Mapped[int] = mapped_column(default=1, server_default="1")
    # Rule 5's commission: how many members must be present at a draw.
    commission_min_members: Mapped[int] = mapped_column(default=3, server_default="3")
    # Rule 5: a month's draw is due by this day of the next month (``periods.draw_deadline``).
    draw_deadline_day: Mapped[int] = mapped_column(default=20, server_default="20")
    # Its reporting periods are the calendar months of its dates (False) or the runs of
    # days staff listed (True; ``portal.campaign.setup.PeriodSpec``).
    custom_periods: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The organizer's requisites for this campaign's pages, protocols and acts; one left
    # empty is the site's ``ORGANIZER_*`` setting (``portal.services.organizer``).
    organizer_bin: Mapped[str | None] = mapped_column(sa.String(12))
    organizer_address_kk: Mapped[str | None] = mapped_column(sa.String(500))
    organizer_address_ru: Mapped[str | None] = mapped_column(sa.String(500))
    organizer_hotline: Mapped[str | None] = mapped_column(sa.String(100))
    organizer_email: Mapped[str | None] = mapped_column(sa.String(200))
    organizer_signatory_kk: Mapped[str | None] = mapped_column(sa.String(300))
    organizer_signatory_ru: Mapped[str | None] = mapped_column(sa.String(300))
    organizer_position_kk: Mapped[str | None] = mapped_column(sa.String(300))
    organizer_position_ru: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    periods: Mapped[list[ReportingPeriod]] = relationship(
        back_populates="campaign",
        order_by="ReportingPeriod.first_day",
        cascade="all, delete-orphan",
    )
    # every prize of every period, in the order the rules publish them
    prizes: Mapped[list[Prize]] = relationship(
        back_populates="campaign",
        order_by="(Prize.position, Prize.id)",
        cascade="all, delete-orphan",
    )
    conditions: Mapped[list[CampaignCondition]] = relationship(
        back_populates="campaign",
        order_by="CampaignCondition.position",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        sa.CheckConstraint("starts_on <= ends_on", name="dates_in_order"),
        sa.CheckConstraint("status IN ('draft', 'published')", name="status_known"),
        sa.CheckConstraint("draw_deadline_day BETWEEN 1 AND 28", name="draw_deadline_day_valid"),
    )

    def __repr__(self) -> str:
        return f"<Campaign {self.slug}>"


class ReportingPeriod(db.Model):
    """One reporting period of a campaign, with the date its draw is due by: a calendar
    month (key ``YYYY-MM``) or a custom run of days (key ``YYYY-MM-DD`` of its first day),
    whose ``year``/``month`` are those of its last day (docs/DESIGN.md, "Reporting periods").
    """

    __tablename__ = "reporting_period"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    year: Mapped[int]
    month: Mapped[int]
    key: Mapped[str] = mapped_column(sa.String(10))
    first_day: Mapped[date]
    last_day: Mapped[date]
    # the period's name as the pages give it; None: the month's name, or its days
    label_kk: Mapped[str | None] = mapped_column(sa.String(200))
    label_ru: Mapped[str | None] = mapped_column(sa.String(200))
    draw_deadline: Mapped[date]

    campaign: Mapped[Campaign] = relationship(back_populates="periods")

    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "key"),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name="month_valid"),
        sa.CheckConstraint("first_day <= last_day", name="days_in_order"),
    )

    def __init__(self, **kwargs) -> None:
        """A month from ``year`` and ``month``, or a custom period from ``first_day`` and
        ``last_day``: what is not given (days, year and month, key) follows from the rest."""
        year, month = kwargs.get("year"), kwargs.get("month")
        if year is not None and month is not None:
            kwargs.setdefault("first_day", date(year, month, 1))
            kwargs.setdefault("last_day", date(year, month, calendar.monthrange(year, month)[1]))
        last = kwargs["last_day"]
        kwargs.setdefault("year", last.year)
        kwargs.setdefault("month", last.month)
        kwargs.setdefault("key", period_key(kwargs["first_day"], last))
        super().__init__(**kwargs)

    @property
    def starts_on(self) -> date:
        return self.first_day

    @property
    def ends_on(self) -> date:
        return self.last_day

    @property
    def whole_month(self) -> bool:
        """The period is one calendar month (as every period was before custom ones)."""
        return len(self.key) == 7

    def label(self, lang: str) -> str | None:
        """The name staff gave the period in ``lang``, or None."""
        return getattr(self, f"label_{lang}", None) or None

    def __repr__(self) -> str:
        return f"<ReportingPeriod {self.key}>"


def period_key(first_day: date, last_day: date) -> str:
    """``YYYY-MM`` for a period that is one calendar month, else ``YYYY-MM-DD`` of its
    first day (two periods of one campaign never start on the same day)."""
    month_end = calendar.monthrange(first_day.year, first_day.month)[1]
    if first_day.day == 1 and last_day == first_day.replace(day=month_end):
        return f"{first_day.year:04d}-{first_day.month:02d}"
    return first_day.isoformat()


class Prize(Bilingual, db.Model):
    """A prize given ``count_per_period`` times in each reporting period of a campaign
    (``period_id`` None), or in one period only (``period_id`` set).

    ``position`` is its place in the order the rules publish (1, 2, ...): a period's
    draw gives its first numbers to the prize at position 1, the next to position 2, and
    so on (``portal.campaign.draws.prizes_of``, docs/DESIGN.md "The draw").
    """

    __tablename__ = "prize"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    supplier: Mapped[str] = mapped_column(sa.String(200))
    name_kk: Mapped[str] = mapped_column(sa.String(300))
    name_ru: Mapped[str] = mapped_column(sa.String(300))
    nominal_kzt: Mapped[int]
    vat_included: Mapped[bool] = mapped_column(default=True)
    count_per_period: Mapped[int] = mapped_column(default=1)
    position: Mapped[int] = mapped_column(default=1, server_default="1")
    period_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("reporting_period.id", ondelete="CASCADE")
    )
    # An every-period prize a rules version replaced (rule 16): not given in the periods
    # from this date on, which have their own prize rows instead; the drawn ones keep it.
    withdrawn_from: Mapped[date | None]

    campaign: Mapped[Campaign] = relationship(back_populates="prizes")
    period: Mapped[ReportingPeriod | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("nominal_kzt > 0", name="nominal_positive"),
        sa.CheckConstraint("count_per_period > 0", name="count_positive"),
        sa.CheckConstraint("position > 0", name="position_positive"),
    )

    def __repr__(self) -> str:
        return f"<Prize {self.supplier} {self.nominal_kzt}>"


class CampaignCondition(db.Model):
    """One eligibility condition of a campaign (rule 4 of the 2022 one), as data.

    ``kind`` is one the portal knows (``portal.campaign.conditions.KINDS``), applied to
    the figure stored in ``slot``: a column of ``activity`` (its historical name, the
    2022 figure it held) with its verdict ``ok_*`` and the funnel's ``passed_*``.
    ``column`` is the import file's header name for the figure; ``parameters`` a JSON
    object (``{"min": 5}``, ``{"from": "campaign-start", "to": [...]}``, ``{"forms":
    [...]}``). The evidence sentences are ``str.format`` texts with named placeholders
    (``{value}``, ``{threshold}``, ``{from}``, ``{to}``): ``holds`` and ``fails``, and
    optionally ``missing`` (a date not given) and ``early`` (a date before its window);
    an empty one falls back to ``fails``.
    """

    __tablename__ = "campaign_condition"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    position: Mapped[int]
    code: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[str] = mapped_column(sa.String(32))
    slot: Mapped[str] = mapped_column(sa.String(32))
    column: Mapped[str] = mapped_column(sa.String(64))
    parameters: Mapped[str] = mapped_column(sa.Text, default="{}")
    name_kk: Mapped[str] = mapped_column(sa.String(300))
    name_ru: Mapped[str] = mapped_column(sa.String(300))
    holds_kk: Mapped[str] = mapped_column(sa.String(500))
    holds_ru: Mapped[str] = mapped_column(sa.String(500))
    fails_kk: Mapped[str] = mapped_column(sa.String(500))
    fails_ru: Mapped[str] = mapped_column(sa.String(500))
    missing_kk: Mapped[str] = mapped_column(sa.String(500), default="")
    missing_ru: Mapped[str] = mapped_column(sa.String(500), default="")
    early_kk: Mapped[str] = mapped_column(sa.String(500), default="")
    early_ru: Mapped[str] = mapped_column(sa.String(500), default="")

    campaign: Mapped[Campaign] = relationship(back_populates="conditions")

    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "code"),
        sa.UniqueConstraint("campaign_id", "slot"),
        sa.UniqueConstraint("campaign_id", "column"),
    )

    def __repr__(self) -> str:
        return f"<CampaignCondition {self.code} {self.kind}>"
