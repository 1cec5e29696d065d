"""Error pages in the visitor's language, and the headers every response carries."""

from __future__ import annotations

from flask import Flask, g, render_template, request
from werkzeug.exceptions import HTTPException

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        # NCALayer, the NCA's signing application, listens on the winner's own computer
        "connect-src 'self' wss://127.0.0.1:13579",
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
        code = error.code or 500
        return render_template("errors/error.html", code=code, error=error), code

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, render_error)


def register_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
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
