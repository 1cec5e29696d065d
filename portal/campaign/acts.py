"""The winner's private link, the acceptance-transfer act and its signing (rules 10, 11, 12, 14).

- A verified winner gets a private link; only the token's SHA-256 is stored, the link
  expires after ``LINK_DAYS`` days, and staff may revoke it and issue another.
- The act names the organizer, the winner with its director's identity document, the
  prize with its value including VAT, the organizer's taxes (rule 14), no cash or
  exchange (rule 15) and the winner's consents (rules 17 and 18). It is rendered once
  in Kazakh and Russian into one PDF whose bytes and SHA-256 are frozen; a correction
  is a new act with a new number that keeps the old one.
- Signing with an EDS: a CMS over the act's exact bytes, verified in Python by
  ``portal.services.eds`` against the winner's BIN (LLP) or IIN (IE). Signing by hand
  (rule 11): a stated reason and scans, which staff accept or return.

Nothing here commits; each function leaves its work in the session for the caller.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from portal.campaign import LANGUAGES, audit
from portal.campaign import winners as winner_rules
from portal.campaign.links import Links
from portal.campaign.periods import local_today
from portal.campaign.staff import marketing_manager
from portal.models import Winner, db, utcnow
from portal.models.acts import (
    Act,
    ActSignature,
    ManualSubmission,
    WinnerFile,
    WinnerIdentity,
    WinnerLink,
)
from portal.services import documents, eds, storage, uploads
from portal.services.mail import enqueue, render_message

LINK_DAYS = 60
TOKEN_BYTES = 32
VAT_RATE = 12  # percent, Kazakhstan
FILE_MAX_BYTES = 10 * 1024 * 1024


class ActRefused(Exception):
    """A step on the act that may not be taken; ``code`` names why (``portal.wording.messages``)."""

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- the private link ---------------------------------------------------------------


def issue_link(winner: Winner, *, actor: Any = None, now: datetime | None = None) -> str:
    """A new private link for ``winner``; earlier ones are revoked. Returns the token."""
    now, actor = now or utcnow(), audit.as_actor(actor)
    if winner.status not in winner_rules.VERIFIED_STANDING:
        raise ActRefused("not-verified")
    for link in active_links(winner, now):
        link.revoked_at, link.revoked_by = now, actor.name
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(
        WinnerLink(
            winner_id=winner.id,
            token_sha256=token_digest(token),
            created_at=now,
            created_by=actor.name,
            expires_at=now + timedelta(days=LINK_DAYS),
        )
    )
    winner_rules.record_event(
        winner,
        "link_issued",
        actor,
        details={"expires": (now + timedelta(days=LINK_DAYS)).date()},
        now=now,
    )
    return token


def active_links(winner: Winner, now: datetime | None = None) -> list[WinnerLink]:
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(WinnerLink).where(
                WinnerLink.winner_id == winner.id,
                WinnerLink.revoked_at.is_(None),
                WinnerLink.expires_at > now,
            )
        )
    )


def revoke_links(winner: Winner, *, actor: Any = None, now: datetime | None = None) -> int:
    now, actor = now or utcnow(), audit.as_actor(actor)
    links = active_links(winner, now)
    for link in links:
        link.revoked_at, link.revoked_by = now, actor.name
    if links:
        winner_rules.record_event(winner, "link_revoked", actor, now=now)
    return len(links)


def winner_for_token(token: str, now: datetime | None = None) -> Winner | None:
    """The winner a link's token opens, or None (unknown, expired or revoked)."""
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(sa.select(WinnerLink).filter_by(token_sha256=token_digest(token)))
    now = now or utcnow()
    if link is None or link.revoked_at is not None or link.expires_at <= now:
        return None
    return link.winner


# --- identity and the act ------------------------------------------------------------


def identity_of(winner: Winner) -> WinnerIdentity | None:
    return db.session.scalar(sa.select(WinnerIdentity).filter_by(winner_id=winner.id))


