"""Reading the monthly activity files: CSV (UTF-8, with or without BOM) or XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime

from openpyxl import load_workbook

XLSX_MAGIC = b"PK\x03\x04"


class UnreadableFile(ValueError):
    """The file is neither UTF-8 CSV nor XLSX; ``code`` says which way it failed."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def read_table(
    data: bytes, filename: str = ""
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and an iterator of ``(row number, cells)``; row 2 is the first data row.

    Cells are stripped text in the header's order; a row may have fewer cells than the
    header (the rest are empty) or more (cells that belong to no column). Blank rows
    are skipped.
    """
    if data.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx"):
        return _read_xlsx(data)
    return _read_csv(data)


def _read_csv(data: bytes):
    # Decoded as it is read, so the file is never held twice in memory.
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise UnreadableFile("empty") from None
    except UnicodeDecodeError:
        raise UnreadableFile("not-utf8") from None
    except csv.Error:
        raise UnreadableFile("bad-csv") from None

    def rows():
        try:
            for number, values in enumerate(reader, start=2):
                cells = list(map(str.strip, values))
                if any(cells):
                    yield number, cells
        except UnicodeDecodeError:
            raise UnreadableFile("not-utf8") from None
        except csv.Error:
            raise UnreadableFile("bad-csv") from None

    return header, rows()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_xlsx(data: bytes):

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise UnreadableFile("bad-xlsx") from None
    sheet = workbook.worksheets[0]
    rows_iter = sheet.iter_rows(values_only=True)
    try:
        header = [_cell(v) for v in next(rows_iter)]
    except StopIteration:
        workbook.close()
        raise UnreadableFile("empty") from None
    while header and not header[-1]:
        header.pop()

    def rows():
        try:
            for number, values in enumerate(rows_iter, start=2):
                cells = [_cell(v) for v in values]
                while cells and not cells[-1]:  # a sheet's rows run to its widest row
                    cells.pop()
                if cells:
                    yield number, cells
        finally:
            workbook.close()

    return header, rows()
