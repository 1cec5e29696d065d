"""Prometheus metrics at ``/metrics``: requests per endpoint, and the campaign's work
read from the database at scrape time.

Requests are counted and timed by prometheus-flask-exporter, labelled by the Flask
endpoint (``public.winner_page``), never by the raw path (which carries tokens and ids).
Under gunicorn with several workers each process writes its figures to files in
``PROMETHEUS_MULTIPROC_DIR`` (set in the environment before the portal is imported) and
a scrape sums them (``prometheus_client.multiprocess``); ``child_exit`` is gunicorn's
hook that marks a dead worker's files.

The business figures (imports, draws and mail by status, the oldest unsent e-mail's
age, and whatever ``add_gauge`` adds, such as the job queue's length) are read from the
database by a collector when ``/metrics`` is asked, so every worker answers the same.

``/metrics`` is not public: only clients in ``METRICS_ALLOWED_NETWORKS`` (loopback by
default) or with ``Authorization: Bearer <METRICS_TOKEN>`` get it; others get a 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, Response, current_app, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_flask_exporter import PrometheusMetrics

from portal.models import Draw, DrawAttempt, ImportBatch, OutboxMessage, db

log = logging.getLogger(__name__)
EXTENSION_KEY = "portal.metrics"
MULTIPROC_VARIABLES = ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir")
# requests not worth a latency series of their own
UNTRACKED_PATHS = [r"^/metrics$", r"^/healthz$", r"^/readyz$", r"^/static/"]
FORWARDING_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")

# A gauge read at scrape time: a number, or {label value: number} with ``label``.
Reading = Callable[[], float | int | dict[str, float | int]]


@dataclass
class Gauge:
    name: str
    documentation: str
    read: Reading
    label: str | None = None


@dataclass
class Metrics:
    """The app's exporter, its own registry and the gauges read at scrape time."""

    exporter: PrometheusMetrics
    registry: CollectorRegistry
    gauges: list[Gauge] = field(default_factory=list)


def multiprocess_dir() -> str | None:
    """The folder of gunicorn's per-process figures, when one is configured."""
    return next((os.environ[name] for name in MULTIPROC_VARIABLES if os.environ.get(name)), None)


def child_exit(server: object, worker: object) -> None:
    """Gunicorn's ``child_exit`` hook: a dead worker's live gauges stop counting."""
    if multiprocess_dir():
        prometheus_multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def clear_multiprocess_dir() -> None:
    """Remove the figures of processes that ran before (gunicorn's ``on_starting``)."""
    folder = multiprocess_dir()
    if not folder or not os.path.isdir(folder):
        return
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.unlink(os.path.join(folder, name))


def _count_by(column: sa.ColumnElement, known: tuple[str, ...]) -> dict[str, int]:
    counts = dict.fromkeys(known, 0)
    for value, number in db.session.execute(sa.select(column, sa.func.count()).group_by(column)):
        counts[str(value)] = number
    return counts


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _gauge(name: str, documentation: str, values: dict[str, float | int], label: str) -> Metric:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value, number in sorted(values.items()):
        family.add_metric([value], number)
    return family


