"""Verification of NCA RK electronic digital signatures (EDS) on CMS SignedData.

A prize winner signs its acceptance-transfer act (a PDF) with the EDS that
Kazakhstan's national certification authority (NCA RK) issued to it, and sends a CMS
(PKCS#7 SignedData), detached or with the document inside. ``verify`` checks it
entirely in Python and returns a ``Report``: one ``Check`` for each thing checked, in
order, each with a short ``code`` naming what failed (``CODES``), plus the signer's
facts, ready to be stored as "the full report" with ``Report.as_dict()``.

For each signer of the CMS, in this order:

``certificate``  its certificate is in the CMS ("no-certificate");
``algorithm``    the portal can check its algorithms: RSA (PKCS#1 v1.5 or PSS, SHA-1/2)
                 or GOST 34.10-2015 512-bit with Streebog-512; GOST 34.310-2004 only
                 through NCANode ("gost-2004-unsupported", "unsupported-algorithm");
``digest``       the messageDigest signed attribute is the document's digest
                 ("digest-mismatch", "malformed");
``signature``    the signature over the signed attributes verifies ("bad-signature");
``ncanode``      (GOST 34.310-2004 only, instead of digest, signature and trust) NCANode
                 says the CMS is valid ("ncanode-error", "ncanode-invalid", "revoked");
``trust``        the certificate chains, link by link (names and signatures), to a CA
                 certificate of the trust anchors ("untrusted");
``timestamp``    (when the signer has one) its RFC 3161 timestamp token proves a time:
                 signed by a time-stamping authority chaining to the trust anchors, over
                 this signature value (``timestamp.py``: "timestamp-invalid",
                 "timestamp-mismatch", "timestamp-not-tsa", "timestamp-untrusted",
                 "timestamp-expired"); without one it passes marked "no timestamp", or
                 fails "no-timestamp" when ``require_timestamp``;
``validity``     every certificate of the chain was valid at the signing time: the
                 ``at`` given, else the timestamp's genTime (the proven time), else the
                 signingTime attribute (the signer's word), else now ("expired",
                 "not-yet-valid");
``key-usage``    it is a signing key: extended key usage 1.3.6.1.5.5.7.3.4, not only
                 the authentication key's 1.3.6.1.5.5.7.3.2 ("not-signing-key");
``bin``/``role`` (when a BIN is expected: an LLP) the subject has OU=BIN<bin>
                 ("wrong-bin") and the role of first head or of a person with the right
                 to sign, which NCA writes in the extended key usage
                 ("not-legal-entity-role");
``iin``          (when an IIN is expected: an IE) the subject has SERIALNUMBER=IIN<iin>
                 ("wrong-iin");
``revocation``   (when an OCSP responder is configured) OCSP says "good" ("revoked",
                 "ocsp-unknown", "ocsp-unavailable", "ocsp-invalid"); when OCSP fails or
                 says "try again", the issuing CA's CRL decides ("crl-unavailable",
                 "crl-invalid", "crl-stale"): ``revocation``. The evidence used is the
                 signer's ``revocation``; given back as ``revocation_evidence`` it is
                 checked again instead, without the network ("as at acceptance").

Before those, the ``cms`` check: the input is a CMS SignedData (DER, PEM or base64
text) with at least one signer and, when detached, a document ("malformed",
"no-signer", "no-document").

Several signers: every signer is checked and reported; the document is accepted when
at least one signer passes every check, identity included. ``Report.checks`` are the
``cms`` check followed by the checks of that signer (or, when none passes, of the
signer that got furthest), so ``Report.ok`` is true exactly when the document is
accepted. BIN and IIN are compared as they are: no control-digit check (NCA's test
numbers fail it).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from asn1crypto import cms as asn1_cms
from asn1crypto import core, pem, x509

from portal.services.eds import anchors, crl, crypto, gost, ncanode, revocation, timestamp

TRUST_FOLDER = anchors.TRUST_FOLDER
PRODUCTION_ANCHORS = anchors.PRODUCTION_ANCHORS
TEST_ANCHORS = anchors.TEST_ANCHORS
CERTIFICATE_SUFFIXES = anchors.CERTIFICATE_SUFFIXES
DEFAULT_TIMEOUT = (5.0, 15.0)

CODES = (
    "malformed",  # not a CMS SignedData, or a signer without what CMS requires
    "no-signer",  # a SignedData without signers
    "no-document",  # a detached CMS and no document given
    "no-certificate",  # the signer's certificate is not in the CMS
    "unsupported-algorithm",  # an algorithm the portal cannot check
    "gost-2004-unsupported",  # GOST 34.310-2004 and no NCANode configured
    "digest-mismatch",  # the signed digest is not the document's
    "bad-signature",  # the signature does not verify with the certificate's key
    "untrusted",  # no chain to the trust anchors
    "expired",  # a certificate of the chain had expired at the signing time
    "not-yet-valid",  # a certificate of the chain was not yet valid then
    "not-signing-key",  # not a signing key (e.g. the authentication key)
    "wrong-bin",  # not the expected BIN, or none
    "not-legal-entity-role",  # neither first head nor a person with the right to sign
    "wrong-iin",  # not the expected IIN
    "revoked",  # OCSP (or NCANode) says revoked
    "ocsp-unknown",  # OCSP does not know the certificate
    "ocsp-unavailable",  # no answer from the OCSP responder
    "ocsp-invalid",  # an OCSP answer that cannot be trusted
    "crl-unavailable",  # OCSP failed and the CRL could not be fetched (or none is named)
    "crl-invalid",  # OCSP failed and the CRL is not signed by the issuer or is not one
    "crl-stale",  # OCSP failed and the CRL is past its nextUpdate (or dated ahead)
    "ncanode-error",  # no usable answer from NCANode
    "ncanode-invalid",  # NCANode says the signature is not valid
    "no-timestamp",  # no RFC 3161 timestamp and EDS_REQUIRE_TIMESTAMP is set
    *timestamp.CODES,  # a timestamp that does not prove its time (timestamp.py)
)
CHECK_NAMES = (
    "cms",
    "certificate",
    "algorithm",
    "digest",
    "signature",
    "ncanode",
    "timestamp",
    "trust",
    "validity",
    "key-usage",
    "bin",
    "role",
    "iin",
    "revocation",
)

SIGNING_KEY = "1.3.6.1.5.5.7.3.4"  # emailProtection: NCA's signing key
AUTHENTICATION_KEY = "1.3.6.1.5.5.7.3.2"  # clientAuth: NCA's authentication key
ROLES = {
    "1.2.398.3.3.4.1.1": "individual",
    "1.2.398.3.3.4.1.2": "legal-entity",
    "1.2.398.3.3.4.1.2.1": "first-head",
    "1.2.398.3.3.4.1.2.2": "right-to-sign",
    "1.2.398.3.3.4.1.2.3": "right-to-sign-financial",
    "1.2.398.3.3.4.1.2.4": "hr",
    "1.2.398.3.3.4.1.2.5": "employee",
}
ROLE_PREFIX = "1.2.398.3.3.4."
SIGNING_ROLES = ("first-head", "right-to-sign")
ACCEPTANCE_RULE = (
    "accepted when at least one signer passes every check, identity included; "
    "every signer is reported"
)


# --- the report ----------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One thing checked: ``name`` (``CHECK_NAMES``), whether it passed, the ``code``
    naming the failure ("" when ``ok``), an English ``detail`` for logs and ``params``
    for the sentence shown to people (``portal.wording.eds``)."""

    name: str
    ok: bool
    code: str = ""
    detail: str = ""
    params: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "code": self.code,
            "detail": self.detail,
            "params": dict(self.params),
        }


