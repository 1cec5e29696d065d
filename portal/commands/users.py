"""``flask users …``: staff accounts."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from flask_babel import force_locale

from portal.campaign import audit
from portal.campaign.staff import PasswordRefused, normalise_email, set_password
from portal.models import StaffUser, db
from portal.wording.staff import describe_password_problems

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

    email = normalise_email(email)
    if "@" not in email:
        raise click.ClickException(f"not an e-mail address: {email}")
    if db.session.scalar(sa.select(StaffUser).filter_by(email=email)):
        raise click.ClickException(f"an account with the e-mail {email} exists already")
    if password_file is not None:
        password = password_file.read().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    account = StaffUser(email=email, name=name, role=role, language=language)
    try:
        set_password(account, password)
    except PasswordRefused as refused:
        with force_locale("en"):  # as the command's other messages
            reasons = " ".join(describe_password_problems(refused.problems))
        raise click.ClickException(f"password refused: {reasons}") from None
    db.session.add(account)
    db.session.flush()
    audit.record(
        "account.create",
        account,
        {"email": email, "role": role, "via": "command line"},
        actor=audit.Actor(label="cli"),
    )
    db.session.commit()
    click.echo(f"Created {role} account {email}.")
