"""The job queue: work that leaves the web process, run by ``flask jobs worker`` (huey).

One huey instance, ``queue``, for the whole process; ``init_app`` points it at the
storage the setting ``JOBS_URL`` names:

- ``sqlite:///<path>`` (the default, ``<instance>/jobs.sqlite3``, made 0600): a plain
  file, no server, for ``make run`` and a single machine;
- ``redis://host:port/db``: Redis, for production and several machines;

and ``JOBS_IMMEDIATE`` runs every job at once, inside the call that enqueues it (the
tests, and debugging), with an in-memory queue.

Tasks are declared with ``task`` and ``periodic_task`` (not huey's own decorators):
each run gets an app context of its own. Inside an app (immediate mode, a command) it
is a fresh context of that app; in the worker it is the app ``bind`` was given, which
``flask jobs worker`` does with the app it made. So a task reads settings, the
database and the storage as a request does.

``ping`` raises when the queue's storage does not answer (the readiness check);
``pending_count`` and ``scheduled_count`` say how much is waiting (metrics).
``heartbeat`` and ``last_beat`` let a long job say it is alive, in the queue's own
storage, which every worker shares; the sweep of interrupted imports reads them.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import redis
from flask import Flask, current_app, has_app_context
from huey import Huey
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

log = logging.getLogger(__name__)

NAME = "portal"
FILE_MODE = 0o600
HEARTBEAT_PREFIX = "heartbeat:"
REDIS_CONNECT_TIMEOUT = 5  # seconds


class PortalHuey(Huey):
    """huey, whose storage is chosen after it is made (by ``configure``), so that tasks
    can be declared at import time while the settings come with the app."""

    storage_class = MemoryStorage

    def configure(self, url: str, *, immediate: bool) -> None:
        """Use the storage ``url`` names, or an in-memory one that runs jobs at once."""
        old = self.storage
        self._immediate = immediate
        self.storage = MemoryStorage(self.name) if immediate else storage_for(url, self.name)
        self.url = "memory:" if immediate else url
        if old is not self.storage:
            with contextlib.suppress(Exception):
                old.close()


queue = PortalHuey(NAME, results=False, utc=True)
queue.url = "memory:"
_worker_app: Flask | None = None


def storage_for(url: str, name: str = NAME):
    """The huey storage of a ``JOBS_URL``: ``sqlite:///path`` or ``redis://…``."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        private_file(path)
        return SqliteStorage(name, filename=str(path), timeout=30)
    if url.startswith(("redis://", "rediss://", "unix://")):
        # a Redis that does not answer is an error within seconds (the readiness check),
        # never a wait for the system's TCP timeout
        pool = redis.ConnectionPool.from_url(
            url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT, health_check_interval=30
        )
        return RedisStorage(name, connection_pool=pool)
    raise ValueError(f"JOBS_URL: not a sqlite:/// or redis:// address: {url.split(':', 1)[0]}")


def private_file(path: Path) -> None:
    """Create the queue's SQLite file for the portal's account alone (0600), or make it so."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            os.chmod(path, FILE_MODE)


def init_app(app: Flask) -> None:
    """Point the queue at the app's ``JOBS_URL`` (or run jobs at once: ``JOBS_IMMEDIATE``)."""
    if not app.config.get("JOBS_URL"):
        app.config["JOBS_URL"] = f"sqlite:///{Path(app.instance_path) / 'jobs.sqlite3'}"
    queue.configure(app.config["JOBS_URL"], immediate=bool(app.config.get("JOBS_IMMEDIATE")))


def bind(app: Flask) -> None:
    """The app whose context the worker's tasks run in (``flask jobs worker`` binds its own)."""
    global _worker_app
    _worker_app = app


def the_app() -> Flask:
    """The app a task runs for: the current one, or the worker's."""
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _worker_app is None:
        raise RuntimeError("no app for the job: the worker binds one (portal.services.jobs.bind)")
    return _worker_app


def in_app(function: Callable) -> Callable:
    """``function`` run in an app context of its own (a fresh database session)."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        with the_app().app_context():
            return function(*args, **kwargs)

    return run


def task(**options: Any) -> Callable:
    """Declare a job (huey's ``task`` options), run in an app context."""
    return lambda function: queue.task(**options)(in_app(function))


def periodic_task(when: Callable, **options: Any) -> Callable:
    """Declare a job the worker runs whenever ``when(datetime in UTC)`` is true (checked each minute)."""
    return lambda function: queue.periodic_task(when, **options)(in_app(function))


def ping() -> None:
    """Raise if the queue's storage does not answer."""
    queue.storage.queue_size()


def pending_count() -> int:
    """Jobs waiting in the queue."""
    return queue.pending_count()


def scheduled_count() -> int:
    """Jobs waiting for their time (retries, delayed runs)."""
    return queue.scheduled_count()


@contextlib.contextmanager
def heartbeat(name: str, every: float) -> Iterator[None]:
    """While the block runs, write the time under ``name`` every ``every`` seconds (from a
    thread, so a long statement does not stop it); removed when the block ends."""
    key = HEARTBEAT_PREFIX + name
    stop = threading.Event()

    def beat() -> None:
        while True:
            try:
                queue.put(key, time.time())
            except Exception:  # the queue's storage away for a moment: the next beat tries again
                log.warning("heartbeat %s not written", name, exc_info=True)
            if stop.wait(every):
                return

    queue.put(key, time.time())
    thread = threading.Thread(target=beat, name=f"heartbeat-{name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 5)
        queue.delete(key)


def last_beat(name: str) -> float | None:
    """When the job ``name`` last said it was alive (``time.time()``), if it did."""
    return queue.get(HEARTBEAT_PREFIX + name, peek=True)


def forget_beat(name: str) -> None:
    queue.delete(HEARTBEAT_PREFIX + name)
