"""The ledger of random.org answers: every signed answer of the key on the record, the run
of serial numbers public (``/<lang>/draws``, ``ledger.json``), and the ledger check.

Everything runs against the stand-in random.org, a real HTTP server that numbers each
key's answers in sequence and serves ``getResult`` as random.org does; an "extra call
behind the portal's back" is a plain HTTP request to it with the portal's key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
import sqlalchemy as sa

from portal.campaign import audit, draws, ledger, winners
from portal.demo.randomorg_standin import UNKNOWN_SERIAL, StandIn
from portal.jobs import ledger as ledger_jobs
from portal.jobs.schedule import hourly
from portal.models import Draw, DrawAttempt, RandomAnswer, db, utcnow
from portal.services.randomorg import (
    PINNED_KEY_FILE,
    RandomOrgClient,
    RandomOrgError,
    hashed_api_key,
)
from tests.helpers import (
    AFTER_SEPTEMBER,
    conduct,
    load_demo_draws,
    page_text,
    redraw,
    serving,
    site,
    translated,
)
from tests.verifier_draws import run_verify

LANGS = ("kk", "ru")
USER_DATA = {"draw": 1, "period": "2022-09", "pool_sha256": "0" * 64, "pool_size": 10}


def client_of(server: StandIn, api_key: str | None = None, **kwargs) -> RandomOrgClient:
    kwargs.setdefault("retries", 0)
    return RandomOrgClient(server.url, api_key or server.api_key, server.public_key_pem, **kwargs)


def behind_the_portals_back(server: StandIn, user_data: object = None) -> dict:
    """A signed call with the portal's own key, made by someone else: plain HTTP."""
    body = {
        "jsonrpc": "2.0",
        "method": "generateSignedIntegers",
        "params": {
            "apiKey": server.api_key,
            "n": 1,
            "min": 1,
            "max": 10,
            "replacement": False,
            "userData": user_data,
        },
        "id": 4242,
    }
    answer = requests.post(server.url, json=body, timeout=5).json()
    return answer["result"]["random"]


def serials(key_run: ledger.KeyRun) -> list[tuple[int, str]]:
    return [(s.serial, s.use) for s in key_run.serials]


def the_run() -> ledger.KeyRun:
    (key_run,) = ledger.runs()
    return key_run


def at_utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- the stand-in and the client ---------------------------------------------------


def test_the_stand_in_numbers_each_keys_answers_and_gives_them_back(standin):
    portal = client_of(standin)
    first = portal.generate_signed_integers(1, 1, 10, user_data=USER_DATA)
    second = portal.generate_signed_integers(2, 1, 10)
    assert (first.serial_number, second.serial_number) == (1, 2)
    # random.org's hashedApiKey: the base64 of the key's SHA-512
    expected = base64.b64encode(hashlib.sha512(standin.api_key.encode()).digest()).decode()
    assert first.random["hashedApiKey"] == hashed_api_key(standin.api_key) == expected
    # another key numbers its own answers from 1
    standin.add_key("another-key")
    other = client_of(standin, "another-key").generate_signed_integers(1, 1, 10)
    assert other.serial_number == 1 and other.random["hashedApiKey"] != expected
    # getResult gives back the very answer, byte for byte, checked as every answer is
    again = portal.get_result(1)
    assert (again.random_text, again.signature) == (first.random_text, first.signature)
    assert again.serial_number == 1 and again.user_data == USER_DATA
    assert portal.get_result(2).random_text == second.random_text
    assert client_of(standin, "another-key").get_result(1).random_text == other.random_text


def test_get_result_of_a_serial_the_key_does_not_have_is_random_orgs_error(standin):
    portal = client_of(standin)
    portal.generate_signed_integers(1, 1, 10)
    with pytest.raises(RandomOrgError) as error:
        portal.get_result(2)
    assert error.value.rpc_code == UNKNOWN_SERIAL
    # the same error object as random.org's envelope, straight from the server
    body = {
        "jsonrpc": "2.0",
        "method": "getResult",
        "params": {"apiKey": standin.api_key, "serialNumber": 99},
        "id": 7,
    }
    answer = requests.post(standin.url, json=body, timeout=5).json()
    assert answer["id"] == 7 and answer["error"]["code"] == UNKNOWN_SERIAL
    # an unknown key is random.org's 400, as for any method
    body["params"]["apiKey"] = "nobody's key"
    assert requests.post(standin.url, json=body, timeout=5).json()["error"]["code"] == 400


