"""A winner's way from the draw to the published prize (rules 7 to 13, 15 and 17).

drawn -> verified or disqualified -> contacted or no response -> act issued ->
act signed or forfeited -> delivered -> published. ``TRANSITIONS`` below is the one
place that says which step may follow which; every function here moves a winner
only through ``move``, which refuses any other step, writes the winner's history and
the audit trail. A disqualified, silent or forfeiting winner leaves the prize to a
redraw (``portal.campaign.draws.redraw``), which the commission is offered with the
reason filled in. Nothing here commits: the caller does, so a refused step stores
nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from portal.campaign import audit, workdays
from portal.campaign.audit import Actor, as_actor
from portal.campaign.conditions import Condition
from portal.campaign.eligibility import Check, applied, explain
from portal.campaign.periods import local_today
from portal.models import (
    Activity,
    Announcement,
    ContactAttempt,
    Draw,
    DrawWinner,
    Prize,
    ReportingPeriod,
    Winner,
    WinnerCheck,
    WinnerEvent,
    db,
    utcnow,
)
from portal.services import storage, uploads

W = Winner
TRANSITIONS: dict[str, tuple[str, ...]] = {
    W.DRAWN: (W.VERIFIED, W.DISQUALIFIED),
    W.VERIFIED: (W.CONTACTED, W.NO_RESPONSE),
    W.CONTACTED: (W.ACT_ISSUED, W.FORFEITED),
    W.ACT_ISSUED: (W.ACT_SIGNED, W.FORFEITED),
    W.ACT_SIGNED: (W.DELIVERED,),
    W.DELIVERED: (W.PUBLISHED,),
}
STATUSES = (
    W.DRAWN,
    W.VERIFIED,
    W.DISQUALIFIED,
    W.CONTACTED,
    W.NO_RESPONSE,
    W.ACT_ISSUED,
    W.ACT_SIGNED,
    W.FORFEITED,
    W.DELIVERED,
    W.PUBLISHED,
)
# The winner has fallen away: the prize goes to a redraw.
ELIMINATED = (W.DISQUALIFIED, W.NO_RESPONSE, W.FORFEITED)
# Verified and still standing: may be published (rule 7) and gets its private link.
VERIFIED_STANDING = (
    W.VERIFIED,
    W.CONTACTED,
    W.ACT_ISSUED,
    W.ACT_SIGNED,
    W.DELIVERED,
    W.PUBLISHED,
)
FORFEIT_REASONS = ("no-identity-document", "refused-to-sign")  # rule 12
DELIVERY_METHODS = (W.ELECTRONIC, W.OFFICE)  # rule 13; no cash, no other prize (rule 15)


class WinnerRefused(Exception):
    """A step that may not be taken; ``code`` names why, for ``portal.wording.messages``."""

    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


# --- the steps ----------------------------------------------------------------------


def may(winner: Winner, status: str) -> bool:
    """Whether ``winner`` may move to ``status`` now."""
    return status in TRANSITIONS.get(winner.status, ())


def record_event(
    winner: Winner,
    action: str,
    actor: Actor,
    *,
    to_status: str = "",
    note: str = "",
    details: dict | None = None,
    now: datetime | None = None,
) -> WinnerEvent:
    event = WinnerEvent(
        winner=winner,
        at=now or utcnow(),
        actor=actor.name,
        action=action,
        from_status=winner.status if to_status else "",
        to_status=to_status,
        note=note,
        details_json=json.dumps(details or {}, ensure_ascii=False, sort_keys=True, default=str),
    )
    db.session.add(event)
    audit.record(
        f"winner.{action}",
        winner,
        {"from": event.from_status, "to": to_status, **(details or {})},
        actor=actor,
    )
    return event


def move(
    winner: Winner,
    status: str,
    action: str,
    actor: Actor,
    *,
    note: str = "",
    details: dict | None = None,
    now: datetime | None = None,
) -> None:
    if not may(winner, status):
        raise WinnerRefused("not-allowed", status=winner.status, to=status)
    record_event(winner, action, actor, to_status=status, note=note, details=details, now=now)
    winner.status = status


def start(draw: Draw, now: datetime) -> list[Winner]:
    """A ``Winner`` for each participant ``draw`` picked, its deadlines counted from the draw."""
    drawn_on = local_today(now)
    started = []
    for picked in draw.winners:
        winner = Winner(
            draw_winner=picked,
            draw_id=draw.id,
            period_id=draw.period_id,
            prize_id=picked.prize_id,
            participant_id=picked.participant_id,
            status=W.DRAWN,
            drawn_on=drawn_on,
            verification_due=workdays.verification_due(drawn_on),
            contact_due=workdays.contact_due(drawn_on),
            created_at=now,
        )
        db.session.add(winner)
        db.session.flush()
        record_event(winner, "drawn", Actor(label="draw"), details={"draw": draw.id}, now=now)
        started.append(winner)
    return started


def recount_verification_deadlines(changed_day, *, actor: Any = None) -> None:
    """After a calendar change: winners still being checked get rule 8's deadline anew."""
    actor = as_actor(actor)
    for winner in db.session.scalars(sa.select(Winner).filter_by(status=W.DRAWN)):
        due = workdays.verification_due(winner.drawn_on)
        if due != winner.verification_due:
            record_event(
                winner,
                "verification_due",
                actor,
                details={"from": winner.verification_due, "to": due, "calendar": changed_day},
            )
            winner.verification_due = due


