"""Import benchmark: a 1,000,000-row month through the portal's import, against a floor.

    .venv/bin/python benchmarks/import_bench.py [--rows N]

Generates a month file, imports it into a fresh SQLite database (migrated as in
production) with the same functions `flask participants import` calls, computes
eligibility, and prints rows per second and peak memory (RSS) per step. The floor is
the sqlite3 command line's `.import` of the same CSV into a bare table; the ratio is
the portal's rate over the floor's.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(path: Path, rows: int) -> None:
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
                    f"30{n:08d}",
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


def floor(csv_path: Path, workdir: Path) -> float:
    sqlite = shutil.which("sqlite3")
    if sqlite is None:
        return float("nan")
    db = workdir / "floor.sqlite3"
    script = (
        "CREATE TABLE t (account_number TEXT, bin_iin TEXT, legal_form TEXT, company_name TEXT, "
        "director_name TEXT, email TEXT, phone TEXT, city TEXT, app_authorized_on TEXT, "
        "ekassa_connected_on TEXT, paid_months INTEGER, receipts_in_period INTEGER);\n"
        f".mode csv\n.import --skip 1 {csv_path} t\n"
    )
    started = time.perf_counter()
    subprocess.run([sqlite, str(db)], input=script, text=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        csv_path = workdir / "month.csv"
        started = time.perf_counter()
        generate(csv_path, args.rows)
        print(
            f"generated {args.rows:,} rows ({csv_path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s"
        )
        base_rss = peak_mb()

        import flask_migrate

        from portal import create_app
        from portal.campaign import eligibility
        from portal.campaign.imports import import_month
        from portal.campaign.periods import find_period, local_today
        from portal.demo import load_campaign
        from portal.models import db

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'portal.sqlite3'}",
                "SECRET_KEY": "bench",
            },
            instance_path=str(workdir),
        )
        with app.app_context():
            flask_migrate.upgrade()
            campaign, _ = load_campaign()
            period = find_period(campaign, "2022-09")
            data = csv_path.read_bytes()

            started = time.perf_counter()
            _, report = import_month(period, csv_path.name, data, today=local_today())
            db.session.commit()
            import_s = time.perf_counter() - started
            assert report.ok, report.problems[:5]
            import_rss = peak_mb()

            started = time.perf_counter()
            run = eligibility.compute(period)
            db.session.commit()
            eligible = run.eligible
            eligibility_s = time.perf_counter() - started
            eligibility_rss = peak_mb()

        floor_s = floor(csv_path, workdir)
        rate = args.rows / import_s
        floor_rate = args.rows / floor_s
        print(
            f"import      {import_s:7.1f} s  {rate:>10,.0f} rows/s  peak RSS {import_rss:6.0f} MB (before: {base_rss:.0f} MB)"
        )
        print(
            f"eligibility {eligibility_s:7.1f} s  {args.rows / eligibility_s:>10,.0f} rows/s  peak RSS {eligibility_rss:6.0f} MB  ({eligible:,} eligible)"
        )
        print(f"floor: sqlite3 .import {floor_s:7.1f} s  {floor_rate:>10,.0f} rows/s")
        print(
            f"ratio: portal import at {rate / floor_rate:.0%} of the floor's rate (aim: 50 % or more)"
        )


if __name__ == "__main__":
    main()
