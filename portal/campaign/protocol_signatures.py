"""The commission signs the draw's protocol (issue 18, part 3; docs/DESIGN.md, "The draw").

- What is signed: the protocol in the state language, Kazakh (``protocol-kk.pdf``), the
  original; the Russian protocol is its translation and is not signed. Every member
  signs the same bytes, byte for byte as stored at the draw (``SIGNED_PROTOCOL``).
- With an EDS: a CMS (detached or attached) over those bytes, made with NCALayer on the
  staff's computer or with any NCA RK tool and uploaded. It is verified by the one
  verifier of the acts (``portal.services.eds``: the chain to the trust anchors, the
  validity at the proven time, the revocation as configured), and must be an
  INDIVIDUAL's certificate (no BIN, no legal entity's role) whose name is the member's
  as the commission wrote it (``same_person``). The CMS is kept as a file of the draw
  (``draw_file``, DER) beside the protocol, named ``signature_file_name``.
- On paper: staff mark that the member signed the printed protocol; kept as such,
  nothing to check online.
- One signature a member: a second one, of either kind, is refused; an accepted one is
  never changed nor removed (``portal.models.draws`` guards it as part of the record).
- A refused signature stores nothing: ``SignatureRefused`` says why (with the
  verifier's report when the EDS check failed).
- ``checks`` re-verifies every stored EDS signature over the stored protocol bytes, as
  at its acceptance (as ``signature_proof.reverify`` does for acts): the draw's
  verification (``draws.verify``) includes them; paper ones are listed, not checked.

Nothing here commits.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from portal.campaign import audit
from portal.campaign.acts import moment_of
from portal.models import Draw, DrawFile, ProtocolSignature, db, utcnow
from portal.services import eds
from portal.services.eds.revocation import Evidence

SIGNED_LANGUAGE = "kk"  # the state language's protocol is the one signed
SIGNED_PROTOCOL = f"protocol-{SIGNED_LANGUAGE}.pdf"
CMS_MAX_BYTES = 1024 * 1024  # as the act's signature: far more than a CMS with its chain
VIA = ("ncalayer", "upload", "egov-qr")
# a legal entity's certificate: NCA writes these roles in the extended key usage
LEGAL_ENTITY_ROLES = frozenset(
    ("legal-entity", "first-head", "right-to-sign", "right-to-sign-financial", "hr", "employee")
)


class SignatureRefused(Exception):
    """A member's signature that is not accepted; ``code`` says why
    (``portal.wording.messages.describe_protocol_refusal``), ``report`` is the
    verifier's when its checks failed (``code`` "eds-refused")."""

    def __init__(self, code: str, report: eds.Report | None = None, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.report = report
        self.details = details


# --- names -----------------------------------------------------------------------------

# Kazakh letters written as their nearest Russian ones, and ё as е: a certificate may
# spell a name one way and the commission the other (Ақмарал / Акмарал).
_FOLD = str.maketrans(
    {
        "ә": "а",
        "ғ": "г",
        "қ": "к",
        "ң": "н",
        "ө": "о",
        "ұ": "у",
        "ү": "у",
        "һ": "х",
        "і": "и",
        "ё": "е",
    }
)


def name_words(name: str) -> list[str]:
    """A person's name as comparable words: case-folded, Kazakh letters as Russian ones,
    hyphens and punctuation as spaces."""
    text = unicodedata.normalize("NFC", name or "").casefold().translate(_FOLD)
    return [word for word in re.split(r"[\W_]+", text) if word]


def same_person(certificate_name: str, member_name: str) -> bool:
    """Whether the certificate's name (NCA's CN: SURNAME GIVEN-NAME) is the member's as the
    commission wrote it: the same words whatever their case, order (surname first or
    last) or Kazakh/Russian letters; the commission may add one word, the patronymic,
    which NCA keeps outside the CN."""
    certificate, member = name_words(certificate_name), name_words(member_name)
    if len(certificate) < 2:
        return False
    rest = list(member)
    for word in certificate:
        if word not in rest:
            return False
        rest.remove(word)
    return len(rest) <= 1


# --- reading ---------------------------------------------------------------------------


def signature_file_name(member_index: int) -> str:
    """The file of the draw a member's CMS is kept as: ``protocol-kk-signature-2.p7s``."""
    return f"protocol-{SIGNED_LANGUAGE}-signature-{member_index}.p7s"


def member_index_of_file(name: str) -> int | None:
    match = re.fullmatch(rf"protocol-{SIGNED_LANGUAGE}-signature-([1-9][0-9]{{0,2}})\.p7s", name)
    return int(match.group(1)) if match else None


def signatures_of(draw: Draw) -> list[ProtocolSignature]:
    """The draw's accepted signatures, in the commission's order."""
    return list(
        db.session.scalars(
            sa.select(ProtocolSignature)
            .filter_by(draw_id=draw.id)
            .order_by(ProtocolSignature.member_index)
        )
    )


def signature_file(draw: Draw, name: str) -> DrawFile | None:
    """A member's CMS file of ``draw`` by its name, None when there is none."""
    index = member_index_of_file(name)
    if index is None:
        return None
    return db.session.scalar(
        sa.select(DrawFile)
        .join(ProtocolSignature, ProtocolSignature.cms_file_id == DrawFile.id)
        .where(
            ProtocolSignature.draw_id == draw.id,
            ProtocolSignature.member_index == index,
            DrawFile.name == name,
        )
    )


@dataclass(frozen=True)
class MemberSignature:
    """A commission member as the pages list it: the member, its signature if any."""

    index: int
    member: Any  # portal.models.CommissionMember
    signature: ProtocolSignature | None


def by_member(draw: Draw) -> list[MemberSignature]:
    """Every member of the draw's commission with its signature (None: not signed yet)."""
    found = {s.member_index: s for s in signatures_of(draw)}
    return [
        MemberSignature(index, member, found.get(index))
        for index, member in enumerate(draw.commission, start=1)
    ]


def _z(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def record_entries(draw: Draw) -> list[dict[str, Any]]:
    """``record.json``'s ``signatures`` (docs/DESIGN.md): nothing personal but the name."""
    return [
        {
            "member": s.member_name,
            "kind": s.kind,
            "file": signature_file_name(s.member_index)
            if s.kind == ProtocolSignature.EDS
            else None,
            "signed_at": _z(s.proven_time or s.signing_time)
            if s.kind == ProtocolSignature.EDS
            else None,
            "signer": s.signer_name or None if s.kind == ProtocolSignature.EDS else None,
        }
        for s in signatures_of(draw)
    ]


# --- signing ---------------------------------------------------------------------------


def signed_protocol(draw: Draw) -> DrawFile:
    """The protocol every member signs (``SIGNED_PROTOCOL``), as stored at the draw."""
    stored = db.session.scalar(sa.select(DrawFile).filter_by(draw_id=draw.id, name=SIGNED_PROTOCOL))
    if stored is None:
        raise SignatureRefused("no-protocol")
    return stored


def _member(draw: Draw, member_index: int) -> Any:
    members = draw.commission
    if not isinstance(member_index, int) or not 1 <= member_index <= len(members):
        raise SignatureRefused("unknown-member")
    if db.session.scalar(
        sa.select(ProtocolSignature.id).filter_by(draw_id=draw.id, member_index=member_index)
    ):
        raise SignatureRefused("already-signed", member=members[member_index - 1].name)
    return members[member_index - 1]


def open_to(draw: Draw, member_index: int) -> DrawFile:
    """The protocol member ``member_index`` may sign now (``SignatureRefused`` when the
    member is unknown, has signed already, or there is no protocol)."""
    _member(draw, member_index)
    return signed_protocol(draw)


def still_open_to(draw: Draw, member_index: int, protocol_sha256: str) -> bool:
    """Whether the member may still sign the protocol with these exact bytes."""
    try:
        return open_to(draw, member_index).sha256 == protocol_sha256
    except SignatureRefused:
        return False


def identity_refusal(facts: dict[str, Any], member_name: str) -> str | None:
    """Why an accepted signer may not sign for ``member_name`` (None: it may): a legal
    entity's certificate, or another person's name."""
    roles = set(facts.get("roles") or [])
    if facts.get("bin") or roles & LEGAL_ENTITY_ROLES:
        return "not-individual"
    if not same_person(facts.get("common_name") or "", member_name):
        return "wrong-name"
    return None


def sign_with_eds(
    draw: Draw,
    member_index: int,
    cms: bytes,
    *,
    eds_settings: dict[str, Any],
    via: str = "upload",
    actor: Any = None,
    at: datetime | None = None,
    now: datetime | None = None,
) -> ProtocolSignature:
    """Accept member ``member_index``'s CMS over the signed protocol, or refuse it
    (``SignatureRefused``, nothing stored). ``eds_settings`` are the site's
    (``eds.settings_from_config``); ``at`` fixes the validation time (tests)."""
    now, actor = now or utcnow(), audit.as_actor(actor)
    member = _member(draw, member_index)
    protocol = signed_protocol(draw)
    if not cms or len(cms) > CMS_MAX_BYTES:
        raise SignatureRefused("bad-signature-file")
    report = eds.verify(protocol.content, cms, at=at, **eds_settings)
    if not report.ok:
        raise SignatureRefused("eds-refused", report=report)
    facts = report.facts or {}
    refusal = identity_refusal(facts, member.name)
    if refusal is not None:
        raise SignatureRefused(
            refusal, report=report, member=member.name, signer=facts.get("common_name") or ""
        )
    der = eds.decode_cms(cms)
    name = signature_file_name(member_index)
    stored = DrawFile(
        draw_id=draw.id,
        name=name,
        content=der,
        sha256=hashlib.sha256(der).hexdigest(),
        created_at=now,
    )
    db.session.add(stored)
    db.session.flush()
    evidence = report.evidence
    return _keep(
        draw,
        protocol,
        member_index,
        member.name,
        actor,
        kind=ProtocolSignature.EDS,
        cms_file_id=stored.id,
        cms_sha256=stored.sha256,
        signer_name=(facts.get("common_name") or "")[:300],
        certificate_serial=facts.get("serial") or "",
        certificate_issuer=(facts.get("issuer") or "")[:500],
        signing_time=moment_of(facts.get("signing_time")),
        proven_time=moment_of(facts.get("proven_time")),
        report_json=json.dumps(report.as_dict(), ensure_ascii=False, default=str),
        revocation_method=evidence.method if evidence else "",
        revocation_der=evidence.der if evidence else None,
        revocation_evidence_json=json.dumps(evidence.facts if evidence else {}, default=str),
        received_via=via if via in VIA else "upload",
        accepted_at=now,
    )


def mark_paper(
    draw: Draw, member_index: int, *, actor: Any = None, now: datetime | None = None
) -> ProtocolSignature:
    """Member ``member_index`` signed the printed protocol: kept as such."""
    now, actor = now or utcnow(), audit.as_actor(actor)
    member = _member(draw, member_index)
    protocol = signed_protocol(draw)
    return _keep(
        draw,
        protocol,
        member_index,
        member.name,
        actor,
        kind=ProtocolSignature.PAPER,
        received_via="paper",
        accepted_at=now,
    )


def _keep(
    draw: Draw,
    protocol: DrawFile,
    member_index: int,
    member_name: str,
    actor: audit.Actor,
    **columns: Any,
) -> ProtocolSignature:
    """A member's signature of ``protocol`` kept (``columns``: its kind and evidence), on
    the audit trail."""
    signature = ProtocolSignature(
        draw_id=draw.id,
        protocol_file=protocol.name,
        protocol_sha256=protocol.sha256,
        member_index=member_index,
        member_name=member_name,
        accepted_by=actor.name,
        **columns,
    )
    db.session.add(signature)
    db.session.flush()
    _audit(draw, signature, actor)
    return signature


def _audit(draw: Draw, signature: ProtocolSignature, actor: audit.Actor) -> None:
    audit.record(
        "draw.protocol_signed",
        draw,
        {
            "member": signature.member_name,
            "member_index": signature.member_index,
            "kind": signature.kind,
            "protocol": signature.protocol_file,
            "via": signature.received_via,
            "serial": signature.certificate_serial or None,
        },
        actor=actor,
    )


# --- verifying again ---------------------------------------------------------------------


@dataclass
class Recheck:
    """A stored EDS signature checked again: ``ok``, and ``code`` naming the first failure."""

    signature: ProtocolSignature
    ok: bool
    code: str = ""
    report: eds.Report | None = None
    details: dict[str, str] = field(default_factory=dict)


def acceptance_time(signature: ProtocolSignature) -> datetime:
    """As for acts (``signature_proof.acceptance_time``): the proven time, else the
    signer's stated time, else the time it was accepted."""
    return signature.proven_time or signature.signing_time or signature.accepted_at


def recheck(signature: ProtocolSignature, eds_settings: dict[str, Any] | None) -> Recheck:
    """The stored CMS verified again over the stored protocol bytes, as at acceptance
    (no network: the revocation evidence kept with it), by the same certificate and for
    the same member."""
    stored = signature.cms_file
    if stored is None or hashlib.sha256(stored.content).hexdigest() != signature.cms_sha256:
        return Recheck(signature, False, "cms-changed")
    protocol = db.session.scalar(
        sa.select(DrawFile).filter_by(draw_id=signature.draw_id, name=signature.protocol_file)
    )
    if protocol is None or hashlib.sha256(protocol.content).hexdigest() != (
        signature.protocol_sha256
    ):
        return Recheck(signature, False, "protocol-changed")
    settings = {
        **(eds_settings or {}),
        "ocsp_url": None,
        "crl_fallback": False,
        "require_timestamp": False,
    }
    report = eds.verify(
        protocol.content,
        stored.content,
        at=acceptance_time(signature),
        revocation_evidence=Evidence.stored(
            signature.revocation_method, signature.revocation_evidence, signature.revocation_der
        ),
        **settings,
    )
    if not report.ok:
        return Recheck(signature, False, report.code or "eds-refused", report)
    facts = report.facts or {}
    if (facts.get("serial") or "") != signature.certificate_serial:
        return Recheck(signature, False, "other-certificate", report)
    refusal = identity_refusal(facts, signature.member_name)
    if refusal is not None:
        return Recheck(signature, False, refusal, report)
    return Recheck(signature, True, "", report)


def checks(draw: Draw, eds_settings: dict[str, Any] | None) -> list[tuple[str, bool, str]]:
    """The draw verification's steps for its signatures: ``(code, ok, detail)``, one per
    signature: ``protocol-signature`` (an EDS one, checked; ``detail`` "member|failure")
    or ``protocol-paper`` (listed, always ok)."""
    found = []
    for signature in signatures_of(draw):
        if signature.kind == ProtocolSignature.PAPER:
            found.append(("protocol-paper", True, signature.member_name))
            continue
        result = recheck(signature, eds_settings)
        detail = signature.member_name if result.ok else f"{signature.member_name}|{result.code}"
        found.append(("protocol-signature", result.ok, detail))
    return found
