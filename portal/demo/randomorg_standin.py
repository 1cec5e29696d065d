"""A stand-in random.org for the tests, the demo and the benchmarks: a real HTTP server.

It speaks Release 4's ``generateSignedIntegers`` and ``getResult`` as random.org does: the JSON-RPC
envelope and its errors, the parameter checks and their error codes, the ``random``
object with every field in random.org's order, the signature (RSA PKCS#1 v1.5, SHA-512
over the compact JSON of ``random``) and the usage fields (bitsUsed, bitsLeft,
requestsLeft, advisoryDelay). It numbers the signed answers of each API key in sequence
(``serialNumber`` 1, 2, ... per key, ``hashedApiKey`` the base64 of the key's SHA-512),
keeps them, and gives any of them back with ``getResult`` ({apiKey, serialNumber}), the
result object as first sent. The portal's client therefore runs its real code, HTTP
included, against it.

It signs with a TEST key, ``standin-test-key.pem``, published with the portal: whatever
it signs proves nothing, and every page of the portal says so because the key is not
random.org's. Misbehaviour for the next requests is scripted with ``fail_next``.

Where it differs from random.org: only base 10 is served (random.org also has 2, 8 and
16), and pregeneratedRandomization, licenseData and ticketId are refused (-32602) when
not null, as the portal never uses them. The error messages follow random.org's error
code page as far as the portal knows it; clients act on the codes, never on the texts.
A serial the key does not have is answered with ``UNKNOWN_SERIAL`` (-32602, Invalid
params): the documentation at hand did not say which code random.org gives, and the
portal treats any error to a ``getResult`` as "not fetched" (docs/DESIGN.md, "The ledger").
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from portal.services.randomorg import canonical_random

# A TEST key, published on purpose (RSA 2048, PKCS#8): it is NOT random.org's, anyone can
# sign with it, and a result signed with it proves nothing about random.org.
TEST_KEY_FILE = Path(__file__).with_name("standin-test-key.pem")
PATH = "/json-rpc/4/invoke"
METHOD = "generateSignedIntegers"
GET_RESULT = "getResult"
UNKNOWN_SERIAL = -32602
REQUIRED = ("apiKey", "n", "min", "max")
OPTIONAL = (
    "replacement",
    "base",
    "pregeneratedRandomization",
    "licenseData",
    "userData",
    "ticketId",
)
MAX_N = 10_000
LIMIT = 1_000_000_000  # min and max lie in [-1e9, 1e9]
MAX_USER_DATA = 1000  # characters of userData's JSON
LICENSE = {
    "type": "developer",
    "text": "Random values licensed strictly for development and testing only",
    "infoUrl": None,
}
FAILURES = ("http-500", "timeout", "malformed", "bad-signature", "wrong-data")

MESSAGES = {
    -32700: "Parse error",
    -32600: "Invalid Request",
    -32601: "Method not found",
    -32602: "Invalid params",
    -32603: "Internal error",
    100: "The API you are attempting to use has been temporarily disabled",
    101: "The API you are attempting to use is offline",
    200: "Parameter '{0}' is malformed",
    201: "Parameter '{0}' has illegal type",
    202: "Parameter '{0}' is out of range; allowable values are [{1}, {2}]",
    203: "Parameter '{0}' is too long; maximum length is {1}",
    300: "{0} is greater than {1}",
    301: "You requested {0} values without replacement but the range only contains {1}",
    400: "The API key you specified does not exist",
    401: "The API key you specified is not running",
    402: "The API key you specified has exceeded its daily request allowance",
    403: "The API key you specified has exceeded its daily bit allowance",
    404: "The API key you specified is not valid for the method you requested",
    405: "The API key you specified is not valid for the version of the API you are invoking",
    500: "Service offline",
    32000: "Unknown error",
}
# What ``fail_next(("error", code))`` puts in the error's data, to fill the message.
SCRIPTED_DATA: dict[int, list[Any]] = {
    200: ["n"],
    201: ["n"],
    202: ["n", 1, MAX_N],
    203: ["userData", MAX_USER_DATA],
    300: ["min", "max"],
    301: [2, 1],
    402: [1, 0],
    403: [1, 0],
}


@functools.lru_cache(maxsize=8)
def _private_key(pem: bytes) -> rsa.RSAPrivateKey:
    """The signing key; loaded once, as checking an RSA key takes a noticeable moment."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the stand-in signs with an RSA key")
    return key


