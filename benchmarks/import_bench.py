"""Import benchmark: a month of N rows (1,000,000 by default) imported as staff import it, against a floor.

    .venv/bin/python benchmarks/import_bench.py [--rows N] [--database-url URL] [--via command|job]

Generates a month file (CSV), then imports it into a database migrated as in production
(a fresh SQLite file, or the PostgreSQL database named by ``--database-url``, whose
public schema is emptied first: give it one you can spare) the way it is imported:
``flask participants import FILE --period 2022-09`` (the command itself, through
Flask's CLI runner: it reads the file from its path and computes the month's
eligibility), or with ``--via job`` the import job of an upload (``portal.jobs.imports``:
the file put in the storage, the batch recorded as the upload page records it, then the
job run in this process, reading the stored file). Prints the time, rows per second and
the peak memory of this process (VmHWM; generating the file takes little of it). The
floor is the least any import of the file does: the database's own bulk load of the same
CSV into a bare table of the same columns (``psql \\copy`` on PostgreSQL, the sqlite3
command line's ``.import`` on SQLite); the ratio is the import's time over the floor's
(aim: 5x or less). Run it with 1,000,000 and 3,000,000 rows to see that the peak memory
does not grow with the file.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import add_database_argument, database_url, dialect, make_app, migrated, peak_mb

AIM = 5.0
FLOOR_COLUMNS = (
    "account_number TEXT, bin_iin TEXT, legal_form TEXT, company_name TEXT,"
    " director_name TEXT, email TEXT, phone TEXT, city TEXT, app_authorized_on {date},"
    " ekassa_connected_on {date}, paid_months INTEGER, receipts_in_period INTEGER"
)


def generate(path: Path, rows: int) -> None:
    """A clean month file of ``rows`` clients, every check passed."""
    from portal.campaign.identity import with_control_digit
    from portal.campaign.imports import COLUMNS

    rng = random.Random(1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for n in range(1, rows + 1):
            number = None
            base = 10**10 + n * 37
            while number is None:
                number = with_control_digit(f"{base:011d}")
                base += 1
            writer.writerow(
                [
                    f"3{n:09d}",
                    number,
                    "IE" if n % 3 else "LLP",
                    f"Company {n}",
                    f"Director {n}",
                    f"client{n}@example.kz",
                    "+77010000000",
                    "Almaty",
                    "2022-08-01" if n % 10 else "",
                    "2022-09-05" if n % 7 else "2022-08-20",
                    rng.randint(0, 3),
                    rng.randint(0, 12),
                ]
            )


def children_cpu() -> float:
    """The CPU seconds of this process's ended children (the floor's sqlite3)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def floor(csv_path: Path, url: str, workdir: Path) -> tuple[str, float]:
    """The database's own bulk load of the file into a bare table: its name and seconds."""
    if dialect(url) == "postgresql":
        import sqlalchemy as sa

        psql = shutil.which("psql")
        if psql is None:
            return "psql \\copy (psql not found)", float("nan")
        plain = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(False)
        columns = FLOOR_COLUMNS.format(date="DATE")
        script = (
            f"DROP TABLE IF EXISTS import_floor; CREATE TABLE import_floor ({columns});\n"
            f"\\copy import_floor FROM '{csv_path}' WITH (FORMAT csv, HEADER true)\n"
        )
        setup, load = script.splitlines()
        subprocess.run([psql, "-q", "-X", plain, "-c", setup], check=True)
        started = time.perf_counter()
        subprocess.run([psql, "-q", "-X", plain, "-c", load], check=True)
        took = time.perf_counter() - started
        subprocess.run([psql, "-q", "-X", plain, "-c", "DROP TABLE import_floor"], check=True)
        return "psql \\copy", took
    sqlite = shutil.which("sqlite3")
    if sqlite is None:
        return "sqlite3 .import (sqlite3 not found)", float("nan")
    columns = FLOOR_COLUMNS.format(date="TEXT")
    script = f"CREATE TABLE t ({columns});\n.mode csv\n.import --skip 1 {csv_path} t\n"
    started, cpu = time.perf_counter(), children_cpu()
    subprocess.run([sqlite, str(workdir / "floor.sqlite3")], input=script, text=True, check=True)
    floor.cpu = children_cpu() - cpu
    return "sqlite3 .import", time.perf_counter() - started


