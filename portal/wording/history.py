"""The staff's histories in their language: who acted, what was done, with what details.

The audit trail and a winner's history store codes ("participants.view", "cli",
``{"from": "drawn", "to": "verified"}``); the pages say them as a staff member reads
them. The CSV export keeps the codes.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _

from portal.services.eds import Check as EdsCheck
from portal.wording.eds import describe_eds_check
from portal.wording.formats import format_day, format_moment
from portal.wording.messages import (
    contact_channel_name,
    delivery_method_name,
    month_of_key,
    winner_file_name,
    winner_outcome_name,
    winner_status_name,
)

LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский"}


def actor_name(actor: str) -> str:
    """Who acted: a staff member's e-mail as it is, or what acted without an account."""
    names = {
        "cli": _("the command line"),
        "command line": _("the command line"),
        "demo": _("the demo loader"),
        "winner": _("the winner, on its private page"),
        "draw": _("the draw itself"),
        "first-view": _("the site, at the record's first view"),
        "staff": _("staff"),
        "jobs": _("the job worker"),
    }
    return names.get(actor, actor) if actor else "—"


def role_name(role: str) -> str:
    names = {
        "admin": _("Administrator"),
        "marketing": _("Marketing manager"),
        "commission": _("Commission member"),
        "auditor": _("Auditor"),
    }
    return names.get(role, role)


def winner_action_name(action: str) -> str:
    """A step of a winner's history: a move to a status, or something done on the way."""
    names = {
        "drawn": _("Drawn"),
        "verified": _("Verified"),
        "disqualified": _("Disqualified"),
        "contacted": _("In touch"),
        "no_response": _("Marked as not responding within 10 days"),
        "act_issued": _("Act issued"),
        "act_signed": _("Act signed"),
        "forfeited": _("Prize forfeited"),
        "delivered": _("Prize delivered"),
        "photo_published": _("Photo with the certificate published"),
        "published": _("Published on the month's page and in the news"),
        "contact_attempt": _("Contact attempt"),
        "link_issued": _("Private link issued"),
        "link_revoked": _("Private link revoked"),
        "identity_entered": _("Identity document entered"),
        "act_corrected": _("Corrected act issued"),
        "manual_submitted": _("Act sent signed by hand"),
        "manual_returned": _("Manual signing returned to the winner"),
        "photo_replaced": _("Photo replaced"),
        "photo_refused": _("Photo not published: the job worker refused it"),
        "verification_due": _("Verification deadline recounted"),
    }
    return names.get(action, action)


