"""In the browser: a winner on its phone asks for eGov Mobile's QR code, the "phone" signs,
and the page says "signed" by itself, without being reloaded."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from portal.campaign import acts, eligibility
from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.models import Campaign, Winner, db
from portal.web.urls import SiteLinks
from tests.egov_standins import Phone
from tests.helpers import TODAY, click, csv_bytes, draw_on, in_touch, pki_for, row, with_identity

pytestmark = pytest.mark.browser


def test_the_page_follows_the_phone_that_signs(app, demo, live_server, browser):
    with app.app_context():
        september = find_period(db.session.get(Campaign, demo), "2022-09")
        import_month(september, "sep.csv", csv_bytes([row(n) for n in range(1, 5)]), today=TODAY)
        eligibility.compute(september)
        db.session.commit()
        (winner,) = [w for w in draw_on(september).winners]
        winner = db.session.scalar(db.select(Winner).filter_by(draw_winner_id=winner.id))
        winner.participant.legal_form = "LLP"
        with app.test_request_context("/kk/"):
            acts.issue_act(with_identity(in_touch(winner)), links=SiteLinks())
        token = acts.issue_link(winner)
        pki = pki_for(app, winner)
        db.session.commit()
    app.config.update(PUBLIC_BASE_URL=live_server, ORGANIZER_BIN="123456789012")

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

    assert Phone(pki.head).sign(text).status_code == 200

    wait.until(
        lambda b: (
            "status-act_signed" in b.find_element(By.ID, "winner-status").get_attribute("class")
        )
    )
    assert browser.execute_script("return window.notReloaded === true;")  # no reload
    assert browser.find_element(By.ID, "egov-status").text != waiting
    assert not browser.find_element(By.ID, "egov-qr-code").is_displayed()
    assert not browser.find_element(By.ID, "egov-start").is_displayed()
