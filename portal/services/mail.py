"""The outbox: every e-mail the portal sends is queued here, then sent over SMTP.

A message is queued in the caller's transaction (``enqueue``) and sent later by
``send_pending`` (``flask mail send``). Each message is claimed (``pending`` ->
``sending``) and committed before it reaches the SMTP server, so two runs at once
never send it twice. A permanent refusal (5xx) fails it; a temporary one (4xx, the
server unreachable) puts it back with an exponential backoff, up to ``MAX_ATTEMPTS``.
Neither ``last_error`` nor the log ever holds a message's body. Once a message is sent,
or failed for good, it keeps no secret: the tokens of the private links it carried (a
winner's page, a confirmation, an unsubscribe link) are masked in its stored text.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from portal.models import OutboxMessage, db, utcnow
from portal.services.redaction import redact_links

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=6)
SMTP_TIMEOUT = 30.0
MAX_ERROR_LENGTH = 1000

SENT, RETRY, FAILED = "sent", "retry", "failed"


@dataclass
class SendReport:
    """What one run did: how many sent, to retry and failed, and one line per message."""

    sent: int = 0
    retry: int = 0
    failed: int = 0
    picked: int = 0
    lines: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def handled(self) -> int:
        """How many messages this run sent, put back or failed."""
        return self.sent + self.retry + self.failed

    def add(self, message_id: int, outcome: str, error: str = "") -> None:
        """Count one message's outcome and keep its line."""
        setattr(self, outcome, getattr(self, outcome) + 1)
        self.lines.append((message_id, outcome, error))


class _Temporary(Exception):
    """A failure worth another attempt later: 4xx, timeout, lost connection."""


class _Permanent(Exception):
    """A failure no retry will fix: 5xx, a message that cannot be built."""


class _ServerDown(_Temporary):
    """The SMTP server could not be reached, or refused the session itself."""