def audit_action_name(action: str) -> str:
    """An audit trail entry's action, as staff say it."""
    if action.startswith("winner.") and action != "winner.file_uploaded":
        return _("Winner: %(step)s", step=winner_action_name(action.removeprefix("winner.")))
    names = {
        "auth.sign_in": _("Signed in"),
        "auth.sign_in_failed": _("Sign-in failed"),
        "auth.refused_locked": _("Sign-in refused: locked"),
        "auth.locked_out": _("Sign-in locked after repeated failures"),
        "auth.refused_slowed": _("Sign-in refused: the account is slowed down"),
        "auth.slowed_down": _("Account slowed down after failures from several addresses"),
        "auth.sign_out": _("Signed out"),
        "account.create": _("Staff account created"),
        "account.update": _("Staff account changed"),
        "account.language": _("Interface language changed"),
        "audit.export": _("Audit trail exported"),
        "audit.verify": _("Audit chain checked"),
        "rules.draft_start": _("Rules draft started"),
        "rules.draft_save": _("Rules draft saved"),
        "rules.draft_discard": _("Rules draft discarded"),
        "rules.publish": _("Rules version published"),
        "announcement.draft_save": _("Announcement draft saved"),
        "announcement.publish": _("Announcement published"),
        "mail.run": _("Outbox sent"),
        "deadlines.notify": _("Deadline notices queued"),
        "participants.import_started": _("Import started"),
        "participants.import": _("Import finished"),
        "participants.import_interrupted": _("Import interrupted"),
        "participants.eligibility": _("Eligibility computed"),
        "participants.view": _("Participant's card opened"),
        "participants.export": _("Eligible pool exported"),
        "draw.conduct": _("Draw conducted"),
        "draw.redraw": _("Redraw conducted"),
        "draw.attempt_failed": _("Draw attempt failed"),
        "draw.attempt_expired": _("Draw reservation lapsed"),
        "draw.verify": _("Draw verified again"),
        "draw.protocol_signed": _("Protocol signed by a commission member"),
        "draw.announce": _("Draw's pool announced"),
        "act.download": _("Act downloaded"),
        "act.eds_attempt": _("EDS signature checked"),
        "winner.file_uploaded": _("Winner's file uploaded"),
        "calendar.add": _("Day added to the working-day calendar"),
        "calendar.remove": _("Day removed from the working-day calendar"),
        "campaign.create": _("Campaign draft created"),
        "campaign.update": _("Campaign's data changed"),
        "campaign.prizes": _("Campaign's prizes set"),
        "campaign.conditions": _("Campaign's eligibility conditions set"),
        "campaign.rules": _("Campaign's rules version 1 saved"),
        "campaign.copy": _("Campaign copied"),
        "campaign.publish": _("Campaign published"),
        "rules.setup_changes": _("Rules draft's changes to conditions and prizes saved"),
        "conditions.parameters": _("Eligibility conditions' parameters changed"),
    }
    return names.get(action, action)


def audit_object_name(object_type: str, object_id: str) -> str:
    """What an entry is about: "staff account No. 1", not "StaffUser 1"."""
    if not object_type:
        return "—"
    names = {
        "StaffUser": _("staff account No. %(id)s"),
        "Campaign": _("campaign No. %(id)s"),
        "Draw": _("draw No. %(id)s"),
        "DrawAttempt": _("draw attempt No. %(id)s"),
        "PoolAnnouncement": _("pool announcement No. %(id)s"),
        "Winner": _("winner No. %(id)s"),
        "Act": _("act No. %(id)s"),
        "Announcement": _("announcement No. %(id)s"),
        "RulesVersion": _("rules version record No. %(id)s"),
        "ImportBatch": _("import No. %(id)s"),
        "EligibilityRun": _("eligibility computation No. %(id)s"),
        "Participant": _("participant No. %(id)s"),
        "ReportingPeriod": _("reporting month No. %(id)s"),
        "CalendarDay": _("calendar entry No. %(id)s"),
        "WinnerFile": _("winner's file No. %(id)s"),
        "outbox": _("outbox"),
    }
    name = names.get(object_type)
    if name is None:
        return f"{object_type} {object_id}".strip()
    return name % {"id": object_id} if "%(id)s" in name else name


