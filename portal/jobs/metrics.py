"""What the job worker counts for Prometheus, served by the worker itself.

The web's ``/metrics`` reports the queue (jobs waiting, imports and mail by status,
read from the database and the queue at each scrape); what only the worker sees is
counted here, from huey's signals: each job's outcome (``complete``, ``error``,
``interrupted``, ``retrying``, ``expired``, ``revoked``) and how long it ran. With
``JOBS_METRICS_PORT`` set, ``flask jobs worker`` serves them in Prometheus's text
format on ``127.0.0.1:<port>/metrics`` (loopback only: a scraper on the same machine,
or a tunnel). Labels are job names, never a job's arguments.
"""

from __future__ import annotations

import threading
import time

from huey import signals
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

REGISTRY = CollectorRegistry()
JOBS = Counter(
    "portal_jobs",
    "Jobs the worker ended, by job and outcome",
    ["job", "outcome"],
    registry=REGISTRY,
)
DURATION = Histogram(
    "portal_job_duration_seconds",
    "How long a job ran, by job",
    ["job"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
    registry=REGISTRY,
)
OUTCOMES = {
    signals.SIGNAL_COMPLETE: "complete",
    signals.SIGNAL_ERROR: "error",
    signals.SIGNAL_INTERRUPTED: "interrupted",
    signals.SIGNAL_RETRYING: "retrying",
    signals.SIGNAL_EXPIRED: "expired",
    signals.SIGNAL_REVOKED: "revoked",
}


class JobCounter:
    """huey signal receivers that count each job's outcome and time it."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()

    def executing(self, signal: str, task, *args) -> None:
        with self.lock:
            self.started[task.id] = time.monotonic()

    def ended(self, signal: str, task, *args) -> None:
        JOBS.labels(task.name, OUTCOMES[signal]).inc()
        with self.lock:
            began = self.started.pop(task.id, None)
        if began is not None:
            DURATION.labels(task.name).observe(time.monotonic() - began)


def count(queue) -> JobCounter:
    """Count the jobs ``queue`` runs in this process (the worker's)."""
    counter = JobCounter()
    queue.signal(signals.SIGNAL_EXECUTING)(counter.executing)
    queue.signal(*OUTCOMES)(counter.ended)
    return counter


def serve(port: int) -> None:
    """Serve the worker's figures on ``127.0.0.1:port`` (a thread of its own)."""
    start_http_server(port, addr="127.0.0.1", registry=REGISTRY)
