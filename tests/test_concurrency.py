"""Issue 15, point 2: no request answers 500 while a draw waits on random.org.

The portal runs as in production: gunicorn (2 workers, threads) in a subprocess, on the
test database (a SQLite file, or PostgreSQL when PORTAL_TEST_DATABASE_URL is set). The
stand-in random.org answers the draw only after 10 s. While the draw waits, 20 clients,
each with its own ``requests.Session``, ask the public self-check, subscribe (the form
with its CSRF token), and work as signed-in staff (pages that write the audit trail, a
POST that verifies the chain and writes its entry); a second commission member confirms
the same month's draw at the same moment, two browsers confirm one subscription at once,
and a month is imported through the campaign's import functions in another thread.

Every answer must be a normal one (no 5xx, no dropped connection); the audit chain must
verify afterwards; the month has one draw, the import is done. Each client makes at most
``MAX_REQUESTS`` requests, and stops once the draw is answered: the load is bounded.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from portal.campaign import audit, eligibility, subscriptions
from portal.campaign.imports import finish_import, import_month, start_import
from portal.campaign.periods import find_period
from portal.demo.randomorg_standin import StandIn
from portal.models import Campaign, Draw, DrawAttempt, ImportBatch, Subscriber, db
from tests.helpers import (
    CHEAP_PASSWORD_HASH,
    COMMISSION,
    PASSWORD,
    SECRET_KEY,
    TODAY,
    csrf_from,
    csv_bytes,
    free_port,
    make_staff,
    row,
)

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 20
MAX_REQUESTS = 30  # per client
RANDOM_ORG_WAIT = 10.0  # seconds the stand-in takes to answer the draw
PARTICIPANTS = 60  # September's clients
IMPORTED = 3000  # the rows of October's import, made during the draw
COMMISSION_LINES = "\n".join(f"{m.name}, {m.position_kk} | {m.position_ru}" for m in COMMISSION)


def start_gunicorn(database_url: str, instance: Path, standin: StandIn, log: Path):
    """gunicorn serving ``wsgi:app`` on the test database with 2 workers of 8 threads each."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_SQLALCHEMY_DATABASE_URI": database_url,
        "PORTAL_SECRET_KEY": SECRET_KEY,
        "PORTAL_PASSWORD_HASH_METHOD": CHEAP_PASSWORD_HASH,
        "PORTAL_SESSION_COOKIE_SECURE": "false",
        "PORTAL_TRUSTED_PROXY_COUNT": "1",  # each client says its own address
        "PORTAL_PUBLIC_BASE_URL": base,
        "PORTAL_RANDOM_ORG_URL": standin.url,
        "PORTAL_DRAW_ANNOUNCEMENT_WAIT_MINUTES": "0",
        "PORTAL_RANDOM_ORG_API_KEY": standin.api_key,
        "PORTAL_RANDOM_ORG_PUBLIC_KEY": standin.public_key_pem,
        "PORTAL_RANDOM_ORG_TIMEOUT": "[5, 30]",
        "PORTAL_RANDOM_ORG_RETRIES": "0",
        "PORTAL_MAIL_SERVER": "127.0.0.1",
        "PORTAL_MAIL_PORT": "9",
    }
    handle = log.open("wb")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--workers=2",
            "--worker-class=gthread",
            "--threads=8",
            "--timeout=120",
            f"--bind=127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"{base}/ru/", timeout=2).status_code == 200:
                return process, handle, base
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop(process, handle) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
    handle.close()


