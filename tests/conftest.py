"""Fixtures: a migrated database (SQLite, or PostgreSQL when PORTAL_TEST_DATABASE_URL
is set), the app, its test client and CLI runner, and the demo campaign."""

from __future__ import annotations

import os
import re
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa

from portal import create_app
from portal.models import db

TESTS_DIR = Path(__file__).resolve().parent
DATA_DIR = TESTS_DIR / "data"
POSTGRES_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")


def pytest_report_header(config):
    return f"database: {POSTGRES_URL or 'SQLite (temporary file)'}"


def _reset_postgres(url: str) -> None:
    """Start the test run on an empty public schema."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """A database made by the migrations, once per test run."""
    if POSTGRES_URL:
        _reset_postgres(POSTGRES_URL)
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "migrations"},
        instance_path=str(tmp_path_factory.mktemp("migrate-instance")),
    )
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return url


def _empty_all_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(database_url, tmp_path):
    """The portal configured for tests; every table is emptied afterwards.

    No app context stays pushed while a test runs: a request must get its own, as in
    production, or ``g`` (and Flask-Babel's locale cached on it) would leak from one
    request to the next. Tests that use the database directly take ``ctx``.
    """
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret-key",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": 9,  # nothing listens: a test that mails must start its own server
        },
        instance_path=str(tmp_path / "instance"),
    )
    yield app
    with app.app_context():
        _empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An app context for tests that work with the database or domain functions directly."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def demo(app):
    """Load the 2022 campaign as ``flask demo`` does; returns the campaign's id."""
    from portal.demo import load_campaign

    with app.app_context():
        campaign, _ = load_campaign()
        return campaign.id


PASSWORD = "correct horse battery staple"
CSRF_INPUT = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_INPUT.search(html)
    assert match, f"no CSRF token on the page: {html[:300]!r}"
    return match.group(1)


def make_staff(email: str, role: str, language: str = "ru", active: bool = True) -> int:
    """Create a staff account with PASSWORD (inside an app context); returns its id."""
    from portal.models import StaffUser

    account = StaffUser(email=email, role=role, language=language, active=active, name=role.title())
    account.set_password(PASSWORD)
    db.session.add(account)
    db.session.commit()
    return account.id


def admin_actor():
    """The active administrator ``admin@ismet.kz`` (created when missing) as the actor:
    the only one who may choose the local fallback instead of random.org."""
    from portal.campaign.audit import Actor
    from portal.models import StaffUser

    email = "admin@ismet.kz"
    if db.session.scalar(sa.select(StaffUser).filter_by(email=email)) is None:
        make_staff(email, "admin")
    return Actor(user=db.session.scalar(sa.select(StaffUser).filter_by(email=email)))


class AuthActions:
    """Sign staff in and out through the real form, CSRF token included."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def create(self, role: str, email: str | None = None, **kwargs) -> str:
        email = email or f"{role}@ismet.kz"
        with self.app.app_context():
            make_staff(email, role, **kwargs)
        return email

    def login(
        self,
        role: str = "admin",
        email: str | None = None,
        password: str = PASSWORD,
        create: bool = True,
    ):
        email = email or f"{role}@ismet.kz"
        if create:
            with self.app.app_context():
                from portal.models import StaffUser

                if db.session.scalar(sa.select(StaffUser).filter_by(email=email)) is None:
                    make_staff(email, role)
        page = self.client.get("/admin/login")
        return self.client.post(
            "/admin/login",
            data={
                "email": email,
                "password": password,
                "csrf_token": csrf_from(page.get_data(as_text=True)),
            },
        )

    def logout(self):
        page = self.client.get("/admin/")
        return self.client.post(
            "/admin/logout", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
        )

    def token(self, url: str = "/admin/") -> str:
        return csrf_from(self.client.get(url).get_data(as_text=True))


@pytest.fixture
def auth(app, client):
    return AuthActions(app, client)


@pytest.fixture
def standin(app):
    """The stand-in random.org, a real HTTP server, with the app pointed at it."""
    from portal.demo.randomorg_standin import StandIn

    with StandIn() as server:
        app.config.update(
            RANDOM_ORG_URL=server.url,
            RANDOM_ORG_API_KEY=server.api_key,
            RANDOM_ORG_PUBLIC_KEY=server.public_key_pem,
            RANDOM_ORG_RETRIES=2,
            RANDOM_ORG_BACKOFF=0.05,
            RANDOM_ORG_TIMEOUT=(2.0, 1.0),
        )
        yield server
