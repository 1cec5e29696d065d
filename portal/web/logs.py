"""What the logs keep: request lines and messages without the tokens of private links,
and errors without the values of the statements that failed.

The access log of the development server (``werkzeug``) and of gunicorn, the app's own
log (Flask's "Exception on /kk/winner/<token> [GET]") and the portal's modules' logs get
a filter that masks every private link's token (``portal.services.redaction``), as in
``GET /kk/winner/… HTTP/1.1``, and, in a logged error, the lines in which PostgreSQL
quotes the values of a row (``DETAIL:  Key (email)=(…) already exists.``). SQLAlchemy
itself never writes a statement's values into an error (``hide_parameters``, set by the
app factory).
"""

from __future__ import annotations

import logging
import re

from flask import Flask

from portal.services.redaction import redact_links

REQUEST_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")
# PostgreSQL's detail of an error, which quotes the row's values
DATABASE_DETAIL = re.compile(r"^DETAIL:.*$", re.MULTILINE)
DETAIL_HIDDEN = "DETAIL: (values hidden)"


class RedactingFilter(logging.Filter):
    """Masks the tokens of private links in a record's message, and the values a
    database error quotes in its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_links(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = DATABASE_DETAIL.sub(DETAIL_HIDDEN, redact_links(text))
        return True


def register(app: Flask) -> None:
    """Put the filter on the request loggers, the app's logger and its modules' (a
    logger's filter sees only what is logged to that logger itself), once each."""
    prefix = f"{app.logger.name}."
    names = {*REQUEST_LOGGERS, app.logger.name}
    names.update(name for name in logging.root.manager.loggerDict if name.startswith(prefix))
    for name in sorted(names):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactingFilter) for existing in logger.filters):
            logger.addFilter(RedactingFilter())