def set_identity(
    winner: Winner,
    *,
    director_name: str,
    document_type: str,
    document_number: str,
    document_issuer: str,
    document_date,
    entered_by: str,
    now: datetime | None = None,
) -> WinnerIdentity:
    """The director and the identity document to name in the act (rule 10)."""
    if document_type not in WinnerIdentity.DOCUMENT_TYPES:
        raise ActRefused("bad-document-type")
    if document_date > local_today(now):
        raise ActRefused("document-date-future")
    if current_act(winner) is not None and winner.status != Winner.ACT_ISSUED:
        raise ActRefused("act-closed")
    identity = identity_of(winner) or WinnerIdentity(winner_id=winner.id)
    identity.director_name = director_name.strip()
    identity.document_type = document_type
    identity.document_number = document_number.strip()
    identity.document_issuer = document_issuer.strip()
    identity.document_date = document_date
    identity.entered_by = entered_by
    db.session.add(identity)
    # the audit names the step, never the document's details
    winner_rules.record_event(winner, "identity_entered", audit.Actor(label=entered_by), now=now)
    return identity


def current_act(winner: Winner) -> Act | None:
    """The winner's act in force: the last issued, which no correction has replaced."""
    return db.session.scalar(
        sa.select(Act).filter_by(winner_id=winner.id).order_by(Act.id.desc()).limit(1)
    )


def acts_of(winner: Winner) -> list[Act]:
    return list(db.session.scalars(sa.select(Act).filter_by(winner_id=winner.id).order_by(Act.id)))


def act_facts(
    winner: Winner, identity: WinnerIdentity, number: str, issued_on, links: Links
) -> dict:
    """What the act says, kept beside its PDF (for the staff's view and for tests); the
    organizer's requisites are the site's settings, printed by the document itself."""
    participant, prize = winner.participant, winner.prize
    vat = round(prize.nominal_kzt * VAT_RATE / (100 + VAT_RATE), 2)
    return {
        "number": number,
        "issued_on": issued_on.isoformat(),
        "company": participant.company_name,
        "legal_form": participant.legal_form,
        "bin_iin": participant.bin_iin,
        "director": identity.director_name,
        "document_type": identity.document_type,
        "document_number": identity.document_number,
        "document_issuer": identity.document_issuer,
        "document_date": identity.document_date.isoformat(),
        "prize_kk": prize.name_kk,
        "prize_ru": prize.name_ru,
        "supplier": prize.supplier,
        "nominal_kzt": prize.nominal_kzt,
        "vat_kzt": f"{vat:.2f}",
        "period": winner.period.key,
        "draw": winner.draw_id,
        # where anyone checks the draw that drew the winner (its public record)
        **{f"record_url_{lang}": links.draw_record(winner.draw_id, lang) for lang in LANGUAGES},
    }


def issue_act(
    winner: Winner,
    *,
    links: Links,
    actor: Any = None,
    correction_reason: str = "",
    now: datetime | None = None,
) -> Act:
    """Issue the act (the winner moves to "act issued"), or a correction of the act in force;
    ``links`` gives the public record of the winner's draw, which the act prints."""
    now, actor = now or utcnow(), audit.as_actor(actor)
    identity = identity_of(winner)
    if identity is None:
        raise ActRefused("identity-required")
    previous = current_act(winner)
    if previous is None:
        if not winner_rules.may(winner, Winner.ACT_ISSUED):
            raise ActRefused("not-in-touch", status=winner.status)
    else:
        if winner.status != Winner.ACT_ISSUED:
            raise ActRefused("act-closed")
        if not correction_reason.strip():
            raise ActRefused("correction-reason-required")
    sequence = len(acts_of(winner)) + 1
    number = f"{winner.period.key}/{winner.id}-{sequence}"
    issued_on = local_today(now)
    facts = act_facts(winner, identity, number, issued_on, links)
    records = {lang: facts[f"record_url_{lang}"] for lang in LANGUAGES}
    pdf = documents.act_pdf(facts, winner, LANGUAGES, records)  # Kazakh, then Russian
    act = Act(
        winner_id=winner.id,
        number=number,
        issued_on=issued_on,
        issued_at=now,
        issued_by=actor.name,
        replaces_id=previous.id if previous else None,
        correction_reason=correction_reason.strip(),
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        facts_json=json.dumps(facts, ensure_ascii=False, sort_keys=True),
    )
    db.session.add(act)
    db.session.flush()
    details = {
        "act": number,
        "sha256": act.sha256,
        "replaces": previous.number if previous else None,
    }
    if previous is None:
        winner_rules.mark_act_issued(winner, actor=actor, details=details, now=now)
    else:
        winner_rules.record_event(
            winner, "act_corrected", actor, note=correction_reason, details=details, now=now
        )
    return act