def test_get_result_is_checked_like_every_answer(standin):
    client_of(standin).generate_signed_integers(1, 1, 10)
    # not signed by the configured key
    wrong_key = RandomOrgClient(
        standin.url, standin.api_key, PINNED_KEY_FILE.read_text(), retries=0
    )
    with pytest.raises(RandomOrgError) as error:
        wrong_key.get_result(1)
    assert error.value.code == "bad-signature"
    # another key's answer is never taken for this key's
    standin.add_key("another-key")
    with pytest.raises(RandomOrgError) as error:
        client_of(standin, "another-key").get_result(1)
    assert error.value.rpc_code == UNKNOWN_SERIAL


# --- the demo's draws --------------------------------------------------------------


def test_the_serial_run_over_the_demo_draws(app, client, demo):
    load_demo_draws(app, demo)
    with app.app_context():
        made = db.session.scalars(sa.select(Draw).order_by(Draw.id)).all()
        key_run = the_run()
        held = db.session.scalars(sa.select(RandomAnswer)).all()
        # every answer the portal asked for is on the ledger, and no serial lacks one
        assert {a.how for a in held} == {RandomAnswer.ASKED}
        assert [s for s, _ in serials(key_run)] == list(range(1, len(held) + 1))
        uses = dict(serials(key_run))
        for draw in made:
            if not draw.is_local:
                assert uses[draw.serial_number] == ledger.DRAW
                found = {s.serial: s.draw_id for s in key_run.serials}[draw.serial_number]
                assert found == draw.id
                checks = {c.code: c for c in draws.verify(draw)}
                # every demo pool is announced before its draw, and nothing came between
                assert draw.announced_at is not None
                expected = (
                    "first-answer" if draw.serial_number == 1 else ("previous-before-announcement")
                )
                assert (checks["ledger"].ok, checks["ledger"].detail) == (True, expected)
        assert not key_run.flagged
        drawn = [d for d in made if not d.is_local]
        record = json.loads(client.get(f"/ru/draws/{drawn[-1].id}/record.json").data)
        previous = record["previous_answer"]
        assert previous["serial"] == drawn[-1].serial_number - 1
        assert previous["random"]["serialNumber"] == previous["serial"]
    for lang in LANGS:
        response = client.get(f"/{lang}/ismet-2022/draws")
        assert response.status_code == 200
        page = page_text(response)
        assert translated(lang, "Draws and random.org answers") in page
        for draw in made:
            assert f'href="/{lang}/draws/{draw.id}"' in page
        assert 'class="flagged"' not in page
        winners_page = client.get(f"/{lang}/ismet-2022/winners").get_data(as_text=True)
        assert f'href="/{lang}/ismet-2022/draws"' in winners_page
    published = json.loads(client.get("/kk/ismet-2022/draws/ledger.json").data)
    (key,) = published["keys"]
    assert [s["use"] for s in key["serials"]] == [u for _, u in serials(key_run)]
    for item in key["serials"]:
        # each answer as received, with its signature: it verifies as random.json does
        text = json.dumps(item["random"], separators=(",", ":"), ensure_ascii=False)
        with app.app_context():
            assert draws.verify_signature(text, item["signature"], made[0].public_key_pem)


# --- answers of failed attempts ----------------------------------------------------


def test_the_answer_of_an_attempt_refused_at_recording_is_kept(other_app, september, standin):
    clock = other_app()

    def meanwhile(step: str) -> None:
        if step != "random.org":
            return
        with clock.app_context():  # another process lets the reservation lapse
            pending = db.session.scalar(sa.select(DrawAttempt).filter_by(state="pending"))
            pending.expires_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
            db.session.remove()

    with pytest.raises(draws.DrawRefused):
        conduct(september, progress=meanwhile)
    db.session.expire_all()
    failed = db.session.scalar(sa.select(DrawAttempt))
    (kept,) = db.session.scalars(sa.select(RandomAnswer)).all()
    assert (kept.how, kept.attempt_id, kept.draw_id) == ("asked", failed.id, failed.draw_id)
    assert kept.serial_number == 1 and kept.user_data["draw"] == failed.draw_id
    assert json.loads(failed.response_text)["result"]["random"] == kept.random
    # the month is drawn again: serial 2, and serial 1 stays on the record as an attempt
    draw = conduct(september)
    assert serials(the_run()) == [(1, ledger.ATTEMPT), (2, ledger.DRAW)]
    assert draws.ledger.previous_answer(draw)["serial"] == 1


