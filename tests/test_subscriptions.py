"""E-mail subscriptions to announcements: double opt-in, one-click unsubscribe, the mailing."""

from __future__ import annotations

import html
import logging
import re
import time
from datetime import UTC, datetime
from unittest.mock import patch
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer

from portal.campaign import subscriptions
from portal.models import Announcement, AuditEntry, OutboxMessage, RateLimitHit, Subscriber, db
from portal.public.forms import is_valid_email, normalize_email
from portal.web.urls import subscription_links
from tests.helpers import SECRET_KEY, translated

CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
CONFIRM_LINK = re.compile(r"http://localhost/(kk|ru)/subscribe/confirm/[A-Za-z0-9_.\-]+")
DONE = "If the address is valid, we have sent a confirmation link to it."
CONFIRM_SUBJECT = "Confirm your subscription to Ismet.kz announcements"


def unsubscribe_url(row: Subscriber) -> str:
    """The subscriber's unsubscribe link, as the e-mails carry it (within a request)."""
    return subscription_links().unsubscribe(row)


def queue_announcement(announcement: Announcement) -> int:
    """Mail an announcement as the staff pages do (within a request)."""
    return subscriptions.queue_announcement(announcement, subscription_links())


def text_of(response) -> str:
    """The page's text with entities decoded and white space folded."""
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def csrf_token(client, lang: str = "kk") -> str:
    """The CSRF token of the subscription form, fetched as a browser would."""
    page = client.get(f"/{lang}/subscribe")
    assert page.status_code == 200
    match = CSRF_INPUT.search(page.get_data(as_text=True))
    assert match, "no CSRF token in the form"
    return match.group(1)


def subscribe(client, email: str, language: str = "kk", lang: str = "kk", **kwargs):
    """Fill in and send the real subscription form of the ``lang`` page."""
    data = {"csrf_token": csrf_token(client, lang), "email": email, "language": language}
    return client.post(f"/{lang}/subscribe", data=data, **kwargs)


def confirm_mails(app, email: str) -> list[OutboxMessage]:
    """The confirmation e-mails queued for ``email``, oldest first."""
    with app.app_context():
        messages = db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.to_email == email, OutboxMessage.kind == "subscribe_confirm")
            .order_by(OutboxMessage.id)
        ).all()
        db.session.expunge_all()
        return messages


def subscriber(app, email: str) -> Subscriber | None:
    """The subscriber row of ``email``, detached."""
    with app.app_context():
        row = db.session.scalar(sa.select(Subscriber).where(Subscriber.email == email))
        db.session.expunge_all()
        return row


def confirm_path(message: OutboxMessage) -> str:
    """The path of the confirmation link in a queued e-mail."""
    match = CONFIRM_LINK.search(message.body_text)
    assert match, message.body_text
    return urlsplit(match.group(0)).path


def add_subscriber(
    email: str, language: str, confirmed: bool = True, unsubscribed: bool = False
) -> int:
    """Create a subscriber directly (inside an app context); returns its id."""
    moment = datetime(2022, 9, 1, 6, 0, tzinfo=UTC)
    row = Subscriber(
        email=email,
        language=language,
        confirmed_at=moment if confirmed else None,
        unsubscribed_at=moment if unsubscribed else None,
    )
    db.session.add(row)
    db.session.commit()
    return row.id


# --- the form -------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_form_is_in_the_page_language_with_that_language_chosen(client, demo, lang):
    response = client.get(f"/{lang}/subscribe")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    assert translated(lang, "Subscribe to announcements") in html.unescape(page)
    checked = re.search(rf'<input[^>]*value="{lang}"[^>]*>', page)
    assert checked and " checked" in checked.group(0)
    assert '<label for="email">' in page and 'autocomplete="email"' in page
    assert "<legend>" in page and 'name="csrf_token"' in page
    other = "ru" if lang == "kk" else "kk"
    assert f'href="/{other}/subscribe"' in page


