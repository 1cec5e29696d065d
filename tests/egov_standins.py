"""eGov Mobile's side of QR signing, for the tests: a "phone" and a SIGEX stand-in.

``Phone`` does what eGov Mobile does with a QR code (SIGNING.md, "mobileSign"): it reads
the QR text ``mobileSign:<API 1>``, calls API 1, then API 2 with the bearer token API 1
gave, signs the PDF with a test key (``tests.eds_pki.sign_cms``: RSA or GOST
34.10-2015) and PUTs the same JSON back with the CMS, over real HTTP.

``SigexStandIn`` is a real HTTP server that answers as SIGEX's hosted QR signing does:
``POST /api/egovQr`` registers a QR code (its own API 1 and API 2 for the phone, launch
links, expireAt); ``POST dataURL`` takes the documents and answers once the phone has
fetched them; ``GET signURL`` answers with the signatures once the phone has PUT them.
Both wait at most ``wait`` seconds, then answer ``{"message": ...}`` as SIGEX does.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import quote

import requests

from tests.eds_pki import Issued, _Server, sign_cms, with_timestamp

SCHEME = "mobileSign:"


class Phone:
    """eGov Mobile on a phone, with one signer's key; with ``tsa``, its CMS carries that
    TSA's RFC 3161 token over the signature (``tests.eds_pki.with_timestamp``), as the
    NCALayer stand-in's does. ``signed`` keeps every CMS it PUT."""

    def __init__(self, signer: Issued, timeout: float = 30.0, *, tsa: Issued | None = None) -> None:
        self.signer = signer
        self.timeout = timeout
        self.tsa = tsa
        self.signed: list[bytes] = []
        self.api1: dict[str, Any] | None = None
        self.api2: dict[str, Any] | None = None

    def scan(self, qr_text: str) -> dict[str, Any]:
        """Read the QR code's text and call API 1."""
        assert qr_text.startswith(SCHEME), qr_text
        response = requests.get(qr_text[len(SCHEME) :], timeout=self.timeout)
        assert response.status_code == 200, (response.status_code, response.text)
        self.api1 = response.json()
        return self.api1

    def _headers(self, token: str | None = None) -> dict[str, str]:
        assert self.api1 is not None
        document = self.api1["document"]
        assert document["auth_type"] == "Token"
        return {"Authorization": f"Bearer {token or document['auth_token']}"}

    def fetch(self, token: str | None = None) -> requests.Response:
        """API 2's GET with API 1's token (or ``token``)."""
        assert self.api1 is not None
        return requests.get(
            self.api1["document"]["uri"], headers=self._headers(token), timeout=self.timeout
        )

    def document(self) -> bytes:
        """The document to sign, from API 2."""
        response = self.fetch()
        assert response.status_code == 200, (response.status_code, response.text)
        self.api2 = response.json()
        assert self.api2["signMethod"] == "CMS_SIGN_ONLY"
        (item,) = self.api2["documentsToSign"]
        assert item["document"]["file"]["mime"] == "@file/pdf"
        return base64.b64decode(item["document"]["file"]["data"])

    def put(self, cms: bytes, token: str | None = None) -> requests.Response:
        """API 2's PUT: the same JSON, the document's data replaced by the CMS."""
        assert self.api1 is not None and self.api2 is not None
        body = json.loads(json.dumps(self.api2))
        body["documentsToSign"][0]["document"]["file"]["data"] = base64.b64encode(cms).decode()
        return requests.put(
            self.api1["document"]["uri"],
            json=body,
            headers=self._headers(token),
            timeout=self.timeout,
        )

    def sign(self, qr_text: str, *, alter: bool = False) -> requests.Response:
        """The whole of it: scan, fetch, sign (``alter``: one byte of the PDF changed), PUT."""
        self.scan(qr_text)
        pdf = self.document()
        if alter:
            pdf = pdf[:-1] + bytes([pdf[-1] ^ 1])
        cms = sign_cms(pdf, self.signer)
        if self.tsa is not None:
            cms = with_timestamp(cms, self.tsa)
        self.signed.append(cms)
        return self.put(cms)