def test_a_signed_answer_that_is_not_what_was_asked_is_kept(september, standin):
    standin.fail_next("wrong-data")  # signed, but its numbers lie outside the pool
    with pytest.raises(RandomOrgError) as error:
        conduct(september)
    assert error.value.code == "malformed"
    (kept,) = db.session.scalars(sa.select(RandomAnswer)).all()
    failed = db.session.scalar(sa.select(DrawAttempt))
    assert (kept.serial_number, kept.how, kept.attempt_id) == (1, "asked", failed.id)
    assert failed.state == DrawAttempt.FAILED
    assert serials(the_run()) == [(1, ledger.ATTEMPT)]


def test_an_answer_lost_on_the_way_is_fetched_as_the_attempts(september, standin):
    """random.org answered, but the answer never reached the portal (here: spoilt on the
    way); random.org keeps it, the sync fetches it and knows the attempt it was for."""
    standin.fail_next("bad-signature")
    with pytest.raises(RandomOrgError) as error:
        conduct(september)
    assert error.value.code == "bad-signature"
    # the failed attempt looked for it at once, from serial 1 as the portal held none
    db.session.expire_all()
    (fetched,) = db.session.scalars(sa.select(RandomAnswer)).all()
    failed = db.session.scalar(sa.select(DrawAttempt))
    assert (fetched.how, fetched.attempt_id) == ("fetched", failed.id)
    assert serials(the_run()) == [(1, ledger.ATTEMPT)]
    assert ledger.sync(site()["client"], beyond=True).fetched == []  # nothing more


# --- a call behind the portal's back -----------------------------------------------


def drawn_at(standin: StandIn, when: datetime):
    standin.clock = lambda: when


def fall_away(draw) -> None:
    for winner in winners.winners_of_draw(draw):
        winners.verify(winner, manual_ok=False, manual_note="register shows another owner")
    db.session.commit()


T1 = datetime(2022, 10, 10, 6, 0, tzinfo=UTC)  # the month's draw
T2 = datetime(2022, 10, 12, 6, 0, tzinfo=UTC)  # the extra call behind the portal's back
T3 = datetime(2022, 10, 14, 6, 0, tzinfo=UTC)  # the redraw


def test_an_extra_call_behind_the_portals_back_shows(
    app, client, runner, september, standin, tmp_path
):
    drawn_at(standin, T1)
    first = conduct(september)
    assert first.serial_number == 1
    # nothing but the portal's own answers yet: the command says so and exits 0
    result = runner.invoke(args=["draw", "ledger"])
    assert result.exit_code == 0, result.output
    assert f"draw {first.id}" in result.output and "fetched 0" in result.output
    drawn_at(standin, T2)
    extra = behind_the_portals_back(standin, user_data={"note": "a second try"})
    assert extra["serialNumber"] == 2
    # the hourly job's and ``flask draw ledger``'s sync finds it past the last serial held
    result = runner.invoke(args=["draw", "ledger"])
    assert result.exit_code == 1, result.output
    assert "not-asked" in result.output and "fetched 1: 2" in result.output
    db.session.expire_all()
    assert serials(the_run()) == [(1, ledger.DRAW), (2, ledger.NOT_ASKED)]
    fetched = db.session.scalar(sa.select(RandomAnswer).filter_by(serial_number=2))
    assert fetched.how == "fetched" and fetched.attempt_id is None
    assert fetched.random_json == json.dumps(extra, separators=(",", ":"))
    db.session.commit()
    for lang in LANGS:
        page = page_text(client.get(f"/{lang}/ismet-2022/draws"))
        assert 'class="flagged" data-use="not-asked" data-serial="2"' in page
        # (the app context the fixtures hold gives the page the language it first had)
        assert any(translated(other, "Not asked by the portal") in page for other in LANGS)
    published = json.loads(client.get("/ru/ismet-2022/draws/ledger.json").data)
    (key,) = published["keys"]
    assert key["hashed_api_key"] == extra["hashedApiKey"]
    assert [(s["serial"], s["use"], s["draw"]) for s in key["serials"]] == [
        (1, "draw", first.id),
        (2, "not-asked", None),
    ]
    assert key["serials"][1]["user_data"] == {"note": "a second try"}
    assert key["serials"][1]["random"] == extra

    # the next draw of the key: its previous answer is the extra call's
    fall_away(first)
    drawn_at(standin, T3)
    second = redraw(first, "Failed the check.", now=AFTER_SEPTEMBER)
    assert second.serial_number == 3
    previous = ledger.previous_answer(second)
    assert previous["serial"] == 2 and previous["random"] == extra
    assert json.loads(client.get(f"/ru/draws/{second.id}/record.json").data)[
        "previous_answer"
    ] == json.loads(json.dumps(previous))
    random = json.loads(second.random_json)
    pem = second.public_key_pem
    # announced before the extra call: it lies between announcement and draw, the check fails
    assert ledger.check(random, previous, T2 - timedelta(hours=1), pem) == (
        "previous-after-announcement"
    )
    # announced after it: nothing of the key came between the announcement and the draw
    assert ledger.check(random, previous, T2 + timedelta(hours=1), pem) == (
        "previous-before-announcement"
    )
    assert ledger.check(random, previous, None, pem) == ledger.NOT_APPLICABLE
    # and the draw's own verification says so: its pool was announced (a minute before
    # its ``now``) before the extra call, which lies between announcement and draw
    assert second.announced_at < T2
    checks = draws.verify(second)
    assert [(c.ok, c.detail) for c in checks if c.code == "ledger"] == [
        (False, "previous-after-announcement")
    ]
    assert draws.verdict(checks).code == "broken"
    assert draws.stored_verdict(second).code == "broken"  # kept so when it was made
    db.session.commit()
    # and an auditor's own verify.py, from the live record, finds the same
    key = tmp_path / "standin.pem"
    key.write_text(standin.public_key_pem)
    with serving(app) as url:
        status, outcomes, output = run_verify("--key", key, f"{url}/kk/draws/{second.id}")
        assert (status, outcomes["ledger"]) == (1, "failed"), output
        assert "after the announcement" in output
        # the first draw, its key's first answer made after its announcement, holds
        status, outcomes, output = run_verify("--key", key, f"{url}/ru/draws/{first.id}")
        assert (status, outcomes["ledger"]) == (0, "ok"), output


