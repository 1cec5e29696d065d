"""The job queue as it runs: a real worker (``flask jobs worker``, a subprocess) on a SQLite
queue file, killed in the middle of an import and started again; the queue's storage;
the schedule of the periodic jobs; the browser's large uploads."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.jobs import deadlines as deadline_jobs
from portal.jobs import imports as import_jobs
from portal.jobs import mail as mail_jobs
from portal.jobs import photos as photo_jobs
from portal.jobs.schedule import daily_in_almaty
from portal.models import (
    Activity,
    AuditEntry,
    ImportBatch,
    ImportRow,
    OutboxMessage,
    Winner,
    WinnerEvent,
    db,
)
from portal.services import jobs, storage
from portal.services.mail import enqueue
from portal.wording.history import describe_details, winner_action_name
from tests.helpers import (
    PASSWORD,
    SECRET_KEY,
    csrf_from,
    csv_bytes,
    free_port,
    make_staff,
    png,
    row,
    sign_in_client,
)

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def big_file(rows: int) -> bytes:
    return csv_bytes([row(n) for n in range(1, rows + 1)])


class Worker:
    """``flask jobs worker`` in a process of its own, with the test's database, upload
    folder and queue file."""

    def __init__(self, database_url: str, instance: Path, queue_url: str, folder: Path):
        self.env = {
            **os.environ,
            "PORTAL_INSTANCE_PATH": str(instance),
            "PORTAL_SQLALCHEMY_DATABASE_URI": database_url,
            "PORTAL_JOBS_URL": queue_url,
            "PORTAL_UPLOAD_FOLDER": str(folder),
            "PORTAL_SECRET_KEY": SECRET_KEY,
        }
        self.log = instance / "worker.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [*FLASK, "jobs", "worker", "--workers", "2"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self, how: int = signal.SIGKILL) -> None:
        self.process.send_signal(how)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.kill(signal.SIGTERM)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@pytest.fixture
def queued(other_app, database_url, tmp_path, demo):
    """An app whose jobs go to a SQLite queue file, and a worker for it (not started)."""
    folder = tmp_path / "shared-uploads"
    queue_url = f"sqlite:///{tmp_path / 'queue' / 'jobs.sqlite3'}"
    app = other_app(JOBS_IMMEDIATE=False, JOBS_URL=queue_url, UPLOAD_FOLDER=str(folder))
    worker = Worker(database_url, tmp_path / "worker-instance", queue_url, folder)
    (tmp_path / "worker-instance").mkdir()
    yield app, worker
    worker.stop()


def signed_in(app):
    client = app.test_client()
    with app.app_context():
        make_staff("marketing@ismet.kz", "marketing")
    sign_in_client(client, "marketing@ismet.kz", PASSWORD)
    return client


def upload(client, content: bytes, name: str = "sep.csv"):
    """The import form sent as a browser sends it (the body encoded here, in memory: the
    test client would spool a large one to a file it leaves open)."""
    token = csrf_from(client.get("/admin/ismet-2022/participants/import").get_data(as_text=True))
    boundary, body = encode_multipart(
        {
            "period": "2022-09",
            "csrf_token": token,
            "file": FileStorage(io.BytesIO(content), name, content_type="text/csv"),
        }
    )
    return client.post(
        "/admin/ismet-2022/participants/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def batch_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def poll(app, batch_id: int, until, seconds: float, worker: Worker | None = None):
    """The batch once ``until(batch)`` holds; fails after ``seconds`` (a bound, not a speed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with app.app_context():
            batch = db.session.get(ImportBatch, batch_id)
            if until(batch):
                db.session.expunge(batch)
                return batch
        time.sleep(0.2)
    raise AssertionError(
        f"import {batch_id} not as expected within {seconds} s; "
        + (worker.output() if worker else "")
    )


def staged(app, batch_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(ImportRow).filter_by(batch_id=batch_id)
        )


def test_an_import_killed_with_its_worker_fails_visibly_within_a_minute_of_the_restart(queued):
    app, worker = queued
    client = signed_in(app)
    worker.start()
    batch_id = batch_of(upload(client, big_file(150_000)))
    with app.app_context():
        assert storage.current().exists(f"imports/{batch_id}.csv")
    # mid-import: rows staged and committed, the import not done
    poll(app, batch_id, lambda b: b.status == "running" and b.progress > 0, 120, worker)
    worker.kill(signal.SIGKILL)
    assert staged(app, batch_id) > 0
    with app.app_context():
        assert db.session.get(ImportBatch, batch_id).status == "running"

    worker.start()
    restarted = time.monotonic()
    batch = poll(app, batch_id, lambda b: b.status == "failed", 60, worker)
    assert time.monotonic() - restarted <= 60
    assert staged(app, batch_id) == 0
    with app.app_context():
        assert not storage.current().exists(f"imports/{batch_id}.csv")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)) == 0
        entry = db.session.scalar(
            sa.select(AuditEntry).filter_by(action="participants.import_interrupted")
        )
        assert entry is not None and entry.object_id == str(batch_id)
    assert '"interrupted"' in batch.problems
    # the page says why, in the staff member's language (Russian), and so does the trail
    page = client.get(f"/admin/ismet-2022/participants/imports/{batch_id}").get_data(as_text=True)
    assert 'data-status="failed"' in page
    assert "Прервано: обработчик заданий остановился до окончания импорта" in page
    client.post("/admin/language", data={"language": "kk", "csrf_token": csrf_from(page)})
    page = client.get(f"/admin/ismet-2022/participants/imports/{batch_id}").get_data(as_text=True)
    assert "Үзілді: импорт аяқталмай тұрып тапсырмаларды орындаушы процесс тоқтап қалды" in page

    # the restarted worker imports the next upload to its end
    again = batch_of(upload(client, big_file(30), name="again.csv"))
    done = poll(app, again, lambda b: b.status in ("done", "failed"), 60, worker)
    assert done.status == "done" and done.rows == 30
    with app.app_context():
        assert not storage.current().exists(f"imports/{again}.csv")


