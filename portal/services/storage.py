"""Where the portal keeps its files: one interface, the instance folder or an S3 bucket.

Every file the portal keeps outside the database (winners' scans and photos, the
uploaded month files that an import job reads) goes through a ``Storage``: keys are
relative POSIX paths (``photos/ab/ab12….jpg``, ``imports/42.xlsx``), objects are
written once and never overwritten, and a key that does not exist is an error, not an
empty file. ``LocalStorage`` keeps them under a folder (``<instance>/uploads`` by
default); an S3-compatible store is the production option, for several app servers.

``init_app`` builds the app's storage from its settings (``STORAGE_URL``: unset for the
folder ``UPLOAD_FOLDER``, ``s3://bucket/prefix`` for a bucket, see ``from_settings``);
``current()`` is the storage of the current app, and ``within(storage, "photos")`` the
part of a storage under one prefix, as the campaign's code uses it.

The keys the portal writes (what a backup of the files copies):

- ``winners/<2 hex>/<32 hex>.<pdf|jpg|png>``: winners' scans and the organizer's
  director's card (``WinnerFile.path`` holds the part after ``winners/``);
- ``photos/<2 hex>/<32 hex>.<jpg|png>``: winners' public photos (``Winner.photo_path``);
- ``imports/…``: uploaded month files waiting for their import job;
- ``rules/<campaign>/v<number>-<language>-<16 hex>.pdf``: a published rules version as
  a PDF, made on its first request and served from here ever after (the hex digits are a
  digest of the page it was made from: another organizer's name or template makes another
  file).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, current_app

EXTENSION_KEY = "portal.storage"
FOLDER_MODE = 0o700
FILE_MODE = 0o600
CHUNK = 1024 * 1024
# a key: segments of letters, digits, dot, dash and underscore, none of them "." or ".."
KEY = re.compile(r"(?!.*(?:^|/)\.\.?(?:/|$))[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# S3: objects larger than this go up in parts of this size (multipart upload); the
# seconds to wait for a connection and for an answer; attempts of each request
S3_PART = 8 * 1024 * 1024
S3_CONNECT_TIMEOUT = 5
S3_READ_TIMEOUT = 60
S3_ATTEMPTS = 3
# an S3 bucket's name (the rules of AWS, which S3-compatible stores follow)
BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
ADDRESSING_STYLES = ("auto", "path", "virtual")
# the error codes of S3 that mean: no such object (GetObject, HeadObject), and: the
# key has an object, or another conditional write to it is under way
S3_MISSING = {"NoSuchKey", "404", "NotFound"}
S3_EXISTS = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}

log = logging.getLogger(__name__)


class StorageError(Exception):
    """A storage operation that cannot be done; ``key`` names the object."""

    def __init__(self, key: str, reason: str = "") -> None:
        super().__init__(f"{key}: {reason}" if reason else key)
        self.key = key


class ObjectExists(StorageError):
    """An object was to be written under a key that already has one."""


class ObjectMissing(StorageError):
    """No object under the key."""


class BadKey(StorageError):
    """Not a key: not a relative POSIX path of safe segments, or (in a folder) one that
    leads out of the folder through a symbolic link."""


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
        raise BadKey(str(key), "not a storage key")
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
        """The key's file; ``BadKey`` if a symbolic link in the folder leads out of it."""
        path = self.root / check_key(key)
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise BadKey(key, "leads out of the storage folder")
        return path

    def put(self, key: str, source: bytes | BinaryIO) -> int:
        final = self.path(key)
        if final.exists():
            raise ObjectExists(key)
        self._folders(final.parent)
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
        folder = prefix.rpartition("/")[0]  # only the folder the prefix names is walked
        if folder and not KEY.fullmatch(folder):
            return
        base = self.root / folder if folder else self.root
        if not base.is_dir() or not base.resolve().is_relative_to(self.root.resolve()):
            return
        for path in sorted(base.rglob("*")):
            if not path.is_file() or path.name.endswith(".partial"):
                continue
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix) and KEY.fullmatch(key):
                yield key

    def ping(self) -> None:
        if not self.root.is_dir() or not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageError(str(self.root), "not a writable folder")

    def _folders(self, folder: Path) -> None:
        """``folder`` and those between it and the root, each made 0700 (``mkdir -p``
        would give the ones between the umask's mode)."""
        self.root.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        current = self.root
        for part in folder.relative_to(self.root).parts:
            current = current / part
            current.mkdir(mode=FOLDER_MODE, exist_ok=True)


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system syncs folders
        descriptor = os.open(directory, os.O_RDONLY | _CLOEXEC)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


