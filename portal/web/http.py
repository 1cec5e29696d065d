"""Error pages in the visitor's language, and the headers every response carries."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, SecurityError
from werkzeug.serving import WSGIRequestHandler


class BadNcaLayerUrl(ValueError):
    """``EDS_NCALAYER_URL`` is not a WebSocket address: the portal refuses to start."""

    def __init__(self, url: object) -> None:
        super().__init__(
            f"EDS_NCALAYER_URL must be a ws:// or wss:// address with a host, such as "
            f"wss://127.0.0.1:13579 (NCALayer's own), not {url!r}"
        )


def ncalayer_origin(url: object) -> str:
    """The scheme, host and port of NCALayer's address ``url``, as connect-src names it."""
    if not isinstance(url, str) or any(c in url for c in " \t\r\n;,'\"@"):
        raise BadNcaLayerUrl(url)
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise BadNcaLayerUrl(url) from None
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise BadNcaLayerUrl(url)
    return f"{parts.scheme}://{parts.netloc}"


@lru_cache(maxsize=8)
def content_security_policy(ncalayer_url: str) -> str:
    """The policy of every page; its connect-src lets the winner's page reach NCALayer."""
    return "; ".join(
        [
            "default-src 'self'",
            "img-src 'self' data:",
            "style-src 'self'",
            "script-src 'self'",
            # NCALayer, the NCA's signing application, listens on the winner's own computer
            f"connect-src 'self' {ncalayer_origin(ncalayer_url)}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


def register_errorhandlers(app: Flask) -> None:
    def render_error(error: HTTPException):
        """An error page in the visitor's language."""
        if isinstance(request.routing_exception, SecurityError):
            return untrusted_host()
        if isinstance(error, MethodNotAllowed) and not _found_with(error.valid_methods):
            error = NotFound()  # e.g. GET /admin/winners/0/photo, which only a POST rule shares
        code = error.code or 500
        return render_template("errors/error.html", code=code, error=error), code

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, render_error)


def untrusted_host() -> Response:
    """The answer to a request for a host not in ``TRUSTED_HOSTS``: a 400 in plain text,
    in every language of the site (no page: nothing is linked at a host not the site's)."""
    lines = []
    for lang in current_app.config["LANGUAGES"]:
        with force_locale(lang):
            lines.append(_("This site does not answer at this address."))
    return Response("\n".join(lines) + "\n", 400, mimetype="text/plain")


def _found_with(methods) -> bool:
    """Whether the request's path names something with one of ``methods``: Werkzeug
    answers 405 when a rule of another method has the same shape, even where no rule
    accepts the path's values (an id out of range), which is a 404."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in methods or ():
        try:
            adapter.match(method=method)
        except NotFound:
            continue
        except HTTPException:  # a redirect, another 405: the path itself exists
            return True
        return True
    return False


# Public pages that show one person's data (the self-check's answer); the winner's own
# pages say so themselves (portal/public/winner.py), and every staff page is private.
PRIVATE_ENDPOINTS = frozenset({"public.check"})
# What the development server (`flask run`, `make run`, the browser tests) says it is, in
# place of "Werkzeug/x.y Python/x.y": no software and no version for anyone to look up.
SERVER_HEADER = "portal"


def register_headers(app: Flask) -> None:
    hide_server_version()
    content_security_policy(app.config["EDS_NCALAYER_URL"])  # a bad address stops the start

    @app.after_request
    def security_headers(response):
        policy = content_security_policy(app.config["EDS_NCALAYER_URL"])
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        hsts = app.config.get("STRICT_TRANSPORT_SECURITY")
        if hsts and request.is_secure:  # behind a proxy: once ProxyFix has set the scheme
            response.headers.setdefault("Strict-Transport-Security", hsts)
        if request.path.split("/", 2)[1] == "admin" or request.endpoint in PRIVATE_ENDPOINTS:
            # staff pages and exports, personal data: kept by no browser and no proxy
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.after_request
    def remember_language(response):
        """Remember the language of the public page just served, for the next visit to /."""
        lang = getattr(g, "lang", None)
        cookie = app.config["LANGUAGE_COOKIE"]
        if lang and request.cookies.get(cookie) != lang and response.status_code < 400:
            response.set_cookie(
                cookie,
                lang,
                max_age=app.config["LANGUAGE_COOKIE_MAX_AGE"],
                samesite="Lax",
                secure=app.config["SESSION_COOKIE_SECURE"],
                httponly=True,
            )
        return response


def hide_server_version() -> None:
    """The development server's ``Server`` header without Werkzeug's and Python's
    versions (a production server's header is its own: see the README)."""
    WSGIRequestHandler.version_string = _server_header


def _server_header(handler: WSGIRequestHandler) -> str:
    return SERVER_HEADER
