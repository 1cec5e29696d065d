"""``flask --app wsgi <command>``: the portal's commands, one module per group, registered here."""

from __future__ import annotations

from flask import Flask

from portal.commands.audit import audit_group
from portal.commands.backup import backup_command, restore_command
from portal.commands.deadlines import deadlines_command
from portal.commands.demo import demo_command
from portal.commands.draw import draw_cli
from portal.commands.eds import eds_cli
from portal.commands.jobs import jobs_cli
from portal.commands.mail import mail_cli
from portal.commands.participants import participants
from portal.commands.randomorg import randomorg_cli
from portal.commands.translate import translate
from portal.commands.users import users

COMMANDS = (
    audit_group,
    backup_command,
    restore_command,
    deadlines_command,
    demo_command,
    draw_cli,
    eds_cli,
    jobs_cli,
    mail_cli,
    participants,
    randomorg_cli,
    translate,
    users,
)


def register(app: Flask) -> None:
    """Add every command to ``flask``."""
    for command in COMMANDS:
        app.cli.add_command(command)
