"""``flask --app wsgi deadlines``: what is due, for cron; ``--notify`` mails it once per item."""

from __future__ import annotations

from datetime import date, datetime

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.campaign import deadlines
from portal.campaign.audit import Actor
from portal.campaign.periods import local_today
from portal.campaign.staff import marketing_manager
from portal.models import Campaign, db
from portal.web.urls import SiteLinks
from portal.wording.formats import format_day
from portal.wording.messages import deadline_state_name, deadline_text


@click.command("deadlines")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Count from this day instead of today in Kazakhstan (YYYY-MM-DD).",
)
@click.option(
    "--campaign",
    "slug",
    default=None,
    help="Only this campaign (its slug); without it, every published campaign.",
)
@click.option("--notify", is_flag=True, help="Mail the marketing manager each item not mailed yet.")
@click.option("--lang", type=click.Choice(["kk", "ru"]), default=None, help="Language of the list.")
@with_appcontext
def deadlines_command(
    today: datetime | None, slug: str | None, notify: bool, lang: str | None
) -> None:
    """List what is due today, soon and overdue in every published campaign (or in the
    one ``--campaign`` names): draws, verifications, contacts, redraws."""
    day = today.date() if today else local_today()
    if slug:
        campaign = db.session.scalar(sa.select(Campaign).filter_by(slug=slug))
        if campaign is None:
            raise click.ClickException(f"no campaign with the slug {slug}")
        items = deadlines.pending(campaign, day)
    else:
        items = deadlines.pending_every(day)
    with force_locale(lang or current_app.config["LANGUAGES"][0]):
        _print(items, day)
    if notify:
        manager = marketing_manager(
            current_app.config.get("MARKETING_MANAGER_EMAIL"), current_app.config["LANGUAGES"][0]
        )
        if manager is None:
            raise click.ClickException("set MARKETING_MANAGER_EMAIL to send the notices")
        queued = deadlines.notify(items, manager, actor=Actor(label="cli"), links=SiteLinks())
        click.echo(f"notices queued: {queued}; {len(items) - queued} already sent before")


def _print(items, day: date) -> None:

    click.echo(_("Due on %(day)s:", day=format_day(day)))
    if not items:
        click.echo(_("Nothing is due or overdue."))
    several = len({item.period.campaign_id for item in items}) > 1
    for item in items:  # the due date first as YYYY-MM-DD, for scripts to sort and read
        # several campaigns: each line names its campaign by slug, as the dashboard does
        where = f"{item.period.campaign.slug}: " if several else ""
        click.echo(
            f"{item.due.isoformat()}  {deadline_state_name(item.state):<12} "
            f"{where}{deadline_text(item)}"
        )
