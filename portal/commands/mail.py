"""``flask --app wsgi mail …``: the e-mail outbox's commands."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.campaign.audit import Actor
from portal.campaign.mailings import send_due


@click.group("mail")
def mail_cli() -> None:
    """The e-mail outbox."""


@mail_cli.command("send")
@click.option(
    "--batch",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    help="Messages per batch (one SMTP connection each).",
)
@click.option(
    "--max-batches",
    default=None,
    type=click.IntRange(min=1),
    help="Stop after this many batches even if more are due.",
)
@with_appcontext
def send_command(batch: int, max_batches: int | None) -> None:
    """Send the due messages of the outbox, batch after batch, until none is due."""

    sent = retry = failed = batches = 0
    while max_batches is None or batches < max_batches:
        report = send_due(Actor(label="cli"), batch_size=batch)
        batches += 1
        sent, retry, failed = sent + report.sent, retry + report.retry, failed + report.failed
        if report.picked < batch:
            break
    click.echo(f"sent {sent}, to retry {retry}, failed {failed}")
