"""Draw record page benchmark: the public record of a draw over 1,000,000 entries, per view.

    .venv/bin/python benchmarks/draw_page_bench.py [--entries N] [--views N]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB]

Fills a database (a fresh SQLite file by default; with ``--database-url``, that database,
migrated, whose public schema is emptied first) with a month of N eligible
participants, makes its draw as the admin form does (randomness from the local stand-in
random.org, a real HTTP server), then, in a fresh process, times views of the public
record ``/kk/draws/<id>`` through the Flask test client: the first view, the median of
the others, and the memory the views added (peak RSS after them over before, the app
started by one small request). The floor
is the same draw's ``record.json``, served by the same app in the same process (its
median); the ratio is the page's median over the floor's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import database_url, make_app, peak_mb


def make_draw(app, entries: int) -> int:
    """The month filled and drawn as the commission's confirmation does; the draw's id."""
    import flask_migrate
    from draw_bench import fill

    from portal.campaign import draws
    from portal.campaign.periods import find_period
    from portal.demo import load_campaign
    from portal.demo.randomorg_standin import StandIn
    from portal.services.randomorg import RandomOrgClient
    from portal.web.urls import SiteLinks

    with app.app_context():
        flask_migrate.upgrade()
    with StandIn() as standin, app.app_context():
        campaign, _ = load_campaign()
        period = find_period(campaign, "2022-09")
        started = time.perf_counter()
        fill(period, entries)
        print(f"filled {entries:,} eligible participants in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        pool = draws.prepare(period, secret=app.config["SECRET_KEY"])
        # the commission's first step: the pool announced before the draw
        draws.announce(pool, actor_label="bench", now=datetime(2022, 10, 9, tzinfo=UTC))
        draw = draws.conduct(
            pool,
            commission=[
                draws.Member(f"Member {n}", "комиссия мүшесі", "член комиссии") for n in (1, 2, 3)
            ],
            place={"kk": "Алматы қ.", "ru": "г. Алматы"},
            actor_label="bench",
            late_reason={"kk": "бенчмарк", "ru": "бенчмарк"},
            client=RandomOrgClient(standin.url, standin.api_key, standin.public_key_pem),
            links=SiteLinks(),
            now=datetime(2022, 10, 10, tzinfo=UTC),
        )
        print(f"drew over {draw.pool_size:,} entries in {time.perf_counter() - started:.1f} s")
        return draw.id


def view(url: str, instance: Path, draw_id: int, views: int) -> dict:
    """In this (fresh) process: the record page's and record.json's times, the memory added."""
    app = make_app(url, instance)
    client = app.test_client()

    def timed(path: str) -> float:
        started = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (path, response.status_code)
        return elapsed

    # the app's first request (its connection, translations), timed by neither, and small:
    # the memory the record page adds is measured over it
    timed(f"/kk/draws/{draw_id}/signature.base64")
    before = peak_mb()
    first = timed(f"/kk/draws/{draw_id}")  # its template compiled too
    page = [timed(f"/kk/draws/{draw_id}") for _ in range(views)]
    added = peak_mb() - before
    floor = [timed(f"/kk/draws/{draw_id}/record.json") for _ in range(views)]
    return {
        "first": first,
        "page": statistics.median(page),
        "floor": statistics.median(floor),
        "added_mb": added,
        "rss_mb": before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--views", type=int, default=9)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--view-draw", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--instance", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.view_draw:  # the views' own process
        result = view(args.database_url, Path(args.instance), args.view_draw, args.views)
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = database_url(args.database_url, workdir)
        app = make_app(url, workdir)
        draw_id = make_draw(app, args.entries)
        with app.app_context():
            from portal.models import db

            db.engine.dispose()
        measured = subprocess.run(
            [
                sys.executable,
                __file__,
                "--view-draw",
                str(draw_id),
                "--views",
                str(args.views),
                "--database-url",
                url,
                "--instance",
                str(workdir),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(measured.stdout.strip().splitlines()[-1])
    database = url.split(":", 1)[0]
    print(f"database: {database}, pool of {args.entries:,} entries, {args.views} views each")
    print(f"record page, first view   {result['first'] * 1000:8.1f} ms")
    print(f"record page, median       {result['page'] * 1000:8.1f} ms")
    print(
        f"memory the views added    {result['added_mb']:8.0f} MB"
        f" (over a peak RSS of {result['rss_mb']:.0f} MB before them)"
    )
    print(f"floor: record.json median {result['floor'] * 1000:8.1f} ms")
    print(
        f"ratio: the page at {result['page'] / result['floor']:.1f} x its record.json"
        " (aim: under 20 ms a view, memory not growing with the pool)"
    )


if __name__ == "__main__":
    main()
