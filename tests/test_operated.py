"""Operated, not just run: JSON logs with request ids (and no token nor personal datum
after a whole journey), the metrics and who may read them, the health probes."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import re
import runpy
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.campaign import acts, winners
from portal.demo.randomorg_standin import StandIn
from portal.models import Draw, ImportBatch, OutboxMessage, db
from portal.services import storage
from portal.web import health, logs, metrics
from tests.helpers import (
    COMMISSION,
    PASSWORD,
    announce_in_admin,
    csrf_from,
    csv_bytes,
    free_port,
    make_staff,
    row,
    sign_in_client,
    smtp_server,
    submit_check,
    verified,
)

ROOT = Path(__file__).resolve().parents[1]
HEX_ID = re.compile(r"[0-9a-f]{32}")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
SUBSCRIBER = "Journey.Reader@example.kz"
LINK = re.compile(r"https?://[^/\s]+(/(?:kk|ru)/subscribe/confirm/[^\s]+)")


@pytest.fixture
def json_logs():
    """The root logger's JSON handler writes into a buffer while the test runs; after
    it, the handler is taken off and the root logger's level put back."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    # the test's own SMTP server (aiosmtpd) logs its dialogue: not the portal's log
    smtp_log = logging.getLogger("mail.log")
    smtp_log.propagate = False
    buffer = io.StringIO()
    captured = {}

    def capture(app):
        handler = logs.portal_json_handler()
        assert handler is not None, "LOG_FORMAT=json installs a JSON handler on the root logger"
        handler.setStream(buffer)
        captured["handler"] = handler
        return buffer

    yield capture
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    smtp_log.propagate = True


