"""Staff accounts, their roles, and the sign-in attempts that lock-outs count."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from portal.models.base import UTCDateTime, db, utcnow

ROLES = ("admin", "marketing", "commission", "auditor")
MIN_PASSWORD_LENGTH = 12
PASSWORD_METHOD = "scrypt"  # noqa: S105 - a hashing method's name


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
        method = (
            current_app.config.get("PASSWORD_HASH_METHOD", PASSWORD_METHOD)
            if has_app_context()
            else PASSWORD_METHOD
        )
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<StaffUser {self.email} {self.role}>"


class LoginAttempt(db.Model):
    """One sign-in attempt, kept in the database so that lock-outs hold across workers."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    ip: Mapped[str] = mapped_column(sa.String(64), index=True)
    succeeded: Mapped[bool]
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