def passed(name: str, detail: str = "", **params: str) -> Check:
    return Check(name, True, "", detail, params)


def failed(name: str, code: str, detail: str = "", **params: str) -> Check:
    if code not in CODES:
        raise ValueError(f"unknown EDS check code {code!r}")
    return Check(name, False, code, detail, params)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@dataclass
class Signer:
    """One signer of the CMS: its checks and what its certificate says."""

    index: int
    checks: list[Check] = field(default_factory=list)
    common_name: str | None = None
    iin: str | None = None
    bin: str | None = None
    organisation: str | None = None
    roles: list[str] = field(default_factory=list)
    serial: str | None = None  # hex, lower case
    subject: str | None = None
    issuer: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    signing_time: datetime | None = None  # the signingTime attribute, as claimed
    proven_time: datetime | None = None  # the genTime of a timestamp that proved it
    timestamp_authority: str | None = None  # who stamped it (the TSA's common name)
    checked_at: datetime | None = None  # the time the certificates were checked for
    algorithm: str | None = None
    revocation: revocation.Evidence | None = None  # what proved it not revoked

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def passed_count(self) -> int:
        return sum(check.ok for check in self.checks)

    def facts(self) -> dict[str, Any]:
        return {
            "common_name": self.common_name,
            "iin": self.iin,
            "bin": self.bin,
            "organisation": self.organisation,
            "roles": list(self.roles),
            "serial": self.serial,
            "subject": self.subject,
            "issuer": self.issuer,
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "signing_time": _iso(self.signing_time),
            "proven_time": _iso(self.proven_time),
            "timestamp_authority": self.timestamp_authority,
            "checked_at": _iso(self.checked_at),
            "algorithm": self.algorithm,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "ok": self.ok,
            **self.facts(),
            "revocation": self.revocation.as_dict() if self.revocation else None,
            "checks": [check.as_dict() for check in self.checks],
        }


