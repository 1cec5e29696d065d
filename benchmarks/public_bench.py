"""Public pages benchmark: the portal under gunicorn against a bare WSGI app serving the same bytes.

    .venv/bin/python benchmarks/public_bench.py [--duration 20] [--connections 50]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB]
        [--portal-root /path/to/another/checkout]

Fills a database (a fresh SQLite file by default; with ``--database-url``, that database,
emptied first) with the demo campaign as ``flask demo`` makes it: rules, news, months
drawn with their winners. Starts the portal with gunicorn.conf.py (``wsgi:app``) on a free
port, fetches each page's status, headers and bytes, then starts the floor, a bare WSGI
app (benchmarks/bare_app.py) that serves exactly those, under the same gunicorn.conf.py
and the same ``GUNICORN_*`` settings, and runs wrk against each page of both (page by
page: the portal, then at once the floor, both servers running, the idle one idle). Prints req/s, p50 and p99 of both and the
ratio (aim: at most 2x). Then ``/kk/rules/v1.pdf``: 20 requests, each timed, and
whether their bytes are the same.

``--portal-root``: serve the portal from another checkout (e.g. the main branch, for
the figures before a change); the database is filled by this one.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, add_database_argument, database_url, dialect, make_app, migrated

SECRET = "public-bench-secret"
# headers that are the server's or the request's own, not the page's
OWN_HEADERS = {"date", "server", "x-request-id", "connection", "transfer-encoding"}


def fill(url: str, workdir: Path) -> int:
    """The demo campaign with its draws and winners; the id of September 2022's draw."""
    from portal.demo import load_draws, load_participants
    from portal.models import Draw, db
    from portal.web.urls import SiteLinks

    app = make_app(url, workdir, SECRET_KEY=SECRET)
    with app.app_context():
        campaign = migrated(app)
        load_participants(campaign)
        load_draws(campaign, secret=SECRET, links=SiteLinks())
        draw_id = db.session.query(Draw.id).order_by(Draw.id).limit(1).scalar()
        db.session.commit()
        db.engine.dispose()
    return int(draw_id)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(root: Path, env: dict, app_spec: str | None, port: int) -> subprocess.Popen:
    """gunicorn with ``root``'s gunicorn.conf.py, on ``port``; waits until it answers."""
    command = [sys.executable, "-m", "gunicorn", "-c", str(root / "gunicorn.conf.py")]
    if app_spec:
        command += ["--pythonpath", str(Path(__file__).resolve().parent), app_spec]
    process = subprocess.Popen(
        command,
        cwd=root,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return process
        except urllib.error.HTTPError:
            return process  # it answers (the floor's 404)
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"gunicorn did not start on port {port}")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def fetch(port: int, path: str) -> tuple[str, list[tuple[str, str]], bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as error:
        response = error
    body = response.read()
    headers = [(k, v) for k, v in response.headers.items() if k.lower() not in OWN_HEADERS]
    return f"{response.status} {response.reason}", headers, body


LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(port: int, path: str, connections: int, duration: int, threads: int) -> dict:
    """wrk's req/s, p50 and p99 (ms), and the count of non-2xx answers and errors."""
    output = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            f"http://127.0.0.1:{port}{path}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {p: float(v) * UNITS[u] for p, v, u in LATENCY.findall(output)}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    return {
        "rps": rate,
        "p50": latency.get("50", float("nan")),
        "p99": latency.get("99", float("nan")),
        "non2xx": int(bad.group(1)) if bad else 0,
        "errors": errors.group(0) if errors else "",
    }


