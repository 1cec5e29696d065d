"""The declarative base, the naming convention and shared column types."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

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


# Called with the session and the table's name by every ``insert_rows``, which no ORM
# event sees (portal/models/content.py listens).
bulk_insert_listeners: list[Callable[[Any, str], None]] = []


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
    for listener in bulk_insert_listeners:  # the public content's generation (content.py)
        listener(db.session(), table.name)
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
    if db.session.connection().dialect.name != "postgresql":
        return insert_rows(table, columns, rows, chunk, fixed)
    if not fixed:
        return copy_rows(table, columns, rows)
    prefix = tuple(int(number) for number in fixed.values())
    return copy_rows(table, (*fixed, *columns), (prefix + row for row in rows))


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


def copy_rows(table: sa.Table, columns: Sequence[str], rows: Iterable[tuple]) -> int:
    """Insert plain tuples in one stream, in the session's transaction; how many.

    PostgreSQL: one ``COPY ... FROM STDIN`` (psycopg 3's ``cursor.copy``), each row sent
    as it comes. Elsewhere (SQLite): one ``executemany`` of the driver's cursor over the
    rows as they come, without batches. Either way the rows are never all in memory; the
    values are Python's (int, str, bool, date, datetime, bytes, None), adapted by the
    driver. For the bulk paths (a draw's million entries, an import's staged rows),
    beside ``insert_rows``. The statement is made from the table's own column names,
    never from input. The rows must not use the session while they are read (an
    attribute loaded lazily would wait forever for the connection the COPY holds).
    """
    for listener in bulk_insert_listeners:  # the public content's generation (content.py)
        listener(db.session(), table.name)
    connection = db.session.connection()
    names = ", ".join(table.c[name].name for name in columns)  # KeyError for a column not there
    cursor = connection.connection.driver_connection.cursor()
    try:
        if connection.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
            return cursor.rowcount
        else:
            marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
            cache = cursor.execute("PRAGMA cache_size").fetchone()[0]
            # the table's indexes take rows out of their order: their pages kept in
            # memory (32 MB at most, for this insert) instead of read again and again
            cursor.execute(f"PRAGMA cache_size = {BULK_CACHE_KIB}")
            try:
                cursor.executemany(
                    f"INSERT INTO {table.name} ({names}) "  # noqa: S608
                    f"VALUES ({', '.join([marker] * len(columns))})",
                    rows,
                )
                return cursor.rowcount
            finally:
                cursor.execute(f"PRAGMA cache_size = {int(cache)}")
    finally:
        cursor.close()


BULK_CACHE_KIB = -32_768  # SQLite's page cache during ``copy_rows``: 32 MB (negative: KiB)


def read_bytes(column: sa.Column, *where: sa.ColumnElement[bool]) -> bytes | bytearray | None:
    """The bytes ``column`` holds in the one row ``where`` selects, or None (no row, NULL).

    Read whole, in one copy in memory (for a large value, a draw's pool file, not two or
    three): SQLite's blob read straight into the bytes (incremental blob I/O, not a copy
    of it assembled first); elsewhere the chunks of ``read_chunks`` written into one
    buffer of the value's size (the driver's whole result would be a second copy).
    """
    table = column.table
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        rowid = connection.execute(
            sa.select(sa.literal_column("rowid")).select_from(table).where(*where)
        ).scalar()
        if rowid is None:
            return None
        if connection.execute(sa.select(column.is_(None)).where(*where)).scalar():
            return None
        driver = connection.connection.driver_connection
        with driver.blobopen(table.name, column.name, rowid, readonly=True) as blob:
            return blob.read()
    length = connection.execute(sa.select(sa.func.length(column)).where(*where)).scalar()
    chunks = read_chunks(column, *where)
    if chunks is None:
        return None
    value = bytearray(length)
    at = 0
    for chunk in chunks:
        value[at : at + len(chunk)] = chunk
        at += len(chunk)
    return value


READ_CHUNK = 1 << 20  # bytes read at a time by ``read_chunks``


def read_chunks(
    column: sa.Column,
    *where: sa.ColumnElement[bool],
    size: int = READ_CHUNK,
    own_connection: bool = False,
) -> Iterator[bytes] | None:
    """The bytes ``column`` holds in the one row ``where`` selects, ``size`` bytes at a
    time, or None (no row, NULL): a large value (a draw's pool file) is hashed or counted
    without ever being whole in memory.

    PostgreSQL: one ``substring`` per chunk, which reads only that chunk's pages of a
    value stored without compression (``STORAGE EXTERNAL``, migration 0024: the pool
    files and kept pools). SQLite: incremental blob I/O. The value must not change
    while it is read (a draw's files never do). Read on the session's connection, or
    with ``own_connection`` on a connection of the chunks' own, taken from the engine
    when the first is asked for and given back when they end or are closed: for a
    response sent after its view returned, when no session or context is left.
    """
    table = column.table
    length = db.session.execute(sa.select(sa.func.length(column)).where(*where)).scalar()
    if length is None:
        return None
    rowid = None
    if db.session.connection().dialect.name == "sqlite":
        rowid = db.session.execute(
            sa.select(sa.literal_column("rowid")).select_from(table).where(*where)
        ).scalar()

    def read(connection: sa.Connection) -> Iterator[bytes]:
        if rowid is not None:
            driver = connection.connection.driver_connection
            with driver.blobopen(table.name, column.name, rowid, readonly=True) as blob:
                while chunk := blob.read(size):
                    yield chunk
            return
        for start in range(1, length + 1, size):
            query = sa.select(sa.func.substr(column, start, size)).where(*where)
            yield bytes(connection.execute(query).scalar())

    if own_connection:
        engine = db.engine

        def on_its_own() -> Iterator[bytes]:
            with engine.connect() as connection:
                yield from read(connection)

        return on_its_own()

    def on_the_session() -> Iterator[bytes]:
        yield from read(db.session.connection())

    return on_the_session()


def insert_with_bytes(table: sa.Table, values: dict, column: str) -> None:
    """Insert one row whose ``column`` holds a large bytes value, in the session's transaction.

    SQLite: the row is inserted with a zeroblob of the value's size, then the value is
    written into it by incremental blob I/O, page by page (bound as a parameter, it is
    copied whole by the driver and by SQLite; measured with a draw's 87 MB pool file,
    that left the process about 100 MB larger afterwards). Elsewhere: a plain insert
    (PostgreSQL's driver sends bytes in binary).
    """
    connection = db.session.connection()
    value = values[column]
    if connection.dialect.name != "sqlite":
        connection.execute(sa.insert(table), values)
        return
    others = {name: v for name, v in values.items() if name != column}
    result = connection.execute(
        sa.insert(table).values({column: sa.func.zeroblob(len(value))}), others
    )
    driver = connection.connection.driver_connection
    with driver.blobopen(table.name, table.c[column].name, result.lastrowid) as blob:
        blob.write(value)
