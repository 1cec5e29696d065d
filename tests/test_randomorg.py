"""random.org: real signed results verify offline; the client against the stand-in server."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from portal.services import randomorg
from portal.services.randomorg import (
    RANDOM_ORG_KEY_SHA256,
    RandomOrgClient,
    RandomOrgError,
    canonical_random,
    is_random_org_key,
    key_fingerprint,
    load_public_key_pem,
    verify_signature,
)
from portal.services.randomorg_standin import StandIn

DATA = Path(__file__).resolve().parent / "data" / "randomorg"
PAIRS = ["2014-06-03-serial-79924", "2021-08-04-serial-16675"]
PINNED = load_public_key_pem(None)


def pair(name: str) -> tuple[bytes, str]:
    return (DATA / f"{name}.random.json").read_bytes(), (
        DATA / f"{name}.signature.base64"
    ).read_text()


def test_the_shipped_key_is_random_orgs():
    assert (DATA / "random-org-public-key.pem").read_text() == PINNED
    assert key_fingerprint(PINNED) == RANDOM_ORG_KEY_SHA256 and is_random_org_key(PINNED)


@pytest.mark.parametrize("name", PAIRS)
def test_real_signed_results_verify(name):
    random, signature = pair(name)
    assert verify_signature(random, signature, PINNED)
    # what the portal re-serialises is byte for byte what random.org signed
    assert canonical_random(json.loads(random)).encode() == random


@pytest.mark.parametrize("name", PAIRS)
def test_one_byte_changed_fails(name):
    random, signature = pair(name)
    for at in (0, len(random) // 2, len(random) - 1):
        changed = bytearray(random)
        changed[at] ^= 0x01
        assert not verify_signature(bytes(changed), signature, PINNED)
    raw = bytearray(base64.b64decode(signature))
    for at in (0, len(raw) // 2, len(raw) - 1):
        changed = bytearray(raw)
        changed[at] ^= 0x01
        assert not verify_signature(random, base64.b64encode(changed).decode(), PINNED)
    assert not verify_signature(random, "not base64!", PINNED)
    assert not verify_signature(random, signature, StandIn().public_key_pem)


# --- the client and the stand-in ------------------------------------------------------


@pytest.fixture
def server():
    with StandIn() as standin:
        yield standin


def client_for(server, **kwargs) -> RandomOrgClient:
    kwargs.setdefault("timeout", (1.0, 0.5))
    kwargs.setdefault("retries", 2)
    kwargs.setdefault("backoff", 0.01)
    return RandomOrgClient(server.url, server.api_key, server.public_key_pem, **kwargs)


def test_signed_integers(server):
    result = client_for(server).generate_signed_integers(
        3, 1, 10, user_data={"draw": 7, "period": "2022-09"}
    )
    assert len(set(result.data)) == 3 and all(1 <= n <= 10 for n in result.data)
    assert result.random["userData"] == {"draw": 7, "period": "2022-09"}
    assert list(result.random) == [
        "method",
        "hashedApiKey",
        "n",
        "min",
        "max",
        "replacement",
        "base",
        "pregeneratedRandomization",
        "data",
        "license",
        "licenseData",
        "userData",
        "ticketData",
        "completionTime",
        "serialNumber",
    ]
    assert result.response_text == server.responses[-1]
    assert verify_signature(result.random_text, result.signature, server.public_key_pem)
    assert not verify_signature(result.random_text, result.signature, PINNED)
    request = server.requests[-1]
    assert request["method"] == "generateSignedIntegers" and request["jsonrpc"] == "2.0"
    assert request["params"]["replacement"] is False and request["params"]["base"] == 10


def test_a_result_not_signed_by_the_configured_key_is_refused(server):
    client = RandomOrgClient(server.url, server.api_key, PINNED, retries=0)
    with pytest.raises(RandomOrgError) as error:
        client.generate_signed_integers(1, 1, 5)
    assert error.value.code == "bad-signature"


@pytest.mark.parametrize(
    ("rpc", "code"),
    [
        (400, "key-unknown"),
        (401, "key-not-running"),
        (402, "requests-exceeded"),
        (403, "bits-exceeded"),
        (-32602, "invalid-parameters"),
        (202, "invalid-parameters"),
        (-32601, "invalid-request"),
        (-32603, "service-error"),
        (100, "offline"),
    ],
)
def test_each_error_object_gets_its_code(server, rpc, code):
    server.fail_next(("error", rpc))
    with pytest.raises(RandomOrgError) as error:
        client_for(server).generate_signed_integers(1, 1, 5)
    assert (error.value.code, error.value.rpc_code) == (code, rpc)
    assert len(server.requests) == 1  # an error object is not retried


@pytest.mark.parametrize(
    ("kind", "code"),
    [("malformed", "malformed"), ("bad-signature", "bad-signature"), ("wrong-data", "malformed")],
)
def test_bad_answers(server, kind, code):
    server.fail_next(kind)
    with pytest.raises(RandomOrgError) as error:
        client_for(server).generate_signed_integers(2, 1, 5)
    assert error.value.code == code


def test_5xx_is_retried_then_succeeds(server):
    server.fail_next("http-500", times=2)
    result = client_for(server, retries=2).generate_signed_integers(1, 1, 5)
    assert len(server.requests) == 3 and len(result.data) == 1


def test_5xx_every_time_is_offline(server):
    server.fail_next("http-500", times=5)
    with pytest.raises(RandomOrgError) as error:
        client_for(server, retries=2).generate_signed_integers(1, 1, 5)
    assert error.value.code == "offline" and len(server.requests) == 3


def test_no_answer_in_time(server):
    server.fail_next("timeout", times=3, delay=1.5)
    with pytest.raises(RandomOrgError) as error:
        client_for(server, retries=1).generate_signed_integers(1, 1, 5)
    assert error.value.code == "timeout"


def test_nobody_listening_is_offline():
    with StandIn() as standin:
        url = standin.url
    client = RandomOrgClient(url, "k", PINNED, retries=1, backoff=0.01, timeout=(0.5, 0.5))
    with pytest.raises(RandomOrgError) as error:
        client.generate_signed_integers(1, 1, 5)
    assert error.value.code == "offline"


def test_no_key_sends_nothing(server):
    client = RandomOrgClient(server.url, None, server.public_key_pem)
    with pytest.raises(RandomOrgError) as error:
        client.generate_signed_integers(1, 1, 5)
    assert error.value.code == "no-key" and server.requests == []


def test_advisory_delay_is_honoured(server):
    server.advisory_delay_ms = 300
    client = client_for(server)
    client.generate_signed_integers(1, 1, 5)
    first_answered = time.monotonic()
    client.generate_signed_integers(1, 1, 5)
    assert time.monotonic() - first_answered >= 0.29
    randomorg._next_allowed = 0.0


@pytest.mark.parametrize(
    ("params", "rpc"),
    [
        ({"n": 0}, 202),
        ({"min": 10, "max": 1}, 300),
        ({"n": 6, "max": 5}, 301),
        ({"apiKey": "other"}, 400),
        ({"n": "three"}, 201),
    ],
)
def test_the_stand_in_checks_parameters_as_random_org(server, params, rpc):
    import requests

    base = {"apiKey": server.api_key, "n": 1, "min": 1, "max": 5, "replacement": False}
    body = {
        "jsonrpc": "2.0",
        "method": "generateSignedIntegers",
        "params": {**base, **params},
        "id": 1,
    }
    answer = requests.post(server.url, json=body, timeout=5).json()
    assert answer["error"]["code"] == rpc and answer["id"] == 1


def test_cli_verifies_a_real_pair_and_refuses_a_tampered_one(app, runner, tmp_path):
    random, signature = pair("2021-08-04-serial-16675")
    (tmp_path / "r.json").write_bytes(random)
    (tmp_path / "s.b64").write_text(signature)
    ok = runner.invoke(
        args=["randomorg", "verify", str(tmp_path / "r.json"), str(tmp_path / "s.b64")]
    )
    assert ok.exit_code == 0 and "authentic" in ok.output and "16675" in ok.output
    (tmp_path / "r.json").write_bytes(random.replace(b"[5,1,9,4,7]", b"[5,1,9,4,8]"))
    bad = runner.invoke(
        args=["randomorg", "verify", str(tmp_path / "r.json"), str(tmp_path / "s.b64")]
    )
    assert bad.exit_code == 1 and "NOT authentic" in bad.output
