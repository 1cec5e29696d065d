"""Several app servers: nothing a request needs lives on one machine.

The files go to an S3 bucket (moto's S3 server, over HTTP) and come back from it, digest
checked; sign-in lock-outs, rate limits and staff sessions are in the database, so a
second app (another server, another instance folder) on the same database sees them.
"""

from __future__ import annotations

import io
from pathlib import Path
from unittest.mock import patch

import pytest
import sqlalchemy as sa

from portal.campaign import acts, winners
from portal.campaign.audit import Actor
from portal.models import Winner, db
from portal.models.acts import WinnerFile
from portal.services import storage, uploads
from portal.services.storage import S3Storage
from tests.helpers import (
    PASSWORD,
    at,
    bucket_keys,
    csrf_from,
    load_september,
    make_staff,
    png,
    published,
    s3_client,
    sign_in_client,
    submit_check,
)

W = Winner
WRONG = "not the password at all"


def bucket_of(app) -> tuple[str, str]:
    """The moto server's address and the bucket of an app marked ``s3_storage``."""
    return app.config["S3_ENDPOINT_URL"], app.config["STORAGE_URL"].split("/")[2]


def instance_files(app) -> list[str]:
    folder = app.config["UPLOAD_FOLDER"]
    return [str(p) for p in Path(folder).rglob("*") if p.is_file()]


