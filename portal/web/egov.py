"""eGov Mobile's QR signing as pages show it, for the winner's act (``portal.public.egov``)
and for a commission member's protocol (``portal.admin.draws_routes``): the QR code of a
waiting session, API 1's address, and what the app says is to be signed."""

from __future__ import annotations

from flask import current_app
from markupsafe import Markup

from portal.campaign import egov_signing
from portal.models.signing import SigningSession
from portal.services import egov_qr
from portal.web.urls import absolute_url
from portal.wording.eds import act_names, protocol_names


def qr_view(session: SigningSession | None) -> dict | None:
    """What the page shows of a waiting session: the QR code, its text and the links."""
    if session is None or session.status != SigningSession.WAITING:
        return None
    data = session.provider_data
    if session.provider == "egov":
        url = api1_url(session)
        text, links = egov_qr.qr_text(url), egov_qr.launch_links(url)
    else:
        links = data.get("links") or {}
        text = egov_qr.qr_text(egov_qr.link_parameter(links.get("egov_mobile", "")))
    svg = Markup(egov_qr.qr_svg(text)) if text != egov_qr.SCHEME else None  # noqa: S704
    return {
        "text": text,
        "svg": svg,
        "image": data.get("qr_image") or "",
        "links": links,
        "expires_at": session.expires_at,
    }


def api1_url(session: SigningSession) -> str:
    key = egov_signing.session_key(session, current_app.config["SECRET_KEY"])
    return absolute_url("site.egov_api1", key=key)


def act_description(act) -> str:
    """What the app says is to be signed: the act, by its number."""
    names = act_names(act.number)
    return f"{names['kk']} / {names['ru']}"


def session_description(session: SigningSession) -> str:
    """What the app says is to be signed: the act, or the draw's protocol."""
    if session.for_protocol:
        names = protocol_names(session.draw_id)
        return f"{names['kk']} / {names['ru']}"
    return act_description(session.act)