def test_the_ledger_check_refuses_a_previous_answer_that_is_not_the_one(september, standin):
    drawn_at(standin, T1)
    first = conduct(september)
    fall_away(first)
    drawn_at(standin, T3)
    second = redraw(first, "Failed the check.", now=AFTER_SEPTEMBER)
    random, pem = json.loads(second.random_json), second.public_key_pem
    previous = ledger.previous_answer(second)
    assert previous["serial"] == 1
    announced = T1 + timedelta(hours=1)
    assert ledger.check(random, previous, announced, pem) == "previous-before-announcement"
    assert ledger.check(random, None, announced, pem) == "no-previous-answer"
    tampered = json.loads(json.dumps(previous))
    tampered["random"]["completionTime"] = "2022-10-09 06:00:00Z"  # moved earlier: unsigned
    assert ledger.check(random, tampered, announced, pem) == "bad-signature"
    other = json.loads(json.dumps(previous))
    other["random"]["serialNumber"] = 0
    assert ledger.check(random, other, announced, pem) == "not-consecutive"
    other["random"] = {**previous["random"], "hashedApiKey": "another key"}
    assert ledger.check(random, other, announced, pem) == "other-key"
    # the key's first answer: nothing can precede it
    first_random = json.loads(first.random_json)
    assert ledger.check(first_random, None, first.announced_at, pem) == "first-answer"
    # but it must have come after its pool's announcement: an answer asked for before the
    # pool was published (its numbers known), then announced, fails, first or not
    assert ledger.check(first_random, None, announced, pem) == "answer-before-announcement"
    assert ledger.check(random, previous, T3 + timedelta(seconds=1), pem) == (
        "answer-before-announcement"
    )
    # within one second, in order: random.org dates its answers in whole seconds
    assert ledger.check(random, previous, T3 + timedelta(microseconds=900_000), pem) == (
        "previous-before-announcement"
    )
    # random.org's completionTime may carry fractions: compared as UTC instants
    assert ledger.completion_instant("2022-10-10 06:00:00.250Z") == T1 + timedelta(milliseconds=250)
    assert ledger.completion_instant("2022-10-10T06:00:00Z") is None


