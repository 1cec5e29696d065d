"""The portal served as in production (tests/deploy/conftest.py: nginx with the shipped
site, gunicorn with gunicorn.conf.py and two workers, the job worker when there is one,
PostgreSQL), walked through the proxy over HTTPS as its visitors and staff use it.

One module-wide stack; the tests run in file order, each walking on from the last (the
import before the self-check and the draw).
"""

from __future__ import annotations

import io
import re
import signal
import socket
import ssl
import stat
import time

import sqlalchemy as sa
from pypdf import PdfReader

from tests.helpers import COMMISSION, csrf_from, csv_bytes, row

IMPORT_WAIT = 120  # seconds for an import to finish (bounded poll of its status)
ROWS = 120  # clients in September's file
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
COMMISSION_LINES = "\n".join(f"{m.name}, {m.position_kk} | {m.position_ru}" for m in COMMISSION)


def sign_in(session, stack, email: str, password: str | None = None):
    """The real sign-in form through the proxy, CSRF token included; the answer, unfollowed."""
    page = session.get(f"{stack.url}/admin/login", timeout=30)
    assert page.status_code == 200
    return session.post(
        f"{stack.url}/admin/login",
        data={
            "email": email,
            "password": password or stack.password,
            "csrf_token": csrf_from(page.text),
        },
        allow_redirects=False,
        timeout=60,
    )


def upload(session, stack, period: str, name: str, content: bytes):
    form = session.get(f"{stack.url}/admin/ismet-2022/participants/import", timeout=30)
    assert form.status_code == 200
    return session.post(
        f"{stack.url}/admin/ismet-2022/participants/import",
        data={"period": period, "csrf_token": csrf_from(form.text)},
        files={"file": (name, content, "text/csv")},
        allow_redirects=False,
        timeout=300,
    )


def wait_for_import(session, stack, location: str) -> dict:
    """Poll the import's status JSON until it is done or failed (bounded)."""
    deadline = time.monotonic() + IMPORT_WAIT
    while True:
        state = session.get(f"{stack.url}{location}.json", timeout=30)
        assert state.status_code == 200, state.text[:300]
        if state.json()["status"] in ("done", "failed"):
            return state.json()
        assert time.monotonic() < deadline, f"the import did not finish: {state.json()}"
        time.sleep(0.5)