class Tally:
    """Every answer by kind of request, and every failure to get one."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.errors: list[str] = []

    def add(self, kind: str, response: requests.Response) -> requests.Response:
        if response.history and "/admin/login" in response.url:
            kind += " (sent to sign in)"  # the staff's session was lost: a failure too
        with self.lock:
            self.statuses[kind][response.status_code] += 1
        return response

    def failed(self, kind: str, error: Exception) -> None:
        with self.lock:
            self.errors.append(f"{kind}: {type(error).__name__}: {error}")

    def server_errors(self) -> int:
        return sum(n for c in self.statuses.values() for s, n in c.items() if s >= 500)

    def total(self) -> int:
        return sum(sum(c.values()) for c in self.statuses.values())

    def summary(self) -> str:
        return "; ".join(
            f"{kind}: " + ", ".join(f"{s}x{n}" for s, n in sorted(c.items()))
            for kind, c in sorted(self.statuses.items())
        )


def address(client: int, n: int) -> dict[str, str]:
    """An X-Forwarded-For of its own for request ``n`` of ``client`` (the rate limits are per address)."""
    return {"X-Forwarded-For": f"10.{client}.{n // 250}.{n % 250 + 1}"}


def sign_in(session: requests.Session, base: str, email: str, client: int) -> None:
    page = session.get(f"{base}/admin/login", headers=address(client, 0), timeout=60)
    answer = session.post(
        f"{base}/admin/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_from(page.text)},
        headers=address(client, 0),
        timeout=60,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:500]


def draw_form(session: requests.Session, base: str, client: int) -> dict[str, str]:
    """The commission's form, shown the pool: what confirming the draw posts."""
    page = session.get(
        f"{base}/admin/ismet-2022/draws/new/2022-09", headers=address(client, 0), timeout=60
    )
    form = {
        "csrf_token": csrf_from(page.text),
        "commission": COMMISSION_LINES,
        "place_kk": "Алматы қ.",
        "place_ru": "г. Алматы",
        "late_reason_kk": "Сынақта кешіктіріліп өткізілді.",
        "late_reason_ru": "Проведен с опозданием в тесте.",
    }
    shown = session.post(
        f"{base}/admin/ismet-2022/draws/new/2022-09",
        data=form,
        headers=address(client, 0),
        timeout=60,
    )
    if 'name="announce"' in shown.text:  # the first step: the pool announced
        nonce = re.search(r'name="nonce" type="hidden" value="([0-9a-f]+)"', shown.text)[1]
        digest = re.search(r'id="pool-digest">([0-9a-f]{64})<', shown.text)[1]
        shown = session.post(
            f"{base}/admin/ismet-2022/draws/new/2022-09",
            data={**form, "nonce": nonce, "pool_sha256": digest, "announce": "1"},
            headers=address(client, 0),
            timeout=60,
        )
    digest = re.search(r'id="pool-digest">([0-9a-f]{64})<', shown.text).group(1)
    nonce = re.search(r'name="nonce" type="hidden" value="([0-9a-f]+)"', shown.text).group(1)
    return {**form, "nonce": nonce, "pool_sha256": digest, "confirm": "1"}


def prepare_data(app, campaign_id: int) -> dict:
    """September's clients and eligibility, the staff, an unconfirmed subscriber, October's file."""
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        september = find_period(campaign, "2022-09")
        rows = [row(n) for n in range(1, PARTICIPANTS + 1)]
        _, report = import_month(september, "sep.csv", csv_bytes(rows), today=TODAY)
        assert report.ok
        eligibility.compute(september)
        db.session.commit()
        make_staff("commission@ismet.kz", "commission")
        make_staff("commission-2@ismet.kz", "commission")
        staff = [f"staff-{n}@ismet.kz" for n in range(6)]
        for email in staff:
            make_staff(email, "admin")
        subscriber = Subscriber(email="twice@example.kz", language="ru")
        db.session.add(subscriber)
        db.session.commit()
        participant_ids = [
            pid
            for (pid,) in db.session.execute(
                sa.text("SELECT id FROM participant ORDER BY id LIMIT 10")
            )
        ]
        return {
            "checks": [(r["account_number"], r["bin_iin"]) for r in rows],
            "staff": staff,
            "participants": participant_ids,
            "confirm_token": subscriptions.confirm_token(subscriber, SECRET_KEY),
            "october": csv_bytes(
                [
                    row(
                        n,
                        ekassa_connected_on="2022-10-03",
                        app_authorized_on="2022-09-01",
                    )
                    for n in range(1000, 1000 + IMPORTED)
                ]
            ),
        }


