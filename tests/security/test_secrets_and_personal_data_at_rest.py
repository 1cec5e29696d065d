"""Finding 10, secrets and personal data at rest: a sent e-mail keeps no token of a
private link; the access log and the app's log mask those tokens (``/winner/…``); the
staff's search is a POST, so no BIN/IIN reaches an address or a log line; a database
error never shows its values; the instance's files are the portal's account's alone."""

from __future__ import annotations

import logging
import re
import stat
from pathlib import Path

import flask_migrate
import pytest
import requests
import sqlalchemy as sa

from portal.campaign import acts, subscriptions
from portal.models import (
    Announcement,
    OutboxMessage,
    Participant,
    StaffUser,
    Subscriber,
    db,
    utcnow,
)
from portal.services import uploads
from portal.services.mail import send_pending
from portal.web.urls import subscription_links
from tests.helpers import (
    PASSWORD,
    csrf_from,
    make_app,
    make_staff,
    png,
    serving,
    verified,
)

SECRET_LINK = re.compile(r"/(?:winner|subscribe/confirm|unsubscribe)/([^/\s?#\"'<>]+)")


def tokens_in(text: str | None) -> set[str]:
    """The tokens of the private links in ``text``, but the mask."""
    return {token for token in SECRET_LINK.findall(text or "") if token != "…"}


def test_a_sent_e_mail_keeps_no_token(app, drawn, client, auth, smtpd):
    winner_id = verified(drawn).id
    db.session.add(Subscriber(email="reader@example.kz", language="ru", confirmed_at=utcnow()))
    db.session.commit()
    page = client.get("/kk/subscribe").get_data(as_text=True)  # a confirmation
    client.post("/kk/subscribe", data={"csrf_token": csrf_from(page), "email": "new@example.kz"})
    item = db.session.scalar(sa.select(Announcement))  # with an unsubscribe link for each
    subscriptions.queue_announcement(item, subscription_links())
    db.session.commit()
    auth.login("marketing")  # the winner's private link
    token = auth.token(f"/admin/ismet-2022/winners/{winner_id}")
    assert (
        client.post(
            f"/admin/ismet-2022/winners/{winner_id}/link", data={"csrf_token": token}
        ).status_code
        == 302
    )

    queued = db.session.scalars(sa.select(OutboxMessage)).all()
    assert {m.kind for m in queued} >= {"winner-link", "subscribe_confirm", "announcement"}
    assert all(tokens_in(m.body_text) for m in queued)  # waiting to be sent: the links whole
    assert send_pending().sent == len(queued)
    mailed = set().union(*(tokens_in(r.message.get_content()) for r in smtpd.received))
    assert len(mailed) >= 3  # the recipients got their links
    db.session.expire_all()
    for message in db.session.scalars(sa.select(OutboxMessage)):
        assert message.status == "sent"
        assert tokens_in(message.body_text) == set(), message.kind
        assert tokens_in(message.list_unsubscribe) == set(), message.kind
        assert "/…" in message.body_text  # where the link was, it says so
        assert not any(token in message.body_text for token in mailed)


def test_the_logs_mask_the_tokens_of_private_links(app, drawn, caplog):
    token = acts.issue_link(verified(drawn))
    db.session.commit()
    caplog.set_level(logging.INFO, logger="werkzeug")
    with serving(app) as url:
        assert requests.get(f"{url}/kk/winner/{token}", timeout=10).status_code == 200
        assert requests.get(f"{url}/ru/winner/{token}/act.pdf", timeout=10).status_code == 404
        requests.get(f"{url}/kk/subscribe/confirm/some.signed-token", timeout=10)
        requests.get(f"{url}/kk/unsubscribe/another.signed-token", timeout=10)
    app.logger.error("Exception on /kk/winner/%s [GET]", token)  # as Flask logs a 500
    lines = [record.getMessage() for record in caplog.records]
    requests_logged = [line for line in lines if "GET /" in line or "Exception on" in line]
    assert len(requests_logged) == 5, lines
    assert any("GET /kk/winner/… HTTP" in line for line in lines), lines
    assert any("GET /ru/winner/…/act.pdf HTTP" in line for line in lines), lines
    assert any("/kk/subscribe/confirm/… " in line for line in lines), lines
    assert any("/kk/unsubscribe/… " in line for line in lines), lines
    assert token not in caplog.text and "signed-token" not in caplog.text


def test_the_staff_search_stays_out_of_the_log(app, september, caplog):
    participant = db.session.scalar(sa.select(Participant).order_by(Participant.id))
    bin_iin, account = participant.bin_iin, participant.account_number
    make_staff("marketing@ismet.kz", "marketing")
    caplog.set_level(logging.INFO, logger="werkzeug")
    with serving(app) as url, requests.Session() as browser:
        login = browser.get(f"{url}/admin/login", timeout=10).text
        browser.post(
            f"{url}/admin/login",
            data={
                "email": "marketing@ismet.kz",
                "password": PASSWORD,
                "csrf_token": csrf_from(login),
            },
            timeout=10,
        )
        page = browser.get(f"{url}/admin/ismet-2022/participants", timeout=10).text
        for query in (bin_iin, account):
            found = browser.post(
                f"{url}/admin/ismet-2022/participants",
                data={"q": query, "csrf_token": csrf_from(page)},
                timeout=10,
            )
            assert found.status_code == 200 and participant.company_name in found.text
    lines = [record.getMessage() for record in caplog.records]
    assert any("POST /admin/ismet-2022/participants HTTP" in line for line in lines), lines
    assert bin_iin not in caplog.text and account not in caplog.text


def test_a_database_error_logs_no_values(app, ctx, caplog):
    make_staff("someone.private@example.kz", "marketing")
    db.session.add(StaffUser(email="someone.private@example.kz", role="auditor", password_hash="x"))
    with pytest.raises(sa.exc.IntegrityError) as failure:
        db.session.flush()
    db.session.rollback()
    app.logger.error("Exception on /admin/users/new [POST]", exc_info=failure.value)  # as Flask
    logging.getLogger("huey").exception(  # as the job worker logs a job's failure
        "Unhandled exception in task", exc_info=failure.value
    )
    assert "SQL parameters hidden" in str(failure.value)  # not in SQLAlchemy's message
    assert caplog.text.count("IntegrityError") >= 2
    assert "someone.private" not in caplog.text  # nor in PostgreSQL's detail, in the log


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_instance_files_are_the_portals_alone(tmp_path):
    instance = tmp_path / "instance"
    app = make_app(None, instance, SECRET_KEY=None)  # the instance's own database and key
    with app.app_context():
        flask_migrate.upgrade()
        data = png()
        stored = uploads.store(data, uploads.check(data, "a.png"), acts.files_storage())
        db.engine.dispose()
    database = instance / "portal.sqlite3"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{database}"
    assert mode(instance) == 0o700
    assert mode(database) == 0o600
    assert mode(instance / "secret_key") == 0o600
    folder = instance / "uploads"
    assert mode(folder) == mode(folder / "winners") == 0o700
    assert mode(folder / "winners" / stored.relative_path) == 0o600
    assert mode((folder / "winners" / stored.relative_path).parent) == 0o700
    # a database and folders made world-readable before are made private at the next start
    database.chmod(0o644)
    instance.chmod(0o755)
    folder.chmod(0o755)
    make_app(None, instance, SECRET_KEY=None)
    assert (mode(database), mode(instance), mode(folder)) == (0o600, 0o700, 0o700)
