"""E-mail subscriptions to announcements: double opt-in, one-click unsubscribe, the mailing.

Nothing here is a staff action, so nothing is audited, and no e-mail address is ever
logged. Every answer to the subscription form is the same page, whatever the address
(new, known, confirmed, over its limit), so the form tells nobody who subscribed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import abort, current_app, g, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from portal.extensions import csrf
from portal.models import Announcement, OutboxMessage, Subscriber, db, utcnow
from portal.public import bp
from portal.public.forms import SubscribeForm, normalize_email
from portal.services import ratelimit
from portal.services.mail import enqueue
from portal.web.urls import absolute_url

log = logging.getLogger(__name__)

CONFIRM_SALT = "subscribe-confirm"
UNSUBSCRIBE_SALT = "unsubscribe"
CONFIRM_MAX_AGE = timedelta(days=7)

IP_BUCKET, IP_LIMIT, IP_WINDOW = "subscribe-ip", 10, timedelta(hours=1)
EMAIL_BUCKET, EMAIL_LIMIT, EMAIL_WINDOW = "subscribe-email", 3, timedelta(days=1)

KIND_CONFIRM = "subscribe_confirm"
KIND_ANNOUNCEMENT = "announcement"


# --- tokens and links -----------------------------------------------------------------


def _confirm_serializer() -> URLSafeTimedSerializer:
    """Signs confirmation tokens; they carry their time and expire."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CONFIRM_SALT)


def _unsubscribe_serializer() -> URLSafeSerializer:
    """Signs unsubscribe tokens; they never expire, so an old e-mail's link still works."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def confirm_token(subscriber: Subscriber) -> str:
    """The token of the link that confirms ``subscriber``, valid for seven days."""
    return _confirm_serializer().dumps(subscriber.id)


def unsubscribe_token(subscriber: Subscriber) -> str:
    """The token of ``subscriber``'s unsubscribe link."""
    return _unsubscribe_serializer().dumps(subscriber.id)


def confirm_url(subscriber: Subscriber) -> str:
    """The absolute confirmation link, in the subscriber's language."""
    return absolute_url(
        "public.subscribe_confirm", lang=subscriber.language, token=confirm_token(subscriber)
    )


def unsubscribe_url(subscriber: Subscriber) -> str:
    """The absolute one-click unsubscribe link, in the subscriber's language."""
    return absolute_url(
        "public.unsubscribe", lang=subscriber.language, token=unsubscribe_token(subscriber)
    )


def _subscriber_of(token: str, serializer, **options) -> Subscriber | None:
    """The subscriber a token names, or None when the id in it is unknown; raises BadSignature."""
    subscriber_id = serializer.loads(token, **options)
    if not _is_id(subscriber_id):
        raise BadSignature("the token does not hold a subscriber id")
    return db.session.get(Subscriber, subscriber_id)


def _is_id(value: object) -> bool:
    """Whether a token's payload is a subscriber id (an int, not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


# --- rate-limit keys ------------------------------------------------------------------


def _client_key() -> str:
    """The client's address, as the per-client rate limit counts it."""
    return request.remote_addr or "unknown"


def _email_key(address: str) -> str:
    """A keyed digest of the address, so that the rate-limit table holds no addresses.

    The whole address is folded to lower case: most servers ignore the case of the
    local part, and a different case must not buy another three mails a day.
    """
    secret = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(secret, address.lower().encode("utf-8"), hashlib.sha256).hexdigest()


# --- subscribing ----------------------------------------------------------------------


@bp.route("/subscribe", methods=["GET", "POST"])
def subscribe():
    """The subscription form; a valid request mails a confirmation link and gets the same answer."""
    form = SubscribeForm(language=g.lang)
    if not form.validate_on_submit():
        return render_template("public/subscribe.html", form=form)

    address = normalize_email(form.email.data)
    if not ratelimit.allow(IP_BUCKET, _client_key(), IP_LIMIT, IP_WINDOW):
        db.session.rollback()
        abort(429)
    try:
        if ratelimit.allow(EMAIL_BUCKET, _email_key(address), EMAIL_LIMIT, EMAIL_WINDOW):
            _request_subscription(address, form.language.data)
        db.session.commit()
    except IntegrityError:
        # Another request created the same subscriber a moment ago and mails it itself.
        db.session.rollback()
    return render_template("public/subscribe_done.html")


