"""The portal's models, one module per concept; import them from here."""

from portal.models.base import db, utcnow
from portal.models.campaign import Campaign, Prize, ReportingPeriod
from portal.models.news import Announcement
from portal.models.rules import RulesVersion

__all__ = [
    "Announcement",
    "Campaign",
    "Prize",
    "ReportingPeriod",
    "RulesVersion",
    "db",
    "utcnow",
]
