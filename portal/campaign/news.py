"""Announcements to participants (rule 16: changes are announced promptly), mailed to subscribers."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from portal.campaign import audit, subscriptions
from portal.campaign.periods import CAMPAIGN_TZ
from portal.models import Announcement, Campaign, RulesVersion, db


def published_announcements(campaign: Campaign, limit: int | None = None) -> list[Announcement]:
    """The campaign's published announcements, newest first."""
    query = (
        sa.select(Announcement)
        .filter_by(campaign_id=campaign.id)
        .where(Announcement.published_at.is_not(None))
        .order_by(Announcement.published_at.desc(), Announcement.id.desc())
    )
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def published_announcement(campaign: Campaign, announcement_id: int) -> Announcement | None:
    """One published announcement of the campaign, or None."""
    return db.session.scalar(
        sa.select(Announcement)
        .filter_by(campaign_id=campaign.id, id=announcement_id)
        .where(Announcement.published_at.is_not(None))
    )


def entry_updated(announcement: Announcement) -> datetime:
    """When a published announcement last changed: never before it was published."""
    return max(announcement.updated_at, announcement.published_at or announcement.updated_at)


def feed_updated(campaign: Campaign, announcements: list[Announcement]) -> datetime:
    """When the feed last changed: its latest entry, or the campaign's creation without one."""
    return max((entry_updated(a) for a in announcements), default=campaign.created_at)


def recent_rules_change(campaign: Campaign, today: date, days: int) -> RulesVersion | None:
    """The version published within the last ``days`` days that replaced an earlier one."""
    since = datetime.combine(today - timedelta(days=days), time.min, tzinfo=CAMPAIGN_TZ)
    return db.session.scalar(
        sa.select(RulesVersion)
        .filter_by(campaign_id=campaign.id, published=True)
        .where(RulesVersion.number > 1, RulesVersion.published_at >= since)
        .order_by(RulesVersion.number.desc())
    )


def rules_change_draft(version: RulesVersion, titles: dict[str, str]) -> Announcement:
    """The announcement of a newly published version, its summary in both languages, to publish."""
    announcement = Announcement(
        campaign_id=version.campaign_id,
        kind=Announcement.KIND_RULES_CHANGE,
        rules_version=version,
        title_kk=titles["kk"],
        title_ru=titles["ru"],
        body_kk=version.summary_kk,
        body_ru=version.summary_ru,
    )
    db.session.add(announcement)
    db.session.flush()
    return announcement


def publish(
    announcement: Announcement,
    *,
    actor: audit.Actor,
    links: subscriptions.MailLinks,
    now: datetime,
) -> int:
    """Publish a draft announcement on the news page and feed, and queue it to every
    subscriber, on the record; how many e-mails were queued (the caller commits)."""
    if announcement.published_at is not None:
        raise ValueError("the announcement is published already")
    announcement.published_at = now
    queued = subscriptions.queue_announcement(announcement, links)
    audit.record(
        "announcement.publish",
        announcement,
        {"kind": announcement.kind, "mails_queued": queued},
        actor=actor,
    )
    return queued
