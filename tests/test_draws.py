"""The monthly draw: pool file, random.org's signed numbers, the stored record, redraws."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from portal.campaign import draws, eligibility, winners
from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.models import (
    Campaign,
    Draw,
    DrawEntry,
    DrawFile,
    DrawIsImmutable,
    DrawWinner,
    Participant,
    db,
)
from portal.models.base import read_chunks
from portal.services.randomorg import RandomOrgError
from tests.helpers import (
    AFTER_SEPTEMBER,
    COMMISSION,
    COMMISSION_TEXT,
    TODAY,
    admin_actor,
    announce,
    conduct,
    count,
    csv_bytes,
    prepare,
    redraw,
    row,
)


def nothing_stored() -> bool:
    return count(Draw) == count(DrawEntry) == count(DrawWinner) == count(DrawFile) == 0


# --- the pool file ------------------------------------------------------------------


def test_pool_file_bytes_are_exactly_as_designed():
    key = bytes(range(32))
    content = draws.pool_file(key, ["1000000001", "2000000002", "AB12"])
    code = [
        hmac.new(key, a.encode(), hashlib.sha256).hexdigest()
        for a in ("1000000001", "2000000002", "AB12")
    ]
    assert (
        content
        == (
            "position,entry_code,account_masked\n"
            f"1,{code[0]},••••••0001\n"
            f"2,{code[1]},••••••0002\n"
            f"3,{code[2]},••AB12\n"
        ).encode()
    )


def test_pool_orders_accounts_by_code_point_whatever_the_database_locale(ctx, demo):
    """Case, digits and Cyrillic in the order Python gives, not a locale's (on PostgreSQL too)."""
    period = find_period(db.session.get(Campaign, demo), "2022-09")
    accounts = ["b-10", "B-2", "a-3", "10", "9", "Ж-5", "ж-4", "Ä-1", "A-1"]
    rows = [row(n, account_number=a) for n, a in enumerate(accounts, start=1)]
    _, report = import_month(period, "sep.csv", csv_bytes(rows), today=TODAY)
    assert report.ok
    eligibility.compute(period)
    db.session.commit()
    pool = prepare(period)
    in_pool = [db.session.get(Participant, pid).account_number for pid in pool.participant_ids]
    assert in_pool == ["10", "9", "A-1", "B-2", "a-3", "b-10", "Ä-1", "Ж-5", "ж-4"]
    assert in_pool == sorted(accounts)


def test_pool_is_the_eligible_sorted_by_account(september):
    pool = prepare(september)
    accounts = [db.session.get(Participant, pid).account_number for pid in pool.participant_ids]
    assert len(accounts) == 10
    assert accounts == sorted(accounts)
    assert "ACC0000007" not in accounts and "ACC0000003" not in accounts
    lines = pool.content.decode().splitlines()
    assert lines[0] == "position,entry_code,account_masked"
    assert [line.split(",")[0] for line in lines[1:]] == [str(n) for n in range(1, 11)]
    assert pool.sha256 == hashlib.sha256(pool.content).hexdigest()
    # the same nonce gives the same file (the confirmation screen and the draw agree)
    assert prepare(september, nonce=pool.nonce).content == pool.content
    assert prepare(september).content != pool.content  # a new key, new entry codes


# --- a draw -------------------------------------------------------------------------


def test_a_draw_stores_its_whole_record_and_verifies(september, standin):
    draw = conduct(september)
    assert draw.source == Draw.RANDOM_ORG and not draw.late and draw.pool_size == 10
    random = json.loads(draw.random_json)
    assert random["userData"] == {
        "draw": draw.id,
        "period": "2022-09",
        "pool_sha256": draw.pool_sha256,
        "pool_size": 10,
        "prizes": [[1, 1]],  # the prize at position 1, once
    }
    assert (random["n"], random["min"], random["max"], random["replacement"]) == (1, 1, 10, False)
    assert draw.response_text == standin.responses[-1]
    assert json.loads(draw.response_text)["result"]["random"] == random
    assert "apiKey" in draw.request_json and standin.api_key not in draw.request_json
    # the number is a position of the pool file, and the winner is who stands there
    (winner,) = draw.winners
    assert winner.position == random["data"][0]
    pool = draws.draw_file(draw, DrawFile.POOL).content.decode().splitlines()
    position, code, masked = pool[winner.position].split(",")
    participant = db.session.get(Participant, winner.participant_id)
    assert int(position) == winner.position
    assert (
        code
        == hmac.new(draw.entry_key, participant.account_number.encode(), hashlib.sha256).hexdigest()
    )
    assert masked == participant.account_masked
    assert draws.entry_of(draw, participant) == (winner.position, code)
    checks = {c.code: c.ok for c in draws.verify(draw)}
    assert checks.pop("random-org-key") is False  # the stand-in's key is not random.org's
    assert all(checks.values()), checks
    assert draws.verified(draws.verify(draw))
    assert {f.name for f in db.session.scalars(sa.select(DrawFile))} == {
        "pool.csv",
        "protocol-kk.pdf",
        "protocol-ru.pdf",
    }


