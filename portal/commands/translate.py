"""``flask translate …``: the gettext cycle."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"


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
