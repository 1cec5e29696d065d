"""Finding 3: sessions that never ended.

A cookie kept working after sign-out, after a password change and 30 days later. Now a
session is kept on the server (``staff_session``) and checked on every request:
sign-out ends it; a change of the account's password or role, or its deactivation,
ends its other sessions; it ends after 30 minutes idle and 12 hours in any case.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.models import StaffSession, StaffUser, db, utcnow
from tests.helpers import sign_in_client


def sent_to_sign_in(response) -> bool:
    return response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_a_cookie_kept_from_before_sign_out_opens_nothing(app, client, auth):
    auth.login("marketing")
    assert client.get("/admin/").status_code == 200
    kept = client.get_cookie("session").value
    auth.logout()
    client.set_cookie("session", kept)  # the old cookie, replayed
    assert sent_to_sign_in(client.get("/admin/"))
    with app.app_context():
        record = db.session.scalar(sa.select(StaffSession))
        assert record.ended_why == "sign-out" and record.ended_at is not None


def account_form(account: StaffUser, **changes) -> dict:
    form = {
        "email": account.email,
        "name": account.name,
        "role": account.role,
        "language": account.language,
        "password": "",
        "active": "y",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"password": "a brand new steppe phrase"}, "password"),
        ({"role": "auditor"}, "role"),
        ({"active": None}, "deactivated"),
    ],
)
def test_an_admin_changing_an_account_ends_its_sessions(app, auth, change, why):
    # the marketing manager is signed in in two browsers
    browsers = [app.test_client(), app.test_client()]
    auth.create("marketing")
    for browser in browsers:
        sign_in_client(browser, "marketing@ismet.kz")
        assert browser.get("/admin/").status_code == 200
    auth.login("admin")
    with app.app_context():
        account = db.session.scalar(sa.select(StaffUser).filter_by(email="marketing@ismet.kz"))
        form = account_form(account, **change)
    form["csrf_token"] = auth.token(f"/admin/users/{account.id}")
    assert auth.client.post(f"/admin/users/{account.id}", data=form).status_code == 302
    for browser in browsers:
        assert sent_to_sign_in(browser.get("/admin/"))
    assert auth.client.get("/admin/users").status_code == 200  # the admin's own goes on
    with app.app_context():
        ended = db.session.scalars(
            sa.select(StaffSession.ended_why).where(StaffSession.user_id == account.id)
        ).all()
        assert ended == [why, why]


def test_an_admin_changing_a_name_ends_no_session(app, auth):
    browser = app.test_client()
    auth.create("marketing")
    sign_in_client(browser, "marketing@ismet.kz")
    auth.login("admin")
    with app.app_context():
        account = db.session.scalar(sa.select(StaffUser).filter_by(email="marketing@ismet.kz"))
        form = account_form(account, name="Another Name")
    form["csrf_token"] = auth.token(f"/admin/users/{account.id}")
    assert auth.client.post(f"/admin/users/{account.id}", data=form).status_code == 302
    assert browser.get("/admin/").status_code == 200


def age_session(app, idle: timedelta, age: timedelta) -> None:
    """Move the one session back in time: last seen ``idle`` ago, started ``age`` ago."""
    with app.app_context():
        record = db.session.scalar(sa.select(StaffSession))
        now = utcnow()
        record.last_seen_at, record.created_at = now - idle, now - age
        db.session.commit()


@pytest.mark.parametrize(
    ("idle", "age", "open_"),
    [
        (timedelta(minutes=29), timedelta(hours=2), True),
        (timedelta(minutes=31), timedelta(hours=2), False),
        (timedelta(minutes=5), timedelta(hours=11, minutes=50), True),
        (timedelta(minutes=5), timedelta(hours=12, minutes=1), False),
    ],
)
def test_a_session_ends_after_30_minutes_idle_and_12_hours_in_any_case(
    app, client, auth, idle, age, open_
):
    auth.login("commission")
    age_session(app, idle, age)
    response = client.get("/admin/")
    assert (response.status_code == 200) is open_
    if not open_:
        assert sent_to_sign_in(response)
        assert sent_to_sign_in(client.get("/admin/"))  # and stays ended
        with app.app_context():
            why = db.session.scalar(sa.select(StaffSession.ended_why))
            assert why == ("idle" if idle > timedelta(minutes=30) else "expired")


def test_the_session_limits_are_settings(app, client, auth):
    app.config.update(SESSION_IDLE_MINUTES=5, SESSION_MAX_HOURS=1)
    auth.login("commission")
    age_session(app, timedelta(minutes=6), timedelta(minutes=6))
    assert sent_to_sign_in(client.get("/admin/"))
    assert auth.login("commission", create=False).status_code == 302  # a new sign-in works
    assert client.get("/admin/").status_code == 200
