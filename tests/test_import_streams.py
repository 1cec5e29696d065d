"""A month's file is read as a stream, never whole: from its path (the command), from
the storage (the job), or from bytes, with the same rows, limits and outcome."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from portal.campaign.imports import COLUMNS, MAX_COLUMNS, import_month
from portal.models import Activity, ImportBatch, Participant, db
from portal.services import tabular
from tests.helpers import TODAY, csv_bytes, row


class OneWay(io.RawIOBase):
    """A stream that can only be read forward, as a stored object's body is."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer) -> int:
        chunk = self._data.read(min(len(buffer), 1000))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def workbook(rows: list[dict[str, str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    for r in rows:
        sheet.append([r[c] for c in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read(source, name: str, max_rows: int = 1000):
    header, rows = tabular.read_table(source, name, max_rows=max_rows, max_columns=MAX_COLUMNS)
    return header, list(rows)


@pytest.mark.parametrize("name", ["month.csv", "month.xlsx"])
def test_a_file_is_read_alike_from_bytes_an_open_file_and_a_one_way_stream(tmp_path, name):
    rows = [row(n, company_name=f'Сауда "{n}", ЖШС') for n in range(1, 40)]
    data = workbook(rows) if name.endswith(".xlsx") else csv_bytes(rows, bom=True)
    path = tmp_path / name
    path.write_bytes(data)
    expected = read(data, name)
    assert expected[0] == list(COLUMNS) and len(expected[1]) == 39
    with path.open("rb") as handle:
        assert read(handle, name) == expected
        assert not handle.closed  # the caller's stream, left to the caller
    with tabular.seekable(OneWay(data)) as stream:
        assert read(stream, name) == expected


@pytest.mark.parametrize("chunk", [5, 64, 1024 * 1024])
def test_rows_past_the_limit_are_counted_across_chunks_blank_lines_aside(monkeypatch, chunk):
    # chunks smaller than a line: a line, blank or not, is counted once wherever it is cut
    monkeypatch.setattr(tabular, "STREAM_CHUNK", chunk)
    data = csv_bytes([row(n) for n in range(1, 102)])
    blank = data.replace(b"\n", b"\n , \t,\r\n\n")
    for source in (data, blank, blank.rstrip(b"\n"), io.BytesIO(blank)):
        with pytest.raises(tabular.UnreadableFile) as caught:
            read(source, "month.csv", max_rows=100)
        assert caught.value.code == "too-many-rows"
        _header, rows = read(source, "month.csv", max_rows=101)
        assert len(rows) == 101


def test_an_import_from_an_open_file_stores_what_the_same_bytes_store(empty_september, tmp_path):
    rows = [row(n) for n in range(1, 30)]
    path = tmp_path / "sep.csv"
    path.write_bytes(csv_bytes(rows))
    with path.open("rb") as handle:
        batch, report = import_month(empty_september, "sep.csv", handle, today=TODAY)
    assert report.ok and batch.status == ImportBatch.DONE and batch.rows == 29
    db.session.commit()
    stored = db.session.scalars(sa.select(Participant.account_number).order_by(Participant.id))
    assert list(stored) == [r["account_number"] for r in rows]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)) == 29
