"""Rule 16 in the staff area: a new version drafted, previewed, published and announced."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import sqlalchemy as sa

from portal.campaign.periods import local_today
from portal.models import (
    Announcement,
    AuditEntry,
    OutboxMessage,
    RulesVersion,
    Subscriber,
    db,
    utcnow,
)
from tests.helpers import smtp_server

HOSTILE = (
    "1. Clause with <script>alert('x')</script> inside.\n\n"
    "2. An <img src=x onerror=alert(1)> image.\n\n"
    '3. A [link](javascript:alert(1)) and a <a href="javascript:alert(2)">raw link</a>.\n'
)


def draft_form(auth, number: int, token_page: str | None = None, **overrides) -> dict:
    token = auth.token(token_page or f"/admin/ismet-2022/rules/{number}/edit")
    form = {
        "body_kk": "1. Бірінші тармақ.\n\n2. Екінші тармақ, жаңа.",
        "body_ru": "1. Первый пункт.\n\n2. Второй пункт, новый.",
        "summary_kk": "2-тармақ өзгертілді.",
        "summary_ru": "Изменен пункт 2.",
        "effective_on": local_today().isoformat(),
        "csrf_token": token,
    }
    form.update(overrides)
    return form


def test_marketing_drafts_publishes_and_announces_version_2(app, client, auth, demo):
    with app.app_context():
        db.session.add_all(
            [
                Subscriber(email="kk@example.kz", language="kk", confirmed_at=utcnow()),
                Subscriber(email="ru@example.kz", language="ru", confirmed_at=utcnow()),
                Subscriber(email="unconfirmed@example.kz", language="ru"),
            ]
        )
        db.session.commit()
    auth.login("marketing")
    response = client.post(
        "/admin/ismet-2022/rules/new", data={"csrf_token": auth.token("/admin/ismet-2022/rules")}
    )
    assert response.headers["Location"] == "/admin/ismet-2022/rules/2/edit"
    page = client.get("/admin/ismet-2022/rules/2/edit").get_data(as_text=True)
    assert "Chocomart" in page  # the draft starts from the version in force

    assert (
        client.post("/admin/ismet-2022/rules/2/edit", data=draft_form(auth, 2)).status_code == 302
    )
    response = client.post(
        "/admin/ismet-2022/rules/2/publish",
        data={"csrf_token": auth.token("/admin/ismet-2022/rules/2/edit")},
    )
    assert response.status_code == 302

    with app.app_context():
        version = db.session.scalar(sa.select(RulesVersion).filter_by(number=2))
        assert version.published and version.published_at is not None
        announcement = db.session.scalar(sa.select(Announcement).filter_by(kind="rules_change"))
        assert announcement.rules_version_id == version.id
        assert "2" in announcement.title_kk and "2" in announcement.title_ru
        assert announcement.title_kk != announcement.title_ru
        mails = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.to_email)).all()
        assert [(m.to_email, m.language) for m in mails] == [
            ("kk@example.kz", "kk"),
            ("ru@example.kz", "ru"),
        ]
        assert mails[1].subject == announcement.title_ru
        actions = list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))
        assert actions[-4:] == [
            "rules.draft_start",
            "rules.draft_save",
            "rules.publish",
            "announcement.publish",
        ]

    # the visitor sees the notice, the news, the feed and the diff
    rules_page = client.get("/ru/ismet-2022/rules").get_data(as_text=True)
    assert 'class="notice"' in rules_page and "/ru/ismet-2022/rules/diff?to=2" in rules_page
    news = client.get("/kk/ismet-2022/news").get_data(as_text=True)
    assert announcement.title_kk in news
    feed = ET.fromstring(client.get("/ru/ismet-2022/news/feed.atom").data)
    titles = [e.text for e in feed.iter("{http://www.w3.org/2005/Atom}title")]
    assert announcement.title_ru in titles
    diff = client.get("/ru/ismet-2022/rules/diff?from=1&to=2").get_data(as_text=True)
    assert "Изменен пункт 2." in diff

    # a published version is never edited again
    response = client.post(
        "/admin/ismet-2022/rules/2/edit",
        data=draft_form(auth, 2, token_page="/admin/ismet-2022/rules/2", body_ru="1. Другое."),
    )
    assert response.status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(sa.select(RulesVersion.body_ru).filter_by(number=2))
            == "1. Первый пункт.\n\n2. Второй пункт, новый."
        )


def test_a_draft_needs_clauses_summaries_and_a_date_not_in_the_past(app, client, auth, demo):
    auth.login("marketing")
    client.post(
        "/admin/ismet-2022/rules/new", data={"csrf_token": auth.token("/admin/ismet-2022/rules")}
    )
    yesterday = (local_today() - timedelta(days=1)).isoformat()
    page = client.post(
        "/admin/ismet-2022/rules/2/edit",
        data=draft_form(auth, 2, effective_on=yesterday, body_kk="no clauses here", summary_ru=""),
    )
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert text.count('class="errors"') == 3
    with app.app_context():
        assert (
            db.session.scalar(sa.select(RulesVersion.body_kk).filter_by(number=2))
            != "no clauses here"
        )


def test_preview_and_public_page_render_hostile_markdown_inert(app, client, auth, demo):
    auth.login("marketing")
    client.post(
        "/admin/ismet-2022/rules/new", data={"csrf_token": auth.token("/admin/ismet-2022/rules")}
    )
    token = auth.token("/admin/ismet-2022/rules/2/edit")
    preview = client.post(
        "/admin/rules/preview", json={"body": HOSTILE}, headers={"X-CSRFToken": token}
    )
    assert preview.status_code == 200
    assert (
        client.post("/admin/rules/preview", json={"body": HOSTILE}).status_code == 400
    )  # no CSRF token
    client.post(
        "/admin/ismet-2022/rules/2/edit", data=draft_form(auth, 2, body_kk=HOSTILE, body_ru=HOSTILE)
    )
    client.post(
        "/admin/ismet-2022/rules/2/publish",
        data={"csrf_token": auth.token("/admin/ismet-2022/rules/2/edit")},
    )
    public = client.get("/kk/ismet-2022/rules/v2").get_data(as_text=True)
    for html in (preview.json["html"], public):
        article = html[html.index('<article class="rules') :]
        assert "<script" not in article
        assert not re.search(r"<[^>]*\son\w+=", article)  # no event handler in any tag
        assert "<img" not in article
        assert not re.search(r"<a[^>]+javascript:", article)
        assert "&lt;script&gt;" in article  # shown as text, not run


def test_discarding_a_draft_and_the_auditor_cannot(app, client, auth, demo):
    auth.login("marketing")
    client.post(
        "/admin/ismet-2022/rules/new", data={"csrf_token": auth.token("/admin/ismet-2022/rules")}
    )
    assert (
        client.post(
            "/admin/ismet-2022/rules/2/discard",
            data={"csrf_token": auth.token("/admin/ismet-2022/rules/2/edit")},
        ).status_code
        == 302
    )
    with app.app_context():
        assert db.session.scalar(sa.select(RulesVersion).filter_by(number=2)) is None
    auth.logout()
    auth.login("auditor")
    assert (
        client.post(
            "/admin/ismet-2022/rules/new",
            data={"csrf_token": auth.token("/admin/ismet-2022/rules")},
        ).status_code
        == 403
    )
    assert client.get("/admin/ismet-2022/rules").status_code == 200


def test_subscribers_mailboxes_get_the_change_in_their_language(app, client, auth, demo, runner):
    """Done-when of the staff-area issue: publish v2, `flask mail send`, a real SMTP server's mailbox."""

    with app.app_context():
        db.session.add_all(
            [
                Subscriber(email="kk@example.kz", language="kk", confirmed_at=utcnow()),
                Subscriber(email="ru@example.kz", language="ru", confirmed_at=utcnow()),
                Subscriber(
                    email="gone@example.kz",
                    language="ru",
                    confirmed_at=utcnow(),
                    unsubscribed_at=utcnow(),
                ),
            ]
        )
        db.session.commit()
    auth.login("marketing")
    client.post(
        "/admin/ismet-2022/rules/new", data={"csrf_token": auth.token("/admin/ismet-2022/rules")}
    )
    client.post("/admin/ismet-2022/rules/2/edit", data=draft_form(auth, 2))
    client.post(
        "/admin/ismet-2022/rules/2/publish",
        data={"csrf_token": auth.token("/admin/ismet-2022/rules/2/edit")},
    )
    with smtp_server(app) as mailbox:
        result = runner.invoke(args=["mail", "send"])
        assert result.exit_code == 0, result.output
        again = runner.invoke(args=["mail", "send"])
    assert sorted(mailbox.to()) == ["kk@example.kz", "ru@example.kz"]
    by_address = {item.rcpt_tos[0]: item.message for item in mailbox.received}
    with app.app_context():
        announcement = db.session.scalar(sa.select(Announcement).filter_by(kind="rules_change"))
        assert by_address["kk@example.kz"]["Subject"] == announcement.title_kk
        assert by_address["ru@example.kz"]["Subject"] == announcement.title_ru
    ru_body = by_address["ru@example.kz"].get_content()
    assert (
        "Изменен пункт 2." in ru_body
        and "/ru/ismet-2022/news/" in ru_body
        and "/ru/unsubscribe/" in ru_body
    )
    assert "2-тармақ өзгертілді." in by_address["kk@example.kz"].get_content()
    assert (
        str(by_address["ru@example.kz"]["List-Unsubscribe"])
        .strip()
        .startswith("<http://localhost/ru/unsubscribe/")
    )
    assert "sent 0" in again.output  # never twice


def test_a_notice_written_by_hand_is_published_with_the_real_form(app, client, auth, demo):
    auth.login("marketing")
    form = {
        "title_kk": "Хабарландыру",
        "title_ru": "Объявление",
        "body_kk": "Мәтін **маңызды**.",
        "body_ru": "Текст **важный**.",
        "csrf_token": auth.token("/admin/ismet-2022/news/new"),
    }
    response = client.post("/admin/ismet-2022/news/new", data=form)
    assert response.status_code == 302
    item_url = response.headers["Location"]
    assert "Объявление" not in client.get("/ru/ismet-2022/news").get_data(
        as_text=True
    )  # a draft is not public
    item_id = int(item_url.rstrip("/").rsplit("/", 1)[1])
    assert (
        client.post(
            f"/admin/ismet-2022/news/{item_id}/publish", data={"csrf_token": auth.token(item_url)}
        ).status_code
        == 302
    )
    page = client.get("/ru/ismet-2022/news").get_data(as_text=True)
    assert "Объявление" in page and "<strong>важный</strong>" in page
    assert (
        client.post(
            f"/admin/ismet-2022/news/{item_id}/publish",
            data={"csrf_token": auth.token("/admin/ismet-2022/news")},
        ).status_code
        == 400
    )
