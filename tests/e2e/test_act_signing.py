"""In the browser: a winner downloads its act and uploads its EDS signature; staff see it signed."""

from __future__ import annotations

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.eds_pki import sign_cms
from tests.helpers import click, sign_in

pytestmark = pytest.mark.browser


def test_a_winner_signs_its_act_and_staff_see_it(auth, act_to_sign, live_server, browser, tmp_path):
    token, pki, winner_id, number = act_to_sign[:4]

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
    sign_in(
        browser, live_server, wait, "marketing@ismet.kz", f"/admin/ismet-2022/winners/{winner_id}"
    )
    page = browser.find_element(By.ID, "act-heading").find_element(By.XPATH, "..").text
    assert "PETROV AIDAR" in page and format(pki.head.cert.serial_number, "x") in page
    assert "status-act_signed" in browser.find_element(By.ID, "winner-status").get_attribute(
        "class"
    )
