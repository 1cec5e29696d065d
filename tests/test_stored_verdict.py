"""A draw is verified once, when it is made, and its verdict kept: the public record shows
the stored verdict and its time without loading the pool file; staff and ``flask draw
verify`` verify again on demand, keep the new verdict, and say loudly when it changed."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from portal.campaign import draws, winners
from portal.campaign.periods import find_period
from portal.models import AuditEntry, Campaign, DrawFile, DrawVerdict, db
from portal.wording.formats import format_moment
from tests.helpers import (
    AFTER_SEPTEMBER,
    conduct,
    csrf_from,
    load_september,
    page_text,
    redraw,
    translated,
)

BROKEN = "Verification FAILED: this record does not hold together."
CHANGED = (
    "The verdict has CHANGED since the last verification (it was: %(previous)s). Something in"
    " the stored record of draw No. %(id)s is no longer as it was; this is recorded in the"
    " audit trail."
)
OTHER_KEY = (
    "Not verified by random.org: the record holds together, but it was signed by another key"
    " (SHA-256 %(fingerprint)s), not random.org's. It proves nothing about the randomness of"
    " the numbers: a demonstration or test draw."
)
FORGED_POOL = b"position,entry_code,account_masked\n1,forged,x\n"


def verdict_on(html: str) -> str:
    """The verdict code the page gives (the element that carries ``data-verdict``)."""
    match = re.search(r'data-verdict="([a-z-]+)"', html)
    assert match, "no verdict on the page"
    return match.group(1)


@contextmanager
def statements(app):
    """Every SQL statement sent to the database meanwhile, as sent."""
    sent: list[str] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement.lower())

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def reads(sent: list[str], *tables: str) -> list[str]:
    """The statements that name any of ``tables``."""
    return [s for s in sent if any(re.search(rf"\b{t}\b", s) for t in tables)]


def tamper_pool(app, draw_id: int) -> None:
    """Someone with database access changes the stored pool file's bytes."""
    with app.app_context():
        db.session.execute(
            sa.update(DrawFile)
            .where(DrawFile.draw_id == draw_id, DrawFile.name == DrawFile.POOL)
            .values(content=FORGED_POOL)
        )
        db.session.commit()


def kept(app, draw_id: int) -> tuple[str, object, str]:
    """The stored verdict's code, time and who verified."""
    with app.app_context():
        row = db.session.get(DrawVerdict, draw_id)
        return (row.code, row.verified_at, row.verified_by) if row else None


def draw_september(app, demo) -> tuple[int, str]:
    """September drawn through the stand-in random.org: the draw's id, its key's SHA-256."""
    load_september(app, demo)
    with app.app_context():
        draw = conduct(find_period(db.session.get(Campaign, demo), "2022-09"))
        row = db.session.get(DrawVerdict, draw.id)
        return draw.id, row.key_sha256


def test_a_draw_and_its_redraw_keep_their_verdicts_from_when_they_were_made(september, standin):
    first = conduct(september)
    row = db.session.get(DrawVerdict, first.id)
    assert row.code == "verified-other-key" and row.verified_by == draws.DRAW_ITSELF
    assert row.key_sha256 and row.verified_at is not None
    checks = draws.stored_checks(row)
    assert [c.code for c in checks][:2] == ["pool-digest", "pool-size"]
    assert {"signature", "winners", "protocol"} <= {c.code for c in checks}
    assert all(c.ok for c in checks if c.code != "random-org-key")
    assert checks == draws.verify(first)  # the same checks as made now
    for winner in winners.winners_of_draw(first):
        winners.verify(winner, manual_ok=False, manual_note="register shows another owner")
    db.session.commit()
    second = redraw(first, "Failed the check.", now=AFTER_SEPTEMBER)
    again = db.session.get(DrawVerdict, second.id)
    assert again.code == "verified-other-key" and again.verified_by == draws.DRAW_ITSELF
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DrawVerdict)) == 2


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_public_record_shows_the_stored_verdict_without_reading_the_pool(
    app, client, auth, demo, standin, lang
):
    draw_id, fingerprint = draw_september(app, demo)
    code, verified_at, _ = kept(app, draw_id)
    tamper_pool(app, draw_id)
    with statements(app) as sent:
        page = client.get(f"/{lang}/draws/{draw_id}")
    assert page.status_code == 200
    # neither the pool file nor the pool's entries are read: the page is the same whatever
    # the pool's size, and it still gives the verdict made when the draw was
    assert sent and not reads(sent, "draw_file", "draw_entry")
    html = page.get_data(as_text=True)
    assert verdict_on(html) == code == "verified-other-key"
    text = page_text(page)
    assert translated(lang, OTHER_KEY, fingerprint=fingerprint) in text
    with app.test_request_context(f"/{lang}/"):
        when = format_moment(verified_at, lang)
    assert f"{translated(lang, 'Time of verification')}: <time" in text
    assert f">{when.replace(chr(0xA0), ' ')}</time>" in text
    assert kept(app, draw_id) == (code, verified_at, draws.DRAW_ITSELF)  # nothing re-verified

    # staff verify again on demand: the change is found, said loudly and put on record
    auth.create("auditor", language=lang)
    auth.login("auditor", create=False)
    staff_page = client.get(f"/admin/ismet-2022/draws/{draw_id}")
    assert verdict_on(staff_page.get_data(as_text=True)) == "verified-other-key"
    assert (
        client.post(f"/admin/ismet-2022/draws/{draw_id}/verify").status_code == 400
    )  # no CSRF token
    assert kept(app, draw_id)[0] == "verified-other-key"
    token = csrf_from(staff_page.get_data(as_text=True))
    answer = client.post(f"/admin/ismet-2022/draws/{draw_id}/verify", data={"csrf_token": token})
    assert answer.status_code == 302
    shown = client.get(answer.headers["Location"])
    with app.test_request_context(f"/{lang}/"):
        previous = translated(lang, OTHER_KEY, fingerprint=fingerprint)
    assert translated(lang, CHANGED, previous=previous, id=draw_id) in page_text(shown)
    assert verdict_on(shown.get_data(as_text=True)) == "broken"
    code, later, by = kept(app, draw_id)
    assert code == "broken" and later > verified_at and by == "auditor@ismet.kz"
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "draw.verify"))
        assert entry.actor == "auditor@ismet.kz" and entry.object_id == str(draw_id)
        assert json.loads(entry.details)["changed"] is True
        assert json.loads(entry.details)["previous"] == "verified-other-key"
        assert json.loads(entry.details)["verdict"] == "broken"
        assert "pool-digest" in json.loads(entry.details)["failed"]
    # and the public now sees the verdict the staff's verification kept
    public = client.get(f"/{lang}/draws/{draw_id}")
    assert verdict_on(public.get_data(as_text=True)) == "broken"
    assert translated(lang, BROKEN) in page_text(public)


