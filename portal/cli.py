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
    from portal.mail_cli import mail_cli

    app.cli.add_command(mail_cli)


users = AppGroup("users", help="Staff accounts.")


@users.command("create")
@click.option("--email", required=True, help="The account's e-mail, used to sign in.")
@click.option("--role", required=True, type=click.Choice(["admin", "marketing", "commission", "auditor"]))
@click.option("--name", default="", help="The person's name.")
@click.option("--language", default="kk", type=click.Choice(["kk", "ru"]), help="Interface language.")
@click.option("--password-file", type=click.File("r", encoding="utf-8"), help="Read the password from this file instead of prompting.")
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
    audit.record("account.create", account, {"email": email, "role": role, "via": "command line"}, actor_label="cli")
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
    from portal.demo import load_campaign

    campaign, done = load_campaign()
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
        "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
        "--no-location", "--sort-output", "-o", str(output), ".",
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
    _pybabel("update", "-i", str(TEMPLATE), "-d", str(TRANSLATIONS), "--no-fuzzy-matching", "--ignore-obsolete")


@translate.command()
def compile() -> None:  # noqa: A001 - the command's name
    """Compile the catalogues to .mo files."""
    _pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")
