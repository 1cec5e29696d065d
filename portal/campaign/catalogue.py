"""The campaigns the public site shows, side by side (docs/DESIGN.md, "URL map").

A campaign is on the public site once it is published (``Campaign.status``), under
``/<lang>/<slug>/``; a draft is seen by staff only. The site's list puts the running
campaigns first, then the upcoming ones, then the archive of those that ended, which
stay public for good. The addresses the portal had before campaigns had their own
(``/<lang>/rules``, ``/<lang>/winners``...) belong to the first campaign, the one with
the lowest id, for ever: they are permanent redirects, which browsers and search
engines keep, so they never follow "the campaign of the day".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from portal.campaign.periods import ENDED, RUNNING, UPCOMING, campaign_state, local_today
from portal.models import Campaign, db

# What a campaign's slug may be: the second segment of its public addresses.
SLUG_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
# The second segments the public site uses for itself, and the first segments of the
# staff area's site-wide pages and of its campaign pages' old addresses (``/admin/users``,
# ``/admin/draws``: docs/DESIGN.md, "URL map"): never a campaign's slug.
RESERVED_SLUGS = frozenset(
    {"rules", "winners", "winner", "draws", "news", "check", "subscribe", "unsubscribe"}
    | {"campaigns", "users", "audit", "audit.csv", "mail", "calendar", "login", "logout"}
    | {"language", "participants", "acts", "act-signatures", "winner-files", "submissions"}
    | {"jobs", "outbox", "static"}
)


def slug_allowed(slug: str) -> bool:
    """Whether ``slug`` can name a campaign's addresses: lower-case Latin letters, digits
    and inner hyphens, at most 64, and none of the site's own segments."""
    return bool(SLUG_PATTERN.fullmatch(slug)) and slug not in RESERVED_SLUGS


def published(slug: str) -> Campaign | None:
    """The published campaign with this slug, or None (a draft, or no such campaign)."""
    if not slug_allowed(slug):
        return None
    return db.session.scalar(sa.select(Campaign).filter_by(slug=slug, status=Campaign.PUBLISHED))


def first_campaign() -> Campaign | None:
    """The campaign the addresses without a slug belong to: the one with the lowest id."""
    return db.session.scalar(sa.select(Campaign).order_by(Campaign.id).limit(1))


@dataclass
class Listing:
    """The published campaigns on a day, by where they stand."""

    running: list[Campaign] = field(default_factory=list)
    upcoming: list[Campaign] = field(default_factory=list)
    ended: list[Campaign] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.running or self.upcoming or self.ended)


def listing(today: date | None = None) -> Listing:
    """Running campaigns (latest start first), upcoming ones (soonest first), then the
    archive (latest end first)."""
    today = today or local_today()
    found = Listing()
    campaigns = db.session.scalars(
        sa.select(Campaign).filter_by(status=Campaign.PUBLISHED).order_by(Campaign.id)
    ).all()
    groups = {RUNNING: found.running, UPCOMING: found.upcoming, ENDED: found.ended}
    for campaign in campaigns:
        groups[campaign_state(campaign, today)].append(campaign)
    found.running.sort(key=lambda c: (c.starts_on, c.id), reverse=True)
    found.upcoming.sort(key=lambda c: (c.starts_on, c.id))
    found.ended.sort(key=lambda c: (c.ends_on, c.id), reverse=True)
    return found


def featured(today: date | None = None) -> Campaign | None:
    """The campaign a page that belongs to none links to (the subscription's pages, a
    winner's page): the latest running one, else the next to start, else the latest
    ended; None while nothing is published."""
    shown = listing(today)
    for group in (shown.running, shown.upcoming, shown.ended):
        if group:
            return group[0]
    return None
