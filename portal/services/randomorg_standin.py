"""A stand-in random.org for the tests, the demo and the benchmarks: a real HTTP server.

It speaks Release 4's ``generateSignedIntegers`` as random.org does (the envelope, the
parameter checks, the ``random`` object with every field in random.org's order, the
error objects) and signs with a TEST key, ``standin-test-key.pem``, that is published
with the portal: whatever it signs proves nothing, and every page says so because the
key is not random.org's. Misbehaviour is scripted with ``fail_next``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets
import threading
import time
from collections import deque
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from portal.services.randomorg import canonical_random

TEST_KEY_FILE = Path(__file__).with_name("standin-test-key.pem")
PATH = "/json-rpc/4/invoke"
MESSAGES = {
    -32700: "Parse error",
    -32600: "Invalid Request",
    -32601: "Method not found",
    -32602: "Invalid params",
    -32603: "Internal error",
    100: "The API you are attempting to use has been temporarily disabled",
    200: "Parameter '{0}' is malformed",
    201: "Parameter '{0}' has illegal type",
    202: "Parameter '{0}' is out of range",
    203: "Parameter '{0}' is too long",
    300: "{0} is greater than {1}",
    301: "You requested {0} values without replacement but the range only contains {1}",
    400: "The API key you specified does not exist",
    401: "The API key you specified is not running",
    402: "The API key you specified has exceeded its daily request allowance",
    403: "The API key you specified has exceeded its daily bit allowance",
}


class RpcError(Exception):
    def __init__(self, code: int, *args):
        super().__init__(code)
        self.code = code
        self.message = MESSAGES[code].format(*args)
        self.data = list(args)


class StandIn:
    """The server; ``url``, ``api_key`` and ``public_key_pem`` configure the portal for it."""

    def __init__(
        self,
        private_key_pem: bytes | None = None,
        api_key: str = "standin-api-key",
        advisory_delay_ms: int = 0,
    ):
        pem = private_key_pem or TEST_KEY_FILE.read_bytes()
        self._key = serialization.load_pem_private_key(pem, password=None)
        self.public_key_pem = (
            self._key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )
        self.api_key = api_key
        self.advisory_delay_ms = advisory_delay_ms
        self.requests: list[dict] = []
        self.responses: list[str] = []
        self._serial = 0
        self._failures: deque = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- running -----------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{PATH}"

    def start(self) -> StandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, body, delay = standin._answer(self.path, raw)
                if delay:
                    time.sleep(delay)
                payload = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                # the client may have given up waiting (a scripted timeout)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(payload)

            def log_message(self, format, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def fail_next(self, kind, times: int = 1, delay: float = 5.0) -> None:
        """Misbehave on the next ``times`` requests: ``("error", code)``, ``"http-500"``,
        ``"timeout"`` (answer after ``delay`` seconds), ``"malformed"``, ``"bad-signature"``
        or ``"wrong-data"``."""
        with self._lock:
            for _ in range(times):
                self._failures.append((kind, delay))

    # --- answering ---------------------------------------------------------------

    def _answer(self, path: str, raw: bytes) -> tuple[int, str, float]:
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if path != PATH:
            return 404, "", 0
        try:
            request = json.loads(raw)
        except ValueError:
            return 200, self._error(RpcError(-32700), None), 0
        self.requests.append(request)
        request_id = request.get("id") if isinstance(request, dict) else None
        kind, delay = failure if failure else (None, 0)
        if kind == "http-500":
            return 500, "Internal Server Error", 0
        if kind == "malformed":
            return 200, "<html>not JSON</html>", 0
        if isinstance(kind, tuple) and kind[0] == "error":
            code = kind[1]
            args = ["n", "min"][: MESSAGES[code].count("{")]
            return 200, self._error(RpcError(code, *args), request_id), 0
        try:
            body = self._generate(request, kind)
        except RpcError as error:
            return 200, self._error(error, request_id), 0
        self.responses.append(body)
        return 200, body, delay if kind == "timeout" else 0

    def _error(self, error: RpcError, request_id) -> str:
        return json.dumps(
            {
                "jsonrpc": "2.0",
                "error": {"code": error.code, "message": error.message, "data": error.data},
                "id": request_id,
            }
        )

    def _generate(self, request, kind) -> str:
        if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or "id" not in request:
            raise RpcError(-32600)
        if request.get("method") != "generateSignedIntegers":
            raise RpcError(-32601)
        params = request.get("params")
        if not isinstance(params, dict):
            raise RpcError(-32602)
        for name in ("apiKey", "n", "min", "max"):
            if name not in params:
                raise RpcError(-32602)
        if params["apiKey"] != self.api_key:
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
        if not 1 <= n <= 10_000:
            raise RpcError(202, "n")
        for name, value in (("min", low), ("max", high)):
            if not -1_000_000_000 <= value <= 1_000_000_000:
                raise RpcError(202, name)
        if base != 10:
            raise RpcError(202, "base")
        if low > high:
            raise RpcError(300, "min", "max")
        if not replacement and n > high - low + 1:
            raise RpcError(301, n, high - low + 1)
        if user_data is not None and len(json.dumps(user_data, separators=(",", ":"))) > 1000:
            raise RpcError(203, "userData")
        rng = secrets.SystemRandom()
        if replacement:
            data = [rng.randint(low, high) for _ in range(n)]
        else:
            data = rng.sample(range(low, high + 1), n)
        if kind == "wrong-data":
            data = [high + 1] * n
        with self._lock:
            self._serial += 1
            serial = self._serial
        random = {
            "method": "generateSignedIntegers",
            "hashedApiKey": base64.b64encode(
                hashlib.sha512(self.api_key.encode()).digest()
            ).decode(),
            "n": n,
            "min": low,
            "max": high,
            "replacement": replacement,
            "base": base,
            "pregeneratedRandomization": None,
            "data": data,
            "license": {
                "type": "developer",
                "text": "Random values licensed strictly for development and testing only",
                "infoUrl": None,
            },
            "licenseData": None,
            "userData": user_data,
            "ticketData": None,
            "completionTime": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
            "serialNumber": serial,
        }
        signed = canonical_random(random).encode("utf-8")
        if kind == "bad-signature":
            signed += b" "
        signature = self._key.sign(signed, padding.PKCS1v15(), hashes.SHA512())
        return json.dumps(
            {
                "jsonrpc": "2.0",
                "result": {
                    "random": random,
                    "signature": base64.b64encode(signature).decode("ascii"),
                    "bitsUsed": n * max(high - low, 1).bit_length(),
                    "bitsLeft": 250_000,
                    "requestsLeft": 1_000,
                    "advisoryDelay": self.advisory_delay_ms,
                },
                "id": request["id"],
            },
            ensure_ascii=False,
        )
