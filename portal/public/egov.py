"""eGov Mobile's QR signing of the act: the winner's QR code and eGov Mobile's API 1 and API 2.

- ``POST /<lang>/winner/<token>/egov`` opens a signing session (the page then shows its QR
  code and same-device links); ``GET /<lang>/winner/<token>/egov/<id>`` says where it
  stands, as JSON, for the page's script (``static/js/egov-sign.js``).
- ``GET /egov-sign/<key>`` is API 1 and ``GET|PUT /egov-sign/<key>/document`` API 2, which
  eGov Mobile calls (provider "egov"). They speak JSON, are not under a language (the
  session keeps the winner's), take no CSRF token (API 2 takes the session's one-time
  bearer token instead) and are rate-limited per address like the public forms.

With ``EDS_QR_PROVIDER = "sigex"`` SIGEX serves API 1 and API 2; the worker collects the
signature (``portal.jobs.egov_qr``). Either way the signature is verified by
``acts.sign_with_eds``. Nothing about the winner is logged.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.campaign import acts, audit, egov_signing
from portal.campaign import draws as draw_rules
from portal.extensions import csrf
from portal.jobs import egov_qr as qr_jobs
from portal.models import Winner, db
from portal.models.mixins import current_language
from portal.models.signing import SigningSession
from portal.public import bp, site_bp
from portal.services import eds, egov_qr, ratelimit
from portal.services.organizer import organizer
from portal.web.access import client_address
from portal.web.egov import act_description, api1_url, session_description
from portal.web.limits import body_limit
from portal.web.urls import absolute_url
from portal.wording.eds import act_names, describe_eds_check, protocol_names
from portal.wording.messages import describe_signing_failure, winner_status_name

STARTS_PER_HOUR = 20  # QR codes one address may open
PUTS_PER_HOUR = 20  # signatures one address may send
# API 2's PUT: the act's JSON with a CMS of at most 1 MB in base64, and its wrapping.
MAX_PUT_BYTES = egov_qr.MAX_CMS_BASE64 + 64 * 1024


def _winner(token: str) -> Winner:
    winner = acts.winner_for_token(token)
    if winner is None:
        abort(404)
    return winner


# --- the winner's page ------------------------------------------------------------------


@bp.post("/winner/<token>/egov")
def winner_egov_start(token: str):
    """A new QR code for the act in force (the earlier one, if waiting, ends)."""
    winner = _winner(token)
    act = acts.current_act(winner) or abort(404)
    if not _allowed("egov-start-ip", STARTS_PER_HOUR):
        abort(429)
    config = current_app.config
    provider = egov_qr.provider_for(config)
    try:
        session = egov_signing.open_session(
            act,
            secret=config["SECRET_KEY"],
            minutes=config["EDS_QR_MINUTES"],
            provider=provider.name,
            language=current_language(),
        )
        start = provider.start(api1_url=api1_url(session), description=act_description(act))
    except acts.ActRefused:  # signed or replaced meanwhile: the page says where it stands
        db.session.rollback()
        return redirect(url_for("public.winner_page", token=token))
    except egov_qr.ProviderError:
        db.session.rollback()
        flash(_("The signing service does not answer: try again in a few minutes."), "error")
        return redirect(url_for("public.winner_page", token=token, _anchor="egov-qr"))
    qr_jobs.started(session, provider, start)
    return redirect(url_for("public.winner_page", token=token, _anchor="egov-qr"))


@bp.get("/winner/<token>/egov/<id:session_id>")
def winner_egov_status(token: str, session_id: int):
    """Where the session stands, in the page's language (JSON; never cached)."""
    winner = _winner(token)
    session = db.session.get(SigningSession, session_id)
    if session is None or session.winner_id != winner.id:
        abort(404)
    egov_signing.refresh(session)
    db.session.commit()
    return jsonify(session_state(session))


def session_state(session: SigningSession) -> dict:
    """The session's state and what the page says of it."""
    reasons = [describe_eds_check(check) for check in egov_signing.failures(session)]
    messages = {
        SigningSession.WAITING: _("Waiting for the signature from eGov Mobile…"),
        SigningSession.SIGNED: _("The act is signed. Thank you!"),
        SigningSession.REFUSED: _("The signature was not accepted: see why below."),
        SigningSession.EXPIRED: _("The QR code is no longer valid: make a new one."),
    }
    winner = session.act.winner
    return {
        "status": session.status,
        "message": messages[session.status],
        "reasons": reasons,
        "winner_status": winner.status,
        "winner_status_name": winner_status_name(winner.status),
    }