def condition_checks(winner: Winner) -> list[Check]:
    """Rule 8: the campaign's conditions again, against the month's stored activity."""
    activity = db.session.scalar(
        sa.select(Activity).filter_by(
            period_id=winner.period_id, participant_id=winner.participant_id
        )
    )
    if activity is None:
        return [Check("activity", False, "no-activity", {})]
    period = winner.period
    return explain(activity, period.campaign, period)


def verify(
    winner: Winner,
    *,
    manual_ok: bool,
    manual_note: str,
    actor: Any = None,
    now: datetime | None = None,
) -> Winner:
    """Record the verification: the campaign's conditions re-checked, and the staff's manual checks.

    A failed condition, or failed manual checks, disqualify the winner with that reason.
    """
    actor, now = as_actor(actor), now or utcnow()
    manual_note = manual_note.strip()
    if not may(winner, W.VERIFIED):
        raise WinnerRefused("not-allowed", status=winner.status, to=W.VERIFIED)
    if not manual_note:
        raise WinnerRefused("note-required")
    checks = condition_checks(winner)
    for check in checks:
        db.session.add(
            WinnerCheck(
                winner=winner,
                condition=check.condition,
                ok=check.ok,
                reason=check.reason,
                evidence_json=json.dumps(check.values, default=str),
                checked_by=actor.name,
                checked_at=now,
            )
        )
    db.session.add(
        WinnerCheck(
            winner=winner,
            condition="manual",
            ok=manual_ok,
            note=manual_note,
            checked_by=actor.name,
            checked_at=now,
        )
    )
    failed = [c for c in checks if not c.ok]
    if failed or not manual_ok:
        winner.outcome = failed[0].condition if failed else "manual"
        winner.outcome_note = manual_note
        move(
            winner,
            W.DISQUALIFIED,
            "disqualified",
            actor,
            note=manual_note,
            details={"condition": winner.outcome},
            now=now,
        )
        return winner
    move(winner, W.VERIFIED, "verified", actor, note=manual_note, now=now)
    if winner.answered_on is not None:  # the winner got in touch while it was checked
        move(
            winner,
            W.CONTACTED,
            "contacted",
            actor,
            details={"answered_on": winner.answered_on},
            now=now,
        )
    return winner


def record_contact(
    winner: Winner,
    *,
    on: date,
    channel: str,
    answered: bool,
    note: str = "",
    actor: Any = None,
    now: datetime | None = None,
) -> ContactAttempt:
    """One attempt to reach the winner; its answer closes the contact step (rule 9)."""
    actor, now = as_actor(actor), now or utcnow()
    if winner.status not in (W.DRAWN, W.VERIFIED) or winner.answered_on is not None:
        raise WinnerRefused("contact-closed", status=winner.status)
    if channel not in ContactAttempt.CHANNELS:
        raise WinnerRefused("bad-channel")
    if on < winner.drawn_on or on > local_today(now):
        raise WinnerRefused("bad-date", start=winner.drawn_on, end=local_today(now))
    if answered and on > winner.contact_due:
        raise WinnerRefused("answer-too-late", deadline=winner.contact_due)
    attempt = ContactAttempt(
        winner=winner,
        on=on,
        channel=channel,
        answered=answered,
        note=note.strip(),
        recorded_by=actor.name,
        recorded_at=now,
    )
    db.session.add(attempt)
    details = {"on": on, "channel": channel, "answered": answered}
    if answered:
        winner.answered_on = on
        if winner.status == W.VERIFIED:
            move(winner, W.CONTACTED, "contacted", actor, note=note, details=details, now=now)
            return attempt
    record_event(winner, "contact_attempt", actor, note=note, details=details, now=now)
    return attempt


