"""verify.py, the one-file verifier (docs/DESIGN.md, "The draw", 6): run as an auditor runs
it, in a process of its own, against the demo's draws on a live portal, a REAL random.org
result, tampered copies, and records carrying the ledger's fields."""

from __future__ import annotations

import ast
import importlib.util
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import requests
import sqlalchemy as sa

from portal.demo.randomorg_standin import StandIn
from portal.models import Draw, db
from portal.services.randomorg import PINNED_KEY_FILE, RANDOM_ORG_KEY_SHA256, key_fingerprint
from tests.helpers import load_demo_draws, serving
from tests.verifier_draws import (
    VERIFY,
    ask,
    changed_pool_byte,
    changed_signature_byte,
    previous_answer,
    real_draw,
    rewrite_record,
    run_verify,
    standin_certificate,
    standin_draw,
)

# the demo's draws: the stand-in's key, each pool announced before its draw
ALL_HOLD_OTHER_KEY = {
    "pool": "ok",
    "user-data": "ok",
    "request": "ok",
    "signature": "ok",
    "key": "other",
    "winners": "ok",
    "prizes": "ok",
    "ledger": "ok",
}
# a REAL random.org result: signed by random.org, but for no pool of the portal
# (userData null, min 0): those two steps must fail, every other holds
REAL_OUTCOMES = {
    "pool": "ok",
    "user-data": "failed",
    "request": "failed",
    "signature": "ok",
    "key": "ok",
    "winners": "ok",
    "prizes": "ok",
    "ledger": "n/a",
}


