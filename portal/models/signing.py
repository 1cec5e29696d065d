"""A signing session of eGov Mobile's QR signing ("mobileSign"): one QR code, one document.

The session belongs to one act's exact bytes (their SHA-256, taken when it opens) and to
its winner; or (issue 18, migration 0026) to a draw's Kazakh protocol and one member of
its commission, ``act_sha256`` then holding the protocol's SHA-256 and ``opened_by`` the
staff who showed the QR code. It is used once and expires. Its address key and its one-time bearer token
are derived from ``nonce`` and the site's secret key (``portal.campaign.egov_signing``):
only their SHA-256 are stored, so the table alone opens nothing.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.acts import Act
from portal.models.base import UTCDateTime, db, utcnow
from portal.models.draws import Draw


class SigningSession(db.Model):
    """One QR code: waiting, then signed, refused (with the verifier's codes) or expired."""

    __tablename__ = "signing_session"

    WAITING, SIGNED, REFUSED, EXPIRED = "waiting", "signed", "refused", "expired"
    STATES = (WAITING, SIGNED, REFUSED, EXPIRED)

    id: Mapped[int] = mapped_column(primary_key=True)
    act_id: Mapped[int | None] = mapped_column(sa.ForeignKey("act.id"), index=True)
    winner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("winner.id"), index=True)
    # a protocol's session: the draw and the member (1 for the first of its commission)
    draw_id: Mapped[int | None] = mapped_column(sa.ForeignKey("draw.id"), index=True)
    member_index: Mapped[int | None]
    opened_by: Mapped[str] = mapped_column(sa.String(254), default="", server_default="")
    act_sha256: Mapped[str] = mapped_column(sa.String(64))  # the document's: act or protocol
    nonce: Mapped[str] = mapped_column(sa.String(64))
    key_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    token_sha256: Mapped[str] = mapped_column(sa.String(64))
    provider: Mapped[str] = mapped_column(sa.String(20), default="egov")  # or "sigex"
    # SIGEX's addresses of this QR (dataURL, signURL, launch links), as JSON
    provider_json: Mapped[str] = mapped_column("provider_data", sa.Text, default="{}")
    language: Mapped[str] = mapped_column(sa.String(5), default="kk")
    status: Mapped[str] = mapped_column(sa.String(20), default=WAITING)
    # the verifier's failed checks (refused), as JSON; never the CMS itself
    failures_json: Mapped[str] = mapped_column("failures", sa.Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    document_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    act: Mapped[Act | None] = relationship()
    draw: Mapped[Draw | None] = relationship()

    @property
    def for_protocol(self) -> bool:
        """A commission member's signature of a draw's protocol, not a winner's act."""
        return self.draw_id is not None

    @property
    def provider_data(self) -> dict:
        return json.loads(self.provider_json or "{}")

    @property
    def failures(self) -> list[dict]:
        return json.loads(self.failures_json or "[]")
