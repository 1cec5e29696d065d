"""Where the portal keeps its files: one interface, the instance folder or an S3 bucket.

Every file the portal keeps outside the database (winners' scans and photos, the
uploaded month files that an import job reads) goes through a ``Storage``: keys are
relative POSIX paths (``photos/ab/ab12….jpg``, ``imports/42.xlsx``), objects are
written once and never overwritten, and a key that does not exist is an error, not an
empty file. ``LocalStorage`` keeps them under a folder (``<instance>/uploads`` by
default); an S3-compatible store is the production option, for several app servers.

``init_app`` builds the app's storage from its settings; ``current()`` is the storage of
the current app.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import Flask, current_app

EXTENSION_KEY = "portal.storage"
FOLDER_MODE = 0o700
FILE_MODE = 0o600
CHUNK = 1024 * 1024
# a key: segments of letters, digits, dot, dash and underscore, none of them "." or ".."
KEY = re.compile(r"(?!.*(?:^|/)\.\.?(?:/|$))[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class StorageError(Exception):
    """A storage operation that cannot be done; ``key`` names the object."""

    def __init__(self, key: str, reason: str = "") -> None:
        super().__init__(f"{key}: {reason}" if reason else key)
        self.key = key


class ObjectExists(StorageError):
    """An object was to be written under a key that already has one."""


class ObjectMissing(StorageError):
    """No object under the key."""


class Storage(Protocol):
    def put(self, key: str, source: bytes | BinaryIO) -> int:
        """Write a new object (bytes, or a binary stream read to its end); the number of
        bytes written. ``ObjectExists`` if the key has one: nothing is overwritten."""

    def open(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """The object as a readable binary stream (a context manager)."""

    def read(self, key: str) -> bytes:
        """The object's bytes."""

    def delete(self, key: str) -> None:
        """Remove the object; a missing one is not an error."""

    def exists(self, key: str) -> bool: ...

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key that starts with ``prefix``, in no particular order."""

    def ping(self) -> None:
        """Raise if the storage does not answer (for the readiness check)."""


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise StorageError(str(key), "not a storage key")
    return key


class LocalStorage:
    """Objects as files under ``root`` (mode 0600, folders 0700), written to a temporary
    name, synced, then linked into place, so a reader never sees half a file and an
    existing file is never replaced."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, source: bytes | BinaryIO) -> int:
        final = self.path(key)
        if final.exists():
            raise ObjectExists(key)
        final.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        partial = final.with_name(f".{final.name}.{secrets.token_hex(8)}.partial")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
        descriptor = os.open(partial, flags, FILE_MODE)
        written = 0
        try:
            os.fchmod(descriptor, FILE_MODE)  # whatever the umask
            with os.fdopen(descriptor, "wb", closefd=False) as handle:
                if isinstance(source, bytes | bytearray | memoryview):
                    handle.write(source)
                    written = len(source)
                else:
                    while chunk := source.read(CHUNK):
                        handle.write(chunk)
                        written += len(chunk)
                handle.flush()
                os.fsync(descriptor)
            os.close(descriptor)
            descriptor = -1
            try:
                os.link(partial, final)  # fails if the key has an object meanwhile
            except FileExistsError:
                raise ObjectExists(key) from None
        finally:
            if descriptor >= 0:
                os.close(descriptor)
            partial.unlink(missing_ok=True)
        _fsync_directory(final.parent)
        return written

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        try:
            descriptor = os.open(self.path(key), os.O_RDONLY | _NOFOLLOW | _CLOEXEC)
        except FileNotFoundError:
            raise ObjectMissing(key) from None
        with os.fdopen(descriptor, "rb") as handle:
            yield handle

    def read(self, key: str) -> bytes:
        with self.open(key) as handle:
            return handle.read()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def keys(self, prefix: str = "") -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            if not path.is_file() or path.name.endswith(".partial"):
                continue
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix) and KEY.fullmatch(key):
                yield key

    def ping(self) -> None:
        if not self.root.is_dir() or not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageError(str(self.root), "not a writable folder")

    def copy_to(self, key: str, target: BinaryIO) -> None:
        with self.open(key) as handle:
            shutil.copyfileobj(handle, target, CHUNK)


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system syncs folders
        descriptor = os.open(directory, os.O_RDONLY | _CLOEXEC)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def from_settings(config: dict) -> Storage:
    """The storage the settings name: ``UPLOAD_FOLDER`` (a folder) for now."""
    return LocalStorage(config["UPLOAD_FOLDER"])


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = from_settings(app.config)


def current() -> Storage:
    """The current app's storage."""
    return current_app.extensions[EXTENSION_KEY]