def test_verifying_again_an_unchanged_draw_keeps_its_verdict_with_a_new_time(
    app, client, auth, demo, standin
):
    draw_id, _ = draw_september(app, demo)
    code, verified_at, _ = kept(app, draw_id)
    auth.login("commission")  # Russian
    token = csrf_from(client.get(f"/admin/ismet-2022/draws/{draw_id}").get_data(as_text=True))
    answer = client.post(
        f"/admin/ismet-2022/draws/{draw_id}/verify",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert translated("ru", "Verified again: the verdict is unchanged.") in page_text(answer)
    again = kept(app, draw_id)
    assert again[0] == code and again[1] > verified_at
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "draw.verify"))
        assert (
            json.loads(entry.details)["changed"] is False
            and json.loads(entry.details)["failed"] == []
        )


def test_flask_draw_verify_keeps_the_new_verdict(app, runner, demo, standin):
    draw_id, _ = draw_september(app, demo)
    code, verified_at, _ = kept(app, draw_id)
    result = runner.invoke(args=["draw", "verify", str(draw_id), "--lang", "ru"])
    assert result.exit_code == 0, result.output
    assert kept(app, draw_id)[0] == code and kept(app, draw_id)[1] > verified_at
    assert kept(app, draw_id)[2] == "cli"
    tamper_pool(app, draw_id)
    broken = runner.invoke(args=["draw", "verify", str(draw_id), "--lang", "kk"])
    assert broken.exit_code == 1
    assert f"draw {draw_id}: verdict changed from {code}" in broken.output
    assert translated("kk", BROKEN) in broken.output
    assert kept(app, draw_id)[0] == "broken"
    # verified again, still broken: not a change any more, but not holding either
    still = runner.invoke(args=["draw", "verify", str(draw_id)])
    assert still.exit_code == 1 and "verdict changed" not in still.output
    with app.app_context():
        changes = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "draw.verify").order_by(AuditEntry.id)
        ).all()
        assert [json.loads(e.details)["changed"] for e in changes] == [False, True, False]
        assert {e.actor for e in changes} == {"cli"}


def test_a_draw_stored_before_verdicts_were_kept_is_verified_at_its_first_view(
    app, client, runner, demo, standin
):
    draw_id, _ = draw_september(app, demo)
    with app.app_context():  # as a draw stored before migration 0014
        db.session.execute(sa.delete(DrawVerdict))
        db.session.commit()
    assert kept(app, draw_id) is None
    with statements(app) as sent:
        assert verdict_on(client.get(f"/kk/draws/{draw_id}").get_data(as_text=True)) == (
            "verified-other-key"
        )
    assert reads(sent, "draw_file")  # verified this once
    code, verified_at, by = kept(app, draw_id)
    assert code == "verified-other-key" and by == draws.FIRST_VIEW
    with statements(app) as sent:
        assert client.get(f"/ru/draws/{draw_id}").status_code == 200
    assert not reads(sent, "draw_file", "draw_entry")  # and never again
    assert kept(app, draw_id) == (code, verified_at, by)

    # or all at once, by the command
    with app.app_context():
        db.session.execute(sa.delete(DrawVerdict))
        db.session.commit()
    result = runner.invoke(args=["draw", "verify", "--missing"])
    assert result.exit_code == 0, result.output
    assert f"1 draw(s) verified: {draw_id}" in result.output
    assert kept(app, draw_id)[0] == "verified-other-key" and kept(app, draw_id)[2] == "cli"
    again = runner.invoke(args=["draw", "verify", "--missing"])
    assert "0 draw(s) verified" in again.output
    assert runner.invoke(args=["draw", "verify"]).exit_code == 2  # neither an id nor --missing
