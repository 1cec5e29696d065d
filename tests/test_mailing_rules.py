"""The subscribers' mailing and the publishing steps as campaign functions: no request in sight,
the secret key and the site's addresses given as ``Links``."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from portal.campaign import news, rules, subscriptions
from portal.campaign.audit import Actor
from portal.models import (
    Announcement,
    AuditEntry,
    Campaign,
    OutboxMessage,
    RateLimitHit,
    RulesVersion,
    Subscriber,
    db,
)
from portal.services.mail import render_message

SECRET = "another-secret"
MOMENT = datetime(2022, 9, 1, 6, 0, tzinfo=UTC)
STAFF = Actor(label="staff")


def url(endpoint: str, **values) -> str:
    """A site's absolute addresses, as a caller might make them (no Flask needed)."""
    return f"https://promo.example/{endpoint}?{urlencode(sorted(values.items()))}"


class Site:
    """The site's addresses the e-mails need (``portal.campaign.links.Links``)."""

    def subscription_confirm(self, lang: str, token: str) -> str:
        return url("public.subscribe_confirm", lang=lang, token=token)

    def unsubscribe(self, lang: str, token: str) -> str:
        return url("public.unsubscribe", lang=lang, token=token)

    def announcement(self, campaign_slug: str, announcement_id: int, lang: str) -> str:
        return url(
            "public.news_item", lang=lang, slug=campaign_slug, announcement_id=announcement_id
        )


LINKS = subscriptions.MailLinks(secret=SECRET, site=Site())


def add(email: str, language: str = "kk", confirmed: bool = True, gone: bool = False) -> Subscriber:
    row = Subscriber(
        email=email,
        language=language,
        confirmed_at=MOMENT if confirmed else None,
        unsubscribed_at=MOMENT if gone else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def outbox(kind: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage).filter_by(kind=kind).order_by(OutboxMessage.to_email)
        )
    )


@pytest.fixture
def campaign(ctx, demo) -> Campaign:
    return db.session.get(Campaign, demo)


def draft_announcement(campaign: Campaign) -> Announcement:
    item = Announcement(
        campaign_id=campaign.id,
        kind=Announcement.KIND_NOTICE,
        title_kk="Хабарландыру\n  тақырыбы",
        title_ru="Заголовок",
        body_kk="Мәтін.",
        body_ru="Текст.",
    )
    db.session.add(item)
    db.session.flush()
    return item


# --- links and tokens --------------------------------------------------------------------


def test_links_carry_tokens_signed_with_the_given_secret(campaign):
    row = add("reader@example.kz", "ru")
    link = LINKS.unsubscribe(row)
    token = subscriptions.unsubscribe_token(row, SECRET)
    assert link == url("public.unsubscribe", lang="ru", token=token)
    assert LINKS.confirm(row) == url(
        "public.subscribe_confirm", lang="ru", token=subscriptions.confirm_token(row, SECRET)
    )
    item = draft_announcement(campaign)
    assert LINKS.announcement(item, "kk") == url(
        "public.news_item", lang="kk", slug=item.campaign.slug, announcement_id=item.id
    )
    with pytest.raises(subscriptions.InvalidLink):
        subscriptions.unsubscribe(subscriptions.unsubscribe_token(row, "the-site-key"), SECRET)


# --- subscribing -------------------------------------------------------------------------


def test_a_request_queues_a_confirmation_whose_token_confirms(campaign):
    assert subscriptions.request_subscription(
        "reader@example.kz", "ru", client="10.0.0.1", links=LINKS
    )
    [message] = outbox(subscriptions.KIND_CONFIRM)
    row = db.session.scalar(sa.select(Subscriber))
    assert (message.to_email, message.language) == ("reader@example.kz", "ru")
    assert message.subject and "\n" not in message.subject
    # the link mailed is the confirmation link (its token is signed with the second it was
    # made, so it is read from the message rather than made again here)
    prefix = LINKS.confirm(row).split("token=")[0] + "token="
    assert prefix in message.body_text
    token = message.body_text.split(prefix, 1)[1].split()[0]
    assert not row.receives_mail
    assert "reader" not in " ".join(db.session.scalars(sa.select(RateLimitHit.key)))

    assert subscriptions.confirm(token, SECRET, now=MOMENT) == subscriptions.CONFIRMED
    assert row.receives_mail and row.confirmed_at is not None
    assert subscriptions.confirm(token, SECRET) == subscriptions.CONFIRMED  # again: no change
    assert subscriptions.confirm(token, "another-key") == subscriptions.INVALID
    assert subscriptions.confirm("garbage", SECRET) == subscriptions.INVALID
    # a confirmed subscriber asking again gets nothing more, and the same answer
    assert subscriptions.request_subscription(
        "reader@example.kz", "kk", client="10.0.0.1", links=LINKS
    )
    assert len(outbox(subscriptions.KIND_CONFIRM)) == 1 and row.language == "ru"


def test_the_client_over_its_limit_is_refused_and_nothing_is_done(campaign):
    start = datetime(2022, 9, 1, 6, 0, tzinfo=UTC)
    for n in range(subscriptions.IP_LIMIT):
        assert subscriptions.request_subscription(
            f"r{n}@example.kz", "kk", client="10.0.0.9", links=LINKS, now=start
        )
    assert not subscriptions.request_subscription(
        "late@example.kz", "kk", client="10.0.0.9", links=LINKS, now=start
    )
    assert db.session.scalar(sa.select(Subscriber).filter_by(email="late@example.kz")) is None
    # past the hour the client may ask again
    assert subscriptions.request_subscription(
        "late@example.kz",
        "kk",
        client="10.0.0.9",
        links=LINKS,
        now=start + timedelta(hours=1, seconds=1),
    )


