"""In Chromium: a commission member signs the draw's Kazakh protocol through NCALayer on
the staff's computer (or with eGov Mobile's QR code, the staff's page following the
"phone"), ``ncalayer-sign.js`` (the acts' script, unchanged) talking to the
stand-in NCALayer (tests/ncalayer_standin.py) over a real WebSocket; the portal verifies
it with the acts' verifier (the test CA as trust anchor, its OCSP responder asked), and
the public record lists the signature in each language."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from portal.campaign import draws, eligibility
from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.models import Campaign, Draw, ProtocolSignature, db
from portal.services import eds
from portal.wording.formats import format_moment
from tests.eds_pki import OcspResponder, timestamp_time
from tests.egov_standins import Phone
from tests.helpers import (
    COMMISSION_IIN,
    TODAY,
    CommissionPki,
    click,
    csv_bytes,
    draw_on,
    make_staff,
    row,
    sign_in,
    translated,
)
from tests.ncalayer_standin import PROBE, NcaLayerStandIn, closed_port_url

pytestmark = pytest.mark.browser

PROVEN = "Time of signing, proven by NCA RK's timestamp: %(moment)s."


@pytest.fixture
def commission_draw(app, demo) -> tuple[int, bytes]:
    """September drawn from four clients (commission: tests.helpers.COMMISSION): the draw's
    id and its Kazakh protocol's exact bytes."""
    with app.app_context():
        september = find_period(db.session.get(Campaign, demo), "2022-09")
        import_month(september, "sep.csv", csv_bytes([row(n) for n in range(1, 5)]), today=TODAY)
        eligibility.compute(september)
        db.session.commit()
        draw = draw_on(september)
        found = draw.id, draws.draw_file(draw, "protocol-kk.pdf").content
        db.session.commit()
    return found


@pytest.fixture
def pki(app):
    made = CommissionPki()
    with OcspResponder(made.ca) as responder:
        app.config.update(EDS_TRUST_ANCHORS=[made.ca.cert], EDS_OCSP_URL=responder.url)
        yield made


def open_signing(browser, app, live_server: str, lang: str, draw_id: int) -> WebDriverWait:
    """A commission member working in ``lang`` opens the staff's draw page, signed in."""
    wait = WebDriverWait(browser, 20)
    with app.app_context():
        make_staff("commission@ismet.kz", "commission", language=lang)
    sign_in(browser, live_server, wait, "commission@ismet.kz", f"/admin/ismet-2022/draws/{draw_id}")
    return wait


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_a_member_signs_the_protocol_through_ncalayer(
    app, commission_draw, pki, live_server, browser, lang
):
    draw_id, protocol = commission_draw
    standin = NcaLayerStandIn(protocol, pki.sarsenova, tsa=pki.tsa)  # signs these bytes only
    with standin.running():
        app.config["EDS_NCALAYER_URL"] = standin.url
        wait = open_signing(browser, app, live_server, lang, draw_id)
        Select(browser.find_element(By.ID, "eds-member")).select_by_value("1")
        button = browser.find_element(By.ID, "ncalayer-sign")
        assert button.is_displayed()  # the script shows it
        click(browser, button)
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".flash.success")))

    # the page spoke NCALayer's protocol over the Kazakh protocol's exact bytes
    assert standin.problems == []
    probe, request = standin.received
    assert probe == PROBE and request["args"]["locale"] == lang
    (cms,) = standin.signed
    with app.app_context():
        (kept,) = db.session.scalars(sa.select(ProtocolSignature)).all()
        assert (kept.member_name, kept.kind, kept.received_via) == (
            "Aigul Sarsenova",
            "eds",
            "ncalayer",
        )
        assert kept.signer_name == "SARSENOVA AIGUL"
        assert kept.proven_time == timestamp_time(cms)
        assert kept.revocation_method == "ocsp"  # the revocation as configured
        assert kept.cms_file.content == eds.decode_cms(cms)
        gen_time = kept.proven_time
        draw = db.session.get(Draw, draw_id)
        signed = draws.verify(draw, eds.settings_from_config(app.config))
        assert [c.ok for c in signed if c.code == "protocol-signature"] == [True]

    row_text = browser.find_element(By.CSS_SELECTOR, "#signature-list tr[data-member='1']").text
    assert "SARSENOVA AIGUL" in row_text
    assert translated(lang, PROVEN, moment=format_moment(gen_time, lang)) in row_text

    # the public record lists it, with the CMS to download, and no IIN
    browser.get(f"{live_server}/{lang}/draws/{draw_id}")
    item = browser.find_element(By.CSS_SELECTOR, "#signature-list li[data-member='1']")
    assert item.get_attribute("data-kind") == "eds"
    assert (
        translated(lang, "signed with an EDS by %(signer)s", signer="SARSENOVA AIGUL") in item.text
    )
    link = item.find_element(By.TAG_NAME, "a")
    assert link.get_attribute("href").endswith(
        f"/{lang}/draws/{draw_id}/protocol-kk-signature-1.p7s"
    )
    assert COMMISSION_IIN not in browser.page_source


def test_without_ncalayer_the_staff_page_says_so_and_offers_the_file(
    app, commission_draw, pki, live_server, browser
):
    draw_id, _ = commission_draw
    app.config["EDS_NCALAYER_URL"] = closed_port_url()
    wait = open_signing(browser, app, live_server, "ru", draw_id)
    click(browser, browser.find_element(By.ID, "ncalayer-sign"))
    words = translated("ru", "NCALayer is not running on this computer.")
    wait.until(EC.text_to_be_present_in_element((By.ID, "ncalayer-status"), words))
    advice = browser.find_element(By.ID, "ncalayer-missing")
    assert advice.is_displayed()
    # no QR section on this page: the advice points to the file below
    assert advice.find_element(By.ID, "ncalayer-file").is_displayed()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProtocolSignature)) == 0


def test_the_staff_page_follows_the_members_phone(app, commission_draw, pki, live_server, browser):
    draw_id, protocol = commission_draw
    app.config["PUBLIC_BASE_URL"] = live_server
    wait = open_signing(browser, app, live_server, "kk", draw_id)
    Select(browser.find_element(By.ID, "egov-member")).select_by_value("2")
    click(browser, browser.find_element(By.CSS_SELECTOR, "#egov-start button"))
    box = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".qr-box svg")))
    assert box.size["width"] >= 200
    text = browser.find_element(By.CSS_SELECTOR, ".qr-box").get_attribute("data-qr-text")
    browser.execute_script("window.notReloaded = true;")

    phone = Phone(pki.zhumabayev, tsa=pki.tsa)  # the second member: Erlan Zhumabayev
    assert phone.sign(text).status_code == 200
    signed = translated(
        "kk", "Signed by %(member)s: the signature is kept.", member="Erlan Zhumabayev"
    )
    wait.until(EC.text_to_be_present_in_element((By.ID, "egov-status"), signed))
    assert browser.execute_script("return window.notReloaded === true;")  # no reload
    assert not browser.find_element(By.ID, "egov-qr-code").is_displayed()
    with app.app_context():
        (kept,) = db.session.scalars(sa.select(ProtocolSignature)).all()
        assert (kept.member_index, kept.received_via) == (2, "egov-qr")
        assert kept.revocation_method == "ocsp"
        assert kept.cms_file.content == eds.decode_cms(phone.signed[0])
        assert draws.draw_file(db.session.get(Draw, draw_id), "protocol-kk.pdf").content == (
            protocol
        )
