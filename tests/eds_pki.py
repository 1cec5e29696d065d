"""A test PKI shaped like NCA RK's, and the servers the EDS checks talk to.

Keys are real: RSA with ``cryptography``, GOST 34.10-2015 512-bit with ``gostcrypto``
written in NCA's encoding (little-endian halves, reversed Streebog-512 digest), coded
here independently of ``portal.services.eds_gost``. Certificates carry NCA's subject
layout (CN, SERIALNUMBER=IIN..., O, OU=BIN..., C=KZ) and its role OIDs in the extended
key usage. ``OcspResponder`` is a real HTTP server answering real DER OCSP responses
signed by the test CA; ``NCANodeStandIn`` answers ``POST /cms/verify`` as NCANode 3 does
(the verdict is scripted: it cannot check GOST 34.310-2004 either).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from asn1crypto import algos, cms, core, keys, ocsp, tsp, x509
from asn1crypto import crl as asn1_crl
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from gostcrypto import gosthash, gostsignature

SIGNING = "1.3.6.1.5.5.7.3.4"
AUTHENTICATION = "1.3.6.1.5.5.7.3.2"
OCSP_SIGNING = "1.3.6.1.5.5.7.3.9"
INDIVIDUAL = "1.2.398.3.3.4.1.1"
LEGAL_ENTITY = "1.2.398.3.3.4.1.2"
FIRST_HEAD = "1.2.398.3.3.4.1.2.1"
RIGHT_TO_SIGN = "1.2.398.3.3.4.1.2.2"
EMPLOYEE = "1.2.398.3.3.4.1.2.5"
NCA_POLICY = "1.2.398.3.3.2.1"
GOST_KEY = "1.2.398.3.10.1.1.2.2"
GOST_PARAMS = "1.2.398.3.10.1.1.2.2.1"
GOST_SIGNATURE = "1.2.398.3.10.1.1.2.3.2"
STREEBOG = "1.2.398.3.10.1.3.3"
GOST2004_SIGNATURE = "1.2.398.3.10.1.1.1.2"
GOST34311 = "1.2.398.3.10.1.3.1"
_CURVE = gostsignature.CURVES_R_1323565_1_024_2019["id-tc26-gost-3410-12-512-paramSetA"]
_serials = iter(range(0x1000, 0x7FFFFFFF))


class _AnyAlgorithm(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


class _GostParameters(core.Sequence):
    _fields = [("key", core.ObjectIdentifier), ("digest", core.ObjectIdentifier)]


class _AnySpki(core.Sequence):
    _fields = [("algorithm", _AnyAlgorithm), ("public_key", core.OctetBitString)]


def _gost() -> Any:
    return gostsignature.new(gostsignature.MODE_512, _CURVE)


@dataclass
class Key:
    """A signing key: ``kind`` "rsa" or "gost"."""

    kind: str
    private: Any
    spki: bytes

    @classmethod
    def rsa(cls, bits: int = 2048) -> Key:
        private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        spki = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls("rsa", private, spki)

    @classmethod
    def gost(cls) -> Key:
        secret = bytearray(b"\x00" + os.urandom(63))  # below the group order
        public = bytes(_gost().public_key_generate(bytearray(secret)))
        encoded = public[:64][::-1] + public[64:][::-1]  # NCA: each half little-endian
        spki = _AnySpki(
            {
                "algorithm": {
                    "algorithm": GOST_KEY,
                    "parameters": core.Any.load(
                        _GostParameters({"key": GOST_PARAMS, "digest": STREEBOG}).dump()
                    ),
                },
                "public_key": core.OctetString(encoded).dump(),
            }
        ).dump()
        return cls("gost", bytes(secret), spki)

    def sign(self, data: bytes) -> bytes:
        if self.kind == "rsa":
            return self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())
        digest = bytes(gosthash.new("streebog512", data=data).digest())
        raw = bytes(_gost().sign(bytearray(self.private), bytearray(digest[::-1])))
        return raw[:64][::-1] + raw[64:][::-1]

    @property
    def signature_algorithm(self) -> dict[str, Any]:
        if self.kind == "rsa":
            return {"algorithm": "sha256_rsa", "parameters": core.Null()}
        return {"algorithm": GOST_SIGNATURE}

    @property
    def digest_algorithm(self) -> str:
        return "sha256" if self.kind == "rsa" else STREEBOG

    def digest(self, data: bytes) -> bytes:
        if self.kind == "rsa":
            return hashlib.sha256(data).digest()
        return bytes(gosthash.new("streebog512", data=data).digest())


def name(
    common_name: str,
    *,
    iin: str | None = None,
    organisation: str | None = None,
    bin: str | None = None,
) -> x509.Name:
    """A subject in NCA's layout: CN, SERIALNUMBER=IIN..., C=KZ, O, OU=BIN..."""
    attributes = [("common_name", common_name)]
    if iin:
        attributes.append(("serial_number", f"IIN{iin}"))
    attributes.append(("country_name", "KZ"))
    if organisation:
        attributes.append(("organization_name", organisation))
    if bin:
        attributes.append(("organizational_unit_name", f"BIN{bin}"))
    rdns = []
    for attribute, value in attributes:
        if attribute in ("serial_number", "country_name"):
            value_object: Any = core.PrintableString(value)
        else:
            value_object = x509.DirectoryString(name="utf8_string", value=value)
        rdns.append(
            x509.RelativeDistinguishedName(
                [x509.NameTypeAndValue({"type": attribute, "value": value_object})]
            )
        )
    return x509.Name(name="", value=x509.RDNSequence(rdns))


