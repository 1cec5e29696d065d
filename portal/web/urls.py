"""Absolute URLs: one way to write the site's address into a page, a PDF, an e-mail or a log.

``PUBLIC_BASE_URL`` (e.g. ``https://ismet.kz`` or ``https://example.kz/promo``) is the
site's address when set, in a request or not: the request's ``Host`` header, which
anyone sending the request chooses, never makes a link then. Without it, a request
gives its own host only where that host is one the site trusts (``TRUSTED_HOSTS``, which
refuses any other with a 400) or on a developer's machine (debug, tests); Flask's
``SERVER_NAME`` gives it too. Otherwise (production without either, or a command) the
link is written at ``DEFAULT_BASE_URL`` (the portal the rules name), with a warning in
the log: a protocol or an e-mail never carries a bare path, nor a host a visitor made
up. Only with that setting emptied too is the path written alone.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for
from werkzeug.routing import BaseConverter, IntegerConverter, Map, MapAdapter

from portal.campaign import LANGUAGES
from portal.campaign.catalogue import RESERVED_SLUGS, SLUG_PATTERN
from portal.campaign.subscriptions import MailLinks

log = logging.getLogger(__name__)

# Every id in a URL is a row's INTEGER key (a rules version's number too): 32 bits on
# PostgreSQL, the smallest of the databases the portal runs on.
DATABASE_ID_MAX = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    """``<id:name>``: a database id, 1 to ``DATABASE_ID_MAX``, in ASCII digits. Any other
    value matches no route (404) instead of reaching the database, where a number too
    large for its column is an error (500) rather than a row not found."""

    regex = r"[0-9]+"

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=DATABASE_ID_MAX)


class LanguageConverter(BaseConverter):
    """``<lang:lang>``: one of the site's languages. Any other first segment matches no
    public route, so ``/admin/logout`` is never taken for a page ``logout`` of a language
    ``admin`` (a GET there is the staff route's 405, not a public 404)."""

    regex = "|".join(LANGUAGES)


class CampaignSlugConverter(BaseConverter):
    """``<campaign:slug>``: a segment a campaign's slug may be (``catalogue.slug_allowed``):
    never one of the reserved segments, so ``/admin/logout`` stays the sign-out's address
    (a GET there: 405) and is not read as the dashboard of a campaign named "logout"."""

    regex = (
        "(?!(?:"
        + "|".join(re.escape(slug) for slug in sorted(RESERVED_SLUGS))
        + r")\Z)"
        + SLUG_PATTERN.pattern
    )


def database_int(value: str | None) -> int | None:
    """A number given in a query string (``?page=``, ``?from=v2``) that a database column
    can hold, or None for anything else (absent, not a number, out of range)."""
    if value is None or not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if 1 <= number <= DATABASE_ID_MAX else None


def absolute_url(endpoint: str, **values: Any) -> str:
    """The address of ``endpoint`` (a full name, such as ``public.draw``) with ``values``."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base and (current_app.config.get("SERVER_NAME") or _request_host_trusted()):
        return url_for(endpoint, _external=True, **values)
    if not base:
        base = current_app.config.get("DEFAULT_BASE_URL")
        warned = current_app.extensions.setdefault("portal.default_base_warned", set())
        if base and base not in warned:  # said once per app and address, not per link
            warned.add(base)
            log.warning(
                "PUBLIC_BASE_URL is not set: links are written at %s (DEFAULT_BASE_URL)", base
            )
    current_app.inject_url_defaults(endpoint, values)
    return _adapter(base).build(endpoint, values, force_external=bool(base))


def _request_host_trusted() -> bool:
    """Whether a link may be written at the request's own host: it was checked against
    ``TRUSTED_HOSTS``, or the site runs in debug or tests (``flask run --debug``, pytest)."""
    if not has_request_context():
        return False
    app = current_app
    return bool(app.config.get("TRUSTED_HOSTS")) or app.debug or app.testing


def _adapter(base: str | None) -> MapAdapter:
    """The app's URL map bound to ``base`` (scheme, host and any path prefix), or to no host."""
    if not base:
        root = current_app.config.get("APPLICATION_ROOT") or "/"
        return current_app.url_map.bind("localhost", script_name=root)
    parts = urlsplit(base.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"PUBLIC_BASE_URL (or DEFAULT_BASE_URL) must be an absolute http(s) URL: {base!r}"
        )
    return current_app.url_map.bind(
        parts.netloc, script_name=parts.path.rstrip("/") or "/", url_scheme=parts.scheme
    )


class SiteLinks:
    """The campaign's links (``portal.campaign.links.Links``) on this site."""

    def draw_record(self, draw_id: int, lang: str) -> str:
        return absolute_url("public.draw", lang=lang, draw_id=draw_id)

    def winner_admin(self, campaign_slug: str, winner_id: int) -> str:
        return absolute_url("admin.winner", slug=campaign_slug, winner_id=winner_id)

    def draws_admin(self, campaign_slug: str) -> str:
        return absolute_url("admin.draws", slug=campaign_slug)

    def subscription_confirm(self, lang: str, token: str) -> str:
        return absolute_url("public.subscribe_confirm", lang=lang, token=token)

    def unsubscribe(self, lang: str, token: str) -> str:
        return absolute_url("public.unsubscribe", lang=lang, token=token)

    def announcement(self, campaign_slug: str, announcement_id: int, lang: str) -> str:
        return absolute_url(
            "public.news_item", lang=lang, slug=campaign_slug, announcement_id=announcement_id
        )


def subscription_links() -> MailLinks:
    """The site's secret key and its absolute addresses, for the subscribers' e-mails."""
    return MailLinks(secret=current_app.config["SECRET_KEY"], site=SiteLinks())
