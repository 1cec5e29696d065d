"""The audit trail: every staff action, each entry chained to the one before by its hash."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import UTCDateTime, db, utcnow

GENESIS_HASH = "0" * 64


class AuditEntry(db.Model):
    """One action: when, who, from where, on what, with which details.

    ``entry_hash`` is the SHA-256 of the previous entry's hash and this entry's
    content; ``prev_hash`` is unique, so the chain cannot fork.
    """

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"), index=True)
    actor: Mapped[str] = mapped_column(sa.String(254), default="")
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(64), default="")
    object_id: Mapped[str] = mapped_column(sa.String(64), default="")
    details: Mapped[str] = mapped_column(sa.Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
