"""``flask --app wsgi eds verify``: check a CMS signature as the act signing does.

The trust anchors, OCSP responder and NCANode are the app's ``EDS_TRUST_ANCHORS``,
``EDS_OCSP_URL`` and ``EDS_NCANODE_URL``. ``--at`` checks the certificates at another
time than the signing time the signature claims (expired test certificates, or the
time a signature was received). BIN and IIN are compared as given, control digit or not.

``--stored ID`` re-verifies an accepted act signature kept by the portal "as at
acceptance" (``portal.campaign.signature_proof``): at its proven (or stated) signing
time, with the revocation evidence stored with it, without asking OCSP or a CRL.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from portal.campaign import signature_proof
from portal.models import db
from portal.models.acts import ActSignature
from portal.services.eds import Report, settings_from_config, verify
from portal.wording.eds import (
    describe_eds_check,
    describe_revocation_evidence,
    signing_time_sentence,
)

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
@click.argument(
    "document", required=False, type=click.Path(dir_okay=False, allow_dash=True, path_type=Path)
)
@click.argument(
    "signature", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--stored",
    "stored",
    type=int,
    metavar="ID",
    help="Re-verify the accepted act signature ID as at its acceptance, offline.",
)
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
    document: Path | None,
    signature: Path | None,
    stored: int | None,
    at: str | None,
    expected_bin: str | None,
    expected_iin: str | None,
    lang: str,
) -> None:
    """Verify SIGNATURE (a CMS: DER, PEM or base64) of DOCUMENT ("-" when the CMS carries it),
    or with --stored ID an accepted act signature as at its acceptance.

    Exits 0 when every check passes, 1 otherwise.
    """
    if stored is not None:
        if document or signature or at or expected_bin or expected_iin:
            raise click.UsageError("--stored takes no DOCUMENT, SIGNATURE, --at, --bin nor --iin")
        _verify_stored(stored, lang)
        return
    if document is None or signature is None:
        raise click.UsageError("give DOCUMENT and SIGNATURE, or --stored ID")
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
    _print_report(report, lang)


def _verify_stored(signature_id: int, lang: str) -> None:
    stored = db.session.get(ActSignature, signature_id)
    if stored is None:
        raise click.ClickException(f"no accepted act signature {signature_id}")
    try:
        report = signature_proof.reverify(stored, settings_from_config(current_app.config))
    except (OSError, ValueError) as error:
        raise click.ClickException(f"EDS_TRUST_ANCHORS cannot be used: {error}") from None
    click.echo(
        f"act {stored.act.number}, signature {stored.id} accepted {stored.created_at.isoformat()}"
        f", re-verified as at {signature_proof.acceptance_time(stored).isoformat()}"
    )
    if not stored.revocation_method:  # else the report shows the evidence re-checked
        with force_locale(lang):
            click.echo(describe_revocation_evidence("", {}))
    _print_report(report, lang)


def _print_report(report: Report, lang: str) -> None:
    """Each check, the signer's facts, the revocation evidence, and the verdict (exit 1
    when not valid)."""
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
            if signer.revocation is not None:
                evidence = signer.revocation
                click.echo(f"  {describe_revocation_evidence(evidence.method, evidence.facts)}")
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
