"""A marketing manager publishes rules version 2 in the browser; a visitor sees the change."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from portal.campaign.periods import local_today
from tests.helpers import PASSWORD, click, translated

pytestmark = pytest.mark.browser


def test_marketing_publishes_version_2_and_a_visitor_sees_notice_and_diff(
    app, demo, auth, live_server, browser
):
    auth.create("marketing", language="ru")
    wait = WebDriverWait(browser, 10)

    browser.get(live_server + "/admin/ismet-2022/rules")
    wait.until(EC.url_contains("/admin/login"))
    browser.find_element(By.NAME, "email").send_keys("marketing@ismet.kz")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit].button").click()
    wait.until(EC.url_matches(r".*/admin/ismet-2022/rules$"))

    browser.find_element(
        By.XPATH,
        f"//button[normalize-space()='{translated('ru', 'New version from the rules in force')}']",
    ).click()
    wait.until(EC.url_contains("/admin/ismet-2022/rules/2/edit"))

    # the live preview shows the text as typed
    body_ru = browser.find_element(By.ID, "body_ru")
    text = body_ru.get_attribute("value").replace("не менее 5 чеков", "не менее 3 чеков")
    browser.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));",
        body_ru,
        text,
    )
    wait.until(
        lambda b: (
            "не менее 3 чеков"
            in b.find_element(By.CSS_SELECTOR, "[data-preview-for=body_ru] .preview-content").text
        )
    )

    browser.find_element(By.ID, "summary_kk").send_keys(
        "Чектердің ең аз саны 3-ке дейін азайтылды."
    )
    browser.find_element(By.ID, "summary_ru").send_keys("Минимальное число чеков снижено до 3.")
    browser.execute_script(
        "document.getElementById('effective_on').value = arguments[0];", local_today().isoformat()
    )
    button = browser.find_element(By.CSS_SELECTOR, "#rules-form button[type=submit]")
    click(browser, button)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".flash.success")))

    click(
        browser,
        browser.find_element(
            By.XPATH, f"//button[normalize-space()='{translated('ru', 'Publish and announce')}']"
        ),
    )
    wait.until(EC.alert_is_present()).accept()
    wait.until(EC.url_matches(r".*/admin/ismet-2022/rules/2$"))

    # a visitor
    browser.delete_all_cookies()
    browser.get(live_server + "/ru/ismet-2022/rules")
    notice = browser.find_element(By.CSS_SELECTOR, ".notice")
    notice.find_element(By.TAG_NAME, "a").click()
    wait.until(EC.url_contains("/ru/ismet-2022/rules/diff"))
    changed = browser.find_element(By.ID, "clause-4-2")
    assert "3" in changed.find_element(By.TAG_NAME, "ins").text.split()
    assert "Минимальное число чеков снижено до 3." in browser.page_source

    browser.get(live_server + "/kk/ismet-2022/news")
    assert (
        translated("kk", "The rules have changed: version %(number)s", number=2)
        in browser.page_source
    )