def records(buffer: io.StringIO) -> list[dict]:
    lines = [line for line in buffer.getvalue().splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line is one JSON object


def wait_for_import(app, batch_id: int) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with app.app_context():
            status = db.session.get(ImportBatch, batch_id).status
        if status in (ImportBatch.DONE, ImportBatch.FAILED):
            return status
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def test_a_whole_journey_logs_json_lines_with_request_ids_and_no_secret(other_app, demo, json_logs):
    app = other_app(LOG_FORMAT="json", TRUSTED_PROXY_COUNT=1, PROPAGATE_EXCEPTIONS=False)
    buffer = json_logs(app)

    @app.get("/kk/winner/<token>/fails")
    def fails(token):  # a failure deep in a request, as a database quoting a row would give
        raise RuntimeError(
            f"duplicate key for /kk/winner/{token}\n"
            f"DETAIL:  Key (email)=({SUBSCRIBER.lower()}) already exists."
        )

    client = app.test_client()
    seen: dict[str, str] = {}  # response's X-Request-ID -> path

    def keep(response, path):
        seen[response.headers["X-Request-ID"]] = path
        return response

    # public pages, a self-check, a subscription confirmed by its e-mail
    for path in (
        "/",
        "/kk/",
        "/ru/ismet-2022/winners",
        "/kk/ismet-2022/rules",
        "/healthz",
        "/readyz",
    ):
        assert keep(client.get(path), path).status_code in (200, 302)
    with smtp_server(app) as smtpd:
        page = client.get("/kk/subscribe")
        subscribed = client.post(
            "/kk/subscribe",
            data={
                "csrf_token": csrf_from(page.get_data(as_text=True)),
                "email": SUBSCRIBER,
                "language": "kk",
            },
        )
        assert subscribed.status_code == 200
        sent = app.test_cli_runner().invoke(args=["mail", "send"])
        assert sent.exit_code == 0, sent.output
        (message,) = smtpd.received
        body = message.message.get_body(("plain",)).get_content()
    confirm_path = LINK.search(body).group(1)
    confirm_token = confirm_path.rsplit("/", 1)[1]
    assert keep(client.get(confirm_path), confirm_path).status_code == 200

    # staff: sign-in, an import, a draw through the stand-in random.org
    with app.app_context():
        make_staff("admin@ismet.kz", "admin")
    assert sign_in_client(client, "admin@ismet.kz").status_code == 302
    rows = [row(n) for n in range(1, 13)]
    page = client.get("/admin/ismet-2022/participants/import")
    uploaded = client.post(
        "/admin/ismet-2022/participants/import",
        data={
            "period": "2022-09",
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "file": (io.BytesIO(csv_bytes(rows)), "sep.csv"),
        },
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    batch_id = int(uploaded.headers["Location"].rsplit("/", 1)[1])
    assert wait_for_import(app, batch_id) == ImportBatch.DONE
    checked = submit_check(client, "ru", rows[0]["account_number"], rows[0]["bin_iin"])
    assert checked.status_code == 200
    with StandIn() as standin:
        app.config.update(
            RANDOM_ORG_URL=standin.url,
            RANDOM_ORG_API_KEY=standin.api_key,
            RANDOM_ORG_PUBLIC_KEY=standin.public_key_pem,
        )
        form = {
            "csrf_token": csrf_from(
                client.get("/admin/ismet-2022/draws/new/2022-09").get_data(as_text=True)
            ),
            "commission": "\n".join(
                f"{m.name}, {m.position_kk} | {m.position_ru}" for m in COMMISSION
            ),
            "place_kk": "Алматы қ.",
            "place_ru": "г. Алматы",
            "late_reason_kk": "Сынақта кешіктіріліп өткізілді.",
            "late_reason_ru": "Проведен с опозданием в тесте.",
        }
        announce_in_admin(client, "2022-09", form)  # the commission's first step
        shown = client.post("/admin/ismet-2022/draws/new/2022-09", data=form).get_data(as_text=True)
        digest = re.search(r'id="pool-digest">([0-9a-f]{64})<', shown).group(1)
        nonce = re.search(r'name="nonce" type="hidden" value="([0-9a-f]+)"', shown).group(1)
        drawn = client.post(
            "/admin/ismet-2022/draws/new/2022-09",
            data={**form, "nonce": nonce, "pool_sha256": digest, "confirm": "1"},
        )
        assert drawn.status_code == 302, drawn.get_data(as_text=True)[:300]

    # the winner's private page, with its token
    with app.app_context():
        draw = db.session.scalar(sa.select(Draw))
        (winner,) = winners.winners_of_draw(draw)
        token = acts.issue_link(verified(winner))
        db.session.commit()
    winner_path = f"/ru/winner/{token}"
    assert keep(client.get(winner_path), winner_path).status_code == 200

    # a page that is not there, a failure, and an id a trusted proxy gave
    assert keep(client.get("/kk/no-such-page"), "/kk/no-such-page").status_code == 404
    failed = client.get(f"/kk/winner/{token}/fails")
    assert failed.status_code == 500
    failed_id = failed.headers["X-Request-ID"]
    proxied = client.get("/kk/", headers={"X-Request-ID": "nginx-0123456789abcdef"})
    assert proxied.headers["X-Request-ID"] == "nginx-0123456789abcdef"
    odd = client.get("/kk/", headers={"X-Request-ID": "bad id with spaces <script>"})
    assert HEX_ID.fullmatch(odd.headers["X-Request-ID"])

    logged = records(buffer)
    text = buffer.getvalue()
    assert logged
    for record in logged:
        assert {"time", "level", "logger", "message", "request_id"} <= record.keys()
    access = [r for r in logged if r["logger"] == logs.ACCESS_LOGGER]
    by_id = {r["request_id"]: r for r in access}
    assert len(by_id) == len(access), "one access record per request, each its own id"
    for request_id in seen:
        assert HEX_ID.fullmatch(request_id)
        assert by_id[request_id]["method"] == "GET"
        assert by_id[request_id]["status"] in (200, 302, 404)
        assert isinstance(by_id[request_id]["duration_ms"], float)
        assert by_id[request_id]["remote_addr"] == "127.0.0.1"
    assert by_id[next(k for k, v in seen.items() if v == winner_path)]["path"] == "/ru/winner/…"
    assert by_id["nginx-0123456789abcdef"]["path"] == "/kk/"
    assert by_id[failed_id]["status"] == 500
    # the error's own record was written during its request, and carries its id
    (error,) = [r for r in logged if r["level"] == "ERROR"]
    assert error["request_id"] == failed_id
    assert "DETAIL: (values hidden)" in error["exc_info"]
    assert "/kk/winner/…" in error["exc_info"]

    secrets = [token, confirm_token, PASSWORD, SUBSCRIBER, SUBSCRIBER.lower()]
    secrets += [r["bin_iin"] for r in rows]
    for secret in secrets:
        assert secret not in text
    assert EMAIL.findall(text) == []


def test_an_untrusted_client_cannot_choose_its_request_id(client):
    response = client.get("/healthz", headers={"X-Request-ID": "chosen-by-the-client-1234"})
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])


def test_text_is_the_default_and_an_unknown_format_is_refused(other_app):
    assert other_app().config["LOG_FORMAT"] == "text"
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        other_app(LOG_FORMAT="xml")