def run_import(app, campaign_id: int, data: bytes, tally: Tally) -> None:
    """October's import, as its job runs it: recorded, then finished, in this thread."""
    try:
        with app.app_context():
            october = find_period(db.session.get(Campaign, campaign_id), "2022-10")
            batch = start_import(
                october, "oct.csv", data, actor=audit.Actor(label="load-test"), replace=False
            )
            db.session.commit()
            finish_import(batch.id, data, False, None, "127.0.0.1", date(2022, 11, 5))
            db.session.remove()
    except Exception as error:
        tally.failed("import", error)


def load(base: str, data: dict, tally: Tally, done: threading.Event, start: threading.Barrier):
    """The 20 clients; returns their threads, started."""

    def public_check(n: int, session: requests.Session) -> None:
        account, bin_iin = data["checks"][n % len(data["checks"])]
        page = tally.add("check", session.get(f"{base}/ru/ismet-2022/check", timeout=60))
        tally.add(
            "check",
            session.post(
                f"{base}/ru/ismet-2022/check",
                data={
                    "account_number": account,
                    "bin_iin": bin_iin,
                    "csrf_token": csrf_from(page.text),
                },
                headers=address(client_of(session), n),
                timeout=60,
            ),
        )

    def subscribe(n: int, session: requests.Session) -> None:
        page = tally.add("subscribe", session.get(f"{base}/ru/subscribe", timeout=60))
        tally.add(
            "subscribe",
            session.post(
                f"{base}/ru/subscribe",
                data={
                    "email": f"load-{client_of(session)}-{n}@example.kz",
                    "language": "ru",
                    "csrf_token": csrf_from(page.text),
                },
                headers=address(client_of(session), n),
                timeout=60,
            ),
        )

    def staff_work(n: int, session: requests.Session) -> None:
        # one address throughout: a session moving between addresses is ended (Flask-Login)
        participant = data["participants"][n % len(data["participants"])]
        headers = address(client_of(session), 0)
        tally.add(
            "staff-view",
            session.get(
                f"{base}/admin/ismet-2022/participants/{participant}", headers=headers, timeout=60
            ),
        )
        page = tally.add(
            "staff-audit", session.get(f"{base}/admin/audit", headers=headers, timeout=60)
        )
        tally.add(
            "staff-audit",
            session.post(
                f"{base}/admin/audit/verify",
                data={"csrf_token": csrf_from(page.text)},
                headers=headers,
                timeout=60,
            ),
        )
        tally.add(
            "staff-draws",
            session.get(f"{base}/admin/ismet-2022/draws", headers=headers, timeout=60),
        )

    sessions: dict[int, int] = {}

    def client_of(session: requests.Session) -> int:
        return sessions[id(session)]

    def client(number: int) -> None:
        session = requests.Session()
        sessions[id(session)] = number
        if number < 8:
            work = public_check
        elif number < 14:
            work = subscribe
        else:
            work = staff_work
            sign_in(session, base, data["staff"][number - 14], number)
        start.wait()
        session.close()  # no kept-alive connection the server may have closed while waiting
        made = 0
        deadline = time.monotonic() + 90
        while made < MAX_REQUESTS and time.monotonic() < deadline:
            try:
                work(made, session)
            except Exception as error:
                tally.failed(work.__name__, error)
            made += 1
            if done.is_set() and made >= 3:
                break
            time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    return threads


@pytest.fixture
def gunicorn_app(app, database_url, demo, tmp_path):
    with StandIn() as standin:
        process, handle, base = start_gunicorn(
            database_url, tmp_path / "served", standin, tmp_path / "gunicorn.log"
        )
        try:
            yield base, standin, tmp_path / "gunicorn.log"
        finally:
            stop(process, handle)


