"""The storage's contract, held by each storage: the instance folder and an S3 bucket (on
moto's S3 server, spoken to over HTTP); the settings that choose one."""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from pathlib import Path

import pytest

from portal.services import storage, uploads
from portal.services.storage import (
    BadKey,
    LocalStorage,
    ObjectExists,
    ObjectMissing,
    S3Storage,
    StorageError,
)
from tests.helpers import S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, make_app, png

MIB = 1024 * 1024


class Trickle:
    """A stream that can only be read (no seek, no length), as a request's upload."""

    def __init__(self, data: bytes, step: int = 64 * 1024) -> None:
        self.source, self.step = io.BytesIO(data), step

    def read(self, size: int = -1) -> bytes:
        return self.source.read(self.step if size < 0 else min(size, self.step))


def test_what_is_put_is_read_back_and_listed(any_storage):
    assert list(any_storage.keys()) == []
    assert any_storage.put("winners/ab/one.pdf", b"%PDF-1 one") == 10
    assert any_storage.put("photos/cd/two.jpg", Trickle(b"two" * 1000)) == 3000
    assert any_storage.put("imports/3.csv", io.BytesIO(b"")) == 0  # an empty object is one
    assert any_storage.read("winners/ab/one.pdf") == b"%PDF-1 one"
    with any_storage.open("photos/cd/two.jpg") as handle:
        assert handle.read(3) == b"two"
        assert handle.read() == b"two" * 999
    assert any_storage.read("imports/3.csv") == b""
    assert any_storage.exists("winners/ab/one.pdf") and not any_storage.exists("winners/ab/x")
    assert sorted(any_storage.keys()) == [
        "imports/3.csv",
        "photos/cd/two.jpg",
        "winners/ab/one.pdf",
    ]
    assert list(any_storage.keys("photos/")) == ["photos/cd/two.jpg"]
    assert list(any_storage.keys("winners/ab/o")) == ["winners/ab/one.pdf"]
    assert list(any_storage.keys("win")) == ["winners/ab/one.pdf"]
    assert list(any_storage.keys("nothing/")) == []
    any_storage.delete("photos/cd/two.jpg")
    assert not any_storage.exists("photos/cd/two.jpg")
    assert sorted(any_storage.keys()) == ["imports/3.csv", "winners/ab/one.pdf"]
    any_storage.ping()


def test_a_put_never_overwrites(any_storage):
    any_storage.put("winners/ab/one.pdf", b"the first upload")
    with pytest.raises(ObjectExists):
        any_storage.put("winners/ab/one.pdf", b"another")
    with pytest.raises(ObjectExists):
        any_storage.put("winners/ab/one.pdf", Trickle(b"another, as a stream"))
    assert any_storage.read("winners/ab/one.pdf") == b"the first upload"
    assert list(any_storage.keys()) == ["winners/ab/one.pdf"]


