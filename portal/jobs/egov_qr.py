"""SIGEX's hosted QR signing (``EDS_QR_PROVIDER = "sigex"``): the worker hands SIGEX the act
(or a draw's Kazakh protocol, for a commission member) and waits for the signature, which
the portal then verifies as any other.

SIGEX blocks: ``POST dataURL`` answers once the phone has taken the act, ``GET signURL``
once the winner has signed. Both are waited for at most ``SIGEX_WAIT_SECONDS``; a
session that gets nothing by then is expired, and the page says so. Nothing about the
winner is logged, only the session's number.
"""

from __future__ import annotations

import logging

from flask import current_app

from portal.campaign import audit, egov_signing
from portal.campaign import draws as draw_rules
from portal.models import db
from portal.models.signing import SigningSession
from portal.services import eds, egov_qr, jobs
from portal.wording.eds import act_names, protocol_names

log = logging.getLogger(__name__)


def started(
    session: SigningSession, provider: egov_qr.EgovProvider | egov_qr.SigexProvider, start
) -> None:
    """A QR code's session started with ``provider``: what it gave kept (SIGEX's
    addresses; the portal's own, which carry the key, are derived again), committed,
    and for SIGEX the wait for its signature handed to the worker."""
    kept = {} if provider.pushes else start.data | {"links": start.links}
    egov_signing.started(session, kept, start.expires_at)
    db.session.commit()
    if not provider.pushes:
        collect_sigex(session.id)


@jobs.task()
def collect_sigex(session_id: int) -> None:
    """Send the act to SIGEX, wait for its signature, verify it (the session ends either way)."""
    session = db.session.get(SigningSession, session_id)
    if session is None or egov_signing.refresh(session) != SigningSession.WAITING:
        db.session.commit()
        return
    config = current_app.config
    provider = egov_qr.provider_for({**config, "EDS_QR_PROVIDER": "sigex"})
    wait = float(config.get("SIGEX_WAIT_SECONDS") or 600)
    data = session.provider_data
    if session.for_protocol:
        protocol = egov_signing.protocol_document(session)
        names, pdf = protocol_names(session.draw_id), protocol.content
        meta = [{"name": "SHA-256", "value": protocol.sha256}]
    else:
        act = session.act
        names, pdf = act_names(act.number), act.pdf
        meta = [{"name": "SHA-256", "value": act.sha256}]
    db.session.commit()  # no transaction held while SIGEX blocks
    try:
        provider.send_documents(data, egov_qr.documents_to_sign(names, pdf, meta), wait)
        cms = provider.collect(data, wait)
    except egov_qr.ProviderError as error:
        log.warning("signing session %s: SIGEX gave no signature (%s)", session_id, error)
        session = db.session.get(SigningSession, session_id)
        if egov_signing.refresh(session) == SigningSession.WAITING:
            egov_signing.expire(session)
        db.session.commit()
        return
    session = db.session.get(SigningSession, session_id)
    try:
        report = egov_signing.receive(session, cms, eds_settings=eds.settings_from_config(config))
    except egov_signing.SessionGone:
        db.session.commit()
        return
    db.session.commit()
    log.info("signing session %s: %s", session_id, "signed" if report.ok else "refused")
    if report.ok and session.for_protocol:  # the draw's verdict with the new signature in it
        draw_rules.reverify(
            session.draw,
            audit.Actor(label=session.opened_by or egov_signing.VIA),
            eds_settings=eds.settings_from_config(config),
        )
        db.session.commit()
