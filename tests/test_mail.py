"""The e-mail outbox against real SMTP servers run in-process by aiosmtpd."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from aiosmtpd.smtp import AuthResult

from portal.campaign import audit
from portal.campaign.mailings import send_due
from portal.commands.mail import mail_cli
from portal.models import AuditEntry, OutboxMessage, db, utcnow
from portal.services import mail
from portal.services.mail import MAX_ATTEMPTS, backoff, enqueue, send_pending
from tests.helpers import free_port, smtp_server

SUBJECT = "Ұтыс нәтижелері: қазан 2022 / Итоги розыгрыша за октябрь"
BODY = (
    "Құрметті клиент! Сіз жеңімпаз атандыңыз.\nУважаемый клиент, вы стали победителем: 200 000 ₸.\n"
)
UNSUBSCRIBE = "https://promo.ismet.kz/kk/unsubscribe/abc123"


def queue(*addresses: str, kind: str = "winner", **fields) -> list[int]:
    """Queue one message per address and commit; the ids in order."""
    ids = []
    for address in addresses:
        message = enqueue(
            kind=kind,
            to_email=address,
            language=fields.get("language", "kk"),
            subject=fields.get("subject", SUBJECT),
            body_text=fields.get("body_text", BODY),
            dedupe_key=f"{kind}:{address}",
            list_unsubscribe=fields.get("list_unsubscribe"),
        )
        db.session.flush()
        ids.append(message.id)
    db.session.commit()
    return ids


def rows() -> dict[str, OutboxMessage]:
    """The outbox by recipient, read afresh."""
    db.session.expire_all()
    return {m.to_email: m for m in db.session.scalars(sa.select(OutboxMessage))}


def test_a_queued_message_is_delivered_in_utf8_with_its_headers(ctx, smtpd):
    """From, To, UTF-8 subject and body, Date, Message-ID and one-click unsubscribe arrive."""
    queue("client@example.kz", list_unsubscribe=UNSUBSCRIBE)

    report = send_pending()

    assert (report.sent, report.retry, report.failed) == (1, 0, 0)
    [received] = smtpd.received
    assert received.mail_from == "no-reply@ismet.kz"
    assert received.rcpt_tos == ["client@example.kz"]
    message = received.message
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Ismet.kz", "no-reply@ismet.kz")
    assert message["To"] == "client@example.kz"
    assert message["Subject"] == SUBJECT
    assert b"=?utf-8?" in received.raw.split(b"\r\n\r\n")[0]
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content() == BODY
    assert message["Date"].datetime is not None
    assert message["Message-ID"].endswith("@ismet.kz>")
    assert message["Content-Language"] == "kk"
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    row = rows()["client@example.kz"]
    assert row.status == OutboxMessage.SENT
    assert row.sent_at is not None
    assert row.attempts == 0
    assert row.last_error is None


def test_a_message_without_unsubscribe_link_has_no_list_headers(ctx, smtpd):
    """Without an unsubscribe link there are no List-* headers; the language is declared."""
    queue(
        "client@example.kz", kind="signing", language="ru", subject="Подписание", body_text="Текст"
    )

    send_pending()

    [received] = smtpd.received
    assert "List-Unsubscribe" not in received.message
    assert "List-Unsubscribe-Post" not in received.message
    assert received.message["Content-Language"] == "ru"
    assert received.message.get_content() == "Текст\n"


def test_the_same_dedupe_key_is_queued_once(ctx, smtpd):
    """A second enqueue with the same key adds nothing, in the same transaction or later."""
    key = "winner:2022-10:7"
    first = enqueue("winner", "client@example.kz", "kk", SUBJECT, BODY, key)
    again_in_transaction = enqueue("winner", "client@example.kz", "kk", SUBJECT, BODY, key)
    db.session.commit()
    again_later = enqueue("winner", "client@example.kz", "ru", "Другая тема", BODY, key)
    db.session.commit()

    assert first is not None
    assert again_in_transaction is None
    assert again_later is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
    send_pending()
    assert smtpd.to() == ["client@example.kz"]


def test_running_send_twice_never_sends_a_message_twice(ctx, smtpd):
    """A second run finds nothing to send, even much later."""
    queue("a@example.kz", "b@example.kz", "c@example.kz")

    first = send_pending()
    second = send_pending(now=utcnow() + timedelta(days=30))

    assert first.sent == 3
    assert (second.picked, second.sent, second.retry, second.failed) == (0, 0, 0, 0)
    assert sorted(smtpd.to()) == ["a@example.kz", "b@example.kz", "c@example.kz"]


def test_a_message_claimed_by_another_run_is_skipped(ctx, smtpd, monkeypatch):
    """A message another run claimed in the meantime is not sent again."""
    queue("a@example.kz", "b@example.kz")
    real_claim = mail.claim
    other_run, answers = [], []

    def claim_after_another_run(message_id):
        """Let a second run take and send everything just before this run claims."""
        if not other_run:
            other_run.append(None)
            monkeypatch.setattr(mail, "claim", real_claim)
            other_run[0] = send_pending()
            monkeypatch.setattr(mail, "claim", claim_after_another_run)
        answers.append(real_claim(message_id))
        return answers[-1]

    monkeypatch.setattr(mail, "claim", claim_after_another_run)
    report = send_pending()

    assert other_run[0].sent == 2
    assert answers == [False, False]  # this run asked for both and got neither
    assert report.picked == 2
    assert (report.sent, report.retry, report.failed) == (0, 0, 0)
    assert sorted(smtpd.to()) == ["a@example.kz", "b@example.kz"]
    assert {m.status for m in rows().values()} == {OutboxMessage.SENT}
    monkeypatch.undo()
    queue("c@example.kz")
    [message_id] = [m.id for m in rows().values() if m.to_email == "c@example.kz"]
    assert mail.claim(message_id) is True
    assert mail.claim(message_id) is False


def test_a_refused_recipient_fails_and_the_others_are_sent(ctx, smtpd, caplog):
    """A 550 fails that message only; the log holds neither body nor address."""
    smtpd.refuse["nobody@example.kz"] = "550 no such user"
    queue("a@example.kz", "nobody@example.kz", "c@example.kz")

    with caplog.at_level(logging.DEBUG, logger="portal.services.mail"):
        report = send_pending()

    assert (report.sent, report.retry, report.failed) == (2, 0, 1)
    assert smtpd.to() == ["a@example.kz", "c@example.kz"]
    outbox = rows()
    refused = outbox["nobody@example.kz"]
    assert refused.status == OutboxMessage.FAILED
    assert refused.last_error == "550 no such user"
    assert refused.sent_at is None
    assert (refused.id, "failed", "550 no such user") in report.lines
    assert outbox["a@example.kz"].status == OutboxMessage.SENT
    assert outbox["c@example.kz"].status == OutboxMessage.SENT
    assert f"outbox message {refused.id} (winner): failed" in caplog.text
    for private in ("Құрметті", "Уважаемый", "example.kz"):
        assert private not in caplog.text


def test_a_temporary_refusal_is_retried_when_its_time_comes(ctx, smtpd):
    """A 451 puts the message back for a minute; it goes out on a run after that."""
    smtpd.refuse["busy@example.kz"] = "451 try again later"
    queue("busy@example.kz")
    start = utcnow()

    report = send_pending(now=start)

    assert (report.sent, report.retry, report.failed) == (0, 1, 0)
    row = rows()["busy@example.kz"]
    assert row.status == OutboxMessage.PENDING
    assert row.attempts == 1
    assert row.next_attempt_at == start + timedelta(minutes=1)
    assert row.next_attempt_at > utcnow()
    assert row.last_error == "451 try again later"

    del smtpd.refuse["busy@example.kz"]
    too_early = send_pending(now=start + timedelta(seconds=30))
    assert too_early.picked == 0
    assert smtpd.received == []

    later = start + timedelta(minutes=1)
    report = send_pending(now=later)

    assert report.sent == 1
    assert smtpd.to() == ["busy@example.kz"]
    row = rows()["busy@example.kz"]
    assert row.status == OutboxMessage.SENT
    assert row.sent_at == later
    assert row.attempts == 1


def test_backoff_doubles_from_one_minute_up_to_six_hours():
    """The waits between attempts double from one minute and stop at six hours."""
    assert [backoff(n) for n in range(1, 12)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360)
    ]


def test_with_the_server_down_nothing_is_lost_until_the_last_attempt(app, ctx):
    """With no server, messages stay pending with a growing backoff, then fail at MAX_ATTEMPTS."""
    app.config["MAIL_PORT"] = free_port()
    queue("a@example.kz", "b@example.kz", "c@example.kz")
    now = utcnow()

    for attempt in range(1, MAX_ATTEMPTS):
        report = send_pending(now=now)
        assert (report.sent, report.retry, report.failed) == (0, 3, 0)
        assert send_pending(now=now).picked == 0
        outbox = rows()
        assert len(outbox) == 3
        for row in outbox.values():
            assert row.status == OutboxMessage.PENDING
            assert row.attempts == attempt
            assert row.next_attempt_at == now + backoff(attempt)
            assert "ConnectionRefusedError" in row.last_error
        now = now + backoff(attempt)

    report = send_pending(now=now)

    assert (report.sent, report.retry, report.failed) == (0, 0, 3)
    for row in rows().values():
        assert row.status == OutboxMessage.FAILED
        assert row.attempts == MAX_ATTEMPTS
        assert row.sent_at is None


def test_messages_kept_while_the_server_was_down_go_out_when_it_is_back(app, ctx):
    """Messages put back while the server was down are sent once it answers again."""
    app.config["MAIL_PORT"] = free_port()
    queue("a@example.kz", "b@example.kz")
    now = utcnow()
    assert send_pending(now=now).retry == 2

    with smtp_server(app) as smtpd:
        report = send_pending(now=now + timedelta(minutes=1))

    assert report.sent == 2
    assert sorted(smtpd.to()) == ["a@example.kz", "b@example.kz"]


def test_login_when_credentials_are_set_and_a_refused_login_is_retried(app, ctx):
    """The portal logs in with its credentials; a refused login is a temporary failure."""
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        """Accept the portal's account only, noting each accepted login."""
        if (auth_data.login, auth_data.password) != (b"portal", b"s3cret"):
            return AuthResult(success=False, handled=False)
        logins.append(auth_data.login)
        return AuthResult(success=True, auth_data=auth_data)

    app.config.update(MAIL_USERNAME="portal", MAIL_PASSWORD="wrong")
    with smtp_server(app, authenticator=authenticator, auth_require_tls=False) as smtpd:
        queue("a@example.kz")
        now = utcnow()
        refused = send_pending(now=now)
        app.config["MAIL_PASSWORD"] = "s3cret"
        accepted = send_pending(now=now + timedelta(minutes=1))

    assert refused.retry == 1
    assert refused.lines[0][2].startswith("535 ")
    assert accepted.sent == 1
    assert logins == [b"portal"]
    assert smtpd.to() == ["a@example.kz"]


