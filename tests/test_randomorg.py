"""random.org: real signed results verify offline; the client against the stand-in server.

Nothing here replaces the code under test: signatures are checked with real keys, the
client talks HTTP to a real server (the stand-in), and the CLI runs in a real app.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import json
import threading
import time
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509.oid import NameOID

from portal.commands.randomorg import randomorg_cli
from portal.demo.randomorg_standin import TEST_KEY_FILE, StandIn
from portal.services import randomorg
from portal.services.randomorg import (
    ERROR_CODES,
    RANDOM_FIELDS,
    RANDOM_ORG_KEY_SHA256,
    RandomOrgClient,
    RandomOrgError,
    canonical_random,
    is_random_org_key,
    key_fingerprint,
    load_public_key_pem,
    verify_signature,
)
from tests.helpers import make_app

DATA = Path(__file__).resolve().parent / "data" / "randomorg"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "randomorg"
PAIRS = ["2014-06-03-serial-79924", "2021-08-04-serial-16675"]
PINNED = load_public_key_pem(None)
STANDIN_KEY = StandIn().public_key_pem
USER_DATA = {"draw": 7, "period": "2022-09", "pool_size": 10}


def pair(name: str) -> tuple[bytes, str]:
    random = (DATA / f"{name}.random.json").read_bytes()
    return random, (DATA / f"{name}.signature.base64").read_text(encoding="ascii")


@pytest.fixture(autouse=True)
def no_advisory_delay_carried_over():
    """random.org's advisoryDelay is process-wide state: no test inherits another's."""
    randomorg._next_allowed = 0.0
    yield
    randomorg._next_allowed = 0.0


@pytest.fixture
def server():
    with StandIn() as standin:
        yield standin


def client_for(server: StandIn, **kwargs) -> RandomOrgClient:
    kwargs.setdefault("timeout", (1.0, 0.5))
    kwargs.setdefault("retries", 2)
    kwargs.setdefault("backoff", 0.01)
    return RandomOrgClient(server.url, server.api_key, server.public_key_pem, **kwargs)


def raised(call) -> RandomOrgError:
    with pytest.raises(RandomOrgError) as error:
        call()
    assert error.value.code in ERROR_CODES
    return error.value


# --- keys and real signed results ----------------------------------------------------


def test_the_test_data_is_a_byte_identical_copy():
    if not SHARED.is_dir():
        pytest.skip("shared/testdata is not beside this clone")
    for original in SHARED.iterdir():
        assert (DATA / original.name).read_bytes() == original.read_bytes(), original.name


def test_the_shipped_key_is_random_orgs():
    assert (DATA / "random-org-public-key.pem").read_text(encoding="ascii") == PINNED
    assert key_fingerprint(PINNED) == RANDOM_ORG_KEY_SHA256 and is_random_org_key(PINNED)
    assert not is_random_org_key(STANDIN_KEY) and not is_random_org_key(None)
    assert not is_random_org_key("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----")


def test_the_key_setting_is_the_pinned_key_pem_text_or_a_file(tmp_path):
    assert load_public_key_pem(None) == load_public_key_pem("") == PINNED
    assert load_public_key_pem(STANDIN_KEY) == STANDIN_KEY
    (tmp_path / "key.pem").write_text(STANDIN_KEY, encoding="ascii")
    assert load_public_key_pem(str(tmp_path / "key.pem")) == STANDIN_KEY


def test_a_certificate_stands_for_its_key():
    """random.org publishes its key in a certificate: that PEM works as the key's."""
    key = serialization.load_pem_private_key(TEST_KEY_FILE.read_bytes(), password=None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stand-in")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    assert key_fingerprint(pem) == key_fingerprint(STANDIN_KEY)
    signature = base64.b64encode(key.sign(b"{}", padding.PKCS1v15(), hashes.SHA512())).decode()
    assert verify_signature(b"{}", signature, pem)


@pytest.mark.parametrize("name", PAIRS)
def test_real_signed_results_verify(name):
    random, signature = pair(name)
    assert verify_signature(random, signature, PINNED)
    assert verify_signature(random.decode("utf-8"), signature, PINNED.encode())
    # what the portal re-serialises is byte for byte what random.org signed
    assert canonical_random(json.loads(random)).encode("utf-8") == random


def test_the_release_4_field_order_is_random_orgs():
    random, _ = pair("2021-08-04-serial-16675")
    assert tuple(json.loads(random)) == RANDOM_FIELDS


@pytest.mark.parametrize("name", PAIRS)
def test_any_byte_changed_fails(name):
    random, signature = pair(name)
    for at in range(len(random)):
        changed = bytearray(random)
        changed[at] ^= 0x01
        assert not verify_signature(bytes(changed), signature, PINNED), at
    raw = base64.b64decode(signature)
    for at in range(len(raw)):
        changed = bytearray(raw)
        changed[at] ^= 0x01
        assert not verify_signature(random, base64.b64encode(changed).decode(), PINNED), at
    assert not verify_signature(random + b"\n", signature, PINNED)
    assert not verify_signature(random, signature, STANDIN_KEY)


def test_verification_says_no_rather_than_raising():
    random, signature = pair("2021-08-04-serial-16675")
    ec_key = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for bad_signature in ("not base64!", "", "AAAA", None, 42):
        assert not verify_signature(random, bad_signature, PINNED)  # type: ignore[arg-type]
    for bad_key in (ec_key, "", "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----", None):
        assert not verify_signature(random, signature, bad_key)  # type: ignore[arg-type]
    assert not verify_signature(None, signature, PINNED)  # type: ignore[arg-type]
    # whitespace in the base64, as in a wrapped file, is fine
    wrapped = "\n".join(signature[i : i + 64] for i in range(0, len(signature), 64)) + "\n"
    assert verify_signature(random, wrapped, PINNED)


# --- the client against the stand-in -------------------------------------------------


def test_signed_integers(server):
    client = client_for(server)
    result = client.generate_signed_integers(5, 1, 10, user_data=USER_DATA)
    assert len(result.data) == 5 and len(set(result.data)) == 5
    assert all(1 <= n <= 10 for n in result.data)
    assert result.random["userData"] == USER_DATA and result.data == result.random["data"]
    assert tuple(result.random) == RANDOM_FIELDS
    assert result.random["license"]["type"] == "developer"
    assert result.random["hashedApiKey"] == base64.b64encode(
        hashlib.sha512(server.api_key.encode()).digest()
    ).decode("ascii")
    assert result.serial_number == result.random["serialNumber"] == 1
    completed = dt.datetime.strptime(result.completion_time, "%Y-%m-%d %H:%M:%SZ")
    assert abs(completed - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(minutes=1)
    # kept exactly as received and as signed
    assert result.response_text == server.responses[-1]
    assert result.random_text == canonical_random(
        json.loads(result.response_text)["result"]["random"]
    )
    assert verify_signature(result.random_text, result.signature, server.public_key_pem)
    assert not verify_signature(result.random_text, result.signature, PINNED)
    request = server.requests[-1]
    assert request["jsonrpc"] == "2.0" and request["method"] == "generateSignedIntegers"
    assert request["params"] == {
        "apiKey": server.api_key,
        "n": 5,
        "min": 1,
        "max": 10,
        "replacement": False,
        "base": 10,
        "userData": USER_DATA,
    }
    second = client.generate_signed_integers(1, 1, 10)
    assert second.serial_number == 2 and second.random["userData"] is None
    ids = [r["id"] for r in server.requests]
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == 2


def test_with_replacement(server):
    result = client_for(server).generate_signed_integers(50, 1, 2, replacement=True)
    assert len(result.data) == 50 and set(result.data) <= {1, 2}
    assert result.random["replacement"] is True


def test_a_result_not_signed_by_the_configured_key_is_refused(server):
    client = RandomOrgClient(server.url, server.api_key, PINNED, retries=0)
    error = raised(lambda: client.generate_signed_integers(1, 1, 5))
    assert error.code == "bad-signature" and len(server.requests) == 1


def test_the_client_from_the_apps_settings(server):
    client = RandomOrgClient.from_config(
        {
            "RANDOM_ORG_URL": server.url,
            "RANDOM_ORG_API_KEY": server.api_key,
            "RANDOM_ORG_PUBLIC_KEY": server.public_key_pem,
            "RANDOM_ORG_TIMEOUT": 2,
            "RANDOM_ORG_RETRIES": 0,
        }
    )
    assert (client.timeout, client.retries, client.backoff) == ((2.0, 2.0), 0, 1.0)
    assert server.api_key not in repr(client)
    assert client.generate_signed_integers(2, 1, 3).data
    default = RandomOrgClient.from_config({})
    assert default.url == "https://api.random.org/json-rpc/4/invoke"
    assert (default.timeout, default.retries, default.public_key_pem) == ((5.0, 30.0), 3, PINNED)


@pytest.mark.parametrize(
    ("rpc", "code"),
    [
        (400, "key-unknown"),
        (401, "key-not-running"),
        (402, "requests-exceeded"),
        (403, "bits-exceeded"),
        (404, "key-not-permitted"),
        (405, "key-not-permitted"),
        (-32602, "invalid-parameters"),
        (202, "invalid-parameters"),
        (301, "invalid-parameters"),
        (-32700, "invalid-request"),
        (-32600, "invalid-request"),
        (-32601, "invalid-request"),
        (-32603, "service-error"),
        (32000, "service-error"),
        (100, "offline"),
        (500, "offline"),
    ],
)
def test_each_error_object_gets_its_code(server, rpc, code):
    server.fail_next(("error", rpc))
    error = raised(lambda: client_for(server).generate_signed_integers(1, 1, 5))
    assert (error.code, error.rpc_code) == (code, rpc)
    assert error.detail  # random.org's message, for the logs
    assert len(server.requests) == 1  # an error object is final: not retried


@pytest.mark.parametrize(
    ("kind", "code"),
    [("malformed", "malformed"), ("bad-signature", "bad-signature"), ("wrong-data", "malformed")],
)
def test_bad_answers(server, kind, code):
    server.fail_next(kind)
    error = raised(lambda: client_for(server).generate_signed_integers(2, 1, 5))
    assert error.code == code and len(server.requests) == 1


def test_5xx_is_retried_then_succeeds(server):
    server.fail_next("http-500", times=2)
    result = client_for(server, retries=2).generate_signed_integers(1, 1, 5)
    assert len(server.requests) == 3 and len(result.data) == 1


def test_5xx_every_time_is_offline(server):
    server.fail_next("http-500", times=5)
    started = time.monotonic()
    error = raised(
        lambda: client_for(server, retries=2, backoff=0.1).generate_signed_integers(1, 1, 5)
    )
    assert error.code == "offline" and len(server.requests) == 3
    assert time.monotonic() - started >= 0.1 + 0.2  # backoff, then twice the backoff


def test_no_answer_in_time(server):
    server.fail_next("timeout", times=2, delay=3.0)
    error = raised(
        lambda: client_for(server, retries=1, timeout=(1, 0.5)).generate_signed_integers(1, 1, 5)
    )
    assert error.code == "timeout" and len(server.requests) == 2


def test_nobody_listening_is_offline():
    with StandIn() as standin:
        url = standin.url
    client = RandomOrgClient(url, "k", PINNED, retries=1, backoff=0.01, timeout=(0.5, 0.5))
    assert raised(lambda: client.generate_signed_integers(1, 1, 5)).code == "offline"


def test_a_4xx_page_is_not_retried(server):
    client = RandomOrgClient(server.url + "/elsewhere", server.api_key, STANDIN_KEY, retries=2)
    assert raised(lambda: client.generate_signed_integers(1, 1, 5)).code == "invalid-request"
    assert len(server.request_times) == 0  # the stand-in counts only its own path


def test_no_key_sends_nothing(server):
    for key in (None, ""):
        client = RandomOrgClient(server.url, key, server.public_key_pem)
        assert raised(lambda c=client: c.generate_signed_integers(1, 1, 5)).code == "no-key"
    assert server.requests == [] and server.request_times == []


def test_advisory_delay_is_honoured(server):
    server.advisory_delay_ms = 300
    client = client_for(server)
    first = client.generate_signed_integers(1, 1, 5)
    first_answered = time.monotonic()
    client.generate_signed_integers(1, 1, 5)
    assert first.advisory_delay_ms == 300
    assert server.request_times[1] - first_answered >= 0.25


def test_one_request_at_a_time_across_threads(server):
    server.advisory_delay_ms = 200
    results: list[int] = []

    def draw():
        results.append(client_for(server).generate_signed_integers(1, 1, 5).serial_number)

    threads = [threading.Thread(target=draw) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [1, 2, 3]
    times = server.request_times
    assert all(later - earlier >= 0.15 for earlier, later in itertools.pairwise(times))


# --- checking answers: each check on its own, with a valid signature ------------------


def resigned(text: str, change) -> str:
    """The stand-in's answer changed by ``change(answer)``, its random signed again
    (unless the change is ``after_signing``: then it is made to the signed answer)."""
    answer = json.loads(text)
    if not getattr(change, "after_signing", False):
        change(answer)
    random = answer.get("result", {}).get("random")
    if isinstance(random, dict):
        key = serialization.load_pem_private_key(TEST_KEY_FILE.read_bytes(), password=None)
        signature = key.sign(canonical_random(random).encode(), padding.PKCS1v15(), hashes.SHA512())
        answer["result"]["signature"] = base64.b64encode(signature).decode()
    if getattr(change, "after_signing", False):
        change(answer)
    return json.dumps(answer)


def after_signing(change):
    change.after_signing = True
    return change


def set_random(name, value):
    return lambda answer: answer["result"]["random"].__setitem__(name, value)


@pytest.mark.parametrize(
    "change",
    [
        lambda answer: answer.__setitem__("id", answer["id"] + 1),
        lambda answer: answer.__setitem__("id", str(answer["id"])),
        lambda answer: answer.pop("jsonrpc"),
        lambda answer: answer.pop("result"),
        after_signing(lambda answer: answer["result"].__setitem__("signature", "")),
        after_signing(lambda answer: answer["result"].pop("signature")),
        after_signing(lambda answer: answer["result"].__setitem__("signature", None)),
        lambda answer: answer["result"]["random"].pop("license"),
        lambda answer: answer["result"]["random"].pop("userData"),
        set_random("method", "generateIntegers"),
        set_random("n", 4),
        set_random("min", 0),
        set_random("max", 11),
        set_random("replacement", True),
        set_random("base", 16),
        set_random("userData", {**USER_DATA, "draw": 8}),
        set_random("userData", {**USER_DATA, "draw": 7.0}),
        set_random("pregeneratedRandomization", {"date": "2010-01-01"}),
        set_random("ticketData", {"ticketId": "x"}),
        set_random("data", [1, 2, 3, 4, 4]),
        set_random("data", [1, 2, 3, 4]),
        set_random("data", [0, 1, 2, 3, 4]),
        set_random("data", [1, 2, 3, 4, True]),
        set_random("serialNumber", "1"),
        set_random("completionTime", "2022-10-20T09:15:02Z"),
    ],
)
def test_an_answer_that_is_not_for_this_request_is_malformed(server, change):
    client = client_for(server)
    good = client.generate_signed_integers(5, 1, 10, user_data=USER_DATA)
    request_id = server.requests[-1]["id"]
    text = resigned(good.response_text, change)
    error = raised(lambda: client._check(text, request_id, 5, 1, 10, False, USER_DATA))
    assert error.code == "malformed"


def test_the_resigned_answers_would_pass_unchanged(server):
    """The check above fails for the change, not for the re-signing."""
    client = client_for(server)
    good = client.generate_signed_integers(5, 1, 10, user_data=USER_DATA)
    request_id = server.requests[-1]["id"]
    text = resigned(good.response_text, lambda answer: answer.__setitem__("error", None))
    assert client._check(text, request_id, 5, 1, 10, False, USER_DATA).data == good.data


# --- the stand-in itself --------------------------------------------------------------


def post(server: StandIn, body: bytes | dict) -> dict:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = requests.post(
        server.url, data=data, headers={"Content-Type": "application/json"}, timeout=5
    )
    assert response.status_code == 200
    return response.json()


def call(server: StandIn, **params) -> dict:
    base = {"apiKey": server.api_key, "n": 1, "min": 1, "max": 5, "replacement": False}
    return {
        "jsonrpc": "2.0",
        "method": "generateSignedIntegers",
        "params": {k: v for k, v in {**base, **params}.items() if v is not ...},
        "id": 17,
    }


@pytest.mark.parametrize(
    ("params", "rpc"),
    [
        ({"n": 0}, 202),
        ({"n": 10_001, "max": 20_000}, 202),
        ({"min": -1_000_000_001}, 202),
        ({"max": 1_000_000_001}, 202),
        ({"min": 10, "max": 1}, 300),
        ({"n": 6, "max": 5}, 301),
        ({"apiKey": "other"}, 400),
        ({"n": "three"}, 201),
        ({"n": True}, 201),
        ({"replacement": "no"}, 201),
        ({"base": 16}, 202),
        ({"userData": {"text": "x" * 1000}}, 203),
        ({"max": ...}, -32602),
        ({"apiKey": ...}, -32602),
        ({"colour": "red"}, -32602),
        ({"ticketId": "abc"}, -32602),
    ],
)
def test_the_stand_in_checks_parameters_as_random_org(server, params, rpc):
    answer = post(server, call(server, **params))
    assert answer["jsonrpc"] == "2.0" and answer["id"] == 17 and "result" not in answer
    assert answer["error"]["code"] == rpc and answer["error"]["message"]


def test_the_stand_in_checks_the_envelope(server):
    assert post(server, b"{not json")["error"]["code"] == -32700
    assert post(server, b"{not json")["id"] is None
    assert post(server, {**call(server), "method": "fooBar"})["error"] == {
        "code": -32601,
        "message": "Method not found",
        "data": None,
    }
    no_version = call(server)
    del no_version["jsonrpc"]
    assert post(server, no_version)["error"]["code"] == -32600
    assert post(server, [call(server)])["error"]["code"] == -32600
    assert post(server, {**call(server), "params": [1, 2]})["error"]["code"] == -32602
    answer = post(server, call(server, n=6, max=5))
    assert answer["error"]["data"] == [6, 5] and "6" in answer["error"]["message"]
    assert server.responses == []


def test_the_stand_in_answers_the_limits_exactly(server):
    answer = post(server, call(server, n=3, min=-1_000_000_000, max=-999_999_998))
    assert sorted(answer["result"]["random"]["data"]) == [
        -1_000_000_000,
        -999_999_999,
        -999_999_998,
    ]
    assert (
        post(server, call(server, userData="x" * 998))["result"]["random"]["userData"] == "x" * 998
    )
    result = post(server, call(server, n=2, min=1, max=4))["result"]
    assert set(result) == {
        "random",
        "signature",
        "bitsUsed",
        "bitsLeft",
        "requestsLeft",
        "advisoryDelay",
    }
    assert result["requestsLeft"] == 997 and result["bitsUsed"] == 4


def test_the_stand_in_runs_out_like_a_developer_key(server):
    server.requests_left = 1
    assert "result" in post(server, call(server))
    assert post(server, call(server))["error"]["code"] == 402
    server.requests_left, server.bits_left = 5, 2
    assert post(server, call(server, n=1, min=1, max=8))["error"]["code"] == 403


def test_the_stand_in_stops_cleanly_even_while_answering_slowly():
    before = set(threading.enumerate())
    standin = StandIn().start()
    standin.fail_next("timeout", delay=60)
    client = RandomOrgClient(standin.url, standin.api_key, STANDIN_KEY, retries=0, timeout=(1, 0.3))
    assert raised(lambda: client.generate_signed_integers(1, 1, 5)).code == "timeout"
    started = time.monotonic()
    standin.stop()
    assert time.monotonic() - started < 2
    assert set(threading.enumerate()) <= before
    standin.stop()  # twice is harmless
    with pytest.raises(RuntimeError):
        _ = standin.url


def test_unknown_failures_are_refused(server):
    with pytest.raises(ValueError):
        server.fail_next("slow")


# --- flask randomorg verify -----------------------------------------------------------


@pytest.fixture
def cli_app(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'cli.sqlite3'}", tmp_path / "instance")
    if "randomorg" not in app.cli.commands:
        app.cli.add_command(randomorg_cli)
    return app


def verify(app, random_file: Path, signature_file: Path):
    runner = app.test_cli_runner()
    return runner.invoke(args=["randomorg", "verify", str(random_file), str(signature_file)])


@pytest.mark.parametrize("name", PAIRS)
def test_cli_verifies_the_real_results(cli_app, name):
    result = verify(cli_app, DATA / f"{name}.random.json", DATA / f"{name}.signature.base64")
    assert result.exit_code == 0, result.output
    assert (
        f"authentic: signature verifies with random.org's key (SPKI SHA-256 {RANDOM_ORG_KEY_SHA256})"
        in result.stdout
    )
    random = json.loads((DATA / f"{name}.random.json").read_bytes())
    assert f"serialNumber: {random['serialNumber']}" in result.stdout
    assert random["completionTime"] in result.stdout
    assert json.dumps(random["data"]) in result.stdout


def test_cli_refuses_a_tampered_copy(cli_app, tmp_path):
    random, signature = pair("2021-08-04-serial-16675")
    (tmp_path / "random.json").write_bytes(random.replace(b"[5,1,9,4,7]", b"[5,1,9,4,8]"))
    (tmp_path / "signature.base64").write_text(signature, encoding="ascii")
    result = verify(cli_app, tmp_path / "random.json", tmp_path / "signature.base64")
    assert result.exit_code == 1
    assert "NOT authentic" in result.stderr and "authentic:" not in result.stdout
    # the same bytes, pretty-printed, are not what random.org signed either
    (tmp_path / "random.json").write_text(json.dumps(json.loads(random), indent=2))
    assert verify(cli_app, tmp_path / "random.json", tmp_path / "signature.base64").exit_code == 1


def test_cli_says_when_the_key_is_not_random_orgs(cli_app, server, tmp_path):
    result = client_for(server).generate_signed_integers(3, 1, 9, user_data=USER_DATA)
    (tmp_path / "random.json").write_text(result.random_text, encoding="utf-8")
    (tmp_path / "signature.base64").write_text(result.signature + "\n", encoding="ascii")
    cli_app.config["RANDOM_ORG_PUBLIC_KEY"] = server.public_key_pem
    checked = verify(cli_app, tmp_path / "random.json", tmp_path / "signature.base64")
    assert checked.exit_code == 0 and "NOT random.org's key" in checked.stdout
    assert "authentic:" not in checked.stdout
    cli_app.config["RANDOM_ORG_PUBLIC_KEY"] = None  # random.org's: the stand-in's result fails
    assert verify(cli_app, tmp_path / "random.json", tmp_path / "signature.base64").exit_code == 1
    cli_app.config["RANDOM_ORG_PUBLIC_KEY"] = str(tmp_path / "missing.pem")
    broken = verify(cli_app, tmp_path / "random.json", tmp_path / "signature.base64")
    assert broken.exit_code == 1 and "RANDOM_ORG_PUBLIC_KEY" in broken.stderr
