"""``flask --app wsgi jobs …``: the job worker (imports, mail, deadline notices, photos)."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from portal import jobs as portal_jobs
from portal.jobs import metrics as job_metrics
from portal.services import jobs
from portal.web import logs


@click.group("jobs")
def jobs_cli() -> None:
    """The job queue and its worker."""


@jobs_cli.command("worker")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Threads running jobs (JOBS_WORKERS, 2, by default).",
)
@with_appcontext
def worker_command(workers: int | None) -> None:
    """Run the jobs as they come, and the periodic ones (mail each minute, deadline notices
    each day at 09:00 in Almaty, the sweep of interrupted imports), until stopped."""
    app = current_app._get_current_object()
    if jobs.queue.immediate:
        raise click.ClickException("JOBS_IMMEDIATE is on: jobs run where they are enqueued")
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
        # every record of the worker's threads (huey.consumer.Worker-1, ...) masked too
        for handler in logging.getLogger().handlers:
            handler.addFilter(logs.RedactingFilter())
    jobs.bind(app)
    consumer = jobs.queue.create_consumer(
        workers=workers or app.config["JOBS_WORKERS"],
        worker_type="thread",
        periodic=True,
        check_worker_health=True,
    )
    job_metrics.count(jobs.queue)
    if port := app.config.get("JOBS_METRICS_PORT"):
        job_metrics.serve(int(port))
        click.echo(f"job worker: metrics on http://127.0.0.1:{port}/metrics")
    # the imports a killed worker left: ended now, and again once their heartbeat is stale
    portal_jobs.imports.sweep_now()
    portal_jobs.imports.sweep_now.schedule(delay=app.config["JOBS_STALE_SECONDS"] + 1)
    click.echo(f"job worker: {jobs.queue.url.split('@')[-1]}, {consumer.workers} threads")
    consumer.run()


@jobs_cli.command("status")
@with_appcontext
def status_command() -> None:
    """How many jobs wait in the queue, and for a later time."""
    try:
        jobs.ping()
    except Exception as error:
        raise click.ClickException(
            f"the job queue does not answer: {type(error).__name__}"
        ) from None
    click.echo(f"pending {jobs.pending_count()}, scheduled {jobs.scheduled_count()}")
