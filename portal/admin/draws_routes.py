"""The commission's draws: see the pool, confirm, draw; redraw when a winner falls away."""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.admin.forms import (
    ConfirmForm,
    DrawForm,
    EgovSignatureForm,
    PaperSignatureForm,
    ProtocolSignatureForm,
    RedrawForm,
)
from portal.admin.helpers import campaign_page, the_campaign
from portal.campaign import LANGUAGES, egov_signing
from portal.campaign import draws as draw_rules
from portal.campaign import protocol_signatures as signing
from portal.campaign import winners as winner_rules
from portal.campaign.periods import find_period
from portal.campaign.staff import COMMISSION, EVERY_ROLE
from portal.jobs import egov_qr as qr_jobs
from portal.models import Draw, db, utcnow
from portal.models.mixins import current_language
from portal.models.signing import SigningSession
from portal.services import eds, egov_qr
from portal.services.randomorg import RandomOrgClient, RandomOrgError
from portal.web.access import current_actor, roles_required
from portal.web.egov import api1_url, qr_view, session_description
from portal.web.limits import body_limit
from portal.web.urls import SiteLinks
from portal.wording import confirmations
from portal.wording.formats import format_moment, format_period
from portal.wording.messages import (
    describe_attempt,
    describe_changed_verdict,
    describe_protocol_refusal,
    describe_random_org_error,
    describe_refusal,
    describe_signing_failure,
    pool_announcement_news,
    redraw_reasons,
)


def announcement_wait() -> timedelta:
    """How long after its pool's announcement a draw may be confirmed (the setting)."""
    return draw_rules.announcement_wait(current_app.config)


