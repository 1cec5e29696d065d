"""In the browser: the winner fails the check, the commission redraws, the new winner is published."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from portal.campaign import draws, eligibility, winners
from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.models import Announcement, Campaign, Winner, db
from portal.wording.messages import redraw_reasons
from tests.helpers import (
    AFTER_SEPTEMBER,
    COMMISSION,
    PLACE,
    TODAY,
    announced,
    answer_confirmation,
    click,
    csv_bytes,
    prepare,
    row,
    sign_in,
    site,
)

pytestmark = pytest.mark.browser


def submit_and_see_success(browser, wait, button) -> None:
    """Click a form's button, accept the question it asks, wait for the page it leads to
    and its success message (the page before may show one too: waiting for that, the test
    could sign out before the browser sent the form)."""
    before = browser.find_element(By.TAG_NAME, "html")
    click(browser, button)
    answer_confirmation(browser)
    wait.until(EC.staleness_of(before))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".flash.success")))


def verify_in_browser(browser, wait, passed: bool, note: str) -> None:
    Select(browser.find_element(By.ID, "manual_ok")).select_by_value("yes" if passed else "no")
    browser.find_element(By.ID, "manual_note").send_keys(note)
    submit_and_see_success(
        browser, wait, browser.find_element(By.CSS_SELECTOR, "#verify-heading ~ form button")
    )


def test_disqualification_redraw_and_a_new_published_winner(
    app, demo, auth, standin, live_server, browser
):
    with app.app_context():
        september = find_period(db.session.get(Campaign, demo), "2022-09")
        import_month(september, "sep.csv", csv_bytes([row(n) for n in range(1, 7)]), today=TODAY)
        eligibility.compute(september)
        db.session.commit()
        draw = draws.conduct(
            announced(prepare(september), AFTER_SEPTEMBER),
            **site(),
            commission=COMMISSION,
            place=PLACE,
            now=AFTER_SEPTEMBER,
        )
        (first,) = winners.winners_of_draw(draw)
        first_id, first_company, draw_id = first.id, first.participant.company_name, draw.id
    auth.create("marketing", language="ru")
    auth.create("commission", language="kk")
    wait = WebDriverWait(browser, 15)

    # marketing: the manual check fails
    sign_in(
        browser, live_server, wait, "marketing@ismet.kz", f"/admin/ismet-2022/winners/{first_id}"
    )
    verify_in_browser(browser, wait, False, "The state register shows the company closed.")
    assert (
        browser.find_element(By.ID, "winner-status")
        .get_attribute("class")
        .endswith("status-disqualified")
    )

    # the commission finds the redraw offered, the reason filled in, and redraws
    sign_in(browser, live_server, wait, "commission@ismet.kz", f"/admin/ismet-2022/draws/{draw_id}")
    # its first step: the redraw's pool announced (published)
    click(browser, browser.find_element(By.CSS_SELECTOR, "button[name=announce]"))
    answer_confirmation(browser)
    wait.until(EC.presence_of_element_located((By.ID, "reason_kk")))
    offered = {
        lang: browser.find_element(By.ID, f"reason_{lang}").get_attribute("value")
        for lang in ("kk", "ru")
    }
    with app.test_request_context("/kk/"):  # offered in each language
        assert offered == redraw_reasons([db.session.get(Winner, first_id)])
    assert "company closed" not in str(offered)  # the staff's note stays off the public record
    click(browser, browser.find_element(By.CSS_SELECTOR, "#redraw-form button"))
    answer_confirmation(browser)
    wait.until(lambda b: b.current_url.rstrip("/").rsplit("/", 1)[1] != str(draw_id))
    new_draw_id = int(browser.current_url.rsplit("/", 1)[1])
    with app.app_context():
        (second,) = winners.winners_of_draw(db.session.get(draws.Draw, new_draw_id))
        second_id, second_company = second.id, second.participant.company_name
    assert second_company != first_company

    # marketing: the new winner passes and is published
    sign_in(
        browser, live_server, wait, "marketing@ismet.kz", f"/admin/ismet-2022/winners/{second_id}"
    )
    verify_in_browser(browser, wait, True, "Register and account checked.")
    submit_and_see_success(
        browser, wait, browser.find_element(By.CSS_SELECTOR, "#publish-heading ~ form button")
    )

    # a visitor sees the new winner only, and the news
    browser.delete_all_cookies()
    browser.get(f"{live_server}/kk/ismet-2022/winners/2022-09")
    page = browser.find_element(By.TAG_NAME, "main").text
    assert second_company in page and first_company not in page
    with app.app_context():
        statuses = dict(db.session.execute(sa.select(Winner.id, Winner.status)).all())
        news = db.session.scalar(sa.select(Announcement).filter_by(kind=Announcement.KIND_WINNER))
        title, body = news.title_ru, news.body_ru
    assert second_company in body and first_company not in body
    browser.get(f"{live_server}/ru/ismet-2022/news")
    assert title in browser.find_element(By.TAG_NAME, "main").text
    assert statuses == {first_id: Winner.DISQUALIFIED, second_id: Winner.VERIFIED}