def mark_no_response(
    winner: Winner, *, actor: Any = None, note: str = "", now: datetime | None = None
) -> Winner:
    """Rule 9: ten days have passed with no word from the winner."""
    actor, now = as_actor(actor), now or utcnow()
    if winner.status == W.VERIFIED and local_today(now) <= winner.contact_due:
        raise WinnerRefused("contact-not-due", deadline=winner.contact_due)
    winner.outcome, winner.outcome_note = "no-response", note.strip()
    move(
        winner,
        W.NO_RESPONSE,
        "no_response",
        actor,
        note=note,
        details={"deadline": winner.contact_due},
        now=now,
    )
    return winner


def mark_act_issued(
    winner: Winner, *, actor: Any = None, details: dict | None = None, now: datetime | None = None
) -> Winner:
    """The acceptance-transfer act has been issued to the winner (rule 10)."""
    move(winner, W.ACT_ISSUED, "act_issued", as_actor(actor), details=details, now=now)
    return winner


def mark_act_signed(
    winner: Winner, *, actor: Any = None, details: dict | None = None, now: datetime | None = None
) -> Winner:
    """The act has been signed, by EDS or by hand (rules 10 and 11)."""
    move(winner, W.ACT_SIGNED, "act_signed", as_actor(actor), details=details, now=now)
    return winner


def forfeit(
    winner: Winner, reason: str, *, note: str = "", actor: Any = None, now: datetime | None = None
) -> Winner:
    """Rule 12: no identity document, or the act refused: the prize is lost."""
    if reason not in FORFEIT_REASONS:
        raise WinnerRefused("bad-forfeit-reason")
    if not note.strip():
        raise WinnerRefused("note-required")
    winner.outcome, winner.outcome_note = reason, note.strip()
    move(
        winner,
        W.FORFEITED,
        "forfeited",
        as_actor(actor),
        note=note,
        details={"reason": reason},
        now=now,
    )
    return winner


def deliver(
    winner: Winner,
    *,
    method: str,
    on: date,
    office: str = "",
    staff: str = "",
    note: str = "",
    actor: Any = None,
    now: datetime | None = None,
) -> Winner:
    """Rule 13: the certificate handed over, by e-mail or at a B2B sales office."""
    now = now or utcnow()
    if method not in DELIVERY_METHODS:
        raise WinnerRefused("bad-delivery-method")
    if method == W.OFFICE and not (office.strip() and staff.strip()):
        raise WinnerRefused("office-required")
    if on < winner.drawn_on or on > local_today(now):
        raise WinnerRefused("bad-date", start=winner.drawn_on, end=local_today(now))
    if not may(winner, W.DELIVERED):
        raise WinnerRefused("not-allowed", status=winner.status, to=W.DELIVERED)
    winner.delivery_method, winner.delivered_on = method, on
    winner.delivery_office = office.strip() if method == W.OFFICE else ""
    winner.delivery_staff = staff.strip() if method == W.OFFICE else ""
    winner.delivery_note = note.strip()
    move(
        winner,
        W.DELIVERED,
        "delivered",
        as_actor(actor),
        note=note,
        details={"method": method, "on": on, "office": winner.delivery_office},
        now=now,
    )
    return winner


def publish(
    winner: Winner,
    titles: dict[str, str],
    bodies: dict[str, str],
    *,
    actor: Any = None,
    now: datetime | None = None,
) -> Announcement:
    """Rule 7: put a verified winner on the month's page and announce it on the news page.

    ``titles`` and ``bodies`` are the announcement in each language (the caller words
    them, see ``portal.wording.messages.winner_announcement``).
    """
    actor, now = as_actor(actor), now or utcnow()
    if winner.status not in VERIFIED_STANDING:
        raise WinnerRefused("not-verified", status=winner.status)
    if winner.published_at is not None:
        raise WinnerRefused("already-published")
    announcement = Announcement(
        campaign_id=winner.period.campaign_id,
        kind=Announcement.KIND_WINNER,
        title_kk=titles["kk"],
        title_ru=titles["ru"],
        body_kk=bodies["kk"],
        body_ru=bodies["ru"],
        published_at=now,
    )
    db.session.add(announcement)
    db.session.flush()
    winner.published_at, winner.announcement_id = now, announcement.id
    record_event(winner, "published", actor, details={"announcement": announcement.id}, now=now)
    return announcement


