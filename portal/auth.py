"""Staff sign-in: Flask-Login, lock-outs after repeated failures, and the role rules of views."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user

from portal.models import ROLES, LoginAttempt, StaffUser, db, utcnow

LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
LOCKOUT_DURATION = timedelta(minutes=15)

# Who may do what: readers see the staff area, the others act in their field.
EVERY_ROLE = ROLES
ADMIN = ("admin",)
MARKETING = ("marketing", "admin")
COMMISSION = ("commission", "admin")

login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = _l("Please sign in to open this page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    """The signed-in account, if it still exists."""
    try:
        return db.session.get(StaffUser, int(user_id))
    except ValueError:
        return None


def roles_required(*roles: str) -> Callable:
    """Allow a view only to signed-in staff with one of ``roles``; others get 403."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {unknown}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapper.allowed_roles = tuple(roles)
        return wrapper

    return decorator


def is_safe_next(target: str | None) -> bool:
    """Only a local path may be the target of the redirect after sign-in."""
    if not target:
        return False
    parts = urlsplit(target)
    return (
        not parts.scheme
        and not parts.netloc
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
    )


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
