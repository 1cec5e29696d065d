"""A stand-in for NCALayer (the NCA RK's signing application) for the browser tests.

A real WebSocket server (``websockets``) on a free port of 127.0.0.1, in a thread,
speaking NCALayer's ``kz.gov.pki.knca.basics`` protocol as SIGNING.md describes it
(sigex-kz/ncalayer-js-client): it speaks first (``{"result":{"version":"1.2"}}``),
answers the KAZTOKEN probe with an error object (it is plain NCALayer), and checks the
sign request's exact shape (its keys in order, module, method, ``format`` "cms",
``signingParams`` detached with ``tsaProfile``, ``signerParams.extKeyUsageOids``) and
that ``data`` is the act's exact bytes in base64. Then it answers as it was told:
``"sign"`` a real CMS made with a test key (``tests.eds_pki.sign_cms``) carrying, as
NCALayer adds when the request has ``tsaProfile``, an RFC 3161 timestamp token from the
test time-stamping authority it was given (``tests.eds_pki.with_timestamp``; the
stand-in of NCA's TSA, whose certificate the test's PKI issues), ``"sign-pem"``
the same as PEM in a one-element array, ``"cancel"`` what NCALayer answers when the
user closes its window, ``"error"`` an INVOCATION_ERROR. A request of another shape is
answered with an error naming what is wrong, and kept in ``problems``.
"""

from __future__ import annotations

import base64
import json
import socket
import textwrap
import threading
from contextlib import contextmanager
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from tests.eds_pki import SIGNING, Issued, sign_cms, with_timestamp

GREETING = {"result": {"version": "1.2"}}
PROBE = {"module": "kz.digiflow.mobile.extensions", "method": "getVersion"}
NOT_KAZTOKEN = {"status": False, "code": "MODULE_NOT_FOUND", "message": "Module not found"}
CANCELLED = {"status": True, "body": {}}
ERROR_MESSAGE = "Ошибка при подписании"
SIGN_KEYS = ["module", "method", "args"]
ARGS_KEYS = ["allowedStorages", "format", "data", "signingParams", "signerParams", "locale"]
# detached (the act stays outside), with NCA's timestamp, keys in NCALayer's order
SIGNING_PARAMS = {"decode": True, "encapsulate": False, "digested": False, "tsaProfile": {}}
SIGNER_PARAMS = {"extKeyUsageOids": [SIGNING]}
ANSWERS = ("sign", "sign-pem", "cancel", "error")
SIGNS = ("sign", "sign-pem")


def error(message: str, details: str = "") -> dict[str, Any]:
    """NCALayer's error object."""
    return {"status": False, "code": "INVOCATION_ERROR", "message": message, "details": details}


def problems_of(request: Any, document: bytes) -> list[str]:
    """What is wrong with a sign request for ``document`` (nothing: an empty list)."""
    if not isinstance(request, dict) or list(request) != SIGN_KEYS:
        return [f"the request's keys are not {SIGN_KEYS}"]
    found = []
    if request["module"] != "kz.gov.pki.knca.basics" or request["method"] != "sign":
        found.append(f"not basics.sign: {request['module']}.{request['method']}")
    args = request["args"]
    if not isinstance(args, dict) or list(args) != ARGS_KEYS:
        return [*found, f"args' keys are not {ARGS_KEYS}"]
    if args["allowedStorages"] is not None:
        found.append("allowedStorages is not null")
    if args["format"] != "cms":
        found.append(f"format {args['format']!r}, not 'cms'")
    params = args["signingParams"]
    if params != SIGNING_PARAMS or list(params) != list(SIGNING_PARAMS):
        found.append(f"signingParams {params!r}, not {SIGNING_PARAMS!r}")
    if args["signerParams"] != SIGNER_PARAMS:
        found.append(f"signerParams {args['signerParams']!r}, not {SIGNER_PARAMS!r}")
    if args["locale"] not in ("kk", "ru"):
        found.append(f"locale {args['locale']!r}")
    if args["data"] != base64.b64encode(document).decode("ascii"):
        found.append("data is not the act's exact bytes in base64")
    return found


class NcaLayerStandIn:
    """NCALayer on ``url`` (ws://127.0.0.1:<port>) while ``running()``; every message it
    received is in ``received`` (parsed), every wrong request's faults in ``problems``."""

    def __init__(
        self,
        document: bytes,
        signer: Issued | None = None,
        answer: str = "sign",
        greeting: dict[str, Any] = GREETING,
        tsa: Issued | None = None,
    ):
        """Sign ``document`` only, with ``signer``'s key, timestamped by ``tsa`` (the test
        PKI's time-stamping authority, standing in for NCA's); answer a sign request
        ``answer``; greet with ``greeting`` (another: a program that is not NCALayer)."""
        if answer not in ANSWERS:
            raise ValueError(f"answer must be one of {ANSWERS}")
        if answer in SIGNS and (signer is None or tsa is None):
            raise ValueError("NCALayer signs with a key and NCA's timestamp: give signer and tsa")
        self.document, self.signer, self.answer, self.tsa = document, signer, answer, tsa
        self.greeting = greeting
        self.received: list[Any] = []
        self.problems: list[str] = []
        self.signed: list[bytes] = []  # the CMS of every signature given, timestamped
        self.url = ""

    @contextmanager
    def running(self):
        """Serve in a thread of its own until the block ends."""
        with serve(self._talk, "127.0.0.1", 0) as server:
            self.url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}"
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                yield self
            finally:
                server.shutdown()
                thread.join(timeout=10)

    def _talk(self, connection: ServerConnection) -> None:
        connection.send(json.dumps(self.greeting))  # NCALayer speaks first
        try:
            for message in connection:  # one request at a time, as NCALayer takes them
                connection.send(json.dumps(self._answer(message)))
        except ConnectionClosed:
            pass

    def _answer(self, message: str | bytes) -> dict[str, Any]:
        try:
            request = json.loads(message)
        except ValueError:
            self.problems.append("a message that is not JSON")
            return error("not JSON")
        self.received.append(request)
        if request == PROBE and list(request) == list(PROBE):
            return NOT_KAZTOKEN
        found = problems_of(request, self.document)
        if found:
            self.problems.extend(found)
            return error("the stand-in refused the request", "; ".join(found))
        if self.answer == "cancel":
            return CANCELLED
        if self.answer == "error":
            return error(ERROR_MESSAGE, "the stand-in was told to fail")
        args = request["args"]
        cms = sign_cms(base64.b64decode(args["data"]), self.signer)
        if args["signingParams"].get("tsaProfile") is not None:  # NCA's timestamp asked for
            cms = with_timestamp(cms, self.tsa)
        self.signed.append(cms)
        encoded = base64.b64encode(cms).decode("ascii")
        if self.answer == "sign-pem":
            lines = "\n".join(textwrap.wrap(encoded, 64))
            return {
                "status": True,
                "body": {"result": [f"-----BEGIN CMS-----\n{lines}\n-----END CMS-----\n"]},
            }
        return {"status": True, "body": {"result": encoded}}


def closed_port_url() -> str:
    """A WebSocket address where nothing listens (a port just closed): NCALayer not running."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"ws://127.0.0.1:{port}"