@dataclass
class Issued:
    cert: x509.Certificate
    key: Key

    @property
    def der(self) -> bytes:
        return self.cert.dump()


def issue(
    subject: x509.Name,
    key: Key,
    issuer: Issued | None = None,
    *,
    ca: bool = False,
    usages: tuple[str, ...] = (SIGNING, INDIVIDUAL),
    key_usage: tuple[str, ...] = ("digital_signature", "non_repudiation"),
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    serial: int | None = None,
) -> Issued:
    """A certificate for ``key``, signed by ``issuer`` (self-signed when None)."""
    now = datetime.now(UTC).replace(microsecond=0)
    not_before = not_before or now - timedelta(days=30)
    not_after = not_after or now + timedelta(days=365)
    signer = issuer.key if issuer else key
    issuer_name = issuer.cert.subject if issuer else subject
    extensions = []
    if ca:
        extensions.append(
            {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": True}}
        )
        extensions.append(
            {
                "extn_id": "key_usage",
                "critical": True,
                "extn_value": {"key_cert_sign", "crl_sign"},
            }
        )
    else:
        extensions.append({"extn_id": "key_usage", "critical": True, "extn_value": set(key_usage)})
        if usages:
            extensions.append(
                {"extn_id": "extended_key_usage", "critical": False, "extn_value": list(usages)}
            )
        extensions.append(
            {
                "extn_id": "certificate_policies",
                "critical": False,
                "extn_value": [{"policy_identifier": NCA_POLICY}],
            }
        )
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial if serial is not None else next(_serials) << 64,
            "signature": signer.signature_algorithm,
            "issuer": issuer_name,
            "validity": {
                "not_before": x509.Time(name="utc_time", value=not_before),
                "not_after": x509.Time(name="utc_time", value=not_after),
            },
            "subject": subject,
            "subject_public_key_info": keys.PublicKeyInfo.load(key.spki),
            "extensions": extensions,
        }
    )
    cert = x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": signer.signature_algorithm,
            "signature_value": signer.sign(tbs.dump()),
        }
    )
    return Issued(x509.Certificate.load(cert.dump()), key)


