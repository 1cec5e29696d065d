"""The winner's private page ``/<lang>/winner/<token>``: its prize, its act, and signing it.

The token in the address is the only key: it is stored as a SHA-256, expires, and can
be revoked. The page and its files are never cached, never indexed, and send no
referrer, so the address does not leak through a proxy, a search engine or a link.
"""

from __future__ import annotations

import base64
import binascii

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from portal.campaign import acts, egov_signing
from portal.models import Winner, db
from portal.models.acts import WinnerFile
from portal.public import bp
from portal.public.egov import session_state
from portal.public.forms import ManualSigningForm, SignatureForm
from portal.services import eds
from portal.web.downloads import act_response
from portal.web.egov import qr_view
from portal.web.forms import IdentityForm, refusal_on_form
from portal.web.limits import body_limit
from portal.web.urls import SiteLinks

MAX_CMS_BYTES = 1024 * 1024
# NCALayer's answer is the CMS in base64: 4 characters for every 3 bytes.
MAX_CMS_BASE64 = 4 * -(-MAX_CMS_BYTES // 3)
# The whole request that brings a signature (a CMS file or its base64, the form's
# token and the multipart wrapping): refused before it is read when larger.
MAX_SIGNATURE_REQUEST = MAX_CMS_BASE64 + 64 * 1024


def _winner(token: str) -> Winner:
    winner = acts.winner_for_token(token)
    if winner is None:
        abort(404)
    g.campaign = winner.period.campaign  # the page's menu and notices are its campaign's
    return winner


@bp.after_request
def _private(response: Response) -> Response:
    if request.endpoint and request.endpoint.startswith("public.winner_"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(winner: Winner, token: str, status: int = 200, **forms):
    act = acts.current_act(winner)
    identity = acts.identity_of(winner)
    # the form posted comes back as given; the others as the page offers them
    identity_form = forms.get("identity_form") or IdentityForm(obj=identity, formdata=None)
    egov_session = egov_signing.latest_session(act) if act else None  # eGov Mobile's QR
    return render_template(
        "public/winner.html",
        winner=winner,
        token=token,
        act=act,
        identity=identity,
        identity_form=identity_form,
        signature_form=forms.get("signature_form") or SignatureForm(formdata=None),
        manual_form=forms.get("manual_form") or ManualSigningForm(formdata=None),
        submission=acts.open_submission(act) if act else None,
        returned=[s for s in (act.submissions if act else []) if s.status == "returned"],
        signature=act.signatures[-1] if act and act.signatures else None,
        report=forms.get("report"),
        egov_session=egov_session,
        egov_state=session_state(egov_session) if egov_session else None,
        egov_qr=qr_view(egov_session),
    ), status


@bp.get("/winner/<token>")
def winner_page(token: str):
    """Where the winner stands, the next step and its deadline, the act and how to sign it."""
    return _page(_winner(token), token)


@bp.post("/winner/<token>/identity")
def winner_identity(token: str):
    winner = _winner(token)
    form = IdentityForm()
    if not form.validate_on_submit():
        return _page(winner, token, 400, identity_form=form)
    try:
        acts.set_identity(winner, **form.identity(), entered_by="winner")
    except acts.ActRefused as refusal:
        db.session.rollback()
        refusal_on_form(form, refusal)
        return _page(winner, token, 400, identity_form=form)
    db.session.commit()
    flash(_("Saved. The act will name this document."), "success")
    return redirect(url_for("public.winner_page", token=token))


@bp.get("/winner/<token>/act.pdf")
def winner_act(token: str):
    """The act in force, byte for byte as issued (the bytes the signature must cover)."""
    winner = _winner(token)
    act = acts.current_act(winner) or abort(404)
    acts.record_download(winner, act, "winner")
    db.session.commit()
    return act_response(act)


@bp.post("/winner/<token>/signature")
@body_limit(MAX_SIGNATURE_REQUEST)
def winner_signature(token: str):
    """A detached CMS of the act: uploaded from any NCA tool, or sent by the page's NCALayer script.

    A request larger than a CMS can be is refused (413) before it is read or parsed.
    """
    winner = _winner(token)
    act = acts.current_act(winner) or abort(404)
    form = SignatureForm()
    if not form.validate_on_submit():
        return _page(winner, token, 400, signature_form=form)
    via = "ncalayer" if form.cms_base64.data else "upload"
    try:
        cms = _cms_from(form)
        report = acts.sign_with_eds(
            act, cms, eds_settings=eds.settings_from_config(current_app.config), via=via
        )
    except acts.ActRefused as refusal:
        db.session.rollback()
        refusal_on_form(form, refusal)
        return _page(winner, token, 400, signature_form=form)
    db.session.commit()  # the attempt is in the audit trail either way
    if not report.ok:
        flash(_("The signature was not accepted: see why below."), "error")
        return _page(winner, token, 400, signature_form=form, report=report)
    flash(_("The act is signed. Thank you!"), "success")
    return redirect(url_for("public.winner_page", token=token))


def _cms_from(form: SignatureForm) -> bytes:
    if form.cms_base64.data:
        if not isinstance(form.cms_base64.data, str) or len(form.cms_base64.data) > MAX_CMS_BASE64:
            raise acts.ActRefused("bad-signature-file")  # before decoding it
        try:
            return base64.b64decode(form.cms_base64.data.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise acts.ActRefused("bad-signature-file") from None
    upload = form.signature.data
    if upload is None or not getattr(upload, "filename", ""):
        raise acts.ActRefused("bad-signature-file")
    data = upload.read(MAX_CMS_BYTES + 1)
    if not data or len(data) > MAX_CMS_BYTES:
        raise acts.ActRefused("bad-signature-file")
    return data


@bp.post("/winner/<token>/manual")
def winner_manual(token: str):
    """Rule 11: the hand-signed act with scans, and the reason; the manager is e-mailed."""
    winner = _winner(token)
    act = acts.current_act(winner) or abort(404)
    form = ManualSigningForm()
    if not form.validate_on_submit():
        return _page(winner, token, 400, manual_form=form)
    files = {}
    for kind in (WinnerFile.SIGNED_ACT, WinnerFile.DIRECTOR_ID, WinnerFile.POWER_OF_ATTORNEY):
        upload = getattr(form, kind).data
        if upload is not None and getattr(upload, "filename", ""):
            files[kind] = (upload.read(acts.FILE_MAX_BYTES + 1), upload.filename)
    try:
        submission = acts.submit_manual(
            act, reason=form.reason.data, files=files, by_proxy=bool(form.by_proxy.data)
        )
    except acts.ActRefused as refusal:
        db.session.rollback()
        refusal_on_form(form, refusal)
        return _page(winner, token, 400, manual_form=form)
    written = list(submission.files)
    try:
        acts.notify_manager(
            submission,
            manager_email=current_app.config.get("MARKETING_MANAGER_EMAIL"),
            default_language=current_app.config["LANGUAGES"][0],
            links=SiteLinks(),
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        acts.remove_files(written)  # nothing of a failed submission stays on disk
        raise
    flash(_("Sent. The organizer's staff will check it and tell you here."), "success")
    return redirect(url_for("public.winner_page", token=token))


@bp.get("/winner/<token>/files/<id:file_id>")
def winner_file(token: str, file_id: int):
    """A scan the winner uploaded, back to the winner (never the organizer's own files)."""
    winner = _winner(token)
    record = db.session.get(WinnerFile, file_id)
    if record is None or record.winner_id != winner.id or record.uploaded_by != "winner":
        abort(404)
    response = Response(acts.read_file(record), mimetype=record.mime_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{record.kind}-{record.id}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
