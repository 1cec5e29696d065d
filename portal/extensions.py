"""Flask extensions, created unbound here and initialised in ``create_app``."""

from flask_babel import Babel
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from portal.models.base import db

__all__ = ["babel", "csrf", "db", "migrate"]

babel = Babel()
csrf = CSRFProtect()
migrate = Migrate()