def test_a_stored_draw_cannot_be_changed_or_deleted(september, standin):
    draw = conduct(september)
    draw.place_ru = "elsewhere"
    with pytest.raises(DrawIsImmutable):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(Draw, draw.id))
    with pytest.raises(DrawIsImmutable):
        db.session.flush()
    db.session.rollback()


def test_the_record_shows_when_tampered_with(september, standin):
    draw = conduct(september)
    db.session.execute(
        sa.update(DrawFile).where(DrawFile.name == "pool.csv").values(content=b"position\n")
    )  # bypassing the models, as an intruder in the database would
    db.session.commit()
    db.session.expire_all()
    failed = {c.code for c in draws.verify(db.session.get(Draw, draw.id)) if not c.ok}
    assert {"pool-digest", "pool-size", "user-data"} <= failed


@pytest.mark.parametrize(
    ("now", "code"),
    [(datetime(2022, 9, 30, 12, 0, tzinfo=UTC), "month-not-ended")],
)
def test_not_before_the_month_ends(september, standin, now, code):
    with pytest.raises(draws.DrawRefused) as refused:
        conduct(september, now=now)
    assert refused.value.code == code and nothing_stored()


def test_not_without_eligibility(ctx, demo, standin):
    october = find_period(db.session.get(Campaign, demo), "2022-10")
    with pytest.raises(draws.DrawRefused) as refused:
        conduct(october, now=datetime(2022, 11, 2, tzinfo=UTC))
    assert refused.value.code == "no-eligibility" and nothing_stored()


def test_commission_must_be_complete(september, standin):
    with pytest.raises(draws.DrawRefused) as refused:
        conduct(september, commission=COMMISSION[:2])
    assert refused.value.code == "commission-too-small" and refused.value.details["minimum"] == 3
    with pytest.raises(draws.DrawRefused):
        conduct(september, commission=[*COMMISSION[:2], draws.Member("Someone", "", "")])
    with pytest.raises(draws.DrawRefused) as refused:  # a position in Kazakh only
        conduct(september, commission=draws.parse_commission(f"{COMMISSION_TEXT}; Someone, юрист"))
    assert refused.value.code == "commission-too-small"
    assert nothing_stored()


def test_a_late_draw_needs_a_reason_and_is_marked(september, standin):
    late = datetime(2022, 10, 21, 6, 0, tzinfo=UTC)
    with pytest.raises(draws.DrawRefused) as refused:
        conduct(september, now=late)
    assert refused.value.code == "late-reason-required" and nothing_stored()
    with pytest.raises(draws.DrawRefused) as refused:  # in one language only
        conduct(september, now=late, late_reason={"ru": "Комиссия не могла собраться раньше."})
    assert refused.value.code == "late-reason-required" and nothing_stored()
    reason = {"kk": "Комиссия ертерек жинала алмады.", "ru": "Комиссия не могла собраться раньше."}
    draw = conduct(september, now=late, late_reason=reason)
    assert draw.late and (draw.late_reason_kk, draw.late_reason_ru) == (reason["kk"], reason["ru"])


def test_a_second_draw_of_the_month_is_refused(september, standin):
    conduct(september)
    with pytest.raises(draws.DrawRefused) as refused:
        conduct(september)
    assert refused.value.code == "already-drawn" and count(Draw) == 1


def test_two_draws_at_the_same_moment_give_one(app, september, standin):
    """Two processes confirm at once: one draw is stored, the other is refused."""
    standin.advisory_delay_ms = 0
    outcomes: list[str] = []
    barrier = threading.Barrier(2)
    period_id = september.id
    announce(prepare(september), AFTER_SEPTEMBER)  # both confirm the pool announced

    def attempt():
        with app.app_context():
            period = db.session.get(type(september), period_id)
            pool = draws.announced_pool(period, secret=app.config["SECRET_KEY"])
            barrier.wait()
            try:
                conduct(period, pool=pool)
                outcomes.append("drawn")
            except draws.DrawRefused as refused:
                outcomes.append(refused.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # the other one is refused while the first waits on random.org, or once it is recorded
    assert outcomes.count("drawn") == 1
    assert set(outcomes) - {"drawn"} <= {"draw-in-progress", "already-drawn"}
    db.session.expire_all()
    assert count(Draw) == 1 and count(DrawWinner) == 1


def test_a_changed_pool_is_refused_at_confirmation(september, standin):
    pool = prepare(september)
    with pytest.raises(draws.DrawRefused) as refused:
        conduct(september, pool=pool, expected_sha256="0" * 64)
    assert refused.value.code == "pool-changed" and nothing_stored()


# --- random.org failing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (("error", 400), "key-unknown"),
        (("error", 401), "key-not-running"),
        (("error", 402), "requests-exceeded"),
        (("error", 403), "bits-exceeded"),
        (("error", -32602), "invalid-parameters"),
        ("malformed", "malformed"),
        ("bad-signature", "bad-signature"),
        ("wrong-data", "malformed"),
    ],
)
def test_random_org_failures_leave_no_draw(september, standin, failure, code):
    standin.fail_next(failure, times=5)
    with pytest.raises(RandomOrgError) as error:
        conduct(september)
    assert error.value.code == code
    assert nothing_stored()