def _request_subscription(address: str, language: str) -> None:
    """Create or update the subscriber and queue a confirmation unless it already receives mail.

    A confirmed subscription is left as it is: changing it (even its language) takes
    proof that the address is one's own, which the form cannot give.
    """
    subscriber = db.session.scalar(sa.select(Subscriber).where(Subscriber.email == address))
    if subscriber is None:
        subscriber = Subscriber(email=address, language=language, created_at=utcnow())
        db.session.add(subscriber)
        db.session.flush()
    elif subscriber.receives_mail:
        return
    else:
        subscriber.language = language
    _queue_confirmation(subscriber)


def _queue_confirmation(subscriber: Subscriber) -> OutboxMessage | None:
    """Queue the confirmation e-mail in the subscriber's language (the caller commits)."""
    prefix = f"subscribe-confirm:{subscriber.id}:"
    earlier = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.dedupe_key.startswith(prefix, autoescape=True))
    )
    with force_locale(subscriber.language):
        subject = _("Confirm your subscription to Ismet.kz announcements")
        body = render_template(
            "mail/subscribe_confirm.txt",
            confirm_url=confirm_url(subscriber),
            valid_days=CONFIRM_MAX_AGE.days,
        )
    return enqueue(
        KIND_CONFIRM, subscriber.email, subscriber.language, subject, body, f"{prefix}{earlier}"
    )


@bp.get("/subscribe/confirm/<token>")
def subscribe_confirm(token: str):
    """Confirm a subscription from the e-mailed link; an expired or bad link gets a 400 page."""
    serializer = _confirm_serializer()
    try:
        subscriber = _subscriber_of(token, serializer, max_age=int(CONFIRM_MAX_AGE.total_seconds()))
    except SignatureExpired as expired:
        if _already_confirmed(serializer, expired):
            return render_template("public/subscribe_confirmed.html")
        return render_template("public/subscribe_invalid.html", reason="expired"), 400
    except BadSignature:
        subscriber = None
    if subscriber is None:
        return render_template("public/subscribe_invalid.html", reason="invalid"), 400
    if not subscriber.receives_mail:
        subscriber.confirmed_at = utcnow()
        subscriber.unsubscribed_at = None
        db.session.commit()
    return render_template("public/subscribe_confirmed.html")


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


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str):
    """Unsubscribe at once, by a click (GET) or a mail client's one-click POST (RFC 8058)."""
    try:
        subscriber = _subscriber_of(token, _unsubscribe_serializer())
    except BadSignature:
        return render_template("public/subscribe_invalid.html", reason="unsubscribe"), 400
    if subscriber is not None and subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = utcnow()
        db.session.commit()
    return render_template("public/unsubscribed.html", subscriber=subscriber)


# --- the mailing ----------------------------------------------------------------------


def queue_announcement(announcement: Announcement) -> int:
    """Queue a published announcement to every subscriber who receives mail; how many were queued.

    Each subscriber gets it once (``announcement:<id>:<subscriber>``), in its own
    language, with its unsubscribe link in the body and the List-Unsubscribe header.
    Links are absolute (``PUBLIC_BASE_URL``, else the request's host). The caller commits.
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
        sa.select(Subscriber)
        .where(Subscriber.confirmed_at.is_not(None), Subscriber.unsubscribed_at.is_(None))
        .order_by(Subscriber.id)
    ).all()
    queued = 0
    for subscriber in subscribers:
        dedupe_key = f"{prefix}{subscriber.id}"
        if dedupe_key in already:
            continue
        language = subscriber.language
        title = " ".join(announcement.tr("title", language).split())
        link = unsubscribe_url(subscriber)
        with force_locale(language):
            body = render_template(
                "mail/announcement.txt",
                title=title,
                body=announcement.tr("body", language).strip(),
                item_url=absolute_url(
                    "public.news_item", lang=language, announcement_id=announcement.id
                ),
                unsubscribe_url=link,
            )
        message = enqueue(
            KIND_ANNOUNCEMENT,
            subscriber.email,
            language,
            title,
            body,
            dedupe_key,
            list_unsubscribe=link,
        )
        if message is not None:
            queued += 1
    log.info("announcement %s queued for %d subscribers", announcement.id, queued)
    return queued