def _detail_label(key: str) -> str:
    labels = {
        "email": _("E-mail"),
        "password": _("Password"),
        "sessions_ended": _("Sessions ended"),
        "role": _("Role"),
        "active": _("Active"),
        "language": _("Language"),
        "until": _("Until"),
        "number": _("Version"),
        "effective_on": _("Effective from"),
        "title_ru": _("Title"),
        "kind": _("Kind"),
        "mails_queued": _("E-mails queued"),
        "sent": _("Sent"),
        "retry": _("To retry"),
        "failed": _("Failed"),
        "queued": _("Queued"),
        "checked": _("Entries checked"),
        "broken_at": _("Broken at entry"),
        "period": _("Month"),
        "file": _("File"),
        "sha256": _("SHA-256"),
        "rows": _("Rows"),
        "status": _("Outcome"),
        "problems": _("Problems"),
        "replace": _("Replaces the month's data"),
        "participants": _("Participants"),
        "eligible": _("Eligible"),
        "account": _("Account"),
        "source": _("Randomness"),
        "pool_size": _("Pool size"),
        "pool_sha256": _("Pool digest"),
        "numbers": _("Numbers drawn"),
        "serial_number": _("random.org serial number"),
        "replaces": _("Replaces"),
        "late": _("Late"),
        "act": _("Act"),
        "by": _("Who"),
        "ok": _("Outcome"),
        "codes": _("What failed"),
        "via": _("How"),
        "serial": _("Certificate serial number"),
        "size": _("Size, bytes"),
        "day": _("Day"),
        "working": _("Working day"),
        "note": _("Note"),
        "from": _("From"),
        "to": _("To"),
        "draw": _("Draw"),
        "failure": _("Why it failed"),
        "not_before": _("May be drawn from"),
        "withdrawn": _("Announcement withdrawn"),
        "announcement_spent": _("Announcement spent"),
        "started_by": _("Started by"),
        "condition": _("Reason"),
        "reason": _("Reason"),
        "answered_on": _("Answered on"),
        "on": _("Date"),
        "channel": _("Channel"),
        "answered": _("The winner answered"),
        "deadline": _("Deadline"),
        "method": _("Method"),
        "office": _("Office"),
        "announcement": _("Announcement"),
        "expires": _("Valid until"),
        "files": _("Files"),
        "calendar": _("Calendar changed for"),
        "action": _("Action"),
        "actor": _("Who"),
        "date_from": _("From"),
        "date_to": _("To"),
        "photo": _("Photo"),
        "cause": _("Cause"),
        "member": _("Commission member"),
        "member_index": _("Place in the commission"),
        "protocol": _("Protocol"),
    }
    return labels.get(key, key)


ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")
ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
PERIOD_KEY = re.compile(r"\d{4}-\d\d")