def sign_cms(
    document: bytes,
    signer: Issued,
    *,
    detached: bool = True,
    signing_time: datetime | None = None,
    extra: list[Issued] = (),  # type: ignore[assignment]
    message_digest: bytes | None = None,
    signature: bytes | None = None,
    signature_algorithm: dict[str, Any] | None = None,
    digest_algorithm: str | None = None,
) -> bytes:
    """A CMS SignedData of ``document`` by ``signer`` (NCA's shape: signed attributes
    contentType, signingTime, messageDigest; signer by issuer and serial number)."""
    key = signer.key
    moment = (signing_time or datetime.now(UTC)).replace(microsecond=0)
    attributes = cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["data"]},
            {"type": "signing_time", "values": [cms.Time(name="utc_time", value=moment)]},
            {"type": "message_digest", "values": [message_digest or key.digest(document)]},
        ]
    )
    value = signature if signature is not None else key.sign(attributes.dump())
    digest_oid = digest_algorithm or key.digest_algorithm
    info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": signer.cert.issuer, "serial_number": signer.cert.serial_number},
            ),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest_oid}),
            "signed_attrs": attributes,
            "signature_algorithm": signature_algorithm or key.signature_algorithm,
            "signature": value,
        }
    )
    encapsulated: dict[str, Any] = {"content_type": "data"}
    if not detached:
        encapsulated["content"] = document
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": digest_oid})],
            "encap_content_info": encapsulated,
            "certificates": [signer.cert] + [item.cert for item in extra],
            "signer_infos": [info],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


def cms_with_certificate(
    document: bytes, cert: x509.Certificate, *, detached: bool = True
) -> bytes:
    """A CMS naming ``cert`` as its signer with a GOST 34.310-2004 signature that nobody
    here can compute: random bytes where the digest and signature go."""
    attributes = cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["data"]},
            {
                "type": "signing_time",
                "values": [cms.Time(name="utc_time", value=datetime(2022, 6, 1, tzinfo=UTC))],
            },
            {"type": "message_digest", "values": [os.urandom(32)]},
        ]
    )
    info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": cert.issuer, "serial_number": cert.serial_number},
            ),
            "digest_algorithm": {"algorithm": GOST34311},
            "signed_attrs": attributes,
            "signature_algorithm": {"algorithm": GOST2004_SIGNATURE},
            "signature": os.urandom(64),
        }
    )
    encapsulated: dict[str, Any] = {"content_type": "data"}
    if not detached:
        encapsulated["content"] = document
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": GOST34311}],
            "encap_content_info": encapsulated,
            "certificates": [cert],
            "signer_infos": [info],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


# --- servers -------------------------------------------------------------------------