@dataclass
class Report:
    """The outcome of ``verify``: ``ok`` only when every check of ``checks`` passed."""

    checks: list[Check]
    signers: list[Signer] = field(default_factory=list)
    signer: Signer | None = None  # the accepted signer, else the one that got furthest
    expected_bin: str | None = None
    expected_iin: str | None = None
    at: datetime | None = None
    rule: str = ACCEPTANCE_RULE

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    @property
    def code(self) -> str | None:
        """The first failure's code, None when the signature is accepted."""
        failures = self.failures
        return failures[0].code if failures else None

    @property
    def codes(self) -> list[str]:
        return [check.code for check in self.failures]

    @property
    def facts(self) -> dict[str, Any] | None:
        """The accepted signer's facts (common name, IIN, BIN, ...), None if refused."""
        return self.signer.facts() if self.ok and self.signer else None

    @property
    def evidence(self) -> revocation.Evidence | None:
        """What proved the accepted signer's certificate not revoked, None if nothing did."""
        return self.signer.revocation if self.ok and self.signer else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "code": self.code,
            "rule": self.rule,
            "expected_bin": self.expected_bin,
            "expected_iin": self.expected_iin,
            "at": _iso(self.at),
            "checks": [check.as_dict() for check in self.checks],
            "signer": self.signer.as_dict() if self.signer else None,
            "signers": [signer.as_dict() for signer in self.signers],
        }


# --- inputs --------------------------------------------------------------------------


def decode_cms(data: bytes) -> bytes:
    """The DER bytes of a CMS given as DER, PEM or base64 text; ``ValueError`` if none."""
    if not data:
        raise ValueError("empty")
    if data[:1] == b"\x30":
        try:
            asn1_cms.ContentInfo.load(data, strict=True)
            return data
        except ValueError:
            pass
    text = data.strip()
    if pem.detect(text):
        try:
            return pem.unarmor(text)[2]
        except ValueError as error:
            raise ValueError(f"bad PEM: {error}") from None
    compact = re.sub(rb"\s+", b"", text)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("neither DER, PEM nor base64") from None


def load_trust_anchors(source: Any = None) -> list[x509.Certificate]:
    """The CA certificates to trust (``anchors.load``): None, the production NCA RK
    certificates shipped with the portal; a folder, a file or an iterable of certificates."""
    return anchors.load(source)


def settings_from_config(config: Any) -> dict[str, Any]:
    """``verify``'s keyword arguments from the app's EDS_* settings."""
    return {
        "trust_anchors": config.get("EDS_TRUST_ANCHORS") or None,
        "ocsp_url": config.get("EDS_OCSP_URL") or None,
        "ncanode_url": config.get("EDS_NCANODE_URL") or None,
        "require_timestamp": bool(config.get("EDS_REQUIRE_TIMESTAMP")),
        "crl_fallback": bool(config.get("EDS_CRL_FALLBACK", True)),
        "crl_cache": config.get("EDS_CRL_CACHE") or None,
    }


# --- certificates --------------------------------------------------------------------