def declared_body(stack, path: str, length: int) -> str:
    """A POST that declares a body of ``length`` bytes and sends none: nginx answers from
    the headers alone when it is too large. The status line."""
    context = ssl.create_default_context(cafile=stack.ca_file)
    host, port = stack.url.removeprefix("https://").split(":")
    with (
        socket.create_connection((host, int(port)), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        tls.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n".encode()
        )
        return tls.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def test_plain_http_is_sent_to_https(stack):
    answer = stack.session().get(f"{stack.http_url}/kk/ismet-2022/rules?x=1", allow_redirects=False)
    assert answer.status_code == 301
    assert answer.headers["Location"] == "https://127.0.0.1/kk/ismet-2022/rules?x=1"


def test_tls_is_modern_and_offers_http2(stack):
    host, port = stack.url.removeprefix("https://").split(":")
    for highest, version in (
        (ssl.TLSVersion.MAXIMUM_SUPPORTED, "TLSv1.3"),
        (ssl.TLSVersion.TLSv1_2, "TLSv1.2"),
    ):
        context = ssl.create_default_context(cafile=stack.ca_file)
        context.maximum_version = highest
        context.set_alpn_protocols(["h2", "http/1.1"])
        with (
            socket.create_connection((host, int(port)), timeout=30) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            assert tls.version() == version and tls.selected_alpn_protocol() == "h2"
            name, _, _ = tls.cipher()
            assert version == "TLSv1.3" or (
                name.startswith("ECDHE-") and ("GCM" in name or "CHACHA20" in name)
            )


def test_only_the_portal_s_account_and_group_may_open_gunicorn_s_socket(stack):
    # nginx's account is in the group; anyone else could send forwarding headers
    mode = stack.socket.stat().st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o770


def test_a_visitor_reads_the_site_in_both_languages(stack):
    visitor = stack.session()
    for lang in ("kk", "ru"):
        page = visitor.get(f"{stack.url}/{lang}/", timeout=30)
        assert page.status_code == 200
        assert f'<html lang="{lang}"' in page.text
        # the portal knows the request came by https (X-Forwarded-Proto from nginx)
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        assert REQUEST_ID.match(page.headers["X-Request-ID"])
    rules = visitor.get(f"{stack.url}/ru/ismet-2022/rules", timeout=30)
    assert rules.status_code == 200 and 'id="clause-5"' in rules.text
    # the request id nginx gave is the one the portal's server logged
    stack.logged("gunicorn", rules.headers["X-Request-ID"])


def test_the_probes_answer_through_the_proxy_and_the_metrics_do_not(stack):
    visitor = stack.session()
    assert visitor.get(f"{stack.url}/healthz", timeout=30).text == "ok\n"
    ready = visitor.get(f"{stack.url}/readyz", timeout=30)
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "database": "ok",
        "storage": "ok",
        "jobs": "ok",
        "eds-anchors": "ok",
    }
    assert visitor.get(f"{stack.url}/metrics", timeout=30).status_code == 404


def test_static_files_come_from_nginx_with_long_cache_headers(stack):
    visitor = stack.session()
    home = visitor.get(f"{stack.url}/kk/", timeout=30).text
    stylesheet = re.search(r'href="(/static/css/portal\.css\?v=[0-9a-f]{12})"', home).group(1)
    answer = visitor.get(f"{stack.url}{stylesheet}", timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/css")
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    font = visitor.get(f"{stack.url}/static/fonts/NotoSans-Regular.woff2", timeout=30)
    assert font.status_code == 200 and font.headers["Cache-Control"] == "public, max-age=86400"
    assert visitor.get(f"{stack.url}/static/nothing.css", timeout=30).status_code == 404
    # served by nginx: the portal never saw them (it logged the page before them)
    assert "/static/" not in stack.logged("gunicorn", "/kk/ ")


def test_request_sizes_are_bounded_by_nginx_outside_the_import(stack):
    # 40 MB is refused before it is read (32 MB: the portal's MAX_CONTENT_LENGTH)...
    assert " 413 " in declared_body(stack, "/ru/ismet-2022/check", 40 * 1024 * 1024)
    # ...but the import's address takes up to IMPORT_MAX_BYTES (256 MB), and no more
    assert " 413 " in declared_body(
        stack, "/admin/ismet-2022/participants/import", 257 * 1024 * 1024
    )


def test_a_staff_member_imports_a_month_through_the_proxy(stack):
    staff = stack.session()
    signed_in = sign_in(staff, stack, stack.staff["marketing"])
    assert signed_in.status_code == 302
    assert re.search(r"/admin/[a-z0-9-]+/$", signed_in.headers["Location"])
    dashboard = staff.get(f"{stack.url}/admin/ismet-2022/", timeout=30)
    assert dashboard.status_code == 200 and dashboard.headers["Cache-Control"] == "no-store"

    started = upload(
        staff, stack, "2022-09", "sep.csv", csv_bytes([row(n) for n in range(1, ROWS + 1)])
    )
    assert started.status_code == 302, started.text[:500]
    state = wait_for_import(staff, stack, started.headers["Location"])
    assert state == {"status": "done", "progress": ROWS, "rows": ROWS, "percent": 100}
    # the job worker ran it, not a web process
    assert "run_import" in stack.logged("worker", "run_import")

    # a file larger than the portal's other requests (33 MB) passes nginx on the import's
    # address, reaches the portal and fails there for its header
    big = b"not,the,format\n" + b"x" * (33 * 1024 * 1024) + b"\n"
    refused = upload(staff, stack, "2022-10", "oct.csv", big)
    assert refused.status_code == 302, refused.text[:500]
    assert wait_for_import(staff, stack, refused.headers["Location"])["status"] == "failed"


def test_a_client_checks_itself_with_the_form(stack):
    visitor = stack.session()
    form = visitor.get(f"{stack.url}/kk/ismet-2022/check", timeout=30)
    answer = visitor.post(
        f"{stack.url}/kk/ismet-2022/check",
        data={
            "account_number": row(1)["account_number"],
            "bin_iin": row(1)["bin_iin"],
            "csrf_token": csrf_from(form.text),
        },
        timeout=30,
    )
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert answer.text.count('class="ok"') == 5  # September's five conditions, all met


def test_the_commission_draws_and_the_protocol_is_published(stack):
    commission = stack.session()
    assert sign_in(commission, stack, stack.staff["commission"]).status_code == 302
    page = commission.get(f"{stack.url}/admin/ismet-2022/draws/new/2022-09", timeout=30)
    form = {
        "csrf_token": csrf_from(page.text),
        "commission": COMMISSION_LINES,
        "place_kk": "Алматы қ., Абай даңғылы, 100",
        "place_ru": "г. Алматы, пр. Абая, 100",
        "late_reason_kk": "Сынақта кешіктіріліп өткізілді.",
        "late_reason_ru": "Проведен с опозданием в тесте.",
    }
    shown = commission.post(
        f"{stack.url}/admin/ismet-2022/draws/new/2022-09", data=form, timeout=60
    )
    digest = re.search(r'id="pool-digest">([0-9a-f]{64})<', shown.text).group(1)
    nonce = re.search(r'name="nonce" type="hidden" value="([0-9a-f]+)"', shown.text).group(1)
    # the commission's first step: the pool announced, then the draw confirmed over it
    announced = commission.post(
        f"{stack.url}/admin/ismet-2022/draws/new/2022-09",
        data={**form, "nonce": nonce, "pool_sha256": digest, "announce": "1"},
        timeout=60,
    )
    assert announced.status_code == 200 and 'name="confirm"' in announced.text
    drawn = commission.post(
        f"{stack.url}/admin/ismet-2022/draws/new/2022-09",
        data={**form, "nonce": nonce, "pool_sha256": digest, "confirm": "1"},
        allow_redirects=False,
        timeout=120,
    )
    assert drawn.status_code == 302, drawn.text[:500]
    draw_id = int(drawn.headers["Location"].rsplit("/", 1)[1])

    visitor = stack.session()
    record = visitor.get(f"{stack.url}/ru/draws/{draw_id}", timeout=30)
    assert record.status_code == 200 and digest in record.text
    assert 'id="announced-at"' in record.text
    protocol = visitor.get(f"{stack.url}/kk/draws/{draw_id}/protocol.pdf", timeout=60)
    assert protocol.status_code == 200
    assert protocol.headers["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(protocol.content)).pages)
    # the protocol links the draw's public record at the site's own address
    assert f"{stack.url}/kk/draws/{draw_id}" in re.sub(r"\s+", "", text)


def test_a_client_locked_out_does_not_lock_out_another(stack):
    email = stack.staff["commission"]
    intruder = stack.session(source="127.0.0.2")
    # it may claim to be anyone: nginx writes the address that connected
    intruder.headers["X-Forwarded-For"] = "203.0.113.9"
    for _ in range(5):
        failed = sign_in(intruder, stack, email, password="not the password at all")
        assert failed.status_code == 200
    # locked: even the right password is refused from there
    assert sign_in(intruder, stack, email).status_code == 200
    # from another client the same account signs in
    colleague = stack.session(source="127.0.0.1")
    signed_in = sign_in(colleague, stack, email)
    assert signed_in.status_code == 302
    assert re.search(r"/admin/[a-z0-9-]+/$", signed_in.headers["Location"])

    engine = sa.create_engine(stack.database_url)
    with engine.connect() as connection:
        entries = connection.execute(
            sa.text("SELECT action, ip FROM audit_entry WHERE action LIKE 'auth.%' ORDER BY id")
        ).all()
    engine.dispose()
    from_intruder = [action for action, ip in entries if ip == "127.0.0.2"]
    assert from_intruder == ["auth.sign_in_failed"] * 5 + ["auth.locked_out", "auth.refused_locked"]
    assert entries[-1] == ("auth.sign_in", "127.0.0.1")
    assert not [ip for _, ip in entries if ip not in ("127.0.0.1", "127.0.0.2")]


def test_the_logs_keep_no_token_of_a_private_link(stack):
    visitor = stack.session()
    token = "Zq8" + "x" * 40  # the shape of a private link's token
    for path in (f"/kk/winner/{token}", f"/ru/unsubscribe/{token}?from=mail"):
        assert visitor.get(f"{stack.url}{path}", timeout=30).status_code < 500
    nginx_log = stack.logged("nginx-access", '"GET /ru/unsubscribe/...?... HTTP/1.1"')
    gunicorn_log = stack.logged("gunicorn", "/ru/unsubscribe/…?…")
    assert '"GET /kk/winner/... HTTP/1.1" 404' in nginx_log and "/kk/winner/…" in gunicorn_log
    assert token not in nginx_log and token not in gunicorn_log
    assert "from=mail" not in nginx_log and "from=mail" not in gunicorn_log


def test_a_reload_replaces_the_workers_while_requests_are_answered(stack):
    before = set(re.findall(r"Booting worker with pid: (\d+)", stack.log("gunicorn")))
    visitor = stack.session()
    stack.signal("gunicorn", signal.SIGHUP)  # systemctl reload ismet-portal-web
    statuses = []
    deadline = time.monotonic() + 60
    while True:
        statuses.append(visitor.get(f"{stack.url}/ru/ismet-2022/rules", timeout=30).status_code)
        booted = set(re.findall(r"Booting worker with pid: (\d+)", stack.log("gunicorn")))
        if len(booted - before) >= 2 and len(statuses) >= 20:
            break
        assert time.monotonic() < deadline, (
            f"no new workers after HUP: {stack.log('gunicorn')[-2000:]}"
        )
    assert set(statuses) == {200}