class RpcError(Exception):
    """A JSON-RPC error object the stand-in answers with."""

    def __init__(self, code: int, *data: Any):
        template = MESSAGES.get(code, "Unknown error")
        super().__init__(code)
        self.code = code
        try:
            self.message = template.format(*data)
        except IndexError:  # a scripted error without its data
            self.message = template
        self.data: list[Any] | None = list(data) if data else None


class _Server(ThreadingHTTPServer):
    # Handler threads are joined by server_close(), so stop() leaves no thread behind.
    daemon_threads = False
    block_on_close = True
    standin: StandIn


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5  # an idle connection cannot hold stop() for longer than this
    server: _Server

    def do_POST(self) -> None:
        standin = self.server.standin
        self.close_connection = True  # one request a connection: no thread waits idle
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        raw = self.rfile.read(length) if length > 0 else b""
        status, body, delay = standin._answer(self.path, raw)
        if delay and standin._stopping.wait(delay):
            return  # stopping: the client gave up long ago
        payload = body.encode("utf-8")
        # the client may have given up waiting (a scripted timeout)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class StandIn:
    """The server; ``url``, ``api_key`` and ``public_key_pem`` configure the portal for it.

    Use it as a context manager, or ``start()`` and ``stop()``. ``requests`` holds the
    parsed JSON bodies received (``request_times`` their ``time.monotonic()`` arrival),
    ``responses`` the signed answers sent. ``requests_left`` and ``bits_left`` fall with
    each answer, as a developer key's daily allowance does, and give 402 and 403 at 0.
    """

    def __init__(
        self,
        private_key_pem: bytes | None = None,
        api_key: str = "standin-api-key",
        advisory_delay_ms: int = 0,
    ):
        key = _private_key(private_key_pem or TEST_KEY_FILE.read_bytes())
        self._key = key
        self.public_key_pem = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )
        self.api_key = api_key
        self.advisory_delay_ms = advisory_delay_ms
        self.requests_left = 1_000
        self.bits_left = 250_000
        self.requests: list[dict] = []
        self.request_times: list[float] = []
        self.responses: list[str] = []
        # the keys it answers, each numbering its answers from 1; the signed results kept
        # by (hashedApiKey, serialNumber), as getResult gives them back
        self.api_keys: list[str] = [api_key]
        self._serials: dict[str, int] = {}
        self._results: dict[tuple[str, int], dict] = {}
        # what ``completionTime`` says; the demo sets it to its draws' dates
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._failures: deque[tuple[Any, float]] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- running -----------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/json-rpc/4/invoke``, once started."""
        if self._server is None:
            raise RuntimeError("the stand-in is not running: start() it first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{PATH}"

    def start(self) -> StandIn:
        """Listen on a free port of 127.0.0.1, served from a background thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.standin = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},  # stop() waits up to this long
            name="randomorg-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake any scripted slow answer, close every socket, join every thread."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join()
        self._server = self._thread = None

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(self, kind: str | tuple[str, int], times: int = 1, delay: float = 5.0) -> None:
        """Misbehave on the next ``times`` requests.

        ``("error", code)``: that JSON-RPC error object, with random.org's message;
        ``"http-500"``: an HTTP 500 page; ``"timeout"``: the answer only after ``delay``
        seconds (make it longer than the client's read timeout); ``"malformed"``: a body
        that is not JSON; ``"bad-signature"``: a signature of other bytes;
        ``"wrong-data"``: a signed answer whose data lie outside [min, max].
        """
        valid = kind in FAILURES or (
            isinstance(kind, tuple) and len(kind) == 2 and kind[0] == "error"
        )
        if not valid:
            raise ValueError(f"unknown failure {kind!r}")
        with self._lock:
            for _ in range(times):
                self._failures.append((kind, delay))

    def add_key(self, api_key: str) -> None:
        """Answer another API key too (its serial numbers run on their own, from 1)."""
        with self._lock:
            if api_key not in self.api_keys:
                self.api_keys.append(api_key)

    def continue_after(self, serial: int, api_key: str | None = None) -> None:
        """Number the key's next answer ``serial + 1``: a stand-in started again over a
        database that already holds the answers of an earlier run (``flask demo`` again)."""
        with self._lock:
            key = api_key or self.api_key
            self._serials[key] = max(self._serials.get(key, 0), serial)

    def serial_of(self, api_key: str | None = None) -> int:
        """The last serial number given to the key's answers (0: none yet)."""
        return self._serials.get(api_key or self.api_key, 0)

    # --- answering ---------------------------------------------------------------

    def _answer(self, path: str, raw: bytes) -> tuple[int, str, float]:
        """(HTTP status, body, seconds to wait before sending it) for one POST."""
        if path != PATH:
            return 404, "Not Found", 0
        with self._lock:
            self.request_times.append(time.monotonic())
            kind, delay = self._failures.popleft() if self._failures else (None, 0.0)
        try:
            request = json.loads(raw)
        except ValueError:
            return 200, self._error(RpcError(-32700), None), 0
        if isinstance(request, dict):
            self.requests.append(request)
        request_id = request.get("id") if isinstance(request, dict) else None
        if kind == "http-500":
            return 500, "Internal Server Error", 0
        if kind == "malformed":
            return 200, "<html><body>Service temporarily unavailable</body></html>", 0
        if isinstance(kind, tuple):
            code = kind[1]
            return 200, self._error(RpcError(code, *SCRIPTED_DATA.get(code, [])), request_id), 0
        try:
            if isinstance(request, dict) and request.get("method") == GET_RESULT:
                body = self._get_result(request)
            else:
                body = self._generate(request, kind)
        except RpcError as error:
            return 200, self._error(error, request_id), 0
        with self._lock:
            self.responses.append(body)
        return 200, body, delay if kind == "timeout" else 0

    @staticmethod
    def _error(error: RpcError, request_id: Any) -> str:
        return json.dumps(
            {
                "jsonrpc": "2.0",
                "error": {"code": error.code, "message": error.message, "data": error.data},
                "id": request_id,
            },
            ensure_ascii=False,
        )

    def _params(self, request: Any) -> tuple[int, int, int, bool, Any]:
        """The request's (n, min, max, replacement, userData), checked as random.org does."""
        if (
            not isinstance(request, dict)
            or request.get("jsonrpc") != "2.0"
            or not isinstance(request.get("method"), str)
            or "id" not in request
        ):
            raise RpcError(-32600)
        if request["method"] != METHOD:
            raise RpcError(-32601)
        params = request.get("params")
        if not isinstance(params, dict):
            raise RpcError(-32602)
        if any(name not in params for name in REQUIRED):
            raise RpcError(-32602)
        if any(name not in REQUIRED and name not in OPTIONAL for name in params):
            raise RpcError(-32602)
        if any(
            params.get(name) is not None
            for name in ("pregeneratedRandomization", "licenseData", "ticketId")
        ):
            raise RpcError(-32602)  # not served by the stand-in
        if not isinstance(params["apiKey"], str):
            raise RpcError(201, "apiKey")
        if params["apiKey"] not in self.api_keys:
            raise RpcError(400)

        n, low, high = params["n"], params["min"], params["max"]
        replacement = params.get("replacement", True)
        base = params.get("base", 10)
        user_data = params.get("userData")
        for name, value in (("n", n), ("min", low), ("max", high), ("base", base)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise RpcError(201, name)
        if not isinstance(replacement, bool):
            raise RpcError(201, "replacement")
        if not 1 <= n <= MAX_N:
            raise RpcError(202, "n", 1, MAX_N)
        for name, value in (("min", low), ("max", high)):
            if not -LIMIT <= value <= LIMIT:
                raise RpcError(202, name, -LIMIT, LIMIT)
        if base != 10:
            raise RpcError(202, "base", 10, 10)
        if user_data is not None:
            text = json.dumps(user_data, separators=(",", ":"), ensure_ascii=False)
            if len(text) > MAX_USER_DATA:
                raise RpcError(203, "userData", MAX_USER_DATA)
        if low > high:
            raise RpcError(300, "min", "max")
        if not replacement and n > high - low + 1:
            raise RpcError(301, n, high - low + 1)
        return n, low, high, replacement, user_data

    def _get_result(self, request: dict) -> str:
        """``getResult``: the key's signed result numbered ``serialNumber``, as first sent."""
        if request.get("jsonrpc") != "2.0" or "id" not in request:
            raise RpcError(-32600)
        params = request.get("params")
        if not isinstance(params, dict) or set(params) != {"apiKey", "serialNumber"}:
            raise RpcError(-32602)
        api_key, serial = params["apiKey"], params["serialNumber"]
        if not isinstance(api_key, str):
            raise RpcError(201, "apiKey")
        if not isinstance(serial, int) or isinstance(serial, bool):
            raise RpcError(201, "serialNumber")
        if api_key not in self.api_keys:
            raise RpcError(400)
        with self._lock:
            result = self._results.get((_hashed(api_key), serial))
        if result is None:
            raise RpcError(UNKNOWN_SERIAL)
        return json.dumps(
            {"jsonrpc": "2.0", "result": result, "id": request["id"]}, ensure_ascii=False
        )

    def _generate(self, request: Any, kind: Any) -> str:
        n, low, high, replacement, user_data = self._params(request)
        api_key = request["params"]["apiKey"]
        bits = n * (high - low).bit_length()
        with self._lock:
            if self.requests_left <= 0:
                raise RpcError(402, 1, self.requests_left)
            if bits > self.bits_left:
                raise RpcError(403, bits, self.bits_left)
            self.requests_left -= 1
            self.bits_left -= bits
            serial = self._serials.get(api_key, 0) + 1
            self._serials[api_key] = serial
            requests_left, bits_left = self.requests_left, self.bits_left

        rng = secrets.SystemRandom()
        if replacement:
            data = [rng.randint(low, high) for _ in range(n)]
        else:
            data = rng.sample(range(low, high + 1), n)
        if kind == "wrong-data":
            data = [high + 1 + i for i in range(n)]
        random = {
            "method": METHOD,
            "hashedApiKey": _hashed(api_key),
            "n": n,
            "min": low,
            "max": high,
            "replacement": replacement,
            "base": 10,
            "pregeneratedRandomization": None,
            "data": data,
            "license": dict(LICENSE),
            "licenseData": None,
            "userData": user_data,
            "ticketData": None,
            "completionTime": self.clock().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
            "serialNumber": serial,
        }
        signed = canonical_random(random).encode("utf-8")
        if kind == "bad-signature":
            signed += b" "
        signature = self._key.sign(signed, padding.PKCS1v15(), hashes.SHA512())
        result = {
            "random": random,
            "signature": base64.b64encode(signature).decode("ascii"),
            "bitsUsed": bits,
            "bitsLeft": bits_left,
            "requestsLeft": requests_left,
            "advisoryDelay": self.advisory_delay_ms,
        }
        kept = result
        if kind == "bad-signature":  # spoilt on the way: random.org keeps the true one
            good = self._key.sign(
                canonical_random(random).encode("utf-8"), padding.PKCS1v15(), hashes.SHA512()
            )
            kept = {**result, "signature": base64.b64encode(good).decode("ascii")}
        with self._lock:
            self._results[(random["hashedApiKey"], serial)] = kept
        return json.dumps(
            {"jsonrpc": "2.0", "result": result, "id": request["id"]}, ensure_ascii=False
        )


def _hashed(api_key: str) -> str:
    """random.org's ``hashedApiKey``: the base64 of the key's SHA-512."""
    return base64.b64encode(hashlib.sha512(api_key.encode("utf-8")).digest()).decode("ascii")
