"""How the commands name a reporting period: ``--period YYYY-MM`` (``YYYY-MM-DD``, its
first day, for a custom one), with ``--campaign SLUG`` when two campaigns share the key (docs/DESIGN.md, "Commands")."""

from __future__ import annotations

import click

from portal.campaign.periods import PeriodNotFound, resolve_period
from portal.models import ReportingPeriod

CAMPAIGN_OPTION = click.option(
    "--campaign",
    "campaign_slug",
    default=None,
    help="The campaign's slug; needed only when several campaigns have the month.",
)


def period_of(key: str, campaign_slug: str | None) -> ReportingPeriod:
    """The month ``key`` of the campaign ``campaign_slug`` (or of the one campaign that
    has it); a clear error otherwise, asking for ``--campaign`` when the month is shared."""
    try:
        return resolve_period(key, campaign_slug)
    except PeriodNotFound as missing:
        raise click.ClickException(missing.message()) from None
