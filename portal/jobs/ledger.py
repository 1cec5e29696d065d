"""The ledger of random.org answers, every hour: what ``flask draw ledger`` fetches."""

from __future__ import annotations

import logging

from flask import current_app

from portal.campaign import audit, draws, ledger
from portal.jobs.schedule import hourly
from portal.models import db
from portal.services import eds, jobs
from portal.services.randomorg import RandomOrgClient

log = logging.getLogger(__name__)

MINUTE = 17  # past each hour: away from the other jobs' round minutes


def sync_ledger() -> ledger.SyncReport | None:
    """Fetch the key's serials the portal does not hold, and any past the highest held
    (None: no ``RANDOM_ORG_API_KEY``, nothing to fetch)."""
    client = RandomOrgClient.from_config(current_app.config)
    if not client.api_key:
        return None
    report = ledger.sync(client, beyond=True)
    if report.fetched:
        log.warning("random.org serials fetched onto the ledger: %s", report.fetched)
    again = draws.reverify_for_the_ledger(
        audit.Actor(label="ledger"), eds_settings=eds.settings_from_config(current_app.config)
    )
    db.session.commit()
    if again:
        log.warning("draws verified again, the ledger holding their previous answers: %s", again)
    if report.missing or report.error:
        log.warning(
            "random.org serials not given back: %s (%s)", report.missing, report.error or "-"
        )
    return report


@jobs.periodic_task(hourly(MINUTE))
def sync_hourly() -> None:
    sync_ledger()
