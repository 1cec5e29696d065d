"""random.org's JSON-RPC API (Release 4), ``generateSignedIntegers`` only, and its signatures.

random.org signs the ``random`` object of a signed result: RSA PKCS#1 v1.5 over the
SHA-512 of its compact JSON, keys in the order the service sent them. The portal keeps
the answer as received and checks the signature with a pinned public key, so a draw
can be re-verified offline at any time, by anyone who has random.org's key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

log = logging.getLogger(__name__)

PINNED_KEY_FILE = Path(__file__).with_name("random-org-public-key.pem")
# SPKI SHA-256 of random.org's signing key (the pinned file's).
RANDOM_ORG_KEY_SHA256 = "aaf4b5b58167ce015ed8badb7ad060813642eb695f25fa668339b0760d048ba3"

ERROR_CODES = (
    "no-key",  # no API key configured: nothing was sent
    "key-unknown",  # 400: random.org does not know the key
    "key-not-running",  # 401: the key is stopped in the random.org account
    "requests-exceeded",  # 402: the key's daily requests are used up
    "bits-exceeded",  # 403: the key's daily random bits are used up
    "invalid-parameters",  # -32602, 2xx and 3xx: the request's parameters were refused
    "invalid-request",  # -32700, -32600, -32601: not a request random.org understands
    "service-error",  # -32603 and any other error code: random.org's own trouble
    "offline",  # no connection or 5xx after the retries, or the API disabled (100)
    "timeout",  # no answer in time after the retries
    "malformed",  # an answer that is not a signed result for what was asked
    "bad-signature",  # the signature does not verify with the configured key
)
_RPC_CODES = {
    100: "offline",
    400: "key-unknown",
    401: "key-not-running",
    402: "requests-exceeded",
    403: "bits-exceeded",
    -32700: "invalid-request",
    -32600: "invalid-request",
    -32601: "invalid-request",
    -32602: "invalid-parameters",
    -32603: "service-error",
}


class RandomOrgError(Exception):
    """random.org gave no valid signed result; ``code`` is one of ``ERROR_CODES``."""

    def __init__(self, code: str, detail: str = "", rpc_code: int | None = None):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.rpc_code = rpc_code


def error_for_rpc(code: int, message: str) -> RandomOrgError:
    if code in _RPC_CODES:
        kind = _RPC_CODES[code]
    elif 200 <= code < 400:
        kind = "invalid-parameters"
    else:
        kind = "service-error"
    return RandomOrgError(kind, message, code)


# --- keys and signatures ---------------------------------------------------------------


def load_public_key_pem(setting: str | None) -> str:
    """The configured key: None for the pinned one, PEM text, or a PEM file's path."""
    if not setting:
        return PINNED_KEY_FILE.read_text(encoding="ascii")
    if setting.lstrip().startswith("-----BEGIN"):
        return setting
    return Path(setting).read_text(encoding="ascii")


def key_fingerprint(public_key_pem: str | bytes) -> str:
    """The hex SHA-256 of the key's DER SubjectPublicKeyInfo (what ``openssl pkey … | sha256sum`` gives)."""
    pem = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
    key = serialization.load_pem_public_key(pem)
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def is_random_org_key(public_key_pem: str | bytes | None) -> bool:
    if not public_key_pem:
        return False
    try:
        return key_fingerprint(public_key_pem) == RANDOM_ORG_KEY_SHA256
    except ValueError:
        return False


def canonical_random(random_obj: dict) -> str:
    """The text random.org signs: compact JSON of ``random``, keys in the order received."""
    return json.dumps(random_obj, separators=(",", ":"), ensure_ascii=False)


def verify_signature(
    random_text: str | bytes, signature_b64: str, public_key_pem: str | bytes
) -> bool:
    """Whether ``signature_b64`` is the key's RSA PKCS#1 v1.5 SHA-512 signature of the text."""
    data = random_text.encode("utf-8") if isinstance(random_text, str) else random_text
    pem = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
    try:
        signature = base64.b64decode("".join(signature_b64.split()), validate=True)
        key = serialization.load_pem_public_key(pem)
    except (binascii.Error, ValueError, TypeError):
        return False
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA512())
    except InvalidSignature:
        return False
    return True


# --- the client ----------------------------------------------------------------------


@dataclass(frozen=True)
class SignedResult:
    """A verified signed answer, with the raw text kept as received."""

    response_text: str
    random_text: str
    random: dict
    signature: str
    data: list[int]
    serial_number: int
    completion_time: str
    advisory_delay_ms: int


# One request at a time across the process, spaced by random.org's advisoryDelay.
_LOCK = threading.Lock()
_next_allowed = 0.0
_ids = itertools.count(int(time.time()))


def _timeout(value) -> tuple[float, float]:
    if isinstance(value, (int, float)):
        return (float(value), float(value))
    connect, read = value
    return (float(connect), float(read))


