"""In the browser: a client checks its participation and reads that it won, and where its
prize stands."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from portal.campaign.periods import find_period
from portal.models import Campaign, db
from tests.helpers import click, draw_on, load_september, translated

pytestmark = pytest.mark.browser


def test_a_client_checks_its_participation_and_reads_that_it_won(app, demo, live_server, browser):
    bins = load_september(app, demo)  # ACC0000001 is the only one eligible: it wins
    with app.app_context():
        draw_id = draw_on(find_period(db.session.get(Campaign, demo), "2022-09")).id
    wait = WebDriverWait(browser, 15)
    for lang in ("kk", "ru"):
        browser.get(f"{live_server}/{lang}/ismet-2022/check")
        browser.find_element(By.ID, "account_number").send_keys("ACC0000001")
        browser.find_element(By.ID, "bin_iin").send_keys(bins["ACC0000001"])
        click(browser, browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
        won = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".draw-won")))
        assert (
            translated(lang, "You won: your company was drawn in draw No. %(id)s.", id=draw_id)
            in won.text
        )
        assert translated(lang, "Drawn; being verified against the rules (rule 8).") in won.text
        # and the draw's record, one click away, says the same of the winner
        click(browser, browser.find_element(By.LINK_TEXT, translated(lang, "See the draw")))
        wait.until(EC.url_contains(f"/{lang}/draws/{draw_id}"))
        standing = browser.find_element(By.CSS_SELECTOR, "td.standing").text
        assert standing == translated(lang, "Drawn; being verified against the rules (rule 8).")
