"""In Chromium: the winner signs its act through NCALayer, ``ncalayer-sign.js`` talking to
the stand-in NCALayer (tests/ncalayer_standin.py) over a real WebSocket; cancelled, failed
and missing NCALayer each say so in the page's language."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from portal.models import Winner, db
from portal.wording.formats import format_moment
from tests.helpers import click, sign_in, translated
from tests.ncalayer_standin import ERROR_MESSAGE, PROBE, NcaLayerStandIn, closed_port_url

pytestmark = pytest.mark.browser

PROVEN = "Time of signing, proven by NCA RK's timestamp: %(moment)s."


@pytest.fixture
def ncalayer(request, app, act_to_sign, revocation):
    """The stand-in NCALayer, answering as the test's parameter says ("sign" unless
    told), the app's EDS_NCALAYER_URL pointing at it. It timestamps with the test PKI's
    TSA, issued by the CA the app trusts (pki_for made it a trust anchor), as NCA's CA
    issues NCA's TSA; its key's certificate names the test PKI's CRL, and the app asks
    the test PKI's OCSP responder (``revocation``)."""
    answer = getattr(request, "param", "sign")
    standin = NcaLayerStandIn(
        act_to_sign.pdf, revocation.signer, answer=answer, tsa=act_to_sign.pki.tsa
    )
    with standin.running():
        app.config["EDS_NCALAYER_URL"] = standin.url
        yield standin


def press_sign(browser, live_server: str, token: str, lang: str) -> WebDriverWait:
    """Open the winner's page in ``lang`` and press "Sign with NCALayer"."""
    browser.get(f"{live_server}/{lang}/winner/{token}")
    button = browser.find_element(By.ID, "ncalayer-sign")
    assert button.is_displayed()  # the script shows it
    click(browser, button)
    return WebDriverWait(browser, 20)


def status_of(app, winner_id: int) -> str:
    with app.app_context():
        return db.session.get(Winner, winner_id).status


def says(browser, wait: WebDriverWait, lang: str, message: str) -> str:
    """Wait for the page's NCALayer status to show ``message`` in ``lang``; its whole text."""
    words = translated(lang, message)
    assert words != message, f"{message!r} is not translated into {lang}"
    wait.until(EC.text_to_be_present_in_element((By.ID, "ncalayer-status"), words))
    return browser.find_element(By.ID, "ncalayer-status").text


@pytest.mark.parametrize(
    ("ncalayer", "lang", "method"),
    [("sign", "ru", "ocsp"), ("sign-pem", "kk", "crl")],
    indirect=["ncalayer"],
)
def test_a_winner_signs_its_act_through_ncalayer(
    app, auth, act_to_sign, ncalayer, revocation, live_server, browser, lang, method
):
    if method == "crl":
        revocation.ocsp_down()  # the app falls back to the CRL the certificate names
    wait = press_sign(browser, live_server, act_to_sign.token, lang)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".flash.success")))
    assert "status-act_signed" in browser.find_element(By.ID, "winner-status").get_attribute(
        "class"
    )

    # the page spoke NCALayer's protocol: the probe, then one sign request of the exact
    # shape over the act's exact bytes, asking for NCA's timestamp, in the page's language
    assert ncalayer.problems == []
    probe, request = ncalayer.received
    assert probe == PROBE
    assert request["args"]["signingParams"]["tsaProfile"] == {}
    assert request["args"]["locale"] == lang
    # its CMS carries the test TSA's RFC 3161 token, as NCALayer's carries NCA's; the
    # portal proved it and stored its time as the time of signing, with the revocation
    # evidence (OCSP's answer, or with OCSP down the CRL's facts)
    signature = revocation.stored(app, ncalayer.signed[0], method)
    gen_time = signature.proven_time
    assert signature.received_via == "ncalayer"
    assert signature.signer_name == "PETROV AIDAR"
    assert signature.report["signer"]["proven_time"] == gen_time.isoformat()
    assert signature.report["signer"]["timestamp_authority"] == "TIME-STAMPING AUTHORITY"
    assert status_of(app, act_to_sign.winner_id) == Winner.ACT_SIGNED

    # the winner's page, then the staff's, say the time is the timestamp's, in their language
    proven = translated(lang, PROVEN, moment=format_moment(gen_time, lang))
    assert proven != PROVEN % {"moment": format_moment(gen_time, lang)}
    assert browser.find_element(By.ID, "signature-time").text == proven
    auth.create("marketing", language=lang)
    path = f"/admin/ismet-2022/winners/{act_to_sign.winner_id}"
    sign_in(browser, live_server, WebDriverWait(browser, 20), "marketing@ismet.kz", path)
    acts_list = browser.find_element(By.ID, "act-heading").find_element(By.XPATH, "..").text
    assert proven in acts_list


