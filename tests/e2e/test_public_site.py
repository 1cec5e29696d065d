"""A visitor in a real browser: landing page, language switch, rules, what changed."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers import click, publish_v2, translated

pytestmark = pytest.mark.browser


def wait_for_url(browser, fragment: str):
    WebDriverWait(browser, 10).until(EC.url_contains(fragment))


def test_visitor_switches_language_reads_rules_and_sees_what_changed(
    app, demo, live_server, browser
):
    publish_v2(app, demo)

    browser.get(live_server + "/")
    wait_for_url(browser, "/kk/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "kk"
    assert "200 000 ₸" in browser.find_element(By.TAG_NAME, "main").text.replace("\u00a0", " ")

    browser.find_element(By.CSS_SELECTOR, ".language-switch a[data-lang='ru']").click()
    wait_for_url(browser, "/ru/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ru"

    browser.find_element(By.LINK_TEXT, translated("ru", "Rules")).click()
    wait_for_url(browser, "/ru/ismet-2022/rules")
    clause = browser.find_element(By.ID, "clause-5")
    assert "Розыгрыш сертификатов Chocomart" in clause.text
    # the anchor of a clause is a link to itself
    click(browser, clause.find_element(By.CSS_SELECTOR, "a.clause-number"))
    wait_for_url(browser, "#clause-5")

    click(
        browser,
        browser.find_element(
            By.PARTIAL_LINK_TEXT, translated("ru", "What changed in this version")
        ),
    )
    wait_for_url(browser, "/ru/ismet-2022/rules/diff")
    changed = browser.find_element(By.ID, "clause-4-2")
    # the visible text of the change; screen readers also get "removed text:" / "added text:"
    assert "5" in changed.find_element(By.TAG_NAME, "del").text.split()
    assert "3" in changed.find_element(By.TAG_NAME, "ins").text.split()

    # compare a version with itself through the form, then come back to 1 -> 2
    Select(browser.find_element(By.NAME, "from")).select_by_value("2")
    browser.find_element(By.CSS_SELECTOR, ".diff-form button").click()
    WebDriverWait(browser, 10).until(EC.url_contains("from=2"))
    assert translated("ru", "Choose two different versions to compare.") in browser.page_source

    # and the same page in Kazakh keeps the comparison chosen
    browser.find_element(By.CSS_SELECTOR, ".language-switch a[data-lang='kk']").click()
    wait_for_url(browser, "/kk/ismet-2022/rules/diff")
    assert "from=2" in browser.current_url and "to=2" in browser.current_url
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "kk"


def test_rules_page_fits_a_360px_phone(app, demo, live_server, browser):
    browser.set_window_size(360, 800)
    browser.get(live_server + "/kk/ismet-2022/rules")
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert browser.find_element(By.ID, "clause-18").is_displayed()