class RandomOrgClient:
    """Asks random.org for signed integers and accepts only a verified, matching answer."""

    def __init__(
        self,
        url: str,
        api_key: str | None,
        public_key_pem: str,
        *,
        timeout=(5.0, 30.0),
        retries: int = 3,
        backoff: float = 1.0,
        session: requests.Session | None = None,
    ):
        self.url = url
        self.api_key = api_key
        self.public_key_pem = public_key_pem
        self.timeout = _timeout(timeout)
        self.retries = max(int(retries), 0)
        self.backoff = float(backoff)
        self.session = session

    @classmethod
    def from_config(cls, config: Mapping) -> RandomOrgClient:
        return cls(
            config.get("RANDOM_ORG_URL") or "https://api.random.org/json-rpc/4/invoke",
            config.get("RANDOM_ORG_API_KEY"),
            load_public_key_pem(config.get("RANDOM_ORG_PUBLIC_KEY")),
            timeout=config.get("RANDOM_ORG_TIMEOUT", (5.0, 30.0)),
            retries=config.get("RANDOM_ORG_RETRIES", 3),
            backoff=config.get("RANDOM_ORG_BACKOFF", 1.0),
        )

    def generate_signed_integers(
        self,
        n: int,
        minimum: int,
        maximum: int,
        *,
        replacement: bool = False,
        user_data: dict | None = None,
    ) -> SignedResult:
        """``n`` signed integers in ``minimum..maximum``; raises ``RandomOrgError`` otherwise."""
        if not self.api_key:
            raise RandomOrgError("no-key")
        request_id = next(_ids)
        params = {
            "apiKey": self.api_key,
            "n": n,
            "min": minimum,
            "max": maximum,
            "replacement": replacement,
            "base": 10,
        }
        if user_data is not None:
            params["userData"] = user_data
        body = {
            "jsonrpc": "2.0",
            "method": "generateSignedIntegers",
            "params": params,
            "id": request_id,
        }
        text = self._post(body)
        result = self._check(text, request_id, n, minimum, maximum, replacement, user_data)
        return result

    def _post(self, body: dict) -> str:
        """The response body, after retries on network errors, timeouts and 5xx answers."""
        global _next_allowed
        with _LOCK:
            last: RandomOrgError | None = None
            for attempt in range(self.retries + 1):
                if attempt:
                    time.sleep(self.backoff * 2 ** (attempt - 1))
                wait = _next_allowed - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                try:
                    response = (self.session or requests).post(
                        self.url, json=body, timeout=self.timeout
                    )
                except requests.Timeout as error:
                    last = RandomOrgError("timeout", type(error).__name__)
                    continue
                except requests.RequestException as error:
                    last = RandomOrgError("offline", type(error).__name__)
                    continue
                if response.status_code >= 500:
                    last = RandomOrgError("offline", f"HTTP {response.status_code}")
                    continue
                text = response.content.decode("utf-8", errors="replace")
                try:
                    delay = json.loads(text)["result"]["advisoryDelay"]
                    _next_allowed = time.monotonic() + max(float(delay), 0) / 1000
                except (ValueError, KeyError, TypeError):
                    pass
                if response.status_code >= 400 and not text.lstrip().startswith("{"):
                    raise RandomOrgError("invalid-request", f"HTTP {response.status_code}")
                return text
            log.warning("random.org gave no answer after %d attempts: %s", self.retries + 1, last)
            raise last

    def _check(self, text, request_id, n, minimum, maximum, replacement, user_data) -> SignedResult:
        try:
            answer = json.loads(text)
        except ValueError:
            raise RandomOrgError("malformed", "not JSON") from None
        if not isinstance(answer, dict) or answer.get("jsonrpc") != "2.0":
            raise RandomOrgError("malformed", "not a JSON-RPC 2.0 answer")
        if "error" in answer:
            error = answer["error"] if isinstance(answer["error"], dict) else {}
            code = error.get("code")
            raise error_for_rpc(code if isinstance(code, int) else 0, str(error.get("message", "")))
        if answer.get("id") != request_id:
            raise RandomOrgError("malformed", "the answer is for another request")
        result = answer.get("result")
        if not isinstance(result, dict):
            raise RandomOrgError("malformed", "no result")
        random, signature = result.get("random"), result.get("signature")
        if not isinstance(random, dict) or not isinstance(signature, str):
            raise RandomOrgError("malformed", "no random object or signature")
        data = random.get("data")
        expected = {
            "method": "generateSignedIntegers",
            "n": n,
            "min": minimum,
            "max": maximum,
            "replacement": replacement,
            "userData": user_data,
        }
        for name, value in expected.items():
            if random.get(name) != value or (
                isinstance(value, bool) and random.get(name) is not value
            ):
                raise RandomOrgError("malformed", f"random.{name} is not what was asked")
        if (
            not isinstance(data, list)
            or len(data) != n
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in data)
            or not all(minimum <= v <= maximum for v in data)
            or (not replacement and len(set(data)) != n)
        ):
            raise RandomOrgError("malformed", "random.data does not fit the request")
        serial, completed = random.get("serialNumber"), random.get("completionTime")
        if not isinstance(serial, int) or not isinstance(completed, str):
            raise RandomOrgError("malformed", "no serial number or completion time")
        random_text = canonical_random(random)
        if not verify_signature(random_text, signature, self.public_key_pem):
            raise RandomOrgError("bad-signature", f"serial {serial}")
        delay = result.get("advisoryDelay", 0)
        return SignedResult(
            response_text=text,
            random_text=random_text,
            random=random,
            signature=signature,
            data=list(data),
            serial_number=serial,
            completion_time=completed,
            advisory_delay_ms=int(delay) if isinstance(delay, (int, float)) else 0,
        )
