"""Staff: who may do what, their passwords, signing in with lock-outs after repeated
failures, the sessions kept on the server, and the marketing manager who receives
notices."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from portal.models import ROLES, LoginAttempt, StaffSession, StaffUser, db, utcnow
from portal.models.staff import MIN_PASSWORD_LENGTH, check_no_account_password
from portal.services.passwords import is_common

# Who may do what, each role what its work needs (the table is in the README and in
# docs/DESIGN.md; tests/test_admin_access.py checks every staff URL against it):
# every role: the dashboard, the draws (winners' accounts masked), the winners' list and
# standing, the months' funnel: nothing that names a person's numbers
EVERY_ROLE = ROLES
# staff accounts
ADMIN = ("admin",)
# acts in marketing's field: imports, winners' steps, links, identity, acts, the calendar,
# rules, announcements, mail; exports the eligible pool (full BIN/IIN: a list of people)
MARKETING = ("marketing", "admin")
# conducts draws and redraws
COMMISSION = ("commission", "admin")
# reads marketing's work: rules and announcements in draft, the outbox, the calendar,
# imports and their problems (which quote the rows)
READ_MARKETING = ("admin", "marketing", "auditor")
# reads one person's data: a participant's BIN/IIN and contacts, the search, a winner's
# page (identity document, contacts), its acts, scans and photo
PERSONAL_DATA = ("admin", "marketing", "auditor")
# the audit trail: staff's addresses, sign-ins and every action, its export and check
AUDIT = ("admin", "auditor")

# Sign-in (see ``authenticate``). Five failures from one client address within 15
# minutes, whatever the accounts, lock that address out for 15 minutes: this is also the
# lock-out of an account from that address. An account is never locked from everywhere
# (anyone could then lock a known administrator out): once it has 10 failures within 15
# minutes from all addresses together, it is slowed to one password check a minute,
# except from an address where it signed in successfully within 30 days.
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
LOCKOUT_DURATION = timedelta(minutes=15)
ACCOUNT_SLOWDOWN_AFTER = 10
ACCOUNT_SLOWDOWN_INTERVAL = timedelta(minutes=1)
KNOWN_ADDRESS_FOR = timedelta(days=30)
# Any constant: PostgreSQL's advisory lock that serialises the sign-in decisions.
SIGN_IN_LOCK = 0x5349474E


def active_account(email: str) -> StaffUser | None:
    """The active staff account with this e-mail, or None."""
    account = db.session.scalar(sa.select(StaffUser).filter_by(email=normalise_email(email)))
    return account if account is not None and account.active else None


def marketing_manager(email: str | None, default_language: str) -> tuple[str, str] | None:
    """The manager's address (``MARKETING_MANAGER_EMAIL``) and the language to write in:
    the account's when the manager is staff, else ``default_language``; None without one."""
    if not email:
        return None
    account = db.session.scalar(sa.select(StaffUser).filter_by(email=email.lower()))
    return email, getattr(account, "language", None) or default_language


# --- passwords ---------------------------------------------------------------------

# Why a password is refused, in the order they are told.
PASSWORD_PROBLEMS = ("too-short", "blank", "repetitive", "common", "email", "name")
# Fewer different characters than this, or one character making up half of it, and a
# password is one character (or a few) repeated.
MIN_DIFFERENT_CHARACTERS = 5
# A part of the e-mail or the name shorter than this is not looked for in a password.
SHORTEST_PERSONAL_PART = 3


