"""Languages: which one a request is in, and dates, months and money in its format."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from flask import current_app, g, has_request_context, request
from flask_login import current_user

from portal.models.mixins import current_language

# Babel's long Kazakh date puts the year first; the campaign's documents write
# "20 қазан 2022 ж.", as Russian writes "20 октября 2022 г.".
DATE_PATTERNS = {"kk": "d MMMM y 'ж'.", "ru": "d MMMM y 'г'."}
TIME_PATTERN = "HH:mm"
NBSP = "\u00a0"


def languages() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def preferred_language() -> str:
    """The visitor's language: the remembered choice, then the browser's, then Kazakh."""
    langs = languages()
    cookie = request.cookies.get(current_app.config["LANGUAGE_COOKIE"])
    if cookie in langs:
        return cookie
    return request.accept_languages.best_match(langs) or langs[0]


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    if getattr(g, "lang", None):
        return g.lang
    if not has_request_context():  # a command: the site's first language
        return languages()[0]
    first_segment = request.path.lstrip("/").split("/", 1)[0]
    if first_segment in languages():
        return first_segment
    language = getattr(current_user, "language", None)
    if language in languages():
        return language
    return preferred_language()


def other_languages() -> list[str]:
    return [lang for lang in languages() if lang != current_language()]


def format_day(value: date | datetime | None, lang: str | None = None) -> str:
    """A date as ``20 қазан 2022 ж.`` / ``20 октября 2022 г.``."""
    if value is None:
        return ""
    lang = lang or current_language()
    if isinstance(value, datetime):
        value = value.astimezone(_campaign_tz()).date()
    return format_date(value, DATE_PATTERNS[lang], locale=lang)


def format_moment(value: datetime | None, lang: str | None = None) -> str:
    """A moment as the date followed by the time in Kazakhstan."""
    if value is None:
        return ""
    lang = lang or current_language()
    local = value.astimezone(_campaign_tz())
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


def _campaign_tz():
    from portal.campaign.periods import CAMPAIGN_TZ

    return CAMPAIGN_TZ


def page_url(lang: str, external: bool = False) -> str:
    """The current page in ``lang``: same view, same arguments, other language."""
    from flask import url_for

    endpoint = request.endpoint
    if endpoint and endpoint.startswith("public.") and request.url_rule is not None:
        values = dict(request.view_args or {})
        values.update(request.args.to_dict())
        values["lang"] = lang
        return url_for(endpoint, _external=external, **values)
    return url_for("public.index", lang=lang, _external=external)


LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский"}
