"""RFC 3161 signature timestamps: when a CMS signature provably existed.

NCALayer asks NCA RK's time-stamping authority (tsp.pki.gov.kz) for a timestamp over
the signature it made and puts the token in the signer's unsigned attribute
``signatureTimeStampToken`` (1.2.840.113549.1.9.16.2.14, RFC 3161 appendix A; CAdES-T).
The token is itself a CMS SignedData whose content is a ``TSTInfo``: a hash of the
signature value (the message imprint) and the authority's ``genTime``. ``check`` proves
each part, in this order, and returns a ``Stamp``:

``timestamp-invalid``    the token is a SignedData over a TSTInfo, its signer's
                         certificate is in it (or in the signature), the signed
                         attributes (contentType, messageDigest over the TSTInfo, and
                         the ESS signing certificate when present) match, and the
                         authority's signature over them verifies (RSA or GOST 2015);
``timestamp-mismatch``   the message imprint is the hash of this signer's signature value;
``timestamp-not-tsa``    the certificate is a time-stamping authority's: extended key
                         usage timeStamping (1.3.6.1.5.5.7.3.8);
``timestamp-untrusted``  it chains to the trust anchors (the same as the signers');
``timestamp-expired``    every certificate of that chain was valid at ``genTime``.

Then ``genTime`` is the proven time of signing: the signer's certificates are judged at
it. Without a token ``check`` returns None: the only time is the signer's own word
(``signingTime``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import cms, tsp, x509

from portal.services.eds import crypto

TIMESTAMP_ATTRIBUTE = "1.2.840.113549.1.9.16.2.14"  # id-aa-signatureTimeStampToken
TST_INFO = "1.2.840.113549.1.9.16.1.4"  # id-ct-TSTInfo
TIME_STAMPING = "1.3.6.1.5.5.7.3.8"  # id-kp-timeStamping
CODES = (
    "timestamp-invalid",
    "timestamp-mismatch",
    "timestamp-not-tsa",
    "timestamp-untrusted",
    "timestamp-expired",
)

FindCertificate = Callable[[cms.SignerIdentifier, list[x509.Certificate]], Any]
BuildChain = Callable[[x509.Certificate, list[x509.Certificate]], tuple[list[Any], str]]


@dataclass(frozen=True)
class Stamp:
    """What ``check`` found: ``ok`` with ``gen_time`` proven, else ``code`` and ``detail``."""

    ok: bool
    code: str = ""
    detail: str = ""
    gen_time: datetime | None = None  # as the token says, even when not proven
    authority: str | None = None  # the TSA certificate's common name
    serial: str | None = None  # the token's serial number, hex

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "code": self.code,
            "detail": self.detail,
            "gen_time": self.gen_time.isoformat() if self.gen_time else None,
            "authority": self.authority,
            "serial": self.serial,
        }


class _Refused(Exception):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def token_of(info: cms.SignerInfo) -> cms.ContentInfo | None:
    """The signer's first signatureTimeStampToken, None when it has none."""
    for attribute in info["unsigned_attrs"] or []:
        if attribute["type"].dotted == TIMESTAMP_ATTRIBUTE:
            values = list(attribute["values"])
            return values[0] if values else None
    return None


def _attribute(info: cms.SignerInfo, name: str) -> list[Any]:
    for attribute in info["signed_attrs"] or []:
        if attribute["type"].native == name:
            return list(attribute["values"])
    return []


def _name(cert: x509.Certificate) -> str:
    names = cert.subject.native.get("common_name")
    if isinstance(names, list):
        names = names[0] if names else None
    return str(names) if names else cert.subject.human_friendly


def _ess_matches(info: cms.SignerInfo, cert: x509.Certificate) -> bool:
    """The ESS signing certificate attribute (v1: SHA-1, v2: its hash, SHA-256 by
    default), when present, names this certificate."""
    der = cert.dump()
    for value in _attribute(info, "signing_certificate"):
        if value["certs"][0]["cert_hash"].native != hashlib.sha1(der).digest():  # noqa: S324
            return False
    for value in _attribute(info, "signing_certificate_v2"):
        first = value["certs"][0]
        oid = first["hash_algorithm"]["algorithm"].dotted
        if first["cert_hash"].native != crypto.digest(oid, der):
            return False
    return True