def _allowed(bucket: str, limit: int) -> bool:
    allowed = ratelimit.allow(bucket, client_address() or "unknown", limit, timedelta(hours=1))
    db.session.commit()
    return allowed


# --- API 1 and API 2, for eGov Mobile ------------------------------------------------------


@site_bp.after_request
def _private(response: Response) -> Response:
    if request.endpoint in ("site.egov_api1", "site.egov_api2"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _answer(status: int, message: str) -> Response:
    response = jsonify({"code": str(status), "message": message})
    response.status_code = status
    return response


def _session(key: str) -> SigningSession:
    session = egov_signing.session_for_key(key)
    if session is None or session.provider != "egov":
        abort(404)
    return session


def _gone(session: SigningSession) -> Response:
    db.session.commit()
    with force_locale(session.language):
        if session.for_protocol:
            return _answer(
                410, _("This QR code is no longer valid: make a new one on the draw's page.")
            )
        return _answer(
            410,
            _("This QR code is no longer valid: make a new one on the page of your act."),
        )


@site_bp.get("/egov-sign/<key>")
def egov_api1(key: str):
    """API 1: what is to be signed, for whom, until when, and where API 2 is."""
    session = _session(key)
    if session.status != SigningSession.WAITING:
        return _gone(session)
    db.session.commit()
    config = current_app.config
    names = {lang: organizer(lang).name for lang in ("kk", "ru")}
    names["en"] = " ".join(str(config.get("ORGANIZER_NAME_EN") or "").split()) or names["ru"]
    return jsonify(
        egov_qr.api1_body(
            description=session_description(session),
            expires_at=session.expires_at,
            organisation={**names, "bin": config.get("ORGANIZER_BIN") or ""},
            api2_url=absolute_url("site.egov_api2", key=key),
            token=egov_signing.session_token(session, config["SECRET_KEY"]),
        )
    )


@site_bp.route("/egov-sign/<key>/document", methods=["GET", "PUT"])
@csrf.exempt
@body_limit(MAX_PUT_BYTES)
def egov_api2(key: str):
    """API 2: the act's PDF (GET), its signature (PUT), with the session's bearer token."""
    session = _session(key)
    if not egov_signing.token_matches(session, request.headers.get("Authorization")):
        with force_locale(session.language):
            return _answer(403, _("This QR code's token is not valid."))
    if request.method == "GET" and session.for_protocol:
        try:
            protocol = egov_signing.protocol_document(session)
        except egov_signing.SessionGone:
            return _gone(session)
        db.session.commit()
        meta = [{"name": "SHA-256", "value": protocol.sha256}]
        return jsonify(egov_qr.api2_body(protocol_names(session.draw_id), protocol.content, meta))
    if request.method == "GET":
        try:
            act = egov_signing.document(session)
        except egov_signing.SessionGone:
            return _gone(session)
        db.session.commit()
        return jsonify(egov_qr.api2_body(act_names(act.number), act.pdf, _meta(act)))
    return _receive(session)


def _verify_again(session: SigningSession) -> None:
    """The draw's verdict made again with the member's new signature in it (as the staff's
    page does after the other ways of signing)."""
    draw_rules.reverify(
        session.draw,
        audit.Actor(label=session.opened_by or egov_signing.VIA),
        eds_settings=eds.settings_from_config(current_app.config),
    )
    db.session.commit()


def _meta(act) -> list[dict[str, str]]:
    return [{"name": "SHA-256", "value": act.sha256}]


def _receive(session: SigningSession) -> Response:
    if not _allowed("egov-put-ip", PUTS_PER_HOUR):
        return _answer(429, "Too many requests")
    request.get_data(cache=True)  # a body larger than MAX_PUT_BYTES: 413, the session unused
    with force_locale(session.language):
        try:
            cms = egov_qr.cms_from_body(request.get_json(force=True, silent=True))
        except egov_qr.ProtocolError:
            try:
                egov_signing.refuse(session, "malformed")
            except egov_signing.SessionGone:
                return _gone(session)
            db.session.commit()
            return _answer(403, _("The file is not an EDS signature, or it is damaged."))
        try:
            report = egov_signing.receive(
                session, cms, eds_settings=eds.settings_from_config(current_app.config)
            )
        except egov_signing.SessionGone:
            return _gone(session)
        db.session.commit()  # the attempt is in the audit trail either way
        if report.ok and session.for_protocol:
            _verify_again(session)
        if report.ok:
            return _answer(200, "success")
        reasons = " ".join(describe_signing_failure(check) for check in report.failures)
        return _answer(403, _("The signature was not accepted: %(reasons)s", reasons=reasons))