def enqueue(
    kind: str,
    to_email: str,
    language: str,
    subject: str,
    body_text: str,
    dedupe_key: str,
    list_unsubscribe: str | None = None,
) -> OutboxMessage | None:
    """Queue a message in the current transaction; None when ``dedupe_key`` is already queued."""
    exists = db.session.scalar(
        sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key).limit(1)
    )
    if exists is not None:
        return None
    message = OutboxMessage(
        kind=kind,
        to_email=to_email,
        language=language,
        subject=subject,
        body_text=body_text,
        dedupe_key=dedupe_key,
        list_unsubscribe=list_unsubscribe,
        status=OutboxMessage.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    return message


@dataclass(frozen=True)
class Rendered:
    """An e-mail's subject and text, as a template of ``templates/mail/`` made them."""

    subject: str
    body: str


def render_message(template: str, lang: str, **data) -> Rendered:
    """The e-mail ``template`` makes of ``data`` in ``lang``: its text, and the subject it
    sets at its top (``{% set subject = ... %}``), on one line."""
    with force_locale(lang):
        context = dict(data)
        current_app.update_template_context(context)
        module = current_app.jinja_env.get_template(template).make_module(context)
        subject = " ".join(str(getattr(module, "subject", "")).split())
        return Rendered(subject, str(module))


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1 min, 2, 4, 8, … at most 6 h."""
    return min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def claim(message_id: int) -> bool:
    """Take a pending message for sending and commit; False when another run has it."""
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxMessage.PENDING)
        .values(status=OutboxMessage.SENDING)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def build_message(message: OutboxMessage, sender: str, sent_at: datetime) -> EmailMessage:
    """The RFC 5322 message for an outbox row, UTF-8 throughout."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_email
    email["Subject"] = message.subject
    email["Date"] = format_datetime(sent_at)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    email["Message-ID"] = make_msgid(idstring=f"outbox{message.id}", domain=domain)
    if message.list_unsubscribe:
        email["List-Unsubscribe"] = f"<{message.list_unsubscribe}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(message.body_text, charset="utf-8")
    email["Content-Language"] = message.language
    return email


def _describe(error: BaseException) -> str:
    """A short description of an error: the SMTP code and text, or the exception's class."""
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        code, text = next(iter(error.recipients.values()))
        description = f"{code} {_text(text)}"
    elif isinstance(error, smtplib.SMTPResponseException):
        description = f"{error.smtp_code} {_text(error.smtp_error)}"
    else:
        description = f"{type(error).__name__}: {error}"
    return description.strip()[:MAX_ERROR_LENGTH]


def _text(value: bytes | str) -> str:
    """An SMTP reply's text as str."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _reply_code(error: smtplib.SMTPException) -> int | None:
    """The SMTP reply code an exception carries, if any."""
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        return next(iter(error.recipients.values()))[0]
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code
    return None


class _Connection:
    """One SMTP session for a batch, opened on first use and reopened after a lost one."""

    def __init__(self, config) -> None:
        """Keep the settings; connect only when the first message is sent."""
        self.host = config["MAIL_SERVER"]
        self.port = int(config["MAIL_PORT"])
        self.use_tls = bool(config.get("MAIL_USE_TLS"))
        self.username = config.get("MAIL_USERNAME")
        self.password = config.get("MAIL_PASSWORD")
        self.timeout = float(config.get("MAIL_TIMEOUT") or SMTP_TIMEOUT)
        self.smtp: smtplib.SMTP | None = None
        self.down: str | None = None

    def open(self) -> smtplib.SMTP:
        """The open session, connecting first; raises _ServerDown when that fails."""
        if self.down is not None:
            raise _ServerDown(self.down)
        if self.smtp is not None:
            return self.smtp
        smtp = None
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
        except (OSError, smtplib.SMTPException) as error:
            if smtp is not None:
                smtp.close()
            self.down = _describe(error)
            log.warning(
                "mail server %s:%s unavailable: %s", self.host, self.port, type(error).__name__
            )
            raise _ServerDown(self.down) from error
        self.smtp = smtp
        return smtp

    def send(self, email: EmailMessage, to_email: str) -> None:
        """Hand one message over; raises _Temporary or _Permanent when it is not accepted."""
        smtp = self.open()
        try:
            smtp.send_message(email, to_addrs=[to_email])
        except smtplib.SMTPServerDisconnected as error:
            self.drop()
            raise _Temporary(_describe(error)) from error
        except smtplib.SMTPException as error:
            code = _reply_code(error)
            if code == 421:
                self.drop()
            if code is not None and 400 <= code < 500:
                raise _Temporary(_describe(error)) from error
            raise _Permanent(_describe(error)) from error
        except OSError as error:
            self.drop()
            raise _Temporary(_describe(error)) from error

    def drop(self) -> None:
        """Forget a session that broke; the next message opens a new one."""
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def close(self) -> None:
        """End the session politely, or at least close its socket."""
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            self.smtp.close()
            self.smtp = None


def send_pending(batch_size: int = 50, now: datetime | None = None) -> SendReport:
    """Send up to ``batch_size`` due messages, oldest first; commits as it goes."""
    clock: Callable[[], datetime] = (lambda: now) if now is not None else utcnow
    report = SendReport()
    due_ids = db.session.scalars(
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.status == OutboxMessage.PENDING,
            OutboxMessage.next_attempt_at <= clock(),
        )
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(batch_size)
    ).all()
    report.picked = len(due_ids)
    config = current_app.config
    connection = _Connection(config)
    try:
        for message_id in due_ids:
            if claim(message_id):
                _send_one(message_id, connection, config["MAIL_DEFAULT_SENDER"], clock, report)
    finally:
        connection.close()
    return report


def _send_one(
    message_id: int,
    connection: _Connection,
    sender: str,
    clock: Callable[[], datetime],
    report: SendReport,
) -> None:
    """Send one claimed message and record what happened to it (committed)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return
    kind = message.kind
    error = ""
    try:
        try:
            email = build_message(message, sender, clock())
        except (ValueError, TypeError) as exc:
            raise _Permanent(f"{type(exc).__name__}: cannot build the message") from exc
        to_email = message.to_email
        db.session.commit()
        connection.send(email, to_email)
    except _Temporary as exc:
        error = str(exc)
        message.attempts += 1
        message.last_error = error
        if message.attempts >= MAX_ATTEMPTS:
            message.status = OutboxMessage.FAILED
            outcome = FAILED
        else:
            message.status = OutboxMessage.PENDING
            message.next_attempt_at = clock() + backoff(message.attempts)
            outcome = RETRY
    except _Permanent as exc:
        error = str(exc)
        message.status = OutboxMessage.FAILED
        message.last_error = error
        outcome = FAILED
    else:
        message.status = OutboxMessage.SENT
        message.sent_at = clock()
        outcome = SENT
    if outcome != RETRY:  # never to be sent again: its links are no one's to read here
        message.body_text = redact_links(message.body_text)
        message.list_unsubscribe = redact_links(message.list_unsubscribe)
    db.session.commit()
    log.info("outbox message %s (%s): %s", message_id, kind, outcome)
    report.add(message_id, outcome, error)
