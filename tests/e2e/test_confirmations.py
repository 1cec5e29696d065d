"""In the browser: nothing is published by accident, and a form sent back with errors
takes the visitor to what is wrong.

Publishing an announcement asks first, naming how many subscribers are mailed;
dismissing publishes and mails nothing. In the rules editor, "Publish" publishes the text
on the screen, or says why not and keeps it. The error summary takes the focus.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from portal.campaign import acts
from portal.campaign.periods import local_today
from portal.models import Announcement, OutboxMessage, RulesVersion, Subscriber, db, utcnow
from tests.helpers import (
    answer_confirmation,
    click,
    count,
    sign_in,
    translated,
    translated_plural,
)

pytestmark = pytest.mark.browser


def test_publishing_an_announcement_asks_and_dismissing_it_publishes_nothing(
    app, demo, auth, live_server, browser
):
    with app.app_context():
        now = utcnow()
        db.session.add_all(
            [
                Subscriber(email="kk1@example.kz", language="kk", confirmed_at=now),
                Subscriber(email="kk2@example.kz", language="kk", confirmed_at=now),
                Subscriber(email="ru1@example.kz", language="ru", confirmed_at=now),
                Subscriber(email="waiting@example.kz", language="ru"),
                Subscriber(
                    email="gone@example.kz", language="ru", confirmed_at=now, unsubscribed_at=now
                ),
            ]
        )
        item = Announcement(
            campaign_id=demo,
            kind=Announcement.KIND_NOTICE,
            title_kk="Жаңа хабарландыру",
            title_ru="Новое объявление",
            body_kk="Мәтін.",
            body_ru="Текст.",
        )
        db.session.add(item)
        db.session.commit()
        item_id = item.id
    auth.create("marketing", language="ru")
    wait = WebDriverWait(browser, 10)
    sign_in(browser, live_server, wait, "marketing@ismet.kz", f"/admin/ismet-2022/news/{item_id}")

    click(browser, browser.find_element(By.ID, "publish-announcement"))
    asked = answer_confirmation(browser, accept=False)
    mailing = translated_plural(
        "ru",
        "It will be e-mailed to %(num)d subscriber (in Kazakh: %(kk)d, in Russian: %(ru)d).",
        "It will be e-mailed to %(num)d subscribers (in Kazakh: %(kk)d, in Russian: %(ru)d).",
        3,
        kk=2,
        ru=1,
    )
    assert asked == translated("ru", "Publish this announcement? %(mailing)s", mailing=mailing)
    assert "3" in asked
    # dismissed: still on the draft, nothing published, nothing mailed
    assert browser.current_url.endswith(f"/admin/ismet-2022/news/{item_id}")
    with app.app_context():
        assert db.session.get(Announcement, item_id).published_at is None
        assert count(OutboxMessage) == 0

    click(browser, browser.find_element(By.ID, "publish-announcement"))
    answer_confirmation(browser, accept=True)
    wait.until(EC.url_matches(r".*/admin/ismet-2022/news$"))
    with app.app_context():
        assert db.session.get(Announcement, item_id).published_at is not None
        mailed = db.session.scalars(sa.select(OutboxMessage.to_email)).all()
        assert sorted(mailed) == ["kk1@example.kz", "kk2@example.kz", "ru1@example.kz"]


def open_new_draft(browser, live_server, wait) -> None:
    sign_in(browser, live_server, wait, "marketing@ismet.kz", "/admin/ismet-2022/rules")
    button = browser.find_element(
        By.XPATH,
        f"//button[normalize-space()='{translated('kk', 'New version from the rules in force')}']",
    )
    click(browser, button)
    wait.until(EC.url_contains("/admin/ismet-2022/rules/2/edit"))


def type_into(browser, element_id: str, text: str) -> None:
    element = browser.find_element(By.ID, element_id)
    browser.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));",
        element,
        text,
    )


def test_publish_in_the_rules_editor_publishes_the_edited_text(
    app, demo, auth, live_server, browser
):
    auth.create("marketing", language="kk")
    wait = WebDriverWait(browser, 10)
    open_new_draft(browser, live_server, wait)
    body = browser.find_element(By.ID, "body_ru").get_attribute("value")
    type_into(browser, "body_ru", body.replace("не менее 5 чеков", "не менее 4 чеков"))
    type_into(browser, "summary_kk", "Чектер саны 4-ке дейін азайтылды.")
    type_into(browser, "summary_ru", "Минимальное число чеков снижено до 4.")
    type_into(browser, "effective_on", local_today().isoformat())

    # nothing saved: "Publish" straight after the edits
    click(browser, browser.find_element(By.ID, "publish-rules"))
    asked = answer_confirmation(browser, accept=True)
    assert translated("kk", "No one is subscribed yet: no e-mail is sent.") in asked
    wait.until(EC.url_matches(r".*/admin/ismet-2022/rules/2$"))
    with app.app_context():
        version = db.session.scalar(sa.select(RulesVersion).filter_by(number=2))
        assert version.published and "не менее 4 чеков" in version.body_ru
        assert version.summary_ru == "Минимальное число чеков снижено до 4."


def test_publish_with_an_error_on_the_screen_is_refused_and_keeps_the_edits(
    app, demo, auth, live_server, browser
):
    auth.create("marketing", language="kk")
    wait = WebDriverWait(browser, 10)
    open_new_draft(browser, live_server, wait)
    body = browser.find_element(By.ID, "body_ru").get_attribute("value")
    edited = body.replace("не менее 5 чеков", "не менее 4 чеков")
    type_into(browser, "body_ru", edited)
    type_into(browser, "summary_kk", "Чектер саны 4-ке дейін азайтылды.")
    # no Russian summary, no date: it cannot be published
    click(browser, browser.find_element(By.ID, "publish-rules"))
    answer_confirmation(browser, accept=True)
    summary = wait.until(EC.presence_of_element_located((By.ID, "error-summary")))
    assert browser.switch_to.active_element == summary
    assert browser.find_element(By.ID, "body_ru").get_attribute("value").replace(
        "\r\n", "\n"
    ) == edited.replace("\r\n", "\n")
    assert (
        browser.find_element(By.ID, "summary_kk").get_attribute("value")
        == "Чектер саны 4-ке дейін азайтылды."
    )
    with app.app_context():
        version = db.session.scalar(sa.select(RulesVersion).filter_by(number=2))
        assert not version.published and "не менее 4 чеков" not in version.body_ru


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_focus_lands_on_the_error_summary_and_its_links_lead_to_the_field(
    app, issued, live_server, browser, lang
):
    token = acts.issue_link(issued.winner)
    db.session.commit()
    browser.get(f"{live_server}/{lang}/winner/{token}")
    click(browser, browser.find_element(By.CSS_SELECTOR, "#manual-form [type=submit]"))
    summary = WebDriverWait(browser, 10).until(
        EC.presence_of_element_located((By.ID, "error-summary"))
    )
    assert browser.switch_to.active_element == summary
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", summary)
    height = browser.execute_script("return window.innerHeight")
    assert 0 <= top < height  # scrolled into view, far below the page's top
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    click(browser, summary.find_element(By.CSS_SELECTOR, "a[href='#reason']"))
    assert browser.switch_to.active_element == browser.find_element(By.ID, "reason")
