"""The audit trail: append an entry for every staff action; check the chain is whole.

Each entry's hash covers the previous entry's hash and every field of its own, so
an entry edited, inserted or deleted behind the portal's back breaks the chain at
that point, and ``verify_chain`` names the first entry that no longer fits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from portal.models import AuditEntry, db, utcnow
from portal.models.audit import GENESIS_HASH

# Serialises appends on PostgreSQL; SQLite serialises writers by itself (a writing
# transaction starts with BEGIN IMMEDIATE: portal/models/base.py tune_sqlite).
CHAIN_LOCK_ID = 0x15_3E7_A0D1


@dataclass(frozen=True)
class Actor:
    """Who acts, for the audit trail and the histories: a staff account, or a label
    (``cli``, ``demo``, ``winner``, ``draw``), and the address the request came from."""

    user: Any = None
    label: str = ""
    ip: str = ""

    @property
    def name(self) -> str:
        return getattr(self.user, "email", "") or self.label


def as_actor(actor: Any = None, label: str | None = None) -> Actor:
    """``actor`` as an ``Actor``: kept when it is one, else a staff account (or None) with ``label``."""
    return actor if isinstance(actor, Actor) else Actor(actor, label or "")


def entry_digest(entry: AuditEntry) -> str:
    """The SHA-256 that chains ``entry`` to the one before it."""
    content = {
        "prev": entry.prev_hash,
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor": entry.actor,
        "ip": entry.ip,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "details": entry.details,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    action: str,
    obj: Any = None,
    details: dict[str, Any] | None = None,
    *,
    actor: Actor,
    object_type: str | None = None,
    object_id: Any = None,
) -> AuditEntry:
    """Append an entry to the trail in the current transaction (the caller commits)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": CHAIN_LOCK_ID})
    else:  # SQLite: take the database's write lock before reading the last entry
        db.session.execute(sa.update(AuditEntry).where(sa.false()).values(id=AuditEntry.id))
    db.session.flush()
    last = db.session.scalar(
        sa.select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
    )
    entry = AuditEntry(
        at=utcnow(),
        actor_id=getattr(actor.user, "id", None),
        actor=actor.name,
        ip=actor.ip,
        action=action,
        object_type=object_type or (type(obj).__name__ if obj is not None else ""),
        object_id=str(object_id if object_id is not None else getattr(obj, "id", "") or ""),
        details=json.dumps(details or {}, sort_keys=True, ensure_ascii=False, default=str),
        prev_hash=last or GENESIS_HASH,
    )
    entry.entry_hash = entry_digest(entry)
    db.session.add(entry)
    db.session.flush()
    return entry


@dataclass
class ChainReport:
    """The result of checking the chain: how many entries, and the first broken one."""

    checked: int
    broken_at: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(batch: int = 5000) -> ChainReport:
    """Walk the trail from the first entry and report the first link that does not hold."""
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        entries = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.id > last_id)
            .order_by(AuditEntry.id)
            .limit(batch)
        ).all()
        if not entries:
            return ChainReport(checked)
        for entry in entries:
            if entry.prev_hash != expected_prev:
                return ChainReport(
                    checked,
                    entry.id,
                    "does not follow the entry before it (one was removed or inserted)",
                )
            if entry_digest(entry) != entry.entry_hash:
                return ChainReport(
                    checked, entry.id, "its content does not match its hash (it was edited)"
                )
            expected_prev = entry.entry_hash
            checked += 1
            last_id = entry.id
        db.session.expunge_all()
