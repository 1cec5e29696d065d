"""In the browser: a Russian visitor walks the public site of the demo, from the home page
to a draw's record, and reads Russian only; a Kazakh visitor reads no English codes."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers import click, load_demo_draws, translated
from tests.languages import READER_TEXT, offending_words, shown_names

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_a_visitor_reads_its_own_language_from_the_home_page_to_a_draw(
    app, demo, live_server, browser, lang
):
    load_demo_draws(app, demo)
    names = shown_names(app)
    wait = WebDriverWait(browser, 15)
    seen: dict[str, list[str]] = {}

    def read() -> None:
        wait.until(EC.presence_of_element_located((By.TAG_NAME, "main")))
        words = offending_words(browser.execute_script(READER_TEXT), lang, names)
        if words:
            seen[browser.current_url] = words

    browser.get(f"{live_server}/{lang}/")
    read()
    for link in ("Rules", "Winners"):
        click(browser, browser.find_element(By.LINK_TEXT, translated(lang, link)))
        read()
    # the winners' months, then the record of a month's draw
    month = browser.find_element(By.CSS_SELECTOR, "main a[href*='/winners/2022-']")
    click(browser, month)
    read()
    click(browser, browser.find_element(By.CSS_SELECTOR, "main a[href*='/draws/']"))
    wait.until(EC.url_contains(f"/{lang}/draws/"))
    read()
    browser.get(f"{live_server}/{lang}/ismet-2022/news")
    read()
    assert not seen, f"words of another language on {lang} pages: {seen}"