def record_download(winner: Winner, act: Act, who: str) -> None:
    audit.record("act.download", act, {"act": act.number, "by": who}, actor=audit.Actor(label=who))


# --- signing with an EDS --------------------------------------------------------------


def expected_signer(winner: Winner) -> dict[str, str]:
    """An LLP signs as its BIN's first head or signatory; an IE with its own IIN."""
    participant = winner.participant
    if participant.legal_form == "LLP":
        return {"expected_bin": participant.bin_iin}
    return {"expected_iin": participant.bin_iin}


def check_signable(act: Act) -> None:
    """An act is signed while it is the one in force and its winner waits at "act issued"."""
    if current_act(act.winner) is not act or act.winner.status != Winner.ACT_ISSUED:
        raise ActRefused("act-closed")


def sign_with_eds(
    act: Act,
    cms: bytes,
    *,
    eds_settings: dict[str, Any],
    via: str = "upload",
    at: datetime | None = None,
    now: datetime | None = None,
) -> eds.Report:
    """Verify a CMS over the act's bytes; on success store it and move the winner on.

    Every attempt is in the audit trail with its outcome; a failed one stores nothing
    else. ``eds_settings`` are the site's (``eds.settings_from_config``); ``at`` fixes the
    validation time (tests with expired test certificates).
    """
    now = now or utcnow()
    winner = act.winner
    check_signable(act)
    report = eds.verify(
        act.pdf,
        cms,
        at=at,
        **expected_signer(winner),
        **eds_settings,
    )
    facts = report.facts if report.ok else None
    audit.record(
        "act.eds_attempt",
        act,
        {
            "act": act.number,
            "ok": report.ok,
            "codes": report.codes,
            "via": via,
            "serial": (facts or {}).get("serial"),
        },
        actor=audit.Actor(label="winner"),
    )
    if not report.ok:
        return report
    evidence = report.evidence
    db.session.add(
        ActSignature(
            act_id=act.id,
            cms=cms,
            cms_sha256=hashlib.sha256(cms).hexdigest(),
            signer_name=facts.get("common_name") or "",
            signer_iin=facts.get("iin") or "",
            signer_bin=facts.get("bin") or "",
            signer_role=", ".join(facts.get("roles") or []),
            certificate_serial=facts.get("serial") or "",
            certificate_issuer=facts.get("issuer") or "",
            signing_time=moment_of(facts.get("signing_time")),
            proven_time=moment_of(facts.get("proven_time")),
            report_json=json.dumps(report.as_dict(), ensure_ascii=False, default=str),
            received_via=via,
            created_at=now,
            revocation_method=evidence.method if evidence else "",
            revocation_der=evidence.der if evidence else None,
            revocation_evidence_json=json.dumps(evidence.facts if evidence else {}, default=str),
        )
    )
    winner_rules.mark_act_signed(
        winner,
        actor=audit.Actor(label="winner"),
        details={"act": act.number, "by": "eds", "serial": facts.get("serial")},
        now=now,
    )
    return report


