"""The ledger of random.org answers: every signed answer of the portal's key, on the record.

random.org numbers the signed answers of an API key (``serialNumber``) and keeps each
retrievable by that number (``getResult``). The portal stores every signed answer its
client receives (``asked``), whether the draw it was for was then made, failed or was
refused, and fetches with ``getResult`` every serial of the key it does not hold
(``fetched``), so that the whole run of serials is public (``/<lang>/draws``) and an
answer nobody at the portal asked for shows. ``portal.campaign.ledger`` decides.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import UTCDateTime, db, utcnow


class RandomAnswer(db.Model):
    """One signed random.org answer, kept as received: never changed once stored."""

    __tablename__ = "random_answer"

    ASKED = "asked"  # the portal asked for it and received it
    FETCHED = "fetched"  # found with getResult: not received by the portal as an answer
    HOWS = (ASKED, FETCHED)

    id: Mapped[int] = mapped_column(primary_key=True)
    # base64 of the SHA-512 of the API key, as random.org writes it in ``random``
    hashed_api_key: Mapped[str] = mapped_column(sa.String(100))
    serial_number: Mapped[int]
    completion_time: Mapped[str] = mapped_column(sa.String(40))  # as random.org wrote it
    # the ``random`` object exactly as received and signed (compact JSON, keys in order)
    random_json: Mapped[str] = mapped_column(sa.Text)
    signature: Mapped[str] = mapped_column(sa.Text)  # base64, as received
    user_data_json: Mapped[str | None] = mapped_column("user_data", sa.Text)
    how: Mapped[str] = mapped_column(sa.String(10))
    # what it was used for: the draw's id (the one the attempt reserved; there is no draw
    # when the attempt failed, hence no foreign key) and the attempt
    draw_id: Mapped[int | None]
    attempt_id: Mapped[int | None] = mapped_column(sa.ForeignKey("draw_attempt.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("hashed_api_key", "serial_number"),
        sa.CheckConstraint("how IN ('asked', 'fetched')", name="how_known"),
    )

    @property
    def random(self) -> dict:
        return json.loads(self.random_json)

    @property
    def user_data(self) -> dict | None:
        return json.loads(self.user_data_json) if self.user_data_json else None

    def __repr__(self) -> str:
        return f"<RandomAnswer {self.serial_number} {self.how}>"
