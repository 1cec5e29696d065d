"""Revocation status of a certificate through OCSP (RFC 6960), as NCA RK serves it.

The request names the certificate by its issuer's name and key hashes (SHA-1, what
every responder understands) and carries a nonce. An answer counts only when it is a
successful basic response about this very certificate, with our nonce if it echoes one,
signed by the issuer itself or by a responder the issuer delegated (a certificate in
the answer, signed by the issuer, with the OCSP-signing extended key usage).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from datetime import datetime

import requests
from asn1crypto import ocsp, x509

from portal.services.eds import crypto, gost

OCSP_SIGNING = "1.3.6.1.5.5.7.3.9"
CONTENT_TYPE = "application/ocsp-request"


@dataclass(frozen=True)
class Status:
    """The outcome: ``status`` is "good", "revoked" or "unknown" when the responder
    answered validly, else ``code`` says what went wrong ("ocsp-unavailable",
    "ocsp-invalid")."""

    status: str | None
    code: str = ""
    detail: str = ""
    revoked_at: datetime | None = None
    reason: str | None = None
    produced_at: datetime | None = None
    der: bytes = b""  # the responder's answer, when it answered validly: the evidence


def _spki(cert: x509.Certificate) -> bytes:
    return cert["tbs_certificate"]["subject_public_key_info"].dump()


def cert_id(cert: x509.Certificate, issuer: x509.Certificate) -> ocsp.CertId:
    """The CertID (SHA-1) of ``cert`` issued by ``issuer``."""
    return ocsp.CertId(
        {
            "hash_algorithm": {"algorithm": "sha1"},
            "issuer_name_hash": hashlib.sha1(issuer.subject.dump(), usedforsecurity=False).digest(),
            "issuer_key_hash": hashlib.sha1(
                gost.key_hash_material(_spki(issuer)), usedforsecurity=False
            ).digest(),
            "serial_number": cert.serial_number,
        }
    )


def build_request(cert: x509.Certificate, issuer: x509.Certificate, nonce: bytes) -> bytes:
    """The DER OCSP request for one certificate, with ``nonce``."""
    request = ocsp.OCSPRequest(
        {
            "tbs_request": {
                "request_list": [{"req_cert": cert_id(cert, issuer)}],
                "request_extensions": [
                    {"extn_id": "nonce", "critical": False, "extn_value": nonce}
                ],
            }
        }
    )
    return request.dump()


def _matches(single_id: ocsp.CertId, cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    name = single_id["hash_algorithm"]["algorithm"].native
    try:
        name_hash = hashlib.new(name, issuer.subject.dump()).digest()
        key_hash = hashlib.new(name, gost.key_hash_material(_spki(issuer))).digest()
    except (TypeError, ValueError):
        return False
    return (
        single_id["serial_number"].native == cert.serial_number
        and single_id["issuer_name_hash"].native == name_hash
        and single_id["issuer_key_hash"].native == key_hash
    )


def signed_by(data: bytes, algorithm, signature: bytes, signer: x509.Certificate) -> bool:
    """Whether ``signature`` (by the AlgorithmIdentifier ``algorithm``) over ``data`` verifies
    with ``signer``'s key; False for an algorithm that cannot be checked."""
    parameters = algorithm["parameters"]
    try:
        return crypto.verify_signed(
            _spki(signer),
            algorithm["algorithm"].dotted,
            parameters.dump() if parameters.native is not None else None,
            data,
            signature,
        )
    except crypto.Unsupported:
        return False


def _responder_ok(basic: ocsp.BasicOCSPResponse, issuer: x509.Certificate) -> bool:
    """Whether the basic response is signed by the issuer or a responder it delegated."""
    data = basic["tbs_response_data"].dump()
    algorithm = basic["signature_algorithm"]
    signature = basic["signature"].native
    if signed_by(data, algorithm, signature, issuer):
        return True
    for choice in basic["certs"] or []:
        responder = choice
        if responder.issuer != issuer.subject:
            continue
        tbs = responder["tbs_certificate"]
        if not signed_by(
            tbs.dump(),
            responder["signature_algorithm"],
            responder["signature_value"].native,
            issuer,
        ):
            continue
        usage = responder.extended_key_usage_value
        if usage is None or OCSP_SIGNING not in [oid.dotted for oid in usage]:
            continue
        if signed_by(data, algorithm, signature, responder):
            return True
    return False


def check(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    url: str,
    *,
    session: requests.Session | None = None,
    timeout: float | tuple[float, float] = (5.0, 15.0),
) -> Status:
    """Ask the responder at ``url`` about ``cert`` and check its answer."""
    nonce = os.urandom(16)
    body = build_request(cert, issuer, nonce)
    http = session or requests
    try:
        response = http.post(
            url, data=body, headers={"Content-Type": CONTENT_TYPE}, timeout=timeout
        )
    except requests.RequestException as error:
        return Status(None, "ocsp-unavailable", f"{type(error).__name__}: {error}")
    if response.status_code != 200:
        return Status(None, "ocsp-unavailable", f"HTTP {response.status_code}")
    status = read_response(response.content, cert, issuer, nonce)
    return replace(status, der=response.content) if status.status else status


def read_response(
    der: bytes, cert: x509.Certificate, issuer: x509.Certificate, nonce: bytes | None
) -> Status:
    """Check a DER OCSP response about ``cert`` and tell its status."""
    try:
        answer = ocsp.OCSPResponse.load(der)
        status = answer["response_status"].native
        if status != "successful":
            return Status(None, "ocsp-unavailable", f"responder status {status}")
        basic = answer.basic_ocsp_response
        if basic is None:
            return Status(None, "ocsp-invalid", "no basic OCSP response")
        data = basic["tbs_response_data"]
        answered_nonce = None
        for extension in data["response_extensions"] or []:
            if extension["extn_id"].native == "nonce":
                answered_nonce = extension["extn_value"].native
        if nonce is not None and answered_nonce is not None and answered_nonce != nonce:
            return Status(None, "ocsp-invalid", "the answer's nonce is not the request's")
        if not _responder_ok(basic, issuer):
            return Status(
                None, "ocsp-invalid", "the answer is not signed by the issuer or its responder"
            )
        for single in data["responses"]:
            if not _matches(single["cert_id"], cert, issuer):
                continue
            cert_status = single["cert_status"]
            produced = data["produced_at"].native
            if cert_status.name == "good":
                return Status("good", produced_at=produced)
            if cert_status.name == "revoked":
                info = cert_status.chosen
                reason = info["revocation_reason"].native
                return Status(
                    "revoked",
                    "revoked",
                    revoked_at=info["revocation_time"].native,
                    reason=reason,
                    produced_at=produced,
                )
            return Status("unknown", "ocsp-unknown", produced_at=produced)
        return Status(None, "ocsp-invalid", "the answer is about another certificate")
    except (ValueError, TypeError, KeyError) as error:
        return Status(None, "ocsp-invalid", f"unreadable answer: {error}")
