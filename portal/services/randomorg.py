"""random.org's JSON-RPC API (Release 4): ``generateSignedIntegers`` and ``getResult``, and
the signatures.

random.org signs the ``random`` object of a signed result: RSA PKCS#1 v1.5 over the
SHA-512 of its compact JSON, keys in the order the service sent them. The portal keeps
the answer as received and checks the signature with a pinned public key, so a draw
can be re-verified offline at any time, by anyone who has random.org's key.

The client accepts nothing it has not checked: an answer must be a JSON-RPC answer to
this very request, its ``random`` must describe exactly what was asked (method, n, min,
max, replacement, base, userData, no pregenerated randomization, no ticket) with data
that fits, and its signature must verify with the configured key. Everything else is a
``RandomOrgError`` whose ``code`` says what kind of trouble it was, so the portal can
explain it in the staff's language and never draws from an answer it could not trust.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import itertools
import json
import logging
import math
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

log = logging.getLogger(__name__)

DEFAULT_URL = "https://api.random.org/json-rpc/4/invoke"
PINNED_KEY_FILE = Path(__file__).with_name("random-org-public-key.pem")
# SPKI SHA-256 of random.org's signing key (the pinned file's). It is the key of
# random.org's 2017-2019 TLS certificate and still verifies later signatures: the key is
# pinned, not the certificate, whose dates say nothing about the signatures.
RANDOM_ORG_KEY_SHA256 = "aaf4b5b58167ce015ed8badb7ad060813642eb695f25fa668339b0760d048ba3"

ERROR_CODES = (
    "no-key",  # no API key configured: nothing was sent
    "key-unknown",  # 400: random.org does not know the key
    "key-not-running",  # 401: the key is stopped in the random.org account
    "key-not-permitted",  # 404, 405: the key may not use this method or this API release
    "requests-exceeded",  # 402: the key's daily requests are used up
    "bits-exceeded",  # 403: the key's daily random bits are used up
    "invalid-parameters",  # -32602, 2xx and 3xx: the request's parameters were refused
    "invalid-request",  # -32700, -32600, -32601, or a 4xx page: not a request it understands
    "service-error",  # -32603 and any other error code: random.org's own trouble
    "offline",  # no connection or 5xx after the retries, or the API disabled (100, 101, 500)
    "timeout",  # no answer in time after the retries
    "malformed",  # an answer that is not a signed result for what was asked
    "bad-signature",  # the signature does not verify with the configured key
)
_RPC_CODES = {
    -32700: "invalid-request",
    -32600: "invalid-request",
    -32601: "invalid-request",
    -32602: "invalid-parameters",
    -32603: "service-error",
    100: "offline",
    101: "offline",
    400: "key-unknown",
    401: "key-not-running",
    402: "requests-exceeded",
    403: "bits-exceeded",
    404: "key-not-permitted",
    405: "key-not-permitted",
    500: "offline",
}
# The fields of a Release 4 signed ``random``, in the order random.org sends them.
RANDOM_FIELDS = (
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
)
_COMPLETION_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z")


class RandomOrgError(Exception):
    """random.org gave no valid signed result.

    ``code`` is one of ``ERROR_CODES`` (what the portal tells the staff, translated);
    ``rpc_code`` is random.org's JSON-RPC error code when it sent one; ``detail`` is
    random.org's own message or what was wrong with its answer, in English, for logs.
    """

    def __init__(self, code: str, detail: str = "", rpc_code: int | None = None):
        if code not in ERROR_CODES:
            raise ValueError(f"unknown random.org error code {code!r}")
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.rpc_code = rpc_code
        # a signed answer of the key that came with the trouble (its signature verifies,
        # but it is not what was asked): random.org used a serial number for it, so the
        # portal keeps it on its ledger all the same
        self.signed: SignedAnswer | None = None


def error_for_rpc(code: int, message: str) -> RandomOrgError:
    """The ``RandomOrgError`` for a JSON-RPC error object random.org sent."""
    if code in _RPC_CODES:
        kind = _RPC_CODES[code]
    elif 200 <= code < 400:  # 2xx: a parameter is wrong; 3xx: parameters that do not fit
        kind = "invalid-parameters"
    else:
        kind = "service-error"
    return RandomOrgError(kind, message, code)


# --- keys and signatures ---------------------------------------------------------------


def load_public_key_pem(setting: str | None) -> str:
    """The configured key's PEM text.

    ``None`` or empty: the pinned key shipped with the portal; text starting with
    ``-----BEGIN``: that text; anything else: the path of a PEM file.
    """
    if not setting:
        return PINNED_KEY_FILE.read_text(encoding="ascii")
    if setting.lstrip().startswith("-----BEGIN"):
        return setting
    return Path(setting).expanduser().read_text(encoding="ascii")


def _public_key(pem: str | bytes) -> PublicKeyTypes:
    """The key in a PEM public key or, as random.org publishes it, a PEM certificate."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    if b"-----BEGIN CERTIFICATE-----" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return serialization.load_pem_public_key(data)


