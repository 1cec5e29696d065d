"""The public pages, rendered once per change and served from each app server's memory.

A WSGI middleware (``PublicPageCache``) sits between the request log (request id, access
record: portal/web/logs.py) and Flask, inside ``ProxyFix`` when proxies are trusted. An
anonymous ``GET`` or ``HEAD`` of a public page that a previous ``GET`` rendered is
answered from memory with the bytes and headers Flask made then (the security headers and CSP included), before any of Flask's per-request
work; everything else goes to Flask as before. The answer carries validators (``ETag``:
a digest of the bytes; ``Last-Modified``: when the content last changed, or the start of
the local day; ``Cache-Control``), and a conditional request that matches gets a 304.

What is kept: a ``200`` of an endpoint in ``CACHEABLE`` for a ``GET`` without a query
string and without any cookie but the language's, whose answer set no other cookie and
touched no session (no flashed message, nobody signed in), at most
``PUBLIC_CACHE_MAX_ENTRY_BYTES`` long. The key is the scheme, host, script root and path
(the language is in the path: ``/kk/…`` and ``/ru/…`` are distinct). Pages with a form
(the self-check, the subscription) carry a CSRF token and are never kept; neither are a
winner's private pages nor anything of the staff.

When what is kept goes out of date: every change to public content bumps a generation
in the database in its own transaction (portal/models/content.py), whichever process
makes it. A cache looks at that generation at most every ``PUBLIC_CACHE_CHECK_SECONDS``
(at once after a change committed by its own process) and drops everything when it
moved; it drops everything too when the campaign's local date (Asia/Almaty) changes,
since a month's status and the deadlines shown depend on it; and an entry is never
served older than ``PUBLIC_CACHE_MAX_AGE_SECONDS``. The cache is bounded by
``PUBLIC_CACHE_MAX_BYTES`` (the oldest entries go first).

Answers from memory are counted in the request metrics as Flask's own are (same names,
the endpoint that rendered them). The language cookie is set as Flask would set it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, request, session
from werkzeug.http import dump_cookie
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.campaign import periods
from portal.models import db
from portal.models.content import local_changes, read_state

log = logging.getLogger(__name__)

EXTENSION_KEY = "portal.pagecache"
KEY_ENVIRON = "portal.pagecache.key"
FILL_ENVIRON = "portal.pagecache.fill"
HIT_ENVIRON = "portal.pagecache.hit"

# The public pages that are the same for every anonymous visitor (no form, no token).
CACHEABLE = frozenset(
    {
        "public.index",
        "public.campaign_home",
        "public.rules",
        "public.rules_version",
        "public.rules_history",
        "public.rules_diff",
        "public.rules_pdf",
        "public.winners",
        "public.winners_month",
        "public.news",
        "public.news_item",
        "public.news_feed",
        "public.draw",
        "public.draws_index",
        "public.draws_ledger",
        "public.draw_record",
        "public.draw_protocol",
        "public.draw_signed_file",
    }
)
# headers of an answer that are the visitor's own, never kept
PERSONAL_HEADERS = frozenset({"set-cookie", "x-request-id"})
# headers a 304 leaves out (it has no body)
BODY_HEADERS = frozenset({"content-length", "content-type", "content-disposition"})


@dataclass(frozen=True)
class State:
    """What the entries were made under: the content's generation and the local date."""

    generation: int
    changed_at: datetime
    today: date

    @property
    def last_modified(self) -> datetime:
        """When the pages last changed: the content's change or the local day's start."""
        day_start = datetime.combine(self.today, datetime.min.time(), periods.CAMPAIGN_TZ)
        return max(self.changed_at, day_start.astimezone(UTC)).replace(microsecond=0)


@dataclass
class Entry:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    etag: str
    last_modified: datetime
    endpoint: str
    lang: str | None
    made: float

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 200


def _lang_of(path: str, languages: tuple[str, ...]) -> str | None:
    first = path.lstrip("/").split("/", 1)[0]
    return first if first in languages else None


def _cookie_names(header: str) -> dict[str, str]:
    cookies = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            cookies[name] = value.strip('"')
    return cookies