class _Server:
    """A ThreadingHTTPServer on 127.0.0.1 in a thread; ``handle(path, body)`` answers."""

    def __init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                outer.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, content_type, answer = outer.handle(self.path, body)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.requests: list[dict[str, Any]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def handle(self, path: str, body: bytes) -> tuple[int, str, bytes]:  # pragma: no cover
        raise NotImplementedError

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@dataclass
class _OcspSettings:
    revoked: dict[int, datetime] = field(default_factory=dict)
    mode: str = "normal"  # normal, unknown, http-500, garbage, foreign-key, wrong-nonce, delegated


class OcspResponder(_Server):
    """A real OCSP responder for the certificates ``ca`` issued."""

    def __init__(self, ca: Issued, *, responder: Issued | None = None, impostor: Key | None = None):
        super().__init__()
        self.ca = ca
        self.responder = responder  # a delegated responder certificate, for mode "delegated"
        self.impostor = impostor or Key.rsa(1024)
        self.settings = _OcspSettings()
        self.answers: list[bytes] = []  # every successful answer's DER, in order

    def handle(self, path: str, body: bytes) -> tuple[int, str, bytes]:
        mode = self.settings.mode
        if mode == "http-500":
            return 500, "text/plain", b"down"
        if mode == "garbage":
            return 200, "application/ocsp-response", b"not an OCSP response"
        request = ocsp.OCSPRequest.load(body)
        tbs = request["tbs_request"]
        nonce = None
        for extension in tbs["request_extensions"] or []:
            if extension["extn_id"].native == "nonce":
                nonce = extension["extn_value"].native
        now = datetime.now(UTC).replace(microsecond=0)
        responses = []
        for item in tbs["request_list"]:
            cert_id = item["req_cert"]
            serial = cert_id["serial_number"].native
            if mode == "unknown":
                status = ocsp.CertStatus(name="unknown", value=core.Null())
            elif serial in self.settings.revoked:
                status = ocsp.CertStatus(
                    name="revoked",
                    value={
                        "revocation_time": self.settings.revoked[serial],
                        "revocation_reason": "key_compromise",
                    },
                )
            else:
                status = ocsp.CertStatus(name="good", value=core.Null())
            responses.append({"cert_id": cert_id, "cert_status": status, "this_update": now})
        signer = self.ca
        if mode == "delegated" and self.responder is not None:
            signer = self.responder
        data: dict[str, Any] = {
            "responder_id": ocsp.ResponderId(name="by_name", value=signer.cert.subject),
            "produced_at": now,
            "responses": responses,
        }
        if nonce is not None:
            echoed = os.urandom(16) if mode == "wrong-nonce" else nonce
            data["response_extensions"] = [{"extn_id": "nonce", "extn_value": echoed}]
        response_data = ocsp.ResponseData(data)
        key = self.impostor if mode == "foreign-key" else signer.key
        algorithm = (
            {"algorithm": "sha256_rsa", "parameters": core.Null()}
            if key.kind == "rsa"
            else {"algorithm": GOST_SIGNATURE}
        )
        basic: dict[str, Any] = {
            "tbs_response_data": response_data,
            "signature_algorithm": algorithm,
            "signature": key.sign(response_data.dump()),
        }
        if signer is not self.ca:
            basic["certs"] = [signer.cert]
        answer = ocsp.OCSPResponse(
            {
                "response_status": "successful",
                "response_bytes": {
                    "response_type": "basic_ocsp_response",
                    "response": ocsp.BasicOCSPResponse(basic),
                },
            }
        ).dump()
        self.answers.append(answer)
        return 200, "application/ocsp-response", answer


def _certificate_info(cert: x509.Certificate, *, valid: bool, revoked: bool) -> dict[str, Any]:
    subject = cert.subject.native
    iin = str(subject.get("serial_number", ""))
    ou = str(subject.get("organizational_unit_name", ""))
    info: dict[str, Any] = {
        "valid": valid,
        "revocations": [],
        "notBefore": cert["tbs_certificate"]["validity"]["not_before"].native.isoformat(),
        "notAfter": cert["tbs_certificate"]["validity"]["not_after"].native.isoformat(),
        "keyUsage": "SIGN",
        "serialNumber": format(cert.serial_number, "x"),
        "signAlg": "ECGOST34310",
        "keyUser": ["CEO", "ORGANIZATION"],
        "subject": {
            "commonName": subject.get("common_name"),
            "iin": iin[3:] if iin.startswith("IIN") else None,
            "bin": ou[3:] if ou.startswith("BIN") else None,
            "organization": subject.get("organization_name"),
            "country": subject.get("country_name"),
        },
        "issuer": {"commonName": cert.issuer.native.get("common_name")},
    }
    if revoked:
        info["revocations"] = [
            {
                "revoked": True,
                "by": "OCSP",
                "revocationTime": "2022-09-28T16:03:41.000+00:00",
                "reason": None,
            }
        ]
    return info


class NCANodeStandIn(_Server):
    """``POST /cms/verify`` shaped like NCANode 3's; ``mode`` scripts the verdict:
    "valid", "invalid", "revoked", "http-500", "not-json"."""

    def __init__(self, mode: str = "valid"):
        super().__init__()
        self.mode = mode

    def handle(self, path: str, body: bytes) -> tuple[int, str, bytes]:
        if path != "/cms/verify":
            return 404, "application/json", b'{"status": 404, "message": "Not Found"}'
        if self.mode == "http-500":
            return 500, "application/json", b'{"status": 500, "message": "Internal error"}'
        if self.mode == "not-json":
            return 200, "text/html", b"<html>proxy error</html>"
        try:
            request = json.loads(body)
            der = base64.b64decode(request["cms"], validate=True)
            signed = cms.ContentInfo.load(der)["content"]
            certs = [c.chosen for c in signed["certificates"]]
            if "data" in request:
                base64.b64decode(request["data"], validate=True)
        except (ValueError, KeyError, TypeError) as error:
            answer = {"status": 400, "message": f"bad request: {error}"}
            return 400, "application/json", json.dumps(answer).encode()
        valid = self.mode == "valid"
        revoked = self.mode == "revoked"
        answer = {
            "status": 200,
            "message": "OK",
            "valid": valid,
            "signers": [
                {
                    "certificates": [
                        _certificate_info(c, valid=valid, revoked=revoked) for c in certs
                    ]
                }
            ],
        }
        return 200, "application/json", json.dumps(answer).encode()


@contextlib.contextmanager
def unreachable_url():
    """A URL where nothing listens (a port just closed)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    host, port = server.server_address[:2]
    server.server_close()
    yield f"http://{host}:{port}"


# --- a time-stamping authority (RFC 3161), issue 17 ----------------------------------

TIME_STAMPING = "1.3.6.1.5.5.7.3.8"
TIMESTAMP_TOKEN = "1.2.840.113549.1.9.16.2.14"  # the unsigned attribute
TSA_POLICY = "1.2.398.3.3.2.6.4"  # the policy NCA's time-stamping authority names
_tsa_serials = iter(range(0x5000, 0x7FFFFFFF))


def issue_tsa(
    ca: Issued,
    key: Key | None = None,
    *,
    usages: tuple[str, ...] = (TIME_STAMPING,),
    **options: Any,
) -> Issued:
    """A time-stamping authority's certificate issued by ``ca`` (NCA's shape: CN
    TIME-STAMPING AUTHORITY, key usage digitalSignature, extended key usage timeStamping)."""
    return issue(
        name("TIME-STAMPING AUTHORITY", organisation="ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ"),
        key or Key.rsa(),
        ca,
        usages=usages,
        key_usage=("digital_signature",),
        **options,
    )


def timestamp_token(
    signature_value: bytes,
    tsa: Issued,
    *,
    gen_time: datetime | None = None,
    imprint: bytes | None = None,
    include_certificate: bool = True,
) -> cms.ContentInfo:
    """An RFC 3161 TimeStampToken by ``tsa`` over ``signature_value`` (its imprint hashed
    with the TSA key's digest: SHA-256 for RSA, Streebog-512 for GOST, as NCA's TSA does);
    ``imprint`` replaces the hash (a token made for another signature)."""
    key = tsa.key
    moment = (gen_time or datetime.now(UTC)).replace(microsecond=0)
    tst_info = tsp.TSTInfo(
        {
            "version": "v1",
            "policy": TSA_POLICY,
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": key.digest_algorithm}),
                "hashed_message": imprint if imprint is not None else key.digest(signature_value),
            },
            "serial_number": next(_tsa_serials),
            "gen_time": moment,
            "nonce": int.from_bytes(os.urandom(8), "big"),
        }
    )
    content = tst_info.dump()
    attributes = cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["tst_info"]},
            {"type": "signing_time", "values": [cms.Time(name="utc_time", value=moment)]},
            {
                "type": "signing_certificate",
                "values": [{"certs": [{"cert_hash": hashlib.sha1(tsa.der).digest()}]}],
            },
            {"type": "message_digest", "values": [key.digest(content)]},
        ]
    )
    info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": tsa.cert.issuer, "serial_number": tsa.cert.serial_number},
            ),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": key.digest_algorithm}),
            "signed_attrs": attributes,
            "signature_algorithm": key.signature_algorithm,
            "signature": key.sign(attributes.dump()),
        }
    )
    signed = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": key.digest_algorithm})],
            "encap_content_info": {
                "content_type": "tst_info",
                "content": core.ParsableOctetString(content),
            },
            "certificates": [tsa.cert] if include_certificate else [],
            "signer_infos": [info],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed})


def with_timestamp(cms_der: bytes, tsa: Issued, **options: Any) -> bytes:
    """``cms_der`` with a timestamp token by ``tsa`` over its first signer's signature, in
    the unsigned attribute signatureTimeStampToken (as NCALayer adds NCA's)."""
    signed = cms.ContentInfo.load(cms_der)["content"]
    infos = list(signed["signer_infos"])
    first = infos[0]
    token = timestamp_token(first["signature"].native, tsa, **options)
    # new objects around the old parts: their DER is kept as it is (a forced re-encoding
    # would go through asn1crypto's key classes, which do not know GOST keys)
    return _first_signer_with(
        cms_der, cms.CMSAttributes([{"type": "signature_time_stamp_token", "values": [token]}])
    )


def _first_signer_with(cms_der: bytes, unsigned_attrs: cms.CMSAttributes | None) -> bytes:
    """``cms_der`` with its first signer's unsigned attributes replaced (None: none), the
    other parts' DER kept as they are."""
    signed = cms.ContentInfo.load(cms_der)["content"]
    infos = list(signed["signer_infos"])
    first = infos[0]
    fields = {
        key: first[key]
        for key in (
            "version",
            "sid",
            "digest_algorithm",
            "signed_attrs",
            "signature_algorithm",
            "signature",
        )
    }
    if unsigned_attrs is not None:
        fields["unsigned_attrs"] = unsigned_attrs
    parts = {
        key: signed[key]
        for key in ("version", "digest_algorithms", "encap_content_info", "certificates")
    }
    parts["signer_infos"] = [cms.SignerInfo(fields), *infos[1:]]
    return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(parts)}).dump()


