"""Who is asking: the signed-in staff member, the role rule of each view, safe redirects."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, g, has_request_context, request, session
from flask_login import current_user

from portal.campaign import staff
from portal.campaign.audit import Actor
from portal.extensions import login_manager
from portal.models import ROLES, StaffUser, db, utcnow

# The key of Flask's signed session cookie that holds the server-side session's token.
SESSION_TOKEN = "staff_session"  # noqa: S105 - a cookie key's name
# Requests that load no account: static files, and the probes and metrics
# (portal/web/health.py, metrics.py), which must stay cheap and need no session.
SESSIONLESS_ENDPOINTS = frozenset({"static", "healthz", "readyz", "metrics", "site.verify_script"})


def load_user(user_id: str) -> StaffUser | None:
    """The signed-in account: the one whose session, kept on the server, the cookie's
    token names, while that session is open (not signed out, idle or too old, nor ended
    by a change to the account). Runs before the view (``check_session``): it commits
    the session's end, or the time it was last seen."""
    account = staff.session_account(
        session.get(SESSION_TOKEN),
        utcnow(),
        idle=timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]),
        lifetime=timedelta(hours=current_app.config["SESSION_MAX_HOURS"]),
    )
    db.session.commit()
    if account is None or str(account.id) != user_id:
        session.pop(SESSION_TOKEN, None)
        session.pop("_user_id", None)
        return None
    return account


def check_session() -> None:
    """Before every request but static files: load the signed-in account, so that its
    session is checked (and its bookkeeping committed) before the view does anything."""
    if request.endpoint not in SESSIONLESS_ENDPOINTS:
        current_user._get_current_object()


def start_session(user: StaffUser) -> None:
    """After a successful sign-in: a new session on the server, its token in a fresh
    cookie (nothing from before the sign-in is kept, the CSRF token neither). The caller
    commits."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    session[SESSION_TOKEN] = staff.open_session(user, client_address())


def end_session() -> None:
    """Sign-out: the session ends on the server, whatever becomes of the cookie. The
    caller commits."""
    staff.end_session(session.pop(SESSION_TOKEN, None), "sign-out")


def session_token() -> str | None:
    """The token of this request's session (to keep it when its account changes)."""
    return session.get(SESSION_TOKEN)


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


def may_open(endpoint: str) -> bool:
    """Whether the signed-in staff member's role may open ``endpoint`` (its view's role
    rule): what a page links or offers follows the rules the views enforce."""
    view = current_app.view_functions.get(endpoint)
    allowed = getattr(view, "allowed_roles", ())
    return current_user.is_authenticated and current_user.role in allowed


def is_safe_next(target: str | None) -> bool:
    """Only a local path may be the target of the redirect after sign-in: no scheme, no
    host, and no control character (a CR/LF would split the Location header; a browser
    drops tabs and line breaks from a URL, so ``/\t/evil.example`` would leave the site)."""
    if not target or any(unicodedata.category(char) == "Cc" for char in target):
        return False
    parts = urlsplit(target)
    return (
        not parts.scheme
        and not parts.netloc
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
    )


def client_address() -> str:
    """The address the request came from (behind a proxy, configure ProxyFix)."""
    if not has_request_context():
        return ""
    return request.remote_addr or ""


def current_actor(label: str = "") -> Actor:
    """Who acts in this request: the signed-in staff member (or ``label``), and from where."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return Actor(user=user, label=label, ip=client_address())
