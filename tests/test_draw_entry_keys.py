"""A draw's entries keep their keys on PostgreSQL, checked by statement (migration 0024).

PostgreSQL checked ``draw_entry``'s two foreign keys with a trigger call per row; a
draw's million entries are now checked once per statement. These tests hold the
triggers to what the keys guaranteed. SQLite is left out: the portal has never turned on
its enforcement of keys (``PRAGMA foreign_keys``).
"""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from portal.models import DrawEntry, Participant, db
from portal.models.base import copy_rows
from tests.helpers import conduct, count

pytestmark = pytest.mark.usefixtures("postgresql_only")


@pytest.fixture
def postgresql_only(ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the keys are checked by statement on PostgreSQL only (migration 0024)")


@pytest.fixture
def draw(september, standin):
    return conduct(september)


def _violates_a_key(statement, *params) -> None:
    with pytest.raises(sa.exc.IntegrityError) as raised:
        db.session.execute(sa.text(statement), *params)
    assert raised.value.orig.sqlstate == "23503"  # foreign_key_violation, as a key's
    db.session.rollback()


def test_entries_of_a_draw_are_written_by_copy_and_checked_once(draw):
    assert count(DrawEntry) == draw.pool_size == 10
    missing = db.session.scalar(sa.select(sa.func.max(Participant.id))) + 1
    with pytest.raises(psycopg.errors.ForeignKeyViolation):  # the driver's: COPY is its own
        copy_rows(
            DrawEntry.__table__,
            ("draw_id", "position", "participant_id"),
            [(draw.id, 11, draw.winners[0].participant_id), (draw.id, 12, missing)],
        )
    db.session.rollback()
    assert count(DrawEntry) == 10  # the whole COPY refused, the good row with it


def test_an_entry_must_name_a_draw_and_a_participant_that_exist(draw):
    someone = draw.winners[0].participant_id
    _violates_a_key(
        "INSERT INTO draw_entry (draw_id, position, participant_id) VALUES (:d, 99, :p)",
        {"d": draw.id + 1000, "p": someone},
    )
    _violates_a_key(
        "INSERT INTO draw_entry (draw_id, position, participant_id) VALUES (:d, 99, :p)",
        {"d": draw.id, "p": someone + 100_000},
    )
    _violates_a_key(
        "UPDATE draw_entry SET participant_id = :p WHERE draw_id = :d AND position = 1",
        {"d": draw.id, "p": someone + 100_000},
    )
    db.session.execute(
        sa.text("INSERT INTO draw_entry (draw_id, position, participant_id) VALUES (:d, 99, :p)"),
        {"d": draw.id, "p": someone},
    )  # a row whose keys hold is written


def test_a_participant_in_a_draw_is_kept_and_one_in_none_may_go(draw):
    in_pool = draw.winners[0].participant_id
    _violates_a_key("DELETE FROM participant WHERE id = :p", {"p": in_pool})
    _violates_a_key("UPDATE participant SET id = id + 100000 WHERE id = :p", {"p": in_pool})
    outside = db.session.scalar(
        sa.select(Participant.id).where(
            ~sa.exists().where(DrawEntry.participant_id == Participant.id)
        )
    )
    db.session.execute(sa.text("DELETE FROM activity WHERE participant_id = :p"), {"p": outside})
    db.session.execute(sa.text("DELETE FROM participant WHERE id = :p"), {"p": outside})
    assert db.session.get(Participant, outside) is None


def test_a_draw_deleted_takes_its_entries_and_its_id_is_kept(draw):
    _violates_a_key("UPDATE draw SET id = id + 1000 WHERE id = :d", {"d": draw.id})
    winners = "SELECT w.id FROM winner w JOIN draw_winner dw ON dw.id = w.draw_winner_id"
    for statement in (
        f"DELETE FROM winner_event WHERE winner_id IN ({winners} WHERE dw.draw_id = :d)",
        "DELETE FROM winner WHERE draw_winner_id IN"
        " (SELECT id FROM draw_winner WHERE draw_id = :d)",
        "DELETE FROM draw_verdict WHERE draw_id = :d",
        "DELETE FROM pool_announcement WHERE draw_id = :d",
        "DELETE FROM protocol_signature WHERE draw_id = :d",
        "DELETE FROM draw_winner WHERE draw_id = :d",
        "DELETE FROM draw_file WHERE draw_id = :d",
    ):
        db.session.execute(sa.text(statement), {"d": draw.id})
    db.session.execute(sa.text("DELETE FROM draw WHERE id = :d"), {"d": draw.id})
    assert count(DrawEntry) == 0
