"""Which language a request is in, and the current page in the other language."""

from __future__ import annotations

from flask import current_app, g, has_request_context, request, url_for
from flask_login import current_user

from portal.models.mixins import current_language
from portal.web.urls import absolute_url

LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский"}


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


def page_url(lang: str, external: bool = False) -> str:
    """The current page in ``lang``: same view, same arguments, other language
    (``external``: an absolute URL, see ``portal.web.urls``)."""
    build = absolute_url if external else url_for
    endpoint = request.endpoint
    if endpoint and endpoint.startswith("public.") and request.url_rule is not None:
        values = dict(request.view_args or {})
        values.update(request.args.to_dict())
        values["lang"] = lang
        return build(endpoint, **values)
    return build("public.index", lang=lang)
