"""Sending the outbox: every minute in the worker, and when staff ask for it."""

from __future__ import annotations

from portal.campaign.audit import Actor
from portal.campaign.imports import actor_again
from portal.campaign.mailings import send_due
from portal.jobs.schedule import every_minute
from portal.services import jobs

BATCH = 50  # messages per SMTP connection
MAX_BATCHES = 20  # a run sends at most this many batches; the next minute goes on

WORKER = Actor(label="jobs")


def send_outbox(actor: Actor = WORKER) -> tuple[int, int, int]:
    """What ``flask mail send`` does: due messages, batch after batch; (sent, retry, failed)."""
    sent = retry = failed = 0
    for _ in range(MAX_BATCHES):
        report = send_due(actor, batch_size=BATCH)
        sent, retry, failed = sent + report.sent, retry + report.retry, failed + report.failed
        if report.picked < BATCH:
            break
    return sent, retry, failed


@jobs.periodic_task(every_minute)
def send_every_minute() -> None:
    send_outbox()


@jobs.task()
def send_now(actor_id: int | None = None, ip: str = "") -> None:
    """Staff's "send now": the same run, on their record."""
    send_outbox(_staff(actor_id, ip))


def _staff(actor_id: int | None, ip: str) -> Actor:
    return actor_again(actor_id, ip) if actor_id is not None else WORKER
