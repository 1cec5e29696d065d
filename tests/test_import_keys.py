"""What the second pass at the import's speed changed, held to what it replaced: the
month's figures keep their keys (one key for their import and its month, migration
0021), and the faster checks answer as the plain ones."""

from __future__ import annotations

import csv
import io
import random
from operator import mul

import pytest
import sqlalchemy as sa

from portal.campaign import imports
from portal.campaign.identity import FIRST_WEIGHTS, SECOND_WEIGHTS, is_valid_bin_iin
from portal.campaign.periods import find_period
from portal.models import Activity, ImportBatch, db
from portal.services.tabular import read_table, scan_lines
from tests.helpers import row


def plain_bin_iin_check(value: str) -> bool:
    """The rule as docs/DESIGN.md words it, digit by digit."""
    if len(value) != 12 or not all(c in "0123456789" for c in value):
        return False
    digits = [int(c) for c in value]
    for weights in (FIRST_WEIGHTS, SECOND_WEIGHTS):
        remainder = sum(map(mul, digits, weights)) % 11
        if remainder != 10:
            return remainder == digits[11]
    return False


def test_the_control_digit_by_looked_up_parts_answers_as_the_rule():
    rng = random.Random(16)
    values = ["".join(rng.choice("0123456789") for _ in range(12)) for _ in range(20_000)]
    # every position spoilt by a letter, a space, an Arabic-Indic and a full-width digit
    for value in values[:200]:
        for at in range(12):
            for other in ("x", " ", "\u0663", "\uff13"):
                values.append(value[:at] + other + value[at + 1 :])
    values += ["", "1" * 11, "1" * 13, " " + "1" * 11, "1" * 11 + "\n"]
    assert sum(map(plain_bin_iin_check, values)) > 1000  # valid ones are among them
    assert [v for v in values if is_valid_bin_iin(v) != plain_bin_iin_check(v)] == []


def test_a_file_scanned_with_its_fingerprint_is_read_as_one_scanned_again():
    rows = [row(n) for n in range(1, 6)]
    rows[2]["company_name"] = 'Жетісу "Сауда"\nLLP'  # quoted, a line break inside
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    data = out.getvalue().encode("utf-8")
    facts = imports.fingerprint(io.BytesIO(data))
    assert facts == imports.fingerprint(data)
    assert (facts.lines, facts.quoted) == scan_lines(io.BytesIO(data))
    for max_rows in (4, 5):
        results = []
        for scanned in (None, (facts.lines, facts.quoted)):
            try:
                header, read = read_table(
                    io.BytesIO(data), "m.csv", max_rows=max_rows, max_columns=64, scanned=scanned
                )
                results.append((header, list(read)))
            except ValueError as refused:
                results.append(refused.args)
        assert results[0] == results[1]
    assert results[0][1][2][1][3] == 'Жетісу "Сауда"\nLLP'


@pytest.fixture
def foreign_keys(ctx):
    """SQLite checks foreign keys only when asked (the portal does not ask: PostgreSQL is
    where they hold in production); asked here, on the test's own connection, outside a
    transaction (where SQLite takes the setting)."""
    db.session.commit()
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA foreign_keys = ON")
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        yield
        db.session.rollback()
        db.session.connection().exec_driver_sql("PRAGMA foreign_keys = OFF")
    else:
        yield


def test_the_database_refuses_figures_whose_month_is_not_their_imports(september, foreign_keys):
    figures = db.session.scalars(sa.select(Activity).limit(1)).one()
    october = find_period(september.campaign, "2022-10")
    columns = Activity.__table__.c
    values = {
        name: getattr(figures, name)
        for name in (
            "participant_id",
            "legal_form",
            "app_authorized_on",
            "ekassa_connected_on",
            "paid_months",
            "receipts_in_period",
        )
    }
    # September's import holding an October row: its import is of another month
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.execute(
            Activity.__table__.insert().values(
                period_id=october.id, batch_id=figures.batch_id, **values
            )
        )
    # an import that does not exist
    missing = (db.session.scalar(sa.select(sa.func.max(ImportBatch.id))) or 0) + 1
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.execute(
            Activity.__table__.insert().values(period_id=september.id, batch_id=missing, **values)
        )
    assert db.session.scalar(sa.select(sa.func.count()).where(columns.period_id == october.id)) == 0