def without_timestamp(cms_der: bytes) -> bytes:
    """``cms_der`` with its first signer's unsigned attributes (its timestamp) taken away:
    the same signature, as a tool that adds no timestamp would give it."""
    return _first_signer_with(cms_der, None)


def timestamp_time(cms_der: bytes) -> datetime | None:
    """The genTime of the timestamp token on ``cms_der``'s first signer (None: no token),
    read here with asn1crypto alone, not with the portal's code."""
    signed = cms.ContentInfo.load(cms_der)["content"]
    unsigned = signed["signer_infos"][0]["unsigned_attrs"]
    if isinstance(unsigned, core.Void):  # no unsigned attributes (not .native: GOST keys)
        return None
    for attribute in unsigned:
        if attribute["type"].dotted == TIMESTAMP_TOKEN:
            token = attribute["values"][0]
            content = token["content"]["encap_content_info"]["content"]
            return tsp.TSTInfo.load(content.contents)["gen_time"].native
    return None


# --- CRLs (issue 17, part 5) ---------------------------------------------------------


def with_crl_points(
    issued: Issued, issuer: Issued, crl_url: str, delta_url: str | None = None
) -> Issued:
    """``issued`` again, with a CRL distribution point (and a "freshest CRL" delta point)
    as NCA writes them, signed again by ``issuer``."""

    def points(url: str) -> list[dict[str, Any]]:
        return [
            {
                "distribution_point": x509.DistributionPointName(
                    name="full_name",
                    value=[x509.GeneralName(name="uniform_resource_identifier", value=url)],
                )
            }
        ]

    tbs = x509.TbsCertificate.load(issued.cert["tbs_certificate"].dump())
    extensions = list(tbs["extensions"])
    extensions.append(
        {"extn_id": "crl_distribution_points", "critical": False, "extn_value": points(crl_url)}
    )
    if delta_url:
        extensions.append(
            {"extn_id": "freshest_crl", "critical": False, "extn_value": points(delta_url)}
        )
    tbs["extensions"] = extensions
    cert = x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": issuer.key.signature_algorithm,
            "signature_value": issuer.key.sign(tbs.dump()),
        }
    )
    return Issued(x509.Certificate.load(cert.dump()), issued.key)