class BusinessCollector:
    """Reads the campaign's work from the database when the metrics are scraped
    (inside the ``/metrics`` request, so with an app context)."""

    def __init__(self, gauges: list[Gauge]) -> None:
        self.gauges = gauges

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "portal_database_metrics_up", "1 when the database answered the metrics' queries"
        )
        try:
            yield from self.database_figures()
        except sa.exc.SQLAlchemyError as error:
            db.session.rollback()
            log.warning("metrics: database figures unavailable (%s)", type(error).__name__)
            up.add_metric([], 0)
        else:
            up.add_metric([], 1)
        yield up
        yield from self.added_gauges()

    def database_figures(self) -> Iterator[Metric]:
        imports = _count_by(
            ImportBatch.status,
            (
                ImportBatch.PENDING,
                ImportBatch.RUNNING,
                ImportBatch.DONE,
                ImportBatch.FAILED,
                ImportBatch.REPLACED,
            ),
        )
        draws = _count_by(Draw.source, (Draw.RANDOM_ORG, Draw.LOCAL))
        statuses = (
            OutboxMessage.PENDING,
            OutboxMessage.SENDING,
            OutboxMessage.SENT,
            OutboxMessage.FAILED,
        )
        mail = _count_by(OutboxMessage.status, statuses)
        oldest = db.session.scalar(
            sa.select(sa.func.min(OutboxMessage.created_at)).where(
                OutboxMessage.status.in_((OutboxMessage.PENDING, OutboxMessage.SENDING))
            )
        )
        figures = [
            _gauge("portal_imports", "Import batches by status", imports, "status"),
            _gauge("portal_draws", "Draws made, by source of randomness", draws, "source"),
            _gauge("portal_mail_outbox", "E-mails in the outbox by status", mail, "status"),
        ]
        attempts = _count_by(DrawAttempt.state, DrawAttempt.STATES)
        figures.append(
            _gauge(
                "portal_draw_attempts",
                "Draw attempts by state (pending: waiting for random.org; failed: kept "
                "with their reason)",
                attempts,
                "state",
            )
        )
        age = GaugeMetricFamily(
            "portal_mail_oldest_unsent_seconds",
            "Age of the oldest e-mail not sent yet (0 when none waits)",
        )
        waited = (datetime.now(UTC) - _aware(oldest)).total_seconds() if oldest else 0.0
        age.add_metric([], max(waited, 0.0))
        figures.append(age)
        db.session.rollback()  # read only: end the transaction
        return iter(figures)

    def added_gauges(self) -> Iterator[Metric]:
        for gauge in self.gauges:
            try:
                value = gauge.read()
            except Exception as error:
                log.warning("metrics: %s unavailable (%s)", gauge.name, type(error).__name__)
                continue
            if isinstance(value, dict):
                yield _gauge(gauge.name, gauge.documentation, value, gauge.label or "kind")
            else:
                family = GaugeMetricFamily(gauge.name, gauge.documentation)
                family.add_metric([], float(value))
                yield family


def add_gauge(
    app: Flask, name: str, documentation: str, read: Reading, label: str | None = None
) -> None:
    """Report ``read()`` as gauge ``name`` at every scrape, e.g. the job queue's length:
    ``add_gauge(app, "portal_jobs_pending", "Jobs waiting", jobs.pending_count)``. A
    source that raises is left out of that scrape (and logged)."""
    app.extensions[EXTENSION_KEY].gauges.append(Gauge(name, documentation, read, label))


def _networks(app: Flask) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(network, strict=False)
        for network in app.config.get("METRICS_ALLOWED_NETWORKS") or ()
    ]


def allowed() -> bool:
    """May this request read the metrics?"""
    config = current_app.config
    token = config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    if not int(config.get("TRUSTED_PROXY_COUNT") or 0) and any(
        name in request.headers for name in FORWARDING_HEADERS
    ):
        return False  # came through a proxy we do not trust: its address is the proxy's
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    return any(address in network for network in _networks(current_app))


def metrics_view() -> Response:
    if not allowed():
        return Response("forbidden\n", status=403, mimetype="text/plain")
    metrics: Metrics = current_app.extensions[EXTENSION_KEY]
    registry = CollectorRegistry()
    if multiprocess_dir():
        prometheus_multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(metrics.registry)
    registry.register(BusinessCollector(metrics.gauges))
    return Response(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


def register(app: Flask) -> None:
    """Count and time requests by endpoint, and serve ``/metrics`` to those allowed."""
    _networks(app)  # a mistyped network fails at start, not at the first scrape
    registry = CollectorRegistry(auto_describe=False)
    exporter = PrometheusMetrics(
        app,
        path=None,
        registry=registry,
        group_by="endpoint",
        defaults_prefix="portal",
        excluded_paths=UNTRACKED_PATHS,
    )
    app.extensions[EXTENSION_KEY] = Metrics(exporter, registry)
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
