"""E-mail subscriptions to announcements: double opt-in, one-click unsubscribe, the mailing.

Nothing here is a staff action, so nothing is audited, and no e-mail address is ever
logged. Every request to subscribe comes to the same answer, whatever the address
(new, known, confirmed, over its limit), so the form tells nobody who subscribed.

The links in the e-mails are signed with the site's secret key and made absolute by
the caller: both come in as ``Links``. The e-mails' text is their templates'
(``templates/mail/``), rendered by ``services.mail.render_message``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from portal.campaign.links import Links
from portal.models import Announcement, OutboxMessage, Subscriber, db, utcnow
from portal.services import ratelimit
from portal.services.mail import enqueue, render_message

log = logging.getLogger(__name__)

CONFIRM_SALT = "subscribe-confirm"
UNSUBSCRIBE_SALT = "unsubscribe"
CONFIRM_MAX_AGE = timedelta(days=7)

IP_BUCKET, IP_LIMIT, IP_WINDOW = "subscribe-ip", 10, timedelta(hours=1)
EMAIL_BUCKET, EMAIL_LIMIT, EMAIL_WINDOW = "subscribe-email", 3, timedelta(days=1)

KIND_CONFIRM = "subscribe_confirm"
KIND_ANNOUNCEMENT = "announcement"

CONFIRMED, EXPIRED, INVALID = "confirmed", "expired", "invalid"


class InvalidLink(Exception):
    """A link's token that this site did not sign, or that names no subscriber."""


# --- tokens and links -----------------------------------------------------------------


def _confirm_serializer(secret: str) -> URLSafeTimedSerializer:
    """Signs confirmation tokens; they carry their time and expire."""
    return URLSafeTimedSerializer(secret, salt=CONFIRM_SALT)


def _unsubscribe_serializer(secret: str) -> URLSafeSerializer:
    """Signs unsubscribe tokens; they never expire, so an old e-mail's link still works."""
    return URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT)


def confirm_token(subscriber: Subscriber, secret: str) -> str:
    """The token of the link that confirms ``subscriber``, valid for seven days."""
    return _confirm_serializer(secret).dumps(subscriber.id)


def unsubscribe_token(subscriber: Subscriber, secret: str) -> str:
    """The token of ``subscriber``'s unsubscribe link."""
    return _unsubscribe_serializer(secret).dumps(subscriber.id)


@dataclass(frozen=True)
class MailLinks:
    """What the e-mails' links are made of: the site's secret key, which signs their
    tokens, and the site's addresses (``portal.campaign.links.Links``)."""

    secret: str
    site: Links

    def confirm(self, subscriber: Subscriber) -> str:
        """The confirmation link, in the subscriber's language."""
        token = confirm_token(subscriber, self.secret)
        return self.site.subscription_confirm(subscriber.language, token)

    def unsubscribe(self, subscriber: Subscriber) -> str:
        """The one-click unsubscribe link, in the subscriber's language."""
        token = unsubscribe_token(subscriber, self.secret)
        return self.site.unsubscribe(subscriber.language, token)

    def announcement(self, announcement: Announcement, lang: str) -> str:
        """The announcement's page in ``lang``."""
        return self.site.announcement(announcement.campaign.slug, announcement.id, lang)


def _subscriber_of(token: str, serializer, **options) -> Subscriber | None:
    """The subscriber a token names, or None when the id in it is unknown; raises BadSignature."""
    subscriber_id = serializer.loads(token, **options)
    if not _is_id(subscriber_id):
        raise BadSignature("the token does not hold a subscriber id")
    return db.session.get(Subscriber, subscriber_id)


def _is_id(value: object) -> bool:
    """Whether a token's payload is a subscriber id (an int, not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _email_key(address: str, secret: str) -> str:
    """A keyed digest of the address, so that the rate-limit table holds no addresses.

    The whole address is folded to lower case: most servers ignore the case of the
    local part, and a different case must not buy another three mails a day.
    """
    key = secret.encode("utf-8")
    return hmac.new(key, address.lower().encode("utf-8"), hashlib.sha256).hexdigest()


# --- subscribing ----------------------------------------------------------------------


def request_subscription(
    address: str, language: str, *, client: str, links: MailLinks, now: datetime | None = None
) -> bool:
    """Ask for ``address`` to receive the announcements in ``language``, and commit.

    ``client`` is the asker's network address. False when it has asked too often
    (nothing is done); otherwise True, whether a confirmation was mailed or not (the
    address over its own limit, or receiving mail already).
    """
    now = now or utcnow()
    if not ratelimit.allow(IP_BUCKET, client, IP_LIMIT, IP_WINDOW, now):
        db.session.rollback()
        return False
    try:
        key = _email_key(address, links.secret)
        if ratelimit.allow(EMAIL_BUCKET, key, EMAIL_LIMIT, EMAIL_WINDOW, now):
            _subscribe(address, language, links, now)
        db.session.commit()
    except IntegrityError:
        # Another request created the same subscriber a moment ago and mails it itself.
        db.session.rollback()
    return True


def _subscribe(address: str, language: str, links: MailLinks, now: datetime) -> None:
    """Create or update the subscriber and queue a confirmation unless it already receives mail.

    A confirmed subscription is left as it is: changing it (even its language) takes
    proof that the address is one's own, which the form cannot give.
    """
    subscriber = db.session.scalar(sa.select(Subscriber).where(Subscriber.email == address))
    if subscriber is None:
        subscriber = Subscriber(email=address, language=language, created_at=now)
        db.session.add(subscriber)
        db.session.flush()
    elif subscriber.receives_mail:
        return
    else:
        subscriber.language = language
    queue_confirmation(subscriber, links)


def queue_confirmation(subscriber: Subscriber, links: MailLinks) -> OutboxMessage | None:
    """Queue the confirmation e-mail in the subscriber's language (the caller commits)."""
    prefix = f"subscribe-confirm:{subscriber.id}:"
    earlier = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.dedupe_key.startswith(prefix, autoescape=True))
    )
    message = render_message(
        "mail/subscribe_confirm.txt",
        subscriber.language,
        confirm_url=links.confirm(subscriber),
        valid_days=CONFIRM_MAX_AGE.days,
    )
    return enqueue(
        KIND_CONFIRM,
        subscriber.email,
        subscriber.language,
        message.subject,
        message.body,
        f"{prefix}{earlier}",
    )


