"""What every benchmark needs: the app on a database it may empty, memory, medians.

Each benchmark takes ``--database-url``: empty for a fresh SQLite file in a temporary
directory, or a PostgreSQL database (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/bench``)
whose public schema is dropped and made again first: give one you can spare.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def add_database_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL database to empty and use (default: a fresh SQLite file)",
    )


def peak_mb() -> float:
    """This process's peak RSS: Linux's VmHWM, which starts afresh with the program (the
    ru_maxrss of a process started by another keeps its parent's peak across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def database_url(given: str, workdir: Path) -> str:
    """The URL to use: a fresh SQLite file under workdir, or the one given, emptied."""
    if not given:
        return f"sqlite:///{workdir / 'portal.sqlite3'}"
    import sqlalchemy as sa

    engine = sa.create_engine(given)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql("DROP SCHEMA public CASCADE")
                connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()
    return given


def make_app(url: str, instance: Path, **config):
    """The portal's app on that database, its instance folder the given directory."""
    from portal import create_app

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", **config},
        instance_path=str(instance),
    )


def migrated(app):
    """The database brought to the newest migration, as in production; the campaign loaded.

    Returns the demo campaign (its rules, months and calendar), in the app's context.
    """
    import flask_migrate

    from portal.demo import load_campaign

    flask_migrate.upgrade()
    campaign, _ = load_campaign()
    return campaign


def analyze(engine, *tables: str) -> None:
    """What the database's maintenance does after a load (autovacuum on PostgreSQL)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "postgresql":
            for table in tables:
                connection.exec_driver_sql(f"VACUUM ANALYZE {table}")
        else:
            connection.exec_driver_sql("ANALYZE")


def median_ms(action, repeat: int) -> float:
    """The median of ``repeat`` calls, in ms, after one call that warms caches."""
    action()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def dialect(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"