def _spki(cert: x509.Certificate) -> bytes:
    return cert["tbs_certificate"]["subject_public_key_info"].dump()


def _attribute(name: x509.Name, key: str) -> list[str]:
    value = name.native.get(key)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _prefixed(values: list[str], prefix: str) -> str | None:
    for value in values:
        if value.upper().startswith(prefix):
            return value[len(prefix) :]
    return None


def _extended_key_usage(cert: x509.Certificate) -> list[str]:
    usage = cert.extended_key_usage_value
    return [purpose.dotted for purpose in usage] if usage is not None else []


def _policies(cert: x509.Certificate) -> list[str]:
    policies = cert.certificate_policies_value
    return [p["policy_identifier"].dotted for p in policies] if policies is not None else []


def role_oids(cert: x509.Certificate) -> list[str]:
    """NCA's role OIDs (1.2.398.3.3.4.*): NCA writes them in the extended key usage; the
    certificate policies are read too, in case a CA puts them there."""
    found = []
    for oid in _extended_key_usage(cert) + _policies(cert):
        if oid.startswith(ROLE_PREFIX) and oid not in found:
            found.append(oid)
    return found


def _common_name(name: x509.Name) -> str:
    names = _attribute(name, "common_name")
    return names[0] if names else name.human_friendly


def _fill_facts(signer: Signer, cert: x509.Certificate) -> None:
    subject = cert.subject
    names = _attribute(subject, "common_name")
    signer.common_name = names[0] if names else None
    signer.iin = _prefixed(_attribute(subject, "serial_number"), "IIN")
    signer.bin = _prefixed(_attribute(subject, "organizational_unit_name"), "BIN")
    organisations = _attribute(subject, "organization_name")
    signer.organisation = organisations[0] if organisations else None
    signer.roles = [ROLES.get(oid, oid) for oid in role_oids(cert)]
    signer.serial = format(cert.serial_number, "x")
    signer.subject = subject.human_friendly
    signer.issuer = cert.issuer.human_friendly
    validity = cert["tbs_certificate"]["validity"]
    signer.not_before = validity["not_before"].native
    signer.not_after = validity["not_after"].native


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> tuple[bool, str]:
    """Whether ``parent`` issued ``child``: names match and the signature verifies."""
    if child.issuer != parent.subject:
        return False, "issuer name differs"
    return _link_verified(child.dump(), parent.dump())


@functools.lru_cache(maxsize=256)
def _link_verified(child_der: bytes, parent_der: bytes) -> tuple[bool, str]:
    """``_issued_by``'s signature check, kept for the exact pair of certificates: the same
    links come back with every signature (NCA's time-stamping certificate under its CA,
    an intermediate under its root), and a GOST check costs most of a second in Python."""
    child = x509.Certificate.load(child_der)
    parent = x509.Certificate.load(parent_der)
    algorithm = child["signature_algorithm"]
    parameters = algorithm["parameters"]
    try:
        ok = crypto.verify_signed(
            _spki(parent),
            algorithm["algorithm"].dotted,
            parameters.dump() if parameters.native is not None else None,
            child["tbs_certificate"].dump(),
            child["signature_value"].native,
        )
    except crypto.Unsupported as error:
        return False, error.detail
    return ok, "" if ok else f"the signature of {_common_name(child.subject)} does not verify"


def build_chain(
    cert: x509.Certificate, pool: list[x509.Certificate], anchors: list[x509.Certificate]
) -> tuple[list[x509.Certificate], str]:
    """The chain from ``cert`` up to a trust anchor, through CA certificates of ``pool``.

    Returns (chain, "") with the anchor last, or ([], what was missing).
    """
    chain = [cert]
    current = cert
    reasons = []
    for _ in range(8):
        for anchor in anchors:
            if current.issuer != anchor.subject:
                continue
            ok, reason = _issued_by(current, anchor)
            if ok:
                return [*chain, anchor], ""
            reasons.append(f"{reason} with the trusted CA {_common_name(anchor.subject)}")
        step = None
        for candidate in pool:
            if candidate in chain or candidate.subject != current.issuer or not candidate.ca:
                continue
            if candidate.self_signed != "no":
                continue
            if _issued_by(current, candidate)[0]:
                step = candidate
                break
        if step is None:
            break
        chain.append(step)
        current = step
    if not reasons:
        reasons.append(f"no trusted CA named {current.issuer.human_friendly}")
    return [], "; ".join(reasons)