def test_real_form_with_csrf_queues_a_confirmation_in_the_chosen_language(app, client, demo):
    response = subscribe(client, "  Reader.One@Example.KZ ", language="ru", lang="kk")
    assert response.status_code == 200
    assert translated("kk", DONE) in text_of(response)

    row = subscriber(app, "Reader.One@example.kz")  # domain lower-cased, local part kept
    assert row is not None and row.language == "ru"
    assert row.confirmed_at is None and not row.receives_mail

    [message] = confirm_mails(app, "Reader.One@example.kz")
    assert message.language == "ru"
    assert message.subject == translated("ru", CONFIRM_SUBJECT)
    assert message.status == OutboxMessage.PENDING
    assert message.dedupe_key == f"subscribe-confirm:{row.id}:0"
    assert message.list_unsubscribe is None
    assert CONFIRM_LINK.search(message.body_text).group(1) == "ru"
    instruction = "To confirm the subscription, open this link within %(days)s days:"
    assert translated("ru", instruction, days=7) in message.body_text

    confirmed = client.get(confirm_path(message))
    assert confirmed.status_code == 200
    assert '<html lang="ru">' in confirmed.get_data(as_text=True)
    assert translated("ru", "Subscription confirmed") in text_of(confirmed)
    row = subscriber(app, "Reader.One@example.kz")
    assert row.confirmed_at is not None and row.receives_mail
    first_confirmation = row.confirmed_at

    again = client.get(confirm_path(message))  # following the link twice changes nothing
    assert again.status_code == 200
    assert subscriber(app, "Reader.One@example.kz").confirmed_at == first_confirmation


def test_a_post_without_the_csrf_token_is_refused(app, client, demo):
    response = client.post("/kk/subscribe", data={"email": "reader@example.kz", "language": "kk"})
    assert response.status_code == 400
    assert '<html lang="kk">' in response.get_data(as_text=True)
    assert subscriber(app, "reader@example.kz") is None
    assert confirm_mails(app, "reader@example.kz") == []


@pytest.mark.parametrize(
    "address",
    [
        "",
        "reader",
        "reader@",
        "@example.kz",
        "reader@example",
        "reader@@example.kz",
        "reader @example.kz",
        "Reader <reader@example.kz>",
        "reader@example.kz\nBcc: x@example.kz",
        "reader@-example.kz",
        "reader..dots@example.kz",
        "reader@[127.0.0.1]",
        "оқырман@example.kz",
    ],
)
def test_an_invalid_address_is_shown_next_to_the_field(app, client, demo, address):
    response = subscribe(client, address, lang="ru")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page
    assert re.search(r'<ul class="errors" id="email-errors"><li>[^<]+</li></ul>', page)
    assert translated("ru", DONE) not in text_of(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscriber)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RateLimitHit)) == 0


def test_an_unknown_language_choice_is_refused(app, client, demo):
    token = csrf_token(client)
    data = {"csrf_token": token, "email": "a@example.kz", "language": "en"}
    response = client.post("/kk/subscribe", data=data)
    assert response.status_code == 200
    assert 'id="language-errors"' in response.get_data(as_text=True)
    assert subscriber(app, "a@example.kz") is None


def test_address_validation_and_normalisation():
    for good in ("a@example.kz", "first.last+tag@mail.example.com", "x_y-z@sub.domain.xn--80ao21a"):
        assert is_valid_email(good), good
    for bad in (
        "a@example.kz.",
        "a.@example.kz",
        ".a@example.kz",
        "a@example.k",
        "a@ex_ample.kz",
        "a" * 65 + "@example.kz",
        "a@" + "b" * 250 + ".kz",
        "a@example.kz\n",
    ):
        assert not is_valid_email(bad), bad
    assert normalize_email("  Reader@Mail.Example.KZ\t") == "Reader@mail.example.kz"


# --- nobody learns whether an address is known -------------------------------------------


