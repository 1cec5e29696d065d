"""In the browser: a winner on its phone asks for eGov Mobile's QR code, the "phone" signs
(timestamped by the test TSA), the page says "signed" by itself, without being reloaded,
and the signature is stored with its proven time and OCSP's answer."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.egov_standins import Phone
from tests.helpers import click

pytestmark = pytest.mark.browser


def test_the_page_follows_the_phone_that_signs(app, act_to_sign, revocation, live_server, browser):
    app.config.update(PUBLIC_BASE_URL=live_server, ORGANIZER_BIN="123456789012")
    token = act_to_sign.token

    browser.set_window_size(360, 800)  # a phone
    browser.get(f"{live_server}/kk/winner/{token}")
    click(browser, browser.find_element(By.CSS_SELECTOR, "#egov-start button"))
    wait = WebDriverWait(browser, 20)
    box = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".qr-box svg")))
    assert box.size["width"] >= 200  # large enough for a camera, within the screen
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    text = browser.find_element(By.CSS_SELECTOR, ".qr-box").get_attribute("data-qr-text")
    link = browser.find_element(By.ID, "egov-mobile-link").get_attribute("href")
    assert link.startswith("https://m.egov.kz/mobileSign?link=")
    assert browser.find_element(By.ID, "egov-business-link").is_displayed()
    waiting = browser.find_element(By.ID, "egov-status").text
    assert waiting  # "waiting for the signature"
    browser.execute_script("window.notReloaded = true;")

    # the phone's key's certificate names the test PKI's CRL; its CMS carries the test
    # TSA's token, as the NCALayer stand-in's does
    phone = Phone(revocation.signer, tsa=act_to_sign.pki.tsa)
    assert phone.sign(text).status_code == 200

    wait.until(
        lambda b: (
            "status-act_signed" in b.find_element(By.ID, "winner-status").get_attribute("class")
        )
    )
    assert browser.execute_script("return window.notReloaded === true;")  # no reload
    assert browser.find_element(By.ID, "egov-status").text != waiting
    assert not browser.find_element(By.ID, "egov-qr-code").is_displayed()
    assert not browser.find_element(By.ID, "egov-start").is_displayed()

    # accepted by the same code as NCALayer's: the proven time and OCSP's very answer kept
    signature = revocation.stored(app, phone.signed[0], "ocsp")
    assert signature.received_via == "egov-qr"
    assert signature.report["signer"]["timestamp_authority"] == "TIME-STAMPING AUTHORITY"
