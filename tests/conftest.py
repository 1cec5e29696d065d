"""Fixtures: a migrated database (SQLite, or PostgreSQL when PORTAL_TEST_DATABASE_URL
is set), the app, its test client and CLI runner, staff sign-in, the demo campaign,
September 2022 (empty, or loaded with clients) and its drawn winner, an SMTP server and
the stand-in random.org. Plain helpers and factories are in ``tests/helpers.py``."""

from __future__ import annotations

import os
import subprocess

import flask_migrate
import pytest
import sqlalchemy as sa

from portal.campaign import acts, eligibility, winners
from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.demo import CAMPAIGNS, load, load_campaign
from portal.demo.randomorg_standin import StandIn
from portal.models import Campaign, StaffUser, db
from portal.services.storage import LocalStorage, S3Storage
from portal.web.urls import SiteLinks
from tests.helpers import (
    PASSWORD,
    STANDIN,
    TODAY,
    at,
    csrf_from,
    csv_bytes,
    draw_on,
    empty_all_tables,
    in_touch,
    make_app,
    make_staff,
    new_bucket,
    row,
    s3_settings,
    serve_moto,
    sign_in_client,
    smtp_server,
    with_identity,
)

POSTGRES_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")


def pytest_report_header(config):
    """Name the database in pytest's header."""
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
    app = make_app(url, tmp_path_factory.mktemp("migrate-instance"), SECRET_KEY="migrations")
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    """A real S3-speaking server: moto's server mode in a process of its own, on a free
    port of 127.0.0.1, for the whole run; its address."""
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    process, endpoint = serve_moto(log)
    yield endpoint
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def s3_bucket(moto_server):
    """A new, empty bucket on the moto server; the settings that keep files in it
    (``STORAGE_URL`` = ``s3://<bucket>/files`` and the ``S3_*`` settings)."""
    return s3_settings(moto_server, new_bucket(moto_server))


@pytest.fixture(params=["local", "s3"])
def any_storage(request, tmp_path):
    """Each storage in turn, empty: the instance folder's kind, then an S3 bucket (whose
    parts are 5 MiB, S3's least, so that a test can make a multipart upload)."""
    if request.param == "local":
        return LocalStorage(tmp_path / "files")
    settings = request.getfixturevalue("s3_bucket")
    bucket, _, prefix = settings["STORAGE_URL"].removeprefix("s3://").partition("/")
    return S3Storage(
        bucket,
        prefix,
        endpoint_url=settings["S3_ENDPOINT_URL"],
        region=settings["S3_REGION"],
        access_key_id=settings["S3_ACCESS_KEY_ID"],
        secret_access_key=settings["S3_SECRET_ACCESS_KEY"],
        part_size=5 * 1024 * 1024,
    )


@pytest.fixture
def app(request, database_url, tmp_path):
    """The portal configured for tests; every table is emptied afterwards.

    No app context stays pushed while a test runs: a request must get its own, as in
    production, or ``g`` (and Flask-Babel's locale cached on it) would leak from one
    request to the next. Tests that use the database directly take ``ctx``.

    A test marked ``s3_storage`` gets a portal that keeps its files in a bucket of the
    moto server (``STORAGE_URL=s3://…``) instead of its instance folder.
    """
    settings = {}
    if request.node.get_closest_marker("s3_storage"):
        settings = request.getfixturevalue("s3_bucket")
    app = make_app(database_url, tmp_path / "instance", **settings)
    yield app
    with app.app_context():
        empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def other_app(app, database_url, tmp_path):
    """Make another app on the test database with other settings (``other_app(NAME=…)``),
    as a site configured so would run; its tables are emptied with ``app``'s."""
    made = []

    def make(**settings):
        made.append(make_app(database_url, tmp_path / f"other-{len(made)}", **settings))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An app context for tests that work with the database or domain functions directly."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app):
    """A test client of the app, signed out."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for the app's ``flask`` commands."""
    return app.test_cli_runner()


@pytest.fixture
def demo(app):
    """Load the 2022 campaign as ``flask demo`` does; returns the campaign's id."""

    with app.app_context():
        campaign, _ = load_campaign()
        return campaign.id


