"""The photo with the certificate as one step: checked, stored, set, or nothing left behind."""

from __future__ import annotations

import io
from unittest.mock import patch

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.campaign import winners
from portal.campaign.audit import Actor
from portal.models import Winner, WinnerEvent, db
from portal.services import uploads
from tests.helpers import at, in_touch, published

W = Winner
STAFF = Actor(label="staff")


def picture(fmt: str = "PNG", size=(400, 300)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, fmt)
    return out.getvalue()


def stored_files() -> list[str]:
    return sorted(winners.photo_storage().keys())


def test_a_photo_is_stored_resized_and_completes_publication(drawn):
    winner = published(drawn)
    winners.add_photo(winner, picture("JPEG", (3000, 2000)), actor=STAFF, now=at(10, 29))
    db.session.expire_all()
    winner = db.session.get(Winner, winner.id)
    assert winner.status == W.PUBLISHED and winner.photo_type == "image/jpeg"
    data = uploads.open_stored(winners.photo_storage(), winner.photo_path, winner.photo_sha256)
    assert max(Image.open(io.BytesIO(data)).size) <= 1600
    event = db.session.scalars(
        sa.select(WinnerEvent).filter_by(winner_id=winner.id).order_by(WinnerEvent.id.desc())
    ).first()
    assert (event.action, event.actor) == ("photo_published", "staff")


def test_a_file_that_is_no_photo_is_refused_and_nothing_stored(drawn):
    winner = published(drawn)
    with pytest.raises(uploads.UploadRefused):
        winners.add_photo(winner, b"MZ\x90\x00" + b"\x00" * 200, actor=STAFF)
    assert winner.photo_path == "" and stored_files() == []


def test_a_winner_not_delivered_gets_no_photo_and_no_file(drawn):
    in_touch(drawn)
    with pytest.raises(winners.WinnerRefused) as refused:
        winners.add_photo(drawn, picture(), actor=STAFF)
    assert refused.value.code == "not-delivered"
    assert drawn.photo_path == "" and stored_files() == []


def test_the_stored_file_is_removed_when_the_database_refuses(drawn):
    winner = published(drawn)
    with (
        patch.object(db.session, "commit", side_effect=RuntimeError("database gone")),
        pytest.raises(RuntimeError),
    ):
        winners.add_photo(winner, picture(), actor=STAFF)
    db.session.rollback()
    assert stored_files() == []
