"""A live portal on a free local port, and headless Chromium driven by Selenium.

Uses Debian's ``chromium`` and ``chromium-driver``; where either is missing the
browser tests are skipped with that reason (``.ci/run`` installs both).

``live_server`` and ``browser`` are a test's own; ``demo_site`` and ``shared_browser``
serve a whole module (the full demo loaded once, one browser for every page).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from contextlib import contextmanager
from typing import NamedTuple

import pytest
import sqlalchemy as sa
from asn1crypto import ocsp
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from portal.campaign import acts, eligibility, signature_proof
from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.models import Campaign, Winner, db
from portal.models.acts import ActSignature
from portal.services import eds
from portal.web.urls import SiteLinks
from tests.eds_pki import (
    CrlServer,
    Issued,
    OcspResponder,
    make_crl,
    timestamp_time,
    with_crl_points,
)
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


CRL_PATH = "/crl/test_ca_rsa.crl"


class Revocation(NamedTuple):
    """The test PKI's OCSP responder (the app's EDS_OCSP_URL) and CRL server for the CA
    that issued the winner's signer, and that signer's certificate naming the CRL as
    NCA's name theirs (a CRL distribution point)."""

    ocsp: OcspResponder
    crl: CrlServer
    signer: Issued

    def ocsp_down(self) -> None:
        """OCSP answers HTTP 500 from now on: the CRL decides."""
        self.ocsp.settings.mode = "http-500"

    def stored(self, app, cms: bytes, method: str) -> ActSignature:
        """The one act signature, accepted from ``cms``, with its RFC 3161 time and the
        revocation evidence ``method`` ("ocsp": the very answer the responder gave;
        "crl": the served list's facts) stored; re-verified from them with no network."""
        gen_time = timestamp_time(cms)
        assert gen_time is not None  # the CMS carries the test TSA's token
        with app.app_context():
            (signature,) = db.session.scalars(sa.select(ActSignature)).all()
            assert signature.cms == cms
            assert signature.proven_time == gen_time
            assert signature.revocation_method == method
            facts = signature.revocation_evidence
            if method == "ocsp":
                der = signature.revocation_der
                assert der in self.ocsp.answers
                assert facts["url"] == self.ocsp.url and facts["produced_at"]
                assert facts["sha256"] == hashlib.sha256(der).hexdigest()
                (answer,) = ocsp.OCSPResponse.load(der).basic_ocsp_response["tbs_response_data"][
                    "responses"
                ]
                assert answer["cert_id"]["serial_number"].native == self.signer.cert.serial_number
                assert answer["cert_status"].name == "good"
                assert self.crl.gets == []  # OCSP answered: the CRL was not fetched
            else:
                assert signature.revocation_der is None
                assert facts["url"] == self.crl.url_of(CRL_PATH) and facts["number"] == 7
                assert facts["sha256"] == hashlib.sha256(self.crl.lists[CRL_PATH]).hexdigest()
                assert facts["ocsp_failure"]
            assert signature.report["signer"]["revocation"]["sha256"] == facts["sha256"]
            again = signature_proof.reverify(signature, eds.settings_from_config(app.config))
            assert again.ok, again.codes
            db.session.expunge(signature)
        return signature


@pytest.fixture
def revocation(app, act_to_sign, tmp_path) -> Revocation:
    """OCSP and the CRL for the winner's test PKI, as production has them: the app asks the
    responder and falls back to the CRL the signer's certificate names."""
    pki = act_to_sign.pki
    with OcspResponder(pki.ca) as responder, CrlServer() as crls:
        crls.lists[CRL_PATH] = make_crl(pki.ca, {}, number=7)
        app.config.update(EDS_OCSP_URL=responder.url, EDS_CRL_CACHE=str(tmp_path / "crl"))
        yield Revocation(responder, crls, with_crl_points(pki.head, pki.ca, crls.url_of(CRL_PATH)))
