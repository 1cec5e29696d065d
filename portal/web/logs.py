"""What the logs keep: request lines and messages without the tokens of private links,
and errors without the values of the statements that failed; in production one JSON
object a line, each carrying the id of the request it was written in.

The access log of the development server (``werkzeug``) and of gunicorn, the app's own
log (Flask's "Exception on /kk/winner/<token> [GET]") and the portal's modules' logs get
a filter that masks every private link's token (``portal.services.redaction``), as in
``GET /kk/winner/… HTTP/1.1``, and, in a logged error, the lines in which PostgreSQL
quotes the values of a row (``DETAIL:  Key (email)=(…) already exists.``). SQLAlchemy
itself never writes a statement's values into an error (``hide_parameters``, set by the
app factory).

``LOG_FORMAT = "json"`` (production) puts one handler on the root logger that writes
every record as a JSON line (python-json-logger) through the same filter, with the
request id (``request_id``); ``"text"`` (the default, ``make run``) leaves Python's and
Flask's own logging as it is. Every request gets an id: the ``X-Request-ID`` its proxy
sent when the proxy is trusted (``TRUSTED_PROXY_COUNT`` > 0) and the id looks sane,
otherwise a new one; it is sent back in the answer's ``X-Request-ID`` header, and one
access record (``portal.access``) per request names the method, the path (tokens
masked, no query string), the status, the duration, the id and the client's address
(kept for investigating abuse; see docs/DESIGN.md). Gunicorn's own logs use the same
JSON lines (gunicorn.conf.py's ``logconfig_dict``), on the handler the app then takes over.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from flask import Flask
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from portal.services.redaction import redact_links

# the servers' loggers, and the job worker's (huey's own "Unhandled exception in task"
# carries a failed job's traceback)
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "huey", "huey.consumer")
ACCESS_LOGGER = "portal.access"
LOG_FORMATS = ("text", "json")
# PostgreSQL's detail of an error, which quotes the row's values
DATABASE_DETAIL = re.compile(r"^DETAIL:.*$", re.MULTILINE)
DETAIL_HIDDEN = "DETAIL: (values hidden)"
# the query string of a request line ("GET /path?email=… HTTP/1.1"): its values may be
# personal data (an audit filter's e-mail), so a request line keeps only "?…"
REQUEST_LINE_QUERY = re.compile(r"((?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) [^\s?\"]*)\?[^\s\"]*")

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_ENVIRON = "portal.request_id"
# what a proxy's request id may look like (nginx's $request_id: 32 hex digits)
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}")
MAX_LOGGED_PATH = 512

_request_id: ContextVar[str | None] = ContextVar("portal_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served in this thread, if any."""
    return _request_id.get()


def mask(text: str) -> str:
    """``text`` without the tokens of private links nor the query strings of request lines."""
    return REQUEST_LINE_QUERY.sub(r"\1?…", redact_links(text) or "")


def hide_details(text: str) -> str:
    """A traceback's text with tokens masked and PostgreSQL's row values hidden."""
    return DATABASE_DETAIL.sub(DETAIL_HIDDEN, mask(text))


class RedactingFilter(logging.Filter):
    """Masks the tokens of private links (and request lines' query strings) in a
    record's message, and the values a database error quotes in its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = mask(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = hide_details(text)
        return True


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on the record (``request_id``, None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id.get()
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object a line: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, ``process``, ``request_id`` and a record's extra fields; a traceback as
    ``exc_info``, its tokens and PostgreSQL's row values hidden."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not args and "fmt" not in kwargs:
            kwargs["fmt"] = ["levelname", "name", "message", "process"]
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        super().__init__(*args, **kwargs)

    def formatException(self, ei: Any) -> str:
        return hide_details(super().formatException(ei))


def json_handler(stream: Any = None) -> logging.Handler:
    """A handler writing JSON lines to ``stream`` (stderr), through both filters."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactingFilter())
    return handler