class S3Storage:
    """Objects in an S3 bucket (AWS, or any S3-compatible store: MinIO, Ceph, a cloud's
    object storage), under an optional key prefix.

    Nothing is overwritten: every write this client makes (``PutObject``, and the
    ``CompleteMultipartUpload`` that ends a large upload) carries ``If-None-Match: *``,
    so the store itself refuses a key that has an object (412), even when two servers
    write at once. AWS and moto honour it; a store that refuses the header fails every
    write (loudly), one that ignores it would overwrite: check an S3-compatible store
    with the contract tests (tests/test_storage.py) first. A write retried after its
    answer was lost may find its own object and report ``ObjectExists``. A stream larger than
    ``S3_PART`` goes up in parts (multipart upload, boto3's ``upload_fileobj``), never
    held whole in memory; an interrupted one is aborted. ``open`` streams the object.

    The credentials are the settings' or, when left unset, boto3's usual ones (the
    ``AWS_*`` variables, ``~/.aws``, an instance role); they are never logged nor shown
    by ``repr``. The client is made on first use in each process (a server that forks
    its workers gives each its own connections).
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        addressing_style: str | None = None,
        part_size: int = S3_PART,
    ) -> None:
        if not BUCKET.fullmatch(bucket or ""):
            raise ValueError(f"not an S3 bucket name: {bucket!r}")
        prefix = (prefix or "").strip("/")
        if prefix and not KEY.fullmatch(prefix):
            raise ValueError(f"not a key prefix: {prefix!r}")
        if addressing_style and addressing_style not in ADDRESSING_STYLES:
            raise ValueError(f"S3_ADDRESSING_STYLE must be one of {', '.join(ADDRESSING_STYLES)}")
        if bool(access_key_id) != bool(secret_access_key):
            raise ValueError("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together")
        self.bucket, self.prefix = bucket, prefix
        self.endpoint_url, self.region = endpoint_url or None, region or None
        self._credentials = (access_key_id or None, secret_access_key or None)
        self._config = Config(
            connect_timeout=S3_CONNECT_TIMEOUT,
            read_timeout=S3_READ_TIMEOUT,
            retries={"max_attempts": S3_ATTEMPTS, "mode": "standard"},
            s3={"addressing_style": addressing_style or "auto"},
        )
        self._transfer = TransferConfig(
            multipart_threshold=part_size, multipart_chunksize=part_size, max_concurrency=4
        )
        self._client: Any = None
        self._client_pid = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        where = ""
        if self.endpoint_url:  # without any user or password written into the address
            parts = urlsplit(self.endpoint_url)
            where = f" at {parts.scheme}://{parts.netloc.rpartition('@')[2]}"
        return f"S3Storage('s3://{self.bucket}/{self.prefix}'{where})"

    @property
    def client(self) -> Any:
        """This process's S3 client (boto3's clients are thread-safe)."""
        if self._client is None or self._client_pid != os.getpid():
            with self._lock:
                if self._client is None or self._client_pid != os.getpid():
                    self._client, self._client_pid = self._make_client(), os.getpid()
        return self._client

    def _make_client(self) -> Any:
        access_key_id, secret_access_key = self._credentials
        session = boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=self.region,
        )
        client = session.client("s3", endpoint_url=self.endpoint_url, config=self._config)
        for operation in ("PutObject", "CompleteMultipartUpload"):
            client.meta.events.register(f"before-parameter-build.s3.{operation}", _never_overwrite)
        return client

    def name(self, key: str) -> str:
        """The object's name in the bucket."""
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, source: bytes | BinaryIO) -> int:
        name = self.name(key)
        if isinstance(source, bytes | bytearray | memoryview):
            stream: Any = io.BytesIO(source)
            counted = None
        else:
            stream = counted = _Counted(source)  # read once, in full pieces
        try:
            self.client.upload_fileobj(stream, self.bucket, name, Config=self._transfer)
        except ClientError as error:
            if _code(error) in S3_EXISTS:
                raise ObjectExists(key) from None
            raise _failure(key, error) from error
        except BotoCoreError as error:
            raise _failure(key, error) from error
        return counted.count if counted is not None else memoryview(source).nbytes

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.name(key))["Body"]
        except ClientError as error:
            if _code(error) in S3_MISSING:
                raise ObjectMissing(key) from None
            raise _failure(key, error) from error
        except BotoCoreError as error:
            raise _failure(key, error) from error
        try:
            yield body
        finally:
            body.close()

    def read(self, key: str) -> bytes:
        with self.open(key) as handle:
            try:
                return handle.read()
            except BotoCoreError as error:  # the connection lost while reading
                raise _failure(key, error) from error

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.name(key))
        except ClientError as error:
            if _code(error) not in S3_MISSING:
                raise _failure(key, error) from error
        except BotoCoreError as error:
            raise _failure(key, error) from error

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.name(key))
        except ClientError as error:
            if _code(error) in S3_MISSING:
                return False
            raise _failure(key, error) from error
        except BotoCoreError as error:
            raise _failure(key, error) from error
        return True

    def keys(self, prefix: str = "") -> Iterator[str]:
        base = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=base + prefix
        )
        try:
            for page in pages:
                for item in page.get("Contents", ()):
                    key = item["Key"][len(base) :]
                    if KEY.fullmatch(key):
                        yield key
        except (ClientError, BotoCoreError) as error:
            raise _failure(prefix or "/", error) from error

    def ping(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as error:
            raise _failure(f"s3://{self.bucket}", error) from error


def _never_overwrite(params: dict, **_: Any) -> None:
    """botocore's hook before a write's request is built: only if the key has no object."""
    params.setdefault("IfNoneMatch", "*")


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _failure(key: str, error: Exception) -> StorageError:
    """A StorageError naming the key and S3's error code, or the kind of network error
    (never a credential: neither botocore's messages nor these carry one)."""
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return StorageError(key, f"S3 answered {_code(error) or '?'} ({status})")
    return StorageError(key, f"S3 did not answer: {type(error).__name__}")


class _Counted:
    """A binary stream read in full pieces, counting the bytes read (what a put wrote).

    boto3 takes a piece shorter than it asked for as the end of a stream that cannot
    seek, and would store the object cut short; a request's body or a socket gives such
    pieces, so each ``read(size)`` here reads on until ``size`` bytes or the real end.
    """

    def __init__(self, source: BinaryIO) -> None:
        self.source, self.count = source, 0

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            pieces = []
            while piece := self.source.read(CHUNK):
                pieces.append(piece)
        else:
            pieces, wanted = [], size
            while wanted > 0 and (piece := self.source.read(wanted)):
                pieces.append(piece)
                wanted -= len(piece)
        data = b"".join(pieces)
        self.count += len(data)
        return data


class Within:
    """The part of a storage under one prefix: ``Within(storage, "photos")``'s key
    ``ab/ab12….jpg`` is the storage's ``photos/ab/ab12….jpg``."""

    def __init__(self, storage: Storage, prefix: str) -> None:
        self.storage, self.prefix = storage, check_key(prefix.strip("/"))

    def __repr__(self) -> str:
        return f"{self.storage!r}/{self.prefix}"

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{check_key(key)}"

    def put(self, key: str, source: bytes | BinaryIO) -> int:
        return self.storage.put(self._key(key), source)

    def open(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]:
        return self.storage.open(self._key(key))

    def read(self, key: str) -> bytes:
        return self.storage.read(self._key(key))

    def delete(self, key: str) -> None:
        self.storage.delete(self._key(key))

    def exists(self, key: str) -> bool:
        return self.storage.exists(self._key(key))

    def keys(self, prefix: str = "") -> Iterator[str]:
        for key in self.storage.keys(f"{self.prefix}/{prefix}"):
            yield key[len(self.prefix) + 1 :]

    def ping(self) -> None:
        self.storage.ping()


def made_once(storage: Storage, key: str, make: Callable[[], bytes]) -> bytes:
    """The object under ``key``, made by ``make()`` and stored the first time it is asked
    for: the same bytes ever after, for every app server. Two servers making it at once
    both make it, and the one that stores second serves what the first stored."""
    try:
        return storage.read(key)
    except ObjectMissing:
        pass
    content = make()
    try:
        storage.put(key, content)
    except ObjectExists:
        return storage.read(key)
    return content


def within(storage: Storage, prefix: str) -> Storage:
    """The part of ``storage`` under ``prefix`` (a key's first segments)."""
    return Within(storage, prefix)


def from_settings(config: dict) -> Storage:
    """The storage the settings name by ``STORAGE_URL``:

    - unset (or empty): the folder ``UPLOAD_FOLDER`` (``<instance>/uploads``);
    - ``file:///srv/portal/files``: that folder (say, one that every app server mounts);
    - ``s3://bucket`` or ``s3://bucket/prefix``: that bucket, at ``S3_ENDPOINT_URL`` (unset:
      AWS), in ``S3_REGION``, with ``S3_ACCESS_KEY_ID`` and ``S3_SECRET_ACCESS_KEY`` (unset:
      boto3's usual credentials) and ``S3_ADDRESSING_STYLE`` (``path`` for most
      S3-compatible stores reached by a host name; unset: boto3's choice).
    """
    url = (config.get("STORAGE_URL") or "").strip()
    if not url:
        return LocalStorage(config["UPLOAD_FOLDER"])
    parts = urlsplit(url)
    if parts.scheme == "file" and parts.netloc in ("", "localhost") and parts.path:
        return LocalStorage(parts.path)
    if parts.scheme == "s3" and parts.netloc and not (parts.query or parts.fragment):
        return S3Storage(
            parts.netloc,
            parts.path,
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            region=config.get("S3_REGION"),
            access_key_id=config.get("S3_ACCESS_KEY_ID"),
            secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
            addressing_style=config.get("S3_ADDRESSING_STYLE"),
        )
    raise ValueError(
        "STORAGE_URL must be unset (the folder UPLOAD_FOLDER), file:///<folder> "
        "or s3://<bucket>[/<prefix>]"
    )


def init_app(app: Flask) -> None:
    """Build the app's storage; a folder never inside the static files (served to all)."""
    storage = from_settings(app.config)
    if isinstance(storage, LocalStorage):
        folder = storage.root.resolve()
        static = Path(app.static_folder or app.root_path).resolve()
        if folder.is_relative_to(static):
            raise RuntimeError(f"the storage folder must not be inside the static files: {folder}")
    log.info("files kept in %r", storage)
    app.extensions[EXTENSION_KEY] = storage


def current() -> Storage:
    """The current app's storage."""
    return current_app.extensions[EXTENSION_KEY]