class PasswordRefused(ValueError):
    """A password that ``password_problems`` refuses; ``problems`` says why (codes)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(", ".join(problems))
        self.problems = problems


def _folded(text: str) -> str:
    """Lower case, without spaces, dots, dashes and other separators."""
    return re.sub(r"[\W_]+", "", text.casefold())


def password_problems(password: str, email: str = "", name: str = "") -> list[str]:
    """Why ``password`` cannot be a staff password for the account ``email`` named
    ``name`` (codes of ``PASSWORD_PROBLEMS``); an empty list when it can.

    At least 12 characters; not only spaces; not one character, or one piece, repeated;
    not on the list of common passwords (``portal.services.passwords``); not containing
    the account's e-mail, the e-mail's part before the @, or the person's name (in any
    case, separators ignored). No rules of composition: a phrase of several words is
    the easiest good password.
    """
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append("too-short")
    if not password.strip():
        problems.append("blank")
        return problems
    folded = password.casefold()
    most = max(folded.count(character) for character in set(folded))
    if (
        len(set(folded)) < MIN_DIFFERENT_CHARACTERS
        or most * 2 >= len(folded)
        or (folded + folded).find(folded, 1) < len(folded)  # one piece repeated
    ):
        problems.append("repetitive")
    if is_common(password) or is_common(password.strip()):
        problems.append("common")
    squeezed = _folded(password)
    email = normalise_email(email)
    local = email.partition("@")[0]
    if any(
        len(_folded(part)) >= SHORTEST_PERSONAL_PART and _folded(part) in squeezed
        for part in (email, local)
        if part
    ):
        problems.append("email")
    if name and len(_folded(name)) >= SHORTEST_PERSONAL_PART and _folded(name) in squeezed:
        problems.append("name")
    return problems


def set_password(account: StaffUser, password: str) -> None:
    """Give ``account`` a new password, or raise ``PasswordRefused`` saying why not."""
    problems = password_problems(password, account.email or "", account.name or "")
    if problems:
        raise PasswordRefused(problems)
    account.set_password(password)


# --- signing in ---------------------------------------------------------------------


def normalise_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt came to.

    ``outcome``: ``ok``; ``failed``; ``now-locked`` (this failure locked the address
    out) or ``now-slowed`` (it slowed the account down); ``locked`` or ``slowed``
    (refused before any password check, until ``until``).
    """

    outcome: str
    user: StaffUser | None = None
    until: datetime | None = None


def _failed():
    """Attempts that failed, or whose check is still running."""
    return sa.or_(LoginAttempt.succeeded.is_(False), LoginAttempt.succeeded.is_(None))


def address_locked_until(ip: str, now: datetime, excluding: int | None = None) -> datetime | None:
    """When sign-in opens again from this client address, or None when it is open."""
    if not ip:
        return None
    failures = db.session.scalars(
        sa.select(LoginAttempt.at)
        .where(
            LoginAttempt.ip == ip,
            _failed(),
            LoginAttempt.at >= now - LOCKOUT_WINDOW,
            LoginAttempt.id != (excluding or 0),
        )
        .order_by(LoginAttempt.at.desc())
        .limit(LOCKOUT_FAILURES)
    ).all()
    if len(failures) < LOCKOUT_FAILURES:
        return None
    until = failures[0] + LOCKOUT_DURATION
    return until if until > now else None


def account_slowed_until(
    email: str, ip: str, now: datetime, excluding: int | None = None
) -> datetime | None:
    """When the next password check for this account may run from this address, while
    the account is slowed down; None when it may run now."""
    since = now - LOCKOUT_WINDOW
    others = LoginAttempt.id != (excluding or 0)
    failures = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.email == email, _failed(), LoginAttempt.at >= since, others)
    )
    if failures < ACCOUNT_SLOWDOWN_AFTER:
        return None
    known = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.email == email,
            LoginAttempt.ip == ip,
            LoginAttempt.succeeded.is_(True),
            LoginAttempt.at >= now - KNOWN_ADDRESS_FOR,
        )
    )
    if known:
        return None
    last = db.session.scalar(
        sa.select(sa.func.max(LoginAttempt.at)).where(
            LoginAttempt.email == email, LoginAttempt.at >= since, others
        )
    )
    until = last + ACCOUNT_SLOWDOWN_INTERVAL if last else None
    return until if until and until > now else None


def locked_until(email: str, ip: str, now: datetime | None = None) -> datetime | None:
    """When sign-in opens again for this account from this address, or None when it is open."""
    now = now or utcnow()
    return address_locked_until(ip, now) or account_slowed_until(normalise_email(email), ip, now)


