"""The public site, under a language prefix, and the few URLs outside it."""

from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/<lang>")
site_bp = Blueprint("site", __name__)

from portal.public import routes  # noqa: E402,F401
from portal.public import subscriptions  # noqa: E402,F401
from portal.public import check  # noqa: E402,F401