def test_the_gunicorn_configuration_writes_json_through_the_filter(monkeypatch):
    """gunicorn.conf.py's JSON handler (made without the portal) is the one the app takes
    over: the portal's formatter and both filters on it, not a second handler."""
    monkeypatch.setenv("PORTAL_LOG_FORMAT", "json")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["accesslog"] is None
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    try:
        root.handlers.clear()
        logging.config.dictConfig(config["logconfig_dict"])
        (installed,) = root.handlers
        assert logs.use_json_logs() is installed and root.handlers == [installed]
        record = logging.LogRecord("gunicorn.error", logging.INFO, __file__, 1, "x", (), None)
        record.msg = "GET /kk/winner/SECRET?email=a@b.kz HTTP/1.1"
        assert all(f.filter(record) for f in installed.filters)
        line = json.loads(installed.format(record))
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    assert line["message"] == "GET /kk/winner/…?… HTTP/1.1"
    assert line["logger"] == "gunicorn.error" and line["request_id"] is None


# --- metrics ---------------------------------------------------------------------------


def scrape(client, **kwargs) -> str:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"].startswith("text/plain")
    return response.get_data(as_text=True)


def sample(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))  # as exposed
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    match = re.search(r"^" + pattern + r"$", text, re.MULTILINE)
    assert match, f"{name} {labels} not in the metrics"
    return float(match.group(1))


def test_metrics_count_requests_by_endpoint_and_read_the_database(app, client, demo, september):
    for _ in range(3):
        assert client.get("/kk/ismet-2022/winners").status_code == 200
    client.get(f"/kk/winner/{'x' * 40}")
    with app.app_context():
        db.session.add(
            OutboxMessage(
                dedupe_key="metrics-test",
                kind="test",
                to_email="reader@example.kz",
                language="kk",
                subject="s",
                body_text="b",
            )
        )
        db.session.commit()
    text = scrape(client)
    assert (
        sample(
            text,
            "portal_http_request_duration_seconds_count",
            method="GET",
            endpoint="public.winners",
            status="200",
        )
        == 3
    )
    assert "x" * 40 not in text  # labelled by endpoint, never by path
    assert sample(text, "portal_imports", status="done") == 1
    assert sample(text, "portal_imports", status="failed") == 0
    assert sample(text, "portal_draws", source="random.org") == 0
    assert sample(text, "portal_draw_attempts", state="failed") == 0
    assert sample(text, "portal_mail_outbox", status="pending") == 1
    assert sample(text, "portal_mail_oldest_unsent_seconds") >= 0
    assert sample(text, "portal_database_metrics_up") == 1
    assert sample(text, "portal_jobs_pending") == 0
    assert "reader@example.kz" not in text


def test_added_gauges_are_read_at_scrape_time_and_a_failing_one_is_left_out(app, client):
    queue = {"default": 4}
    metrics.add_gauge(app, "portal_jobs_pending", "Jobs waiting", lambda: queue, label="queue")
    metrics.add_gauge(app, "portal_jobs_broken", "Raises", lambda: 1 / 0)
    assert sample(scrape(client), "portal_jobs_pending", queue="default") == 4
    queue["default"] = 7
    text = scrape(client)
    assert sample(text, "portal_jobs_pending", queue="default") == 7
    assert "portal_jobs_broken" not in text


@pytest.mark.parametrize(
    ("address", "headers"),
    [
        ("203.0.113.9", {}),
        ("10.0.0.5", {}),
        ("127.0.0.1", {"X-Forwarded-For": "127.0.0.1"}),  # through a proxy not trusted
        ("203.0.113.9", {"Authorization": "Bearer wrong"}),
    ],
)
def test_metrics_are_refused_to_others(client, address, headers):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": address}, headers=headers)
    assert response.status_code == 403
    assert "portal_" not in response.get_data(as_text=True)


