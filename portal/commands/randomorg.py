"""``flask --app wsgi randomorg verify``: check any signed random.org result offline.

The random file is checked byte for byte as it is, since random.org signed those exact
bytes; re-serialising it could only hide a change. The key is the app's
``RANDOM_ORG_PUBLIC_KEY`` (by default random.org's own key, shipped with the portal),
and the output says whether that key is random.org's: a signature by any other key,
such as the test stand-in's, proves nothing about random.org.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.services.randomorg import (
    is_random_org_key,
    key_fingerprint,
    load_public_key_pem,
    verify_signature,
)

randomorg_cli = click.Group("randomorg", help="random.org's signed results.")


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    raise SystemExit(1)


@randomorg_cli.command("verify")
@click.argument("random_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("signature_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def verify_command(random_file: Path, signature_file: Path) -> None:
    """Check RANDOM_FILE (the `random` JSON exactly as signed) against SIGNATURE_FILE (base64).

    Exits 0 when the signature verifies with the configured key, 1 otherwise.
    """
    data = random_file.read_bytes()
    try:
        signature = signature_file.read_bytes().decode("ascii")
    except UnicodeDecodeError:
        _fail(f"NOT authentic: {signature_file} is not base64 text")
    try:
        pem = load_public_key_pem(current_app.config.get("RANDOM_ORG_PUBLIC_KEY"))
        fingerprint = key_fingerprint(pem)
    except (OSError, ValueError) as error:
        _fail(f"the configured RANDOM_ORG_PUBLIC_KEY cannot be used: {error}")

    try:
        random = json.loads(data)
    except ValueError:
        random = None
    if isinstance(random, dict):
        click.echo(f"serialNumber: {random.get('serialNumber')}")
        click.echo(f"completionTime: {random.get('completionTime')}")
        click.echo(f"data: {json.dumps(random.get('data'))}")
    else:
        click.echo(f"{random_file} is not a JSON object", err=True)

    if not verify_signature(data, signature, pem):
        _fail(
            f"NOT authentic: the signature does not verify with the configured key "
            f"(SPKI SHA-256 {fingerprint}); the file or the signature was changed, "
            "or they belong to another key"
        )
    if is_random_org_key(pem):
        click.echo(
            f"authentic: signature verifies with random.org's key (SPKI SHA-256 {fingerprint})"
        )
    else:
        click.echo(
            f"the signature verifies with the configured key (SPKI SHA-256 {fingerprint}), "
            "which is NOT random.org's key: this result proves nothing about random.org"
        )