def _value(key: str, value: Any) -> str:
    """A detail's value as staff read it: dates, months, yes/no, codes named."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        if key == "ok":
            return _("passed") if value else _("failed")
        return _("yes") if value else _("no")
    if isinstance(value, list):
        if key == "codes":
            return "; ".join(describe_eds_check(EdsCheck(name=c, ok=False, code=c)) for c in value)
        if key == "files":
            return ", ".join(winner_file_name(v) for v in value)
        return ", ".join(_value(key, v) for v in value)
    if isinstance(value, datetime):
        return format_moment(value)
    if isinstance(value, date):
        return format_day(value)
    if key == "not_before" and isinstance(value, str):  # an ISO moment, as recorded
        try:
            return format_moment(datetime.fromisoformat(value))
        except ValueError:
            return value
    text = str(value)
    if key == "protocol" and text.startswith("protocol-"):  # protocol-kk.pdf
        return _("the protocol in Kazakh") if "-kk" in text else _("the protocol in Russian")
    coded = {
        "role": role_name,
        "language": lambda v: LANGUAGE_NAMES.get(v, v),
        "channel": contact_channel_name,
        "method": delivery_method_name,
        "condition": winner_outcome_name,
        "reason": winner_outcome_name,
        "kind": _kind_name,
        "source": _source_name,
        "status": _status_name,
        "by": _by_name,
        "via": _via_name,
        "password": lambda v: _("changed"),
        "cause": _cause_name,
    }
    if key in ("from", "to") and not ISO_DATE.match(text):
        return winner_status_name(text)
    if key in coded:
        return coded[key](text)
    if ISO_MOMENT.match(text):
        return format_moment(datetime.fromisoformat(text))
    if ISO_DATE.fullmatch(text):
        return format_day(date.fromisoformat(text))
    if key == "period" and PERIOD_KEY.fullmatch(text):
        return month_of_key(text)
    return text


def _kind_name(kind: str) -> str:
    names = {
        "rules_change": _("rules change"),
        "notice": _("notice"),
        "winner": _("winner's publication"),
        "paper": _("on paper"),
        "eds": _("with an EDS"),
    }
    return names.get(kind) or winner_file_name(kind)


def _source_name(source: str) -> str:
    return _("local fallback (Python's secrets)") if source == "local" else source


def _status_name(status: str) -> str:
    names = {
        "pending": _("waiting"),
        "running": _("running"),
        "done": _("imported"),
        "failed": _("refused"),
        "replaced": _("replaced"),
    }
    return names.get(status) or winner_status_name(status)


def _cause_name(cause: str) -> str:
    names = {
        "interrupted": _("interrupted: the worker stopped"),
        "unreadable": _("the file could not be read as a photo"),
        "step": _("the winner's step no longer allows a photo"),
    }
    return names.get(cause, cause)


def _by_name(by: str) -> str:
    names = {"eds": _("with an EDS"), "hand": _("by hand")}
    return names.get(by) or actor_name(by)


def _via_name(via: str) -> str:
    names = {
        "ncalayer": "NCALayer",
        "egov-qr": "eGov Mobile (QR)",
        "file": _("a signature file"),
        "upload": _("a signature file"),
        "paper": _("on paper"),
        "command line": _("the command line"),
    }
    return names.get(via, via)


def describe_details(details: dict[str, Any] | str | None) -> str:
    """An entry's details as "label: value; …" in the reader's language."""
    if isinstance(details, str):
        details = json.loads(details or "{}")
    details = dict(details or {})
    parts = []
    moved_from, moved_to = details.pop("from", None), details.pop("to", None)
    if moved_from or moved_to:  # a step ("drawn" → "verified") or a deadline moved
        dates = ISO_DATE.fullmatch(str(moved_from or moved_to))
        label = _("Deadline") if dates else _("Step")
        parts.append(f"{label}: {_value('from', moved_from)} → {_value('to', moved_to)}")
    for key, value in details.items():
        if key in _NUMBERED and value:
            parts.append(f"{_detail_label(key)}: № {value}")
        elif isinstance(value, list) and len(value) == 2 and key in _CHANGED:
            before, after = (_value(key, v) for v in value)  # an account's change: [before, after]
            parts.append(f"{_detail_label(key)}: {before} → {after}")
        else:
            parts.append(f"{_detail_label(key)}: {_value(key, value)}")
    return "; ".join(parts)


_CHANGED = ("email", "role", "active", "language")
_NUMBERED = ("draw", "replaces", "announcement", "broken_at", "withdrawn", "announcement_spent")


def winner_event_text(event) -> str:
    """A line of a winner's history: the step taken or the thing done."""
    if event.to_status:
        return winner_status_name(event.to_status)
    return winner_action_name(event.action)


def winner_event_details(event) -> str:
    """What a winner's history entry recorded besides its step, readably."""
    details = json.loads(event.details_json or "{}")
    return describe_details(details)


def holiday_name(day_off) -> str:
    """A day off of Kazakhstan's calendar (``portal.campaign.workdays.DayOff``) as the reader
    says it: the holiday, or the Saturday a day off was moved from."""
    if day_off.moved_from is not None:
        return _("Day off moved from %(date)s", date=format_day(day_off.moved_from))
    if not day_off.holiday:
        return ""
    names = {
        "New Year's Day": _("New Year's Day"),
        "Orthodox Christmas": _("Orthodox Christmas"),
        "International Women's Day": _("International Women's Day"),
        "Nowruz Holiday": _("Nowruz Holiday"),
        "Kazakhstan's People Solidarity Holiday": _("Kazakhstan's People Solidarity Holiday"),
        "Defender of the Fatherland Day": _("Defender of the Fatherland Day"),
        "Victory Day": _("Victory Day"),
        "Capital Day": _("Capital Day"),
        "Eid al-Adha": _("Eid al-Adha"),
        "Constitution Day": _("Constitution Day"),
        "Republic Day": _("Republic Day"),
        "Independence Day": _("Independence Day"),
    }
    name = names.get(day_off.holiday, day_off.holiday)
    if day_off.observed:
        return _("%(holiday)s, moved from the weekend", holiday=name)
    return name