def check_photo_allowed(winner: Winner) -> None:
    """Raise ``WinnerRefused`` unless a photo may be added now (delivered and published)."""
    if winner.status not in (W.DELIVERED, W.PUBLISHED):
        raise WinnerRefused("not-delivered", status=winner.status)
    if winner.published_at is None:
        raise WinnerRefused("not-published")


def set_photo(
    winner: Winner,
    stored_path: str,
    sha256: str,
    mime_type: str,
    *,
    actor: Any = None,
    now: datetime | None = None,
) -> Winner:
    """Rules 10 and 17: the photo with the certificate, once delivered; it completes publication.

    A later photo replaces the one shown; the earlier file stays where it is and its
    digest stays in the history.
    """
    actor, now = as_actor(actor), now or utcnow()
    check_photo_allowed(winner)
    details = {"sha256": sha256, "replaces": winner.photo_sha256 or None}
    winner.photo_path, winner.photo_sha256, winner.photo_type = stored_path, sha256, mime_type
    if winner.status == W.DELIVERED:
        move(winner, W.PUBLISHED, "photo_published", actor, details=details, now=now)
    else:
        record_event(winner, "photo_replaced", actor, details=details, now=now)
    return winner


PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_KINDS = ("jpeg", "png")


def add_photo(
    winner: Winner, data: bytes, *, actor: Any = None, now: datetime | None = None
) -> Winner:
    """The photo with the certificate, from the bytes sent: checked by its content, made fit
    for the public site (resized, stripped of metadata), stored, set, and committed.

    Raises ``uploads.UploadRefused`` for a file that is not a photo, ``WinnerRefused``
    for a winner that may not have one yet; either way no file is left behind, nor when
    the database refuses the change.
    """
    photo = uploads.prepare_photo(data, max_bytes=PHOTO_MAX_BYTES)
    checked = uploads.check(photo, "photo", allowed=PHOTO_KINDS)
    check_photo_allowed(winner)  # before writing: a refusal leaves no file
    stored = uploads.store(photo, checked, photo_storage())
    try:
        set_photo(
            winner, stored.relative_path, stored.sha256, checked.mime_type, actor=actor, now=now
        )
        db.session.commit()
    except BaseException:
        uploads.remove_stored(photo_storage(), stored.relative_path)
        raise
    return winner


# --- where a prize stands, for everyone -------------------------------------------------

# A winner's standing as the public reads it, decided here once for the self-check, the
# draw's public record, the month page and the staff's pages
# (``portal.wording.messages.winner_standing`` words it):
STANDINGS = (
    "being-verified",  # drawn, the check against the rules under way (rule 8)
    "verified",  # verified, waiting for the winner to get in touch (rule 9)
    "handing-over",  # in touch: the act and the handing over under way (rules 10-13)
    "delivered",  # the certificate handed over (rule 13), not published yet
    "published",  # on the month's page (rule 7), the certificate handed over or not yet
    "fell-away",  # disqualified, silent or forfeited (rules 8, 9, 12): the prize is drawn again
)


@dataclass(frozen=True)
class Standing:
    """Where a winner's prize stands, with nothing personal and none of the staff's notes:
    what the public pages and the winner's own self-check may say."""

    code: str  # one of STANDINGS
    reason: str = ""  # fell-away: a condition, "manual", "no-response" or rule 12's reason
    redraw_id: int | None = None  # fell-away: the draw that drew the prize again, once held
    delivered_on: date | None = None  # the certificate handed over (rule 13)
    condition: Condition | None = None  # fell-away for a condition: that condition, for its name

    @property
    def standing(self) -> bool:
        """The winner has not fallen away."""
        return self.code != "fell-away"


def public_standing(winner: Winner) -> Standing:
    """Where ``winner``'s prize stands (``STANDINGS``), the one answer every page gives."""
    if winner.status in ELIMINATED:
        failed = next((c for c in applied(winner.period) if c.code == winner.outcome), None)
        return Standing(
            "fell-away",
            reason=winner.outcome,
            redraw_id=redraw_of(winner),
            condition=failed,
        )
    delivered_on = winner.delivered_on if winner.status in (W.DELIVERED, W.PUBLISHED) else None
    if winner.published_at is not None:
        code = "published"
    elif delivered_on is not None:
        code = "delivered"
    elif winner.status in (W.CONTACTED, W.ACT_ISSUED, W.ACT_SIGNED):
        code = "handing-over"
    elif winner.status == W.VERIFIED:
        code = "verified"
    else:
        code = "being-verified"
    return Standing(code, delivered_on=delivered_on)