def pdf_requests(port: int, count: int) -> tuple[list[float], int]:
    """``count`` requests of the rules PDF: each one's time (ms), distinct bodies seen."""
    times, bodies = [], set()
    for _ in range(count):
        started = time.perf_counter()
        _, _, body = fetch(port, "/kk/ismet-2022/rules/v1.pdf")
        times.append((time.perf_counter() - started) * 1000)
        bodies.add(body)
    return times, len(bodies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_database_argument(parser)
    parser.add_argument("--duration", type=int, default=20, help="seconds of wrk per page")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--portal-root", default=str(ROOT), help="the checkout to serve")
    args = parser.parse_args()
    root = Path(args.portal_root).resolve()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = database_url(args.database_url, workdir)
        started = time.perf_counter()
        draw_id = fill(url, workdir)
        print(f"filled the demo campaign in {time.perf_counter() - started:.1f} s")
        paths = {
            "/kk/": "/kk/ismet-2022/",
            "/ru/rules": "/ru/ismet-2022/rules",
            "winners month": "/kk/ismet-2022/winners/2022-09",
            "draw record": f"/kk/draws/{draw_id}",
            "feed": "/kk/ismet-2022/news/feed.atom",
        }
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PORTAL_", "GUNICORN_"))
        }
        env.update(
            {
                "PORTAL_SQLALCHEMY_DATABASE_URI": url,
                "PORTAL_SECRET_KEY": SECRET,
                "PORTAL_INSTANCE_PATH": str(workdir),
            }
        )
        env.update({k: v for k, v in os.environ.items() if k.startswith("GUNICORN_")})
        port = free_port()
        portal = start_gunicorn(root, env, None, port)
        floor = None
        try:
            pages = {}
            for path in paths.values():
                status, headers, body = fetch(port, path)
                if not status.startswith("200"):
                    raise SystemExit(f"{path}: {status}")
                pages[path] = {
                    "status": status,
                    "headers": headers,
                    "body": base64.b64encode(body).decode(),
                }
            pdf_times, pdf_distinct = pdf_requests(port, 20)
            pages_file = workdir / "pages.json"
            pages_file.write_text(json.dumps(pages))
            floor_port = free_port()
            floor = start_gunicorn(
                root, {**env, "BARE_PAGES": str(pages_file)}, "bare_app:app", floor_port
            )
            results: dict[str, dict] = {}
            for name, path in paths.items():  # each page's two runs one after the other
                fetch(port, path)
                _, _, body = fetch(floor_port, path)
                assert base64.b64decode(pages[path]["body"]) == body, path
                results[name] = {
                    "portal": wrk(port, path, args.connections, args.duration, args.threads),
                    "floor": wrk(floor_port, path, args.connections, args.duration, args.threads),
                }
        finally:
            stop(portal)
            if floor is not None:
                stop(floor)

    workers = os.environ.get("GUNICORN_WORKERS") or "gunicorn.conf.py's default"
    threads = os.environ.get("GUNICORN_THREADS") or "gunicorn.conf.py's default"
    print(
        f"database: {dialect(url)}; portal from {root}; gunicorn workers: {workers},"
        f" threads: {threads}; wrk -t{args.threads} -c{args.connections} -d{args.duration}s"
    )
    print(
        f"{'page':<14} {'portal req/s':>12} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'floor req/s':>12} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7}"
    )
    for name, result in results.items():
        p, f = result["portal"], result["floor"]
        print(
            f"{name:<14} {p['rps']:12.0f} {p['p50']:8.2f} {p['p99']:8.2f}"
            f" {f['rps']:12.0f} {f['p50']:8.2f} {f['p99']:8.2f} {f['rps'] / p['rps']:6.2f}x"
        )
        for side in ("portal", "floor"):
            if result[side]["non2xx"] or result[side]["errors"]:
                print(f"  {side}: {result[side]['non2xx']} non-2xx; {result[side]['errors']}")
    print(
        f"/kk/rules/v1.pdf, 20 requests: first {pdf_times[0]:.1f} ms, median of the others "
        f"{statistics.median(pdf_times[1:]):.2f} ms, distinct bodies: {pdf_distinct}"
    )
    print("aim: every ratio at most 2x; the PDF the same bytes each time")


if __name__ == "__main__":
    main()
