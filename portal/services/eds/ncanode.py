"""NCANode (v3 HTTP API) as the verifier of GOST 34.310-2004 signatures.

No Python library implements GOST 34.310-2004, NCA RK's older algorithm, so the portal
refuses such signatures unless an NCANode server (Java, NCA's own Kalkan library) is
configured. Then ``POST {url}/cms/verify`` with ``{"cms": base64, "data": base64 of
the document when detached, "revocationCheck": ["OCSP"] or []}`` is asked; its answer
is ``{"status": 200, "message": "OK", "valid": bool, "signers": [{"certificates":
[CertificateInfo, ...]}, ...]}`` where a CertificateInfo has ``serialNumber`` (hex),
``valid``, ``keyUsage``, ``keyUser``, ``revocations`` ([{"revoked", "by",
"revocationTime", "reason"}]), ``subject`` and ``issuer``. Older NCANode 3 releases (and
its OpenAPI file) call the signer's certificate list ``signers`` instead of
``certificates``: both are read.

NCANode decides the digest, the signature, the chain to its own CA store, the validity
dates and, if asked, revocation; the portal still applies its own key-usage and
identity checks to the certificate it reads from the CMS.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import requests

PATH = "/cms/verify"


@dataclass(frozen=True)
class Verdict:
    """NCANode's answer about one signer's certificate.

    ``code`` is "" when NCANode says the CMS is valid and lists this certificate as
    valid; otherwise "ncanode-error" (no usable answer), "revoked" or "ncanode-invalid".
    """

    code: str
    detail: str = ""
    answer: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.code


def request_body(cms_der: bytes, document: bytes | None, revocation: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "cms": base64.b64encode(cms_der).decode("ascii"),
        "revocationCheck": ["OCSP"] if revocation else [],
    }
    if document is not None:
        body["data"] = base64.b64encode(document).decode("ascii")
    return body


def ask(
    url: str,
    cms_der: bytes,
    document: bytes | None,
    *,
    revocation: bool,
    session: requests.Session | None = None,
    timeout: float | tuple[float, float] = (5.0, 30.0),
) -> dict[str, Any] | Verdict:
    """NCANode's JSON answer, or a ``Verdict`` with "ncanode-error" when there is none."""
    http = session or requests
    try:
        response = http.post(
            url.rstrip("/") + PATH,
            json=request_body(cms_der, document, revocation),
            timeout=timeout,
        )
    except requests.RequestException as error:
        return Verdict("ncanode-error", f"{type(error).__name__}: {error}")
    try:
        answer = response.json()
    except (ValueError, json.JSONDecodeError):
        return Verdict("ncanode-error", f"HTTP {response.status_code}: not JSON")
    if not isinstance(answer, dict):
        return Verdict("ncanode-error", f"HTTP {response.status_code}: not a JSON object")
    status = answer.get("status", response.status_code)
    if response.status_code != 200 or status != 200 or not isinstance(answer.get("valid"), bool):
        message = answer.get("message") or ""
        return Verdict("ncanode-error", f"HTTP {response.status_code}, status {status}: {message}")
    return answer


def _certificates(answer: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for signer in answer.get("signers") or []:
        if not isinstance(signer, dict):
            continue
        listed = signer.get("certificates", signer.get("signers"))
        if isinstance(listed, list):
            found.extend(c for c in listed if isinstance(c, dict))
        elif "serialNumber" in signer:  # a CertificateInfo directly
            found.append(signer)
    return found


def verdict_for(answer: dict[str, Any], serial_hex: str) -> Verdict:
    """What NCANode's ``answer`` says about the certificate with serial ``serial_hex``."""
    wanted = serial_hex.lower().lstrip("0")
    info = next(
        (
            c
            for c in _certificates(answer)
            if str(c.get("serialNumber", "")).lower().lstrip("0") == wanted
        ),
        None,
    )
    for revocation in (info or {}).get("revocations") or []:
        if isinstance(revocation, dict) and revocation.get("revoked"):
            when = revocation.get("revocationTime") or "?"
            return Verdict("revoked", f"{revocation.get('by', '?')} revoked at {when}", answer)
    if not answer.get("valid"):
        return Verdict("ncanode-invalid", str(answer.get("message") or "valid: false"), answer)
    if info is None:
        return Verdict("ncanode-invalid", "NCANode did not report this signer", answer)
    if info.get("valid") is False:
        return Verdict("ncanode-invalid", "NCANode found the certificate not valid", answer)
    return Verdict("", "valid according to NCANode", answer)