def test_a_serial_random_org_does_not_give_back_shows_as_missing(client, september, standin):
    drawn_at(standin, T1)
    first = conduct(september)
    drawn_at(standin, T2)
    behind_the_portals_back(standin)
    # random.org no longer gives serial 2 back (in the stand-in: forgotten)
    standin._results.pop((hashed_api_key(standin.api_key), 2))
    fall_away(first)
    drawn_at(standin, T3)
    second = redraw(first, "Failed the check.", now=AFTER_SEPTEMBER)  # serial 3: 2 is a gap
    assert second.serial_number == 3
    db.session.commit()
    assert serials(the_run()) == [(1, ledger.DRAW), (2, ledger.MISSING), (3, ledger.DRAW)]
    assert ledger.previous_answer(second) is None
    random = json.loads(second.random_json)
    found = ledger.check(random, None, T1 + timedelta(hours=1), second.public_key_pem)
    assert found == "no-previous-answer"
    for lang in LANGS:
        page = page_text(client.get(f"/{lang}/ismet-2022/draws"))
        assert 'class="flagged" data-use="missing" data-serial="2"' in page
        missing = "Missing: random.org did not give this answer back"
        assert any(translated(other, missing) in page for other in LANGS)
    (key,) = json.loads(client.get("/kk/ismet-2022/draws/ledger.json").data)["keys"]
    assert key["serials"][1] == {
        "serial": 2,
        "completion_time": None,
        "use": "missing",
        "draw": None,
        "user_data": None,
        "random": None,
        "signature": None,
    }


def test_the_hourly_job_fetches_what_the_portal_does_not_hold(app, september, standin):
    assert hourly(17)(datetime(2026, 3, 2, 4, 17)) and not hourly(17)(datetime(2026, 3, 2, 4, 18))
    conduct(september)
    behind_the_portals_back(standin)
    behind_the_portals_back(standin)
    report = ledger_jobs.sync_ledger()
    assert report.fetched == [2, 3] and report.missing == []
    db.session.expire_all()
    assert serials(the_run()) == [(1, ledger.DRAW), (2, ledger.NOT_ASKED), (3, ledger.NOT_ASKED)]
    assert ledger_jobs.sync_ledger().fetched == []  # each answer fetched once
    # without a key the job does nothing
    app.config["RANDOM_ORG_API_KEY"] = None
    assert ledger_jobs.sync_ledger() is None


def test_answers_received_before_the_ledger_existed_are_put_on_it(runner, september, standin):
    """A database from before migration 0025: its draws' answers are the portal's own, put
    on the ledger as asked; an answer it kept nowhere is fetched, and its signed userData
    names the attempt it was for."""
    standin.fail_next("wrong-data")
    with pytest.raises(RandomOrgError):
        conduct(september)  # serial 1: a failed attempt (before 0025, its answer was lost)
    draw = conduct(september)  # serial 2
    failed = db.session.scalar(sa.select(DrawAttempt).filter_by(state="failed"))
    done = db.session.scalar(sa.select(DrawAttempt).filter_by(state="done"))
    expected = {
        1: ("fetched", failed.id, failed.draw_id),
        2: ("asked", done.id, draw.id),
    }
    db.session.execute(sa.delete(RandomAnswer))  # as before the ledger
    db.session.commit()
    assert ledger.backfill() == [2]
    assert ledger.backfill() == []  # once
    result = runner.invoke(args=["draw", "ledger"])
    assert result.exit_code == 0, result.output  # serial 1 is the portal's own attempt's
    db.session.expire_all()
    held = {a.serial_number: a for a in db.session.scalars(sa.select(RandomAnswer))}
    assert {s: (a.how, a.attempt_id, a.draw_id) for s, a in held.items()} == expected
    assert serials(the_run()) == [(1, ledger.ATTEMPT), (2, ledger.DRAW)]


def test_a_draw_is_verified_again_when_its_previous_answer_is_fetched(
    app, runner, september, standin
):
    """A draw made while the key's answer before its own was not on the ledger (random.org
    out of reach at the draw, say) keeps a broken verdict until the answer is fetched:
    then ``flask draw ledger`` (and the hourly job) verify it again."""
    first = conduct(september)
    fall_away(first)
    second = redraw(first, "Failed the check.", now=AFTER_SEPTEMBER)
    assert second.serial_number == 2 and draws.stored_verdict(second).code == "verified-other-key"
    # the first answer gone from the ledger (a statement below the portal's own code:
    # the sync puts it back, from the first draw's record or by getResult)
    db.session.execute(sa.delete(RandomAnswer).where(RandomAnswer.serial_number == 1))
    draws.reverify(second, audit.Actor(label="test"))
    db.session.commit()
    assert draws.stored_verdict(second).code == "broken"
    assert [
        c.detail for c in draws.stored_checks(draws.stored_verdict(second)) if c.code == "ledger"
    ] == ["no-previous-answer"]

    result = runner.invoke(args=["draw", "ledger"])
    assert result.exit_code == 0, result.output
    assert f"draw {second.id} verified again: verified-other-key" in result.output
    db.session.expire_all()
    assert draws.stored_verdict(db.session.get(Draw, second.id)).code == "verified-other-key"
