"""Staff's side of the act: the winner's link, the identity, issuing and correcting the act,
the scans of a manual signing and the decision on it (rules 10 and 11)."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin.forms import NoteForm
from portal.admin.helpers import campaign_page
from portal.admin.winner_page import page_forms, winner_page
from portal.campaign import acts, signature_proof
from portal.campaign.staff import MARKETING, PERSONAL_DATA
from portal.models import Winner, db
from portal.models.acts import Act, ActSignature, ManualSubmission, WinnerFile
from portal.services import eds
from portal.web.access import current_actor, roles_required
from portal.web.downloads import act_response
from portal.web.forms import refusal_on_form
from portal.web.urls import SiteLinks, absolute_url
from portal.wording.messages import describe_act_refusal


def _winner(winner_id: int) -> Winner:
    return db.session.get(Winner, winner_id) or abort(404)


def _done(winner_id: int, action, success: str):
    try:
        action()
    except acts.ActRefused as refusal:
        db.session.rollback()
        flash(describe_act_refusal(refusal), "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for("admin.winner", winner_id=winner_id) + "#act-heading")


@campaign_page("/winners/<id:winner_id>/link", methods=("POST",))
@roles_required(*MARKETING)
def winner_link(winner_id: int):
    """A new private link (earlier ones revoked), shown once here and mailed to the winner."""
    record = _winner(winner_id)
    if not NoteForm().validate_on_submit():
        abort(400)
    try:
        token = acts.issue_link(record, actor=current_actor())
    except acts.ActRefused as refusal:
        flash(describe_act_refusal(refusal), "error")
        return redirect(url_for("admin.winner", winner_id=winner_id))
    urls = {
        lang: absolute_url("public.winner_page", lang=lang, token=token)
        for lang in current_app.config["LANGUAGES"]
    }
    acts.mail_link(record, urls, token)
    db.session.commit()
    flash(
        _(
            "The private link (shown only now; it was also e-mailed to the winner): %(url)s",
            url=urls[current_app.config["LANGUAGES"][0]],
        ),
        "success",
    )
    return redirect(url_for("admin.winner", winner_id=winner_id))


@campaign_page("/winners/<id:winner_id>/link/revoke", methods=("POST",))
@roles_required(*MARKETING)
def winner_link_revoke(winner_id: int):
    record = _winner(winner_id)
    if not NoteForm().validate_on_submit():
        abort(400)
    return _done(
        winner_id,
        lambda: acts.revoke_links(record, actor=current_actor()),
        _("The winner's link no longer opens."),
    )


@campaign_page("/winners/<id:winner_id>/identity", methods=("POST",))
@roles_required(*MARKETING)
def winner_identity_staff(winner_id: int):
    """The director and the identity document, entered by staff; with errors the page
    comes back with what was typed."""
    record = _winner(winner_id)
    forms = page_forms(record, "identity_form")
    form = forms["identity_form"]
    if form.validate_on_submit():
        try:
            acts.set_identity(record, **form.identity(), entered_by=current_user.email)
        except acts.ActRefused as refusal:
            db.session.rollback()
            refusal_on_form(form, refusal)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("admin.winner", winner_id=winner_id) + "#act-heading")
    return winner_page(_winner(winner_id), forms, 400)


@campaign_page("/winners/<id:winner_id>/act", methods=("POST",))
@roles_required(*MARKETING)
def winner_issue_act(winner_id: int):
    """Issue the act, or a corrected act with a new number (the old one is kept)."""
    record = _winner(winner_id)
    form = NoteForm()
    if not form.validate_on_submit():
        abort(400)
    return _done(
        winner_id,
        lambda: acts.issue_act(
            record,
            links=SiteLinks(),
            actor=current_actor(),
            correction_reason=form.note.data or "",
        ),
        _("The act is issued."),
    )


@campaign_page("/acts/<id:act_id>.pdf")
@roles_required(*PERSONAL_DATA)
def act_pdf(act_id: int):
    act = db.session.get(Act, act_id) or abort(404)
    acts.record_download(act.winner, act, current_user.email)
    db.session.commit()
    return act_response(act)


@campaign_page("/act-signatures/<id:signature_id>")
@roles_required(*PERSONAL_DATA)
def act_signature_check(signature_id: int):
    """An accepted EDS signature re-verified as at its acceptance: its time, its stored
    revocation evidence, no network."""
    stored = db.session.get(ActSignature, signature_id) or abort(404)
    report = signature_proof.reverify(stored, eds.settings_from_config(current_app.config))
    return render_template(
        "admin/signature_check.html",
        stored=stored,
        report=report,
        at=signature_proof.acceptance_time(stored),
    )


@campaign_page("/winner-files/<id:file_id>")
@roles_required(*PERSONAL_DATA)
def winner_file_staff(file_id: int):
    record = db.session.get(WinnerFile, file_id) or abort(404)
    response = Response(acts.read_file(record), mimetype=record.mime_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{record.kind}-{record.id}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@campaign_page("/winners/<id:winner_id>/files", methods=("POST",))
@roles_required(*MARKETING)
def winner_staff_file(winner_id: int):
    """The organizer's director's identity card (rule 11)."""
    record = _winner(winner_id)
    forms = page_forms(record, "staff_file_form")
    form = forms["staff_file_form"]
    if not form.validate_on_submit():
        return winner_page(record, forms, 400)
    upload = form.file.data
    data, name = upload.read(acts.FILE_MAX_BYTES + 1), upload.filename
    written: list[WinnerFile] = []
    try:
        written.append(acts.staff_upload(record, data, name, actor=current_actor()))
        db.session.commit()
    except acts.ActRefused as refusal:
        db.session.rollback()
        acts.remove_files(written)
        form.file.errors.append(describe_act_refusal(refusal))
        return winner_page(_winner(winner_id), forms, 400)
    except BaseException:
        db.session.rollback()
        acts.remove_files(written)
        raise
    flash(_("The file is stored."), "success")
    return redirect(url_for("admin.winner", winner_id=winner_id) + "#act-heading")


@campaign_page("/submissions/<id:submission_id>/accept", methods=("POST",))
@roles_required(*MARKETING)
def submission_accept(submission_id: int):
    submission = db.session.get(ManualSubmission, submission_id) or abort(404)
    if not NoteForm().validate_on_submit():
        abort(400)
    return _done(
        submission.act.winner_id,
        lambda: acts.accept_submission(submission, actor=current_actor()),
        _("The hand-signed act is accepted."),
    )


@campaign_page("/submissions/<id:submission_id>/return", methods=("POST",))
@roles_required(*MARKETING)
def submission_return(submission_id: int):
    submission = db.session.get(ManualSubmission, submission_id) or abort(404)
    form = NoteForm()
    if not form.validate_on_submit():
        abort(400)
    return _done(
        submission.act.winner_id,
        lambda: acts.return_submission(submission, form.note.data or "", actor=current_actor()),
        _("The submission is returned to the winner with the reason."),
    )