def portal_json_handler() -> logging.Handler | None:
    """The root logger's JSON handler, if one is installed: ours, or the one gunicorn's
    ``logconfig_dict`` (gunicorn.conf.py) put there, which then gets our formatter and
    filters (that file imports nothing of the portal, so it cannot name them)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, _JsonFormatter):
            if not isinstance(handler.formatter, JsonFormatter):
                handler.setFormatter(JsonFormatter())
            for kind in (RequestIdFilter, RedactingFilter):
                if not any(isinstance(existing, kind) for existing in handler.filters):
                    handler.addFilter(kind())
            return handler
    return None


def use_json_logs(level: str | int = "INFO") -> logging.Handler:
    """Every record as a JSON line on stderr: one handler on the root logger (kept if
    gunicorn's ``logconfig_dict`` already put one there); Flask's own text handler off."""
    root = logging.getLogger()
    handler = portal_json_handler()
    if handler is None:
        handler = json_handler()
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("portal").removeHandler(default_handler)
    return handler


def incoming_request_id(environ: dict, trusted_proxies: int) -> str | None:
    """The proxy's ``X-Request-ID``, when a proxy is trusted and the id looks sane."""
    if trusted_proxies <= 0:
        return None
    value = environ.get("HTTP_X_REQUEST_ID", "")
    return value if SANE_REQUEST_ID.fullmatch(value) else None


class RequestLog:
    """WSGI middleware: the request's id (in the log records and the answer's header)
    and one access record per request."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app, self.wsgi_app = app, wsgi_app
        self.log = logging.getLogger(ACCESS_LOGGER)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        trusted = int(self.app.config.get("TRUSTED_PROXY_COUNT") or 0)
        request_id = incoming_request_id(environ, trusted) or uuid.uuid4().hex
        environ[REQUEST_ID_ENVIRON] = request_id
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status: list[str] = []

        def start(line: str, headers: list, exc_info: Any = None) -> Callable:
            status[:] = [line]
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append((REQUEST_ID_HEADER, request_id))
            return start_response(line, headers, exc_info)

        # Flask has made the whole answer (and called ``start``) when it returns: the
        # id is this thread's until then, and no longer, whoever closes the answer.
        try:
            body = self.wsgi_app(environ, start)
        except BaseException:
            self.record(environ, "500", started)
            raise
        else:
            self.record(environ, status[0] if status else "500", started)
        finally:
            _request_id.reset(token)
        return body

    def record(self, environ: dict, status_line: str, started: float) -> None:
        if not self.log.isEnabledFor(logging.INFO):
            return  # nobody keeps it (the text logs' default): not worth its masking
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        path = mask(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
        path = path[:MAX_LOGGED_PATH]
        method = environ.get("REQUEST_METHOD", "")
        status = int(status_line.split(" ", 1)[0])
        self.log.info(
            "%s %s %s %.1fms",
            method,
            path,
            status,
            duration_ms,
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
                "remote_addr": environ.get("REMOTE_ADDR"),
            },
        )


def register(app: Flask) -> None:
    """Choose the log format (``LOG_FORMAT``), put the request id and access record
    around the app, and the filter on the request loggers, the app's logger and its
    modules' (a logger's filter sees only what is logged to that logger itself), once each."""
    log_format = app.config.get("LOG_FORMAT") or "text"
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}: {log_format!r}")
    if log_format == "json":
        use_json_logs(app.config.get("LOG_LEVEL") or "INFO")
    app.wsgi_app = RequestLog(app, app.wsgi_app)  # type: ignore[method-assign]
    prefix = f"{app.logger.name}."
    names = {*REQUEST_LOGGERS, app.logger.name, ACCESS_LOGGER}
    names.update(name for name in logging.root.manager.loggerDict if name.startswith(prefix))
    for name in sorted(names):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactingFilter) for existing in logger.filters):
            logger.addFilter(RedactingFilter())
