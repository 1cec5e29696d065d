"""Staff accounts, their roles, the sign-in attempts that lock-outs count, and the
sessions kept on the server."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.models.base import UTCDateTime, db, utcnow

ROLES = ("admin", "marketing", "commission", "auditor")
MIN_PASSWORD_LENGTH = 12
PASSWORD_METHOD = "scrypt"  # noqa: S105 - a hashing method's name


def password_hash_method() -> str:
    """How new passwords are hashed: the app's ``PASSWORD_HASH_METHOD``, scrypt outside one."""
    if has_app_context():
        return current_app.config.get("PASSWORD_HASH_METHOD", PASSWORD_METHOD)
    return PASSWORD_METHOD


_DUMMY_HASHES: dict[str, str] = {}


def check_no_account_password(password: str) -> bool:
    """Check ``password`` against a hash made the way real ones are, for an e-mail that
    names no account: the answer then takes as long as for a known one. Always False."""
    method = password_hash_method()
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash(secrets.token_hex(16), method=method)
    check_password_hash(_DUMMY_HASHES[method], password)
    return False


class StaffUser(UserMixin, db.Model):
    """A member of staff. Accounts are deactivated, never deleted (the audit trail names them)."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[str] = mapped_column(sa.String(20))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    language: Mapped[str] = mapped_column(sa.String(2), default="kk")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        sa.CheckConstraint(
            "role IN ('admin', 'marketing', 'commission', 'auditor')", name="role_known"
        ),
        sa.CheckConstraint("language IN ('kk', 'ru')", name="language_known"),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def set_password(self, password: str) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
        self.password_hash = generate_password_hash(password, method=password_hash_method())

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<StaffUser {self.email} {self.role}>"


class LoginAttempt(db.Model):
    """One sign-in attempt that reached a password check, kept in the database so that
    lock-outs hold across workers. ``succeeded`` is None while the check runs (it counts
    as a failure until it is known)."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    ip: Mapped[str] = mapped_column(sa.String(64), index=True)
    succeeded: Mapped[bool | None]
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class StaffSession(db.Model):
    """A signed-in session, kept on the server: the browser's signed cookie holds a random
    token whose SHA-256 is stored here. Every request checks it; ending it (sign-out, idle,
    age, a change to the account) signs that browser out, whatever its cookie says."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"), index=True)
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # sign-out, idle, expired, password, role, deactivated
    ended_why: Mapped[str | None] = mapped_column(sa.String(20))

    user: Mapped[StaffUser] = relationship()
