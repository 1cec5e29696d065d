"""Versions of a campaign's rules, and their comparisons. A published version is never edited."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.models.base import UTCDateTime, db, utcnow
from portal.models.campaign import Campaign
from portal.models.mixins import Bilingual


class PublishedRulesAreImmutable(Exception):
    """Raised when code tries to change or delete a published rules version."""


class RulesVersion(Bilingual, db.Model):
    """One numbered version of the rules, with its text in Kazakh and Russian."""

    __tablename__ = "rules_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    number: Mapped[int]
    body_kk: Mapped[str] = mapped_column(sa.Text)
    body_ru: Mapped[str] = mapped_column(sa.Text)
    summary_kk: Mapped[str] = mapped_column(sa.Text, default="")
    summary_ru: Mapped[str] = mapped_column(sa.Text, default="")
    effective_on: Mapped[date]
    published: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the version changes in the campaign's set-up (rule 16), applied when it is
    # published: JSON ``{"conditions": {code: {param: value}}, "prizes": [prize, ...]}``
    # (``portal.campaign.setup.apply_version_changes``); None when it changes neither.
    setup_changes: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    campaign: Mapped[Campaign] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "number"),
        sa.CheckConstraint("number > 0", name="number_positive"),
    )

    def __repr__(self) -> str:
        return f"<RulesVersion {self.number}{'' if self.published else ' draft'}>"


class StoredRulesDiff(db.Model):
    """What changed between two published versions in one language, computed once.

    Published versions never change, so neither does their comparison: it is kept as
    the JSON of ``portal.campaign.rules.RulesDiff`` (``diff_format`` says which form of
    it, so that a later form is computed again rather than misread).
    """

    __tablename__ = "rules_diff"

    id: Mapped[int] = mapped_column(primary_key=True)
    older_id: Mapped[int] = mapped_column(sa.ForeignKey("rules_version.id"))
    newer_id: Mapped[int] = mapped_column(sa.ForeignKey("rules_version.id"), index=True)
    language: Mapped[str] = mapped_column(sa.String(2))
    diff_format: Mapped[int]
    diff_json: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("older_id", "newer_id", "language"),)


def _was_published(version: RulesVersion) -> bool:
    history = sa.inspect(version).attrs.published.history
    return True in (history.unchanged or ()) or True in (history.deleted or ())


@event.listens_for(Session, "before_flush")
def _guard_published_rules(session: Session, flush_context, instances) -> None:
    """Refuse any change to, or deletion of, a version that was already published."""
    for obj in session.dirty:
        if isinstance(obj, RulesVersion) and _was_published(obj) and session.is_modified(obj):
            raise PublishedRulesAreImmutable(f"rules version {obj.number} is published")
    for obj in session.deleted:
        if isinstance(obj, RulesVersion) and _was_published(obj):
            raise PublishedRulesAreImmutable(f"rules version {obj.number} is published")