@pytest.mark.parametrize("ncalayer", ["cancel"], indirect=True)
def test_signing_cancelled_in_ncalayer_says_so_and_may_be_tried_again(
    app, act_to_sign, ncalayer, live_server, browser
):
    wait = press_sign(browser, live_server, act_to_sign.token, "kk")
    cancelled = "Signing was cancelled in NCALayer: press the button to try again."
    assert says(browser, wait, "kk", cancelled) == translated("kk", cancelled)
    assert browser.find_element(By.ID, "ncalayer-sign").is_enabled()
    assert not browser.find_element(By.ID, "ncalayer-missing").is_displayed()
    assert len(ncalayer.received) == 2 and ncalayer.problems == []
    assert status_of(app, act_to_sign.winner_id) == Winner.ACT_ISSUED


@pytest.mark.parametrize("ncalayer", ["error"], indirect=True)
def test_an_error_in_ncalayer_says_so_with_ncalayers_words(
    app, act_to_sign, ncalayer, live_server, browser
):
    wait = press_sign(browser, live_server, act_to_sign.token, "ru")
    text = says(browser, wait, "ru", "NCALayer could not sign.")
    assert ERROR_MESSAGE in text  # NCALayer's own message, in its language
    assert browser.find_element(By.ID, "ncalayer-sign").is_enabled()
    assert ncalayer.problems == []
    assert status_of(app, act_to_sign.winner_id) == Winner.ACT_ISSUED


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_without_ncalayer_the_page_says_how_to_install_it_and_offers_the_qr_code(
    app, act_to_sign, live_server, browser, lang
):
    app.config["EDS_NCALAYER_URL"] = closed_port_url()
    wait = press_sign(browser, live_server, act_to_sign.token, lang)
    says(browser, wait, lang, "NCALayer is not running on this computer.")
    advice = browser.find_element(By.ID, "ncalayer-missing")
    assert advice.is_displayed()
    install = advice.find_element(By.ID, "ncalayer-install")
    assert install.get_attribute("href") == "https://ncl.pki.gov.kz/"
    assert install.text == translated(lang, "Download NCALayer from the NCA RK's site")
    # the page has eGov Mobile's QR signing section: the advice offers it by its anchor
    section = browser.find_element(By.ID, "egov-qr")
    assert section.tag_name == "section" and section.is_displayed()
    qr = advice.find_element(By.CSS_SELECTOR, "a[href$='#egov-qr']")
    assert qr.is_displayed()
    assert qr.text == translated(lang, "Sign with a QR code")
    file = advice.find_element(By.ID, "ncalayer-file")
    assert not file.is_displayed()
    assert browser.find_element(By.ID, "ncalayer-sign").is_enabled()
    assert status_of(app, act_to_sign.winner_id) == Winner.ACT_ISSUED

    # a page without the QR section (taken out here): pressing again says to send a
    # file and names no QR code, so the link never points nowhere
    browser.execute_script("document.getElementById('egov-qr').remove();")
    click(browser, browser.find_element(By.ID, "ncalayer-sign"))
    wait.until(EC.visibility_of(file))
    assert file.text == translated(lang, "Or send a signature file below.")
    assert not qr.is_displayed()


def test_a_program_at_ncalayers_address_that_does_not_greet_as_ncalayer_gets_nothing(
    app, act_to_sign, live_server, browser
):
    other = NcaLayerStandIn(
        act_to_sign.pdf, act_to_sign.pki.head, greeting={"hello": "world"}, tsa=act_to_sign.pki.tsa
    )
    with other.running():
        app.config["EDS_NCALAYER_URL"] = other.url
        wait = press_sign(browser, live_server, act_to_sign.token, "ru")
        says(browser, wait, "ru", "NCALayer is not running on this computer.")
    assert other.received == []  # neither the probe nor the act was sent
    assert browser.find_element(By.ID, "ncalayer-missing").is_displayed()
