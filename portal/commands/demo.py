"""``flask demo``: the 2022 campaign with synthetic participants, for trying the portal."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.demo import load_campaign, load_draws, load_participants
from portal.web.urls import SiteLinks


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the 2022 Ismet.kz campaign (idempotent)."""
    campaign, done = load_campaign()
    done += load_participants(campaign)
    done += load_draws(campaign, secret=current_app.config["SECRET_KEY"], links=SiteLinks())
    if done:
        click.echo(f"Demo campaign {campaign.slug}: added {', '.join(done)}.")
    else:
        click.echo(f"Demo campaign {campaign.slug}: already complete, nothing added.")
