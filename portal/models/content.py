"""The public content's generation: one number, bumped by every change a public page shows.

The public pages are served from a cache in each app server's memory (portal/web/pagecache.py);
that cache is right only while nothing it shows has changed. Every transaction that
writes a table the public pages read (a draw, a winner, the rules, an announcement, the
campaign and its months, the calendar, an import...) bumps ``content_state.generation``
in that same transaction, just before its commit, whoever makes it: a request of any
gunicorn worker, the job worker, a ``flask`` command. A cache that reads a new
generation drops what it holds. A transaction that rolls back bumps nothing.

The bump is made by session events (``register_events``), so no code path has to
remember it: an ORM flush that touches a public table, an ORM or core statement run
through the session (``session.execute(update(...))``, textual SQL that is not a
SELECT) and ``insert_rows`` (the bulk path) all count. Tables no public page reads
(staff accounts and sessions, the audit log, the mail outbox, subscribers, rate limits,
stored rules diffs, winners' private links) are ``PRIVATE_TABLES``: their many writes
(a staff member's every request touches a session) bump nothing.

The UPDATE of the one row comes last in its transaction (at ``before_commit``), so the
row's lock is held only for the commit itself and is always the last lock a writer
takes: no two writers can wait on each other through it.
"""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.models.base import UTCDateTime, bulk_insert_listeners, db, utcnow

STATE_ID = 1
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# where a session notes that its transaction changed public content, then that it
# bumped the generation (the commit under way is the outermost one)
CHANGED = "portal.public_content_changed"
BUMPED = "portal.public_content_bumped"

# Tables that no public page reads, whose writes leave the public pages as they are.
PRIVATE_TABLES = frozenset(
    {
        "content_state",
        "staff_user",
        "staff_session",
        "login_attempt",
        "audit_entry",
        "outbox_message",
        "subscriber",
        "rate_limit_hit",
        "rules_diff",  # kept on a public page's first view: the page itself shows the same
        "winner_link",
        "kept_pool",  # a pool shown to the commission, not yet drawn
        "signing_session",  # a winner's eGov QR session (its act and state: private)
        "import_row",  # an import's staged rows, for the import only
        "alembic_version",
    }
)


class ContentState(db.Model):
    """The one row: the generation of the public content and when it last changed."""

    __tablename__ = "content_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


_table = ContentState.__table__
_lock = threading.Lock()
# commits of public changes made in this process: a cache here looks at the database
# again at once when this moves, instead of at its next periodic look
_local_changes = itertools.count(1)
_local_seen = 0


def local_changes() -> int:
    """How many transactions of this process have changed public content (a counter)."""
    return _local_seen


def read_state(connection: sa.Connection) -> tuple[int, datetime]:
    """The generation and when it changed (0 and 2000-01-01 before the first change)."""
    row = connection.execute(
        sa.select(_table.c.generation, _table.c.changed_at).where(_table.c.id == STATE_ID)
    ).first()
    if row is None:
        return 0, EPOCH
    changed_at = row.changed_at
    if changed_at is not None and changed_at.tzinfo is None:  # SQLite keeps no offset
        changed_at = changed_at.replace(tzinfo=UTC)
    return int(row.generation), changed_at or EPOCH


def bump(connection: sa.Connection) -> None:
    """One more generation, in the connection's transaction."""
    now = utcnow()
    done = connection.execute(
        _table.update()
        .where(_table.c.id == STATE_ID)
        .values(generation=_table.c.generation + 1, changed_at=now)
    )
    if not done.rowcount:  # the row is made by the migration; a test may have emptied it
        connection.execute(_table.insert().values(id=STATE_ID, generation=1, changed_at=now))


def is_public(table_name: str | None) -> bool:
    return table_name is None or table_name not in PRIVATE_TABLES


def mark_changed(session: Session, table_name: str | None = None) -> None:
    """Note that ``session``'s transaction changes public content (``table_name``: the
    table written, None when unknown, which counts as public)."""
    if is_public(table_name):
        session.info[CHANGED] = True


def _flushed_tables(session: Session) -> bool:
    for instance in itertools.chain(session.new, session.dirty, session.deleted):
        table = getattr(type(instance), "__tablename__", None)
        if is_public(table):
            return True
    return False


def _before_flush(session: Session, flush_context, instances) -> None:
    if not session.info.get(CHANGED) and _flushed_tables(session):
        session.info[CHANGED] = True


def _statement_table(statement) -> str | None:
    table = getattr(statement, "table", None)
    return getattr(table, "name", None)


def _do_orm_execute(state) -> None:
    statement = state.statement
    if state.is_select:
        return
    if state.is_insert or state.is_update or state.is_delete:
        mark_changed(state.session, _statement_table(statement))
    elif isinstance(statement, sa.TextClause):
        words = statement.text.lstrip().split(None, 1)
        if not words or words[0].upper() not in ("SELECT", "WITH", "PRAGMA", "SHOW", "EXPLAIN"):
            mark_changed(state.session)


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    if session.dirty or session.new or session.deleted:
        session.flush()  # the commit's own flush would otherwise come after the bump
    if session.info.pop(CHANGED, None):
        bump(session.connection())
        session.info[BUMPED] = True


def _after_commit(session: Session) -> None:
    global _local_seen
    if session.info.pop(BUMPED, None):  # a savepoint's release has bumped nothing
        with _lock:
            _local_seen = next(_local_changes)


def _after_rollback(session: Session) -> None:
    session.info.pop(CHANGED, None)
    session.info.pop(BUMPED, None)


_registered = False


def register_events() -> None:
    """Bump the generation with every committed change to public content (once per process)."""
    global _registered
    if _registered:
        return
    bulk_insert_listeners.append(mark_changed)
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "do_orm_execute", _do_orm_execute)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
    _registered = True
