"""Finding 5, host header poisoning: a subscription sent with ``Host: evil.example`` must
not mail a confirmation link at ``evil.example``. With ``TRUSTED_HOSTS`` such a request
gets a 400; whatever the host, the e-mail links only the site's own address
(``PUBLIC_BASE_URL``, else ``DEFAULT_BASE_URL`` outside debug and tests)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import sqlalchemy as sa

from portal.models import OutboxMessage, db
from tests.helpers import csrf_from, make_app, translated

EVIL = "http://evil.example"
SAID = "This site does not answer at this address."
LINK = re.compile(r"https?://[^\s<>\"]+")


def subscribe(client, base_url: str, email: str):
    """The subscription form, read and sent at ``base_url`` (its host in the Host header)."""
    page = client.get("/kk/subscribe", base_url=base_url)
    if page.status_code != 200:
        return page
    token = csrf_from(page.get_data(as_text=True))
    return client.post(
        "/kk/subscribe",
        base_url=base_url,
        data={"email": email, "language": "kk", "csrf_token": token},
        headers={"Referer": f"{base_url}/kk/subscribe"},  # over https, CSRF checks it
    )


def mailed_hosts(app) -> set[str]:
    """The hosts of every link in every queued e-mail."""
    with app.app_context():
        bodies = db.session.scalars(sa.select(OutboxMessage.body_text)).all()
    return {urlsplit(link).netloc for body in bodies for link in LINK.findall(body)}


def test_an_untrusted_host_gets_a_400(app, demo, client):
    app.config["TRUSTED_HOSTS"] = ["ismet.kz", "www.ismet.kz"]
    for path in ("/kk/subscribe", "/kk/", "/admin/login", "/kk/no-such-page", "/healthz"):
        refused = client.get(path, base_url=EVIL)
        assert refused.status_code == 400, path
        text = refused.get_data(as_text=True)
        assert "evil.example" not in text
        assert all(translated(lang, SAID) in text for lang in ("kk", "ru"))
    refused = client.post("/kk/subscribe", base_url=EVIL, data={"email": "a@example.kz"})
    assert refused.status_code == 400
    assert subscribe(client, "https://www.ismet.kz", "a@example.kz").status_code == 200
    assert subscribe(client, "http://ismet.kz:8080", "b@example.kz").status_code == 200
    assert mailed_hosts(app) == {
        "www.ismet.kz",
        "ismet.kz:8080",
    }  # trusted: as the visitor wrote it


def test_the_confirmation_links_only_the_public_base_url(app, demo, client):
    app.config["PUBLIC_BASE_URL"] = "https://ismet.kz"
    for n, base in enumerate((EVIL, "http://localhost", "https://ismet.kz.evil.example")):
        assert subscribe(client, base, f"visitor{n}@example.kz").status_code == 200
    assert mailed_hosts(app) == {"ismet.kz"}


def test_in_production_without_a_base_url_links_are_never_at_the_requests_host(
    database_url, tmp_path, demo
):
    production = make_app(
        database_url, tmp_path / "production", TESTING=False, SESSION_COOKIE_SECURE=False
    )
    client = production.test_client()
    assert subscribe(client, EVIL, "visitor@example.kz").status_code == 200
    assert mailed_hosts(production) == {"ismet.kz"}  # DEFAULT_BASE_URL
    with production.app_context():
        db.engine.dispose()