def test_random_org_down_leaves_no_draw(september, standin):
    standin.fail_next("http-500", times=10)
    with pytest.raises(RandomOrgError) as error:
        conduct(september)
    assert error.value.code == "offline" and nothing_stored()


def test_random_org_too_slow_leaves_no_draw(september, standin):
    standin.fail_next("timeout", times=10, delay=2.0)
    with pytest.raises(RandomOrgError) as error:
        conduct(september)
    assert error.value.code == "timeout" and nothing_stored()


def test_random_org_signed_with_another_key_is_refused(app, september, standin):
    app.config["RANDOM_ORG_PUBLIC_KEY"] = None  # random.org's own key: the stand-in's fails
    with pytest.raises(RandomOrgError) as error:
        conduct(september)
    assert error.value.code == "bad-signature" and nothing_stored()


def test_without_a_key_no_draw_unless_the_fallback_is_chosen(app, september, standin):
    app.config["RANDOM_ORG_API_KEY"] = None
    with pytest.raises(RandomOrgError) as error:
        conduct(september)
    assert error.value.code == "no-key" and nothing_stored()
    assert standin.requests == []
    draw = conduct(
        september, fallback_reason="random.org unreachable for two days", actor=admin_actor()
    )
    assert (
        draw.is_local and draw.tr("fallback_reason", "ru") == "random.org unreachable for two days"
    )
    assert draw.signature == "" and len(draw.numbers) == 1 and 1 <= draw.numbers[0] <= 10
    checks = {c.code: c.ok for c in draws.verify(draw)}
    assert checks["local-fallback"] is False and not draws.verified(draws.verify(draw))


# --- redraws ------------------------------------------------------------------------


def fall_away(draw) -> None:
    """The draw's winners fail the manual check (rule 8), so the prize may be drawn again."""
    for winner in winners.winners_of_draw(draw):
        winners.verify(winner, manual_ok=False, manual_note="register shows another owner")
    db.session.commit()


def test_a_redraw_waits_for_the_winner_to_fall_away(september, standin):
    first = conduct(september)
    with pytest.raises(draws.DrawRefused) as refused:
        redraw(first, "The commission would like another winner.", now=AFTER_SEPTEMBER)
    assert refused.value.code == "winner-standing"
    assert count(Draw) == 1
    fall_away(first)
    assert redraw(first, "Failed the check.", now=AFTER_SEPTEMBER).replaces_id == first.id


def test_redraws_exclude_earlier_winners_and_keep_the_chain(september, standin):
    first = conduct(september)
    first_winner = first.winners[0].participant_id
    first_record = (first.pool_sha256, first.random_json, first.numbers_json)
    fall_away(first)
    second = redraw(first, "The winner failed the check (rule 8).", now=AFTER_SEPTEMBER)
    assert second.replaces_id == first.id and second.sequence == 1
    assert second.pool_size == 9 and second.commission == first.commission
    assert first_winner not in prepare(september, replaces=second).participant_ids
    second_ids = db.session.scalars(
        sa.select(DrawEntry.participant_id).filter_by(draw_id=second.id)
    ).all()
    assert first_winner not in second_ids and len(second_ids) == 9
    fall_away(second)
    third = redraw(second, "No contact within 10 days (rule 9).", now=AFTER_SEPTEMBER)
    assert third.pool_size == 8
    assert {third.winners[0].participant_id, second.winners[0].participant_id, first_winner} == {
        w.participant_id for d in (first, second, third) for w in d.winners
    }
    assert [d.id for d in draws.chain(second)] == [first.id, second.id, third.id]
    db.session.expire_all()
    first = db.session.get(Draw, first.id)
    assert (first.pool_sha256, first.random_json, first.numbers_json) == first_record
    assert draws.current_draw(september).id == third.id
    with pytest.raises(draws.DrawRefused) as refused:
        redraw(first, "again", now=AFTER_SEPTEMBER)
    assert refused.value.code == "already-replaced"
    fall_away(third)
    with pytest.raises(draws.DrawRefused) as refused:
        redraw(third, "  ", now=AFTER_SEPTEMBER)
    assert refused.value.code == "redraw-reason-required"
    record = draws.record(db.session.get(Draw, second.id))
    assert record["replaces"] == first.id and record["replaced_by"] == third.id
    assert all(draws.verified(draws.verify(d)) for d in (first, second, third))


def test_a_pool_file_is_read_a_chunk_at_a_time_exactly_as_stored(september, standin):
    """``read_chunks`` (the verification, the pool's download): the same bytes, whatever
    the chunk's size; None for a file that is not there."""
    draw = conduct(september)
    stored = draws.draw_file(draw, DrawFile.POOL).content
    files = DrawFile.__table__.c
    mine = (files.draw_id == draw.id, files.name == DrawFile.POOL)
    for size in (1, 7, 64, len(stored) - 1, len(stored), 1 << 20):
        chunks = list(read_chunks(files.content, *mine, size=size))
        assert b"".join(chunks) == stored
        assert max(map(len, chunks)) <= size
    assert read_chunks(files.content, files.draw_id == draw.id + 1) is None
