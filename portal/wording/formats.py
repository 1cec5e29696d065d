"""Dates, months and money as each language writes them."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from portal.campaign.periods import CAMPAIGN_TZ
from portal.models.mixins import current_language

# Babel's long Kazakh date puts the year first; the campaign's documents write
# "20 қазан 2022 ж.", as Russian writes "20 октября 2022 г.".
DATE_PATTERNS = {"kk": "d MMMM y 'ж'.", "ru": "d MMMM y 'г'."}
TIME_PATTERN = "HH:mm"
NBSP = "\u00a0"


def format_day(value: date | datetime | None, lang: str | None = None) -> str:
    """A date as ``20 қазан 2022 ж.`` / ``20 октября 2022 г.``."""
    if value is None:
        return ""
    lang = lang or current_language()
    if isinstance(value, datetime):
        value = value.astimezone(CAMPAIGN_TZ).date()
    return format_date(value, DATE_PATTERNS[lang], locale=lang)


def format_moment(value: datetime | None, lang: str | None = None) -> str:
    """A moment as the date followed by the time in Kazakhstan."""
    if value is None:
        return ""
    lang = lang or current_language()
    local = value.astimezone(CAMPAIGN_TZ)
    return f"{format_day(local.date(), lang)}, {format_datetime(local, TIME_PATTERN, locale=lang)}"


def format_month(year: int, month: int, lang: str | None = None) -> str:
    """A reporting month as ``Қыркүйек 2022`` / ``Сентябрь 2022``."""
    lang = lang or current_language()
    text = format_date(date(year, month, 1), "LLLL y", locale=lang)
    return text[:1].upper() + text[1:]


def format_money(amount: int | float | str, lang: str | None = None) -> str:
    """An amount in tenge as ``200 000 ₸``, or with tiyn when it has them (``21 428,57 ₸``)."""
    lang = lang or current_language()
    value = float(amount)
    pattern = "#,##0" if value == int(value) else "#,##0.00"
    return f"{format_decimal(value, format=pattern, locale=lang)}{NBSP}₸"
