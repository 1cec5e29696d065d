"""Dates, months and money as each language writes them."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from portal.campaign.periods import CAMPAIGN_TZ
from portal.models.mixins import current_language

# As each language's official documents write a date (the rules themselves: "2022 жылғы
# 1 қыркүйектен"): the year first in Kazakh, "2022 жылғы 20 қазан"; last in Russian,
# "20 октября 2022 г.".
DATE_PATTERNS = {"kk": "y 'жылғы' d MMMM", "ru": "d MMMM y 'г'."}
# A reporting month: "2022 жылғы қыркүйек", "сентябрь 2022 г." (capitalised on its own).
MONTH_PATTERNS = {"kk": "y 'жылғы' MMMM", "ru": "LLLL y 'г'."}
TIME_PATTERN = "HH:mm"
NBSP = "\u00a0"


def format_day(value: date | datetime | None, lang: str | None = None) -> str:
    """A date as ``2022 жылғы 20 қазан`` / ``20 октября 2022 г.``."""
    if value is None:
        return ""
    lang = lang or current_language()
    if isinstance(value, datetime):
        value = value.astimezone(CAMPAIGN_TZ).date()
    return format_date(value, DATE_PATTERNS.get(lang, "d MMMM y"), locale=lang)


def format_span(start: date, end: date, lang: str | None = None) -> str:
    """Two dates as a range, the year said once when they share it:
    ``2022 жылғы 1 қыркүйек – 30 қараша`` / ``1 сентября – 30 ноября 2022 г.``."""
    lang = lang or current_language()
    if start.year != end.year:
        return f"{format_day(start, lang)} – {format_day(end, lang)}"
    if lang == "kk":
        return f"{format_day(start, lang)} – {format_date(end, 'd MMMM', locale=lang)}"
    return f"{format_date(start, 'd MMMM', locale=lang)} – {format_day(end, lang)}"


def format_moment(value: datetime | None, lang: str | None = None) -> str:
    """A moment as the date followed by the time in Kazakhstan."""
    if value is None:
        return ""
    lang = lang or current_language()
    local = value.astimezone(CAMPAIGN_TZ)
    return f"{format_day(local.date(), lang)}, {format_datetime(local, TIME_PATTERN, locale=lang)}"


def format_month(year: int, month: int, lang: str | None = None, *, in_text: bool = False) -> str:
    """A reporting month: ``2022 жылғы қыркүйек`` / ``Сентябрь 2022 г.`` standing on its own
    (a heading, a table cell), ``сентябрь 2022 г.`` ``in_text``, within a sentence."""
    lang = lang or current_language()
    text = format_date(date(year, month, 1), MONTH_PATTERNS.get(lang, "LLLL y"), locale=lang)
    return text if in_text else text[:1].upper() + text[1:]


def format_period(period, lang: str | None = None, *, in_text: bool = False) -> str:
    """A reporting period as people read it: a calendar month as ``format_month``; a custom
    period by the name staff gave it in ``lang``, else by its days, ``2023 жылғы 1–15
    наурыз`` / ``1–15 марта 2023 г.`` (``format_span`` when it spans months)."""
    lang = lang or current_language()
    label = period.label(lang)
    if label:
        return label
    if period.whole_month:
        return format_month(period.year, period.month, lang, in_text=in_text)
    first, last = period.starts_on, period.ends_on
    if first == last:
        return format_day(first, lang)
    if (first.year, first.month) != (last.year, last.month):
        return format_span(first, last, lang)
    if lang == "kk":
        return f"{first.year} жылғы {first.day}–{format_date(last, 'd MMMM', locale=lang)}"
    return f"{first.day}–{format_day(last, lang)}"


def format_money(amount: int | float | str, lang: str | None = None) -> str:
    """An amount in tenge as ``200 000 ₸``, or with tiyn when it has them (``21 428,57 ₸``)."""
    lang = lang or current_language()
    value = float(amount)
    pattern = "#,##0" if value == int(value) else "#,##0.00"
    return f"{format_decimal(value, format=pattern, locale=lang)}{NBSP}₸"