class _Qr:
    def __init__(self, description: str, expire_at: datetime) -> None:
        self.id = secrets.token_hex(8)
        self.token = secrets.token_urlsafe(16)
        self.description = description
        self.expire_at = expire_at
        self.documents: dict[str, Any] | None = None
        self.fetched = threading.Event()
        self.has_documents = threading.Event()
        self.signed = threading.Event()
        self.signatures: dict[str, Any] | None = None


class SigexStandIn(_Server):
    """SIGEX's /api/egovQr, with the phone's API 1 and API 2 it serves (see the module)."""

    def __init__(self, wait: float = 20.0) -> None:
        self.wait = wait
        self.qrs: dict[str, _Qr] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"null")

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                outer.requests.append({"method": "POST", "path": self.path})
                self._send(*outer.post(self.path, self._body()))

            def do_GET(self) -> None:
                outer.requests.append({"method": "GET", "path": self.path})
                self._send(*outer.get(self.path, self.headers.get("Authorization", "")))

            def do_PUT(self) -> None:
                outer.requests.append({"method": "PUT", "path": self.path})
                auth = self.headers.get("Authorization", "")
                self._send(*outer.put(self.path, auth, self._body()))

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__()
        self.server.RequestHandlerClass = Handler  # GET and PUT too, not only POST

    def __exit__(self, *exc: Any) -> None:
        for qr in self.qrs.values():  # release whoever still waits
            qr.fetched.set()
            qr.signed.set()
        super().__exit__(*exc)

    # --- SIGEX's API, for the portal ---

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        if path == "/api/egovQr":
            qr = _Qr(body["description"], datetime.now(UTC) + timedelta(minutes=5))
            self.qrs[qr.id] = qr
            api1 = f"{self.url}/phone/{qr.id}"
            return 200, {
                "qrCode": base64.b64encode(b"GIF89a stand-in").decode(),
                "dataURL": f"{self.url}/api/egovQr/{qr.id}",
                "signURL": f"{self.url}/api/egovQr/{qr.id}",
                "eGovMobileLaunchLink": "https://m.egov.kz/mobileSign?link=" + quote(api1, safe=""),
                "eGovBusinessLaunchLink": "https://m.egov.kz/businessSign/?link="
                + quote(api1, safe=""),
                "expireAt": int(qr.expire_at.timestamp() * 1000),
            }
        qr = self._qr(path, "/api/egovQr/")
        if qr is None:
            return 404, {"message": "unknown QR"}
        qr.documents = body
        qr.has_documents.set()
        if not qr.fetched.wait(self.wait):
            return 200, {"message": "the phone did not take the documents in time"}
        return 200, {}

    def get(self, path: str, authorization: str) -> tuple[int, Any]:
        if path.startswith("/api/egovQr/"):
            qr = self._qr(path, "/api/egovQr/")
            if qr is None:
                return 404, {"message": "unknown QR"}
            if not qr.signed.wait(self.wait) or qr.signatures is None:
                return 200, {"message": "not signed in time"}
            return 200, qr.signatures
        if path.endswith("/document"):
            qr = self._qr(path.removesuffix("/document"), "/phone/")
            if qr is None or authorization != f"Bearer {qr.token}":
                return 403, {"message": "forbidden"}
            if not qr.has_documents.wait(self.wait):
                return 410, {"message": "no documents"}
            qr.fetched.set()
            return 200, qr.documents
        qr = self._qr(path, "/phone/")
        if qr is None:
            return 404, {"message": "unknown QR"}
        return 200, {
            "description": qr.description,
            "expiry_date": qr.expire_at.isoformat(),
            "organisation": {"nameRu": "SIGEX", "nameKz": "SIGEX", "nameEn": "SIGEX", "bin": ""},
            "document": {
                "uri": f"{self.url}/phone/{qr.id}/document",
                "auth_type": "Token",
                "auth_token": qr.token,
            },
        }

    def put(self, path: str, authorization: str, body: Any) -> tuple[int, Any]:
        qr = self._qr(path.removesuffix("/document"), "/phone/")
        if qr is None or authorization != f"Bearer {qr.token}":
            return 403, {"message": "forbidden"}
        qr.signatures = body
        qr.signed.set()
        return 200, {"code": "200", "message": "success"}

    def _qr(self, path: str, prefix: str) -> _Qr | None:
        return self.qrs.get(path.removeprefix(prefix)) if path.startswith(prefix) else None
