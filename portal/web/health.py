"""``/healthz`` (the process is alive) and ``/readyz`` (what a request needs answers).

``/healthz`` touches nothing: 200 ``ok`` as long as the process serves requests (for a
process supervisor or a load balancer's liveness probe). ``/readyz`` runs every check
registered for the app, each a function that returns or raises: the database (``SELECT
1``) and the storage (``ping()``) are registered here, the job queue is added with
``add_check(app, "jobs", jobs.ping)``. It answers 200 with each check's state, or 503
when one fails; the body names no error, no address and no secret (the failure's kind
goes to the log). Neither needs a session, a CSRF token or a language.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, Response, current_app, jsonify

from portal.models import db
from portal.services import storage

log = logging.getLogger(__name__)
EXTENSION_KEY = "portal.readiness"
OK, FAILED = "ok", "failed"

Check = Callable[[], object]


def database_check() -> None:
    try:
        db.session.execute(sa.text("SELECT 1"))
    finally:
        db.session.rollback()


def storage_check() -> None:
    storage.current().ping()


def add_check(app: Flask, name: str, check: Check) -> None:
    """Make ``/readyz`` also ask ``check`` (it raises when its part does not answer)."""
    app.extensions[EXTENSION_KEY][name] = check


def run_checks(checks: dict[str, Check]) -> dict[str, str]:
    states = {}
    for name, check in checks.items():
        try:
            check()
        except Exception as error:
            log.warning("readiness check %s failed (%s)", name, type(error).__name__)
            states[name] = FAILED
        else:
            states[name] = OK
    return states


def healthz() -> Response:
    return Response("ok\n", mimetype="text/plain", headers={"Cache-Control": "no-store"})


def readyz() -> tuple[Response, int]:
    states = run_checks(current_app.extensions[EXTENSION_KEY])
    ready = all(state == OK for state in states.values())
    response = jsonify(status=OK if ready else FAILED, checks=states)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if ready else 503


def register(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = {"database": database_check, "storage": storage_check}
    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    app.add_url_rule("/readyz", "readyz", readyz, methods=["GET"])