def test_new_known_and_confirmed_addresses_get_the_same_answer(app, client, demo):
    with app.app_context():
        add_subscriber("confirmed@example.kz", "kk")
    new = subscribe(client, "new@example.kz")
    known = subscribe(client, "new@example.kz")  # known, not yet confirmed
    confirmed = subscribe(client, "confirmed@example.kz", language="ru")
    assert new.status_code == known.status_code == confirmed.status_code == 200
    assert new.data == known.data == confirmed.data
    assert translated("kk", DONE) in text_of(new)

    assert len(confirm_mails(app, "new@example.kz")) == 2  # a second request, a second link
    assert confirm_mails(app, "confirmed@example.kz") == []  # nothing to confirm
    row = subscriber(app, "confirmed@example.kz")
    assert row.receives_mail and row.language == "kk"  # a stranger cannot change it


def test_nothing_is_audited_and_no_address_is_logged(app, client, demo, caplog):
    caplog.set_level(logging.DEBUG)
    subscribe(client, "private.person@example.kz")
    client.get(confirm_path(confirm_mails(app, "private.person@example.kz")[0]))
    with app.test_request_context("/"):
        row = db.session.scalar(sa.select(Subscriber))
        path = urlsplit(unsubscribe_url(row)).path
    client.get(path)
    assert "private.person" not in caplog.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
        keys = db.session.scalars(sa.select(RateLimitHit.key)).all()
        assert keys and not any("private.person" in key for key in keys)


# --- confirmation links -------------------------------------------------------------------


def test_a_bad_confirmation_link_gets_an_explanation_not_a_crash(app, client, demo):
    subscribe(client, "reader@example.kz")
    row = subscriber(app, "reader@example.kz")
    wrong_salt = URLSafeTimedSerializer(SECRET_KEY, salt="unsubscribe").dumps(row.id)
    wrong_key = URLSafeTimedSerializer("another-key", salt="subscribe-confirm").dumps(row.id)
    unknown = URLSafeTimedSerializer(SECRET_KEY, salt="subscribe-confirm").dumps(row.id + 1000)
    not_an_id = URLSafeTimedSerializer(SECRET_KEY, salt="subscribe-confirm").dumps(
        "reader@example.kz"
    )
    for token in ("garbage", wrong_salt, wrong_key, unknown, not_an_id):
        response = client.get(f"/ru/subscribe/confirm/{token}")
        assert response.status_code == 400, token
        assert translated("ru", "This confirmation link is not valid") in text_of(response)
        assert 'href="/ru/subscribe"' in response.get_data(as_text=True)
    assert not subscriber(app, "reader@example.kz").receives_mail


def test_an_expired_confirmation_link_is_explained(app, client, demo):
    subscribe(client, "late@example.kz")
    row = subscriber(app, "late@example.kz")
    serializer = URLSafeTimedSerializer(SECRET_KEY, salt="subscribe-confirm")
    with patch("itsdangerous.timed.time.time", return_value=time.time() - 8 * 24 * 3600):
        expired = serializer.dumps(row.id)
    with patch("itsdangerous.timed.time.time", return_value=time.time() - 6 * 24 * 3600):
        still_valid = serializer.dumps(row.id)

    response = client.get(f"/kk/subscribe/confirm/{expired}")
    assert response.status_code == 400
    assert translated("kk", "This confirmation link has expired") in text_of(response)
    assert 'href="/kk/subscribe"' in response.get_data(as_text=True)
    assert not subscriber(app, "late@example.kz").receives_mail

    assert client.get(f"/kk/subscribe/confirm/{still_valid}").status_code == 200
    assert subscriber(app, "late@example.kz").receives_mail
    # once confirmed, an old link no longer worries anybody
    response = client.get(f"/kk/subscribe/confirm/{expired}")
    assert response.status_code == 200
    assert translated("kk", "Subscription confirmed") in text_of(response)


# --- unsubscribing --------------------------------------------------------------------