def test_every_run_that_handled_mail_is_in_the_audit_trail(ctx, smtpd):
    """A run that handled mail leaves one mail.run entry with its counts; an idle run none."""
    smtpd.refuse["nobody@example.kz"] = "550 no such user"
    queue("a@example.kz", "nobody@example.kz")

    send_due(audit.Actor(label="test"))
    send_due(audit.Actor(label="test"))

    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "mail.run")).all()
    assert len(entries) == 1
    assert entries[0].object_type == "outbox"
    assert entries[0].details == '{"failed": 1, "retry": 0, "sent": 1}'
    assert audit.verify_chain().ok


def _add_mail_cli(app) -> None:
    """Register ``flask mail`` on the test app unless the portal already does."""
    if "mail" not in app.cli.commands:
        app.cli.add_command(mail_cli)


def test_flask_mail_send_prints_the_counts_and_records_the_runs(app, runner, smtpd):
    """`flask mail send` sends batch after batch, prints the totals and audits each batch."""
    smtpd.refuse["nobody@example.kz"] = "550 no such user"
    smtpd.refuse["busy@example.kz"] = "451 try again later"
    with app.app_context():
        queue(
            "a@example.kz", "b@example.kz", "c@example.kz", "nobody@example.kz", "busy@example.kz"
        )
    _add_mail_cli(app)

    result = runner.invoke(args=["mail", "send", "--batch", "2"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent 3, to retry 1, failed 1"
    assert sorted(smtpd.to()) == ["a@example.kz", "b@example.kz", "c@example.kz"]
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "mail.run").order_by(AuditEntry.id)
        ).all()
        assert len(entries) == 3
        assert all(entry.object_type == "outbox" for entry in entries)
        assert audit.verify_chain().ok


def test_flask_mail_send_stops_after_max_batches(app, runner, smtpd):
    """`--max-batches` stops the command with messages still due."""
    with app.app_context():
        queue("a@example.kz", "b@example.kz", "c@example.kz")
    _add_mail_cli(app)

    result = runner.invoke(args=["mail", "send", "--batch", "1", "--max-batches", "2"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent 2, to retry 0, failed 0"
    assert len(smtpd.received) == 2
    with app.app_context():
        assert [m.status for m in rows().values()].count(OutboxMessage.PENDING) == 1
    again = runner.invoke(args=["mail", "send"])
    assert again.output.strip() == "sent 1, to retry 0, failed 0"


def test_flask_mail_send_with_nothing_due(app, runner):
    """With an empty outbox the command prints zeros and exits 0."""
    _add_mail_cli(app)

    result = runner.invoke(args=["mail", "send"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent 0, to retry 0, failed 0"
