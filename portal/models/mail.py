"""Subscribers to announcements and the outbox every e-mail goes through."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import UTCDateTime, db, utcnow


class Subscriber(db.Model):
    """An address that asked for announcements; it receives them once confirmed."""

    __tablename__ = "subscriber"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    language: Mapped[str] = mapped_column(sa.String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def receives_mail(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class OutboxMessage(db.Model):
    """An e-mail waiting to be sent, or sent, with what happened to it.

    ``dedupe_key`` is unique: the same notice is never queued twice for a recipient.
    A message is claimed (``sending``) and committed before it is handed to the SMTP
    server, so a crash mid-send never leads to a second copy.
    """

    __tablename__ = "outbox_message"

    PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    to_email: Mapped[str] = mapped_column(sa.String(254))
    language: Mapped[str] = mapped_column(sa.String(2))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    list_unsubscribe: Mapped[str | None] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(10), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RateLimitHit(db.Model):
    """One counted request for a rate-limited action, by key (an address, an e-mail)."""

    __tablename__ = "rate_limit_hit"

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(sa.String(40))
    key: Mapped[str] = mapped_column(sa.String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.Index("ix_rate_limit_hit_bucket_key_at", "bucket", "key", "at"),)