def _wait_minutes() -> int:
    return int(announcement_wait().total_seconds() // 60)


def _start_from_last_draw(form) -> None:
    """The members and place of the latest draw (or Almaty), to start the form from."""
    last = db.session.scalar(sa.select(Draw).order_by(Draw.id.desc()))
    if last is None:
        for lang in LANGUAGES:
            with force_locale(lang):
                form[f"place_{lang}"].data = _("Almaty")
        return
    _fill_from(form, last)


def _fill_from(form, draw: Draw) -> None:
    form.commission.data = draw_rules.commission_text(draw.commission)
    for lang, text in draw_rules.draw_texts(draw, "place").items():
        form[f"place_{lang}"].data = text


@campaign_page("/draws")
@roles_required(*EVERY_ROLE)
def draws():
    """Every month with its draws and what stands in the way of the next one."""
    campaign = the_campaign()
    now = utcnow()
    months = []
    for period in campaign.periods:
        months.append(
            {
                "period": period,
                "draws": draw_rules.draws_of(period),
                # the attempts that did not become draws: under way, failed or lapsed
                "attempts": draw_rules.attempts_of(period),
                # every pool announced for the month, newest first
                "announcements": draw_rules.announcements_of(period),
                "refusals": [describe_refusal(r) for r in draw_rules.refusals(period, None, now)],
                "late": draw_rules.is_late(period, now),
            }
        )
    return render_template("admin/draws.html", months=months, describe_attempt=describe_attempt)


def _fallback_allowed(form) -> bool:
    """Whether the local fallback, if chosen, may be (the campaign decides); else say why not."""
    refusals = draw_rules.fallback_refusals(current_actor(), bool(form.use_fallback.data))
    for refusal in refusals:
        flash(describe_refusal(refusal), "error")
    return not refusals


@campaign_page("/draws/new/<period_key>", methods=("GET", "POST"))
@roles_required(*COMMISSION)
def draw_new(period_key: str):
    """Step 1: the members and the place; step 2: the pool's size and digest, then confirm."""
    campaign = the_campaign()
    period = find_period(campaign, period_key) or abort(404)
    prizes = draw_rules.prizes_of(period)
    form = DrawForm()
    now = utcnow()
    late = draw_rules.is_late(period, now)
    if not form.is_submitted():
        _start_from_last_draw(form)
    refusals = draw_rules.refusals(period, None, now)
    announcement = draw_rules.open_announcement(period)
    pool = None
    announced = False  # the pool shown is the one announced: it may be confirmed
    if form.validate_on_submit() and _fallback_allowed(form) and not refusals:
        # "Announce this pool" (the first step) or "Confirm and draw": the pool shown,
        # under the nonce in the form; else "Show the pool"
        announcing = bool(form.nonce.data) and request.form.get("announce") == "1"
        confirming = bool(form.nonce.data) and not announcing
        secret = current_app.config["SECRET_KEY"]
        if announcing:  # the pool shown, published; then shown again to be confirmed
            pool = draw_rules.prepare(period, secret=secret, nonce=form.nonce.data)
            if _announce(pool, form.pool_sha256.data or None):
                announcement = draw_rules.open_announcement(period)
                announced = announcement is not None and pool.sha256 == announcement.pool_sha256
            else:
                pool = None
        elif confirming:  # the pool shown, kept under its nonce (or built again)
            pool = draw_rules.prepare(period, secret=secret, nonce=form.nonce.data)
        elif announcement is not None:  # the pool announced, made again from its nonce
            pool = draw_rules.prepare(period, secret=secret, nonce=announcement.nonce)
            announced = pool.sha256 == announcement.pool_sha256
            if not announced:  # the data changed since: a new pool, to announce again
                flash(
                    describe_refusal(
                        draw_rules.DrawRefused(
                            "not-the-announced-pool",
                            month=period.key,
                            since=announcement.announced_at,
                        )
                    ),
                    "error",
                )
                pool = draw_rules.show(period, secret=secret)
        else:  # the pool to show and announce, kept for its confirmation
            pool = draw_rules.show(period, secret=secret)
        if confirming:
            try:
                draw = draw_rules.conduct(
                    pool,
                    commission=draw_rules.parse_commission(form.commission.data),
                    place=form.texts("place"),
                    links=SiteLinks(),
                    client=RandomOrgClient.from_config(current_app.config),
                    actor=current_actor(),
                    late_reason=form.texts("late_reason"),
                    fallback_reason=form.fallback_texts(),
                    expected_sha256=form.pool_sha256.data,
                )
            except draw_rules.DrawRefused as refusal:
                flash(describe_refusal(refusal), "error")
                # still waiting: the same pool stays on the screen, to confirm later
                announced = refusal.code == "announcement-wait"
                pool = pool if announced else None
            except RandomOrgError as error:
                flash(describe_random_org_error(error), "error")
                pool = None
            else:
                flash(_("Draw No. %(id)s is made and its record stored.", id=draw.id), "success")
                return redirect(url_for("admin.draw", draw_id=draw.id))
            announcement = draw_rules.open_announcement(period)  # spent, perhaps
        elif pool is not None:
            form.nonce.data = pool.nonce
            form.pool_sha256.data = pool.sha256
    return render_template(
        "admin/draw_form.html",
        form=form,
        period=period,
        prizes=prizes,
        pool=pool,
        announcement=announcement,
        announced=announced,
        confirm_announce=confirmations.announce_pool(pool.size, _wait_minutes()) if pool else "",
        now=now,
        late=late,
        refusals=[describe_refusal(r) for r in refusals],
        members=draw_rules.parse_commission(form.commission.data or ""),
        minimum=campaign.commission_min_members,
        fallback_offered=draw_rules.may_draw_locally(current_actor()),
        confirm_draw=confirmations.conduct_draw(
            format_period(period), pool.size, bool(form.use_fallback.data)
        )
        if pool
        else "",
    )


def _announce(pool: draw_rules.Pool, expected_sha256: str | None) -> bool:
    """Publish ``pool`` as its draw's; flash what came of it; whether it was announced."""
    try:
        announcement = draw_rules.announce(
            pool,
            actor=current_actor(),
            wait=announcement_wait(),
            news=pool_announcement_news,
            expected_sha256=expected_sha256,
        )
    except draw_rules.DrawRefused as refusal:
        flash(describe_refusal(refusal), "error")
        return False
    flash(
        _(
            "The pool is announced: %(num)s participants, SHA-256 %(sha256)s. The draw may be confirmed from %(time)s.",
            num=announcement.pool_size,
            sha256=announcement.pool_sha256,
            time=format_moment(announcement.not_before),
        ),
        "success",
    )
    return True


@campaign_page("/draws/<id:draw_id>/announce-redraw", methods=("POST",))
@roles_required(*COMMISSION)
def draw_announce_redraw(draw_id: int):
    """Publish the pool of the redraw of ``draw_id`` (its pool minus the excluded)."""
    record = db.session.get(Draw, draw_id) or abort(404)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form has expired or is incomplete: show the pool again."), "error")
        return redirect(url_for("admin.draw", draw_id=draw_id))
    pool = draw_rules.prepare(
        record.period, secret=current_app.config["SECRET_KEY"], replaces=record
    )
    _announce(pool, None)
    return redirect(url_for("admin.draw", draw_id=draw_id))


@campaign_page("/draws/<id:draw_id>")
@roles_required(*EVERY_ROLE)
def draw(draw_id: int):
    """A draw as the staff see it, with the redraw form while it stands."""
    record = db.session.get(Draw, draw_id) or abort(404)
    form = RedrawForm()
    _fill_from(form, record)
    if winner_rules.draw_awaits_redraw(record):
        # the reason is offered in each language; the commission may reword it
        for lang, text in redraw_reasons(winner_rules.awaiting_redraw(record)).items():
            form[f"reason_{lang}"].data = text
    return _draw_page(record, form)


def _signature_forms(
    record: Draw,
    eds_form: ProtocolSignatureForm | None = None,
    paper_form: PaperSignatureForm | None = None,
) -> tuple[ProtocolSignatureForm, PaperSignatureForm]:
    """The commission's signature forms, offering the members who have not signed yet."""
    eds_form = eds_form or ProtocolSignatureForm(meta={"id_prefix": "eds-"})
    paper_form = paper_form or PaperSignatureForm(meta={"id_prefix": "paper-"})
    choices = [
        (item.index, item.member.name) for item in signing.by_member(record) if not item.signature
    ]
    eds_form.member.choices = choices
    paper_form.member.choices = choices
    return eds_form, paper_form


def _egov_form(record: Draw, form: EgovSignatureForm | None = None) -> EgovSignatureForm:
    form = form or EgovSignatureForm(meta={"id_prefix": "egov-"})
    form.member.choices = [
        (item.index, item.member.name) for item in signing.by_member(record) if not item.signature
    ]
    return form


def _draw_page(
    record: Draw,
    form: RedrawForm,
    eds_form: ProtocolSignatureForm | None = None,
    paper_form: PaperSignatureForm | None = None,
    report: eds.Report | None = None,
):
    stored = draw_rules.stored_verdict(  # verified again only on demand (below)
        record, eds_settings=eds.settings_from_config(current_app.config)
    )
    lifecycle = winner_rules.winners_of_draw(record)
    eds_form, paper_form = _signature_forms(record, eds_form, paper_form)
    session = egov_signing.latest_protocol_session(record)
    db.session.commit()  # a session found past its time is marked so
    redraw_due = winner_rules.draw_awaits_redraw(record)
    return render_template(
        "admin/draw.html",
        egov_form=_egov_form(record),
        egov_session=session,
        egov_qr=qr_view(session),
        egov_state=protocol_session_state(session) if session else None,
        draw=record,
        form=form,
        eds_form=eds_form,
        paper_form=paper_form,
        report=report,
        members=signing.by_member(record),
        signed_protocol=signing.SIGNED_PROTOCOL,
        signed_language=signing.SIGNED_LANGUAGE,
        signature_file_name=signing.signature_file_name,
        checks=draw_rules.stored_checks(stored),
        verdict=draw_rules.stored_as_verdict(stored),
        verified=stored,
        winners=draw_rules.winners_of(record),
        lifecycle={w.draw_winner_id: w for w in lifecycle},
        standings=winner_rules.standings_of_draw(record),
        redraw_due=redraw_due,
        fallback_offered=draw_rules.may_draw_locally(current_actor()),
        chain=draw_rules.chain(record),
        confirm_redraw=confirmations.redraw(record.id),
        announcement=draw_rules.announcement_of(record),
        redraw_announcement=draw_rules.open_announcement(record.period, record)
        if redraw_due
        else None,
        announce_form=ConfirmForm(formdata=None),
        confirm_announce=confirmations.announce_pool(
            max(draw_rules.chain(record)[0].pool_size - len(draw_rules.excluded_for(record)), 0),
            _wait_minutes(),
        ),
        now=utcnow(),
    )


@campaign_page("/draws/<id:draw_id>/verify", methods=("POST",))
@roles_required(*EVERY_ROLE)
def draw_verify(draw_id: int):
    """Verify the draw again from its stored files, keep the new verdict, on the record."""
    record = db.session.get(Draw, draw_id) or abort(404)
    result = draw_rules.reverify(
        record, current_actor(), eds_settings=eds.settings_from_config(current_app.config)
    )
    db.session.commit()
    if result.changed:
        flash(describe_changed_verdict(result.previous, draw_id), "error")
    else:
        flash(_("Verified again: the verdict is unchanged."), "success")
    return redirect(url_for("admin.draw", draw_id=draw_id) + "#verification")


@campaign_page("/draws/<id:draw_id>/redraw", methods=("POST",))
@roles_required(*COMMISSION)
def draw_redraw(draw_id: int):
    """Draw again over the pool minus the excluded; the draw replaced stays as it was."""
    record = db.session.get(Draw, draw_id) or abort(404)
    form = RedrawForm()
    if not (form.validate_on_submit() and _fallback_allowed(form)):
        return _draw_page(record, form), 400
    try:
        new = draw_rules.redraw(
            record,
            form.texts("reason"),
            secret=current_app.config["SECRET_KEY"],
            links=SiteLinks(),
            client=RandomOrgClient.from_config(current_app.config),
            actor=current_actor(),
            commission=draw_rules.parse_commission(form.commission.data),
            place=form.texts("place"),
            fallback_reason=form.fallback_texts(),
        )
    except draw_rules.DrawRefused as refusal:
        flash(describe_refusal(refusal), "error")
    except RandomOrgError as error:
        flash(describe_random_org_error(error), "error")
    else:
        flash(_("Draw No. %(id)s replaces draw No. %(old)s.", id=new.id, old=draw_id), "success")
        return redirect(url_for("admin.draw", draw_id=new.id))
    return _draw_page(record, form), 400  # the form as given, with why it was refused


# NCALayer's answer is the CMS in base64 (4 characters for 3 bytes); the whole request
# (the CMS or its base64, the token, the multipart wrapping) is refused above this.
MAX_CMS_BASE64 = 4 * -(-signing.CMS_MAX_BYTES // 3)
MAX_SIGNATURE_REQUEST = MAX_CMS_BASE64 + 64 * 1024


def _cms_from(form: ProtocolSignatureForm) -> bytes:
    if form.cms_base64.data:
        text = form.cms_base64.data
        if not isinstance(text, str) or len(text) > MAX_CMS_BASE64:
            raise signing.SignatureRefused("bad-signature-file")
        try:
            return base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise signing.SignatureRefused("bad-signature-file") from None
    upload = form.signature.data
    if upload is None or not getattr(upload, "filename", ""):
        raise signing.SignatureRefused("bad-signature-file")
    data = upload.read(signing.CMS_MAX_BYTES + 1)
    if len(data) > signing.CMS_MAX_BYTES:
        raise signing.SignatureRefused("bad-signature-file")
    return data


def _refused(form, refusal: signing.SignatureRefused) -> None:
    """Why the signature was refused, next to the field it is about (the error summary
    lists it); the verifier's failed checks are listed under the form."""
    name = "member" if refusal.code in ("unknown-member", "already-signed") else "signature"
    if name in form:
        form[name].errors.append(describe_protocol_refusal(refusal))
    else:
        flash(describe_protocol_refusal(refusal), "error")


def _after_signature(record: Draw, member: str):
    """The draw's verdict made again with the new signature in it, then its page."""
    draw_rules.reverify(
        record, current_actor(), eds_settings=eds.settings_from_config(current_app.config)
    )
    db.session.commit()
    flash(_("The protocol's signature of %(member)s is kept.", member=member), "success")
    return redirect(url_for("admin.draw", draw_id=record.id) + "#signatures")


@campaign_page("/draws/<id:draw_id>/signatures", methods=("POST",))
@roles_required(*COMMISSION)
@body_limit(MAX_SIGNATURE_REQUEST)
def draw_signature(draw_id: int):
    """A member's EDS signature of the Kazakh protocol: NCALayer's answer or a CMS file."""
    record = db.session.get(Draw, draw_id) or abort(404)
    eds_form, paper_form = _signature_forms(
        record, ProtocolSignatureForm(meta={"id_prefix": "eds-"})
    )
    form = RedrawForm(formdata=None)
    _fill_from(form, record)
    if not eds_form.validate_on_submit():
        return _draw_page(record, form, eds_form, paper_form), 400
    via = "ncalayer" if eds_form.cms_base64.data else "upload"
    try:
        signature = signing.sign_with_eds(
            record,
            eds_form.member.data,
            _cms_from(eds_form),
            eds_settings=eds.settings_from_config(current_app.config),
            via=via,
            actor=current_actor(),
        )
    except signing.SignatureRefused as refusal:
        db.session.rollback()
        _refused(eds_form, refusal)
        # the verifier's checks when they failed (not when the certificate is only someone else's)
        report = refusal.report if refusal.code == "eds-refused" else None
        return _draw_page(record, form, eds_form, paper_form, report=report), 400
    db.session.commit()
    return _after_signature(record, signature.member_name)


@campaign_page("/draws/<id:draw_id>/signatures/paper", methods=("POST",))
@roles_required(*COMMISSION)
def draw_signature_paper(draw_id: int):
    """A member signed the printed protocol: marked so, nothing to check online."""
    record = db.session.get(Draw, draw_id) or abort(404)
    eds_form, paper_form = _signature_forms(
        record, paper_form=PaperSignatureForm(meta={"id_prefix": "paper-"})
    )
    form = RedrawForm(formdata=None)
    _fill_from(form, record)
    if not paper_form.validate_on_submit():
        return _draw_page(record, form, eds_form, paper_form), 400
    try:
        signature = signing.mark_paper(record, paper_form.member.data, actor=current_actor())
    except signing.SignatureRefused as refusal:
        db.session.rollback()
        _refused(paper_form, refusal)
        return _draw_page(record, form, eds_form, paper_form), 400
    db.session.commit()
    return _after_signature(record, signature.member_name)


# --- eGov Mobile's QR code for a member (issue 18; portal/public/egov.py serves API 1, 2) ---


def protocol_session_state(session: SigningSession) -> dict:
    """Where a member's QR session stands, and what the page says of it."""
    member = session.draw.commission[session.member_index - 1].name
    messages = {
        SigningSession.WAITING: _(
            "Waiting for %(member)s's signature from eGov Mobile…", member=member
        ),
        SigningSession.SIGNED: _("Signed by %(member)s: the signature is kept.", member=member),
        SigningSession.REFUSED: _("The signature was not accepted: see why below."),
        SigningSession.EXPIRED: _("The QR code is no longer valid: make a new one."),
    }
    return {
        "status": session.status,
        "message": messages[session.status],
        "reasons": [describe_signing_failure(c) for c in egov_signing.failures(session)],
        "member": session.member_index,
    }


@campaign_page("/draws/<id:draw_id>/signatures/egov", methods=("POST",))
@roles_required(*COMMISSION)
def draw_signature_egov(draw_id: int):
    """A QR code for a member to sign the Kazakh protocol with eGov Mobile on the phone."""
    record = db.session.get(Draw, draw_id) or abort(404)
    form = _egov_form(record, EgovSignatureForm(meta={"id_prefix": "egov-"}))
    if not form.validate_on_submit():
        flash(_("Choose a member of this draw's commission."), "error")
        return redirect(url_for("admin.draw", draw_id=draw_id, _anchor="egov-qr"))
    config = current_app.config
    provider = egov_qr.provider_for(config)
    try:
        session = egov_signing.open_protocol_session(
            record,
            form.member.data,
            secret=config["SECRET_KEY"],
            minutes=config["EDS_QR_MINUTES"],
            provider=provider.name,
            actor=current_actor(),
            language=current_language(),
        )
        start = provider.start(api1_url=api1_url(session), description=session_description(session))
    except signing.SignatureRefused as refusal:
        db.session.rollback()
        flash(describe_protocol_refusal(refusal), "error")
        return redirect(url_for("admin.draw", draw_id=draw_id, _anchor="signatures"))
    except egov_qr.ProviderError:
        db.session.rollback()
        flash(_("The signing service does not answer: try again in a few minutes."), "error")
        return redirect(url_for("admin.draw", draw_id=draw_id, _anchor="egov-qr"))
    qr_jobs.started(session, provider, start)
    return redirect(url_for("admin.draw", draw_id=draw_id, _anchor="egov-qr"))


@campaign_page("/draws/<id:draw_id>/egov/<id:session_id>")
@roles_required(*EVERY_ROLE)
def draw_egov_status(draw_id: int, session_id: int):
    """Where a member's QR session stands, in the staff's language (JSON; never cached)."""
    session = db.session.get(SigningSession, session_id)
    if session is None or session.draw_id != draw_id:
        abort(404)
    egov_signing.refresh(session)
    db.session.commit()
    response = jsonify(protocol_session_state(session))
    response.headers["Cache-Control"] = "no-store"
    return response