def test_a_large_stream_goes_up_in_parts_and_never_over_another(any_storage):
    """11 MiB read from a stream that cannot seek: on S3 a multipart upload (5 MiB parts),
    which cannot replace an object either; the object read back as a stream."""
    data = bytes(range(256)) * (11 * MIB // 256) + b"end"
    assert any_storage.put("imports/big.csv", Trickle(data)) == len(data)
    with pytest.raises(ObjectExists):
        any_storage.put("imports/big.csv", Trickle(b"x" * len(data)))
    digest, size = hashlib.sha256(), 0
    with any_storage.open("imports/big.csv") as handle:
        while chunk := handle.read(MIB):
            digest.update(chunk)
            size += len(chunk)
    assert (size, digest.hexdigest()) == (len(data), hashlib.sha256(data).hexdigest())
    if isinstance(any_storage, S3Storage):  # the refused upload's parts are not left behind
        uploads_left = any_storage.client.list_multipart_uploads(Bucket=any_storage.bucket)
        assert uploads_left.get("Uploads", []) == []


def test_a_missing_object_is_an_error_but_deleting_it_is_not(any_storage):
    with pytest.raises(ObjectMissing):
        any_storage.read("winners/ab/none.pdf")
    with pytest.raises(ObjectMissing), any_storage.open("winners/ab/none.pdf"):
        pass
    assert not any_storage.exists("winners/ab/none.pdf")
    any_storage.delete("winners/ab/none.pdf")


@pytest.mark.parametrize(
    "key", ["", "/etc/passwd", "../outside", "a/../../b", "a//b", "a/./b", "a\\b"]
)
def test_what_is_not_a_key_is_refused(any_storage, key):
    for action in (
        lambda: any_storage.put(key, b"x"),
        lambda: any_storage.read(key),
        lambda: any_storage.exists(key),
        lambda: any_storage.delete(key),
    ):
        with pytest.raises(BadKey):
            action()
    assert list(any_storage.keys()) == []


def test_a_part_of_a_storage_under_a_prefix(any_storage):
    photos = storage.within(any_storage, "photos")
    winners = storage.within(any_storage, "winners")
    photos.put("ab/ab1.jpg", b"photo")
    winners.put("ab/ab1.jpg", b"scan")
    assert photos.read("ab/ab1.jpg") == b"photo" and winners.read("ab/ab1.jpg") == b"scan"
    assert list(photos.keys()) == ["ab/ab1.jpg"]
    assert sorted(any_storage.keys()) == ["photos/ab/ab1.jpg", "winners/ab/ab1.jpg"]
    with pytest.raises(ObjectExists):
        photos.put("ab/ab1.jpg", b"another")
    photos.delete("ab/ab1.jpg")
    assert not photos.exists("ab/ab1.jpg") and winners.exists("ab/ab1.jpg")


def test_an_upload_changed_in_the_store_is_refused_on_read(any_storage):
    """The digest recorded when a file was stored is checked when it is read: a file
    replaced in the store behind the portal's back (here: deleted and put again) is
    refused, whichever the store."""
    where = storage.within(any_storage, "winners")
    data = png()
    stored = uploads.store(data, uploads.check(data, "card.png"), where)
    assert any_storage.exists(f"winners/{stored.relative_path}")
    assert uploads.open_stored(where, stored.relative_path, stored.sha256) == data
    where.delete(stored.relative_path)
    with pytest.raises(uploads.StoredFileError) as missing:
        uploads.open_stored(where, stored.relative_path, stored.sha256)
    assert missing.value.code == "missing"
    where.put(stored.relative_path, data + b"\x00")
    with pytest.raises(uploads.StoredFileError) as changed:
        uploads.open_stored(where, stored.relative_path, stored.sha256)
    assert changed.value.code == "changed"
    uploads.remove_stored(where, stored.relative_path)  # the rollback's removal
    assert list(any_storage.keys()) == []


def test_a_storage_that_does_not_answer_fails_its_ping(any_storage, tmp_path):
    if isinstance(any_storage, S3Storage):
        gone = S3Storage(
            "no-such-bucket-here",
            endpoint_url=any_storage.endpoint_url,
            region="us-east-1",
            access_key_id=S3_ACCESS_KEY_ID,
            secret_access_key=S3_SECRET_ACCESS_KEY,
        )
        unreachable = S3Storage(
            any_storage.bucket,
            endpoint_url="http://127.0.0.1:9",  # nothing listens
            region="us-east-1",
            access_key_id=S3_ACCESS_KEY_ID,
            secret_access_key=S3_SECRET_ACCESS_KEY,
        )
    else:
        (tmp_path / "a-file").write_bytes(b"")
        gone, unreachable = LocalStorage(tmp_path / "missing"), LocalStorage(tmp_path / "a-file")
    for store in (gone, unreachable):
        with pytest.raises(StorageError) as failed:
            store.ping()
        assert S3_SECRET_ACCESS_KEY not in str(failed.value)
        assert S3_ACCESS_KEY_ID not in str(failed.value)


def test_in_a_folder_two_writers_of_one_key_never_both_succeed(tmp_path):
    """Twelve threads put the same key at once: one object, one writer's whole bytes."""
    folder = LocalStorage(tmp_path / "files")
    start = threading.Barrier(12)
    outcomes: list[bytes | None] = [None] * 12

    def write(n: int) -> None:
        body = bytes([n]) * 300_000
        start.wait()
        try:
            folder.put("winners/ab/race.pdf", body)
            outcomes[n] = body
        except ObjectExists:
            pass

    threads = [threading.Thread(target=write, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    written = [body for body in outcomes if body is not None]
    assert len(written) == 1
    assert folder.read("winners/ab/race.pdf") == written[0]
    assert [p.name for p in (tmp_path / "files").rglob("*") if p.is_file()] == ["race.pdf"]


def test_a_link_in_the_folder_leads_nowhere_outside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.pdf").write_bytes(b"not the portal's")
    folder = LocalStorage(tmp_path / "files")
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "winners").symlink_to(outside)
    with pytest.raises(BadKey):
        folder.read("winners/secret.pdf")
    with pytest.raises(BadKey):
        folder.put("winners/new.pdf", b"x")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.pdf"]


# --- the settings ---------------------------------------------------------------------


def settings(**values):
    return {"UPLOAD_FOLDER": "/srv/instance/uploads", **values}


def test_without_storage_url_the_files_are_in_the_upload_folder():
    chosen = storage.from_settings(settings())
    assert isinstance(chosen, LocalStorage) and chosen.root == Path("/srv/instance/uploads")
    chosen = storage.from_settings(settings(STORAGE_URL="file:///mnt/shared/portal"))
    assert isinstance(chosen, LocalStorage) and chosen.root == Path("/mnt/shared/portal")


def test_an_s3_url_names_the_bucket_and_prefix_and_the_s3_settings_the_rest():
    chosen = storage.from_settings(
        settings(
            STORAGE_URL="s3://ismet-files/portal/prod/",
            S3_ENDPOINT_URL="https://storage.example.kz",
            S3_REGION="kz-ala-1",
            S3_ACCESS_KEY_ID="AKIAEXAMPLE",
            S3_SECRET_ACCESS_KEY="very-secret-value",
            S3_ADDRESSING_STYLE="path",
        )
    )
    assert isinstance(chosen, S3Storage)
    assert (chosen.bucket, chosen.prefix) == ("ismet-files", "portal/prod")
    assert (chosen.endpoint_url, chosen.region) == ("https://storage.example.kz", "kz-ala-1")
    assert chosen.name("photos/ab/x.jpg") == "portal/prod/photos/ab/x.jpg"
    shown = repr(chosen)
    assert "ismet-files" in shown and "very-secret-value" not in shown and "AKIA" not in shown
    bare = storage.from_settings(settings(STORAGE_URL="s3://ismet-files"))
    assert bare.prefix == "" and bare.name("photos/ab/x.jpg") == "photos/ab/x.jpg"
    with_user = S3Storage("ismet-files", endpoint_url="https://user:pass@storage.example.kz")
    assert "pass" not in repr(with_user)


@pytest.mark.parametrize(
    "url",
    [
        "http://ismet-files/portal",
        "s3://",
        "s3://Not_A_Bucket/x",
        "s3://ismet-files/portal?versioning=1",
        "s3://ismet-files/../up",
        "ftp://files.example.kz/",
        "file://otherhost/srv/files",
    ],
)
def test_a_storage_url_that_names_no_store_stops_the_start(url):
    with pytest.raises(ValueError):
        storage.from_settings(settings(STORAGE_URL=url))


def test_half_the_credentials_stop_the_start():
    with pytest.raises(ValueError, match="S3_SECRET_ACCESS_KEY"):
        storage.from_settings(settings(STORAGE_URL="s3://ismet-files", S3_ACCESS_KEY_ID="AKIA"))


def test_an_app_on_s3_keeps_nothing_in_its_instance_folder(
    database_url, tmp_path, s3_bucket, caplog
):
    caplog.set_level(logging.INFO)
    app = make_app(database_url, tmp_path / "instance", **s3_bucket)
    with app.app_context():
        chosen = storage.current()
        assert isinstance(chosen, S3Storage)
        chosen.ping()
        chosen.put("photos/ab/x.jpg", b"x")
    assert not (tmp_path / "instance" / "uploads").exists()
    assert "files kept in S3Storage" in caplog.text
    assert S3_SECRET_ACCESS_KEY not in caplog.text and S3_ACCESS_KEY_ID not in caplog.text
