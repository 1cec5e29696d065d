"""The import's tables keep their keys on PostgreSQL, checked by statement (migration 0032).

PostgreSQL checked the keys of ``participant`` (its campaign), ``activity`` (its
participant; its import of its month) and ``import_row`` (its import, deleted with it)
by a trigger call per row; an import's million rows are now checked once per statement.
These tests hold the triggers to what the keys guaranteed, both ways: the referring row
must point at a row that exists, and the row referred to is kept (or, for the staged
rows, takes them with it). SQLite is left out: the portal has never turned on its
enforcement of keys (``PRAGMA foreign_keys``), and its keys are declared as before.
"""

from __future__ import annotations

import importlib

import flask_migrate
import psycopg
import pytest
import sqlalchemy as sa

from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.models import Activity, ImportBatch, ImportRow, Participant, db
from portal.models.base import load_rows
from portal.models.migration import KEYS_CHECKED_BY_STATEMENT
from tests.helpers import TODAY, count, csv_bytes, row

pytestmark = pytest.mark.usefixtures("postgresql_only")

MIGRATION = importlib.import_module("migrations.versions.0032_import_keys_by_statement")
KEYS = MIGRATION.KEYS


@pytest.fixture
def postgresql_only(ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the keys are checked by statement on PostgreSQL only (migration 0032)")


@pytest.fixture
def figure(september):
    """One of September's figures: its id, participant, import and month."""
    return db.session.execute(
        sa.select(Activity.id, Activity.participant_id, Activity.batch_id, Activity.period_id)
        .order_by(Activity.id)
        .limit(1)
    ).one()


def _violates_a_key(statement, params) -> None:
    with pytest.raises(sa.exc.IntegrityError) as raised:
        db.session.execute(sa.text(statement), params)
    assert raised.value.orig.sqlstate == "23503"  # foreign_key_violation, as a key's
    db.session.rollback()


def _passes(statement, params) -> None:
    db.session.execute(sa.text(statement), params)
    db.session.rollback()


def _outsider(figure, account: str = "outsider") -> int:
    """A participant of the figure's campaign with no figures yet: its id."""
    outsider = Participant(
        campaign_id=db.session.get(Participant, figure.participant_id).campaign_id,
        account_number=account,
        bin_iin="000000000000",
        legal_form="IE",
        company_name="Outsider",
    )
    db.session.add(outsider)
    db.session.commit()  # kept through the rollbacks of the refused statements
    return outsider.id


def _stage(batch_id: int, rows: int) -> None:
    """``rows`` staged rows of the import ``batch_id``, by COPY as an import stages them."""
    columns = [c.name for c in ImportRow.__table__.columns if c.name not in ("id", "batch_id")]
    values = (2, "acc", "000000000000", "IE", "A", "B", "", "", "", None, None, 1, 5)
    load_rows(ImportRow.__table__, columns, [values] * rows, fixed={"batch_id": batch_id})


def _other_batch(period_id: int, status: str = ImportBatch.FAILED) -> int:
    batch = ImportBatch(period_id=period_id, filename="x.csv", sha256="0" * 64, status=status)
    db.session.add(batch)
    db.session.commit()
    return batch.id


NEW_FIGURE = (
    "INSERT INTO activity (period_id, participant_id, batch_id, legal_form, paid_months,"
    " receipts_in_period) VALUES (:m, :p, :b, 'IE', 1, 5)"
)


def test_the_keys_listed_as_checked_by_statement_are_triggers_not_constraints(ctx):
    """The one list of them (``models.migration``) is what the database has: none of its
    keys is a constraint, and each of the import's has its four triggers."""
    declared = set(
        db.session.scalars(sa.text("SELECT conname FROM pg_constraint WHERE contype = 'f'"))
    )
    triggers = set(db.session.scalars(sa.text("SELECT tgname FROM pg_trigger")))
    assert declared & KEYS_CHECKED_BY_STATEMENT == set()
    for name, *_ in KEYS:
        assert name in KEYS_CHECKED_BY_STATEMENT
        for when in ("insert", "update", "delete", "key_update"):
            assert f"{name}_on_{when}" in triggers


def test_an_import_writes_its_rows_and_checks_them(empty_september):
    batch, report = import_month(
        empty_september, "sep.csv", csv_bytes([row(1), row(2)]), today=TODAY
    )
    assert report.ok and count(Activity) == count(Participant) == 2
    assert count(ImportRow) == 0
    assert batch.status == ImportBatch.DONE


def test_a_figure_must_name_a_participant_that_exists(figure):
    params = {"m": figure.period_id, "b": figure.batch_id}
    _violates_a_key(NEW_FIGURE, {**params, "p": figure.participant_id + 100_000})
    _violates_a_key(
        "UPDATE activity SET participant_id = :p WHERE id = :a",
        {"a": figure.id, "p": figure.participant_id + 100_000},
    )
    _passes(NEW_FIGURE, {**params, "p": _outsider(figure)})  # a row whose keys hold is written


def test_a_figure_must_name_an_import_of_its_month(figure, september):
    params = {"m": figure.period_id, "p": _outsider(figure)}
    _violates_a_key(NEW_FIGURE, {**params, "b": figure.batch_id + 1000})
    other_month = find_period(september.campaign, "2022-10").id
    # an import that exists, of another month: refused, as the two-column key refused it
    _violates_a_key(NEW_FIGURE, {**params, "b": _other_batch(other_month)})
    elsewhere = _other_batch(other_month)
    _violates_a_key(
        "UPDATE activity SET batch_id = :b WHERE id = :a", {"a": figure.id, "b": elsewhere}
    )
    _violates_a_key(
        "UPDATE activity SET period_id = :m WHERE id = :a", {"a": figure.id, "m": other_month}
    )
    # both changed together, to an import of that month: its key holds
    _passes(
        "UPDATE activity SET batch_id = :b, period_id = :m WHERE id = :a",
        {"a": figure.id, "b": _other_batch(other_month), "m": other_month},
    )


def test_a_participant_must_name_a_campaign_that_exists(figure):
    someone = db.session.get(Participant, figure.participant_id)
    insert = (
        "INSERT INTO participant (campaign_id, account_number, bin_iin, legal_form,"
        " company_name, director_name, email, phone, city)"
        " VALUES (:c, 'new', '000000000000', 'IE', 'New', '', '', '', '')"
    )
    _violates_a_key(insert, {"c": someone.campaign_id + 1000})
    _violates_a_key(
        "UPDATE participant SET campaign_id = :c WHERE id = :p",
        {"p": someone.id, "c": someone.campaign_id + 1000},
    )
    _passes(insert, {"c": someone.campaign_id})
    # the participants' contacts, as an import updates them, are written as before
    _passes(
        "UPDATE participant SET city = 'Astana' WHERE campaign_id = :c", {"c": someone.campaign_id}
    )


def test_staged_rows_must_name_an_import_that_exists(figure):
    with pytest.raises(psycopg.errors.ForeignKeyViolation):  # the driver's: COPY is its own
        _stage(figure.batch_id + 1000, 2)
    db.session.rollback()
    # one statement, a good row and a bad one: refused whole, as the key refused it
    _violates_a_key(
        "INSERT INTO import_row (batch_id, row_number, account_number, bin_iin, legal_form,"
        " company_name, director_name, email, phone, city, paid_months, receipts_in_period)"
        " SELECT b, 2, 'a', '000000000000', 'IE', 'A', 'B', '', '', '', 1, 5"
        " FROM (VALUES (:good), (:bad)) AS batches (b)",
        {"good": figure.batch_id, "bad": figure.batch_id + 1000},
    )
    assert count(ImportRow) == 0  # the whole COPY refused
    _stage(figure.batch_id, 2)
    assert count(ImportRow) == 2


def test_a_participant_with_figures_is_kept_and_one_without_may_go(figure):
    _violates_a_key("DELETE FROM participant WHERE id = :p", {"p": figure.participant_id})
    _violates_a_key(
        "UPDATE participant SET id = id + 100000 WHERE id = :p", {"p": figure.participant_id}
    )
    db.session.execute(
        sa.text("DELETE FROM activity WHERE participant_id = :p"), {"p": figure.participant_id}
    )
    db.session.execute(
        sa.text("DELETE FROM participant WHERE id = :p"), {"p": figure.participant_id}
    )
    assert db.session.get(Participant, figure.participant_id) is None


def test_an_import_with_figures_is_kept(figure, september):
    _violates_a_key("DELETE FROM import_batch WHERE id = :b", {"b": figure.batch_id})
    _violates_a_key("UPDATE import_batch SET id = id + 1000 WHERE id = :b", {"b": figure.batch_id})
    _violates_a_key(
        "UPDATE import_batch SET period_id = :m WHERE id = :b",
        {"b": figure.batch_id, "m": find_period(september.campaign, "2022-10").id},
    )
    # what the portal changes of an import is written as before
    _passes("UPDATE import_batch SET status = 'replaced' WHERE id = :b", {"b": figure.batch_id})


def test_an_import_deleted_takes_its_staged_rows_and_their_import_is_kept(september):
    running = _other_batch(september.id, status=ImportBatch.RUNNING)
    _stage(running, 2)
    _violates_a_key("UPDATE import_batch SET id = id + 1000 WHERE id = :b", {"b": running})
    running, other = (_other_batch(september.id, ImportBatch.RUNNING) for _ in range(2))
    _stage(running, 2)
    _stage(other, 1)
    unreferred = _other_batch(september.id)
    db.session.execute(
        sa.text("UPDATE import_batch SET id = id + 1000 WHERE id = :b"), {"b": unreferred}
    )  # an import nothing refers to may change its id, as the key let it
    db.session.execute(sa.text("DELETE FROM import_batch WHERE id = :b"), {"b": running})
    # cascaded, as ON DELETE CASCADE did: the other import's staged row stays
    assert db.session.scalars(sa.select(ImportRow.batch_id)).all() == [other]


def test_a_campaign_with_participants_is_kept(figure):
    campaign_id = db.session.get(Participant, figure.participant_id).campaign_id
    _violates_a_key("DELETE FROM campaign WHERE id = :c", {"c": campaign_id})
    _violates_a_key("UPDATE campaign SET id = id + 1000 WHERE id = :c", {"c": campaign_id})
    # a campaign no participant refers to may change its id, as the key let it
    db.session.execute(
        sa.text(
            "INSERT INTO campaign (id, slug, title_kk, title_ru, organizer_kk, organizer_ru,"
            " territory_kk, territory_ru, starts_on, ends_on, created_at, min_receipts,"
            " min_paid_months, commission_min_members)"
            " SELECT 999, 'empty', title_kk, title_ru, organizer_kk, organizer_ru,"
            " territory_kk, territory_ru, starts_on, ends_on, created_at, min_receipts,"
            " min_paid_months, commission_min_members FROM campaign WHERE id = :c"
        ),
        {"c": campaign_id},
    )
    db.session.execute(sa.text("UPDATE campaign SET id = 1999 WHERE id = 999"))
    db.session.execute(sa.text("DELETE FROM campaign WHERE id = 1999"))
    db.session.rollback()


def test_the_migration_gives_the_keys_back_and_takes_them_again(september):
    """Down to the revision before 0032 (with a month's figures in the database) the
    keys are constraints again, and nothing of the triggers is left; up, triggers again."""
    declared = "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conname IN :names"
    triggers = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'fk_%_on_%'"
    names = {"names": tuple(name for name, *_ in KEYS)}
    statement = sa.text(declared).bindparams(sa.bindparam("names", expanding=True))
    db.session.commit()
    db.session.close()
    flask_migrate.downgrade(revision=MIGRATION.down_revision)
    assert db.session.scalar(statement, names) == len(KEYS)
    assert db.session.scalar(sa.text(triggers)) == 0
    db.session.close()
    flask_migrate.upgrade()
    assert db.session.scalar(statement, names) == 0
    assert db.session.scalar(sa.text(triggers)) == 4 * len(KEYS)
    assert count(Activity) == 12


def _sqlstate(connection, statement, params) -> str | None:
    """Run ``statement`` on ``connection`` in a savepoint: the SQLSTATE it failed with, or None."""
    try:
        with connection.begin_nested():
            connection.execute(sa.text(statement), params)
    except sa.exc.DBAPIError as error:
        return error.orig.sqlstate
    return None


def test_a_delete_waits_for_the_rows_being_written_and_they_for_it(figure):
    """What the per-row keys' locks guaranteed between two transactions: a participant's
    delete waits for figures being written for it, then sees them; figures written
    after a delete wait for it, then find the participant gone."""
    someone = _outsider(figure)
    figure_for = {"m": figure.period_id, "b": figure.batch_id, "p": someone}
    wait = "SET LOCAL lock_timeout = '300ms'"
    with db.engine.connect() as writer, db.engine.connect() as remover:
        writer.execute(sa.text(NEW_FIGURE), figure_for)  # not committed yet
        remover.execute(sa.text(wait))
        delete = "DELETE FROM participant WHERE id = :p"
        assert _sqlstate(remover, delete, {"p": someone}) == "55P03"  # waits for the writer
        writer.commit()
        assert _sqlstate(remover, delete, {"p": someone}) == "23503"  # then sees its figure
        remover.rollback()

        other = _outsider(figure, "another")
        remover.execute(sa.text(delete), {"p": other})  # not committed yet
        writer.execute(sa.text(wait))
        figure_for["p"] = other
        assert _sqlstate(writer, NEW_FIGURE, figure_for) == "55P03"  # waits for the delete
        remover.commit()
        assert _sqlstate(writer, NEW_FIGURE, figure_for) == "23503"  # then finds it gone
        writer.rollback()
