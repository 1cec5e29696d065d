"""Staff: who may do what, signing in with lock-outs after repeated failures, and the
marketing manager who receives notices."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from portal.models import ROLES, LoginAttempt, StaffUser, db, utcnow

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

LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
LOCKOUT_DURATION = timedelta(minutes=15)


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


# --- signing in ---------------------------------------------------------------------


def normalise_email(email: str) -> str:
    return email.strip().lower()


def locked_until(email: str, ip: str, now: datetime | None = None) -> datetime | None:
    """When sign-in opens again for this account or address, or None when it is open."""
    now = now or utcnow()
    since = now - LOCKOUT_WINDOW
    until = None
    for column, value in ((LoginAttempt.email, email), (LoginAttempt.ip, ip)):
        if not value:
            continue
        failures = db.session.scalars(
            sa.select(LoginAttempt.at)
            .where(column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since)
            .order_by(LoginAttempt.at.desc())
            .limit(LOCKOUT_FAILURES)
        ).all()
        if len(failures) >= LOCKOUT_FAILURES:
            candidate = failures[0] + LOCKOUT_DURATION
            if candidate > now and (until is None or candidate > until):
                until = candidate
    return until


def authenticate(email: str, password: str, ip: str) -> tuple[StaffUser | None, str]:
    """Check a sign-in; returns the account or None, and what happened:
    ``ok``, ``locked``, ``failed`` or ``now-locked`` (this failure started a lock-out)."""
    email = normalise_email(email)
    if locked_until(email, ip):
        return None, "locked"
    user = db.session.scalar(sa.select(StaffUser).filter_by(email=email))
    ok = user is not None and user.active and user.check_password(password)
    db.session.add(LoginAttempt(email=email, ip=ip, succeeded=ok))
    db.session.flush()
    if ok:
        user.last_login_at = utcnow()
        return user, "ok"
    return None, "now-locked" if locked_until(email, ip) else "failed"