# --- the checks of one signer --------------------------------------------------------


@dataclass
class _Context:
    document: bytes | None
    embedded: bytes | None
    content_type: str
    cms_der: bytes
    certificates: list[x509.Certificate]
    anchors: list[x509.Certificate]
    at: datetime | None
    expected_bin: str | None
    expected_iin: str | None
    ocsp_url: str | None
    ncanode_url: str | None
    session: requests.Session | None
    timeout: Any
    ncanode_answer: Any = None
    require_timestamp: bool = False
    crl_fallback: bool = True
    crl_cache: Any = None
    evidence: revocation.Evidence | None = None

    @property
    def content(self) -> bytes | None:
        return self.document if self.document is not None else self.embedded


def _find_certificate(sid: asn1_cms.SignerIdentifier, certs: list[x509.Certificate]):
    if sid.name == "issuer_and_serial_number":
        wanted = sid.chosen
        for cert in certs:
            if (
                cert.serial_number == wanted["serial_number"].native
                and cert.issuer == wanted["issuer"]
            ):
                return cert
        return None
    key_id = sid.chosen.native
    for cert in certs:
        if cert.key_identifier == key_id:
            return cert
    return None


def _signed_attribute(info: asn1_cms.SignerInfo, name: str) -> list[Any] | None:
    attributes = info["signed_attrs"]
    if not attributes:
        return None
    for attribute in attributes:
        if attribute["type"].native == name:
            return list(attribute["values"])
    return None


def _signing_time(info: asn1_cms.SignerInfo) -> datetime | None:
    values = _signed_attribute(info, "signing_time")
    if not values:
        return None
    try:
        return values[0].native
    except ValueError:
        return None


def _digest_check(info: asn1_cms.SignerInfo, ctx: _Context, digest_oid: str) -> tuple[Check, bytes]:
    """The digest check and the bytes the signature covers."""
    content = ctx.content or b""
    if ctx.document is not None and ctx.embedded is not None and ctx.embedded != ctx.document:
        signed = b"\x31" + info["signed_attrs"].dump()[1:] if info["signed_attrs"] else b""
        return failed(
            "digest", "digest-mismatch", "the CMS carries another document than the one given"
        ), signed
    if not info["signed_attrs"]:
        return passed("digest", "no signed attributes: the signature covers the document"), content
    digests = _signed_attribute(info, "message_digest") or []
    types = _signed_attribute(info, "content_type") or []
    if len(digests) != 1 or len(types) != 1:
        return failed("digest", "malformed", "messageDigest or contentType attribute missing"), b""
    if types[0].dotted != ctx.content_type:
        return failed("digest", "malformed", "contentType attribute differs from the content"), b""
    computed = crypto.digest(digest_oid, content)
    signed_bytes = b"\x31" + info["signed_attrs"].dump()[1:]
    if digests[0].native != computed:
        return failed(
            "digest",
            "digest-mismatch",
            f"signed digest {digests[0].native.hex()}, document's {computed.hex()}",
        ), signed_bytes
    return passed("digest", f"{crypto.DIGEST_NAMES.get(digest_oid, digest_oid)} matches"), (
        signed_bytes
    )


def _signature_check(
    info: asn1_cms.SignerInfo, cert: x509.Certificate, signed: bytes, digest_oid: str
) -> Check:
    algorithm = info["signature_algorithm"]
    parameters = algorithm["parameters"]
    try:
        ok = crypto.verify_signed(
            _spki(cert),
            algorithm["algorithm"].dotted,
            parameters.dump() if parameters.native is not None else None,
            signed,
            info["signature"].native,
            digest_oid,
        )
    except crypto.Unsupported as error:  # pragma: no cover - refused by the algorithm check
        return failed("signature", error.code, error.detail)
    if not ok:
        return failed("signature", "bad-signature", "the signature does not verify")
    return passed("signature")


