"""When the periodic jobs run: tests of a moment in UTC (huey checks them each minute)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

CAMPAIGN_ZONE = ZoneInfo("Asia/Almaty")


def every_minute(moment: datetime) -> bool:
    return True


def daily_in_almaty(hour: int, minute: int = 0) -> Callable[[datetime], bool]:
    """Once a day at ``hour:minute`` on Kazakhstan's clock, whatever its offset from UTC."""

    def due(moment: datetime) -> bool:
        local = moment.replace(tzinfo=UTC).astimezone(CAMPAIGN_ZONE)
        return (local.hour, local.minute) == (hour, minute)

    return due


def hourly(minute: int = 0) -> Callable[[datetime], bool]:
    """Once an hour, at ``minute`` past."""

    def due(moment: datetime) -> bool:
        return moment.minute == minute

    return due
