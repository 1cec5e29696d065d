"""``flask audit …``: the audit trail."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.campaign.audit import verify_chain

audit_group = AppGroup("audit", help="The audit trail.")


@audit_group.command("verify")
def audit_verify() -> None:
    """Check the hash chain of the audit trail; exit 1 at the first broken link."""
    report = verify_chain()
    if report.ok:
        click.echo(f"Audit trail intact: {report.checked} entries checked.")
        return
    raise click.ClickException(
        f"Audit trail broken at entry {report.broken_at}: {report.reason} "
        f"({report.checked} entries before it are intact)."
    )