def _validity_check(chain: list[x509.Certificate], when: datetime) -> Check:
    for position, cert in enumerate(chain):
        validity = cert["tbs_certificate"]["validity"]
        not_before = validity["not_before"].native
        not_after = validity["not_after"].native
        whose = "signer" if position == 0 else "ca"
        params = {
            "certificate": _common_name(cert.subject),
            "whose": whose,
            "not_before": not_before.isoformat(),
            "not_after": not_after.isoformat(),
            "at": when.isoformat(),
        }
        if when < not_before:
            return failed(
                "validity",
                "not-yet-valid",
                f"{whose} certificate {params['certificate']} valid from {not_before}",
                **params,
            )
        if when > not_after:
            return failed(
                "validity",
                "expired",
                f"{whose} certificate {params['certificate']} expired {not_after}",
                **params,
            )
    first = chain[0]["tbs_certificate"]["validity"]
    return passed(
        "validity",
        f"valid at {when.isoformat()}",
        at=when.isoformat(),
        not_before=first["not_before"].native.isoformat(),
        not_after=first["not_after"].native.isoformat(),
    )


def _key_usage_check(cert: x509.Certificate) -> Check:
    extended = _extended_key_usage(cert)
    usage = cert.key_usage_value
    flags = set(usage.native) if usage is not None else None
    if SIGNING_KEY not in extended:
        kind = "an authentication key" if AUTHENTICATION_KEY in extended else "not a signing key"
        return failed(
            "key-usage",
            "not-signing-key",
            f"{kind}: extended key usage {', '.join(extended) or 'absent'}",
        )
    if flags is not None and not flags & {"digital_signature", "non_repudiation"}:
        return failed("key-usage", "not-signing-key", f"key usage {', '.join(sorted(flags))}")
    return passed("key-usage")


def _identity_checks(signer: Signer, ctx: _Context) -> list[Check]:
    checks = []
    if ctx.expected_bin is not None:
        expected = ctx.expected_bin.strip()
        found = signer.bin or ""
        if found == expected:
            checks.append(passed("bin", expected=expected, found=found))
        else:
            detail = f"BIN{found}" if found else "no BIN (an individual's certificate)"
            checks.append(failed("bin", "wrong-bin", detail, expected=expected, found=found))
        if set(signer.roles) & set(SIGNING_ROLES):
            checks.append(passed("role", roles=", ".join(signer.roles)))
        else:
            checks.append(
                failed(
                    "role",
                    "not-legal-entity-role",
                    f"roles: {', '.join(signer.roles) or 'none'}",
                    roles=", ".join(signer.roles),
                )
            )
    if ctx.expected_iin is not None:
        expected = ctx.expected_iin.strip()
        found = signer.iin or ""
        if found == expected:
            checks.append(passed("iin", expected=expected, found=found))
        else:
            checks.append(
                failed(
                    "iin",
                    "wrong-iin",
                    f"IIN{found}" if found else "no IIN",
                    expected=expected,
                    found=found,
                )
            )
    return checks


def _revocation_check(
    signer: Signer, cert: x509.Certificate, issuer: x509.Certificate, ctx: _Context
) -> Check:
    cache = crl.Cache(ctx.crl_cache)
    if ctx.evidence is not None:
        outcome = revocation.recheck(ctx.evidence, cert, issuer, cache, signer.proven_time)
    else:
        outcome = revocation.check(
            cert,
            issuer,
            ocsp_url=ctx.ocsp_url,
            use_crl=ctx.crl_fallback,
            cache=cache,
            session=ctx.session,
            timeout=ctx.timeout,
            at=signer.proven_time,  # judged at the proven time of signing, if any
        )
    if outcome.ok:
        signer.revocation = outcome.evidence
        return passed("revocation", outcome.detail, **outcome.params)
    return failed("revocation", outcome.code, outcome.detail, **outcome.params)


def _unsupported(digest_oid: str, signature_oid: str, key_oid: str) -> Check | None:
    for oid in (key_oid, signature_oid, digest_oid):
        if gost.is_gost2004(oid):
            return failed("algorithm", "gost-2004-unsupported", f"GOST 34.310-2004 ({oid})")
    if digest_oid not in crypto.DIGESTS and digest_oid not in crypto.STREEBOG_512:
        return failed("algorithm", "unsupported-algorithm", f"digest {digest_oid}")
    known = (
        set(crypto.RSA_SIGNATURES)
        | {crypto.RSA_KEY, crypto.RSA_PSS}
        | set(crypto.GOST2015_SIGNATURES)
    )
    if signature_oid not in known:
        return failed("algorithm", "unsupported-algorithm", f"signature {signature_oid}")
    if key_oid not in (crypto.RSA_KEY, gost.GOST2015_KEY_512):
        return failed("algorithm", "unsupported-algorithm", f"key {key_oid}")
    return None