@pytest.fixture
def demo_both(app):
    """``flask demo`` whole: the 2022 campaign and the spring 2023 one, each with its
    participants, draws and winners; returns each campaign's id by its slug. (``demo``
    loads the 2022 campaign alone, as most tests want it.)"""

    with app.app_context():
        loaded = load(CAMPAIGNS, secret=app.config["SECRET_KEY"], links=SiteLinks())
        return {campaign.slug: campaign.id for campaign, _ in loaded}


class AuthActions:
    """Sign staff in and out through the real form, CSRF token included."""

    def __init__(self, app, client):
        """Act with ``client`` on ``app``."""
        self.app, self.client = app, client

    def create(self, role: str, email: str | None = None, **kwargs) -> str:
        """Create an account with PASSWORD (``role@ismet.kz`` unless named); returns its e-mail."""
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
        """Sign in through the form, creating the account first unless told not to."""
        email = email or f"{role}@ismet.kz"
        if create:
            with self.app.app_context():
                if db.session.scalar(sa.select(StaffUser).filter_by(email=email)) is None:
                    make_staff(email, role)
        return sign_in_client(self.client, email, password)

    def logout(self):
        """Sign out by POST, with the token of the dashboard's form."""
        return self.client.post("/admin/logout", data={"csrf_token": self.token()})

    def token(self, url: str = "/admin/") -> str:
        """The CSRF token of the first form on ``url`` (after its redirects: ``/admin/``
        goes to the dashboard of the campaign there is, if any)."""
        return csrf_from(self.client.get(url, follow_redirects=True).get_data(as_text=True))


@pytest.fixture
def auth(app, client):
    """Staff sign-in for ``client``: create accounts, sign in and out, read CSRF tokens."""
    return AuthActions(app, client)


@pytest.fixture
def empty_september(ctx, demo):
    """September 2022 of the demo campaign, nothing imported yet."""
    return find_period(db.session.get(Campaign, demo), "2022-09")


@pytest.fixture
def september(ctx, demo):
    """September 2022 with 12 participants, 10 of them eligible, in shuffled account order."""
    period = find_period(db.session.get(Campaign, demo), "2022-09")
    rows = [row(n) for n in (7, 3, 11, 1, 9, 5, 2, 12, 4, 10, 6, 8)]
    rows[0]["receipts_in_period"] = "1"  # not eligible
    rows[1]["paid_months"] = "0"  # not eligible
    _, report = import_month(period, "sep.csv", csv_bytes(rows), today=TODAY)
    assert report.ok
    eligibility.compute(period)
    db.session.commit()
    return period


@pytest.fixture
def drawn(september):
    """September's draw on Friday 21 October 2022 and its one winner."""
    draw = draw_on(september)
    (winner,) = winners.winners_of_draw(draw)
    return winner


@pytest.fixture
def smtpd(app):
    """A running SMTP server that collects what the portal sends."""
    with smtp_server(app) as handler:
        yield handler


@pytest.fixture
def standin(app):
    """The stand-in random.org, a real HTTP server, with the app pointed at it."""

    with StandIn() as server:
        STANDIN.update(server=server, default=server.clock, set=None, last=None)
        app.config.update(
            RANDOM_ORG_URL=server.url,
            RANDOM_ORG_API_KEY=server.api_key,
            RANDOM_ORG_PUBLIC_KEY=server.public_key_pem,
            RANDOM_ORG_RETRIES=2,
            RANDOM_ORG_BACKOFF=0.05,
            RANDOM_ORG_TIMEOUT=(2.0, 1.0),
        )
        try:
            yield server
        finally:
            STANDIN.update(server=None, default=None, set=None, last=None)


@pytest.fixture
def issued(app, drawn):
    """September's winner, verified, in touch, its identity entered and its act issued."""
    with app.test_request_context("/ru/"):
        act = acts.issue_act(with_identity(in_touch(drawn)), now=at(10, 25), links=SiteLinks())
    db.session.commit()
    return act


@pytest.fixture
def migration_database(request, tmp_path):
    """A database of its own for a test that migrates up and down: a SQLite file, or a
    schema of its own (named after the test's module) in the tests' PostgreSQL database,
    dropped after with the connections that reached it."""
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    schema = "migration_" + request.module.__name__.rpartition(".")[2].removeprefix("test_")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in url else "?"
    yield f"{url}{separator}options=-csearch_path%3D{schema}"
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()