def test_a_worker_stopped_by_sigterm_fails_its_running_import_at_once(queued):
    app, worker = queued
    client = signed_in(app)
    worker.start()
    batch_id = batch_of(upload(client, big_file(150_000)))
    poll(app, batch_id, lambda b: b.status == "running" and b.progress > 0, 120, worker)
    worker.kill(signal.SIGTERM)  # huey's "interrupted" signal, before the process ends
    with app.app_context():
        batch = db.session.get(ImportBatch, batch_id)
        assert batch.status == "failed" and '"interrupted"' in batch.problems, worker.output()
    worker.start()  # what the dying import staged after it was failed is removed
    deadline = time.monotonic() + 60
    while staged(app, batch_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert staged(app, batch_id) == 0


def test_the_sweep_leaves_a_queued_import_and_a_live_one_alone(queued, monkeypatch):
    app, _ = queued
    client = signed_in(app)
    waiting = batch_of(upload(client, big_file(3)))  # no worker: it waits in the queue
    live = batch_of(upload(client, big_file(4), name="live.csv"))
    with app.app_context():
        assert jobs.pending_count() == 2
        later = time.time() + 3600  # an hour on: only the queue says it is not lost
        monkeypatch.setattr(import_jobs, "utcnow", lambda: datetime(2100, 1, 1, tzinfo=UTC))
        assert import_jobs.sweep(now=later) == []
        jobs.queue.flush()  # the queue lost them (a broker wiped)...
        jobs.queue.put(f"heartbeat:import:{live}", later - 29)  # ...but one beat 29 s ago
        # neither queued nor beating: perhaps just taken by a worker; lost if it stays so
        assert import_jobs.sweep(now=later) == []
        jobs.queue.put(f"heartbeat:import:{live}", later + 29)
        assert import_jobs.sweep(now=later + 29) == []
        assert import_jobs.sweep(now=later + 30) == [waiting]
        assert db.session.get(ImportBatch, waiting).status == "failed"
        assert db.session.get(ImportBatch, live).status == "pending"
        assert not storage.current().exists(f"imports/{waiting}.csv")
        assert storage.current().exists(f"imports/{live}.csv")
        assert import_jobs.sweep(now=later + 60) == [live]  # silent for 31 s: too long
        assert not storage.current().exists(f"imports/{live}.csv")


def test_the_sweep_removes_a_stored_file_whose_batch_was_never_recorded(queued):
    """The upload page stores the file, then commits its batch: a commit that failed
    leaves a file with no batch, which the sweep removes once it has stayed so."""
    app, _ = queued
    with app.app_context():
        files = storage.current()
        files.put("imports/999999.csv", b"bin_iin,account_number\n")
        files.put("imports/notes.txt", b"not an upload's name: left alone")
        now = time.time()
        import_jobs.sweep(now=now)
        assert files.exists("imports/999999.csv")  # perhaps its batch is being committed
        import_jobs.sweep(now=now + 29)
        assert files.exists("imports/999999.csv")
        import_jobs.sweep(now=now + 30)
        assert not files.exists("imports/999999.csv")
        assert files.exists("imports/notes.txt")


def test_the_queue_file_is_private_and_answers(tmp_path, other_app):
    url = f"sqlite:///{tmp_path / 'q' / 'jobs.sqlite3'}"
    app = other_app(JOBS_IMMEDIATE=False, JOBS_URL=url)
    with app.app_context():
        jobs.ping()
        assert jobs.pending_count() == 0
    mode = stat.S_IMODE((tmp_path / "q" / "jobs.sqlite3").stat().st_mode)
    assert mode == 0o600
    default = other_app(JOBS_IMMEDIATE=False)
    assert default.config["JOBS_URL"] == f"sqlite:///{Path(default.instance_path) / 'jobs.sqlite3'}"


def test_a_queue_that_does_not_answer_fails_the_ping(other_app):
    port = free_port()  # nothing listens there
    app = other_app(JOBS_IMMEDIATE=False, JOBS_URL=f"redis://127.0.0.1:{port}/1")
    with app.app_context(), pytest.raises(Exception, match=r"(?i)connect"):
        jobs.ping()


def test_redis_as_the_queue(other_app):
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", 6379)):
            pytest.skip("no Redis on 127.0.0.1:6379")
    app = other_app(JOBS_IMMEDIATE=False, JOBS_URL="redis://127.0.0.1:6379/1")
    with app.app_context():
        jobs.queue.flush()
        jobs.ping()
        import_jobs.sweep_now()
        assert jobs.pending_count() == 1
        jobs.queue.flush()


def test_deadline_notices_go_out_at_nine_in_almaty():
    due = daily_in_almaty(9)
    assert due(datetime(2026, 3, 2, 4, 0))  # 04:00 UTC is 09:00 in Almaty (UTC+5)
    assert not due(datetime(2026, 3, 2, 3, 0))
    assert not due(datetime(2026, 3, 2, 4, 1))


# --- the periodic jobs, run as the worker runs them (here at once: JOBS_IMMEDIATE) ------


def test_the_outbox_job_sends_what_is_due_on_the_worker_record(app, ctx, smtpd):
    enqueue("notice", "someone@example.kz", "ru", "Тема", "Текст", "test-1")
    db.session.commit()
    mail_jobs.send_every_minute()
    assert [r.rcpt_tos for r in smtpd.received] == [["someone@example.kz"]]
    db.session.expire_all()
    assert db.session.scalar(sa.select(OutboxMessage.status)) == OutboxMessage.SENT
    entry = db.session.scalar(sa.select(AuditEntry).filter_by(action="mail.run"))
    assert entry.actor == "jobs"


def test_the_staff_send_button_runs_the_outbox_job(app, client, auth, smtpd):
    with app.app_context():
        enqueue("notice", "someone@example.kz", "ru", "Тема", "Текст", "test-2")
        db.session.commit()
    auth.login("marketing")
    page = client.get("/admin/mail").get_data(as_text=True)
    sent = client.post("/admin/mail/send", data={"csrf_token": csrf_from(page)})
    assert sent.status_code == 302
    assert [r.rcpt_tos for r in smtpd.received] == [["someone@example.kz"]]
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).filter_by(action="mail.run"))
        assert entry.actor == "marketing@ismet.kz"


