"""The declarative base, the naming convention and shared column types."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model: constraints get predictable names in migrations."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def tune_sqlite(engine: sa.Engine) -> None:
    """Make a SQLite engine fit for several threads and processes at once.

    Each new connection is put in WAL mode (readers never wait for the writer, nor the
    writer for readers), with ``synchronous=NORMAL`` (safe in WAL), and its transactions
    start with ``BEGIN IMMEDIATE`` at their first write (the sqlite3 module's legacy
    control: reads before the first write run on their own, as under READ COMMITTED). A
    writing transaction thus takes the write lock when it starts and waits for it up to
    the busy timeout (``SQLITE_BUSY_TIMEOUT``, the driver's ``timeout``), instead of
    failing at once with "database is locked" when another writer got there between its
    read and its write. Other databases are left as they are.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connected(dbapi_connection, connection_record) -> None:
        dbapi_connection.isolation_level = "IMMEDIATE"
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode = WAL")  # "memory" for :memory:, kept so
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (used as a callable column default)."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no offset, PostgreSQL does; with this type both hand the code an
    aware ``datetime`` in UTC, and a naive value is refused rather than guessed.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def insert_rows(
    table: sa.Table,
    columns: Sequence[str],
    rows: Iterable[tuple],
    chunk: int = 20_000,
    fixed: dict[str, int] | None = None,
) -> int:
    """Insert plain tuples fast, in the session's transaction: the DB-API's executemany.

    For the hot paths (a draw's pool of a million entries; ``load_rows`` on SQLite),
    where building ORM objects or dictionaries would cost more than the database's work. The
    statement is made from the table's own column names, never from input; ``fixed``
    gives columns the same number in every row (written into the statement, not into
    each row).
    """
    connection = db.session.connection()
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    fixed = fixed or {}
    names = [table.c[name].name for name in (*fixed, *columns)]  # KeyError for a column not there
    values = [str(int(number)) for number in fixed.values()] + [marker] * len(columns)
    statement = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "  # noqa: S608
        f"VALUES ({', '.join(values)})"
    )
    if isinstance(rows, list) and len(rows) <= chunk:  # one batch as it is
        if rows:
            connection.exec_driver_sql(statement, rows)
        return len(rows)
    done = 0
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            connection.exec_driver_sql(statement, batch)
            done += len(batch)
            batch = []
    if batch:
        connection.exec_driver_sql(statement, batch)
        done += len(batch)
    return done


def load_rows(
    table: sa.Table,
    columns: Sequence[str],
    rows: Iterable[tuple],
    chunk: int = 20_000,
    fixed: dict[str, int] | None = None,
) -> int:
    """Load plain tuples in bulk, in the session's transaction, by the database's own
    fastest way: one ``COPY ... FROM STDIN`` stream on PostgreSQL (psycopg's, a row
    written as it comes), ``insert_rows`` (executemany) elsewhere.

    Values are what ``insert_rows`` takes (text, numbers, None; a date as its ISO text),
    ``fixed`` too. The statement is made from the table's own column names, never from input.
    """
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return insert_rows(table, columns, rows, chunk, fixed)
    fixed = fixed or {}
    names = ", ".join(table.c[name].name for name in (*fixed, *columns))  # KeyError if not there
    prefix = tuple(int(number) for number in fixed.values())
    done = 0
    cursor = connection.connection.driver_connection.cursor()
    with cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        write = copy.write_row
        for row in rows:
            write(prefix + row if prefix else row)
            done += 1
    return done


def refresh_statistics(*tables: sa.Table) -> None:
    """Have the planner's statistics of ``tables`` brought up to date (``ANALYZE``), in
    the session's transaction: after a bulk load, before the statements that join what
    was loaded (PostgreSQL would otherwise plan them for the tables as they were). Not
    on SQLite, whose planner does without (and planned the import's joins worse with)."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        connection.exec_driver_sql(f"ANALYZE {table.name}")


# Memory for the sorts and hashes of one bulk statement on PostgreSQL (its default, 4 MB,
# has a join or a grouping of a million rows spill to temporary files in batches).
BULK_WORK_MEM = "128MB"


def room_for_bulk_statements() -> None:
    """Give the rest of the session's transaction room for set-based statements over a
    million rows (``SET LOCAL work_mem`` on PostgreSQL; SQLite has no such setting)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL work_mem = '{BULK_WORK_MEM}'")