def test_unsubscribe_by_a_click_is_immediate_and_idempotent(app, client, demo):
    with app.test_request_context("/"):
        add_subscriber("reader@example.kz", "ru")
        url = unsubscribe_url(db.session.scalar(sa.select(Subscriber)))
    assert url.startswith("http://localhost/ru/unsubscribe/")
    path = urlsplit(url).path

    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert '<html lang="ru">' in page
        assert translated("ru", "You are unsubscribed") in text_of(response)
        assert 'action="/ru/subscribe"' in page  # the button to subscribe again
        row = subscriber(app, "reader@example.kz")
        assert row.unsubscribed_at is not None and not row.receives_mail
    first = row.unsubscribed_at
    client.get(path)
    assert subscriber(app, "reader@example.kz").unsubscribed_at == first


def test_one_click_unsubscribe_by_post_needs_no_csrf_token(app, client, demo):
    with app.test_request_context("/"):
        add_subscriber("reader@example.kz", "kk")
        path = urlsplit(unsubscribe_url(db.session.scalar(sa.select(Subscriber)))).path
    for _ in range(2):  # RFC 8058: the mail client posts "List-Unsubscribe=One-Click"
        response = client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        assert not subscriber(app, "reader@example.kz").receives_mail


def test_a_bad_unsubscribe_link_is_explained(app, client, demo):
    with app.app_context():
        subscriber_id = add_subscriber("reader@example.kz", "kk")
    forged = URLSafeSerializer("another-key", salt="unsubscribe").dumps(subscriber_id)
    for method in (client.get, client.post):
        response = method(f"/kk/unsubscribe/{forged}")
        assert response.status_code == 400
        assert translated("kk", "This unsubscribe link is not valid") in text_of(response)
    assert subscriber(app, "reader@example.kz").receives_mail
    # a well-signed link of a subscriber since deleted simply says "unsubscribed"
    gone = URLSafeSerializer(SECRET_KEY, salt="unsubscribe").dumps(subscriber_id + 1000)
    assert client.get(f"/kk/unsubscribe/{gone}").status_code == 200


def test_subscribe_again_after_unsubscribing_needs_a_new_confirmation(app, client, demo):
    with app.test_request_context("/"):
        add_subscriber("reader@example.kz", "kk", unsubscribed=True)
        path = urlsplit(unsubscribe_url(db.session.scalar(sa.select(Subscriber)))).path
    page = client.get(path).get_data(as_text=True)
    token = CSRF_INPUT.search(page).group(1)
    # the button on the "unsubscribed" page posts the address and its language
    data = {"csrf_token": token, "email": "reader@example.kz", "language": "ru"}
    response = client.post("/kk/subscribe", data=data)
    assert response.status_code == 200
    assert translated("kk", DONE) in text_of(response)
    row = subscriber(app, "reader@example.kz")
    assert not row.receives_mail and row.language == "ru"
    [message] = confirm_mails(app, "reader@example.kz")
    assert message.language == "ru"
    client.get(confirm_path(message))
    row = subscriber(app, "reader@example.kz")
    assert row.receives_mail and row.unsubscribed_at is None


# --- the mailing ----------------------------------------------------------------------


