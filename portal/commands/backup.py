"""``flask backup DIR`` and ``flask restore DIR``: the database and every stored file,
with a SHA-256 manifest (``portal.services.backup``)."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import click
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext

from portal.models import db
from portal.services import backup as backups
from portal.services import storage

PROJECT_FILE = Path(__file__).resolve().parents[2] / "pyproject.toml"


def portal_version() -> str:
    try:
        with open(PROJECT_FILE, "rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def migrations() -> ScriptDirectory:
    return ScriptDirectory(current_app.extensions["migrate"].directory)


@click.command("backup")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(folder: Path) -> None:
    """Copy the database and every stored file into FOLDER (new or empty), with a
    manifest.json of their SHA-256 digests."""
    try:
        manifest = backups.make_backup(
            folder,
            database_url=current_app.config["SQLALCHEMY_DATABASE_URI"],
            engine=db.engine,
            storage=storage.current(),
            portal_version=portal_version(),
            now=datetime.now(UTC),
            pg_dump=current_app.config.get("PG_DUMP") or "pg_dump",
        )
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    database = manifest["database"]
    click.echo(
        f"Backup written to {folder}: the {database['kind']} database "
        f"(migration {database['revision']}) and {len(manifest['files'])} files."
    )
    click.echo(f"manifest.json SHA-256: {backups.manifest_sha256(folder)}")


@click.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def restore_command(folder: Path) -> None:
    """Restore a backup made by `flask backup` into this instance, whose database and
    storage must be empty (a new database, a new instance folder or bucket). Every
    file is checked against the manifest first: nothing is changed if one differs."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        manifest = backups.verify_backup(folder)
        kind = backups.database_kind(url)
    except backups.BackupError as error:
        raise click.ClickException(f"{error}. Nothing was restored.") from None
    if kind != manifest["database"]["kind"]:
        raise click.ClickException(
            f"The backup holds a {manifest['database']['kind']} database and this instance "
            f"uses {kind}. Nothing was restored."
        )
    script = migrations()
    revision = manifest["database"]["revision"]
    known = {rev.revision for rev in script.walk_revisions()}
    if revision is not None and revision not in known:
        raise click.ClickException(
            f"The backup's database is at migration {revision}, which this version of the "
            "portal does not know (a newer portal made it). Nothing was restored."
        )
    if not backups.database_is_empty(db.engine):
        raise click.ClickException(
            "The configured database is not empty: restore into a new, empty database. "
            "Nothing was restored."
        )
    target = storage.current()
    if next(iter(target.keys()), None) is not None:
        raise click.ClickException(
            "The storage already holds files: restore into an empty one. Nothing was restored."
        )
    db.session.remove()
    db.engine.dispose()
    try:
        backups.restore_database(
            folder, manifest, url, current_app.config.get("PG_RESTORE") or "pg_restore"
        )
        count = backups.restore_files(folder, manifest, target)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    db.engine.dispose()
    restored = backups.revision(db.engine)
    click.echo(
        f"Restored the {kind} database (migration {restored}) and {count} files "
        f"from {folder} (made {manifest['created_at']})."
    )
    if restored != script.get_current_head():
        click.echo("Its migrations are behind this portal's: run `flask db upgrade` now.")