def _ncanode_check(cert: x509.Certificate, ctx: _Context) -> Check:
    if ctx.ncanode_answer is None:
        ctx.ncanode_answer = ncanode.ask(
            ctx.ncanode_url or "",
            ctx.cms_der,
            ctx.document if ctx.embedded is None else None,
            revocation=bool(ctx.ocsp_url),
            session=ctx.session,
            timeout=ctx.timeout,
        )
    answer = ctx.ncanode_answer
    verdict = (
        answer
        if isinstance(answer, ncanode.Verdict)
        else ncanode.verdict_for(answer, format(cert.serial_number, "x"))
    )
    if verdict.ok:
        return passed("ncanode", verdict.detail)
    return failed("ncanode", verdict.code, verdict.detail)


def _timestamp_check(signer: Signer, info: asn1_cms.SignerInfo, ctx: _Context) -> Check:
    """The signer's RFC 3161 timestamp (``timestamp.py``); a proven time is kept."""
    stamp = timestamp.check(
        info,
        certificates=ctx.certificates,
        find_certificate=_find_certificate,
        build_chain=lambda cert, pool: build_chain(cert, pool, ctx.anchors),
    )
    if stamp is None:
        if ctx.require_timestamp:
            return failed("timestamp", "no-timestamp", "the signature has no timestamp")
        return passed("timestamp", "no timestamp: the time is the signer's word", state="absent")
    params = {"authority": stamp.authority or ""}
    if stamp.gen_time:
        params["at"] = stamp.gen_time.isoformat()
    if not stamp.ok:
        return failed("timestamp", stamp.code, stamp.detail, **params)
    signer.proven_time = stamp.gen_time
    signer.timestamp_authority = stamp.authority
    return passed("timestamp", stamp.detail, state="proven", **params)


def _check_signer(index: int, info: asn1_cms.SignerInfo, ctx: _Context) -> Signer:
    signer = Signer(index)
    checks = signer.checks
    cert = _find_certificate(info["sid"], ctx.certificates)
    if cert is None:
        checks.append(
            failed("certificate", "no-certificate", "the signer's certificate is not in the CMS")
        )
        return signer
    checks.append(passed("certificate"))
    _fill_facts(signer, cert)
    signer.signing_time = _signing_time(info)

    digest_oid = info["digest_algorithm"]["algorithm"].dotted
    signature_oid = info["signature_algorithm"]["algorithm"].dotted
    key_oid = gost.key_info(_spki(cert))[0]
    signer.algorithm = crypto.algorithm_name(signature_oid, digest_oid)
    refusal = _unsupported(digest_oid, signature_oid, key_oid)
    chain = [cert]
    checked_here = False
    if refusal is None:
        checks.append(passed("algorithm", signer.algorithm))
        digest_check, signed = _digest_check(info, ctx, digest_oid)
        checks.append(digest_check)
        if signed:
            checks.append(_signature_check(info, cert, signed, digest_oid))
        found, reason = build_chain(cert, ctx.certificates, ctx.anchors)
        if found:
            chain = found
            checks.append(passed("trust", f"issued by {_common_name(found[-1].subject)}"))
        else:
            checks.append(failed("trust", "untrusted", reason, issuer=cert.issuer.human_friendly))
        checked_here = True
    elif refusal.code == "gost-2004-unsupported" and ctx.ncanode_url:
        checks.append(passed("algorithm", f"{signer.algorithm}: verified by NCANode"))
        checks.append(_ncanode_check(cert, ctx))
    else:
        checks.append(refusal)
    checks.append(_timestamp_check(signer, info, ctx))
    when = ctx.at or signer.proven_time or signer.signing_time or datetime.now(UTC)
    signer.checked_at = when

    checks.append(_validity_check(chain, when))
    checks.append(_key_usage_check(cert))
    checks.extend(_identity_checks(signer, ctx))
    if (ctx.ocsp_url or ctx.evidence) and checked_here and len(chain) > 1:
        checks.append(_revocation_check(signer, cert, chain[1], ctx))
    return signer


