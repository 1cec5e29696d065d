"""``flask --app wsgi <command>``: the portal's commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"


def register(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(translate)
    app.cli.add_command(users)
    app.cli.add_command(audit_group)
    app.cli.add_command(participants)
    from portal.mail_cli import mail_cli

    app.cli.add_command(mail_cli)
    from portal.draw_cli import draw_cli
    from portal.randomorg_cli import randomorg_cli

    app.cli.add_command(draw_cli)
    app.cli.add_command(randomorg_cli)
    from portal.deadlines_cli import deadlines_command
    from portal.eds_cli import eds_cli

    app.cli.add_command(eds_cli)

    app.cli.add_command(deadlines_command)


users = AppGroup("users", help="Staff accounts.")


@users.command("create")
@click.option("--email", required=True, help="The account's e-mail, used to sign in.")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "marketing", "commission", "auditor"])
)
@click.option("--name", default="", help="The person's name.")
@click.option(
    "--language", default="kk", type=click.Choice(["kk", "ru"]), help="Interface language."
)
@click.option(
    "--password-file",
    type=click.File("r", encoding="utf-8"),
    help="Read the password from this file instead of prompting.",
)
def users_create(email: str, role: str, name: str, language: str, password_file) -> None:
    """Create a staff account (the password is prompted for, or read from --password-file)."""
    import sqlalchemy as sa

    from portal import audit
    from portal.auth import normalise_email
    from portal.models import StaffUser, db
    from portal.models.staff import MIN_PASSWORD_LENGTH

    email = normalise_email(email)
    if "@" not in email:
        raise click.ClickException(f"not an e-mail address: {email}")
    if db.session.scalar(sa.select(StaffUser).filter_by(email=email)):
        raise click.ClickException(f"an account with the e-mail {email} exists already")
    if password_file is not None:
        password = password_file.read().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    account = StaffUser(email=email, name=name, role=role, language=language)
    account.set_password(password)
    db.session.add(account)
    db.session.flush()
    audit.record(
        "account.create",
        account,
        {"email": email, "role": role, "via": "command line"},
        actor_label="cli",
    )
    db.session.commit()
    click.echo(f"Created {role} account {email}.")


audit_group = AppGroup("audit", help="The audit trail.")


@audit_group.command("verify")
def audit_verify() -> None:
    """Check the hash chain of the audit trail; exit 1 at the first broken link."""
    from portal.audit import verify_chain

    report = verify_chain()
    if report.ok:
        click.echo(f"Audit trail intact: {report.checked} entries checked.")
        return
    raise click.ClickException(
        f"Audit trail broken at entry {report.broken_at}: {report.reason} "
        f"({report.checked} entries before it are intact)."
    )


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the 2022 Ismet.kz campaign (idempotent)."""
    from portal.demo import load_campaign, load_draws, load_participants

    campaign, done = load_campaign()
    done += load_participants(campaign)
    done += load_draws(campaign)
    if done:
        click.echo(f"Demo campaign {campaign.slug}: added {', '.join(done)}.")
    else:
        click.echo(f"Demo campaign {campaign.slug}: already complete, nothing added.")


def _pybabel(*args: str, quiet: bool = False) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", *args],
        cwd=ROOT,
        capture_output=quiet,
        text=True,
    )
    if result.returncode != 0:
        raise click.ClickException(f"pybabel {args[0]} failed: {result.stderr or ''}")


def extract_messages(output: Path, quiet: bool = False) -> None:
    """Collect every translatable string of the code and templates into ``output``."""
    _pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "-k",
        "lazy_gettext",
        "--no-location",
        "--sort-output",
        "-o",
        str(output),
        ".",
        quiet=quiet,
    )


@click.group()
def translate() -> None:
    """The gettext cycle: extract, update, compile."""


@translate.command()
def extract() -> None:
    """Collect every translatable string into translations/messages.pot."""
    extract_messages(TEMPLATE)


@translate.command()
def update() -> None:
    """Extract, then merge the new strings into the kk and ru catalogues."""
    extract.callback()
    _pybabel(
        "update",
        "-i",
        str(TEMPLATE),
        "-d",
        str(TRANSLATIONS),
        "--no-fuzzy-matching",
        "--ignore-obsolete",
    )


@translate.command()
def compile() -> None:
    """Compile the catalogues to .mo files."""
    _pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")


participants = AppGroup("participants", help="Monthly activity data and eligibility.")


def _period(key: str):
    from portal.campaign.periods import current_campaign, find_period

    campaign = current_campaign()
    period = find_period(campaign, key) if campaign else None
    if period is None:
        raise click.ClickException(f"no reporting month {key} in the current campaign")
    return period


@participants.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--period", "period_key", required=True, help="The reporting month, YYYY-MM.")
@click.option("--replace", is_flag=True, help="Replace the data the month already has.")
@click.option(
    "--lang", default="kk", type=click.Choice(["kk", "ru"]), help="Language of the problem report."
)
def participants_import(file: str, period_key: str, replace: bool, lang: str) -> None:
    """Import one month of activity data (CSV or XLSX), all or nothing, then compute eligibility."""
    from flask_babel import force_locale

    from portal import audit
    from portal.campaign import eligibility
    from portal.campaign.imports import AlreadyImported, import_month
    from portal.campaign.periods import local_today
    from portal.messages import describe_problem as describe
    from portal.models import db

    period = _period(period_key)
    path = Path(file)
    data = path.read_bytes()
    with click.progressbar(
        length=max(data.count(b"\n"), 1), label="Checking rows", file=sys.stderr
    ) as bar:
        last = [0]

        def progress(done: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        try:
            batch, report = import_month(
                period, path.name, data, today=local_today(), replace=replace, progress=progress
            )
        except AlreadyImported:
            raise click.ClickException(
                f"{period_key} has data already; run again with --replace to replace it"
            ) from None
    audit.record(
        "participants.import",
        batch,
        {
            "period": period_key,
            "file": batch.filename,
            "sha256": batch.sha256,
            "rows": batch.rows,
            "status": batch.status,
            "problems": report.total,
            "replace": replace,
        },
        actor_label="cli",
    )
    if not report.ok:
        db.session.commit()
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
    run = eligibility.compute(period, computed_by="cli")
    audit.record(
        "participants.eligibility",
        run,
        {"period": period_key, "participants": run.participants, "eligible": run.eligible},
        actor_label="cli",
    )
    db.session.commit()
    click.echo(
        f"Imported {batch.rows} rows for {period_key} (batch {batch.id}, SHA-256 {batch.sha256}); {run.eligible} of {run.participants} eligible."
    )


@participants.command("eligibility")
@click.option("--period", "period_key", required=True, help="The reporting month, YYYY-MM.")
def participants_eligibility(period_key: str) -> None:
    """Compute the month's eligibility again with the campaign's current thresholds."""
    from portal import audit
    from portal.campaign import eligibility
    from portal.models import db

    period = _period(period_key)
    run = eligibility.compute(period, computed_by="cli")
    audit.record(
        "participants.eligibility",
        run,
        {"period": period_key, "participants": run.participants, "eligible": run.eligible},
        actor_label="cli",
    )
    db.session.commit()
    click.echo(f"{period_key}: {run.eligible} of {run.participants} participants eligible.")
