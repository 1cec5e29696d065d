"""Flask extensions, created unbound here and initialised in ``create_app``."""

from flask_babel import Babel
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from portal.models.base import db

__all__ = ["babel", "csrf", "db", "login_manager", "migrate"]

babel = Babel()
csrf = CSRFProtect()
migrate = Migrate()

login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = _l("Please sign in to open this page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"
