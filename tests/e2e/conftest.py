"""A live portal on a free local port, and headless Chromium driven by Selenium.

Uses Debian's ``chromium`` and ``chromium-driver``; where either is missing the
browser tests are skipped with that reason (``.ci/run`` installs both).

``live_server`` and ``browser`` are a test's own; ``demo_site`` and ``shared_browser``
serve a whole module (the full demo loaded once, one browser for every page).
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from typing import NamedTuple

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from portal.campaign import acts, eligibility
from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.models import Campaign, Winner, db
from portal.web.urls import SiteLinks
from tests.helpers import (
    TODAY,
    DemoSite,
    Pki,
    csv_bytes,
    draw_on,
    empty_all_tables,
    in_touch,
    load_demo_site,
    make_app,
    pki_for,
    row,
    serving,
    with_identity,
)

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
CHROMEDRIVER_CANDIDATES = ("/usr/bin/chromedriver", "chromedriver")


def _find(candidates) -> str | None:
    for candidate in candidates:
        path = shutil.which(candidate)
        if path:
            return path
    return None


@contextmanager
def _chromium():
    """Headless Chromium, 1280 px wide; skipped (or failed, when required) without one."""
    chromium, chromedriver = _find(CHROMIUM_CANDIDATES), _find(CHROMEDRIVER_CANDIDATES)
    if not chromium or not chromedriver:
        if os.environ.get("PORTAL_REQUIRE_BROWSER"):
            pytest.fail("PORTAL_REQUIRE_BROWSER is set but chromium or chromedriver is missing")
        pytest.skip(
            "browser test needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
        )

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def live_server(app):
    """Serve the test app on 127.0.0.1 in a background thread; yields its base URL."""
    with serving(app) as url:
        yield url


@pytest.fixture
def browser():
    """Headless Chromium, 1280 px wide, in Russian by default."""
    with _chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def shared_browser():
    """One headless Chromium for every test of a module."""
    with _chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def demo_site(database_url, tmp_path_factory) -> DemoSite:
    """The whole demo (``flask demo``: campaign, participants, draws, winners), loaded once
    for the module, with staff accounts and a winner's private link, served live.
    Every table is emptied afterwards."""
    app = make_app(database_url, tmp_path_factory.mktemp("demo-instance"))
    try:
        with app.app_context():
            site = load_demo_site(app)
        with serving(app) as url:
            yield site._replace(url=url)
    finally:
        with app.app_context():
            empty_all_tables()
            db.engine.dispose()


class ActToSign(NamedTuple):
    """September's winner (an LLP) with its act issued: its private link's token, its
    test PKI (the app's trust anchors), its id, and the act's number and exact bytes."""

    token: str
    pki: Pki
    winner_id: int
    number: str
    pdf: bytes


@pytest.fixture
def act_to_sign(app, demo) -> ActToSign:
    """September drawn from four clients; its winner in touch, identity entered, act issued."""
    with app.app_context():
        september = find_period(db.session.get(Campaign, demo), "2022-09")
        import_month(september, "sep.csv", csv_bytes([row(n) for n in range(1, 5)]), today=TODAY)
        eligibility.compute(september)
        db.session.commit()
        (drawn,) = draw_on(september).winners
        winner = db.session.scalar(db.select(Winner).filter_by(draw_winner_id=drawn.id))
        winner.participant.legal_form = "LLP"
        with app.test_request_context("/kk/"):
            acts.issue_act(with_identity(in_touch(winner)), links=SiteLinks())
        act = acts.current_act(winner)
        signing = ActToSign(
            acts.issue_link(winner), pki_for(app, winner), winner.id, act.number, act.pdf
        )
        db.session.commit()
    return signing
