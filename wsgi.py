"""WSGI entry point: ``flask --app wsgi ...`` and production servers use ``app``."""

from portal import create_app

app = create_app()