def key_fingerprint(public_key_pem: str | bytes) -> str:
    """The hex SHA-256 of the key's DER SubjectPublicKeyInfo.

    It is what ``openssl pkey -pubin -outform DER | sha256sum`` prints, so anyone can
    check which key a draw was verified with. Raises ``ValueError`` for a PEM that holds
    no public key.
    """
    try:
        key = _public_key(public_key_pem)
    except (UnsupportedAlgorithm, UnicodeEncodeError) as error:
        raise ValueError(str(error)) from error
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def is_random_org_key(public_key_pem: str | bytes | None) -> bool:
    """Whether the PEM holds random.org's signing key (compared by SPKI SHA-256)."""
    if not public_key_pem:
        return False
    try:
        return key_fingerprint(public_key_pem) == RANDOM_ORG_KEY_SHA256
    except (ValueError, TypeError):
        return False


def canonical_random(random_obj: dict) -> str:
    """The text random.org signs: compact JSON of ``random``, keys in the order received.

    ``json.loads`` keeps the order of the keys, so this reproduces random.org's bytes
    exactly (checked against real signed results in the tests). Non-ASCII characters
    are kept as they are; the portal's userData is ASCII, so the question of how
    random.org would escape them does not arise.
    """
    return json.dumps(random_obj, separators=(",", ":"), ensure_ascii=False)


def hashed_api_key(api_key: str) -> str:
    """What random.org writes in ``random.hashedApiKey``: the base64 of the key's SHA-512."""
    return base64.b64encode(hashlib.sha512(api_key.encode("utf-8")).digest()).decode("ascii")


def verify_signature(
    random_text: str | bytes, signature_b64: str, public_key_pem: str | bytes
) -> bool:
    """Whether ``signature_b64`` is the key's RSA PKCS#1 v1.5 SHA-512 signature of the text.

    The text is checked byte for byte as given (UTF-8 when it is a ``str``); whitespace
    in the base64 is ignored. Any problem (bad base64, a key that is not RSA or not a
    key, a changed byte) is ``False``, never an exception: this is the question a
    verification page asks, and "no" is its answer for all of them.
    """
    try:
        data = random_text.encode("utf-8") if isinstance(random_text, str) else bytes(random_text)
        signature = base64.b64decode("".join(signature_b64.split()), validate=True)
        key = _public_key(public_key_pem)
    except (binascii.Error, ValueError, TypeError, AttributeError, UnsupportedAlgorithm):
        return False
    if not isinstance(key, rsa.RSAPublicKey) or not signature:
        return False
    try:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA512())
    except (InvalidSignature, ValueError):
        return False
    return True


# --- the client ----------------------------------------------------------------------


@dataclass(frozen=True)
class SignedAnswer:
    """A signed answer of the key whose signature verifies, whatever it was asked for
    (what ``getResult`` gives back: any signed method's ``random``)."""

    random_text: str  # canonical_random(random): the signed bytes
    random: dict
    signature: str  # base64, as received
    serial_number: int
    completion_time: str
    hashed_api_key: str

    @property
    def user_data(self) -> Any:
        return self.random.get("userData")