@pytest.mark.s3_storage
def test_winners_files_go_to_the_bucket_and_come_back_to_staff(app, issued, client, auth):
    endpoint, bucket = bucket_of(app)
    token = acts.issue_link(issued.winner)
    winner_id = issued.winner_id
    db.session.commit()
    # the winner sends the act signed by hand and the director's card
    page = client.get(f"/ru/winner/{token}").get_data(as_text=True)
    card = png()
    sent = client.post(
        f"/ru/winner/{token}/manual",
        data={
            "csrf_token": csrf_from(page),
            "reason": "The director's EDS expired.",
            "signed_act": (io.BytesIO(issued.pdf), "act.pdf"),
            "director_id": (io.BytesIO(card), "id.png"),
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    # staff add the organizer's director's card
    auth.login("marketing")
    staff_page = client.get(f"/admin/ismet-2022/winners/{winner_id}").get_data(as_text=True)
    organizer_card = png()
    upload = client.post(
        f"/admin/ismet-2022/winners/{winner_id}/files",
        data={"csrf_token": csrf_from(staff_page), "file": (io.BytesIO(organizer_card), "c.png")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    records = db.session.scalars(sa.select(WinnerFile).order_by(WinnerFile.id)).all()
    assert [r.kind for r in records] == ["signed_act", "director_id", "organizer_director_id"]
    # in the bucket, under the settings' prefix and winners/, and nowhere on this machine
    assert bucket_keys(endpoint, bucket) == sorted(f"files/winners/{r.path}" for r in records)
    assert instance_files(app) == []
    # back to staff, and to the winner, byte for byte
    for record, original in zip(records, (issued.pdf, card, organizer_card), strict=True):
        download = client.get(f"/admin/ismet-2022/winner-files/{record.id}")
        assert download.status_code == 200 and download.data == original
    assert client.get(f"/ru/winner/{token}/files/{records[1].id}").data == card
    # an object changed in the bucket behind the portal's back is refused
    s3_client(endpoint).put_object(
        Bucket=bucket, Key=f"files/winners/{records[1].path}", Body=card + b"\x00"
    )
    with pytest.raises(uploads.StoredFileError) as changed:
        acts.read_file(records[1])
    assert changed.value.code == "changed"


@pytest.mark.s3_storage
def test_a_photo_goes_to_the_bucket_and_is_served_from_it(app, drawn, client, auth):
    endpoint, bucket = bucket_of(app)
    winner = published(drawn)
    winners.add_photo(winner, png(), actor=Actor(label="staff"), now=at(10, 29))
    db.session.expire_all()
    winner = db.session.get(Winner, drawn.id)
    assert bucket_keys(endpoint, bucket) == [f"files/photos/{winner.photo_path}"]
    assert instance_files(app) == []
    stored = storage.within(storage.current(), "photos").read(winner.photo_path)
    public = client.get(f"/ru/ismet-2022/winners/2022-09/photo/{winner.id}")
    assert public.status_code == 200 and public.data == stored
    auth.login("marketing")
    assert client.get(f"/admin/ismet-2022/winners/{winner.id}/photo").data == stored
    # a replacement whose transaction fails leaves no object behind in the bucket
    with (
        patch.object(db.session, "commit", side_effect=RuntimeError("database gone")),
        pytest.raises(RuntimeError),
    ):
        winners.add_photo(winner, png(), actor=Actor(label="staff"))
    db.session.rollback()
    assert bucket_keys(endpoint, bucket) == [f"files/photos/{winner.photo_path}"]


@pytest.mark.s3_storage
def test_two_app_servers_share_one_bucket(app, other_app, drawn):
    """A photo stored by one app server is served by another (its own instance folder)."""
    winner = published(drawn)
    winners.add_photo(winner, png(), actor=Actor(label="staff"), now=at(10, 29))
    winner_id = winner.id
    second = other_app(**{k: app.config[k] for k in app.config if k.startswith(("S3_", "STORAGE"))})
    with second.app_context():
        assert isinstance(storage.current(), S3Storage)
    served = second.test_client().get(f"/ru/ismet-2022/winners/2022-09/photo/{winner_id}")
    assert served.status_code == 200 and served.data.startswith(b"\x89PNG")
    assert instance_files(second) == [] and instance_files(app) == []


# --- lock-outs, limits and sessions across app servers ----------------------------------


def test_a_lock_out_made_through_one_app_server_holds_on_another(app, other_app):
    second = other_app()
    with app.app_context():
        make_staff("admin@ismet.kz", "admin")
    first_client = app.test_client()
    for _ in range(5):
        sign_in_client(first_client, "admin@ismet.kz", WRONG)
    # the same address, the right password, through the other server: still locked out
    second_client = second.test_client()
    sign_in_client(second_client, "admin@ismet.kz", PASSWORD)
    assert second_client.get("/admin/").status_code == 302
    # another address is not locked out, on either server
    elsewhere = second.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "203.0.113.20"
    sign_in_client(elsewhere, "admin@ismet.kz", PASSWORD)
    assert elsewhere.get("/admin/").status_code == 200


def test_the_self_check_limit_counts_the_requests_to_every_app_server(app, other_app, demo):
    second = other_app()
    bins = load_september(app, demo)
    first_client, second_client = app.test_client(), second.test_client()
    for n in range(20):  # half through each server
        client = first_client if n % 2 else second_client
        assert submit_check(client, "kk", "ACC0000001", bins["ACC0000001"]).status_code == 200
    assert submit_check(first_client, "kk", "ACC0000001", bins["ACC0000001"]).status_code == 429
    assert submit_check(second_client, "ru", "ACC0000001", bins["ACC0000001"]).status_code == 429


def test_a_staff_session_opened_on_one_app_server_goes_on_on_another(app, other_app):
    second = other_app()
    with app.app_context():
        make_staff("admin@ismet.kz", "admin")
    first_client = app.test_client()
    sign_in_client(first_client, "admin@ismet.kz", PASSWORD)
    assert first_client.get("/admin/").status_code == 200
    cookie = first_client.get_cookie("session")
    second_client = second.test_client()
    second_client.set_cookie(cookie.key, cookie.value, domain=cookie.domain or "localhost")
    assert second_client.get("/admin/").status_code == 200
    # signing out on the second ends the session on the first too
    token = csrf_from(second_client.get("/admin/").get_data(as_text=True))
    second_client.post("/admin/logout", data={"csrf_token": token})
    assert first_client.get("/admin/").status_code == 302
