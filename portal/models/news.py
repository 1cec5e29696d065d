"""Announcements to participants: rule changes, winners, notices."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import UTCDateTime, db, utcnow
from portal.models.campaign import Campaign
from portal.models.mixins import Bilingual
from portal.models.rules import RulesVersion


class Announcement(Bilingual, db.Model):
    """A public announcement in both languages; a draft until ``published_at`` is set."""

    __tablename__ = "announcement"

    KIND_RULES_CHANGE = "rules_change"
    KIND_NOTICE = "notice"
    KIND_WINNER = "winner"
    KIND_DRAW_POOL = "draw_pool"  # a pool announced before its draw (campaign.draws.announce)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32), default=KIND_NOTICE)
    title_kk: Mapped[str] = mapped_column(sa.String(300))
    title_ru: Mapped[str] = mapped_column(sa.String(300))
    body_kk: Mapped[str] = mapped_column(sa.Text)
    body_ru: Mapped[str] = mapped_column(sa.Text)
    rules_version_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rules_version.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship()
    rules_version: Mapped[RulesVersion | None] = relationship()

    def __repr__(self) -> str:
        return f"<Announcement {self.id} {self.kind}>"
