"""No transaction waits on the network: a draw reserves its place, commits, asks
random.org outside any transaction, then records the answer in one transaction.

A failed attempt is kept with its reason for the staff and is never a draw to the
public; a reservation left by a process that died lapses after its hold.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.campaign import audit, draws, eligibility, months
from portal.models import AuditEntry, Draw, DrawAttempt, db, utcnow
from portal.services.randomorg import RandomOrgError
from tests.helpers import (
    AFTER_SEPTEMBER,
    COMMISSION,
    PLACE,
    announced,
    conduct,
    count,
    page_text,
    prepare,
    site,
    translated,
)

LANGS = ("kk", "ru")
WAIT = 3.0  # seconds the stand-in takes to answer


def attempts(state: str | None = None) -> list[DrawAttempt]:
    query = sa.select(DrawAttempt).order_by(DrawAttempt.id)
    if state:
        query = query.filter_by(state=state)
    return list(db.session.scalars(query))


def audited(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).filter_by(action=action)))


def test_while_random_org_thinks_the_database_is_free_and_nothing_is_public(
    app, other_app, september, standin
):
    """During the wait another process writes at once (SQLite: a busy timeout of 0.2 s;
    PostgreSQL: no session idle in a transaction), and the month shows no draw."""
    app.config["RANDOM_ORG_TIMEOUT"] = (2.0, 10.0)
    standin.fail_next("timeout", delay=WAIT)  # a valid answer, slowly
    period_id = september.id
    db.session.commit()  # this test's own session holds no transaction either
    outcome: dict = {}

    def draw() -> None:
        with app.app_context():
            period = db.session.get(type(september), period_id)
            try:
                outcome["draw"] = conduct(period).id
            except Exception as error:
                outcome["error"] = error
            finally:
                db.session.remove()

    thread = threading.Thread(target=draw)
    thread.start()
    deadline = time.monotonic() + 10
    while not standin.request_times and time.monotonic() < deadline:
        time.sleep(0.05)
    assert standin.request_times, "random.org was never asked"

    impatient = other_app(SQLITE_BUSY_TIMEOUT=0.2)
    with impatient.app_context():
        (pending,) = attempts(DrawAttempt.PENDING)
        assert pending.sequence == 0 and pending.started_by == ""
        period = db.session.get(type(september), period_id)
        # the public sees no draw, and the month is not drawn
        assert draws.draws_of(period) == [] and draws.current_draw(period) is None
        assert months.month_status(period, AFTER_SEPTEMBER.date()).draw is None
        # a writer does not wait on the draw
        audit.record("test.write", actor=audit.Actor(label="test"), object_type="test")
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            idle = db.session.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
                )
            )
            assert idle == 0
        # a second draw of the month is refused while the first one waits
        with pytest.raises(draws.DrawRefused) as refused:
            conduct(period)
        assert refused.value.code == "draw-in-progress"
        db.session.remove()
    thread.join(30)
    assert "error" not in outcome, outcome
    db.session.expire_all()
    (done,) = attempts()
    draw = db.session.get(Draw, outcome["draw"])
    assert done.state == DrawAttempt.DONE and done.draw_id == draw.id
    assert draw.numbers and draws.verified(draws.verify(draw))
    assert audit.verify_chain().ok


def test_a_failed_attempt_is_kept_with_its_reason_and_the_month_stays_open(
    app, client, auth, september, standin
):
    standin.fail_next("bad-signature")  # final: not retried
    with pytest.raises(RandomOrgError):
        conduct(september)
    assert count(Draw) == 0
    (failed,) = attempts()
    assert (failed.state, failed.failure) == (DrawAttempt.FAILED, "bad-signature")
    assert failed.failure_detail  # what was wrong, for the staff
    (entry,) = audited("draw.attempt_failed")
    assert entry.object_id == str(failed.id) and '"failure": "bad-signature"' in entry.details
    # the staff see it on the draws page; the public sees nothing of it
    auth.login("auditor")
    listing = client.get("/admin/ismet-2022/draws")
    assert listing.status_code == 200, listing.status_code
    page = page_text(listing)
    # (the app context the fixtures hold gives the page the language it first had)
    assert any(translated(lang, "Attempts that did not become draws") in page for lang in LANGS)
    assert any(translated(lang, "Attempt No. %(id)s", id=failed.id) in page for lang in LANGS)
    assert client.get(f"/ru/draws/{failed.draw_id}").status_code == 404
    # the draw is conducted again; its id is never the failed attempt's
    draw = conduct(september)
    assert draw.id > failed.draw_id and draws.verified(draws.verify(draw))
    assert draw.numbers and attempts(DrawAttempt.DONE)[0].draw_id == draw.id


def test_an_answer_after_the_reservation_lapsed_is_not_recorded(other_app, september, standin):
    """random.org answers, but the reservation lapsed meanwhile: nothing is recorded."""
    clock = other_app()

    def meanwhile(step: str) -> None:
        if step != "random.org":
            return
        with clock.app_context():  # another process's view: the hold has passed
            (pending,) = attempts(DrawAttempt.PENDING)
            client = site()["client"]
            assert pending.expires_at - pending.started_at >= draws.longest_wait(client)
            pending.expires_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
            db.session.remove()

    with pytest.raises(draws.DrawRefused) as refused:
        conduct(september, progress=meanwhile)
    # someone else may have taken the place since: the draw is conducted again
    assert refused.value.code == "attempt-expired"
    (failed,) = attempts()
    assert (failed.state, failed.failure) == (DrawAttempt.FAILED, "attempt-expired")
    assert failed.response_text and count(Draw) == 0  # random.org's answer, kept
    assert draws.verified(draws.verify(conduct(september)))


def draw_request(by: str) -> draws.DrawRequest:
    """The commission's request for September's draw, made by ``by``."""
    return draws.DrawRequest(
        commission=COMMISSION,
        place=PLACE,
        actor=audit.Actor(label=by),
        late_reason={},
        reason={},
        fallback_reason={},
        now=AFTER_SEPTEMBER,
    )


def test_a_reservation_left_by_a_dead_process_lapses(september, standin):
    """A process reserves and dies: the month is held only until the reservation lapses."""
    pool = announced(prepare(september), AFTER_SEPTEMBER)
    request = draw_request(by="crashed")
    reservation = draws.reserve(pool, request, hold=timedelta(minutes=10))
    # ... and its process is killed here: nothing records or fails it
    with pytest.raises(draws.DrawRefused) as refused:
        conduct(september)
    assert refused.value.code == "draw-in-progress"
    assert refused.value.details["by"] == "crashed"
    refusals = draws.refusals(september, None, AFTER_SEPTEMBER)
    assert [r.code for r in refusals] == ["draw-in-progress"]
    # while the draw is under way the month's data stays as its pool was made from
    with pytest.raises(eligibility.MonthFrozen) as frozen:
        eligibility.recompute(september, audit.Actor(label="test"))
    assert frozen.value.code == "month-drawing"
    assert frozen.value.details["draw"] == reservation.draw_id
    db.session.rollback()
    # ten minutes later the place is free again
    attempt = db.session.get(DrawAttempt, reservation.attempt_id)
    attempt.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    draw = conduct(september)
    db.session.expire_all()
    lapsed = db.session.get(DrawAttempt, reservation.attempt_id)
    assert (lapsed.state, lapsed.failure) == (DrawAttempt.FAILED, "expired")
    assert len(audited("draw.attempt_expired")) == 1
    assert draw.id != lapsed.draw_id and draws.verified(draws.verify(draw))


def test_the_commission_page_refuses_a_second_draw_under_way(app, client, auth, september):
    """The page says the draw is under way, in the member's language, instead of a form."""
    pool = announced(prepare(september), AFTER_SEPTEMBER)
    request = draw_request(by="other member")
    draws.reserve(pool, request)
    auth.login("commission")
    page = client.get("/admin/ismet-2022/draws/new/2022-09")
    assert page.status_code == 200
    assert "other member" in page_text(page)
    assert "уже идёт" in page_text(page) or "жүріп жатыр" in page_text(page)
    listing = page_text(client.get("/admin/ismet-2022/draws"))
    assert any(translated(lang, "under way") in listing for lang in LANGS)


def test_audit_appends_from_twenty_threads_keep_one_chain(app, ctx):
    """60 entries appended by 20 threads at once: every one stored, the chain whole."""
    threads, each = 20, 3
    barrier = threading.Barrier(threads)
    failures: list[str] = []

    def append(n: int) -> None:
        with app.app_context():
            barrier.wait()
            for i in range(each):
                try:
                    audit.record(
                        "test.append",
                        details={"thread": n, "i": i},
                        object_type="test",
                        actor=audit.Actor(label=f"thread {n}"),
                    )
                    db.session.commit()
                except Exception as error:
                    db.session.rollback()
                    failures.append(f"{type(error).__name__}: {error}")
            db.session.remove()

    workers = [threading.Thread(target=append, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert failures == []
    assert len(audited("test.append")) == threads * each
    report = audit.verify_chain()
    assert report.ok and report.checked == threads * each
