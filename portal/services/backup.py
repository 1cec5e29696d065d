"""A backup of the portal: its database and every stored file, with a SHA-256 manifest.

A backup is a folder::

    manifest.json         what is here, with each file's SHA-256 and size
    database.dump         PostgreSQL: pg_dump --format=custom
    database.sqlite3      SQLite: a copy made with SQLite's online backup API
    files/<key>           every object of the storage, under its key

``manifest.json``::

    {"format": "ismet-portal-backup", "format_version": 1,
     "created_at": "2026-11-26T03:00:00+00:00", "portal_version": "0.1.0",
     "database": {"kind": "postgresql", "revision": "0012",
                  "path": "database.dump", "sha256": "…", "size": 123},
     "files": [{"key": "winners/ab/….pdf", "path": "files/winners/ab/….pdf",
                "sha256": "…", "size": 456}, …]}

The database is copied first, then the files: files are written once and never
replaced, so every file a row of the copy names is already stored. A restore checks the
whole folder against its manifest before it changes anything, and only restores into
an empty database and an empty storage.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa

from portal.services.storage import KEY, Storage

FORMAT = "ismet-portal-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FILES = "files"
DATABASE_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
FOLDER_MODE = 0o700
FILE_MODE = 0o600
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or a restore that cannot be done; the message says why."""


def database_kind(url: str) -> str:
    kind = sa.engine.make_url(url).get_backend_name()
    if kind not in DATABASE_FILES:
        raise BackupError(f"cannot back up a {kind} database (only PostgreSQL and SQLite)")
    return kind


def sqlite_path(url: str) -> Path:
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("the SQLite database must be a file named in its URL")
    return Path(database)


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL as pg_dump and pg_restore take it (no password in the process list:
    it goes in PGPASSWORD), and their environment."""
    parsed = sa.engine.make_url(url)
    environment = dict(os.environ)
    if parsed.password:
        environment["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def _run(command: list[str], environment: dict[str, str]) -> None:
    try:
        finished = subprocess.run(
            command, env=environment, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (or not on PATH)") from None
    if finished.returncode != 0:
        # pg_dump's messages name objects, never rows' values
        detail = (finished.stderr or finished.stdout).strip().splitlines()
        raise BackupError(f"{command[0]} failed: {' / '.join(detail[-3:])}")


def _digest_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _copy(source: BinaryIO, target: Path) -> tuple[str, int]:
    """Write ``source`` to the new file ``target`` (0600); its SHA-256 and size."""
    target.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    return digest.hexdigest(), size


def revision(engine: sa.Engine) -> str | None:
    """The database's migration (alembic's version), None before the first migration."""
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.SQLAlchemyError:
        return None


def dump_database(url: str, target: Path, pg_dump: str = "pg_dump") -> None:
    """Copy the database at ``url`` into the new file ``target``."""
    if database_kind(url) == "postgresql":
        address, environment = libpq(url)
        _run(
            [pg_dump, "--format=custom", "--no-owner", f"--file={target}", f"--dbname={address}"],
            environment,
        )
        os.chmod(target, FILE_MODE)
        return
    source_path = sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(f"no SQLite database at {source_path}")
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    source = sqlite3.connect(source_path)
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy)
    finally:
        copy.close()
        source.close()


def make_backup(
    folder: Path,
    *,
    database_url: str,
    engine: sa.Engine,
    storage: Storage,
    portal_version: str,
    now: datetime,
    pg_dump: str = "pg_dump",
) -> dict[str, Any]:
    """Write a backup into ``folder`` (new, or empty); its manifest."""
    kind = database_kind(database_url)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(f"{folder} exists and is not an empty folder")
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    database_file = folder / DATABASE_FILES[kind]
    dump_database(database_url, database_file, pg_dump)
    digest, size = _digest_file(database_file)
    files = []
    for key in sorted(storage.keys()):
        path = f"{FILES}/{key}"
        with storage.open(key) as source:
            file_digest, file_size = _copy(source, folder / path)
        files.append({"key": key, "path": path, "sha256": file_digest, "size": file_size})
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": now.isoformat(),
        "portal_version": portal_version,
        "database": {
            "kind": kind,
            "revision": revision(engine),
            "path": database_file.name,
            "sha256": digest,
            "size": size,
        },
        "files": files,
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    descriptor = os.open(folder / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    return manifest


def manifest_sha256(folder: Path) -> str:
    return _digest_file(folder / MANIFEST)[0]


def _folder_files(folder: Path) -> Iterator[str]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() or path.is_symlink():
            yield path.relative_to(folder).as_posix()


def _entries(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The manifest's database and file entries, each path checked to be one it may name."""
    database = manifest.get("database")
    files = manifest.get("files")
    if not isinstance(database, dict) or not isinstance(files, list):
        raise BackupError("the manifest lists no database or no files")
    if database.get("kind") not in DATABASE_FILES:
        raise BackupError("the manifest names an unknown database kind")
    if database.get("path") != DATABASE_FILES[database["kind"]]:
        raise BackupError("the manifest names an unexpected database file")
    entries = [database]
    for entry in files:
        key = entry.get("key") if isinstance(entry, dict) else None
        if (
            not isinstance(key, str)
            or not KEY.fullmatch(key)
            or entry.get("path") != f"{FILES}/{key}"
        ):
            raise BackupError("the manifest names a file outside the backup's files")
        entries.append(entry)
    return entries


def verify_backup(folder: Path) -> dict[str, Any]:
    """The backup's manifest, once every file in the folder is the one it lists (same
    SHA-256 and size, none missing, none added); ``BackupError`` listing what is not."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{folder} has no {MANIFEST}: not a backup") from None
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{folder / MANIFEST} is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{folder / MANIFEST} is not a portal backup's manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"unknown backup format version {manifest.get('format_version')!r}")
    entries = _entries(manifest)
    problems = []
    listed = {entry["path"] for entry in entries}
    for entry in entries:
        path = folder / entry["path"]
        if path.is_symlink() or not path.is_file():
            problems.append(f"missing: {entry['path']}")
            continue
        digest, size = _digest_file(path)
        if digest != entry.get("sha256") or size != entry.get("size"):
            problems.append(f"differs from the manifest (SHA-256 or size): {entry['path']}")
    for path in _folder_files(folder):
        if path != MANIFEST and path not in listed:
            problems.append(f"not in the manifest: {path}")
    if problems:
        raise BackupError("the backup does not match its manifest: " + "; ".join(problems))
    return manifest


def database_is_empty(engine: sa.Engine) -> bool:
    """No table in the database (in PostgreSQL's current schema)."""
    return not sa.inspect(engine).get_table_names()


def restore_database(
    folder: Path, manifest: dict[str, Any], url: str, pg_restore: str = "pg_restore"
) -> None:
    """Load the backup's database into the (empty) database at ``url``."""
    kind = database_kind(url)
    if kind != manifest["database"]["kind"]:
        raise BackupError(
            f"the backup holds a {manifest['database']['kind']} database, "
            f"the configured one is {kind}"
        )
    source_path = folder / manifest["database"]["path"]
    if kind == "postgresql":
        address, environment = libpq(url)
        _run(
            [
                pg_restore,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={address}",
                str(source_path),
            ],
            environment,
        )
        return
    target_path = sqlite_path(url)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    target = sqlite3.connect(target_path)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


def restore_files(folder: Path, manifest: dict[str, Any], storage: Storage) -> int:
    """Put the backup's files back into the (empty) storage; how many."""
    for entry in manifest["files"]:
        with open(folder / entry["path"], "rb") as source:
            storage.put(entry["key"], source)
    return len(manifest["files"])