class PublicPageCache:
    """WSGI middleware: public pages from memory (see the module's text)."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app, self.wsgi_app = app, wsgi_app
        config = app.config
        self.enabled = bool(config["PUBLIC_CACHE"])
        self.check_seconds = float(config["PUBLIC_CACHE_CHECK_SECONDS"])
        self.max_age = float(config["PUBLIC_CACHE_MAX_AGE_SECONDS"])
        self.max_bytes = int(config["PUBLIC_CACHE_MAX_BYTES"])
        self.max_entry = int(config["PUBLIC_CACHE_MAX_ENTRY_BYTES"])
        self.cache_control = config["PUBLIC_CACHE_CONTROL"]
        self.languages = tuple(config["LANGUAGES"])
        self.lang_cookie = config["LANGUAGE_COOKIE"]
        self.lang_cookie_max_age = int(config["LANGUAGE_COOKIE_MAX_AGE"])
        self.cookie_secure = bool(config["SESSION_COOKIE_SECURE"])
        self.entries: OrderedDict[tuple, Entry] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()
        self.state: State | None = None
        self.next_check = 0.0
        self.seen_local = -1
        self.engine: sa.Engine | None = None
        self._cookies: dict[tuple[str, int], str] = {}
        self.duration_metric = self.total_metric = None
        self._series: dict[tuple, tuple] = {}  # the metrics' labelled series, found once

    # --- the state the entries belong to ------------------------------------------

    def current_state(self) -> State | None:
        """The state now, read from the database when due; None when it cannot be read."""
        today = periods.local_today()
        state = self.state
        if (
            state is not None
            and state.today == today
            and time.monotonic() < self.next_check
            and self.seen_local == local_changes()
        ):
            return state
        with self.lock:
            seen = local_changes()
            try:
                assert self.engine is not None
                with self.engine.connect() as connection:
                    generation, changed_at = read_state(connection)
            except sa.exc.SQLAlchemyError as error:
                log.warning("public pages' cache: generation unreadable (%s)", type(error).__name__)
                self.drop(None)
                return None
            fresh = State(generation, changed_at, today)
            if fresh != self.state:
                self.drop(fresh)
            self.seen_local = seen
            self.next_check = time.monotonic() + self.check_seconds
            return self.state  # the same object while nothing changed: ``keep`` compares it

    def drop(self, state: State | None) -> None:
        """Forget every entry (under the lock); the new state."""
        self.entries.clear()
        self.size = 0
        self.state = state

    # --- serving ------------------------------------------------------------------

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if not self.enabled or method not in ("GET", "HEAD") or environ.get("QUERY_STRING"):
            return self.wsgi_app(environ, start_response)
        cookie_header = environ.get("HTTP_COOKIE")
        cookies = _cookie_names(cookie_header) if cookie_header else {}
        if any(name != self.lang_cookie for name in cookies):
            return self.wsgi_app(environ, start_response)  # a session: the visitor's own page
        started = time.perf_counter()
        state = self.current_state()
        if state is None:
            return self.wsgi_app(environ, start_response)
        key = (
            environ.get("wsgi.url_scheme"),
            environ.get("HTTP_HOST"),
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
        )
        entry = self.entries.get(key)
        if entry is not None and time.monotonic() - entry.made < self.max_age:
            environ[HIT_ENVIRON] = True
            answer = self.answer(entry, environ, start_response, cookies.get(self.lang_cookie))
            self.count(entry, method, answer[0], started)
            return answer[1]
        if method != "GET":
            return self.wsgi_app(environ, start_response)
        return self.fill(key, state, environ, start_response, cookies.get(self.lang_cookie))

    def fill(
        self, key: tuple, state: State, environ: dict, start_response: Callable, cookie: str | None
    ) -> Iterable[bytes]:
        """Let Flask answer; keep its answer when it may be kept, and serve it as kept."""
        environ[KEY_ENVIRON] = key
        captured: list[Any] = []

        def capture(status: str, headers: list, exc_info: Any = None) -> Callable:
            captured[:] = [status, headers]
            if exc_info is not None or FILL_ENVIRON not in environ:
                return start_response(status, headers, exc_info)
            return _no_write

        body = self.wsgi_app(environ, capture)
        endpoint = environ.get(FILL_ENVIRON)
        if endpoint is None or not captured:
            return body
        try:
            content = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        status, headers = captured
        cookies = [v for k, v in headers if k.lower() == "set-cookie"]
        if len(content) > self.max_entry or any(
            not v.startswith(f"{self.lang_cookie}=") for v in cookies
        ):
            start_response(status, headers)  # as Flask made it, kept nowhere
            return [content]
        kept = [(k, v) for k, v in headers if k.lower() not in PERSONAL_HEADERS]
        entry = self.make_entry(status, kept, content, state, endpoint, key)
        self.keep(key, entry, state)
        return self.answer(entry, environ, start_response, cookie)[1]

    def make_entry(
        self,
        status: str,
        headers: list[tuple[str, str]],
        content: bytes,
        state: State,
        endpoint: str,
        key: tuple,
    ) -> Entry:
        given = {k.lower(): v for k, v in headers}
        headers = list(headers)
        etag = given.get("etag")  # a view's own (the rules PDF's digest) is kept
        if etag is None:
            etag = '"' + hashlib.blake2b(content, digest_size=16).hexdigest() + '"'
            headers.append(("ETag", etag))
        if "last-modified" not in given:
            headers.append(("Last-Modified", format_datetime(state.last_modified, usegmt=True)))
        if "cache-control" not in given:
            headers.append(("Cache-Control", self.cache_control))
        lang = _lang_of(key[3], self.languages)
        return Entry(
            status, headers, content, etag, state.last_modified, endpoint, lang, time.monotonic()
        )

    def keep(self, key: tuple, entry: Entry, state: State) -> None:
        with self.lock:
            if self.state is not state:  # the content changed while the page was made
                return
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= old.size
            self.entries[key] = entry
            self.size += entry.size
            while self.size > self.max_bytes and self.entries:
                _, dropped = self.entries.popitem(last=False)
                self.size -= dropped.size

    def answer(
        self, entry: Entry, environ: dict, start_response: Callable, cookie: str | None
    ) -> tuple[int, Iterable[bytes]]:
        """The entry, or a 304 when the request's validators match; the status sent."""
        headers = list(entry.headers)
        if entry.lang is not None and cookie != entry.lang:
            headers.append(("Set-Cookie", self.language_cookie(entry.lang)))
        if _not_modified(environ, entry):
            headers = [(k, v) for k, v in headers if k.lower() not in BODY_HEADERS]
            start_response("304 NOT MODIFIED", headers)
            return 304, []
        start_response(entry.status, headers)
        if environ.get("REQUEST_METHOD") == "HEAD":
            return int(entry.status[:3]), []
        return int(entry.status[:3]), [entry.body]

    def language_cookie(self, lang: str) -> str:
        """The language cookie as Flask's answer sets it (portal/web/http.py)."""
        second = int(time.time())
        value = self._cookies.get((lang, second))
        if value is None:
            value = dump_cookie(
                self.lang_cookie,
                lang,
                max_age=self.lang_cookie_max_age,
                samesite="Lax",
                secure=self.cookie_secure,
                httponly=True,
            )
            if len(self._cookies) > 16:
                self._cookies.clear()
            self._cookies[(lang, second)] = value
        return value

    def count(self, entry: Entry, method: str, status: int, started: float) -> None:
        """The request metrics, as prometheus-flask-exporter counts Flask's answers."""
        duration = max(time.perf_counter() - started, 0.0)
        key = (method, entry.endpoint, status)
        series = self._series.get(key)
        if series is None:
            duration_metric = total_metric = None
            if self.duration_metric is not None:
                duration_metric = self.duration_metric.labels(
                    method=method, endpoint=entry.endpoint, status=status
                )
            if self.total_metric is not None:
                total_metric = self.total_metric.labels(method=method, status=status)
            series = self._series[key] = (duration_metric, total_metric)
        if series[0] is not None:
            series[0].observe(duration)
        if series[1] is not None:
            series[1].inc()


