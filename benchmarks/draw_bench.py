"""Draw benchmark: a month of 1,000,000 eligible participants, from confirmation to stored record.

    .venv/bin/python benchmarks/draw_bench.py [--rows N] [--database-url URL]

Fills a fresh SQLite database, or the PostgreSQL database given (emptied first, see
``_common``), migrated as in production, with N eligible participants
for September 2022, builds the pool as the confirmation screen does, then times
the confirmation as the admin form does it (the pool shown taken back by its nonce,
kept by ``draws.show``, and checked against the digest shown, then `draws.conduct`, the randomness from the local
stand-in random.org, a real HTTP server) until the record is committed, and prints
the peak memory (RSS). The floor is
`sort` and `sha256sum` of the same pool file, the least any draw must do; the ratio
is the portal's time over the floor's.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import add_database_argument, analyze, database_url, make_app, migrated, peak_mb


def rss_mb() -> float:
    """This process's resident memory now (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Sampler(threading.Thread):
    """The resident memory every 20 ms, so that each step's own peak can be told."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.samples.append((time.perf_counter(), rss_mb()))

    def peak(self, start: float, end: float) -> float:
        return max((rss for t, rss in self.samples if start <= t <= end), default=0.0)


def reset_peak() -> float:
    """Start the peak RSS (VmHWM) afresh from the memory held now (Linux's clear_refs 5);
    returns that memory, in MB."""
    with contextlib.suppress(OSError):  # the peak then stays the process's
        Path("/proc/self/clear_refs").write_text("5")
    return rss_mb()


def fill(period, rows: int) -> None:
    """N participants, all eligible for the month, inserted directly (not what is measured)."""
    from portal.campaign import conditions, eligibility
    from portal.models import Activity, EligibilityRun, ImportBatch, Participant, db
    from portal.models.base import copy_rows

    batch = ImportBatch(period_id=period.id, filename="bench", sha256="0" * 64, status="done")
    db.session.add(batch)
    db.session.flush()
    copy_rows(
        Participant.__table__,
        (
            "id",
            "campaign_id",
            "account_number",
            "bin_iin",
            "legal_form",
            "company_name",
            "director_name",
            "email",
            "phone",
            "city",
        ),
        (
            (
                n,
                period.campaign_id,
                f"30{n * 7919 % 10**8:08d}",
                "000000000000",
                "IE",
                f"Company {n}",
                "",
                "",
                "",
                "",
            )
            for n in range(1, rows + 1)
        ),
    )
    copy_rows(
        Activity.__table__,
        (
            "period_id",
            "participant_id",
            "batch_id",
            "legal_form",
            "app_authorized_on",
            "ekassa_connected_on",
            "paid_months",
            "receipts_in_period",
            "eligible",
        ),
        (
            (period.id, n, batch.id, "IE", date(2022, 8, 1), date(2022, 9, 5), 1, 9, True)
            for n in range(1, rows + 1)
        ),
    )
    applied = conditions.of_campaign(period.campaign)
    db.session.add(
        EligibilityRun(
            period_id=period.id,
            participants=rows,
            eligible=rows,
            min_receipts=conditions.minimum_of(applied, "receipts_in_period"),
            min_paid_months=conditions.minimum_of(applied, "paid_months"),
            conditions=conditions.snapshot(applied),
        )
    )
    db.session.commit()
    assert eligibility.latest_run(period) is not None


def floor(pool_path: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        f"sort {pool_path} > {pool_path}.sorted && sha256sum {pool_path}.sorted > /dev/null",
        shell=True,
        check=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    add_database_argument(parser)
    args = parser.parse_args()

    from portal.campaign import draws
    from portal.campaign.periods import find_period
    from portal.demo.randomorg_standin import StandIn
    from portal.models import db
    from portal.services.randomorg import RandomOrgClient
    from portal.web.urls import SiteLinks

    with tempfile.TemporaryDirectory() as tmp, StandIn() as standin:
        workdir = Path(tmp)
        url = database_url(args.database_url, workdir)
        app = make_app(url, workdir)
        with app.app_context():
            campaign = migrated(app)
            period = find_period(campaign, "2022-09")
            started = time.perf_counter()
            fill(period, args.rows)
            analyze(db.engine, "participant", "activity")
            print(
                f"{db.engine.dialect.name}: filled {args.rows:,} eligible participants"
                f" in {time.perf_counter() - started:.1f} s"
            )
            base_rss = peak_mb()

            started = time.perf_counter()
            pool = draws.show(period, secret=app.config["SECRET_KEY"])
            prepare_s = time.perf_counter() - started
            prepare_rss = peak_mb()
            nonce, shown_sha256 = pool.nonce, pool.sha256
            # the commission's first step, before the confirmation (not measured)
            draws.announce(
                pool,
                actor_label="bench",
                now=datetime(2022, 10, 10, tzinfo=UTC) - timedelta(minutes=1),
            )
            del pool  # the screen's pool lived in another request
            gc.collect()
            # The confirmation is a request of its own: its peak is measured from here.
            before_rss = reset_peak()

            client = RandomOrgClient(standin.url, standin.api_key, standin.public_key_pem)
            members = [
                draws.Member(f"Member {n}", "комиссия мүшесі", "член комиссии") for n in range(1, 4)
            ]
            # Confirmation, as the admin form does it: the pool shown is taken back by its
            # nonce (built again if anything changed) and must match the digest shown, then
            # the draw is conducted.
            sampler = Sampler()
            sampler.start()
            started = time.perf_counter()
            pool = draws.prepare(period, secret=app.config["SECRET_KEY"], nonce=nonce)
            rebuilt_s = time.perf_counter() - started
            marks: list[tuple[str, float, float]] = [("taken back", started, rss_mb())]
            draw = draws.conduct(
                pool,
                progress=lambda step: marks.append((step, time.perf_counter(), rss_mb())),
                commission=members,
                place={"kk": "Алматы қ.", "ru": "г. Алматы"},
                actor_label="bench",
                late_reason={"kk": "бенчмарк", "ru": "бенчмарк"},
                expected_sha256=shown_sha256,
                client=client,
                links=SiteLinks(),
                now=datetime(2022, 10, 10, tzinfo=UTC),
            )
            confirm_s = time.perf_counter() - started
            sampler.done.set()
            sampler.join()
            ends = [t for _, t, _ in marks[1:]] + [started + confirm_s]
            phases = [
                (step, end - t, rss, sampler.peak(t, end))
                for (step, t, rss), end in zip(marks, ends, strict=True)
            ]
            confirm_rss = peak_mb()
            assert draw.pool_size == args.rows
            pool_path = workdir / "pool.csv"
            pool_path.write_bytes(pool.content)
            started = time.perf_counter()
            assert draws.verified(draws.verify(draw))
            verify_s = time.perf_counter() - started

        floor_s = floor(pool_path)
        print(f"pool shown (draws.show)       {prepare_s:6.1f} s  peak RSS {prepare_rss:5.0f} MB")
        print(
            f"confirmation -> stored record {confirm_s:6.1f} s  peak RSS {confirm_rss:5.0f} MB"
            f" (at its start: {before_rss:.0f} MB; after the fill: {base_rss:.0f} MB)"
        )
        print(f"  of which the pool taken back{rebuilt_s:6.1f} s")
        print(f"  of which draw and storage   {confirm_s - rebuilt_s:6.1f} s")
        for step, seconds, rss, peak in phases:
            print(
                f"    {step:<26} {seconds:6.1f} s  RSS {rss:5.0f} MB at its start, {peak:5.0f} MB at most"
            )
        print(f"verify (offline)              {verify_s:6.1f} s")
        print(f"floor: sort + sha256sum       {floor_s:6.1f} s")
        print(
            f"ratio: confirmation at {confirm_s / floor_s:.1f} x the floor,"
            f" draw and storage alone at {(confirm_s - rebuilt_s) / floor_s:.1f} x"
            " (aim: within 5 x, under 500 MB)"
        )


if __name__ == "__main__":
    if shutil.which("sort") is None or shutil.which("sha256sum") is None:
        sys.exit("needs sort and sha256sum")
    main()
