"""The public site, under a language prefix, and the few URLs outside it."""

from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/<lang:lang>")
site_bp = Blueprint("site", __name__)

# The views register themselves on the blueprints above.
from portal.public import check, draws, egov, legacy, routes, subscriptions, winner  # noqa: E402, F401
