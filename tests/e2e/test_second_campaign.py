"""Issue 19's done-when, in the browser: a second campaign, ``ismet-2023`` (three prizes a
month, its own conditions), runs from its March file to its published winners through
the staff area alone, while the 2022 campaign's public pages stay as they were."""

from __future__ import annotations

import re

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers import (
    answer_confirmation,
    click,
    csv_2023,
    make_campaign_2023,
    row_2023,
    sign_in,
)

pytestmark = pytest.mark.browser

PAGES_2022 = ("/ru/ismet-2022/", "/ru/ismet-2022/winners", "/ru/ismet-2022/rules")
# March 2023: six individual entrepreneurs with enough receipts, one with too few, one LLP
MARCH = [row_2023(n) for n in range(1, 7)] + [
    row_2023(7, receipts_in_period="9"),
    row_2023(8, legal_form="LLP"),
]
PRIZES = ("Сертификат Chocomart на 500 000 тенге", "Сертификат Chocomart на 100 000 тенге")


def main_text(browser, url: str) -> str:
    browser.get(url)
    return browser.find_element(By.TAG_NAME, "main").text


def submit_and_see_success(browser, wait, button, confirm: bool = True) -> None:
    """Click a form's button (accepting its question), wait for the next page's success."""
    # the page left is told by a mark on its window (a node of it, asked for while the
    # next page replaces it, can fail with another error than "stale" in Chromium)
    browser.execute_script("window.leftBySubmit = true;")
    click(browser, button)
    if confirm:
        answer_confirmation(browser)
    WebDriverWait(browser, 30, ignored_exceptions=(WebDriverException,)).until(
        lambda driver: driver.execute_script("return window.leftBySubmit !== true;")
    )
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".flash.success")))


def handle_winner(browser, wait, live_server: str, winner_path: str, n: int) -> None:
    """Marketing's steps for one winner: verified, in touch, the director's identity
    entered, the act issued (to be signed on paper), published."""
    browser.get(live_server + winner_path)
    Select(browser.find_element(By.ID, "manual_ok")).select_by_value("yes")
    browser.find_element(By.ID, "manual_note").send_keys("Register and account checked.")
    submit_and_see_success(
        browser, wait, browser.find_element(By.CSS_SELECTOR, "#verify-heading ~ form button")
    )
    contact = browser.find_element(By.CSS_SELECTOR, "#contact-heading ~ form")
    answered = contact.find_element(By.CSS_SELECTOR, "input[type=checkbox]")
    if not answered.is_selected():
        click(browser, answered)
    submit_and_see_success(
        browser, wait, contact.find_element(By.CSS_SELECTOR, "button[type=submit]"), False
    )
    click(browser, browser.find_element(By.CSS_SELECTOR, "#act-heading ~ details summary"))
    identity = browser.find_element(By.CSS_SELECTOR, "#act-heading ~ details form")
    identity.find_element(By.NAME, "director_name").send_keys(f"Director {n}")
    click(browser, identity.find_elements(By.NAME, "document_type")[0])
    identity.find_element(By.NAME, "document_number").send_keys(f"04812345{n}")
    identity.find_element(By.NAME, "document_issuer").send_keys("МВД РК")
    browser.execute_script(
        "arguments[0].value = '2020-01-15'", identity.find_element(By.NAME, "document_date")
    )
    submit_and_see_success(
        browser, wait, identity.find_element(By.CSS_SELECTOR, "button[type=submit]"), False
    )
    submit_and_see_success(browser, wait, browser.find_element(By.ID, "issue-act"))
    assert browser.find_elements(By.CSS_SELECTOR, "a[href*='/admin/ismet-2023/acts/']")
    submit_and_see_success(
        browser, wait, browser.find_element(By.CSS_SELECTOR, "#publish-heading ~ form button")
    )