# --- the entry point -----------------------------------------------------------------


def _embedded_content(encapsulated: asn1_cms.EncapsulatedContentInfo) -> bytes | None:
    content = encapsulated["content"]
    if isinstance(content, core.OctetString | core.ParsableOctetString):
        return bytes(content)
    if isinstance(content, core.Void):
        return None
    return content.dump()  # content of another type: its DER


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def verify(
    document: bytes | None,
    cms: bytes,
    *,
    expected_bin: str | None = None,
    expected_iin: str | None = None,
    at: datetime | None = None,
    trust_anchors: Any = None,
    ocsp_url: str | None = None,
    ncanode_url: str | None = None,
    session: requests.Session | None = None,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    require_timestamp: bool = False,
    crl_fallback: bool = True,
    crl_cache: str | Path | None = None,
    revocation_evidence: revocation.Evidence | None = None,
) -> Report:
    """Verify the CMS signature ``cms`` of ``document`` (None: the document the CMS carries).

    ``expected_bin`` (an LLP) or ``expected_iin`` (an IE) says who must have signed;
    ``at`` is the time the certificates must have been valid at (default: each signer's
    signingTime); ``trust_anchors`` as ``load_trust_anchors`` takes it (None: the
    production NCA RK CAs); ``ocsp_url`` turns the revocation check on; ``ncanode_url``
    lets GOST 34.310-2004 signatures be checked by NCANode; ``require_timestamp``
    refuses a signer without an RFC 3161 timestamp. ``crl_fallback`` lets the CA's CRL
    (cached in the folder ``crl_cache``) decide when OCSP fails. ``revocation_evidence``
    (what an accepted signature stored) is checked instead of asking OCSP or the CRL:
    re-verification "as at acceptance", without the network. Never raises for a bad
    CMS: the report says what is wrong.
    """
    report = Report([], expected_bin=expected_bin, expected_iin=expected_iin, at=_utc(at))
    try:
        der = decode_cms(cms)
        info = asn1_cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            report.checks.append(
                failed("cms", "malformed", f"a CMS {info['content_type'].native}, not signed data")
            )
            return report
        signed_data = info["content"]
        encapsulated = signed_data["encap_content_info"]
        content_type = encapsulated["content_type"].dotted
        embedded = _embedded_content(encapsulated)
        certificates = [
            choice.chosen
            for choice in (signed_data["certificates"] or [])
            if choice.name == "certificate"
        ]
        signer_infos = list(signed_data["signer_infos"])
    except (ValueError, TypeError, KeyError) as error:
        report.checks.append(failed("cms", "malformed", str(error)))
        return report
    if not signer_infos:
        report.checks.append(failed("cms", "no-signer", "the CMS has no signer"))
        return report
    if document is None and embedded is None:
        report.checks.append(failed("cms", "no-document", "a detached CMS needs the document"))
        return report
    detached = "attached" if embedded is not None else "detached"
    report.checks.append(passed("cms", f"{detached} CMS, {len(signer_infos)} signer(s)"))

    ctx = _Context(
        document=document,
        embedded=embedded,
        content_type=content_type,
        cms_der=der,
        certificates=certificates,
        anchors=load_trust_anchors(trust_anchors),
        at=report.at,
        expected_bin=expected_bin,
        expected_iin=expected_iin,
        ocsp_url=ocsp_url,
        ncanode_url=ncanode_url,
        session=session,
        timeout=timeout,
        require_timestamp=require_timestamp,
        crl_fallback=crl_fallback,
        crl_cache=crl_cache,
        evidence=revocation_evidence,
    )
    for index, signer_info in enumerate(signer_infos):
        try:
            report.signers.append(_check_signer(index, signer_info, ctx))
        except (ValueError, TypeError, KeyError) as error:
            broken = Signer(index, [failed("certificate", "malformed", str(error))])
            report.signers.append(broken)
    accepted = next((s for s in report.signers if s.ok), None)
    report.signer = accepted or max(report.signers, key=lambda s: s.passed_count)
    report.checks.extend(report.signer.checks)
    return report
