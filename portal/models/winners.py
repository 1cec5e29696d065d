"""What happens to a winner after the draw (rules 7 to 13 and 17), and the working-day calendar.

A ``Winner`` is one participant a draw picked, with the step it has reached and the
deadlines that run from its draw; every step it takes is a ``WinnerEvent``, so the
whole history stays even after a redraw. Which step may follow which is decided in
``portal.campaign.winners``, not here.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import UTCDateTime, db, utcnow
from portal.models.campaign import Prize, ReportingPeriod
from portal.models.draws import Draw, DrawWinner
from portal.models.participants import Participant


class Winner(db.Model):
    """A participant drawn for a prize, and how far it has come towards receiving it."""

    __tablename__ = "winner"

    DRAWN = "drawn"
    VERIFIED = "verified"
    DISQUALIFIED = "disqualified"
    CONTACTED = "contacted"
    NO_RESPONSE = "no_response"
    ACT_ISSUED = "act_issued"
    ACT_SIGNED = "act_signed"
    FORFEITED = "forfeited"
    DELIVERED = "delivered"
    PUBLISHED = "published"

    ELECTRONIC, OFFICE = "electronic", "office"

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_winner_id: Mapped[int] = mapped_column(sa.ForeignKey("draw_winner.id"), unique=True)
    draw_id: Mapped[int] = mapped_column(sa.ForeignKey("draw.id"), index=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("reporting_period.id"), index=True)
    prize_id: Mapped[int] = mapped_column(sa.ForeignKey("prize.id"))
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participant.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default=DRAWN, index=True)
    drawn_on: Mapped[date]  # the draw's date in Kazakhstan
    verification_due: Mapped[date]  # rule 8: two working days after the draw
    contact_due: Mapped[date]  # rule 9: ten days after the draw
    # why the winner fell away: a condition or "manual" (disqualified), "no-response",
    # "no-identity-document" or "refused-to-sign" (forfeited); with the staff's note
    outcome: Mapped[str] = mapped_column(sa.String(40), default="")
    outcome_note: Mapped[str] = mapped_column(sa.Text, default="")
    answered_on: Mapped[date | None]  # the day the winner got in touch
    delivery_method: Mapped[str] = mapped_column(sa.String(20), default="")
    delivered_on: Mapped[date | None]
    delivery_office: Mapped[str] = mapped_column(sa.String(200), default="")
    delivery_staff: Mapped[str] = mapped_column(sa.String(200), default="")
    delivery_note: Mapped[str] = mapped_column(sa.Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    announcement_id: Mapped[int | None] = mapped_column(sa.ForeignKey("announcement.id"))
    photo_path: Mapped[str] = mapped_column(sa.String(200), default="")
    photo_sha256: Mapped[str] = mapped_column(sa.String(64), default="")
    photo_type: Mapped[str] = mapped_column(sa.String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    draw: Mapped[Draw] = relationship()
    draw_winner: Mapped[DrawWinner] = relationship()
    period: Mapped[ReportingPeriod] = relationship()
    prize: Mapped[Prize] = relationship()
    participant: Mapped[Participant] = relationship()
    events: Mapped[list[WinnerEvent]] = relationship(
        back_populates="winner", order_by="WinnerEvent.id", cascade="all, delete-orphan"
    )
    checks: Mapped[list[WinnerCheck]] = relationship(
        back_populates="winner", order_by="WinnerCheck.id", cascade="all, delete-orphan"
    )
    contacts: Mapped[list[ContactAttempt]] = relationship(
        back_populates="winner", order_by="ContactAttempt.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Winner {self.id} {self.status}>"


class WinnerEvent(db.Model):
    """One step of a winner's history: from which status to which, who, when, why."""

    __tablename__ = "winner_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    winner_id: Mapped[int] = mapped_column(sa.ForeignKey("winner.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(254), default="")
    action: Mapped[str] = mapped_column(sa.String(40))
    from_status: Mapped[str] = mapped_column(sa.String(20), default="")
    to_status: Mapped[str] = mapped_column(sa.String(20), default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    details_json: Mapped[str] = mapped_column("details", sa.Text, default="{}")

    winner: Mapped[Winner] = relationship(back_populates="events")

    @property
    def details(self) -> dict:
        return json.loads(self.details_json or "{}")


class WinnerCheck(db.Model):
    """One line of a winner's verification: a rule's condition re-checked, or a manual check."""

    __tablename__ = "winner_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    winner_id: Mapped[int] = mapped_column(sa.ForeignKey("winner.id"), index=True)
    condition: Mapped[str] = mapped_column(sa.String(40))  # app, ekassa, ..., or "manual"
    ok: Mapped[bool]
    reason: Mapped[str] = mapped_column(sa.String(40), default="")  # the evidence's code
    evidence_json: Mapped[str] = mapped_column("evidence", sa.Text, default="{}")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    checked_by: Mapped[str] = mapped_column(sa.String(254), default="")
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    winner: Mapped[Winner] = relationship(back_populates="checks")

    @property
    def evidence(self) -> dict:
        return json.loads(self.evidence_json or "{}")


class ContactAttempt(db.Model):
    """An attempt to reach a winner (rule 9): when, how, what came of it."""

    __tablename__ = "contact_attempt"

    CHANNELS = ("phone", "email", "sms", "messenger", "office")

    id: Mapped[int] = mapped_column(primary_key=True)
    winner_id: Mapped[int] = mapped_column(sa.ForeignKey("winner.id"), index=True)
    on: Mapped[date]
    channel: Mapped[str] = mapped_column(sa.String(20))
    answered: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by: Mapped[str] = mapped_column(sa.String(254), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    winner: Mapped[Winner] = relationship(back_populates="contacts")


class CalendarDay(db.Model):
    """A government decree the ``holidays`` package lacks: a day made off, or made working."""

    __tablename__ = "calendar_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    working: Mapped[bool]
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    created_by: Mapped[str] = mapped_column(sa.String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