def standings_of_draw(draw: Draw) -> dict[int, Standing]:
    """Each winner of ``draw`` by its ``DrawWinner`` id, with its standing."""
    return {w.draw_winner_id: public_standing(w) for w in winners_of_draw(draw)}


def winner_in(draw: Draw, participant_id: int) -> Winner | None:
    """The winner ``draw`` made of this participant, if it drew it."""
    return db.session.scalar(
        sa.select(Winner).filter_by(draw_id=draw.id, participant_id=participant_id)
    )


# --- reading ------------------------------------------------------------------------


def winners_of_draw(draw: Draw) -> list[Winner]:
    return list(db.session.scalars(sa.select(Winner).filter_by(draw_id=draw.id).order_by(W.id)))


def winners_of_period(period: ReportingPeriod) -> list[Winner]:
    """Every winner of the month, the earliest draw first."""
    return list(db.session.scalars(sa.select(Winner).filter_by(period_id=period.id).order_by(W.id)))


def standing(period: ReportingPeriod) -> list[Winner]:
    """The month's winners that have not fallen away, in draw order."""
    return [w for w in winners_of_period(period) if w.status not in ELIMINATED]


def published(period: ReportingPeriod) -> list[Winner]:
    """What the public month page shows: published winners that still stand."""
    return [w for w in standing(period) if w.published_at is not None]


def redraw_of(winner: Winner) -> int | None:
    """The draw that drew ``winner``'s prize again, once held (its ``DrawWinner`` names
    the winner it replaces), or None."""
    return db.session.scalar(
        sa.select(DrawWinner.draw_id).where(DrawWinner.replaces_winner_id == winner.draw_winner_id)
    )


def fell_away(picked: DrawWinner) -> bool:
    """Whether the winner ``picked`` has fallen away (rules 8, 9 and 12)."""
    return (
        db.session.scalar(sa.select(Winner.status).where(Winner.draw_winner_id == picked.id))
        in ELIMINATED
    )


def awaiting_redraw(draw: Draw) -> list[Winner]:
    """Rules 8, 9 and 12: the winners of ``draw``'s chain (it and the draws it replaces)
    who fell away and whose prize no draw of the chain has drawn again, in the order a
    redraw gives them numbers: by their prize's position, then as they were drawn."""
    ids, earlier = [draw.id], draw.replaces
    while earlier is not None:
        ids.append(earlier.id)
        earlier = earlier.replaces
    replaced = sa.select(DrawWinner.replaces_winner_id).where(
        DrawWinner.draw_id.in_(ids), DrawWinner.replaces_winner_id.is_not(None)
    )
    return list(
        db.session.scalars(
            sa.select(Winner)
            .join(DrawWinner, DrawWinner.id == Winner.draw_winner_id)
            .join(Prize, Prize.id == Winner.prize_id)
            .where(
                Winner.draw_id.in_(ids),
                Winner.status.in_(ELIMINATED),
                Winner.draw_winner_id.not_in(replaced),
            )
            .order_by(Prize.position, Prize.id, Winner.draw_id, DrawWinner.rank)
        )
    )


def last_of_chain(draw: Draw) -> Draw:
    """The draw that stands for ``draw``'s month: the last redraw of its chain, or it."""
    while draw.replaced_by is not None:
        draw = draw.replaced_by
    return draw


def draw_awaits_redraw(draw: Draw) -> bool:
    """Rules 8, 9 and 12: a prize of ``draw``'s chain is to be drawn again (a winner fell
    away, ``awaiting_redraw``), and no redraw has replaced ``draw`` yet."""
    return draw.replaced_by is None and bool(awaiting_redraw(draw))


def awaits_redraw(winner: Winner) -> bool:
    """Whether ``winner`` fell away and its prize is still to be drawn again."""
    return winner.status in ELIMINATED and redraw_of(winner) is None


# Winners' photos are kept under this prefix of the storage: ``Winner.photo_path``
# ``ab/ab12….jpg`` is the key ``photos/ab/ab12….jpg`` (never under ``static/``).
PHOTO_PREFIX = "photos"


def photo_storage() -> storage.Storage:
    """Where winners' photos are kept."""
    return storage.within(storage.current(), PHOTO_PREFIX)