def _no_write(data: bytes) -> None:  # pragma: no cover - Flask never calls write()
    raise RuntimeError("write() is not supported while a page is being kept")


def _not_modified(environ: dict, entry: Entry) -> bool:
    """Whether the request's validators match (If-None-Match first, as RFC 9110 says)."""
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or entry.etag in tags
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        try:
            moment = parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError):
            return False
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return entry.last_modified <= moment
    return False


def offer(response):
    """After a view (in Flask): tell the middleware that this answer may be kept."""
    environ = request.environ
    if (
        KEY_ENVIRON in environ
        and request.endpoint in CACHEABLE
        and response.status_code == 200
        and not response.is_streamed
        and not response.direct_passthrough
        and not session.modified
    ):
        environ[FILL_ENVIRON] = request.endpoint
    return response


def _find_metric(registry: Any, name: str) -> Any:
    return getattr(registry, "_names_to_collectors", {}).get(name)


def register(app: Flask) -> None:
    """Put the cache around the app (inside the request log, which must wrap it)."""
    cache = PublicPageCache(app, app.wsgi_app)
    with app.app_context():
        cache.engine = db.engine
    metrics = app.extensions.get("portal.metrics")
    if metrics is not None:
        cache.duration_metric = _find_metric(
            metrics.registry, "portal_http_request_duration_seconds"
        )
        cache.total_metric = _find_metric(metrics.registry, "portal_http_request_total")
    app.extensions[EXTENSION_KEY] = cache
    app.after_request(offer)
    proxies = cache.wsgi_app
    if isinstance(proxies, ProxyFix):
        # inside the trusted proxies' reading: the key is the host, scheme and prefix
        # the visitor asked for (X-Forwarded-*), which the page's links and HSTS follow
        cache.wsgi_app = proxies.app
        proxies.app = cache
        return
    app.wsgi_app = cache  # type: ignore[method-assign]
