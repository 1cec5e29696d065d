"""Draws: the commission's random choice of a month's winners, and everything that proves it.

A draw is written once, whole, in one transaction, and never changed afterwards: a
redraw is a new draw that names the one it replaces. Its files (the pool file and the
protocols) live beside it in ``draw_file``, so that loading a draw never loads them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.models.base import UTCDateTime, db, utcnow
from portal.models.campaign import Prize, ReportingPeriod
from portal.models.mixins import Bilingual
from portal.models.participants import Participant


@dataclass(frozen=True)
class CommissionMember(Bilingual):
    """A commission member present at a draw: the name as written, the position in each
    language (``tr("position")``)."""

    name: str
    position_kk: str
    position_ru: str

    @classmethod
    def from_json(cls, item: dict[str, str]) -> CommissionMember:
        # a member stored before positions had two languages has ``position`` alone
        single = item.get("position", "")
        return cls(item["name"], item.get("position_kk", single), item.get("position_ru", single))

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "position_kk": self.position_kk, "position_ru": self.position_ru}


class Draw(Bilingual, db.Model):
    """One draw of a period's prizes: its pool, its randomness, its winners.

    One draw a period draws every prize of the period in one signed call (``prize_plan``:
    the prizes in the order the numbers are assigned, with their counts); a redraw draws
    the prizes of the winners who fell away. ``prize_id`` is the one prize of a draw made
    before several prizes a period (issue 19), None since.

    What the commission writes is kept in each language (``tr("place")``, ``tr("reason")``,
    ``tr("late_reason")``, ``tr("fallback_reason")``, each member's ``tr("position")``):
    the public record and the protocol show the reader's own.
    """

    __tablename__ = "draw"

    RANDOM_ORG = "random.org"
    LOCAL = "local"  # the administrator's fallback: Python's ``secrets``

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("reporting_period.id"), index=True)
    prize_id: Mapped[int | None] = mapped_column(sa.ForeignKey("prize.id"))
    # 0 for the month's draw, 1 for the redraw that replaces it, and so on: one draw
    # per place in the chain, which is what refuses a second draw made at the same moment.
    sequence: Mapped[int] = mapped_column(default=0)
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("draw.id"), unique=True)
    # why a redraw was made
    reason_kk: Mapped[str] = mapped_column(sa.Text, default="")
    reason_ru: Mapped[str] = mapped_column(sa.Text, default="")
    late: Mapped[bool] = mapped_column(default=False)
    late_reason_kk: Mapped[str] = mapped_column(sa.Text, default="")
    late_reason_ru: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[str] = mapped_column(sa.String(16), default=RANDOM_ORG)
    fallback_reason_kk: Mapped[str] = mapped_column(sa.Text, default="")
    fallback_reason_ru: Mapped[str] = mapped_column(sa.Text, default="")

    conducted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # when the draw's pool (its size and digest) was published, before the draw
    # (its ``PoolAnnouncement``'s time); None for a draw made before announcements
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    conducted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    conducted_by: Mapped[str] = mapped_column(sa.String(254), default="")
    place_kk: Mapped[str] = mapped_column(sa.String(200), default="")
    place_ru: Mapped[str] = mapped_column(sa.String(200), default="")
    # [{"name", "position_kk", "position_ru"}, ...]
    commission_json: Mapped[str] = mapped_column("commission", sa.Text, default="[]")

    pool_size: Mapped[int]
    pool_sha256: Mapped[str] = mapped_column(sa.String(64))
    # The HMAC key of the entry codes: never published, kept so that a participant can
    # be told its own entry code.
    entry_key: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
    prizes_drawn: Mapped[int] = mapped_column(default=1)
    # [{"prize": id, "position": n, "count": c}, ...]: what the draw's numbers are assigned
    # to, in order (``campaign.draws.prize_plan``); "" for a draw made before issue 19,
    # whose numbers all went to ``prize_id``
    prize_plan_json: Mapped[str] = mapped_column("prize_plan", sa.Text, default="")

    # random.org's answer, byte for byte (empty for a local draw).
    request_json: Mapped[str] = mapped_column(sa.Text, default="")  # the API key blanked out
    response_text: Mapped[str] = mapped_column(sa.Text, default="")
    random_json: Mapped[str] = mapped_column(sa.Text, default="")  # exactly what was signed
    signature: Mapped[str] = mapped_column(sa.Text, default="")
    public_key_pem: Mapped[str] = mapped_column(sa.Text, default="")
    serial_number: Mapped[int | None]
    completion_time: Mapped[str] = mapped_column(sa.String(40), default="")
    numbers_json: Mapped[str] = mapped_column("numbers", sa.Text, default="[]")

    period: Mapped[ReportingPeriod] = relationship()
    prize: Mapped[Prize | None] = relationship()
    replaces: Mapped[Draw | None] = relationship(
        remote_side=[id], foreign_keys=[replaces_id], back_populates="replaced_by"
    )
    replaced_by: Mapped[Draw | None] = relationship(
        back_populates="replaces", foreign_keys=[replaces_id], uselist=False
    )
    winners: Mapped[list[DrawWinner]] = relationship(
        back_populates="draw", order_by="DrawWinner.rank", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("period_id", "sequence"),
        sa.CheckConstraint("pool_size >= 0", name="pool_size_not_negative"),
    )

    @property
    def commission(self) -> list[CommissionMember]:
        return [CommissionMember.from_json(m) for m in json.loads(self.commission_json or "[]")]

    @property
    def numbers(self) -> list[int]:
        return json.loads(self.numbers_json or "[]")

    @property
    def is_local(self) -> bool:
        return self.source == self.LOCAL

    def __repr__(self) -> str:
        return f"<Draw {self.id} {self.source}>"


class DrawEntry(db.Model):
    """A place in a draw's pool: position ``n`` is line ``n`` of its pool file."""

    __tablename__ = "draw_entry"

    draw_id: Mapped[int] = mapped_column(
        sa.ForeignKey("draw.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participant.id"), index=True)


class DrawWinner(db.Model):
    """A participant a draw picked: ``rank`` 1 for its first number, and so on; ``prize_id``
    the prize that number took (docs/DESIGN.md "The draw"), ``replaces_winner_id`` (a
    redraw's) the winner who fell away and whose prize it drew again."""

    __tablename__ = "draw_winner"

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(sa.ForeignKey("draw.id", ondelete="CASCADE"))
    rank: Mapped[int]
    position: Mapped[int]
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participant.id"), index=True)
    prize_id: Mapped[int] = mapped_column(sa.ForeignKey("prize.id"))
    replaces_winner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("draw_winner.id"), unique=True
    )

    draw: Mapped[Draw] = relationship(back_populates="winners")
    participant: Mapped[Participant] = relationship()
    prize: Mapped[Prize] = relationship()

    __table_args__ = (sa.UniqueConstraint("draw_id", "rank"),)


