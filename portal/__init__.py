"""The Ismet.kz promotion portal."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import commands
from portal.admin import bp as admin_bp
from portal.extensions import babel, csrf, db, login_manager, migrate
from portal.models import content
from portal.models.base import tune_sqlite
from portal.models.migration import include_name, include_object, render_item
from portal.public import bp as public_bp
from portal.public import site_bp
from portal.services import jobs, storage
from portal.services.eds import anchors as eds_anchors
from portal.web import access, health, http, i18n, limits, logs, metrics, pagecache, templating
from portal.web.urls import CampaignSlugConverter, DatabaseIdConverter, LanguageConverter

PACKAGE_DIR = Path(__file__).resolve().parent
# The instance's files (database, secret key, uploads) are the portal's account's alone.
PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

log = logging.getLogger(__name__)
MIGRATIONS_DIR = PACKAGE_DIR.parent / "migrations"


class MissingSecretKey(RuntimeError):
    """The portal cannot start without its secret key outside development."""

    def __init__(self) -> None:
        super().__init__(
            "SECRET_KEY is not set: set PORTAL_SECRET_KEY (or SECRET_KEY in "
            "instance/config.py) to a long random value, the same on every app server, "
            "e.g. the output of `python3 -c 'import secrets; print(secrets.token_hex(32))'`."
            " Only development (make run, PORTAL_INSTANCE_SECRET_KEY=true, debug or test "
            "mode) may use a key generated into instance/secret_key."
        )


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
    trust_proxies(app)
    register_extensions(app)
    register_blueprints(app)
    templating.register(app)
    http.register_errorhandlers(app)
    http.register_headers(app)
    metrics.register(app)
    pagecache.register(app)  # inside the request log: cached answers get their id and record
    logs.register(app)
    check_trust_anchors(app)
    health.register(app)
    health.add_check(app, "jobs", jobs.ping)
    health.add_check(app, "eds-anchors", lambda: _trust_anchors_check(app.config))
    metrics.add_gauge(app, "portal_jobs_pending", "Jobs waiting in the queue", jobs.pending_count)
    metrics.add_gauge(
        app,
        "portal_jobs_scheduled",
        "Jobs waiting for their time (retries, delays)",
        jobs.scheduled_count,
    )
    commands.register(app)
    return app


def _trust_anchors_check(config: Any) -> None:
    eds_anchors.check(
        config.get("EDS_TRUST_ANCHORS") or None,
        allow_expired=bool(config.get("EDS_ALLOW_EXPIRED_ANCHORS")),
    )


def check_trust_anchors(app: Flask) -> None:
    """Refuse to start with EDS trust anchors that are unreadable or expired: the error,
    naming the file, goes to the operator's log and stops the app's creation."""
    try:
        _trust_anchors_check(app.config)
    except eds_anchors.TrustAnchorError as error:
        log.critical("the portal does not start: %s", error)
        raise


def configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Defaults, then instance/config.py, then PORTAL_* variables, then the test's mapping."""
    app.config.from_object("portal.config")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PORTAL")
    if test_config:
        app.config.from_mapping(test_config)

    instance = Path(app.instance_path)
    private_folder(instance)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'portal.sqlite3'}"
    private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config.get("UPLOAD_FOLDER"):
        app.config["UPLOAD_FOLDER"] = str(instance / "uploads")
    if not app.config.get("EDS_CRL_CACHE"):  # the CRLs fetched when OCSP fails
        app.config["EDS_CRL_CACHE"] = str(instance / "eds-crl")
    if not app.config.get("STORAGE_URL"):  # the files kept in the folder
        private_folder(Path(app.config["UPLOAD_FOLDER"]))
    # a database error's message (and so a 500's traceback in the log) never shows the
    # values of its statement: e-mails, BIN/IINs, names
    engine_options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    engine_options.setdefault("hide_parameters", True)
    if sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "sqlite":
        # how long a write waits for another's to end before "database is locked"
        connect_args = dict(engine_options.get("connect_args") or {})
        connect_args.setdefault("timeout", float(app.config["SQLITE_BUSY_TIMEOUT"]))
        engine_options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    if not app.config.get("SECRET_KEY"):
        if not (app.config.get("INSTANCE_SECRET_KEY") or app.debug or app.testing):
            raise MissingSecretKey
        app.config["SECRET_KEY"] = _instance_secret_key(instance)
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        # Secure cookies everywhere but on a developer's own http://127.0.0.1.
        app.config["SESSION_COOKIE_SECURE"] = not (app.debug or app.testing)


def private_folder(folder: Path) -> None:
    """Create ``folder`` for the portal's account alone (0700), or make it so."""
    folder.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)
    _only_for_owner(folder, PRIVATE_FOLDER_MODE)


def private_sqlite_file(uri: str) -> None:
    """The SQLite database file for the portal's account alone (0600): created so before
    SQLite opens it (an empty file is an empty database; its journals take its mode),
    or made so. Other databases keep their own rules."""
    url = sa.engine.make_url(uri)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    path = Path(url.database)
    if path.name.startswith("file:") or not path.parent.is_dir():
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    except FileExistsError:
        _only_for_owner(path, PRIVATE_FILE_MODE)


def _only_for_owner(path: Path, mode: int) -> None:
    """Take group's and others' rights off ``path``; a warning where that is not ours to do."""
    try:
        if path.stat().st_mode & 0o077:
            os.chmod(path, mode)
    except OSError as error:
        log.warning("cannot make %s private (mode %o): %s", path, mode, error)


def trust_proxies(app: Flask) -> None:
    """Read the forwarding headers of ``TRUSTED_PROXY_COUNT`` proxies, and none without."""
    count = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if count < 0:
        raise ValueError("TRUSTED_PROXY_COUNT cannot be negative")
    if count:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_prefix=count
        )


def _instance_secret_key(instance: Path) -> str:
    """The key kept in instance/secret_key, generated on first start (development and
    tests only: another app server would have another key)."""
    path = instance / "secret_key"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    content.register_events()  # every change to public content bumps its generation
    with app.app_context():
        for engine in db.engines.values():
            tune_sqlite(engine)  # WAL, BEGIN IMMEDIATE (models/base.py)
    migrate.init_app(
        app,
        db,
        directory=str(MIGRATIONS_DIR),
        compare_type=True,
        render_as_batch=True,
        render_item=render_item,
        include_name=include_name,
        include_object=include_object,
    )
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=str(PACKAGE_DIR.parent / "translations"),
    )
    login_manager.init_app(app)
    login_manager.user_loader(access.load_user)
    app.before_request(access.check_session)
    storage.init_app(app)
    jobs.init_app(app)


def register_blueprints(app: Flask) -> None:
    # before the routes that use it: an id too large for its column is a 404, not a 500
    app.url_map.converters["id"] = DatabaseIdConverter
    app.url_map.converters["lang"] = LanguageConverter
    app.url_map.converters["campaign"] = CampaignSlugConverter
    app.register_blueprint(site_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(admin_bp)