def make_crl(
    ca: Issued,
    revoked: dict[int, datetime] | None = None,
    *,
    number: int = 1,
    this_update: datetime | None = None,
    next_update: datetime | None = None,
    delta_of: int | None = None,
    reasons: dict[int, str] | None = None,
    key: Key | None = None,
    extensions: tuple[dict[str, Any], ...] = (),
) -> bytes:
    """A DER CRL by ``ca`` listing ``revoked`` (serial: time); ``delta_of`` makes it a
    delta CRL of that base CRL number; ``key`` signs it instead of the CA's (a forgery)."""
    now = datetime.now(UTC).replace(microsecond=0)
    this_update = this_update or now - timedelta(hours=1)
    next_update = next_update or now + timedelta(days=1)
    reasons = reasons or {}
    entries = []
    for serial, moment in (revoked or {}).items():
        item: dict[str, Any] = {
            "user_certificate": serial,
            "revocation_date": x509.Time(name="utc_time", value=moment),
        }
        if serial in reasons:
            item["crl_entry_extensions"] = [
                {"extn_id": "crl_reason", "critical": False, "extn_value": reasons[serial]}
            ]
        entries.append(item)
    crl_extensions: list[dict[str, Any]] = [
        {"extn_id": "crl_number", "critical": False, "extn_value": number}
    ]
    if delta_of is not None:
        crl_extensions.append(
            {"extn_id": "delta_crl_indicator", "critical": True, "extn_value": delta_of}
        )
    crl_extensions.extend(extensions)
    signer = key or ca.key
    tbs: dict[str, Any] = {
        "version": "v2",
        "signature": signer.signature_algorithm,
        "issuer": ca.cert.subject,
        "this_update": x509.Time(name="utc_time", value=this_update),
        "next_update": x509.Time(name="utc_time", value=next_update),
        "crl_extensions": crl_extensions,
    }
    if entries:
        tbs["revoked_certificates"] = entries
    tbs_list = asn1_crl.TbsCertList(tbs)
    return asn1_crl.CertificateList(
        {
            "tbs_cert_list": tbs_list,
            "signature_algorithm": signer.signature_algorithm,
            "signature": signer.sign(tbs_list.dump()),
        }
    ).dump()


