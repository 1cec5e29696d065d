"""Whether a signer's certificate is revoked: OCSP first, then the CA's CRL; and the evidence.

``check`` asks the OCSP responder (``ocsp``); when it cannot be reached, answers "try
again" (or another error status), or gives an answer that cannot be trusted, and the CRL
fallback is on, the issuing CA's CRL decides (``crl``). "revoked" from either is final;
OCSP's "unknown" is not a failure of the service and stays a refusal. When both fail the
signature is refused, as it was when OCSP alone failed: a signature is accepted only
with a proof that its certificate was not revoked when it was accepted.

The proof is kept (``Evidence``): the OCSP answer's DER, or the CRL's URL, number,
thisUpdate, nextUpdate and SHA-256 (and the delta CRL's). ``recheck`` re-reads it later
without the network: the OCSP answer is checked again (its signature by the issuer or
its delegated responder, that it is about this certificate, "good"); a CRL is checked
again when the very list (same SHA-256) is still in the cache, else its facts stand as
recorded.

With the proven time of signing (``at``: an RFC 3161 timestamp's genTime), revocation is
judged at it: a certificate revoked only after the signature was proven to exist does not
refuse it (the signature was made while the certificate was valid); the revocation time
is kept in the evidence. Without a proven time, "revoked" refuses whenever it happened.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
from asn1crypto import x509

from portal.services.eds import crl, ocsp

OCSP_FALLBACK = ("ocsp-unavailable", "ocsp-invalid")  # OCSP failed: the CRL decides
METHODS = ("ocsp", "crl")


@dataclass
class Evidence:
    """What proved the certificate not revoked: ``method`` "ocsp" (``der`` is the
    answer) or "crl" (``facts`` name the list)."""

    method: str
    facts: dict[str, Any] = field(default_factory=dict)
    der: bytes | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, **self.facts}

    @classmethod
    def stored(cls, method: str, facts: dict[str, Any], der: bytes | None) -> Evidence | None:
        """The evidence kept with a signature, None when none was kept."""
        if method not in METHODS:
            return None
        return cls(method, {k: v for k, v in facts.items() if k != "method"}, der)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    code: str = ""
    detail: str = ""
    params: dict[str, str] = field(default_factory=dict)
    evidence: Evidence | None = None


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def _crl_params(facts: dict[str, Any], how: str = "") -> dict[str, str]:
    params = {
        "method": "crl",
        "number": "" if facts.get("number") is None else str(facts["number"]),
        "this_update": facts.get("this_update") or "",
        "next_update": facts.get("next_update") or "",
    }
    if how:
        params["how"] = how
    return params


def revoked_after(revoked_at: datetime | None, at: datetime | None) -> bool:
    """Revoked only after ``at``, the proven time of signing (None: no proven time)."""
    return at is not None and revoked_at is not None and revoked_at > at


def _after_signing(outcome: Outcome, revoked_at: datetime | None, at: datetime) -> Outcome:
    """A "good" outcome from a revocation after the proven time ``at``."""
    assert outcome.evidence is not None
    evidence = outcome.evidence
    evidence.facts = {**evidence.facts, "revoked_at": _iso(revoked_at)}
    params = {**outcome.params, "revoked_at": _iso(revoked_at), "at": _iso(at)}
    detail = f"{outcome.detail}: revoked at {_iso(revoked_at)}, after the proven time {_iso(at)}"
    return Outcome(True, detail=detail, params=params, evidence=evidence)


def _refused(code: str, detail: str, revoked_at: datetime | None = None) -> Outcome:
    params = {"revoked_at": revoked_at.isoformat()} if revoked_at else {}
    return Outcome(False, code, detail, params)


def check(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    ocsp_url: str | None,
    use_crl: bool = True,
    cache: crl.Cache | None = None,
    session: requests.Session | None = None,
    timeout: Any = (5.0, 15.0),
    now: datetime | None = None,
    at: datetime | None = None,
) -> Outcome:
    """OCSP at ``ocsp_url``, then (``use_crl``) the CRL when OCSP failed; judged at ``at``,
    the proven time of signing, when there is one."""
    ocsp_failure = ""
    if ocsp_url:
        status = ocsp.check(cert, issuer, ocsp_url, session=session, timeout=timeout)
        if status.status == "good":
            facts = {
                "url": ocsp_url,
                "produced_at": _iso(status.produced_at),
                "sha256": hashlib.sha256(status.der).hexdigest(),
            }
            return Outcome(
                True,
                detail=f"OCSP: good at {_iso(status.produced_at)}",
                params={"method": "ocsp", "produced_at": _iso(status.produced_at)},
                evidence=Evidence("ocsp", facts, status.der),
            )
        if status.status == "revoked" and revoked_after(status.revoked_at, at):
            facts = {
                "url": ocsp_url,
                "produced_at": _iso(status.produced_at),
                "sha256": hashlib.sha256(status.der).hexdigest(),
            }
            answer = Outcome(
                True,
                detail="OCSP",
                params={"method": "ocsp", "produced_at": _iso(status.produced_at)},
                evidence=Evidence("ocsp", facts, status.der),
            )
            return _after_signing(answer, status.revoked_at, at)  # type: ignore[arg-type]
        detail = status.detail or status.code
        if status.status == "revoked":
            detail = f"OCSP: revoked at {_iso(status.revoked_at)}"
        if status.status is not None or status.code not in OCSP_FALLBACK or not use_crl:
            return _refused(status.code, detail, status.revoked_at)
        ocsp_failure = f"OCSP: {detail}"
    outcome = crl.check(cert, issuer, cache=cache, session=session, timeout=timeout, now=now)
    after = outcome.status == "revoked" and revoked_after(outcome.revoked_at, at)
    if outcome.status == "good" or after:
        facts = dict(outcome.facts)
        if ocsp_failure:
            facts["ocsp_failure"] = ocsp_failure
        answer = Outcome(
            True,
            detail=f"CRL {outcome.facts.get('number')}: not listed",
            params=_crl_params(outcome.facts),
            evidence=Evidence("crl", facts),
        )
        if after:
            listed = Outcome(
                True,
                detail=f"CRL {outcome.facts.get('number')}",
                params=answer.params,
                evidence=answer.evidence,
            )
            return _after_signing(listed, outcome.revoked_at, at)  # type: ignore[arg-type]
        return answer
    detail = "; ".join(part for part in (ocsp_failure, f"CRL: {outcome.detail}") if part)
    return _refused(outcome.code, detail, outcome.revoked_at)


def recheck(
    evidence: Evidence,
    cert: x509.Certificate,
    issuer: x509.Certificate,
    cache: crl.Cache,
    at: datetime | None = None,
) -> Outcome:
    """The stored evidence checked again, without the network (judged at ``at``, the
    proven time of signing, when there is one)."""
    if evidence.method == "ocsp":
        status = ocsp.read_response(evidence.der or b"", cert, issuer, None)
        after = status.status == "revoked" and revoked_after(status.revoked_at, at)
        if status.status == "good" or after:
            produced = _iso(status.produced_at)
            answer = Outcome(
                True,
                detail=f"the stored OCSP answer of {produced}: good",
                params={"method": "ocsp", "produced_at": produced, "how": "stored"},
                evidence=evidence,
            )
            if after:
                stored = Outcome(
                    True,
                    detail=f"the stored OCSP answer of {produced}",
                    params=answer.params,
                    evidence=Evidence(evidence.method, dict(evidence.facts), evidence.der),
                )
                return _after_signing(stored, status.revoked_at, at)  # type: ignore[arg-type]
            return answer
        return _refused(
            status.code or "ocsp-invalid",
            f"the stored OCSP answer: {status.detail or status.code}",
            status.revoked_at,
        )
    try:
        how = crl.recheck(evidence.facts, cert, issuer, cache, at)
    except crl.CrlError as error:
        return _refused(error.code, f"the stored CRL: {error.detail}")
    return Outcome(
        True,
        detail=f"CRL {evidence.facts.get('number')}: not listed ({how})",
        params=_crl_params(evidence.facts, how),
        evidence=evidence,
    )
