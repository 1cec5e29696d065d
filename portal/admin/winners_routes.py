"""Winners after the draw: verification, contact, forfeit, delivery, publication; the calendar."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin import bp
from portal.admin.forms import CalendarDayForm, ConfirmForm
from portal.admin.helpers import campaign_page, the_campaign
from portal.admin.winner_page import page_forms, winner_page
from portal.campaign import audit, workdays
from portal.campaign import winners as winner_rules
from portal.campaign.periods import local_today
from portal.campaign.staff import EVERY_ROLE, MARKETING, PERSONAL_DATA, READ_MARKETING
from portal.jobs import photos as photo_jobs
from portal.models import CalendarDay, Winner, db
from portal.services import uploads
from portal.web.access import current_actor, roles_required
from portal.web.downloads import photo_response
from portal.web.urls import SiteLinks
from portal.wording import confirmations
from portal.wording.messages import (
    describe_winner_refusal,
    winner_announcement,
    winner_outcome,
)
from portal.wording.uploads import describe_upload_refusal


def _winner(winner_id: int) -> Winner:
    return db.session.get(Winner, winner_id) or abort(404)


@campaign_page("/winners")
@roles_required(*EVERY_ROLE)
def winners():
    """Every winner of the campaign by month, with its step and its next deadline."""
    campaign = the_campaign()
    months = [(p, winner_rules.winners_of_period(p)) for p in campaign.periods]
    standings = {w.id: winner_rules.public_standing(w) for _, items in months for w in items}
    return render_template(
        "admin/winners.html", months=months, standings=standings, today=local_today()
    )


@campaign_page("/winners/<id:winner_id>")
@roles_required(*PERSONAL_DATA)
def winner(winner_id: int):
    """One winner: where it stands, what is due, its whole history, and the next steps."""
    record = _winner(winner_id)
    return winner_page(record, page_forms(record))


class FieldRefused(Exception):
    """A step refused because of what one field holds: shown next to that field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _step(winner_id: int, form_name: str, act):
    """Validate the step's form, take the step, commit; or show why not, storing nothing
    and keeping what the form was given."""
    record = _winner(winner_id)
    forms = page_forms(record, form_name)
    form = forms[form_name]
    if not form.validate_on_submit():
        return winner_page(record, forms, 400)
    try:
        message = act(record, form)
    except FieldRefused as refusal:
        db.session.rollback()
        form[refusal.field].errors.append(refusal.message)
        return winner_page(_winner(winner_id), forms, 400)
    except winner_rules.WinnerRefused as refusal:
        db.session.rollback()
        flash(describe_winner_refusal(refusal), "error")
        return winner_page(_winner(winner_id), forms, 400)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("admin.winner", winner_id=winner_id))


@campaign_page("/winners/<id:winner_id>/verify", methods=("POST",))
@roles_required(*MARKETING)
def winner_verify(winner_id: int):
    def act(record, form):
        winner_rules.verify(
            record,
            manual_ok=form.manual_ok.data == "yes",
            manual_note=form.manual_note.data,
            actor=current_actor(),
        )
        if record.status == Winner.DISQUALIFIED:
            return _(
                "The winner is disqualified: %(reason)s. The commission is offered a redraw.",
                reason=winner_outcome(record),
            )
        return _("The winner is verified.")

    return _step(winner_id, "verify_form", act)


@campaign_page("/winners/<id:winner_id>/contact", methods=("POST",))
@roles_required(*MARKETING)
def winner_contact(winner_id: int):
    def act(record, form):
        winner_rules.record_contact(
            record,
            on=form.on.data,
            channel=form.channel.data,
            answered=form.answered.data,
            note=form.note.data or "",
            actor=current_actor(),
        )
        return _("The contact attempt is recorded.")

    return _step(winner_id, "contact_form", act)


@campaign_page("/winners/<id:winner_id>/no-response", methods=("POST",))
@roles_required(*MARKETING)
def winner_no_response(winner_id: int):
    def act(record, form):
        winner_rules.mark_no_response(record, note=form.note.data or "", actor=current_actor())
        return _("The winner did not get in touch in time. The commission is offered a redraw.")

    return _step(winner_id, "no_response_form", act)


@campaign_page("/winners/<id:winner_id>/forfeit", methods=("POST",))
@roles_required(*MARKETING)
def winner_forfeit(winner_id: int):
    def act(record, form):
        winner_rules.forfeit(record, form.reason.data, note=form.note.data, actor=current_actor())
        return _("The forfeit is recorded. The commission is offered a redraw.")

    return _step(winner_id, "forfeit_form", act)


