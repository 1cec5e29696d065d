"""In the browser: a winner downloads its act and uploads its EDS signature; staff see it signed."""

from __future__ import annotations

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from portal.campaign import acts, eligibility
from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.models import Campaign, Winner, db
from portal.web.urls import SiteLinks
from tests.eds_pki import sign_cms
from tests.helpers import (
    TODAY,
    click,
    csv_bytes,
    draw_on,
    in_touch,
    pki_for,
    row,
    sign_in,
    with_identity,
)

pytestmark = pytest.mark.browser


def test_a_winner_signs_its_act_and_staff_see_it(app, demo, auth, live_server, browser, tmp_path):

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
        winner_id, number = winner.id, acts.current_act(winner).number
        db.session.commit()

    # the winner, on its phone, on its private page in Kazakh, downloads the act
    browser.set_window_size(360, 800)
    browser.get(f"{live_server}/kk/winner/{token}")
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0  # the long digest and the forms fit a 360 px screen
    assert number in browser.find_element(By.ID, "act-heading").text
    href = browser.find_element(By.ID, "act-download").get_attribute("href")
    act_bytes = requests.get(href, timeout=10).content
    assert act_bytes[:5] == b"%PDF-"
    signature = tmp_path / "act.pdf.cms"
    signature.write_bytes(sign_cms(act_bytes, pki.head))  # the winner's EDS tool
    browser.find_element(By.ID, "signature").send_keys(str(signature))
    click(browser, browser.find_element(By.CSS_SELECTOR, "#eds-heading ~ form button[type=submit]"))
    wait = WebDriverWait(browser, 15)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".flash.success")))
    assert "status-act_signed" in browser.find_element(By.ID, "winner-status").get_attribute(
        "class"
    )

    # staff see the act signed, and by whom
    auth.create("marketing", language="ru")
    sign_in(browser, live_server, wait, "marketing@ismet.kz", f"/admin/winners/{winner_id}")
    page = browser.find_element(By.ID, "act-heading").find_element(By.XPATH, "..").text
    assert "PETROV AIDAR" in page and format(pki.head.cert.serial_number, "x") in page
    assert "status-act_signed" in browser.find_element(By.ID, "winner-status").get_attribute(
        "class"
    )
