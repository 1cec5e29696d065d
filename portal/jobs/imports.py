"""A month's file uploaded in the browser, imported by the worker; and the sweep that ends
the imports whose job was interrupted.

The upload page streams the file to the storage (``imports/<batch id>.<ext>``), records
the batch (pending) and enqueues ``run_import``. The job reads the file from the
storage, runs the import (``campaign.imports.finish_import``), and removes the file
when the import ends, done or failed. While it runs it writes a heartbeat every
``JOBS_HEARTBEAT_SECONDS`` into the queue's storage.

An import whose job dies (the worker killed, stopped, its machine gone) is ended by
``sweep``, which the worker runs when it starts, ``JOBS_STALE_SECONDS`` after it
starts, and every minute: a batch still pending or running whose heartbeat is older
than ``JOBS_STALE_SECONDS`` (or that has none and has been in no queue for that long:
a job just taken from the queue writes its first beat at once) fails for the reason
``interrupted``, on its page and in the audit trail; its staged
rows and its stored file are removed. huey's ``interrupted`` signal (a worker stopped
by SIGTERM with the job running) ends it at once, the same way.
"""

from __future__ import annotations

import logging
import time
from datetime import date

import sqlalchemy as sa
from flask import current_app
from huey.signals import SIGNAL_INTERRUPTED

from portal.campaign import imports
from portal.campaign.audit import Actor
from portal.jobs.schedule import every_minute
from portal.models import ImportBatch, db, utcnow
from portal.services import jobs, storage, tabular

log = logging.getLogger(__name__)

PREFIX = "imports/"
MISSING_PREFIX = "missing:"  # when the sweep first found a batch neither queued nor beating
ORPHAN_PREFIX = "orphan-file:"  # when the sweep first found a stored file with no batch
WORKER = Actor(label="jobs")


def file_key(batch_id: int, filename: str) -> str:
    """Where an upload waits for its job: ``imports/<batch id>.<csv|xlsx>``."""
    extension = "xlsx" if filename.lower().endswith(".xlsx") else "csv"
    return f"{PREFIX}{batch_id}.{extension}"


def beat_name(batch_id: int) -> str:
    return f"import:{batch_id}"


@jobs.task()
def run_import(
    batch_id: int, key: str, replace: bool, actor_id: int | None, ip: str, today: date
) -> None:
    """Import the stored file of batch ``batch_id`` (recorded by ``start_import``)."""
    config = current_app.config
    files = storage.current()
    try:
        with jobs.heartbeat(beat_name(batch_id), config["JOBS_HEARTBEAT_SECONDS"]):
            batch = db.session.get(ImportBatch, batch_id)
            if batch is None or batch.status not in (ImportBatch.PENDING, ImportBatch.RUNNING):
                return  # ended meanwhile (the sweep failed it): nothing to do but tidy up
            db.session.rollback()
            # read as a stream, never whole (a stored object's body through a temporary file)
            with files.open(key) as body, tabular.seekable(body) as stream:
                imports.finish_import(
                    batch_id, stream, replace, actor_id, ip, today, config["IMPORT_MAX_ROWS"]
                )
    finally:
        files.delete(key)


@jobs.periodic_task(every_minute)
def sweep_every_minute() -> None:
    sweep()


@jobs.task()
def sweep_now() -> None:
    sweep()


def sweep(now: float | None = None) -> list[int]:
    """End the imports whose job was interrupted, tidy what ended imports left; the ids ended."""
    now = time.time() if now is None else now
    stale_after = current_app.config["JOBS_STALE_SECONDS"]
    queued = _queued_batches()
    ended = []
    for batch in imports.open_batches():
        name = beat_name(batch.id)
        beat = jobs.last_beat(name)
        if beat is None:
            age = (utcnow() - batch.created_at).total_seconds()
            if batch.id in queued or age < stale_after:
                jobs.queue.delete(MISSING_PREFIX + name)
                continue  # waiting for a worker, or only just recorded
            # neither queued nor beating: lost, or just taken from the queue by a worker
            # that has not written its first beat yet; lost once it stays so
            missing_since = jobs.queue.get(MISSING_PREFIX + name, peek=True)
            if missing_since is None:
                jobs.queue.put(MISSING_PREFIX + name, now)
                continue
            if now - missing_since < stale_after:
                continue
        elif now - beat < stale_after:
            continue  # alive
        if interrupt(batch.id):
            ended.append(batch.id)
    imports.drop_leftovers()
    _drop_files(now, stale_after)
    return ended


def interrupt(batch_id: int) -> bool:
    """Fail an import whose job stopped, remove its stored file and heartbeat."""
    ended = imports.abandon(batch_id, actor=WORKER)
    if ended:
        log.warning("import %s interrupted: its job stopped; failed and tidied", batch_id)
    for key in storage.current().keys(f"{PREFIX}{batch_id}."):
        storage.current().delete(key)
    jobs.forget_beat(beat_name(batch_id))
    jobs.queue.delete(MISSING_PREFIX + beat_name(batch_id))
    return ended


def _queued_batches() -> set[int]:
    """The batches whose job waits in the queue."""
    return {
        task.args[0]
        for task in jobs.queue.pending() + jobs.queue.scheduled()
        if isinstance(task, run_import.task_class) and task.args
    }


def _drop_files(now: float, stale_after: float) -> None:
    """Remove the stored uploads of imports that have ended, and of batches that were
    never recorded (the upload page stores the file, then commits its batch: a failed
    commit leaves the file alone) once they have been seen so for ``stale_after``
    seconds (a file whose batch is being committed stays)."""
    files = storage.current()
    stored: dict[int, list[str]] = {}
    for key in files.keys(PREFIX):
        stem = key.removeprefix(PREFIX).split(".", 1)[0]
        if stem.isdigit():
            stored.setdefault(int(stem), []).append(key)
    if not stored:
        return
    statuses = dict(
        db.session.execute(
            sa.select(ImportBatch.id, ImportBatch.status).where(ImportBatch.id.in_(stored))
        ).all()
    )
    db.session.rollback()
    for batch_id, keys in stored.items():
        status = statuses.get(batch_id)
        if status in (ImportBatch.PENDING, ImportBatch.RUNNING):
            continue
        if status is None:
            marker = f"{ORPHAN_PREFIX}{batch_id}"
            seen = jobs.queue.get(marker, peek=True)
            if seen is None:
                jobs.queue.put(marker, now)
                continue
            if now - seen < stale_after:
                continue
            jobs.queue.delete(marker)
            log.warning("import file of batch %s without its batch: removed", batch_id)
        for key in keys:
            files.delete(key)


@jobs.queue.signal(SIGNAL_INTERRUPTED)
def on_interrupted(signal: str, task) -> None:
    """The worker stopped with an import running: end it now rather than at the next sweep."""
    if not isinstance(task, run_import.task_class) or not task.args:
        return
    try:
        with jobs.the_app().app_context():
            interrupt(task.args[0])
    except Exception:  # the process is stopping: the sweep at the next start does it
        log.exception("import %s: not ended at the worker's stop", task.args[0])
