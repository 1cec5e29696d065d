"""``flask --app wsgi randomorg verify``: check any signed random.org result offline."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.services.randomorg import (
    is_random_org_key,
    key_fingerprint,
    load_public_key_pem,
    verify_signature,
)


@click.group("randomorg")
def randomorg_cli() -> None:
    """random.org's signed results."""


@randomorg_cli.command("verify")
@click.argument("random_file", type=click.Path(exists=True, dir_okay=False))
@click.argument("signature_file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def verify_command(random_file: str, signature_file: str) -> None:
    """Check RANDOM_FILE (the `random` JSON exactly as signed) against SIGNATURE_FILE (base64)
    with the configured public key; exit 0 only when the signature is authentic."""
    data = Path(random_file).read_bytes()
    signature = Path(signature_file).read_text(encoding="ascii", errors="replace")
    pem = load_public_key_pem(current_app.config.get("RANDOM_ORG_PUBLIC_KEY"))
    fingerprint = key_fingerprint(pem)
    try:
        random = json.loads(data)
        click.echo(
            f"serial number {random.get('serialNumber')}, completed {random.get('completionTime')}, "
            f"data {random.get('data')}"
        )
    except (ValueError, AttributeError):
        click.echo("the random file is not JSON", err=True)
    if not verify_signature(data, signature, pem):
        click.echo(
            f"NOT authentic: the signature does not verify with the key {fingerprint}", err=True
        )
        raise SystemExit(1)
    if is_random_org_key(pem):
        click.echo(
            f"authentic: the signature verifies with random.org's key (SPKI SHA-256 {fingerprint})"
        )
    else:
        click.echo(
            f"the signature verifies with the configured key (SPKI SHA-256 {fingerprint}), "
            "which is NOT random.org's key"
        )