def test_a_second_campaign_from_import_to_published_winners_in_the_staff_area(
    app, demo, auth, standin, live_server, browser, tmp_path
):
    with app.app_context():
        make_campaign_2023()
    auth.create("marketing", language="ru")
    auth.create("commission", language="ru")
    wait = WebDriverWait(browser, 20)
    before_2022 = {path: main_text(browser, live_server + path) for path in PAGES_2022}

    # marketing: the March file, uploaded on the campaign's own import page
    march = tmp_path / "ismet-2023-march.csv"
    march.write_bytes(csv_2023(MARCH))
    sign_in(
        browser, live_server, wait, "marketing@ismet.kz", "/admin/ismet-2023/participants/import"
    )
    bar = browser.find_element(By.ID, "campaign-bar").text
    assert "Весенняя акция приложения Ismet.kz 2023 года" in bar and "Опубликована" in bar
    Select(browser.find_element(By.NAME, "period")).select_by_value("2023-03")
    browser.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(march))
    click(browser, browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    wait.until(EC.url_matches(r".*/admin/ismet-2023/participants/imports/\d+$"))
    # eligibility, with this campaign's conditions (10 receipts, IE only)
    browser.get(live_server + "/admin/ismet-2023/participants")
    button = browser.find_element(
        By.CSS_SELECTOR, "form[action='/admin/ismet-2023/participants/2023-03/eligibility'] button"
    )
    submit_and_see_success(browser, wait, button, confirm=False)
    month = browser.find_element(By.ID, "month-2023-03").find_element(By.XPATH, "..").text
    assert "6" in month and "8" in month

    # the commission: the pool announced, then drawn, three prizes at once
    sign_in(
        browser, live_server, wait, "commission@ismet.kz", "/admin/ismet-2023/draws/new/2023-03"
    )
    commission = browser.find_element(By.ID, "commission")
    commission.clear()
    commission.send_keys(
        "Aigul Sarsenova, маркетинг бөлімінің басшысы | руководитель отдела маркетинга\n"
        "Erlan Zhumabayev, заңгер | юрист\n"
        "Dinara Akhmetova, менеджер | менеджер"
    )
    browser.find_element(By.ID, "late_reason_kk").send_keys("Бұл сынақта ай әлдеқашан өтті.")
    browser.find_element(By.ID, "late_reason_ru").send_keys("В этом тесте месяц давно прошел.")
    click(browser, browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    wait.until(EC.presence_of_element_located((By.ID, "pool-digest")))
    assert browser.find_element(By.ID, "pool-size").text.split()[0] == "6"
    click(browser, browser.find_element(By.CSS_SELECTOR, "button[name=announce]"))
    answer_confirmation(browser)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "button[name=confirm]")))
    click(browser, browser.find_element(By.CSS_SELECTOR, "button[name=confirm]"))
    answer_confirmation(browser)
    wait.until(EC.url_matches(r".*/admin/ismet-2023/draws/\d+$"))
    prizes = [p.text for p in browser.find_elements(By.CSS_SELECTOR, ".prize")]
    assert len(prizes) == 3
    assert PRIZES[0] in prizes[0] and PRIZES[1] in prizes[1] and PRIZES[1] in prizes[2]

    # marketing: each winner verified, its act issued, published
    sign_in(browser, live_server, wait, "marketing@ismet.kz", "/admin/ismet-2023/winners")
    winner_paths = sorted(
        {
            re.sub(r"^https?://[^/]+", "", a.get_attribute("href"))
            for a in browser.find_elements(By.CSS_SELECTOR, "main a[href*='/winners/']")
            if re.search(r"/admin/ismet-2023/winners/\d+$", a.get_attribute("href"))
        }
    )
    assert len(winner_paths) == 3, winner_paths
    for n, path in enumerate(winner_paths, start=1):
        handle_winner(browser, wait, live_server, path, n)

    # a visitor: the three winners of March with their prizes; 2022 as it was
    browser.delete_all_cookies()
    page = main_text(browser, f"{live_server}/ru/ismet-2023/winners/2023-03")
    companies = re.findall(r"Company \d", page)
    assert len(set(companies)) == 3, page
    assert page.count(PRIZES[0]) == 1 and page.count(PRIZES[1]) == 2, page
    after_2022 = {path: main_text(browser, live_server + path) for path in PAGES_2022}
    assert after_2022 == before_2022
