"""Signing the act with eGov Mobile's QR code: the signing session and its rules (issue 17).

A session is opened for the act in force of a winner at "act issued"; it holds the
act's SHA-256 at that moment, expires after the site's ``EDS_QR_MINUTES`` and is used
once: the first signature it brings ends it, signed or refused, and a refused winner
opens another. Opening one ends the act's earlier waiting sessions.

Its address key (the last part of API 1's address, in the QR code) and its one-time
bearer token (API 2) are HMAC-SHA256 of the session's random ``nonce`` under the site's
secret key: the page can show the same QR code again, while the database keeps only
their SHA-256 (a copy of the table opens nothing).

The signature goes through ``acts.sign_with_eds`` (via "egov-qr"), the one verifier of
every EDS path. Nothing here commits; the caller does.

A session may also carry a draw's protocol for one member of its commission (issue 18,
``open_protocol_session``): the same QR code, API 1 and API 2, with the Kazakh protocol's
bytes, and the signature going through ``protocol_signatures.sign_with_eds`` (an
individual's certificate in the member's name) instead of the act's checks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from portal.campaign import acts, audit, protocol_signatures
from portal.models import Draw, DrawFile, db, utcnow
from portal.models.acts import Act
from portal.models.signing import SigningSession
from portal.services import eds

VIA = "egov-qr"
NONCE_BYTES = 32
FINISHED = (SigningSession.SIGNED, SigningSession.REFUSED, SigningSession.EXPIRED)


class SessionGone(Exception):
    """The session is expired or already used (the app is answered 410)."""


def _derive(secret: str | bytes, purpose: str, nonce: str) -> str:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    mac = hmac.new(key, f"egov-qr:{purpose}:{nonce}".encode(), hashlib.sha256)
    return mac.hexdigest()


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def session_key(session: SigningSession, secret: str | bytes) -> str:
    """The session's part of API 1's and API 2's addresses."""
    return _derive(secret, "key", session.nonce)


def session_token(session: SigningSession, secret: str | bytes) -> str:
    """The one-time bearer token API 1 hands the app for API 2."""
    return _derive(secret, "token", session.nonce)


def open_session(
    act: Act,
    *,
    secret: str | bytes,
    minutes: int,
    provider: str = "egov",
    language: str = "kk",
    now: datetime | None = None,
) -> SigningSession:
    """A new session for ``act`` (``acts.ActRefused("act-closed")`` when it may not be signed)."""
    now = now or utcnow()
    acts.check_signable(act)
    return _open(
        waiting_sessions(act),
        dict(act_id=act.id, winner_id=act.winner_id, act_sha256=act.sha256),
        secret=secret,
        minutes=minutes,
        provider=provider,
        language=language,
        now=now,
    )


def _open(
    earlier: Iterable[SigningSession],
    document: dict[str, Any],
    *,
    secret: str | bytes,
    minutes: int,
    provider: str,
    language: str,
    now: datetime,
) -> SigningSession:
    """A new waiting session for ``document`` (its columns: the act or the protocol and
    its digest), its key and token derived from a new nonce; the ``earlier`` ones still
    waiting for the same signer end (expired)."""
    if not 1 <= int(minutes) <= 24 * 60:
        raise ValueError("EDS_QR_MINUTES must be between 1 and 1440")
    for session in list(earlier):
        _finish(session, SigningSession.EXPIRED, now)
    nonce = secrets.token_hex(NONCE_BYTES)
    session = SigningSession(
        **document,
        nonce=nonce,
        key_sha256=_digest(_derive(secret, "key", nonce)),
        token_sha256=_digest(_derive(secret, "token", nonce)),
        provider=provider,
        language=language,
        status=SigningSession.WAITING,
        created_at=now,
        expires_at=now + timedelta(minutes=int(minutes)),
    )
    db.session.add(session)
    db.session.flush()
    return session


def open_protocol_session(
    draw: Draw,
    member_index: int,
    *,
    secret: str | bytes,
    minutes: int,
    provider: str = "egov",
    actor: Any = None,
    language: str = "kk",
    now: datetime | None = None,
) -> SigningSession:
    """A new session for member ``member_index`` to sign ``draw``'s Kazakh protocol
    (``protocol_signatures.SignatureRefused`` when the member may not sign it); the
    member's earlier waiting sessions end."""
    now, actor = now or utcnow(), audit.as_actor(actor)
    protocol = protocol_signatures.open_to(draw, member_index)
    waiting = db.session.scalars(
        sa.select(SigningSession).filter_by(
            draw_id=draw.id, member_index=member_index, status=SigningSession.WAITING
        )
    )
    return _open(
        waiting,
        dict(
            draw_id=draw.id,
            member_index=member_index,
            opened_by=actor.name[:254],
            act_sha256=protocol.sha256,
        ),
        secret=secret,
        minutes=minutes,
        provider=provider,
        language=language,
        now=now,
    )