class CrlServer(_Server):
    """A real HTTP server answering GET with the CRLs in ``lists`` (by path; also as an
    HTTP proxy, by the absolute URL's path); ``down`` answers 503. ``gets`` records paths."""

    def __init__(self) -> None:
        super().__init__()
        outer = self
        base = self.server.RequestHandlerClass

        class Handler(base):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                outer.gets.append(path)
                data = outer.lists.get(path)
                if outer.down:
                    status, body = 503, b"down"
                elif data is None:
                    status, body = 404, b"not found"
                else:
                    status, body = 200, data
                self.send_response(status)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server.RequestHandlerClass = Handler
        self.lists: dict[str, bytes] = {}
        self.down = False
        self.gets: list[str] = []

    def url_of(self, path: str) -> str:
        return self.url + path


class StatusOcspResponder(OcspResponder):
    """An ``OcspResponder`` that can also answer with an OCSP error status, as NCA's does:
    ``error`` "try_later", "internal_error"... (None: answers as ``OcspResponder``)."""

    error: str | None = None

    def handle(self, path: str, body: bytes) -> tuple[int, str, bytes]:
        if self.error:
            answer = ocsp.OCSPResponse({"response_status": self.error})
            return 200, "application/ocsp-response", answer.dump()
        return super().handle(path, body)