@dataclass(frozen=True)
class SignedResult:
    """A verified signed answer; the texts are kept exactly as received and signed."""

    response_text: str  # the HTTP body as received, decoded UTF-8
    random_text: str  # canonical_random(random): the signed bytes
    random: dict
    signature: str  # base64, as received
    data: list[int]
    serial_number: int
    completion_time: str  # "YYYY-MM-DD HH:MM:SSZ", UTC, as random.org wrote it
    advisory_delay_ms: int

    @property
    def answer(self) -> SignedAnswer:
        """The signed answer alone, as the ledger keeps it."""
        return SignedAnswer(
            random_text=self.random_text,
            random=self.random,
            signature=self.signature,
            serial_number=self.serial_number,
            completion_time=self.completion_time,
            hashed_api_key=self.random["hashedApiKey"],
        )


# One request at a time across the process, spaced by random.org's advisoryDelay: its
# guidelines ask clients to wait that long after an answer before the next request.
_LOCK = threading.Lock()
_next_allowed = 0.0  # time.monotonic() before which no request may start
_ids = itertools.count(int(time.time() * 1000))


def _timeout(value: float | tuple[float, float] | list[float]) -> tuple[float, float]:
    if isinstance(value, (int, float)):
        return (float(value), float(value))
    connect, read = value
    return (float(connect), float(read))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: ``1``, ``1.0`` and ``true`` differ, the order of keys does not."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


