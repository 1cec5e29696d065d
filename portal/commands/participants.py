"""``flask participants …``: monthly activity data and eligibility."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from portal.campaign import eligibility
from portal.campaign.audit import Actor
from portal.campaign.eligibility import MonthFrozen
from portal.campaign.imports import AlreadyImported, fingerprint, run_import
from portal.campaign.periods import local_today
from portal.commands.periods import CAMPAIGN_OPTION, period_of
from portal.models import db
from portal.wording.messages import describe_frozen
from portal.wording.messages import describe_problem as describe

participants = AppGroup("participants", help="Monthly activity data and eligibility.")
CLI = Actor(label="cli")


def _frozen(refusal: MonthFrozen, lang: str) -> click.ClickException:
    """A drawn month's refusal, in ``lang``."""
    with force_locale(lang):
        return click.ClickException(describe_frozen(refusal))


@participants.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--period",
    "period_key",
    required=True,
    help="The reporting period: YYYY-MM, or YYYY-MM-DD (a custom period's first day).",
)
@CAMPAIGN_OPTION
@click.option("--replace", is_flag=True, help="Replace the data the month already has.")
@click.option(
    "--lang", default="kk", type=click.Choice(["kk", "ru"]), help="Language of the problem report."
)
def participants_import(
    file: str, period_key: str, campaign_slug: str | None, replace: bool, lang: str
) -> None:
    """Import one month of activity data (CSV or XLSX), all or nothing, then compute eligibility."""
    period = period_of(period_key, campaign_slug)
    path = Path(file)
    with (
        path.open("rb") as stream,  # read as a stream, never whole
        click.progressbar(
            length=max((facts := fingerprint(stream)).lines, 1),
            label="Checking rows",
            file=sys.stderr,
        ) as bar,
    ):
        last = [0]

        def progress(done: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        try:
            outcome = run_import(
                period,
                path.name,
                stream,
                actor=CLI,
                today=local_today(),
                replace=replace,
                progress=progress,
                max_rows=current_app.config["IMPORT_MAX_ROWS"],
                facts=facts,
            )
        except MonthFrozen as refusal:
            db.session.commit()  # the refusal stays on the record
            raise _frozen(refusal, lang) from None
        except AlreadyImported:
            raise click.ClickException(
                f"{period_key} has data already; run again with --replace to replace it"
            ) from None
    db.session.commit()
    batch, report, run = outcome.batch, outcome.report, outcome.run
    if not report.ok:
        with force_locale(lang):
            for problem in report.problems:
                click.echo(describe(problem), err=True)
        raise click.ClickException(
            f"{report.total} problem(s) in {path.name}; nothing was imported"
            + (
                f" (the first {len(report.problems)} are listed)"
                if report.total > len(report.problems)
                else ""
            )
        )
    click.echo(
        f"Imported {batch.rows} rows for {period_key} (batch {batch.id}, SHA-256 {batch.sha256}); {run.eligible} of {run.participants} eligible."
    )


@participants.command("eligibility")
@click.option(
    "--period",
    "period_key",
    required=True,
    help="The reporting period: YYYY-MM, or YYYY-MM-DD (a custom period's first day).",
)
@CAMPAIGN_OPTION
@click.option(
    "--lang", default="kk", type=click.Choice(["kk", "ru"]), help="Language of a refusal."
)
def participants_eligibility(period_key: str, campaign_slug: str | None, lang: str) -> None:
    """Compute the month's eligibility again with the campaign's current conditions
    (refused once the month has been drawn)."""
    try:
        run = eligibility.recompute(period_of(period_key, campaign_slug), CLI)
    except MonthFrozen as refusal:
        db.session.commit()  # the refusal stays on the record
        raise _frozen(refusal, lang) from None
    db.session.commit()
    click.echo(f"{period_key}: {run.eligible} of {run.participants} participants eligible.")
