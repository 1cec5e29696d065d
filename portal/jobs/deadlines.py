"""The deadline notices: each day at 09:00 in Almaty, what ``flask deadlines --notify`` does."""

from __future__ import annotations

import logging

from flask import current_app

from portal.campaign import deadlines
from portal.campaign.audit import Actor
from portal.campaign.periods import local_today
from portal.campaign.staff import marketing_manager
from portal.jobs.schedule import daily_in_almaty
from portal.services import jobs
from portal.web.urls import SiteLinks

log = logging.getLogger(__name__)

NOTICE_HOUR = 9  # 09:00 in Almaty: the working day's start, the day's deadlines ahead


def notify_deadlines() -> int | None:
    """Mail the marketing manager each item due in any published campaign and not mailed
    before; how many were queued (None: no ``MARKETING_MANAGER_EMAIL``, nothing to do)."""
    manager = marketing_manager(
        current_app.config.get("MARKETING_MANAGER_EMAIL"), current_app.config["LANGUAGES"][0]
    )
    if manager is None:
        log.info("deadline notices: no MARKETING_MANAGER_EMAIL, nothing mailed")
        return None
    items = deadlines.pending_every(local_today())
    return deadlines.notify(items, manager, actor=Actor(label="jobs"), links=SiteLinks())


@jobs.periodic_task(daily_in_almaty(NOTICE_HOUR))
def notify_daily() -> None:
    notify_deadlines()