def test_metrics_with_the_token_or_from_an_allowed_network(other_app):
    app = other_app(METRICS_TOKEN="s3cret-token", METRICS_ALLOWED_NETWORKS=["10.0.0.0/8"])
    client = app.test_client()
    scrape(client, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    scrape(
        client,
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
        headers={"Authorization": "Bearer s3cret-token"},
    )
    assert client.get("/metrics").status_code == 403  # loopback is no longer listed


def test_behind_a_trusted_proxy_the_client_address_decides(other_app):
    client = other_app(TRUSTED_PROXY_COUNT=1).test_client()
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    assert client.get("/metrics", headers=forwarded).status_code == 403
    scrape(client, headers={"X-Forwarded-For": "127.0.0.1"})


def test_a_mistyped_network_fails_at_start(other_app):
    with pytest.raises(ValueError):
        other_app(METRICS_ALLOWED_NETWORKS=["10.0.0.300/8"])


# --- health ----------------------------------------------------------------------------


def test_healthz_is_alive_without_the_database(tmp_path, other_app):
    app = other_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\n"
    assert "Set-Cookie" not in response.headers


def test_readyz_answers_each_check(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = {"database": "ok", "storage": "ok", "jobs": "ok", "eds-anchors": "ok"}
    assert response.json == {"status": "ok", "checks": checks}
    assert "Set-Cookie" not in response.headers


def test_readyz_is_503_when_the_job_queue_does_not_answer(other_app):
    closed = free_port()  # nothing listens there
    app = other_app(JOBS_IMMEDIATE=False, JOBS_URL=f"redis://127.0.0.1:{closed}/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {
        "database": "ok",
        "storage": "ok",
        "jobs": "failed",
        "eds-anchors": "ok",
    }
    assert str(closed) not in response.get_data(as_text=True)


def test_readyz_is_503_when_the_database_does_not_answer(tmp_path, other_app):
    app = other_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    checks = {"database": "failed", "storage": "ok", "jobs": "ok", "eds-anchors": "ok"}
    assert response.json == {"status": "failed", "checks": checks}
    assert "missing" not in response.get_data(as_text=True)


def test_readyz_is_503_when_the_storage_or_an_added_check_fails(app, client, tmp_path):
    def queue_down():
        raise ConnectionError("redis://:password@10.0.0.1:6379/0 refused")

    health.add_check(app, "jobs", queue_down)
    with app.app_context():
        root = storage.current().root
    root.rename(tmp_path / "moved-away")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {
        "database": "ok",
        "storage": "failed",
        "jobs": "failed",
        "eds-anchors": "ok",
    }
    assert "password" not in response.get_data(as_text=True)


def test_probes_need_no_language_nor_session(client):
    for path in ("/healthz", "/readyz", "/metrics"):
        response = client.get(path, headers={"Cookie": "session=forged; lang=ru"})
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers


# --- under gunicorn, as deployed ---------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the redirect itself is the answer


OPENER = urllib.request.build_opener(_NoRedirect)


def _get(url: str) -> tuple[int, str, dict]:
    try:
        with OPENER.open(url, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def _booted_after(log, dead_pid: int) -> bool:
    """A worker was booted after the one with ``dead_pid`` died (gunicorn's own log)."""
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    exited = [i for i, r in enumerate(lines) if str(dead_pid) in r["message"]]
    return any(
        r["message"].startswith("Booting worker") and i > exited[-1] for i, r in enumerate(lines)
    )


def test_two_gunicorn_workers_share_their_metrics_and_log_json(database_url, tmp_path):
    port = free_port()
    figures = tmp_path / "prometheus"
    figures.mkdir()
    (figures / "counter_99999.db").write_bytes(b"left over by an earlier run")
    environment = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(figures),
        "PORTAL_SQLALCHEMY_DATABASE_URI": database_url,
        "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
        "PORTAL_SECRET_KEY": "gunicorn-test",
        "PORTAL_LOG_FORMAT": "json",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
    }
    stderr = open(tmp_path / "stderr.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "stderr.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        for _ in range(20):
            assert _get(f"{base}/")[0] == 302
        status, text, _ = _get(f"{base}/metrics")
        assert status == 200
        served = 'portal_http_request_duration_seconds_count{endpoint="site.root",method="GET",status="302"}'
        assert f"{served} 20.0" in text
        assert "portal_database_metrics_up 1.0" in text

        # a worker that served pages dies: its counts stay, its replacement counts on
        lines = [json.loads(line) for line in (tmp_path / "stderr.log").read_text().splitlines()]
        pages = [r for r in lines if r["logger"] == "portal.access" and r["path"] == "/"]
        os.kill(pages[0]["process"], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not _booted_after(tmp_path / "stderr.log", pages[0]["process"]):
            assert time.monotonic() < deadline, "gunicorn did not replace the worker"
            time.sleep(0.2)
        for _ in range(5):
            assert _get(f"{base}/")[0] == 302
        assert f"{served} 25.0" in _get(f"{base}/metrics")[1]
    finally:
        server.terminate()
        server.wait(timeout=30)
        stderr.close()
    assert not (figures / "counter_99999.db").exists()
    lines = [json.loads(line) for line in (tmp_path / "stderr.log").read_text().splitlines()]
    access = [r for r in lines if r["logger"] == "portal.access"]
    assert [r["status"] for r in access if r["path"] == "/"] == [302] * 25
    assert [r["status"] for r in access if r["path"] == "/metrics"] == [200] * 2
    assert all(HEX_ID.fullmatch(r["request_id"]) for r in access)
    assert any(r["logger"] == "gunicorn.error" for r in lines)
    assert not [r for r in lines if r["logger"] == "gunicorn.access"]