class RandomOrgClient:
    """Asks random.org for signed integers and accepts only a verified, matching answer.

    Network errors, timeouts and HTTP 5xx answers are retried ``retries`` times, after
    ``backoff``, ``2 * backoff``, ``4 * backoff``… seconds; an error object from
    random.org or a 4xx answer is final, as asking again would get the same answer.
    """

    def __init__(
        self,
        url: str,
        api_key: str | None,
        public_key_pem: str,
        *,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        retries: int = 3,
        backoff: float = 1.0,
        session: requests.Session | None = None,
    ):
        self.url = url
        self.api_key = api_key
        self.public_key_pem = public_key_pem
        self.timeout = _timeout(timeout)
        self.retries = max(int(retries), 0)
        self.backoff = max(float(backoff), 0.0)
        self.session = session

    def __repr__(self) -> str:  # never the API key
        return f"RandomOrgClient({self.url!r}, key {'set' if self.api_key else 'missing'})"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RandomOrgClient:
        """The client the app's settings describe (``RANDOM_ORG_*``)."""
        timeout = config.get("RANDOM_ORG_TIMEOUT")
        retries = config.get("RANDOM_ORG_RETRIES")
        backoff = config.get("RANDOM_ORG_BACKOFF")
        return cls(
            config.get("RANDOM_ORG_URL") or DEFAULT_URL,
            config.get("RANDOM_ORG_API_KEY"),
            load_public_key_pem(config.get("RANDOM_ORG_PUBLIC_KEY")),
            timeout=(5.0, 30.0) if timeout is None else timeout,
            retries=3 if retries is None else retries,
            backoff=1.0 if backoff is None else backoff,
        )

    @property
    def hashed_api_key(self) -> str | None:
        """The key's ``hashedApiKey``, as random.org writes it in every signed answer."""
        return hashed_api_key(self.api_key) if self.api_key else None

    def get_result(self, serial_number: int) -> SignedAnswer:
        """The key's signed answer numbered ``serial_number``, which random.org keeps for at
        least a year (``getResult``); checked as every answer is: its signature verifies
        with the configured key, it is the key's (``hashedApiKey``) and bears that serial.

        Raises ``RandomOrgError``: random.org's error object when it does not have that
        serial for this key (or any other trouble), ``malformed`` or ``bad-signature``.
        """
        if not self.api_key:
            raise RandomOrgError("no-key", "RANDOM_ORG_API_KEY is not set")
        request_id = next(_ids)
        body = {
            "jsonrpc": "2.0",
            "method": "getResult",
            "params": {"apiKey": self.api_key, "serialNumber": serial_number},
            "id": request_id,
        }
        text = self._post(json.dumps(body, ensure_ascii=False).encode("utf-8"))
        random, signature = self._envelope(text, request_id)
        answer = self._signed(random, signature)
        if answer.serial_number != serial_number:
            raise RandomOrgError("malformed", f"serial {answer.serial_number}, not {serial_number}")
        return answer

    def generate_signed_integers(
        self,
        n: int,
        minimum: int,
        maximum: int,
        *,
        replacement: bool = False,
        user_data: dict | None = None,
    ) -> SignedResult:
        """``n`` signed integers in ``minimum..maximum``; raises ``RandomOrgError`` otherwise.

        ``user_data`` is signed with the numbers, which ties them to what they were drawn
        for. Without an API key nothing is sent (``no-key``).
        """
        if not self.api_key:
            raise RandomOrgError("no-key", "RANDOM_ORG_API_KEY is not set")
        request_id = next(_ids)
        params: dict[str, Any] = {
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
        text = self._post(json.dumps(body, ensure_ascii=False).encode("utf-8"))
        return self._check(text, request_id, n, minimum, maximum, replacement, user_data)

    # --- sending ---------------------------------------------------------------------

    def _post(self, payload: bytes) -> str:
        """The response body, after retries on network errors, timeouts and 5xx answers."""
        global _next_allowed
        with _LOCK:
            last = RandomOrgError("offline", "no attempt made")
            for attempt in range(self.retries + 1):
                if attempt:
                    time.sleep(self.backoff * 2 ** (attempt - 1))
                wait = _next_allowed - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                try:
                    response = (self.session or requests).post(
                        self.url,
                        data=payload,
                        headers={"Content-Type": "application/json"},
                        timeout=self.timeout,
                    )
                except requests.Timeout as error:
                    last = RandomOrgError("timeout", type(error).__name__)
                except requests.RequestException as error:
                    last = RandomOrgError("offline", type(error).__name__)
                else:
                    if response.status_code < 500:
                        delay = _advisory_delay_ms(response.content)
                        if delay:
                            _next_allowed = time.monotonic() + delay / 1000
                        return self._body(response)
                    last = RandomOrgError("offline", f"HTTP {response.status_code}")
                log.warning(
                    "random.org attempt %d of %d failed: %s", attempt + 1, self.retries + 1, last
                )
            raise last

    @staticmethod
    def _body(response: requests.Response) -> str:
        try:
            text = response.content.decode("utf-8")
        except UnicodeDecodeError:
            raise RandomOrgError("malformed", "the answer is not UTF-8") from None
        if response.status_code >= 400 and not _is_rpc_error(text):
            # a web server's page (wrong URL, a proxy…), not random.org's JSON-RPC answer
            raise RandomOrgError("invalid-request", f"HTTP {response.status_code}")
        return text

    # --- checking --------------------------------------------------------------------

    def _check(
        self,
        text: str,
        request_id: int,
        n: int,
        minimum: int,
        maximum: int,
        replacement: bool,
        user_data: dict | None,
    ) -> SignedResult:
        random, signature = self._envelope(text, request_id)
        try:
            result = self._matching(
                text, random, signature, n, minimum, maximum, replacement, user_data
            )
        except RandomOrgError as error:
            if error.code == "malformed":
                # signed all the same? then random.org numbered it: the ledger keeps it
                with contextlib.suppress(RandomOrgError):
                    error.signed = self._signed(random, signature)
            raise
        return result

    def _envelope(self, text: str, request_id: int) -> tuple[dict, str]:
        """The ``random`` object and signature of a JSON-RPC answer to this very request."""
        try:
            answer = json.loads(text)
        except ValueError:
            raise RandomOrgError("malformed", "not JSON") from None
        if not isinstance(answer, dict) or answer.get("jsonrpc") != "2.0":
            raise RandomOrgError("malformed", "not a JSON-RPC 2.0 answer")
        if answer.get("error") is not None:
            error = answer["error"] if isinstance(answer["error"], dict) else {}
            code = error.get("code")
            if not _is_int(code):
                raise RandomOrgError("malformed", "an error object without a code")
            raise error_for_rpc(code, str(error.get("message", "")))
        if not _is_int(answer.get("id")) or answer["id"] != request_id:
            raise RandomOrgError("malformed", "the answer is for another request")
        result = answer.get("result")
        if not isinstance(result, dict):
            raise RandomOrgError("malformed", "no result")
        random, signature = result.get("random"), result.get("signature")
        if not isinstance(random, dict) or not isinstance(signature, str) or not signature:
            raise RandomOrgError("malformed", "no random object or signature")
        return random, signature

    def _signed(self, random: dict, signature: str) -> SignedAnswer:
        """A signed answer of this key, whatever it was for: its signature verifies with
        the configured key, its ``hashedApiKey`` is the key's, it has a serial and a time."""
        serial, completed = random.get("serialNumber"), random.get("completionTime")
        if not _is_int(serial) or not isinstance(completed, str):
            raise RandomOrgError("malformed", "no serial number or completion time")
        if not _COMPLETION_TIME.fullmatch(completed):
            raise RandomOrgError("malformed", f"completionTime {completed!r}")
        random_text = canonical_random(random)
        if not verify_signature(random_text, signature, self.public_key_pem):
            raise RandomOrgError("bad-signature", f"serial {serial}")
        if random.get("hashedApiKey") != self.hashed_api_key:
            raise RandomOrgError("malformed", "random.hashedApiKey is not the key's")
        return SignedAnswer(
            random_text=random_text,
            random=random,
            signature=signature,
            serial_number=serial,
            completion_time=completed,
            hashed_api_key=random["hashedApiKey"],
        )

    def _matching(
        self,
        text: str,
        random: dict,
        signature: str,
        n: int,
        minimum: int,
        maximum: int,
        replacement: bool,
        user_data: dict | None,
    ) -> SignedResult:
        """The signed result, when ``random`` is exactly what was asked and signed."""
        missing = [name for name in RANDOM_FIELDS if name not in random]
        if missing:
            raise RandomOrgError("malformed", f"random has no {', '.join(missing)}")

        asked = {
            "method": "generateSignedIntegers",
            "n": n,
            "min": minimum,
            "max": maximum,
            "replacement": replacement,
            "base": 10,
            "userData": user_data,
            # values made on the fly, not replayed from a pregenerated randomization;
            # no ticket was used
            "pregeneratedRandomization": None,
            "ticketData": None,
        }
        for name, value in asked.items():
            if not _same_json(random[name], value):
                raise RandomOrgError("malformed", f"random.{name} is not what was asked")
        data = random["data"]
        if (
            not isinstance(data, list)
            or len(data) != n
            or not all(_is_int(v) and minimum <= v <= maximum for v in data)
            or (not replacement and len(set(data)) != n)
        ):
            raise RandomOrgError("malformed", "random.data does not fit the request")
        if not isinstance(random["hashedApiKey"], str) or not isinstance(random["license"], dict):
            raise RandomOrgError("malformed", "random.hashedApiKey or random.license")
        answer = self._signed(random, signature)  # serial, time, signature, the key's
        return SignedResult(
            response_text=text,
            random_text=answer.random_text,
            random=random,
            signature=signature,
            data=list(data),
            serial_number=answer.serial_number,
            completion_time=answer.completion_time,
            advisory_delay_ms=_advisory_delay_ms(text.encode("utf-8")),
        )


def _is_rpc_error(text: str) -> bool:
    try:
        answer = json.loads(text)
    except ValueError:
        return False
    return isinstance(answer, dict) and isinstance(answer.get("error"), dict)


def _advisory_delay_ms(body: bytes) -> int:
    """The ``advisoryDelay`` an answer asks for, in milliseconds (0 when there is none)."""
    try:
        delay = json.loads(body)["result"]["advisoryDelay"]
    except (ValueError, KeyError, TypeError):
        return 0
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not math.isfinite(delay):
        return 0
    return max(int(delay), 0)