@campaign_page("/winners/<id:winner_id>/deliver", methods=("POST",))
@roles_required(*MARKETING)
def winner_deliver(winner_id: int):
    def act(record, form):
        winner_rules.deliver(
            record,
            method=form.method.data,
            on=form.on.data,
            office=form.office.data or "",
            staff=form.staff.data or "",
            note=form.note.data or "",
            actor=current_actor(),
        )
        return _("The delivery is recorded.")

    return _step(winner_id, "delivery_form", act)


@campaign_page("/winners/<id:winner_id>/publish", methods=("POST",))
@roles_required(*MARKETING)
def winner_publish(winner_id: int):
    def act(record, form):
        titles, bodies = winner_announcement(record, SiteLinks())
        winner_rules.publish(record, titles, bodies, actor=current_actor())
        return _("The winner is published on the month's page and in the news.")

    return _step(winner_id, "confirm_form", act)


@campaign_page("/winners/<id:winner_id>/photo", methods=("POST",))
@roles_required(*MARKETING)
def winner_photo(winner_id: int):
    """The photo with the certificate: checked by content here, then resized and stripped
    of its metadata by a job (``portal.jobs.photos``)."""

    def act(record, form):
        data = form.photo.data.read(winner_rules.PHOTO_MAX_BYTES + 1)
        try:
            key = photo_jobs.receive(record, data)
        except uploads.UploadRefused as refusal:
            raise FieldRefused("photo", describe_upload_refusal(refusal)) from None
        actor = current_actor()
        photo_jobs.process_photo(record.id, key, getattr(actor.user, "id", None), actor.ip)
        return _("The photo is received: it is on the month's page once it is made fit for it.")

    return _step(winner_id, "photo_form", act)


@campaign_page("/winners/<id:winner_id>/photo")
@roles_required(*PERSONAL_DATA)
def winner_photo_file(winner_id: int):
    record = _winner(winner_id)
    if not record.photo_path:
        abort(404)
    return photo_response(record)


# --- the working-day calendar -------------------------------------------------------


@bp.get("/calendar")
@roles_required(*READ_MARKETING)
def calendar():
    """The campaign's days off, and the decrees staff added to the package's calendar."""
    return _calendar_page(CalendarDayForm())


def _calendar_page(form: CalendarDayForm, status: int = 200):
    campaign = the_campaign()
    start = campaign.starts_on
    end = max(p.draw_deadline for p in campaign.periods) if campaign.periods else campaign.ends_on
    additions = db.session.scalars(sa.select(CalendarDay).order_by(CalendarDay.day)).all()
    return render_template(
        "admin/calendar.html",
        form=form,
        confirm_form=ConfirmForm(),
        days_off=workdays.days_off(start, end),
        additions=additions,
        confirm_remove={day.id: confirmations.remove_calendar_day(day.day) for day in additions},
        start=start,
        end=end,
    ), status


@bp.post("/calendar")
@roles_required(*MARKETING)
def calendar_add():
    form = CalendarDayForm()
    if not form.validate_on_submit():
        return _calendar_page(form, 400)
    if db.session.scalar(sa.select(CalendarDay.id).filter_by(day=form.day.data)):
        flash(_("That date is already in the calendar: remove it first."), "error")
        return _calendar_page(form, 400)
    day = CalendarDay(
        day=form.day.data,
        working=form.working.data == "working",
        note=form.note.data.strip(),
        created_by=current_user.email,
    )
    db.session.add(day)
    db.session.flush()
    audit.record(
        "calendar.add",
        day,
        {"day": day.day, "working": day.working, "note": day.note},
        actor=current_actor(),
    )
    winner_rules.recount_verification_deadlines(form.day.data, actor=current_actor())
    db.session.commit()
    flash(_("The calendar is updated."), "success")
    return redirect(url_for("admin.calendar"))


@bp.post("/calendar/<id:day_id>/remove")
@roles_required(*MARKETING)
def calendar_remove(day_id: int):
    form = ConfirmForm()
    day = db.session.get(CalendarDay, day_id) or abort(404)
    if not form.validate_on_submit():
        abort(400)
    audit.record(
        "calendar.remove",
        day,
        {"day": day.day, "working": day.working, "note": day.note},
        actor=current_actor(),
    )
    changed_day = day.day
    db.session.delete(day)
    db.session.flush()
    winner_rules.recount_verification_deadlines(changed_day, actor=current_actor())
    db.session.commit()
    flash(_("The calendar is updated."), "success")
    return redirect(url_for("admin.calendar"))
