"""The winner's private link, acceptance-transfer acts, their signatures and the scans (rules 10-12).

An act's PDF is frozen when issued: its bytes and SHA-256 never change, a correction
is a new act with a new number that names the one it replaces. A signature, EDS or
manual, belongs to one act's exact bytes. Personal data (the director's identity
document, BIN/IIN, scans) lives here and in the upload folder only: never on a public
page, never in a log line.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import UTCDateTime, db, utcnow
from portal.models.winners import Winner


class WinnerLink(db.Model):
    """A private link ``/<lang>/winner/<token>``: only the token's SHA-256 is kept."""

    __tablename__ = "winner_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    winner_id: Mapped[int] = mapped_column(sa.ForeignKey("winner.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(254), default="")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str] = mapped_column(sa.String(254), default="")

    winner: Mapped[Winner] = relationship()


class WinnerIdentity(db.Model):
    """The director (or signatory) and the identity document named in the act (rule 10)."""

    __tablename__ = "winner_identity"

    DOCUMENT_TYPES = ("id_card", "passport")

    id: Mapped[int] = mapped_column(primary_key=True)
    winner_id: Mapped[int] = mapped_column(sa.ForeignKey("winner.id"), unique=True)
    director_name: Mapped[str] = mapped_column(sa.String(200))
    document_type: Mapped[str] = mapped_column(sa.String(20))
    document_number: Mapped[str] = mapped_column(sa.String(40))
    document_issuer: Mapped[str] = mapped_column(sa.String(200))
    document_date: Mapped[date]
    entered_by: Mapped[str] = mapped_column(sa.String(254), default="")  # "winner" or staff
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    winner: Mapped[Winner] = relationship()


class Act(db.Model):
    """One issued act: its number, its frozen PDF, and the act it corrects, if any."""

    __tablename__ = "act"

    id: Mapped[int] = mapped_column(primary_key=True)
    winner_id: Mapped[int] = mapped_column(sa.ForeignKey("winner.id"), index=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    issued_on: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    issued_by: Mapped[str] = mapped_column(sa.String(254), default="")
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("act.id"), unique=True)
    correction_reason: Mapped[str] = mapped_column(sa.Text, default="")
    pdf: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    facts_json: Mapped[str] = mapped_column("facts", sa.Text, default="{}")  # what it says

    winner: Mapped[Winner] = relationship()
    replaces: Mapped[Act | None] = relationship(
        remote_side="Act.id", foreign_keys=[replaces_id], back_populates="replaced_by"
    )
    replaced_by: Mapped[Act | None] = relationship(back_populates="replaces", uselist=False)
    signatures: Mapped[list[ActSignature]] = relationship(
        back_populates="act", order_by="ActSignature.id"
    )
    submissions: Mapped[list[ManualSubmission]] = relationship(
        back_populates="act", order_by="ManualSubmission.id"
    )

    @property
    def facts(self) -> dict:
        return json.loads(self.facts_json or "{}")


class ActSignature(db.Model):
    """An accepted EDS signature of an act: the CMS and what the verification found."""

    __tablename__ = "act_signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    act_id: Mapped[int] = mapped_column(sa.ForeignKey("act.id"), index=True)
    cms: Mapped[bytes] = mapped_column(sa.LargeBinary)
    cms_sha256: Mapped[str] = mapped_column(sa.String(64))
    signer_name: Mapped[str] = mapped_column(sa.String(300), default="")
    signer_iin: Mapped[str] = mapped_column(sa.String(12), default="")
    signer_bin: Mapped[str] = mapped_column(sa.String(12), default="")
    signer_role: Mapped[str] = mapped_column(sa.String(100), default="")
    certificate_serial: Mapped[str] = mapped_column(sa.String(80), default="")
    certificate_issuer: Mapped[str] = mapped_column(sa.String(500), default="")
    signing_time: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the signer's word
    # the genTime of the signature's RFC 3161 timestamp, proven by NCA's time-stamping
    # authority (None: no timestamp; then signing_time is only "stated by the signer")
    proven_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    report_json: Mapped[str] = mapped_column("report", sa.Text, default="{}")
    received_via: Mapped[str] = mapped_column(sa.String(20), default="upload")  # or ncalayer
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # what proved the certificate not revoked at acceptance (migration 0022): "ocsp" (the
    # answer's DER in revocation_der) or "crl" (its facts, JSON), "" when nothing was checked
    revocation_method: Mapped[str] = mapped_column(sa.String(10), default="", server_default="")
    revocation_der: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    revocation_evidence_json: Mapped[str] = mapped_column(
        "revocation_evidence", sa.Text, default="{}", server_default="{}"
    )

    act: Mapped[Act] = relationship(back_populates="signatures")

    @property
    def report(self) -> dict:
        return json.loads(self.report_json or "{}")

    @property
    def revocation_evidence(self) -> dict:
        return json.loads(self.revocation_evidence_json or "{}")


class ManualSubmission(db.Model):
    """Rule 11: a hand-signed act with scans, for a stated reason; staff accept or return it."""

    __tablename__ = "manual_submission"

    SUBMITTED, ACCEPTED, RETURNED = "submitted", "accepted", "returned"

    id: Mapped[int] = mapped_column(primary_key=True)
    act_id: Mapped[int] = mapped_column(sa.ForeignKey("act.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20), default=SUBMITTED)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str] = mapped_column(sa.String(254), default="")
    return_reason: Mapped[str] = mapped_column(sa.Text, default="")

    act: Mapped[Act] = relationship(back_populates="submissions")
    files: Mapped[list[WinnerFile]] = relationship(
        back_populates="submission", order_by="WinnerFile.id"
    )


class WinnerFile(db.Model):
    """An uploaded scan, kept under a random name outside ``static/`` with its SHA-256."""

    __tablename__ = "winner_file"

    SIGNED_ACT = "signed_act"
    DIRECTOR_ID = "director_id"
    POWER_OF_ATTORNEY = "power_of_attorney"
    ORGANIZER_DIRECTOR_ID = "organizer_director_id"
    KINDS = (SIGNED_ACT, DIRECTOR_ID, POWER_OF_ATTORNEY, ORGANIZER_DIRECTOR_ID)

    id: Mapped[int] = mapped_column(primary_key=True)
    winner_id: Mapped[int] = mapped_column(sa.ForeignKey("winner.id"), index=True)
    submission_id: Mapped[int | None] = mapped_column(sa.ForeignKey("manual_submission.id"))
    kind: Mapped[str] = mapped_column(sa.String(30))
    path: Mapped[str] = mapped_column(sa.String(200))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    mime_type: Mapped[str] = mapped_column(sa.String(60))
    display_name: Mapped[str] = mapped_column(sa.String(120), default="")
    uploaded_by: Mapped[str] = mapped_column(sa.String(254), default="")  # "winner" or staff
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    submission: Mapped[ManualSubmission | None] = relationship(back_populates="files")
