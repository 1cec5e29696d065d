"""Nothing is published by accident: every staff action that publishes, mails, draws,
deletes, revokes or cannot be undone asks first, naming what will happen (the question in
its form's ``data-confirm``, asked by ``static/js/forms.js``); the rules editor's
"Publish" publishes what is on the screen."""

from __future__ import annotations

import html as html_lib
import re

import pytest
import sqlalchemy as sa

from portal.campaign import acts, subscriptions
from portal.campaign.periods import local_today
from portal.models import (
    Announcement,
    AuditEntry,
    CalendarDay,
    OutboxMessage,
    RulesVersion,
    Subscriber,
    db,
    utcnow,
)
from portal.services.mail import enqueue
from portal.web.urls import SiteLinks
from tests.helpers import announce_in_admin, csrf_from, translated, translated_plural


def question(html: str, action: str) -> str:
    """The question asked before posting to ``action`` (a form's, or its button's)."""
    for tag in re.findall(r"<(?:form|button)\b[^>]*>", html):
        if f'action="{action}"' in tag or f'formaction="{action}"' in tag:
            found = re.search(r'data-confirm="([^"]*)"', tag)
            if found:
                return html_lib.unescape(found.group(1))
    raise AssertionError(f"nothing asks before {action}")


def add_subscribers() -> None:
    now = utcnow()
    db.session.add_all(
        [
            Subscriber(email="kk1@example.kz", language="kk", confirmed_at=now),
            Subscriber(email="kk2@example.kz", language="kk", confirmed_at=now),
            Subscriber(email="ru1@example.kz", language="ru", confirmed_at=now),
            Subscriber(email="waiting@example.kz", language="ru"),
            Subscriber(
                email="gone@example.kz", language="kk", confirmed_at=now, unsubscribed_at=now
            ),
        ]
    )
    db.session.commit()


def mailing(lang: str, kk: int = 2, ru: int = 1) -> str:
    return translated_plural(
        lang,
        "It will be e-mailed to %(num)d subscriber (in Kazakh: %(kk)d, in Russian: %(ru)d).",
        "It will be e-mailed to %(num)d subscribers (in Kazakh: %(kk)d, in Russian: %(ru)d).",
        kk + ru,
        kk=kk,
        ru=ru,
    )


def test_the_audience_is_who_an_announcement_is_mailed_to(ctx, demo):
    add_subscribers()
    assert subscriptions.audience() == {"kk": 2, "ru": 1}
    item = Announcement(
        campaign_id=demo,
        kind=Announcement.KIND_NOTICE,
        title_kk="Т",
        title_ru="Т",
        body_kk="М",
        body_ru="Т",
        published_at=utcnow(),
    )
    db.session.add(item)
    links = subscriptions.MailLinks("secret", SiteLinks())
    assert subscriptions.queue_announcement(item, links) == 3
    db.session.rollback()


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_publishing_an_announcement_asks_naming_the_subscribers(app, client, auth, demo, lang):
    with app.app_context():
        add_subscribers()
        item = Announcement(
            campaign_id=demo,
            kind=Announcement.KIND_NOTICE,
            title_kk="Т",
            title_ru="Т",
            body_kk="М",
            body_ru="Т",
        )
        db.session.add(item)
        db.session.commit()
        item_id = item.id
    auth.create("marketing", language=lang)
    auth.login("marketing", create=False)
    expected = translated(lang, "Publish this announcement? %(mailing)s", mailing=mailing(lang))
    action = f"/admin/ismet-2022/news/{item_id}/publish"
    assert (
        question(client.get(f"/admin/ismet-2022/news/{item_id}").get_data(as_text=True), action)
        == expected
    )
    assert question(client.get("/admin/ismet-2022/news").get_data(as_text=True), action) == expected


def test_nobody_to_mail_is_said_too(app, client, auth, demo):
    auth.login("marketing")
    html = client.get("/admin/ismet-2022/rules").get_data(as_text=True)
    client.post("/admin/ismet-2022/rules/new", data={"csrf_token": csrf_from(html)})
    asked = question(
        client.get("/admin/ismet-2022/rules/2/edit").get_data(as_text=True),
        "/admin/ismet-2022/rules/2/publish",
    )
    assert translated("ru", "No one is subscribed yet: no e-mail is sent.") in asked


def test_the_rules_editor_asks_before_publishing_and_discarding(app, client, auth, demo):
    with app.app_context():
        add_subscribers()
    auth.login("marketing")
    client.post(
        "/admin/ismet-2022/rules/new", data={"csrf_token": auth.token("/admin/ismet-2022/rules")}
    )
    html = client.get("/admin/ismet-2022/rules/2/edit").get_data(as_text=True)
    assert question(html, "/admin/ismet-2022/rules/2/publish") == translated(
        "ru",
        "Save and publish version %(number)s as it is on the screen? It cannot be changed afterwards; the change is announced on the news page. %(mailing)s",
        number=2,
        mailing=mailing("ru"),
    )
    assert question(html, "/admin/ismet-2022/rules/2/discard") == translated(
        "ru", "Discard the draft of version %(number)s? Its text is deleted for good.", number=2
    )
    # the publish button belongs to the editor's form: it sends what is on the screen
    form = html[
        html.index('id="rules-form"') : html.index("</form>", html.index('id="rules-form"'))
    ]
    assert 'formaction="/admin/ismet-2022/rules/2/publish"' in form


