"""Small helpers shared by the staff area's views."""

from __future__ import annotations

from flask import abort

from portal.campaign.periods import current_campaign
from portal.models import Campaign


def the_campaign() -> Campaign:
    """The campaign the staff area works on, or a 404 when there is none yet."""
    campaign = current_campaign()
    if campaign is None:
        abort(404)
    return campaign