def via_command(app, csv_path: Path) -> str:
    """``flask participants import`` of the file, as staff run it; its last line."""
    result = app.test_cli_runner().invoke(
        args=["participants", "import", str(csv_path), "--period", "2022-09"]
    )
    if result.exit_code != 0:
        raise SystemExit(f"the import failed: {result.stderr[-2000:]} {result.exception!r}")
    return result.stdout.strip().splitlines()[-1]


def via_job(app, csv_path: Path) -> str:
    """The upload's import: the file stored and its batch recorded (not timed: the upload
    page does it), then the job reading the stored file (timed by the caller)."""
    from portal.campaign import imports
    from portal.campaign.audit import Actor
    from portal.campaign.periods import current_campaign, find_period, local_today
    from portal.jobs import imports as import_jobs
    from portal.models import ImportBatch, db
    from portal.services import storage

    period = find_period(current_campaign(), "2022-09")
    with csv_path.open("rb") as handle:
        facts = imports.fingerprint(handle)
        batch = imports.start_import(
            period, csv_path.name, facts, actor=Actor(label="bench"), replace=False
        )
        db.session.commit()
        key = import_jobs.file_key(batch.id, csv_path.name)
        storage.current().put(key, handle)
    batch_id = batch.id
    started, cpu = time.perf_counter(), time.process_time()
    import_jobs.run_import.call_local(batch_id, key, False, None, "127.0.0.1", local_today())
    via_job.seconds, via_job.cpu = time.perf_counter() - started, time.process_time() - cpu
    db.session.expire_all()
    batch = db.session.get(ImportBatch, batch_id)
    if batch.status != ImportBatch.DONE:
        raise SystemExit(f"the import job ended {batch.status}: {batch.problems[:2000]}")
    return f"batch {batch_id} {batch.status}, {batch.rows:,} rows"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--via", choices=("command", "job"), default="command")
    add_database_argument(parser)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        csv_path = workdir / "month.csv"
        started = time.perf_counter()
        generate(csv_path, args.rows)
        size = csv_path.stat().st_size
        print(
            f"generated {args.rows:,} rows ({size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s"
        )
        url = database_url(args.database_url, workdir)
        app = make_app(url, workdir, IMPORT_MAX_ROWS=max(args.rows, 1_000_000))
        with app.app_context():
            migrated(app)
            from portal.models import db

            db.session.commit()
            before_mb = peak_mb()
            started, cpu = time.perf_counter(), time.process_time()
            if args.via == "command":
                said = via_command(app, csv_path)
                took, cpu = time.perf_counter() - started, time.process_time() - cpu
            else:
                said = via_job(app, csv_path)
                took, cpu = via_job.seconds, via_job.cpu
            peak = peak_mb()
            db.session.remove()
            db.engine.dispose()
        floor_name, floor_s = floor(csv_path, url, workdir)

    print(f"database: {dialect(url)}; the import by the {args.via}: {said}")
    print(
        f"import (with eligibility) {took:7.2f} s  {args.rows / took:>10,.0f} rows/s"
        f"  peak RSS {peak:5.0f} MB (before the import: {before_mb:.0f} MB)"
    )
    print(f"floor: {floor_name:18} {floor_s:7.2f} s  {args.rows / floor_s:>10,.0f} rows/s")
    ratio = took / floor_s
    verdict = "within" if ratio <= AIM else "NOT within"
    print(f"ratio: {ratio:.1f}x the floor's time ({verdict} the aim of {AIM:.0f}x)")
    if dialect(url) == "sqlite":  # all the work in this process and the floor's: less noisy
        print(
            f"CPU: import {cpu:.2f} s, floor {floor.cpu:.2f} s: {cpu / floor.cpu:.1f}x"
            " (SQLite works in the process that calls it: a shared machine's load moves"
            " the CPU seconds less than the wall-clock ones)"
        )


if __name__ == "__main__":
    main()
