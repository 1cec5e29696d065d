"""Finding 11, headers: HSTS on every https answer (none over http), ``Cache-Control:
no-store`` on every staff page and export (the access sweep checks every admin URL, see
``tests/test_admin_access.py``), and a ``Server`` header that names no software, from
the development server itself."""

from __future__ import annotations

import http.client
import socket

from tests.helpers import make_staff, serving, sign_in_client


def test_https_answers_carry_hsts_and_http_answers_none(app, demo, client):
    for path in ("/kk/", "/ru/subscribe", "/admin/login", "/kk/no-such-page"):
        secure = client.get(path, base_url="https://ismet.kz")
        assert secure.headers["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains"
        ), path
        plain = client.get(path, base_url="http://ismet.kz")
        assert "Strict-Transport-Security" not in plain.headers, path


def test_staff_pages_and_exports_are_never_stored(app, demo, client):
    with app.app_context():
        make_staff("marketing@ismet.kz", "marketing")
    assert client.get("/admin/login").headers["Cache-Control"] == "no-store"
    assert (
        client.get("/admin/ismet-2022/participants").headers["Cache-Control"] == "no-store"
    )  # redirect
    assert sign_in_client(client, "marketing@ismet.kz").headers["Cache-Control"] == "no-store"
    for path in (
        "/admin/ismet-2022/",
        "/admin/ismet-2022/participants",
        "/admin/ismet-2022/winners",
        "/admin/no-such-page",
    ):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path
    with client.get("/admin/ismet-2022/participants/2022-09/eligible.csv") as export:
        assert export.status_code == 200 and export.headers["Cache-Control"] == "no-store"
    # the self-check answers one client's own data
    assert client.get("/kk/ismet-2022/check").headers["Cache-Control"] == "no-store"
    # public pages may be kept
    assert client.get("/kk/").headers.get("Cache-Control") != "no-store"


def test_the_development_server_names_no_software(app, demo):
    with serving(app) as url:
        port = int(url.rsplit(":", 1)[1])
        servers = []
        for method, path in (("GET", "/kk/"), ("GET", "/kk/nowhere"), ("POST", "/admin/logout")):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request(method, path)
            response = connection.getresponse()
            response.read()
            servers.append(response.getheader("Server", ""))
            connection.close()
        # a request the server refuses itself (a line too long), before the portal sees it
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            raw.sendall(b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n")
            answer = raw.recv(4096).decode("latin-1")
        servers.extend(
            line.split(":", 1)[1].strip()
            for line in answer.splitlines()
            if line.lower().startswith("server:")
        )
    assert len(servers) == 4
    for server in servers:
        assert "werkzeug" not in server.lower() and "python" not in server.lower(), server
