"""Staff sign-in: the real form with CSRF, lock-outs, safe redirects, sign-out, accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import config
from portal.campaign.staff import locked_until
from portal.models import AuditEntry, LoginAttempt, StaffUser, db
from portal.web.access import is_safe_next
from tests.helpers import PASSWORD, csrf_from, translated


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_sign_in_with_the_real_form_and_sign_out_by_post(app, client, auth):
    auth.create("marketing")
    response = auth.login("marketing")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/logout").status_code == 405
    assert auth.logout().status_code == 302
    assert client.get("/admin/").status_code == 302
    assert actions(app) == ["auth.sign_in", "auth.sign_out"]


def test_a_form_without_its_csrf_token_is_refused(app, client, auth):
    auth.create("admin")
    response = client.post("/admin/login", data={"email": "admin@ismet.kz", "password": PASSWORD})
    assert response.status_code == 400
    assert actions(app) == []


def test_wrong_password_is_refused_and_audited(app, client, auth):
    auth.create("admin")
    response = auth.login("admin", password="not the password at all", create=False)
    assert response.status_code == 200
    assert "/admin/login" in client.get("/admin/").headers["Location"]
    assert actions(app) == ["auth.sign_in_failed"]


def test_five_failures_lock_the_account_for_15_minutes(app, client, auth):
    auth.create("admin")
    for _ in range(5):
        auth.login("admin", password="wrong password here", create=False)
    # the right password is refused now
    response = auth.login("admin", create=False)
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302
    assert actions(app) == ["auth.sign_in_failed"] * 5 + ["auth.locked_out", "auth.refused_locked"]
    with app.app_context():
        # the lock is counted in the database: 15 minutes after the last failure it opens
        last = db.session.scalar(sa.select(sa.func.max(LoginAttempt.at)))
        assert locked_until("admin@ismet.kz", "127.0.0.1", last + timedelta(minutes=14))
        assert (
            locked_until("admin@ismet.kz", "127.0.0.1", last + timedelta(minutes=15, seconds=1))
            is None
        )


def test_five_failures_from_one_address_lock_it_for_every_account(app, client, auth):
    auth.create("admin")
    for n in range(5):
        auth.login(email=f"nobody{n}@ismet.kz", password="wrong password here", create=False)
    assert auth.login("admin", create=False).status_code == 200
    with app.app_context():
        assert locked_until("admin@ismet.kz", "10.0.0.9") is None  # another address is not locked


def test_a_deactivated_account_cannot_sign_in(app, client, auth):
    auth.create("auditor", active=False)
    response = auth.login("auditor", create=False)
    # the sign-in form again, saying no more than for a wrong password (Kazakh, signed out)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'name="password"' in page
    assert translated("kk", "Wrong e-mail or password.") in page
    assert "/admin/login" in client.get("/admin/").headers["Location"]  # not signed in
    assert actions(app) == ["auth.sign_in_failed"]
    with app.app_context():
        assert db.session.scalars(sa.select(LoginAttempt.succeeded)).all() == [False]


def test_passwords_are_hashed_with_scrypt_unless_the_setting_says_otherwise(app):

    assert config.PASSWORD_HASH_METHOD == "scrypt"  # production's default
    outside = StaffUser(email="x@ismet.kz", role="admin")
    outside.set_password(PASSWORD)  # no app: the default
    with app.app_context():  # the tests' app: a cheap hash
        inside = StaffUser(email="y@ismet.kz", role="admin")
        inside.set_password(PASSWORD)
    assert outside.password_hash.startswith("scrypt:")
    assert inside.password_hash.startswith("pbkdf2:sha256:1$")
    assert outside.check_password(PASSWORD) and inside.check_password(PASSWORD)
    assert not inside.check_password(PASSWORD + "!")


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/admin/audit", True),
        ("/admin/rules?x=1", True),
        ("https://evil.example/", False),
        ("//evil.example/", False),
        ("/\\evil.example", False),
        ("javascript:alert(1)", False),
        ("", False),
    ],
)
def test_only_local_paths_are_followed_after_sign_in(target, safe):
    assert is_safe_next(target) is safe


def test_sign_in_follows_a_local_next_and_ignores_another(app, client, auth):
    auth.create("admin")
    page = client.get("/admin/login?next=/admin/audit")
    response = client.post(
        "/admin/login?next=/admin/audit",
        data={
            "email": "admin@ismet.kz",
            "password": PASSWORD,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert response.headers["Location"] == "/admin/audit"
    auth.logout()
    page = client.get("/admin/login")
    response = client.post(
        "/admin/login?next=https://evil.example/",
        data={
            "email": "admin@ismet.kz",
            "password": PASSWORD,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert response.headers["Location"] == "/admin/"


def test_session_cookie_is_httponly_and_lax(app, client, auth):
    auth.create("admin")
    response = auth.login("admin", create=False)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_staff_choose_their_language(app, client, auth):
    auth.create("marketing", language="kk")
    auth.login("marketing", create=False)
    assert 'lang="kk"' in client.get("/admin/").get_data(as_text=True)
    client.post("/admin/language", data={"language": "ru", "csrf_token": auth.token()})
    assert '<html lang="ru">' in client.get("/admin/").get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(sa.select(StaffUser.language).filter_by(email="marketing@ismet.kz"))
            == "ru"
        )


def test_admin_creates_changes_and_deactivates_an_account(app, client, auth):
    auth.login("admin")
    form = {
        "email": "New.Person@Ismet.kz",
        "name": "New Person",
        "role": "commission",
        "language": "ru",
        "password": "twelve chars!",
        "active": "y",
        "csrf_token": auth.token("/admin/users/new"),
    }
    assert client.post("/admin/users/new", data=form).status_code == 302
    short = dict(
        form, email="short@ismet.kz", password="short", csrf_token=auth.token("/admin/users/new")
    )
    assert client.post("/admin/users/new", data=short).status_code == 200
    with app.app_context():
        account = db.session.scalar(sa.select(StaffUser).filter_by(email="new.person@ismet.kz"))
        assert account.role == "commission" and account.check_password("twelve chars!")
        assert db.session.scalar(sa.select(StaffUser).filter_by(email="short@ismet.kz")) is None
        account_id = account.id
    edit = dict(
        form, role="auditor", password="", csrf_token=auth.token(f"/admin/users/{account_id}")
    )
    del edit["active"]
    assert client.post(f"/admin/users/{account_id}", data=edit).status_code == 302
    with app.app_context():
        account = db.session.get(StaffUser, account_id)
        assert (account.role, account.active) == ("auditor", False)
        assert account.check_password("twelve chars!")
        entry = db.session.scalar(sa.select(AuditEntry).filter_by(action="account.update"))
        assert '"role": ["commission", "auditor"]' in entry.details
        assert "twelve" not in entry.details


def test_users_create_command(app, runner, tmp_path):
    password_file = tmp_path / "password"
    password_file.write_text("a long enough password\n", encoding="utf-8")
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Boss@Ismet.kz",
            "--role",
            "admin",
            "--password-file",
            str(password_file),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created admin account boss@ismet.kz" in result.output
    again = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "boss@ismet.kz",
            "--role",
            "admin",
            "--password-file",
            str(password_file),
        ]
    )
    assert again.exit_code != 0 and "exists already" in again.output
    password_file.write_text("short", encoding="utf-8")
    short = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "x@ismet.kz",
            "--role",
            "auditor",
            "--password-file",
            str(password_file),
        ]
    )
    assert short.exit_code != 0 and "12 characters" in short.output
    prompted = runner.invoke(
        args=["users", "create", "--email", "y@ismet.kz", "--role", "auditor"],
        input="a long enough password\na long enough password\n",
    )
    assert prompted.exit_code == 0, prompted.output
    with app.app_context():
        assert db.session.scalar(
            sa.select(StaffUser).filter_by(email="boss@ismet.kz")
        ).check_password("a long enough password")
