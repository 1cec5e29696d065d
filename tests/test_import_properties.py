"""Property-based tests (Hypothesis): the control digit, and files of any shape.

The import must never fail on a file, whatever it holds: either every row is good
and stored, or nothing is stored and every problem is one the pages can explain.
"""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.campaign.identity import control_digit, is_valid_bin_iin, with_control_digit
from portal.campaign.imports import COLUMNS, import_month
from portal.models import Activity, ImportBatch, Participant, db
from portal.wording.messages import describe_problem
from tests.helpers import TODAY, csv_bytes, row

eleven_digits = st.text(alphabet="0123456789", min_size=11, max_size=11)


def reference_control_digit(first_eleven: str) -> int | None:
    """The algorithm as the tax code states it, written plainly."""
    digits = [int(c) for c in first_eleven]
    first = sum(d * w for d, w in zip(digits, range(1, 12), strict=True)) % 11
    if first != 10:
        return first
    second = sum(d * w for d, w in zip(digits, [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2], strict=True))
    return None if second % 11 == 10 else second % 11


@given(eleven_digits)
def test_control_digit_agrees_with_the_plain_algorithm(first_eleven):
    expected = reference_control_digit(first_eleven)
    assert control_digit(first_eleven) == expected
    for last in "0123456789":
        assert is_valid_bin_iin(first_eleven + last) == (expected == int(last))
    completed = with_control_digit(first_eleven)
    assert completed == (None if expected is None else f"{first_eleven}{expected}")


@given(st.text(max_size=14))
def test_anything_but_a_valid_number_is_refused(text):
    valid = (
        len(text) == 12
        and text.isascii()
        and text.isdigit()
        and reference_control_digit(text[:11]) == int(text[11])
    )
    assert is_valid_bin_iin(text) == valid


# --- files of any shape -----------------------------------------------------------

cell = st.one_of(
    st.sampled_from(["", " ", "0", "-1", "1.5", "IE", "llp", "2022-02-30", "2099-01-01", "x@y"]),
    st.text(max_size=12),
)
good_cell_or_garbage = st.one_of(st.none(), cell)  # None: keep the good value


@st.composite
def damaged_files(draw) -> bytes:
    """A good file, then some of its cells, rows or bytes spoiled at random."""
    count = draw(st.integers(min_value=0, max_value=6))
    rows = []
    for n in range(1, count + 1):
        values = row(n)
        for column in COLUMNS:
            damage = draw(good_cell_or_garbage)
            if damage is not None:
                values[column] = damage
        rows.append(values)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = list(COLUMNS)
    if draw(st.booleans()):
        columns = draw(st.permutations(columns))
    if draw(st.integers(0, 9)) == 0:
        columns = columns[: draw(st.integers(0, len(columns)))]
    writer.writerow(columns)
    for values in rows:
        cells = [values[c] for c in columns]
        if draw(st.integers(0, 9)) == 0:
            cells.append("surplus")
        writer.writerow(cells)
    data = out.getvalue().encode("utf-8")
    if draw(st.integers(0, 9)) == 0:  # a few raw bytes somewhere
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    return data


def _attempt(period, data: bytes):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Participant))
    batch, report = import_month(period, "any.csv", data, today=TODAY)
    db.session.flush()
    stored = db.session.scalar(
        sa.select(sa.func.count()).select_from(Activity).where(Activity.period_id == period.id)
    )
    after = db.session.scalar(sa.select(sa.func.count()).select_from(Participant))
    return batch, report, stored, after - before


PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(data=st.one_of(damaged_files(), st.binary(max_size=300)))
def test_any_file_is_stored_whole_or_not_at_all(app, empty_september, data):
    try:
        batch, report, stored, new_people = _attempt(empty_september, data)
        if report.ok:
            assert batch.status == ImportBatch.DONE
            assert stored == new_people == report.rows > 0
        else:
            assert batch.status == ImportBatch.FAILED
            assert stored == new_people == 0
            assert 0 < len(report.problems) <= report.total
            for problem in report.problems:
                # a cell's problem names its column; the header's may name any
                assert problem.row == 0 or problem.column in ("", *COLUMNS)
                with app.test_request_context("/kk/"):
                    sentence = describe_problem(problem)
                assert problem.code not in sentence  # a sentence, not a bare code
    finally:
        db.session.rollback()


@PROPERTY_SETTINGS
@given(count=st.integers(min_value=1, max_value=8), spoilt=st.data())
def test_one_bad_cell_anywhere_stores_nothing(empty_september, count, spoilt):
    rows = [row(n) for n in range(1, count + 1)]
    at = spoilt.draw(st.integers(0, count - 1))
    column, bad = spoilt.draw(
        st.sampled_from(
            [
                ("bin_iin", "123456789012"),
                ("legal_form", ""),
                ("paid_months", "-1"),
                ("receipts_in_period", "five"),
                ("app_authorized_on", "2022-13-01"),
                ("ekassa_connected_on", "2099-01-01"),
                ("email", "not an address"),
                ("company_name", ""),
            ]
        )
    )
    rows[at][column] = bad
    try:
        _, report, stored, new_people = _attempt(empty_september, csv_bytes(rows))
        assert not report.ok and stored == new_people == 0
        assert [(p.row, p.column) for p in report.problems] == [(at + 2, column)]
    finally:
        db.session.rollback()


def test_a_nul_character_is_reported_not_stored(empty_september):
    rows = [row(1), row(2, city="Alm\x00aty")]
    try:
        _, report, stored, new_people = _attempt(empty_september, csv_bytes(rows))
        assert not report.ok and stored == new_people == 0
        assert [(p.row, p.column, p.code) for p in report.problems] == [
            (3, "city", "nul-character")
        ]
    finally:
        db.session.rollback()