def draft(auth, **overrides) -> dict:
    data = {
        "body_kk": "1. Бірінші тармақ.\n\n2. Екінші тармақ, өңделген.",
        "body_ru": "1. Первый пункт.\n\n2. Второй пункт, исправленный на экране.",
        "summary_kk": "2-тармақ өзгертілді.",
        "summary_ru": "Изменен пункт 2.",
        "effective_on": local_today().isoformat(),
        "csrf_token": auth.token("/admin/ismet-2022/rules/2/edit"),
    }
    return data | overrides


def test_publish_in_the_editor_publishes_the_text_on_the_screen(app, client, auth, demo):
    auth.login("marketing")
    client.post(
        "/admin/ismet-2022/rules/new", data={"csrf_token": auth.token("/admin/ismet-2022/rules")}
    )
    # the draft as saved: the text of version 1
    response = client.post("/admin/ismet-2022/rules/2/publish", data=draft(auth))
    assert (
        response.status_code == 302 and response.headers["Location"] == "/admin/ismet-2022/rules/2"
    )
    with app.app_context():
        version = db.session.scalar(sa.select(RulesVersion).filter_by(number=2))
        assert version.published
        assert version.body_ru == "1. Первый пункт.\n\n2. Второй пункт, исправленный на экране."
        actions = list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))
        assert actions[-3:] == ["rules.draft_save", "rules.publish", "announcement.publish"]
    assert "исправленный на экране" in client.get("/ru/ismet-2022/rules/v2").get_data(as_text=True)


def test_publish_with_errors_on_the_screen_publishes_nothing_and_keeps_the_edits(
    app, client, auth, demo
):
    auth.login("marketing")
    client.post(
        "/admin/ismet-2022/rules/new", data={"csrf_token": auth.token("/admin/ismet-2022/rules")}
    )
    response = client.post("/admin/ismet-2022/rules/2/publish", data=draft(auth, summary_ru=""))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="error-summary"' in html and 'href="#summary_ru"' in html
    assert "Второй пункт, исправленный на экране." in html  # the edits stay on the screen
    with app.app_context():
        version = db.session.scalar(sa.select(RulesVersion).filter_by(number=2))
        assert not version.published and "исправленный" not in version.body_ru
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_every_irreversible_step_on_a_winner_asks_first(app, issued, client, auth):
    winner = issued.winner
    winner_id, company = winner.id, winner.participant.company_name
    auth.login("marketing")
    html = client.get(f"/admin/ismet-2022/winners/{winner_id}").get_data(as_text=True)
    base = f"/admin/ismet-2022/winners/{winner_id}"
    for step in ("link", "act", "forfeit", "publish"):
        assert question(html, f"{base}/{step}"), step
    assert company in question(html, f"{base}/publish")
    acts.issue_link(winner)
    db.session.commit()
    html = client.get(base).get_data(as_text=True)
    assert question(html, f"{base}/link/revoke") == translated(
        "ru", "Revoke the winner's private link? It stops opening at once."
    )


def test_the_other_pages_ask_before_what_cannot_be_undone(app, client, auth, demo):
    with app.app_context():
        db.session.add(CalendarDay(day=local_today(), working=False, note="Decree", created_by="t"))
        enqueue("test", "a@example.kz", "ru", "s", "b", "test:1")
        db.session.commit()
        day_id = db.session.scalar(sa.select(CalendarDay.id))
    auth.login("admin")
    calendar = client.get("/admin/calendar").get_data(as_text=True)
    assert question(calendar, f"/admin/calendar/{day_id}/remove")
    waiting = translated_plural(
        "ru",
        "Send what is due now? %(num)d e-mail is waiting in the outbox.",
        "Send what is due now? %(num)d e-mails are waiting in the outbox.",
        1,
    )
    for page in ("/admin/ismet-2022/", "/admin/mail"):
        assert question(client.get(page).get_data(as_text=True), "/admin/mail/send") == waiting
    imports = client.get("/admin/ismet-2022/participants/import").get_data(as_text=True)
    assert 'data-confirm-if="replace"' in imports


def test_the_draw_asks_naming_the_month_and_the_pool(app, september, client, auth):
    auth.login("commission")
    page = client.get("/admin/ismet-2022/draws/new/2022-09").get_data(as_text=True)
    form = {
        "csrf_token": csrf_from(page),
        "commission": "A B, басшы | руководитель\nC D, заңгер | юрист\nE F, менеджер | менеджер",
        "place_kk": "Алматы қ.",
        "place_ru": "г. Алматы",
        "late_reason_kk": "Бұл сынақта кешікті.",
        "late_reason_ru": "В этом тесте с опозданием.",
    }
    # first the pool's announcement is asked for, naming its size
    to_announce = announce_in_admin(client, "2022-09", form)
    asked = html_lib.unescape(re.search(r'<form[^>]*data-confirm="([^"]*)"', to_announce).group(1))
    assert re.search(r"(^|\s)10\s", asked) and "random.org" not in asked
    shown = client.post("/admin/ismet-2022/draws/new/2022-09", data=form).get_data(as_text=True)
    asked = html_lib.unescape(re.search(r'<form[^>]*data-confirm="([^"]*)"', shown).group(1))
    assert "random.org" in asked and " 10 " in asked  # ten eligible in the pool