def latest_protocol_session(draw: Draw, now: datetime | None = None) -> SigningSession | None:
    """The draw's last protocol session, its state brought up to date (``refresh``)."""
    session = db.session.scalar(
        sa.select(SigningSession)
        .filter_by(draw_id=draw.id)
        .order_by(SigningSession.id.desc())
        .limit(1)
    )
    if session is not None:
        refresh(session, now)
    return session


def started(session: SigningSession, data: dict[str, Any], expires_at: datetime | None) -> None:
    """Keep what the provider needs later; its own expiry, when earlier, is the session's."""
    session.provider_json = json.dumps(data, sort_keys=True)
    if expires_at is not None and expires_at < session.expires_at:
        session.expires_at = expires_at


def waiting_sessions(act: Act) -> list[SigningSession]:
    return list(
        db.session.scalars(
            sa.select(SigningSession).filter_by(act_id=act.id, status=SigningSession.WAITING)
        )
    )


def latest_session(act: Act, now: datetime | None = None) -> SigningSession | None:
    """The act's last session, its state brought up to date (``refresh``)."""
    session = db.session.scalar(
        sa.select(SigningSession)
        .filter_by(act_id=act.id)
        .order_by(SigningSession.id.desc())
        .limit(1)
    )
    if session is not None:
        refresh(session, now)
    return session


def session_for_key(key: str, now: datetime | None = None) -> SigningSession | None:
    """The session API 1's address names, or None (unknown)."""
    if not key or len(key) > 100:
        return None
    session = db.session.scalar(sa.select(SigningSession).filter_by(key_sha256=_digest(key)))
    if session is not None:
        refresh(session, now)
    return session


def refresh(session: SigningSession, now: datetime | None = None) -> str:
    """The session's state now: a waiting one past its time, or whose act is no longer the
    one in force with the same bytes at "act issued", is expired."""
    now = now or utcnow()
    if session.status == SigningSession.WAITING and not _still_open(session, now):
        _expire_if_waiting(session, now)
    return session.status