def moment_of(value) -> datetime | None:
    """A time of the verifier's facts (a datetime, or its ISO text as stored): the
    datetime, or None. Acts and the commission's signatures of protocols read them so."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


# --- signing by hand (rule 11) --------------------------------------------------------


def open_submission(act: Act) -> ManualSubmission | None:
    return next((s for s in act.submissions if s.status == ManualSubmission.SUBMITTED), None)


def submit_manual(
    act: Act,
    *,
    reason: str,
    files: dict[str, tuple[bytes, str]],
    by_proxy: bool,
    now: datetime | None = None,
) -> ManualSubmission:
    """The winner's hand-signed act and scans, with the reason it cannot use an EDS.

    Every file is checked (PDF, JPEG or PNG by content, at most 10 MB) before any is
    written; on a refusal nothing is stored. The caller removes written files if the
    transaction then fails (``stored_paths`` of the returned submission's files).
    """
    now = now or utcnow()
    winner = act.winner
    check_signable(act)
    if open_submission(act) is not None:
        raise ActRefused("submission-open")
    if not reason.strip():
        raise ActRefused("reason-required")
    needed = [WinnerFile.SIGNED_ACT, WinnerFile.DIRECTOR_ID]
    if by_proxy:
        needed.append(WinnerFile.POWER_OF_ATTORNEY)
    missing = [kind for kind in needed if kind not in files]
    if missing:
        raise ActRefused("file-required", kind=missing[0])
    checked = {}
    for kind, (data, name) in files.items():
        try:
            checked[kind] = uploads.check(data, name, max_bytes=FILE_MAX_BYTES)
        except uploads.UploadRefused as refusal:
            raise ActRefused("bad-file", kind=kind, refusal=refusal) from None
    submission = ManualSubmission(act_id=act.id, reason=reason.strip(), submitted_at=now)
    db.session.add(submission)
    db.session.flush()
    written: list[WinnerFile] = []
    try:
        for kind, (data, _name) in files.items():
            written.append(
                _store_file(
                    winner, kind, data, checked[kind], "winner", submission=submission, now=now
                )
            )
    except BaseException:
        remove_files(written)
        raise
    winner_rules.record_event(
        winner,
        "manual_submitted",
        audit.Actor(label="winner"),
        details={"act": act.number, "files": sorted(files)},
        now=now,
    )
    return submission


def _store_file(
    winner: Winner,
    kind: str,
    data: bytes,
    checked: uploads.Checked,
    by: str,
    *,
    submission: ManualSubmission | None = None,
    now: datetime,
) -> WinnerFile:
    stored = uploads.store(data, checked, files_storage())
    record = WinnerFile(
        winner_id=winner.id,
        submission_id=submission.id if submission else None,
        kind=kind,
        path=stored.relative_path,
        sha256=stored.sha256,
        size=stored.size,
        mime_type=checked.mime_type,
        display_name=checked.display_name,
        uploaded_by=by,
        uploaded_at=now,
    )
    db.session.add(record)
    audit.record(
        "winner.file_uploaded",
        record,
        {"kind": kind, "sha256": stored.sha256, "size": stored.size},
        actor=audit.Actor(label=by),
    )
    return record


def staff_upload(
    winner: Winner, data: bytes, name: str, *, actor: Any = None, now: datetime | None = None
) -> WinnerFile:
    """The organizer's director's identity card, uploaded by staff (rule 11)."""
    now, actor = now or utcnow(), audit.as_actor(actor)
    try:
        checked = uploads.check(data, name, max_bytes=FILE_MAX_BYTES)
    except uploads.UploadRefused as refusal:
        raise ActRefused(
            "bad-file", kind=WinnerFile.ORGANIZER_DIRECTOR_ID, refusal=refusal
        ) from None
    return _store_file(winner, WinnerFile.ORGANIZER_DIRECTOR_ID, data, checked, actor.name, now=now)


def files_of(winner: Winner) -> list[WinnerFile]:
    return list(
        db.session.scalars(
            sa.select(WinnerFile).filter_by(winner_id=winner.id).order_by(WinnerFile.id)
        )
    )


def accept_submission(
    submission: ManualSubmission, *, actor: Any = None, now: datetime | None = None
) -> None:
    """Staff accept the hand-signed act: the winner moves to "act signed"."""
    now, actor = now or utcnow(), audit.as_actor(actor)
    winner = submission.act.winner
    if submission.status != ManualSubmission.SUBMITTED:
        raise ActRefused("submission-closed")
    if not any(f.kind == WinnerFile.ORGANIZER_DIRECTOR_ID for f in files_of(winner)):
        raise ActRefused("organizer-card-required")
    submission.status, submission.decided_at, submission.decided_by = (
        ManualSubmission.ACCEPTED,
        now,
        actor.name,
    )
    winner_rules.mark_act_signed(
        winner, actor=actor, details={"act": submission.act.number, "by": "hand"}, now=now
    )


def return_submission(
    submission: ManualSubmission, reason: str, *, actor: Any = None, now: datetime | None = None
) -> None:
    """Staff send the submission back with a reason the winner sees; it may submit again."""
    now, actor = now or utcnow(), audit.as_actor(actor)
    if submission.status != ManualSubmission.SUBMITTED:
        raise ActRefused("submission-closed")
    if not reason.strip():
        raise ActRefused("reason-required")
    submission.status, submission.decided_at, submission.decided_by = (
        ManualSubmission.RETURNED,
        now,
        actor.name,
    )
    submission.return_reason = reason.strip()
    winner_rules.record_event(submission.act.winner, "manual_returned", actor, note=reason, now=now)


def mail_link(winner: Winner, urls: dict[str, str], token: str) -> None:
    """E-mail the winner its private link (``urls``: the page in each language), once per
    link, when its e-mail is known: the text in each language, each saying who sends it
    and how to tell it is genuine (the campaign's own site, never another's)."""
    email = winner.participant.email
    if not email:
        return
    parts = [
        render_message(
            "mail/winner_link.txt",
            lang,
            company=winner.participant.company_name,
            prize=winner.prize.tr("name", lang),
            period=winner.period,
            url=url,
        )
        for lang, url in urls.items()
    ]
    enqueue(
        "winner-link",
        email,
        next(iter(urls)),
        " / ".join(part.subject for part in parts),
        "\n\n---\n\n".join(part.body for part in parts),
        dedupe_key=f"winner-link:{token_digest(token)}",
    )


# Winners' files are kept under this prefix of the storage: ``WinnerFile.path``
# ``ab/ab12….pdf`` is the key ``winners/ab/ab12….pdf``.
FILES_PREFIX = "winners"


def files_storage() -> storage.Storage:
    """Where winners' scans and the organizer's director's card are kept."""
    return storage.within(storage.current(), FILES_PREFIX)


def read_file(record: WinnerFile) -> bytes:
    """The file's bytes, its digest checked (``uploads.StoredFileError`` otherwise)."""
    return uploads.open_stored(files_storage(), record.path, record.sha256)


def remove_files(records: list[WinnerFile]) -> None:
    """Remove the files of records whose transaction failed (never of committed ones)."""
    where = files_storage()
    for record in records:
        uploads.remove_stored(where, record.path)


def notify_manager(
    submission: ManualSubmission,
    *,
    manager_email: str | None,
    default_language: str,
    links: Links,
) -> None:
    """Rule 11: the responsible marketing manager is e-mailed the submission (once).

    ``manager_email`` is the site's ``MARKETING_MANAGER_EMAIL`` (nobody is mailed without
    one), written to in the manager's own language, else in ``default_language``.
    """
    manager = marketing_manager(manager_email, default_language)
    if manager is None:
        return
    to, lang = manager
    act, winner = submission.act, submission.act.winner
    subject, body = documents.manual_signing_mail(
        lang,
        act_number=act.number,
        company=winner.participant.company_name,
        legal_form=winner.participant.legal_form,
        period=winner.period,
        scans=len(submission.files),
        reason=submission.reason,
        url=links.winner_admin(winner.period.campaign.slug, winner.id),
    )
    enqueue("manual-signing", to, lang, subject, body, dedupe_key=f"manual-signing:{submission.id}")
