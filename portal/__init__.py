"""The Ismet.kz promotion portal."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from portal import commands
from portal.admin import bp as admin_bp
from portal.extensions import babel, csrf, db, login_manager, migrate
from portal.models.migration import render_item
from portal.public import bp as public_bp
from portal.public import site_bp
from portal.web import access, http, i18n, limits, templating

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
    app.request_class = limits.PortalRequest  # a view's own body limit (web/limits.py)
    configure(app, test_config)
    register_extensions(app)
    register_blueprints(app)
    templating.register(app)
    http.register_errorhandlers(app)
    http.register_headers(app)
    commands.register(app)
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
    login_manager.init_app(app)
    login_manager.user_loader(access.load_user)


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(site_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(admin_bp)