class DrawFile(db.Model):
    """A file of a draw, kept as made: the pool file, the protocol in each language."""

    __tablename__ = "draw_file"

    POOL = "pool.csv"

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(sa.ForeignKey("draw.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(40))  # pool.csv, protocol-kk.pdf, ...
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # last: SQLite keeps the zeroblob a large file is written into unexpanded only in a
    # row's last column (migration 0028)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)

    __table_args__ = (sa.UniqueConstraint("draw_id", "name"),)


class ProtocolSignature(db.Model):
    """A commission member's signature of a draw's protocol (issue 18, part 3).

    Each member signs the protocol in the state language, Kazakh (``protocol-kk.pdf``,
    the original; the Russian one is its translation): ``protocol_file`` names the file
    signed and ``protocol_sha256`` its digest then. ``kind`` is ``eds`` (a CMS verified
    by ``portal.services.eds``, kept as a file of the draw, ``cms_file``, beside the
    protocol) or ``paper`` (the member signed the printed protocol, marked so by staff;
    nothing to check online). One signature a member: a second is refused, and a
    signature, once accepted, is never changed nor removed (part of the draw's record).
    """

    __tablename__ = "protocol_signature"

    EDS, PAPER = "eds", "paper"
    KINDS = (EDS, PAPER)

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(sa.ForeignKey("draw.id", ondelete="CASCADE"))
    protocol_file: Mapped[str] = mapped_column(sa.String(40))  # protocol-kk.pdf
    protocol_sha256: Mapped[str] = mapped_column(sa.String(64))
    member_index: Mapped[int]  # 1 for the first member of ``draw.commission``
    member_name: Mapped[str] = mapped_column(sa.String(300))  # as the commission wrote it
    kind: Mapped[str] = mapped_column(sa.String(10))
    # the CMS as a file of the draw (DER), and its digest as accepted; None on paper
    cms_file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("draw_file.id"))
    cms_sha256: Mapped[str] = mapped_column(sa.String(64), default="")
    signer_name: Mapped[str] = mapped_column(sa.String(300), default="")  # subject CN
    certificate_serial: Mapped[str] = mapped_column(sa.String(80), default="")
    certificate_issuer: Mapped[str] = mapped_column(sa.String(500), default="")
    signing_time: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the signer's word
    proven_time: Mapped[datetime | None] = mapped_column(UTCDateTime())  # timestamp genTime
    # the verifier's report (``eds.Report.as_dict``), and the revocation evidence it used
    report_json: Mapped[str] = mapped_column("report", sa.Text, default="{}")
    revocation_method: Mapped[str] = mapped_column(sa.String(10), default="")
    revocation_der: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    revocation_evidence_json: Mapped[str] = mapped_column(
        "revocation_evidence", sa.Text, default="{}"
    )
    received_via: Mapped[str] = mapped_column(sa.String(20), default="")  # ncalayer, upload, paper
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted_by: Mapped[str] = mapped_column(sa.String(254), default="")

    cms_file: Mapped[DrawFile | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("draw_id", "member_index"),)

    @property
    def report(self) -> dict:
        return json.loads(self.report_json or "{}")

    @property
    def revocation_evidence(self) -> dict:
        return json.loads(self.revocation_evidence_json or "{}")

    def __repr__(self) -> str:
        return f"<ProtocolSignature {self.draw_id}/{self.member_index} {self.kind}>"


class DrawVerdict(db.Model):
    """What a draw's verification came to, kept so that its record is never verified per view.

    A draw is verified once, in the transaction that records it; staff and ``flask draw
    verify`` verify it again on demand and keep the new result here (each time also in the
    audit trail). A draw stored before verdicts were kept gets its own at its first view.
    Not part of the draw's immutable record: only this row is replaced on re-verification.
    """

    __tablename__ = "draw_verdict"

    draw_id: Mapped[int] = mapped_column(
        sa.ForeignKey("draw.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    code: Mapped[str] = mapped_column(sa.String(24))  # one of campaign.draws.VERDICTS
    key_sha256: Mapped[str] = mapped_column(sa.String(64), default="")
    # [{"code", "ok", "detail"}, ...]: each check as it came out
    checks_json: Mapped[str] = mapped_column("checks", sa.Text, default="[]")
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    verified_by: Mapped[str] = mapped_column(sa.String(254), default="")

    def __repr__(self) -> str:
        return f"<DrawVerdict {self.draw_id} {self.code}>"


class KeptPool(db.Model):
    """A pool as the confirmation screen showed it, kept until the draw over it is made.

    ``campaign.draws.show`` builds a pool (its file and who holds each position), shows
    its size and digest and keeps it here under the nonce that travels in the form; the
    confirmation takes it back (``campaign.draws.prepare``) instead of building it again,
    when nothing it was made from has changed since (``inputs``: the month's eligibility
    run and import, or the draw a redraw replaces; ``key_sha256``: the entry key's
    digest) and its file still has the digest it was shown with. Not part of any draw's
    record: dropped once the draw is recorded, or after ``campaign.draws.KEPT_POOL_HOLD``.
    """

    __tablename__ = "kept_pool"

    nonce: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    period_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reporting_period.id", ondelete="CASCADE"), index=True
    )
    # the prize of a pool kept before a draw drew a period's every prize (issue 19)
    prize_id: Mapped[int | None] = mapped_column(sa.ForeignKey("prize.id", ondelete="CASCADE"))
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("draw.id", ondelete="CASCADE"))
    inputs: Mapped[str] = mapped_column(sa.String(200))
    key_sha256: Mapped[str] = mapped_column(sa.String(64))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    kept_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # position n's participant id at bytes 8(n-1)..8n, little-endian signed 64-bit
    participant_ids: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # the pool file, as shown; last, as in ``DrawFile`` (migration 0028)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)

    def __repr__(self) -> str:
        return f"<KeptPool {self.nonce[:8]} {self.size}>"


class DrawAttempt(db.Model):
    """A draw's place in its month's chain, reserved before random.org is asked.

    A draw is made in three steps, so that no transaction waits on the network: the
    attempt is stored ``pending`` with the chain's place it takes and the id the draw
    will have (its number is signed in random.org's ``userData``), and committed;
    random.org is asked outside any transaction; then the draw is recorded whole and the
    attempt marked ``done``, in one transaction. An attempt that fails (random.org's
    error, a bad signature, a refusal found at recording) is marked ``failed`` with its
    reason; one left ``pending`` past ``expires_at`` (its process died) is marked failed
    by the next attempt. Attempts are the staff's: the public sees only the draws.
    At most one attempt a place is pending (a partial unique index).
    """

    __tablename__ = "draw_attempt"

    PENDING, FAILED, DONE = "pending", "failed", "done"
    STATES = (PENDING, FAILED, DONE)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("reporting_period.id"), index=True)
    # the prize of an attempt made before a draw drew a period's every prize (issue 19)
    prize_id: Mapped[int | None] = mapped_column(sa.ForeignKey("prize.id"))
    sequence: Mapped[int]
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("draw.id"))
    # the draw's id if it is made: not a foreign key, as a failed attempt has no draw
    draw_id: Mapped[int] = mapped_column(unique=True)
    state: Mapped[str] = mapped_column(sa.String(16), default=PENDING)
    source: Mapped[str] = mapped_column(sa.String(16), default=Draw.RANDOM_ORG)
    pool_size: Mapped[int]
    pool_sha256: Mapped[str] = mapped_column(sa.String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    started_by: Mapped[str] = mapped_column(sa.String(254), default="")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # why it failed: a random.org error code (``portal.services.randomorg.ERROR_CODES``),
    # a refusal's code, ``expired`` or ``internal``; and what was wrong, for the staff
    failure: Mapped[str] = mapped_column(sa.String(40), default="")
    failure_detail: Mapped[str] = mapped_column(sa.Text, default="")
    # random.org's answer as received, when one came (kept for a failed attempt too)
    response_text: Mapped[str] = mapped_column(sa.Text, default="")

    period: Mapped[ReportingPeriod] = relationship()

    __table_args__ = (
        sa.Index(
            "uq_draw_attempt_pending_place",
            "period_id",
            "sequence",
            unique=True,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        ),
        sa.CheckConstraint("state IN ('pending', 'failed', 'done')", name="state_known"),
    )

    def __repr__(self) -> str:
        return f"<DrawAttempt {self.id} {self.state}>"


class PoolAnnouncement(db.Model):
    """A pool published before it is drawn: its size and SHA-256, with the time.

    The commission's first step (``campaign.draws.announce``): the pool the draw will
    be made over is published at once (the month's pages, the news and the feed), and
    the draw may be confirmed only over that very pool (the same digest, rebuilt from
    ``nonce``, see ``campaign.draws.prepare``) and not before ``not_before``. One
    announcement stands for a draw's place at a time (``announced``); it becomes
    ``drawn`` when its draw is recorded, ``spent`` when an attempt over it received a
    signed random.org answer and failed (the pool must then be announced again, so that
    no two signed answers follow one announcement), ``withdrawn`` when a new pool is
    announced in its stead. Never deleted: the public sees every announcement.
    """

    __tablename__ = "pool_announcement"

    ANNOUNCED, DRAWN, WITHDRAWN, SPENT = "announced", "drawn", "withdrawn", "spent"
    STATES = (ANNOUNCED, DRAWN, WITHDRAWN, SPENT)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("reporting_period.id"), index=True)
    # the prize of a pool announced before a draw drew a period's every prize (issue 19)
    prize_id: Mapped[int | None] = mapped_column(sa.ForeignKey("prize.id"))
    # the draw a redraw's pool replaces; None for the month's draw
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("draw.id"))
    # the pool's nonce: its entry key, so its bytes, are made again from it (never published)
    nonce: Mapped[str] = mapped_column(sa.String(64))
    pool_sha256: Mapped[str] = mapped_column(sa.String(64))
    pool_size: Mapped[int]
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # the draw may be confirmed from this moment (announced_at + the waiting time)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    announced_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    announced_by: Mapped[str] = mapped_column(sa.String(254), default="")
    state: Mapped[str] = mapped_column(sa.String(16), default=ANNOUNCED)
    # the draw made over it (drawn), or the attempt whose answer spent it (spent)
    draw_id: Mapped[int | None] = mapped_column(sa.ForeignKey("draw.id"))
    attempt_id: Mapped[int | None] = mapped_column(sa.ForeignKey("draw_attempt.id"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the news item that published it
    news_id: Mapped[int | None] = mapped_column(sa.ForeignKey("announcement.id"))

    period: Mapped[ReportingPeriod] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "state IN ('announced', 'drawn', 'withdrawn', 'spent')", name="state_known"
        ),
    )

    @property
    def is_open(self) -> bool:
        """It still stands: the draw over its pool may be confirmed (once the wait passed)."""
        return self.state == self.ANNOUNCED

    def __repr__(self) -> str:
        return f"<PoolAnnouncement {self.id} {self.state}>"


class DrawIsImmutable(RuntimeError):
    """A stored draw, or anything of its record, was about to be changed or deleted."""


_RECORD = (Draw, DrawEntry, DrawWinner, DrawFile, ProtocolSignature)


_MADE_NOW = "draw_records_made_in_this_transaction"


@event.listens_for(Session, "before_flush")
def _guard_draw_records(session: Session, flush_context, instances) -> None:
    """Once stored, a draw's record is never edited nor erased (a redraw is a new draw).

    Only what the current transaction itself made may still be completed: the draw is
    written in steps, and committed whole.
    """
    made_now = session.info.setdefault(_MADE_NOW, set())
    for obj in session.dirty:
        if (
            isinstance(obj, _RECORD)
            and obj not in made_now
            and session.is_modified(obj, include_collections=False)
        ):
            raise DrawIsImmutable(f"{obj!r} is part of a stored draw")
    for obj in session.deleted:
        if isinstance(obj, _RECORD):
            raise DrawIsImmutable(f"{obj!r} is part of a stored draw")
    made_now.update(obj for obj in session.new if isinstance(obj, _RECORD))


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _transaction_ended(session: Session) -> None:
    session.info.pop(_MADE_NOW, None)
