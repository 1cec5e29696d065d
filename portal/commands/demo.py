"""``flask demo``: the 2022 campaign and a spring 2023 one, with synthetic participants,
for trying the portal."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.demo import load
from portal.web.urls import SiteLinks


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the 2022 Ismet.kz campaign and the spring 2023 one (idempotent)."""
    for campaign, done in load(secret=current_app.config["SECRET_KEY"], links=SiteLinks()):
        if done:
            click.echo(f"Demo campaign {campaign.slug}: added {', '.join(done)}.")
        else:
            click.echo(f"Demo campaign {campaign.slug}: already complete, nothing added.")
