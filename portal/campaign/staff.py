"""What staff must do and by when: the months of a campaign and their draw deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app

from portal.models import Campaign, ReportingPeriod, StaffUser, db

SOON_DAYS = 5


@dataclass(frozen=True)
class MonthStatus:
    """A reporting month on the dashboard: its draw deadline and how it stands."""

    period: ReportingPeriod
    state: str  # "running", "due", "due-soon", "overdue"
    days_left: int


def dashboard_months(campaign: Campaign, today: date) -> list[MonthStatus]:
    """Every month of the campaign with the state of its draw on ``today``."""
    months = []
    for period in campaign.periods:
        days_left = (period.draw_deadline - today).days
        if today <= period.ends_on:
            state = "running"
        elif days_left < 0:
            state = "overdue"
        elif days_left <= SOON_DAYS:
            state = "due-soon"
        else:
            state = "due"
        months.append(MonthStatus(period, state, days_left))
    return months


def marketing_manager() -> tuple[str, str] | None:
    """``MARKETING_MANAGER_EMAIL`` and the language to write in (the account's, if staff), or None."""
    email = current_app.config.get("MARKETING_MANAGER_EMAIL")
    if not email:
        return None
    account = db.session.scalar(sa.select(StaffUser).filter_by(email=email.lower()))
    return email, getattr(account, "language", None) or current_app.config["LANGUAGES"][0]
