"""The staff area under /admin: sign-in, dashboard, accounts, rules, announcements, audit."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from portal.admin import (  # noqa: E402, F401
    acts_routes,
    campaigns_routes,
    draws_routes,
    imports_routes,
    participants_routes,
    routes,
    rules_routes,
    winners_routes,
)
