"""The questions asked before a staff action that publishes, mails, draws, deletes, revokes
or cannot be undone: each names what will happen. The views compute the figures
(subscribers, pool, e-mails waiting) and put the question in the form's ``data-confirm``;
``static/js/forms.js`` asks it."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import ngettext

from portal.wording.formats import format_day


def mailed_to(audience: dict[str, int]) -> str:
    """Who an announcement is e-mailed to: the subscribers, by language."""
    total = sum(audience.values())
    if not total:
        return _("No one is subscribed yet: no e-mail is sent.")
    return ngettext(
        "It will be e-mailed to %(num)d subscriber (in Kazakh: %(kk)d, in Russian: %(ru)d).",
        "It will be e-mailed to %(num)d subscribers (in Kazakh: %(kk)d, in Russian: %(ru)d).",
        total,
        kk=audience.get("kk", 0),
        ru=audience.get("ru", 0),
    )


def publish_announcement(audience: dict[str, int]) -> str:
    return _("Publish this announcement? %(mailing)s", mailing=mailed_to(audience))


def publish_rules(number: int, audience: dict[str, int]) -> str:
    return _(
        "Save and publish version %(number)s as it is on the screen? It cannot be changed afterwards; the change is announced on the news page. %(mailing)s",
        number=number,
        mailing=mailed_to(audience),
    )


def discard_rules(number: int) -> str:
    return _(
        "Discard the draft of version %(number)s? Its text is deleted for good.", number=number
    )


def send_mail(waiting: int) -> str:
    return ngettext(
        "Send what is due now? %(num)d e-mail is waiting in the outbox.",
        "Send what is due now? %(num)d e-mails are waiting in the outbox.",
        waiting,
    )


def conduct_draw(month: str, pool_size: int, local: bool) -> str:
    if local:
        return ngettext(
            "Draw %(month)s now, locally, among %(num)d participant? The record is stored and cannot be undone.",
            "Draw %(month)s now, locally, among %(num)d participants? The record is stored and cannot be undone.",
            pool_size,
            month=month,
        )
    return ngettext(
        "Draw %(month)s now on random.org among %(num)d participant? The record is stored and cannot be undone.",
        "Draw %(month)s now on random.org among %(num)d participants? The record is stored and cannot be undone.",
        pool_size,
        month=month,
    )


def announce_pool(pool_size: int, wait_minutes: int) -> str:
    return ngettext(
        "Publish this pool of %(num)d participant now, on the month's pages, the news and the feed? The draw may be confirmed only over this very pool, %(minutes)s min after.",
        "Publish this pool of %(num)d participants now, on the month's pages, the news and the feed? The draw may be confirmed only over this very pool, %(minutes)s min after.",
        pool_size,
        minutes=wait_minutes,
    )


def redraw(draw_id: int) -> str:
    return _(
        "Draw the prize of draw No. %(id)s again? The new draw is stored and cannot be undone.",
        id=draw_id,
    )


def issue_link(email: str, replaces: bool) -> str:
    if replaces and email:
        return _(
            "Issue a new private link? The current link stops opening, and the new one is e-mailed to %(email)s.",
            email=email,
        )
    if replaces:
        return _("Issue a new private link? The current link stops opening.")
    if email:
        return _("Issue the private link? It is e-mailed to %(email)s.", email=email)
    return ""


def revoke_link() -> str:
    return _("Revoke the winner's private link? It stops opening at once.")


def remove_calendar_day(day: date) -> str:
    return _(
        "Remove the decree of %(date)s from the calendar? The open verification deadlines are counted again.",
        date=format_day(day),
    )


def publish_winner(company: str, month: str) -> str:
    return _(
        "Publish %(company)s on the page of %(month)s and announce it in the news? A publication cannot be withdrawn.",
        company=company,
        month=month,
    )


def publish_photo() -> str:
    return _("Publish this photo on the month's public page?")


def issue_act(correction: bool) -> str:
    if correction:
        return _(
            "Issue a corrected act? It gets a new number; the current act is kept but no longer in force."
        )
    return _("Issue the act? Its number and text are fixed once it is issued.")


def accept_submission() -> str:
    return _("Accept the hand-signed act? The act becomes signed; this cannot be undone.")


def return_submission() -> str:
    return _("Return the submission to the winner? The winner sees the reason on its page.")


def record_verification() -> str:
    return _(
        "Record the verification? If the manual checks failed, the winner is disqualified; this cannot be undone."
    )


def record_no_response() -> str:
    return _(
        "Record that the winner did not respond? The winner falls away; this cannot be undone."
    )


def record_forfeit() -> str:
    return _("Record the forfeit? The winner falls away; this cannot be undone.")


def record_delivery() -> str:
    return _("Record the delivery? It cannot be undone.")


def replace_month() -> str:
    return _("Replace the data this month already has? Its earlier figures are deleted.")
