"""Finding 1: behind a reverse proxy every limit became global.

Lock-outs and rate limits keyed on the proxy's address, and nothing trusted the
proxy's X-Forwarded-For. With ``TRUSTED_PROXY_COUNT`` = 1 they key on the real client;
with 0 (the default) a spoofed X-Forwarded-For changes nothing.
"""

from __future__ import annotations

import sqlalchemy as sa

from portal.models import AuditEntry, db
from tests.helpers import (
    PASSWORD,
    load_september,
    make_staff,
    sign_in_client,
    submit_check,
)

PROXY = "10.0.0.1"
WRONG = "not the password at all"


def client_behind(app, proxy: str, forwarded_for: str | None = None):
    """A test client whose requests come from ``proxy``, forwarding ``forwarded_for``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = proxy
    if forwarded_for:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client


def signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_behind_one_trusted_proxy_sign_in_lock_outs_are_per_client(other_app):
    proxied = other_app(TRUSTED_PROXY_COUNT=1)
    with proxied.app_context():
        make_staff("admin@ismet.kz", "admin")
    attacker = client_behind(proxied, PROXY, "198.51.100.7")
    for n in range(5):  # the admin's account, then made-up ones
        email = "admin@ismet.kz" if n < 3 else f"nobody{n}@ismet.kz"
        sign_in_client(attacker, email, WRONG)
    sign_in_client(attacker, "admin@ismet.kz")
    assert not signed_in(attacker)  # the attacker's own address is locked out

    administrator = client_behind(proxied, PROXY, "203.0.113.20")
    sign_in_client(administrator, "admin@ismet.kz")
    assert signed_in(administrator)  # another client behind the same proxy is not
    with proxied.app_context():
        addresses = db.session.scalars(
            sa.select(AuditEntry.ip).where(AuditEntry.action == "auth.sign_in")
        ).all()
        assert addresses == ["203.0.113.20"]  # the audit trail names the real client


def test_behind_one_trusted_proxy_the_self_check_limit_is_per_client(other_app, demo):
    proxied = other_app(TRUSTED_PROXY_COUNT=1)
    bins = load_september(proxied, demo)
    busy = client_behind(proxied, PROXY, "198.51.100.7")
    for _ in range(20):
        assert submit_check(busy, "kk", "ACC0000001", bins["ACC0000001"]).status_code == 200
    assert submit_check(busy, "kk", "ACC0000001", bins["ACC0000001"]).status_code == 429
    other = client_behind(proxied, PROXY, "203.0.113.20")
    assert submit_check(other, "ru", "ACC0000001", bins["ACC0000001"]).status_code == 200


def test_without_a_trusted_proxy_a_spoofed_forwarded_for_changes_nothing(app):
    with app.app_context():
        make_staff("admin@ismet.kz", "admin")
    victim_address = "203.0.113.20"
    # the attacker claims to be the administrator's address, a new one each time
    attacker = client_behind(app, "198.51.100.7", victim_address)
    for n in range(5):
        attacker.environ_base["HTTP_X_FORWARDED_FOR"] = f"192.0.2.{n}, {victim_address}"
        sign_in_client(attacker, "admin@ismet.kz", WRONG)
    attacker.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.200"
    sign_in_client(attacker, "admin@ismet.kz")
    assert not signed_in(attacker)  # a new X-Forwarded-For does not escape the lock-out

    administrator = client_behind(app, victim_address)
    sign_in_client(administrator, "admin@ismet.kz", PASSWORD)
    assert signed_in(administrator)  # nor does the attacker lock the administrator out
