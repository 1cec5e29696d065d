"""``flask --app wsgi eds verify``: check a CMS signature as the act signing does.

The trust anchors, OCSP responder and NCANode are the app's ``EDS_TRUST_ANCHORS``,
``EDS_OCSP_URL`` and ``EDS_NCANODE_URL``. ``--at`` checks the certificates at another
time than the signing time the signature claims (expired test certificates, or the
time a signature was received). BIN and IIN are compared as given, control digit or not.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from portal.services.eds import settings_from_config, verify
from portal.wording.eds import describe_eds_check, signing_time_sentence

eds_cli = click.Group("eds", help="Electronic digital signatures (NCA RK).")


def _parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"not an ISO time: {value}", param_hint="--at") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@eds_cli.command("verify")
@click.argument("document", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.argument("signature", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--at", "at", metavar="ISO-TIME", help="Check the certificates at this time (UTC unless given)."
)
@click.option("--bin", "expected_bin", metavar="BIN", help="The LLP's BIN the signer must act for.")
@click.option("--iin", "expected_iin", metavar="IIN", help="The IE's IIN the signer must have.")
@click.option(
    "--lang", default="en", type=click.Choice(["en", "kk", "ru"]), help="Language of the sentences."
)
@with_appcontext
def verify_command(
    document: Path,
    signature: Path,
    at: str | None,
    expected_bin: str | None,
    expected_iin: str | None,
    lang: str,
) -> None:
    """Verify SIGNATURE (a CMS: DER, PEM or base64) of DOCUMENT ("-" when the CMS carries it).

    Exits 0 when every check passes, 1 otherwise.
    """
    if expected_bin and expected_iin:
        raise click.UsageError("give --bin (an LLP) or --iin (an IE), not both")
    if str(document) == "-":
        data = None
    elif not document.is_file():
        raise click.BadParameter(f"no such file: {document}", param_hint="DOCUMENT")
    else:
        data = document.read_bytes()
    when = _parse_time(at)
    try:
        report = verify(
            data,
            signature.read_bytes(),
            expected_bin=expected_bin,
            expected_iin=expected_iin,
            at=when,
            **settings_from_config(current_app.config),
        )
    except (OSError, ValueError) as error:  # the trust anchors cannot be read
        raise click.ClickException(f"EDS_TRUST_ANCHORS cannot be used: {error}") from None
    with force_locale(lang):
        for check in report.checks:
            mark = "pass" if check.ok else "FAIL"
            code = "" if check.ok else f" [{check.code}]"
            click.echo(f"{mark} {check.name}{code}: {describe_eds_check(check)}")
            if check.detail and not check.ok:
                click.echo(f"     {check.detail}")
    signer = report.signer
    if signer is not None and signer.serial is not None:
        click.echo("signer:")
        for label, value in (
            ("common name", signer.common_name),
            ("IIN", signer.iin),
            ("BIN", signer.bin),
            ("organisation", signer.organisation),
            ("roles", ", ".join(signer.roles)),
            ("serial", signer.serial),
            ("issuer", signer.issuer),
            ("signing time (stated by the signer)", _iso(signer.signing_time)),
            ("proven time (timestamp)", _iso(signer.proven_time)),
            ("timestamp authority", signer.timestamp_authority),
            ("checked at", signer.checked_at.isoformat() if signer.checked_at else None),
            ("algorithm", signer.algorithm),
        ):
            if value:
                click.echo(f"  {label}: {value}")
        with force_locale(lang):
            click.echo(f"  {signing_time_sentence(signer.proven_time, signer.signing_time)}")
    others = [s for s in report.signers if s is not signer]
    for other in others:
        state = (
            "passes"
            if other.ok
            else "fails: " + ", ".join(c.code for c in other.checks if not c.ok)
        )
        click.echo(f"other signer {other.index} ({other.common_name or '?'}) {state}")
    if report.ok:
        click.echo("VALID: every check passed")
        return
    click.echo(f"NOT VALID: {', '.join(report.codes)}", err=True)
    sys.exit(1)