def _expire_if_waiting(session: SigningSession, now: datetime) -> None:
    """Mark the session expired in the database only if it is still waiting there, then
    read it back: a copy read before another request finished it (signed, refused) never
    overwrites what that request wrote."""
    db.session.flush()
    db.session.execute(
        sa.update(SigningSession)
        .where(
            SigningSession.id == session.id,
            SigningSession.status == SigningSession.WAITING,
            SigningSession.finished_at.is_(None),
        )
        .values(status=SigningSession.EXPIRED, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(session)


def _still_open(session: SigningSession, now: datetime) -> bool:
    if session.expires_at <= now:
        return False
    if session.for_protocol:
        return protocol_signatures.still_open_to(
            session.draw, session.member_index, session.act_sha256
        )
    act = session.act
    if act.sha256 != session.act_sha256:
        return False
    try:
        acts.check_signable(act)
    except acts.ActRefused:
        return False
    return True


def _finish(session: SigningSession, status: str, now: datetime) -> None:
    session.status, session.finished_at = status, now


def _claim(session: SigningSession, now: datetime) -> None:
    """Take the waiting session for this transaction, or raise ``SessionGone``: one
    conditional UPDATE, so that of two signatures sent at once only one is verified (the
    other waits for the row's lock, then finds it taken)."""
    if refresh(session, now) != SigningSession.WAITING:
        raise SessionGone(session.status)
    db.session.flush()
    taken = db.session.execute(
        sa.update(SigningSession)
        .where(
            SigningSession.id == session.id,
            SigningSession.status == SigningSession.WAITING,
            SigningSession.finished_at.is_(None),
        )
        .values(finished_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        db.session.refresh(session)
        raise SessionGone(session.status)
    session.finished_at = now


def token_matches(session: SigningSession, authorization: str | None) -> bool:
    """Whether ``Authorization: Bearer <token>`` carries the session's token."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 200:
        return False
    return hmac.compare_digest(_digest(token.strip()), session.token_sha256)


def document(session: SigningSession, now: datetime | None = None) -> Act:
    """The act to sign (API 2's GET), its bytes those the session was opened for."""
    now = now or utcnow()
    if refresh(session, now) != SigningSession.WAITING:
        raise SessionGone(session.status)
    if session.document_sent_at is None:
        session.document_sent_at = now
    return session.act


def protocol_document(session: SigningSession, now: datetime | None = None) -> DrawFile:
    """The protocol to sign (API 2's GET of a protocol's session), the bytes it was opened for."""
    now = now or utcnow()
    if refresh(session, now) != SigningSession.WAITING:
        raise SessionGone(session.status)
    if session.document_sent_at is None:
        session.document_sent_at = now
    return protocol_signatures.signed_protocol(session.draw)


def receive(
    session: SigningSession,
    cms: bytes,
    *,
    eds_settings: dict[str, Any],
    at: datetime | None = None,
    now: datetime | None = None,
) -> eds.Report:
    """The signature the session brings (API 2's PUT, or SIGEX's): verified by
    ``acts.sign_with_eds`` against the act's exact bytes and its winner; the session is
    used either way (``SessionGone`` when it was already, or has expired)."""
    now = now or utcnow()
    _claim(session, now)
    if session.for_protocol:
        return _receive_protocol(session, cms, eds_settings, at, now)
    try:
        report = acts.sign_with_eds(session.act, cms, eds_settings=eds_settings, via=VIA, at=at)
    except acts.ActRefused:
        _finish(session, SigningSession.EXPIRED, now)
        raise SessionGone(SigningSession.EXPIRED) from None
    if report.ok:
        _finish(session, SigningSession.SIGNED, now)
    else:
        _finish(session, SigningSession.REFUSED, now)
        session.failures_json = json.dumps(
            [check.as_dict() for check in report.failures], ensure_ascii=False, default=str
        )
    return report


# A member's session that ends without a check: the member signed meanwhile, or the draw's
# protocol is not there.
_PROTOCOL_GONE = ("unknown-member", "already-signed", "no-protocol")


def _receive_protocol(
    session: SigningSession,
    cms: bytes,
    eds_settings: dict[str, Any],
    at: datetime | None,
    now: datetime,
) -> eds.Report:
    """A member's signature of the protocol: accepted as from any other way of signing
    (``protocol_signatures.sign_with_eds``), on behalf of the staff who opened the session."""
    try:
        protocol_signatures.sign_with_eds(
            session.draw,
            session.member_index,
            cms,
            eds_settings=eds_settings,
            via=VIA,
            actor=audit.Actor(label=session.opened_by or VIA),
            at=at,
            now=now,
        )
    except protocol_signatures.SignatureRefused as refusal:
        if refusal.code in _PROTOCOL_GONE:
            _finish(session, SigningSession.EXPIRED, now)
            raise SessionGone(SigningSession.EXPIRED) from None
        if refusal.code in ("not-individual", "wrong-name"):
            params = {key: str(value) for key, value in refusal.details.items()}
            report = eds.Report([eds.Check("identity", False, refusal.code, "", params)])
        elif refusal.report is not None:
            report = refusal.report
        else:
            report = eds.Report([eds.failed("cms", "malformed")])
        _finish(session, SigningSession.REFUSED, now)
        session.failures_json = json.dumps(
            [check.as_dict() for check in report.failures], ensure_ascii=False, default=str
        )
        return report
    _finish(session, SigningSession.SIGNED, now)
    return eds.Report([eds.passed("cms")])


def expire(session: SigningSession, now: datetime | None = None) -> None:
    """End a waiting session that will bring nothing (SIGEX gave no signature in time)."""
    _finish(session, SigningSession.EXPIRED, now or utcnow())


def refuse(session: SigningSession, code: str, now: datetime | None = None) -> None:
    """End a waiting session as refused for a reason outside the verifier (a PUT that is not
    the protocol's: ``malformed``)."""
    now = now or utcnow()
    _claim(session, now)
    _finish(session, SigningSession.REFUSED, now)
    session.failures_json = json.dumps([eds.failed("cms", code).as_dict()])


def failures(session: SigningSession) -> list[eds.Check]:
    """The verifier's failed checks of a refused session, to be told in words."""
    return [
        eds.Check(f["name"], False, f.get("code", ""), f.get("detail", ""), f.get("params") or {})
        for f in session.failures
    ]
