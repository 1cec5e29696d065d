"""The portal's models, one module per concept; import them from here."""

from portal.models.acts import (
    Act,
    ActSignature,
    ManualSubmission,
    WinnerFile,
    WinnerIdentity,
    WinnerLink,
)
from portal.models.audit import AuditEntry
from portal.models.base import db, utcnow
from portal.models.campaign import Campaign, CampaignCondition, Prize, ReportingPeriod
from portal.models.content import ContentState
from portal.models.draws import (
    CommissionMember,
    Draw,
    DrawAttempt,
    DrawEntry,
    DrawFile,
    DrawIsImmutable,
    DrawVerdict,
    DrawWinner,
    KeptPool,
    PoolAnnouncement,
    ProtocolSignature,
)
from portal.models.ledger import RandomAnswer
from portal.models.mail import OutboxMessage, RateLimitHit, Subscriber
from portal.models.news import Announcement
from portal.models.participants import Activity, EligibilityRun, ImportBatch, ImportRow, Participant
from portal.models.rules import RulesVersion, StoredRulesDiff
from portal.models.signing import SigningSession
from portal.models.staff import ROLES, LoginAttempt, StaffSession, StaffUser
from portal.models.winners import CalendarDay, ContactAttempt, Winner, WinnerCheck, WinnerEvent

__all__ = [
    "ROLES",
    "Act",
    "ActSignature",
    "Activity",
    "Announcement",
    "AuditEntry",
    "CalendarDay",
    "Campaign",
    "CampaignCondition",
    "CommissionMember",
    "ContactAttempt",
    "ContentState",
    "Draw",
    "DrawAttempt",
    "DrawEntry",
    "DrawFile",
    "DrawIsImmutable",
    "DrawVerdict",
    "DrawWinner",
    "EligibilityRun",
    "ImportBatch",
    "ImportRow",
    "KeptPool",
    "LoginAttempt",
    "ManualSubmission",
    "OutboxMessage",
    "Participant",
    "PoolAnnouncement",
    "Prize",
    "ProtocolSignature",
    "RandomAnswer",
    "RateLimitHit",
    "ReportingPeriod",
    "RulesVersion",
    "SigningSession",
    "StaffSession",
    "StaffUser",
    "StoredRulesDiff",
    "Subscriber",
    "Winner",
    "WinnerCheck",
    "WinnerEvent",
    "WinnerFile",
    "WinnerIdentity",
    "WinnerLink",
    "db",
    "utcnow",
]