def test_the_daily_job_mails_the_deadline_notices_once(app, drawn, smtpd):
    db.session.commit()
    app.config["MARKETING_MANAGER_EMAIL"] = "manager@ismet.kz"
    deadline_jobs.notify_daily()  # the draw's winner is long overdue for verification
    received = len(smtpd.received)
    assert received >= 1
    assert all(r.rcpt_tos == ["manager@ismet.kz"] for r in smtpd.received)
    deadline_jobs.notify_daily()  # the next day: each item is mailed once
    assert len(smtpd.received) == received


def test_without_a_manager_the_daily_job_mails_nothing(app, drawn, smtpd):
    db.session.commit()
    deadline_jobs.notify_daily()
    assert smtpd.received == []


def test_jobs_status_counts_what_waits_and_fails_when_the_queue_does_not_answer(
    other_app, tmp_path
):
    app = other_app(JOBS_IMMEDIATE=False, JOBS_URL=f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    with app.app_context():
        import_jobs.sweep_now()
    result = app.test_cli_runner().invoke(args=["jobs", "status"])
    assert result.exit_code == 0 and "pending 1, scheduled 0" in result.output
    port = free_port()  # nothing listens there
    down = other_app(JOBS_IMMEDIATE=False, JOBS_URL=f"redis://127.0.0.1:{port}/1")
    result = down.test_cli_runner().invoke(args=["jobs", "status"])
    assert result.exit_code == 1 and "the job queue does not answer" in result.output


def test_a_photo_the_job_may_not_set_is_refused_in_the_winner_history(app, drawn):
    key = f"photos/incoming/{drawn.id}-test.png"
    storage.current().put(key, png())
    db.session.commit()
    photo_jobs.process_photo(drawn.id, key, None, "")  # the winner is not delivered yet
    db.session.expire_all()
    winner = db.session.get(Winner, drawn.id)
    assert winner.photo_path == ""
    event = db.session.scalar(sa.select(WinnerEvent).filter_by(action="photo_refused"))
    assert event is not None and json.loads(event.details_json) == {"cause": "step"}
    assert not storage.current().exists(key)
    with force_locale("ru"):
        assert (
            winner_action_name("photo_refused")
            == "Фото не опубликовано: обработчик заданий его отклонил"
        )
        assert describe_details({"cause": "step"}) == (
            "Причина: на текущем этапе победителя фото добавить уже нельзя"
        )


def test_a_long_import_whose_heartbeat_beats_is_not_swept(queued):
    app, worker = queued
    # a sweep 5 s after the start, and one each minute, while a heartbeat 4 s old is stale
    worker.env.update(PORTAL_JOBS_STALE_SECONDS="4", PORTAL_JOBS_HEARTBEAT_SECONDS="0.5")
    client = signed_in(app)
    batch_id = batch_of(upload(client, big_file(400_000)))
    worker.start()
    batch = poll(app, batch_id, lambda b: b.status in ("done", "failed"), 300, worker)
    assert batch.status == "done", (batch.problems, worker.output())
    # huey logs the job's time once it has returned (after the batch is committed done)
    deadline, executed = time.monotonic() + 30, None
    while executed is None:
        assert time.monotonic() < deadline, worker.output()
        log = worker.log.read_text()
        executed = re.search(r"run_import: \S+ executed in ([0-9.]+)s", log)
        time.sleep(0.1)
    took = float(executed.group(1))
    if took < 6:
        pytest.skip(f"the import took {took} s: no sweep ran while it did")
    assert re.search(r"sweep_now: \S+ @\S+ \S+ executed", log), log[-2000:]


def test_the_worker_serves_each_jobs_outcome_for_prometheus(queued):
    """With JOBS_METRICS_PORT, the worker counts what it ran (huey's signals) and serves
    it on loopback: an import that completed, by its job's name, never its arguments."""
    app, worker = queued
    port = free_port()
    worker.env["PORTAL_JOBS_METRICS_PORT"] = str(port)
    client = signed_in(app)
    worker.start()
    batch_id = batch_of(upload(client, big_file(20)))
    poll(app, batch_id, lambda b: b.status == "done", 60, worker)
    wanted = re.compile(
        r'^portal_jobs_total\{job="[^"]*import[^"]*",outcome="complete"\} 1\.0$', re.M
    )
    deadline, text = time.monotonic() + 30, ""
    while not wanted.search(text):  # the signal follows the job's end
        assert time.monotonic() < deadline, text or worker.output()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
                connection.sendall(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                text = b"".join(iter(lambda: connection.recv(65536), b"")).decode()
        except OSError:
            time.sleep(0.2)
    assert "portal_job_duration_seconds_count" in text
    labels = re.findall(r'job="([^"]*)"', text)
    assert labels and all(re.fullmatch(r"[A-Za-z_.]+", label) for label in labels)
    assert "sep.csv" not in text