def test_twenty_clients_while_a_draw_waits_ten_seconds_for_random_org(app, demo, gunicorn_app):
    base, standin, log = gunicorn_app
    data = prepare_data(app, demo)
    tally = Tally()
    standin.fail_next("timeout", times=2, delay=RANDOM_ORG_WAIT)  # a slow but valid answer

    commission = requests.Session()
    sign_in(commission, base, "commission@ismet.kz", 200)
    confirm = draw_form(commission, base, 200)
    second = requests.Session()  # another member confirms the same draw at the same moment
    sign_in(second, base, "commission-2@ismet.kz", 201)
    confirm_second = draw_form(second, base, 201)

    done = threading.Event()
    start = threading.Barrier(CLIENTS + 4)
    answers: dict[str, requests.Response] = {}

    def draw(name: str, session: requests.Session, form: dict, delay: float) -> None:
        start.wait()
        time.sleep(delay)
        session.close()  # no kept-alive connection the server may have closed while waiting
        try:
            answers[name] = tally.add(
                "draw",
                session.post(
                    f"{base}/admin/ismet-2022/draws/new/2022-09",
                    data=form,
                    headers=address(200 if name == "first" else 201, 0),
                    allow_redirects=False,
                    timeout=90,
                ),
            )
        except Exception as error:
            tally.failed("draw", error)

    def confirmations() -> None:
        start.wait()
        time.sleep(2.0)  # while the draw waits
        token = data["confirm_token"]
        barrier = threading.Barrier(2)

        def click() -> None:
            session = requests.Session()
            barrier.wait()
            try:
                tally.add(
                    "confirm", session.get(f"{base}/ru/subscribe/confirm/{token}", timeout=60)
                )
            except Exception as error:
                tally.failed("confirm", error)

        both = [threading.Thread(target=click) for _ in range(2)]
        for thread in both:
            thread.start()
        for thread in both:
            thread.join()

    clients = load(base, data, tally, done, start)
    drawing = [
        threading.Thread(target=draw, args=("first", commission, confirm, 0.0)),
        threading.Thread(target=draw, args=("second", second, confirm_second, 1.0)),
    ]
    importing = threading.Thread(target=run_import, args=(app, demo, data["october"], tally))
    clicking = threading.Thread(target=confirmations)
    for thread in (*drawing, clicking):
        thread.start()
    began = time.monotonic()
    start.wait()
    importing.start()
    for thread in drawing:
        thread.join(120)
    done.set()
    waited = time.monotonic() - began
    for thread in (*clients, importing, clicking):
        thread.join(180)

    report = (
        f"{tally.total()} answers in {waited:.1f} s of draw, {tally.server_errors()} server errors,"
        f" {len(tally.errors)} failed requests. {tally.summary()}"
    )
    print(report)  # the numbers the README quotes (pytest -s)
    served_log = log.read_text(errors="replace")
    assert not tally.errors, f"{report}\n{tally.errors[:5]}\n{served_log[-3000:]}"
    assert tally.server_errors() == 0, f"{report}\n{served_log[-3000:]}"
    assert tally.total() >= CLIENTS * 3
    assert not [kind for kind in tally.statuses if "sign in" in kind], report

    # the draw is made once; the other member was told why not, in a page of its own
    outcomes = sorted(answers[name].status_code for name in ("first", "second"))
    assert outcomes[-1] == 302 and outcomes[0] in (200, 400), outcomes
    (refused,) = [a for a in answers.values() if a.status_code != 302]
    assert "уже идёт" in refused.text  # "... is under way", in the member's Russian
    with app.app_context():
        september = find_period(db.session.get(Campaign, demo), "2022-09")
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Draw).filter_by(period_id=september.id)
            )
            == 1
        )
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(DrawAttempt)
                .filter_by(period_id=september.id, state=DrawAttempt.PENDING)
            )
            == 0
        )
        batch = db.session.scalar(sa.select(ImportBatch).order_by(ImportBatch.id.desc()))
        assert batch.status == ImportBatch.DONE and batch.rows == IMPORTED
        assert db.session.scalar(
            sa.select(Subscriber.confirmed_at).filter_by(email="twice@example.kz")
        )
        chain = audit.verify_chain()
        assert chain.ok, chain
        assert chain.checked > CLIENTS


def test_sqlite_runs_in_wal_and_writes_begin_immediate(app):
    """Each SQLite connection: WAL, the busy timeout of SQLITE_BUSY_TIMEOUT, and a
    transaction that takes the write lock at its first write."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's settings")
        with db.engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
            assert raw.isolation_level == "IMMEDIATE"
