"""Kazakhstan's working days, for the deadlines that count them (rule 8).

The ``holidays`` package knows the weekends, the public holidays and the days moved
by government decree (a Saturday made working, a Monday made off). A decree it does
not know yet is added by staff as a ``CalendarDay``, which wins over the package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
import sqlalchemy as sa

from portal.models import CalendarDay, db

VERIFICATION_WORKING_DAYS = 2  # rule 8
CONTACT_DAYS = 10  # rule 9


@lru_cache(maxsize=32)
def _national(year: int) -> holidays.HolidayBase:
    # in English whatever the machine's locale: the names are codes that
    # ``portal.wording.history.holiday_name`` says in the reader's language
    return holidays.country_holidays("KZ", years=year, language="en_US")


@dataclass(frozen=True)
class DayOff:
    """A day off other than a plain weekend: a holiday (its English name in the ``holidays``
    package, ``observed`` when it fell on a weekend), a day off moved here by decree from
    the Saturday ``moved_from``, or a decree added by staff (no name)."""

    day: date
    holiday: str = ""
    observed: bool = False
    moved_from: date | None = None


MOVED = re.compile(r"Day off \(substituted from (\d\d/\d\d/\d{4})\)")
OBSERVED = " (observed)"


def _day_off(day: date, name: str) -> DayOff:
    moved = MOVED.fullmatch(name)
    if moved:
        return DayOff(day, moved_from=datetime.strptime(moved.group(1), "%m/%d/%Y").date())
    if name.endswith(OBSERVED):
        return DayOff(day, name.removesuffix(OBSERVED), observed=True)
    return DayOff(day, name)


def _additions(start: date, end: date) -> dict[date, bool]:
    rows = db.session.execute(
        sa.select(CalendarDay.day, CalendarDay.working).where(CalendarDay.day.between(start, end))
    )
    return {day: working for day, working in rows}


def is_working_day(day: date, additions: dict[date, bool] | None = None) -> bool:
    """Whether ``day`` is a working day in Kazakhstan."""
    if additions is None:
        additions = _additions(day, day)
    if day in additions:
        return additions[day]
    return _national(day.year).is_working_day(day)


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself not counted)."""
    additions = _additions(start, start + timedelta(days=days * 7 + 30))
    day, left = start, days
    while left:
        day += timedelta(days=1)
        if is_working_day(day, additions):
            left -= 1
    return day


def days_off(start: date, end: date) -> list[DayOff]:
    """The days off between ``start`` and ``end`` other than plain weekends, with what they are."""
    additions = _additions(start, end)
    found = []
    day = start
    while day <= end:
        national = _national(day.year)
        if not is_working_day(day, additions) and (day.weekday() < 5 or day in national):
            found.append(_day_off(day, national.get(day) or ""))
        day += timedelta(days=1)
    return found


def verification_due(drawn_on: date) -> date:
    """Rule 8: the winner is checked within two working days after the draw."""
    return add_working_days(drawn_on, VERIFICATION_WORKING_DAYS)


def contact_due(drawn_on: date) -> date:
    """Rule 9: the winner must get in touch within ten days of the draw."""
    return drawn_on + timedelta(days=CONTACT_DAYS)