def _token_signature(
    token: cms.ContentInfo, pool: list[x509.Certificate], find: FindCertificate
) -> tuple[tsp.TSTInfo, x509.Certificate, list[x509.Certificate]]:
    """The TSTInfo and the TSA certificate of a token whose own signature verifies."""
    if token["content_type"].native != "signed_data":
        raise _Refused("timestamp-invalid", "the token is not a CMS SignedData")
    signed = token["content"]
    encapsulated = signed["encap_content_info"]
    if encapsulated["content_type"].dotted != TST_INFO:
        raise _Refused("timestamp-invalid", "the token's content is not a TSTInfo")
    content = bytes(encapsulated["content"])
    tst_info = tsp.TSTInfo.load(content)
    certificates = [c.chosen for c in signed["certificates"] or [] if c.name == "certificate"]
    everything = certificates + [c for c in pool if c not in certificates]
    infos = list(signed["signer_infos"])
    if len(infos) != 1:
        raise _Refused("timestamp-invalid", f"the token has {len(infos)} signers, not one")
    info = infos[0]
    cert = find(info["sid"], everything)
    if cert is None:
        raise _Refused("timestamp-invalid", "the authority's certificate is not in the token")
    digest_oid = info["digest_algorithm"]["algorithm"].dotted
    types = _attribute(info, "content_type")
    digests = _attribute(info, "message_digest")
    if len(types) != 1 or types[0].dotted != TST_INFO or len(digests) != 1:
        raise _Refused("timestamp-invalid", "the token's signed attributes are not RFC 3161's")
    if digests[0].native != crypto.digest(digest_oid, content):
        raise _Refused("timestamp-invalid", "the token's TSTInfo is not the one signed")
    if not _ess_matches(info, cert):
        raise _Refused("timestamp-invalid", "the token names another signing certificate")
    algorithm = info["signature_algorithm"]
    parameters = algorithm["parameters"]
    ok = crypto.verify_signed(
        cert["tbs_certificate"]["subject_public_key_info"].dump(),
        algorithm["algorithm"].dotted,
        parameters.dump() if parameters.native is not None else None,
        b"\x31" + info["signed_attrs"].dump()[1:],
        info["signature"].native,
        digest_oid,
    )
    if not ok:
        raise _Refused("timestamp-invalid", "the authority's signature does not verify")
    return tst_info, cert, everything


def _validity(chain: list[x509.Certificate], when: datetime) -> str:
    for cert in chain:
        validity = cert["tbs_certificate"]["validity"]
        if not validity["not_before"].native <= when <= validity["not_after"].native:
            return f"{_name(cert)} was not valid at {when.isoformat()}"
    return ""


def check(
    info: cms.SignerInfo,
    *,
    certificates: list[x509.Certificate],
    find_certificate: FindCertificate,
    build_chain: BuildChain,
) -> Stamp | None:
    """The signer ``info``'s timestamp checked (None: it has none).

    ``certificates`` are the signature's own (a TSA certificate may travel there);
    ``find_certificate(sid, certs)`` finds a signer's certificate; ``build_chain(cert,
    pool)`` returns (chain up to a trust anchor, "") or ([], why not).
    """
    try:
        token = token_of(info)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        return Stamp(False, "timestamp-invalid", f"unreadable timestamp attribute: {error}")
    if token is None:
        return None
    gen_time = authority = serial = None
    try:
        tst_info, cert, pool = _token_signature(token, certificates, find_certificate)
        gen_time = tst_info["gen_time"].native
        serial = format(tst_info["serial_number"].native, "x")
        authority = _name(cert)
        imprint = tst_info["message_imprint"]
        digest_oid = imprint["hash_algorithm"]["algorithm"].dotted
        expected = crypto.digest(digest_oid, info["signature"].native)
        if imprint["hashed_message"].native != expected:
            raise _Refused("timestamp-mismatch", "the timestamp is not over this signature's value")
        usage = cert.extended_key_usage_value
        purposes = [p.dotted for p in usage] if usage is not None else []
        if TIME_STAMPING not in purposes:
            raise _Refused(
                "timestamp-not-tsa",
                f"{authority} is not a time-stamping certificate "
                f"(extended key usage {', '.join(purposes) or 'absent'})",
            )
        chain, reason = build_chain(cert, pool)
        if not chain:
            raise _Refused("timestamp-untrusted", reason)
        problem = _validity(chain, gen_time)
        if problem:
            raise _Refused("timestamp-expired", problem)
    except _Refused as refusal:
        return Stamp(False, refusal.code, refusal.detail, gen_time, authority, serial)
    except crypto.Unsupported as error:
        return Stamp(False, "timestamp-invalid", error.detail, gen_time, authority, serial)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        return Stamp(False, "timestamp-invalid", f"malformed token: {error}", gen_time)
    return Stamp(True, "", f"by {authority} at {gen_time.isoformat()}", gen_time, authority, serial)