def test_an_expired_confirmation_is_told_apart(campaign, monkeypatch):
    row = add("late@example.kz", confirmed=False)
    db.session.commit()
    token = subscriptions.confirm_token(row, SECRET)
    later = datetime.now(UTC) + subscriptions.CONFIRM_MAX_AGE + timedelta(hours=1)
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later.timestamp())
    assert subscriptions.confirm(token, SECRET) == subscriptions.EXPIRED
    row.confirmed_at = MOMENT
    db.session.commit()
    assert subscriptions.confirm(token, SECRET) == subscriptions.CONFIRMED


def test_unsubscribing_is_at_once_and_once(campaign):
    row = add("reader@example.kz")
    token = subscriptions.unsubscribe_token(row, SECRET)
    when = datetime(2022, 10, 1, tzinfo=UTC)
    assert subscriptions.unsubscribe(token, SECRET, now=when) is row
    assert not row.receives_mail
    first = row.unsubscribed_at
    assert subscriptions.unsubscribe(token, SECRET) is row and row.unsubscribed_at == first
    gone = subscriptions._unsubscribe_serializer(SECRET).dumps(row.id + 1000)
    assert subscriptions.unsubscribe(gone, SECRET) is None


# --- the mailing -------------------------------------------------------------------------


def test_an_announcement_goes_once_to_whoever_receives_mail_in_its_language(campaign):
    kk, ru = add("kk@example.kz", "kk"), add("ru@example.kz", "ru")
    add("pending@example.kz", confirmed=False)
    add("gone@example.kz", gone=True)
    item = draft_announcement(campaign)
    with pytest.raises(ValueError):
        subscriptions.queue_announcement(item, LINKS)
    item.published_at = MOMENT
    assert subscriptions.queue_announcement(item, LINKS) == 2
    assert subscriptions.queue_announcement(item, LINKS) == 0
    mails = outbox(subscriptions.KIND_ANNOUNCEMENT)
    assert [(m.to_email, m.language, m.subject) for m in mails] == [
        ("kk@example.kz", "kk", "Хабарландыру тақырыбы"),
        ("ru@example.kz", "ru", "Заголовок"),
    ]
    for message, row in zip(mails, (kk, ru), strict=True):
        assert message.dedupe_key == f"announcement:{item.id}:{row.id}"
        assert message.list_unsubscribe == LINKS.unsubscribe(row)
        assert message.list_unsubscribe in message.body_text
        assert LINKS.announcement(item, row.language) in message.body_text
        assert item.tr("body", row.language) in message.body_text


def test_a_message_is_rendered_in_the_language_asked(app):
    with app.app_context():
        kk = render_message("mail/subscribe_confirm.txt", "kk", confirm_url="X", valid_days=7)
        ru = render_message("mail/subscribe_confirm.txt", "ru", confirm_url="X", valid_days=7)
    assert kk.subject != ru.subject and kk.body != ru.body
    assert "\nX\n" in kk.body and not kk.body.startswith("\n") and not kk.body.endswith("\n")


# --- publishing --------------------------------------------------------------------------


def trail() -> list[tuple[str, dict]]:
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))
    return [(e.action, json.loads(e.details)) for e in entries]


def test_publishing_an_announcement_mails_it_and_records_it(campaign):
    add("kk@example.kz")
    item = draft_announcement(campaign)
    when = datetime(2022, 9, 5, 6, 0, tzinfo=UTC)
    assert news.publish(item, actor=STAFF, links=LINKS, now=when) == 1
    assert item.published_at == when
    assert trail() == [("announcement.publish", {"kind": "notice", "mails_queued": 1})]
    with pytest.raises(ValueError):
        news.publish(item, actor=STAFF, links=LINKS, now=when)


def test_publishing_a_rules_version_announces_and_mails_it(campaign):
    add("ru@example.kz", "ru")
    draft = rules.start_draft(campaign, date(2022, 9, 10))
    draft.summary_kk, draft.summary_ru = "Өзгерді.", "Изменено."
    draft.effective_on = date(2022, 9, 20)
    when = datetime(2022, 9, 10, 6, 0, tzinfo=UTC)
    titles = {"kk": "Ережелер өзгерді", "ru": "Правила изменились"}
    queued = rules.publish_and_announce(
        draft, titles, actor=STAFF, links=LINKS, now=when, today=date(2022, 9, 10)
    )
    assert queued == 1 and draft.published and draft.published_at == when
    item = db.session.scalar(sa.select(Announcement).filter_by(kind="rules_change"))
    assert (item.rules_version_id, item.title_ru, item.body_ru, item.published_at) == (
        draft.id,
        "Правила изменились",
        "Изменено.",
        when,
    )
    [message] = outbox(subscriptions.KIND_ANNOUNCEMENT)
    assert message.subject == "Правила изменились"
    assert trail() == [
        ("rules.publish", {"number": draft.number, "effective_on": "2022-09-20"}),
        ("announcement.publish", {"kind": "rules_change", "mails_queued": 1}),
    ]


def test_a_version_that_may_not_be_published_announces_nothing(campaign):
    draft = rules.start_draft(campaign, date(2022, 9, 10))
    draft.summary_kk = draft.summary_ru = ""
    with pytest.raises(rules.RulesChangeRefused):
        rules.publish_and_announce(
            draft,
            {"kk": "t", "ru": "t"},
            actor=STAFF,
            links=LINKS,
            now=MOMENT,
            today=date(2022, 9, 10),
        )
    assert db.session.scalar(sa.select(Announcement).filter_by(kind="rules_change")) is None
    assert not db.session.scalar(sa.select(RulesVersion).filter_by(number=draft.number)).published
    assert trail() == []