def _module():
    spec = importlib.util.spec_from_file_location("verify_under_test", VERIFY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_key_written_in_verify_py_is_the_portals_random_org_key():
    module = _module()
    assert PINNED_KEY_FILE.read_text(encoding="ascii") == module.RANDOM_ORG_KEY_PEM
    assert module.RANDOM_ORG_KEY_SHA256 == RANDOM_ORG_KEY_SHA256
    assert key_fingerprint(module.RANDOM_ORG_KEY_PEM) == RANDOM_ORG_KEY_SHA256


def test_verify_py_imports_only_the_standard_library_and_cryptography():
    source = VERIFY.read_text(encoding="utf-8")
    imported = set()
    for line in source.splitlines():
        words = line.split()
        if words[:1] in (["import"], ["from"]) and not line.startswith(" "):
            imported.add(words[1].split(".")[0])
    assert imported - set(sys.stdlib_module_names) - {"__future__"} == {"cryptography"}
    ast.parse(source, feature_version=(3, 9))  # the grammar of the oldest Python it names


def test_every_demo_draw_verifies_with_the_standin_key_and_tampered_copies_fail(
    app, demo, tmp_path
):
    load_demo_draws(app, demo)
    with app.app_context():
        ids = db.session.scalars(sa.select(Draw.id).order_by(Draw.id)).all()
        assert len(ids) >= 3
    key = tmp_path / "standin.pem"
    key.write_text(StandIn().public_key_pem)
    with serving(app) as url:
        served = requests.get(f"{url}/verify.py", timeout=10)
        assert served.status_code == 200
        assert served.headers["Content-Type"].startswith("text/x-python")
        assert served.content == VERIFY.read_bytes()

        for number, draw_id in enumerate(ids):
            lang = ("kk", "ru")[number % 2]
            page = requests.get(f"{url}/{lang}/draws/{draw_id}", timeout=10).text
            assert 'href="/verify.py"' in page
            status, outcomes, output = run_verify("--key", key, f"{url}/{lang}/draws/{draw_id}")
            assert (status, outcomes) == (0, ALL_HOLD_OTHER_KEY), output
            assert "NOT random.org's key" in output

        # with random.org's own key (the default) the stand-in's signature fails; an
        # address of one of the draw's files stands for its page
        status, outcomes, output = run_verify(f"{url}/kk/draws/{ids[0]}/record.json/")
        assert status == 1, output
        assert outcomes["signature"] == "failed" and outcomes["key"] == "ok"
        assert {s for s, o in outcomes.items() if o == "failed"} == {"signature"}

        # the page's language is the report's unless --lang says otherwise
        kazakh = subprocess.run(
            [sys.executable, str(VERIFY), "--key", str(key), f"{url}/kk/draws/{ids[0]}"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert kazakh.returncode == 0
        assert "Барлық қадам орындалды." in kazakh.stdout
        russian = subprocess.run(
            [sys.executable, str(VERIFY), "--key", str(key), f"{url}/ru/draws/{ids[0]}"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Все шаги выполнены." in russian.stdout

        # a draw that is not there: its files cannot be read
        status, _, output = run_verify(f"{url}/kk/draws/{ids[-1] + 100}")
        assert status == 2 and "404" in output

        # a folder of one draw's files as the page downloads them (draw-<id>-pool.csv, …)
        draw_id = ids[0]
        folder = tmp_path / "downloaded"
        folder.mkdir()
        for name in ("record.json", "pool.csv", "random.json", "signature.base64"):
            answer = requests.get(f"{url}/ru/draws/{draw_id}/{name}", timeout=10)
            (folder / f"draw-{draw_id}-{name}").write_bytes(answer.content)
    status, outcomes, output = run_verify("--key", key, folder)
    assert (status, outcomes) == (0, ALL_HOLD_OTHER_KEY), output
    # the same key given as a certificate (as random.org publishes its own)
    certificate = tmp_path / "standin-certificate.pem"
    certificate.write_text(standin_certificate())
    status, outcomes, output = run_verify("--key", certificate, folder)
    assert (status, outcomes) == (0, ALL_HOLD_OTHER_KEY), output
    assert key_fingerprint(certificate.read_text()) in output

    record = json.loads((folder / f"draw-{draw_id}-record.json").read_text())
    winners = {w["position"] for w in record["winners"]}
    loser = next(p for p in range(1, record["pool"]["size"] + 1) if p not in winners)

    pool = folder / f"draw-{draw_id}-pool.csv"
    original = pool.read_bytes()
    pool.write_bytes(changed_pool_byte(original, loser))
    status, outcomes, output = run_verify("--key", key, folder)
    assert status == 1
    assert outcomes == {**ALL_HOLD_OTHER_KEY, "pool": "failed"}, output
    pool.write_bytes(original)

    signature = folder / f"draw-{draw_id}-signature.base64"
    signature.write_text(changed_signature_byte(signature.read_text()))
    status, outcomes, output = run_verify("--key", key, folder)
    assert status == 1
    assert outcomes == {**ALL_HOLD_OTHER_KEY, "signature": "failed"}, output


def test_a_real_random_org_result_and_its_tampered_copies(tmp_path):
    folder = real_draw(tmp_path / "real")
    status, outcomes, output = run_verify(folder)
    assert status == 1
    assert outcomes == REAL_OUTCOMES, output
    assert f"random.org's key, SPKI SHA-256 {RANDOM_ORG_KEY_SHA256}" in output
    assert "The draw does NOT verify: user-data, request." in output

    pool = shutil.copytree(folder, tmp_path / "pool-byte")
    (pool / "pool.csv").write_bytes(changed_pool_byte((folder / "pool.csv").read_bytes(), 2))
    status, outcomes, output = run_verify(pool)
    assert status == 1
    assert outcomes == {**REAL_OUTCOMES, "pool": "failed"}, output

    signed = shutil.copytree(folder, tmp_path / "signature-byte")
    signature = signed / "signature.base64"
    signature.write_text(changed_signature_byte(signature.read_text()))
    status, outcomes, output = run_verify(signed)
    assert status == 1
    assert outcomes == {**REAL_OUTCOMES, "signature": "failed"}, output

    # the same real result checked against another key: the signature fails
    other = tmp_path / "standin.pem"
    other.write_text(StandIn().public_key_pem)
    status, outcomes, output = run_verify("--key", other, folder)
    assert outcomes["signature"] == "failed" and outcomes["key"] == "other", output

    # a file missing: nothing to check
    (signed / "random.json").unlink()
    status, _, output = run_verify(signed)
    assert status == 2 and "random.json" in output


T0 = datetime(2022, 11, 10, 5, 0, tzinfo=UTC)
ANNOUNCED = "2022-11-10T06:00:00Z"  # an hour after T0


def _announced(at: str | None, previous: dict | None = None, drop: bool = False):
    def change(record):
        record["pool"]["announced_at"] = at
        if drop:
            record.pop("previous_answer", None)
        else:
            record["previous_answer"] = previous

    return change


def test_the_ledger_step_with_real_signed_answers_of_the_standin(tmp_path):
    key = tmp_path / "standin.pem"
    with StandIn() as standin:
        key.write_text(standin.public_key_pem)
        earlier = ask(standin, 1, 5, None, T0)  # serial 1: the key's answer before the pool's
        folder, _, answer = standin_draw(tmp_path / "draw", standin, T0 + timedelta(hours=2))
        assert answer["random"]["serialNumber"] == 2

    # no pool.announced_at (a draw made before announcements): not applicable, exit 0
    status, outcomes, output = run_verify("--key", key, folder)
    assert (status, outcomes["ledger"]) == (0, "n/a"), output
    assert "no pool.announced_at" in output
    rewrite_record(folder, _announced(None, previous_answer(earlier)))
    status, outcomes, _ = run_verify("--key", key, folder)
    assert (status, outcomes["ledger"]) == (0, "n/a")

    # announced after serial 1 was completed: nothing came between, exit 0
    rewrite_record(folder, _announced(ANNOUNCED, previous_answer(earlier)))
    status, outcomes, output = run_verify("--key", key, folder)
    assert (status, outcomes) == (0, {**ALL_HOLD_OTHER_KEY, "ledger": "ok"}), output
    assert "serial 1 completed at 2022-11-10 05:00:00Z, before the announcement" in output

    # announced before serial 1: an answer of the key came after the announcement
    rewrite_record(folder, _announced("2022-11-10T04:59:59Z", previous_answer(earlier)))
    status, outcomes, output = run_verify("--key", key, folder)
    assert (status, outcomes["ledger"]) == (1, "failed"), output
    assert "after the announcement" in output

    # announced after the draw's own answer (07:00, T0 + 2 h): its numbers were known
    # before the pool was published
    rewrite_record(folder, _announced("2022-11-10T07:00:01Z", previous_answer(earlier)))
    status, outcomes, output = run_verify("--key", key, folder)
    assert (status, outcomes["ledger"]) == (1, "failed"), output
    assert "before the announcement at 2022-11-10T07:00:01Z" in output
    assert "known before the list was published" in output

    # no previous answer given for serial 2
    rewrite_record(folder, _announced(ANNOUNCED, drop=True))
    status, outcomes, output = run_verify("--key", key, folder)
    assert (status, outcomes["ledger"]) == (1, "failed")
    assert "no previous_answer for serial 2" in output

    # the previous answer with a changed signature byte
    forged = previous_answer(earlier)
    forged["signature"] = changed_signature_byte(forged["signature"])
    rewrite_record(folder, _announced(ANNOUNCED, forged))
    status, outcomes, output = run_verify("--key", key, folder)
    assert (status, outcomes["ledger"]) == (1, "failed")
    assert "signature does not verify" in output

    # the previous answer with a changed completion time: its signature no longer holds
    moved = json.loads(json.dumps(previous_answer(earlier)))
    moved["random"]["completionTime"] = "2022-11-10 04:00:00Z"
    rewrite_record(folder, _announced(ANNOUNCED, moved))
    status, outcomes, _ = run_verify("--key", key, folder)
    assert (status, outcomes["ledger"]) == (1, "failed")


def test_a_hidden_call_between_the_announcement_and_the_draw_is_caught(tmp_path):
    key = tmp_path / "standin.pem"
    with StandIn() as standin:
        key.write_text(standin.public_key_pem)
        before = ask(standin, 1, 5, None, T0)  # serial 1, before the announcement
        # serial 2: an answer asked behind the portal's back, after the pool was announced
        hidden = ask(standin, 1, 12, None, T0 + timedelta(minutes=70))
        folder, _, answer = standin_draw(tmp_path / "draw", standin, T0 + timedelta(hours=2))
        assert answer["random"]["serialNumber"] == 3

    # the ledger finds serial 2 (random.org's getResult): completed after the announcement
    rewrite_record(folder, _announced(ANNOUNCED, previous_answer(hidden)))
    status, outcomes, output = run_verify("--key", key, folder)
    assert status == 1
    assert outcomes == {**ALL_HOLD_OTHER_KEY, "ledger": "failed"}, output
    assert (
        "serial 2 was completed at 2022-11-10 06:10:00Z, after the announcement at "
        "2022-11-10T06:00:00Z: another answer came between" in output
    )

    # a record that hides serial 2 and names serial 1 instead
    rewrite_record(folder, _announced(ANNOUNCED, previous_answer(before)))
    status, outcomes, output = run_verify("--key", key, folder)
    assert (status, outcomes["ledger"]) == (1, "failed")
    assert "previous_answer has serial 1, not 2" in output


def test_the_ledger_step_for_a_keys_first_answer_and_another_api_keys_answer(tmp_path):
    key = tmp_path / "standin.pem"
    with StandIn() as standin:
        key.write_text(standin.public_key_pem)
        folder, _, answer = standin_draw(tmp_path / "first", standin, T0 + timedelta(hours=2))
        assert answer["random"]["serialNumber"] == 1
        ask(standin, 1, 5, None, T0)  # serial 2
        second, _, _ = standin_draw(tmp_path / "third", standin, T0 + timedelta(hours=2))
    with StandIn(api_key="another-api-key") as other:  # the same signing key, another API key
        foreign = ask(other, 1, 5, None, T0)  # its serial 1

    rewrite_record(folder, _announced(ANNOUNCED, None))
    status, outcomes, output = run_verify("--key", key, folder)
    assert (status, outcomes["ledger"]) == (0, "ok"), output
    assert "serial number 1: the key's first answer" in output

    rewrite_record(second, _announced(ANNOUNCED, previous_answer(foreign)))
    status, outcomes, output = run_verify("--key", key, second)
    assert (status, outcomes["ledger"]) == (1, "failed")
    assert "another API key" in output


def test_a_draw_signed_before_several_prizes_a_month_still_verifies(tmp_path):
    """A draw of the 2022 kind: its userData names no prizes (signed before issue 19) and
    its record one prize; a record saved before prizes were listed has no prize step."""
    key = tmp_path / "standin.pem"
    with StandIn() as standin:
        key.write_text(standin.public_key_pem)
        folder, _, answer = standin_draw(tmp_path / "draw", standin, T0)
    assert "prizes" not in answer["random"]["userData"]
    status, outcomes, output = run_verify("--key", key, folder)
    assert status == 0 and outcomes["prizes"] == "ok" and outcomes["user-data"] == "ok", output

    def unlisted(record):
        del record["prizes"]
        for winner in record["winners"]:
            del winner["prize"]

    rewrite_record(folder, unlisted)
    status, outcomes, output = run_verify("--key", key, folder)
    assert status == 0 and outcomes["prizes"] == "n/a", output
    assert "the record lists no prizes" in output

    # but a record of several prizes must have them signed: the old userData fails it
    def several(record):
        record["prizes"] = [{"position": 1, "count": 1}, {"position": 2, "count": 1}]

    rewrite_record(folder, several)
    status, outcomes, output = run_verify("--key", key, folder)
    assert status == 1 and outcomes["user-data"] == "failed", output
