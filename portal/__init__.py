"""The Ismet.kz promotion portal."""

from __future__ import annotations

import hashlib
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, g, render_template, request
from werkzeug.exceptions import HTTPException

from portal import i18n
from portal.extensions import babel, csrf, db, migrate
from portal.markup import render_inline, render_markdown
from portal.models.migration import render_item

PACKAGE_DIR = Path(__file__).resolve().parent
MIGRATIONS_DIR = PACKAGE_DIR.parent / "migrations"


def create_app(
    test_config: dict[str, Any] | None = None, instance_path: str | None = None
) -> Flask:
    """Build the application: settings, extensions, blueprints, commands, error pages."""
    app = Flask(
        __name__,
        instance_path=instance_path or os.environ.get("PORTAL_INSTANCE_PATH"),
        instance_relative_config=True,
    )
    configure(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_errorhandlers(app)
    register_security_headers(app)
    register_commands(app)
    return app


def configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Defaults, then instance/config.py, then PORTAL_* variables, then the test's mapping."""
    app.config.from_object("portal.config")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PORTAL")
    if test_config:
        app.config.from_mapping(test_config)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'portal.sqlite3'}"
    if not app.config.get("UPLOAD_FOLDER"):
        app.config["UPLOAD_FOLDER"] = str(instance / "uploads")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(instance)
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        # Secure cookies everywhere but on a developer's own http://127.0.0.1.
        app.config["SESSION_COOKIE_SECURE"] = not (app.debug or app.testing)


def _instance_secret_key(instance: Path) -> str:
    """The key kept in instance/secret_key, generated on first start."""
    path = instance / "secret_key"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(MIGRATIONS_DIR),
        compare_type=True,
        render_as_batch=True,
        render_item=render_item,
    )
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=str(PACKAGE_DIR.parent / "translations"),
    )
    from portal.auth import login_manager

    login_manager.init_app(app)


def register_blueprints(app: Flask) -> None:
    from portal.admin import bp as admin_bp
    from portal.public import bp as public_bp
    from portal.public import site_bp

    app.register_blueprint(site_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(admin_bp)


def _isodate(value):
    """A date kept as ISO text (an act's frozen facts) back to a date for the ``day`` filter."""
    from datetime import date

    return date.fromisoformat(value) if isinstance(value, str) else value


def register_template_helpers(app: Flask) -> None:
    from portal import messages
    from portal.campaign import winners as winner_rules
    from portal.campaign.draws import current_draw
    from portal.eds_messages import describe_eds_check

    app.jinja_env.filters.update(
        markdown=render_markdown,
        markdown_inline=render_inline,
        day=i18n.format_day,
        moment=i18n.format_moment,
        money=i18n.format_money,
        isodate=_isodate,
    )
    app.jinja_env.globals.update(
        format_month=i18n.format_month,
        other_languages=i18n.other_languages,
        page_url=i18n.page_url,
        language_names=i18n.LANGUAGE_NAMES,
        legal_form_name=messages.legal_form_name,
        describe_draw_check=messages.describe_draw_check,
        current_draw=current_draw,
        condition_name=messages.condition_name,
        describe_check=messages.describe_check,
        winner_status_name=messages.winner_status_name,
        winner_outcome_name=messages.winner_outcome_name,
        contact_channel_name=messages.contact_channel_name,
        delivery_method_name=messages.delivery_method_name,
        deadline_text=messages.deadline_text,
        deadline_state_name=messages.deadline_state_name,
        redraw_reason=messages.redraw_reason,
        published_winners=winner_rules.published,
        being_verified=winner_rules.being_verified,
        awaiting_redraw=winner_rules.awaiting_redraw,
        identity_document_name=messages.identity_document_name,
        winner_file_name=messages.winner_file_name,
        describe_eds_check=describe_eds_check,
    )

    @app.context_processor
    def language_context():
        from portal.models.mixins import current_language

        return {"lang": current_language()}

    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.url_defaults
    def static_cache_buster(endpoint: str, values: dict[str, Any]) -> None:
        """Give each static file's URL its content hash, so browsers may cache it for long."""
        if endpoint == "static" and "filename" in values and "v" not in values:
            values["v"] = _static_digest(app.static_folder, values["filename"])


def _static_digest(folder: str, filename: str) -> str:
    path = Path(folder, filename)
    try:
        return _file_digest(path, path.stat().st_mtime_ns)
    except OSError:
        return "0"


@lru_cache(maxsize=256)
def _file_digest(path: Path, mtime_ns: int) -> str:
    """The start of the file's SHA-256, computed again only when the file changes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def register_errorhandlers(app: Flask) -> None:
    def render_error(error: HTTPException):
        """An error page in the visitor's language."""
        code = error.code or 500
        return render_template("errors/error.html", code=code, error=error), code

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, render_error)


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


def register_security_headers(app: Flask) -> None:
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


def register_commands(app: Flask) -> None:
    from portal.cli import register

    register(app)