def _serialise_sign_ins() -> None:
    """Let one sign-in decision at a time run, in every worker: PostgreSQL's advisory
    lock until the transaction ends. SQLite serialises on its own: the attempt's INSERT,
    the transaction's first statement, waits for any other writer."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(SIGN_IN_LOCK)))


def _claim_check(email: str, ip: str, now: datetime) -> tuple[LoginAttempt | None, SignIn | None]:
    """Store the attempt, then decide from the attempts stored before it, in one
    transaction that no other sign-in interleaves with; committed before the (slow)
    password check, so that concurrent attempts count it. A refused attempt is removed."""
    db.session.commit()  # a transaction of its own, starting with the write
    _serialise_sign_ins()
    attempt = LoginAttempt(email=email, ip=ip, succeeded=None, at=now)
    db.session.add(attempt)
    db.session.flush()
    refusal = None
    until = address_locked_until(ip, now, excluding=attempt.id)
    if until:
        refusal = SignIn("locked", until=until)
    elif until := account_slowed_until(email, ip, now, excluding=attempt.id):
        refusal = SignIn("slowed", until=until)
    if refusal:
        db.session.delete(attempt)
        attempt = None
    db.session.commit()
    return attempt, refusal


def authenticate(email: str, password: str, ip: str, now: datetime | None = None) -> SignIn:
    """Check a sign-in from the client address ``ip``; commits.

    At most ``LOCKOUT_FAILURES`` password checks can fail from one address in the window,
    however many attempts arrive at once: the attempt is stored (and counted as a
    failure) before its password is checked, and the decision to check is taken under a
    lock. An unknown e-mail and an inactive account are checked against a hash of the
    same kind, and refused in the same words: the answer takes as long as for a known
    account.
    """
    email = normalise_email(email)
    now = now or utcnow()
    attempt, refusal = _claim_check(email, ip, now)
    if refusal:
        return refusal
    user = db.session.scalar(sa.select(StaffUser).filter_by(email=email))
    if user is None:
        ok = check_no_account_password(password)
    else:
        ok = user.check_password(password) and user.active
    attempt = db.session.get(LoginAttempt, attempt.id)
    attempt.succeeded = ok
    if ok:
        user.last_login_at = now
    db.session.commit()
    if ok:
        return SignIn("ok", user=user)
    if until := address_locked_until(ip, now):
        return SignIn("now-locked", until=until)
    if until := account_slowed_until(email, ip, now):
        return SignIn("now-slowed", until=until)
    return SignIn("failed")


# --- sessions kept on the server ------------------------------------------------------

# Why a session ended.
SESSION_ENDINGS = ("sign-out", "idle", "expired", "password", "role", "deactivated")
# How often the time a session was last seen is written (not on every request).
LAST_SEEN_EVERY = timedelta(minutes=1)


def _token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(user: StaffUser, ip: str, now: datetime | None = None) -> str:
    """Start a session for ``user``; returns the random token for its (signed) cookie."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    db.session.add(
        StaffSession(
            token_sha256=_token_sha256(token),
            user_id=user.id,
            ip=ip or "",
            created_at=now,
            last_seen_at=now,
        )
    )
    return token


def session_account(
    token: str | None, now: datetime, idle: timedelta, lifetime: timedelta
) -> StaffUser | None:
    """The active account whose open session ``token`` names, or None; a session idle
    for longer than ``idle``, or older than ``lifetime``, is ended here. The caller commits."""
    if not token:
        return None
    record = db.session.scalar(sa.select(StaffSession).filter_by(token_sha256=_token_sha256(token)))
    if record is None or record.ended_at is not None:
        return None
    why = None
    if now - record.last_seen_at > idle:
        why = "idle"
    elif now - record.created_at > lifetime:
        why = "expired"
    elif not record.user.active:
        why = "deactivated"
    if why:
        record.ended_at, record.ended_why = now, why
        return None
    if now - record.last_seen_at >= LAST_SEEN_EVERY:
        record.last_seen_at = now
    return record.user


def end_session(token: str | None, why: str = "sign-out", now: datetime | None = None) -> None:
    """End the session ``token`` names (sign-out). The caller commits."""
    if token:
        _end(StaffSession.token_sha256 == _token_sha256(token), why, now)


def end_sessions(
    account: StaffUser, why: str, now: datetime | None = None, keep: str | None = None
) -> int:
    """End every open session of ``account`` but the one ``keep`` names (the session
    making the change); returns how many. The caller commits."""
    condition = StaffSession.user_id == account.id
    if keep:
        condition = sa.and_(condition, StaffSession.token_sha256 != _token_sha256(keep))
    return _end(condition, why, now)


def _end(condition, why: str, now: datetime | None) -> int:
    if why not in SESSION_ENDINGS:
        raise ValueError(f"unknown ending: {why}")
    result = db.session.execute(
        sa.update(StaffSession)
        .where(condition, StaffSession.ended_at.is_(None))
        .values(ended_at=now or utcnow(), ended_why=why)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def sessions_ended_by(changes: dict) -> str | None:
    """Why a change to an account ends its sessions (the password, the role, the account
    deactivated), or None when it does not. ``changes``: field -> [before, after]."""
    if "active" in changes and not changes["active"][1]:
        return "deactivated"
    if "password" in changes:
        return "password"
    if "role" in changes:
        return "role"
    return None