def confirm(token: str, secret: str, now: datetime | None = None) -> str:
    """Confirm the subscription a link names, and commit: ``CONFIRMED`` (also when it was
    already), ``EXPIRED`` (older than seven days) or ``INVALID``."""
    serializer = _confirm_serializer(secret)
    try:
        subscriber = _subscriber_of(token, serializer, max_age=int(CONFIRM_MAX_AGE.total_seconds()))
    except SignatureExpired as expired:
        return CONFIRMED if _already_confirmed(serializer, expired) else EXPIRED
    except BadSignature:
        return INVALID
    if subscriber is None:
        return INVALID
    if not subscriber.receives_mail:
        subscriber.confirmed_at = now or utcnow()
        subscriber.unsubscribed_at = None
        db.session.commit()
    return CONFIRMED


def _already_confirmed(serializer: URLSafeTimedSerializer, expired: SignatureExpired) -> bool:
    """Whether an expired (but genuine) link names a subscriber who already receives mail."""
    try:
        subscriber_id = serializer.load_payload(expired.payload)
    except BadSignature:
        return False
    if not _is_id(subscriber_id):
        return False
    subscriber = db.session.get(Subscriber, subscriber_id)
    return subscriber is not None and subscriber.receives_mail


# --- unsubscribing --------------------------------------------------------------------


def unsubscribe(token: str, secret: str, now: datetime | None = None) -> Subscriber | None:
    """Unsubscribe whom a link names at once, and commit; a second time changes nothing.

    None for a genuine link of a subscriber since deleted; ``InvalidLink`` for a link
    this site did not sign.
    """
    try:
        subscriber = _subscriber_of(token, _unsubscribe_serializer(secret))
    except BadSignature:
        raise InvalidLink(token) from None
    if subscriber is not None and subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = now or utcnow()
        db.session.commit()
    return subscriber


# --- the mailing ----------------------------------------------------------------------


# Who receives the announcements: confirmed, and not unsubscribed since.
RECEIVING = (Subscriber.confirmed_at.is_not(None), Subscriber.unsubscribed_at.is_(None))


def audience(languages: tuple[str, ...] = ("kk", "ru")) -> dict[str, int]:
    """How many subscribers an announcement published now would be mailed to, by language
    (every one of ``languages`` present, 0 when none)."""
    counts = dict(
        db.session.execute(
            sa.select(Subscriber.language, sa.func.count())
            .where(*RECEIVING)
            .group_by(Subscriber.language)
        ).all()
    )
    return {lang: counts.get(lang, 0) for lang in languages} | counts


def queue_announcement(announcement: Announcement, links: MailLinks) -> int:
    """Queue a published announcement to every subscriber who receives mail; how many were queued.

    Each subscriber gets it once (``announcement:<id>:<subscriber>``), in its own
    language, with its unsubscribe link in the body and the List-Unsubscribe header.
    The caller commits.
    """
    if announcement.published_at is None:
        raise ValueError("only a published announcement can be mailed")
    if announcement.id is None:
        db.session.flush()
    prefix = f"announcement:{announcement.id}:"
    already = set(
        db.session.scalars(
            sa.select(OutboxMessage.dedupe_key).where(
                OutboxMessage.dedupe_key.startswith(prefix, autoescape=True)
            )
        )
    )
    subscribers = db.session.scalars(
        sa.select(Subscriber).where(*RECEIVING).order_by(Subscriber.id)
    ).all()
    queued = 0
    for subscriber in subscribers:
        dedupe_key = f"{prefix}{subscriber.id}"
        if dedupe_key in already:
            continue
        language = subscriber.language
        link = links.unsubscribe(subscriber)
        message = render_message(
            "mail/announcement.txt",
            language,
            title=" ".join(announcement.tr("title", language).split()),
            body=announcement.tr("body", language).strip(),
            item_url=links.announcement(announcement, language),
            unsubscribe_url=link,
        )
        queued += (
            enqueue(
                KIND_ANNOUNCEMENT,
                subscriber.email,
                language,
                message.subject,
                message.body,
                dedupe_key,
                list_unsubscribe=link,
            )
            is not None
        )
    log.info("announcement %s queued for %d subscribers", announcement.id, queued)
    return queued