def test_queue_announcement_mails_each_subscriber_once_in_its_language(app, client, demo):
    with app.test_request_context("/"):
        kk = add_subscriber("kk.reader@example.kz", "kk")
        ru = add_subscriber("ru.reader@example.kz", "ru")
        add_subscriber("pending@example.kz", "ru", confirmed=False)
        add_subscriber("gone@example.kz", "kk", unsubscribed=True)
        announcement = db.session.scalar(sa.select(Announcement).order_by(Announcement.id))
        assert announcement.published_at is not None
        assert queue_announcement(announcement) == 2
        db.session.commit()
        assert queue_announcement(announcement) == 0
        db.session.commit()

        messages = db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.kind == "announcement")
            .order_by(OutboxMessage.to_email)
        ).all()
        assert [m.to_email for m in messages] == ["kk.reader@example.kz", "ru.reader@example.kz"]
        for message, lang, subscriber_id in zip(messages, ["kk", "ru"], [kk, ru], strict=True):
            row = db.session.get(Subscriber, subscriber_id)
            assert message.language == lang
            assert message.dedupe_key == f"announcement:{announcement.id}:{subscriber_id}"
            assert message.subject == announcement.tr("title", lang)
            assert announcement.tr("body", lang).strip() in message.body_text
            assert f"http://localhost/{lang}/ismet-2022/news/{announcement.id}" in message.body_text
            assert message.list_unsubscribe == unsubscribe_url(row)
            assert message.list_unsubscribe.startswith(f"http://localhost/{lang}/unsubscribe/")
            assert message.list_unsubscribe in message.body_text
            link = message.list_unsubscribe
            footer = translated(lang, "Unsubscribe in one click: %(url)s", url=link)
            assert footer in message.body_text
        unsubscribe_path = urlsplit(messages[1].list_unsubscribe).path

    # the link in the e-mail works, and the next announcement skips that subscriber
    assert client.post(unsubscribe_path).status_code == 200
    with app.test_request_context("/"):
        second = Announcement(
            campaign_id=demo,
            title_kk="Жаңа хабарландыру",
            title_ru="Новое объявление",
            body_kk="Мәтін.",
            body_ru="Текст.",
            published_at=datetime(2022, 10, 1, 6, 0, tzinfo=UTC),
        )
        db.session.add(second)
        db.session.flush()
        assert queue_announcement(second) == 1
        db.session.commit()
        [message] = db.session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.dedupe_key.like(f"announcement:{second.id}:%")
            )
        ).all()
        assert message.to_email == "kk.reader@example.kz" and message.subject == "Жаңа хабарландыру"


def test_a_draft_announcement_is_not_mailed(app, demo):
    with app.test_request_context("/"):
        add_subscriber("reader@example.kz", "kk")
        draft = Announcement(campaign_id=demo, title_kk="x", title_ru="x", body_kk="x", body_ru="x")
        db.session.add(draft)
        db.session.flush()
        with pytest.raises(ValueError):
            queue_announcement(draft)
        db.session.rollback()


# --- rate limits ----------------------------------------------------------------------


def test_the_fourth_request_for_one_address_in_a_day_sends_nothing_but_answers_the_same(
    app, client, demo
):
    answers = [
        subscribe(client, address)
        for address in (
            "reader@example.kz",
            "reader@EXAMPLE.kz",
            " reader@example.KZ",
            "reader@example.kz",
        )
    ]
    assert all(answer.status_code == 200 for answer in answers)
    assert len({answer.data for answer in answers}) == 1
    mails = confirm_mails(app, "reader@example.kz")
    assert len(mails) == 3
    assert len({m.dedupe_key for m in mails}) == 3
    # another letter case in the local part does not buy more mails either
    assert subscribe(client, "READER@example.kz").status_code == 200
    assert confirm_mails(app, "READER@example.kz") == []


def test_the_eleventh_request_from_one_client_in_an_hour_gets_429(app, client, demo):
    for number in range(10):
        assert subscribe(client, f"reader{number}@example.kz", lang="ru").status_code == 200
    refused = subscribe(client, "reader10@example.kz", lang="ru")
    assert refused.status_code == 429
    assert '<html lang="ru">' in refused.get_data(as_text=True)
    assert translated("ru", "Too many requests") in text_of(refused)
    assert subscriber(app, "reader10@example.kz") is None

    elsewhere = {"REMOTE_ADDR": "203.0.113.7"}
    other = subscribe(client, "reader10@example.kz", lang="ru", environ_base=elsewhere)
    assert other.status_code == 200
    assert len(confirm_mails(app, "reader10@example.kz")) == 1
