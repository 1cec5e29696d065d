"""Work that outlives the request that started it: a thread with the app's context.

The state of such work lives in the database (an import batch's status and
progress), so any worker process can report on it. With ``BACKGROUND_THREADS`` off
(a setting for debugging), the work runs before the response is sent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from flask import Flask, current_app

log = logging.getLogger(__name__)


def start(work: Callable[..., None], *args) -> threading.Thread | None:
    """Run ``work(*args)`` in the app's context, in a thread of its own."""
    app: Flask = current_app._get_current_object()

    def run() -> None:
        with app.app_context():
            try:
                work(*args)
            except Exception:  # the work records its own failure; this keeps the log
                log.exception("background work %s failed", getattr(work, "__name__", work))

    if not app.config.get("BACKGROUND_THREADS", True):
        run()
        return None
    thread = threading.Thread(
        target=run, name=f"portal-{getattr(work, '__name__', 'work')}", daemon=True
    )
    thread.start()
    return thread
