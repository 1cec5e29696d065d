"""The monthly activity files: reading CSV (UTF-8, with or without BOM; separated by
commas, semicolons or tabs) or XLSX (``portal.services.xlsx``), within limits of rows
and columns, and writing the exports and the templates to fill in."""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from portal.services import xlsx

XLSX_MAGIC = b"PK\x03\x04"
# The separators a CSV may use: a comma, or what spreadsheets write in locales whose
# decimal mark is a comma (Excel in Russian and Kazakh saves "CSV" with semicolons).
SEPARATORS = (",", ";", "\t")
HEADER_SCAN = 64 * 1024  # a header is looked for in the file's first bytes
STREAM_CHUNK = 1024 * 1024  # bytes read at a time when a file is scanned
SPOOL_BYTES = 8 * 1024 * 1024  # a one-way stream copied to a file beyond this (_seekable)
# A line the reader skips: nothing but spaces, tabs and separators.
BLANK_LINE = re.compile(rb"^[ \t,;]*\r?$", re.MULTILINE)


class UnreadableFile(ValueError):
    """The file is not read: ``code`` says why (not UTF-8 CSV nor XLSX, damaged, or over
    a limit), ``detail`` the limit it broke."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code, self.detail = code, detail


def read_table(
    source: bytes | BinaryIO,
    filename: str = "",
    *,
    max_rows: int,
    max_columns: int,
    scanned: tuple[int, bool] | None = None,
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and an iterator of ``(row number, cells)``; row 2 is the first data row.

    ``source`` is the file's bytes or a binary stream that can seek (an open file; a
    stream that cannot, through ``seekable``), read as a stream, never whole into memory.
    Cells are stripped text in the header's order; a row may have fewer cells than the
    header (the rest are empty) or more (cells that belong to no column). Blank rows
    are skipped. A file with more than ``max_rows`` rows after its header, or a header
    of more than ``max_columns`` columns, is refused (``too-many-rows``,
    ``too-many-columns``) before any row is given; so is a workbook that would unpack
    to more than its limits (``portal.services.xlsx``). ``scanned`` is what
    ``scan_lines`` found in the same file, when the caller has scanned it already (a
    CSV is then not scanned again).
    """
    stream = io.BytesIO(source) if isinstance(source, bytes | bytearray | memoryview) else source
    stream.seek(0)
    start = stream.read(len(XLSX_MAGIC))
    stream.seek(0)
    if start == XLSX_MAGIC or filename.lower().endswith(".xlsx"):
        return _read_xlsx(stream, max_rows, max_columns)
    return _read_csv(stream, max_rows, max_columns, scanned)


@contextlib.contextmanager
def seekable(stream: BinaryIO) -> Iterator[BinaryIO]:
    """The stream itself when it can seek (a file), or else a temporary file that it is
    copied to chunk by chunk (in memory up to ``SPOOL_BYTES``), removed afterwards: a
    file is read twice, counted then read (a stored object's body reads one way)."""
    if stream.seekable():
        yield stream
        return
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spooled:
        shutil.copyfileobj(stream, spooled, STREAM_CHUNK)
        spooled.seek(0)
        yield spooled


def separator(data: bytes) -> str:
    """The separator of a CSV file (``data``: its start, ``HEADER_SCAN`` bytes are
    enough): the one its header line holds most of (column names hold none), a comma
    when it holds none."""
    end = data.find(b"\n", 0, HEADER_SCAN)
    header = data[: end if end >= 0 else HEADER_SCAN]
    counts = {sep: header.count(sep.encode("ascii")) for sep in SEPARATORS}
    best = max(SEPARATORS, key=counts.__getitem__)  # a tie goes to the comma
    return best if counts[best] else ","


@contextlib.contextmanager
def _csv_reader(stream: BinaryIO) -> Iterator:
    """A CSV reader of the stream from its start, decoded as it is read (the file is
    never held in memory); the stream is left open, at its start again, afterwards."""
    stream.seek(0)
    delimiter = separator(stream.read(HEADER_SCAN))
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        yield csv.reader(text, delimiter=delimiter)
    finally:
        text.detach()  # not closed with the wrapper: the stream is the caller's
        stream.seek(0)


def _read_csv(stream: BinaryIO, max_rows: int, max_columns: int, scanned: tuple[int, bool] | None):
    with _csv_reader(stream) as reader:
        try:
            header = [name.strip() for name in next(reader)]
        except StopIteration:
            raise UnreadableFile("empty") from None
        except UnicodeDecodeError:
            raise UnreadableFile("not-utf8") from None
        except csv.Error:
            raise UnreadableFile("bad-csv") from None
    if len(header) > max_columns:
        raise UnreadableFile("too-many-columns", str(max_columns))
    lines, quoted = scanned or scan_lines(stream)
    if lines > max_rows + 1 and _csv_rows(stream, max_rows, quoted) > max_rows:
        raise UnreadableFile("too-many-rows", str(max_rows))

    def rows():
        with _csv_reader(stream) as reader:
            try:
                next(reader)  # the header, read above
                for number, values in enumerate(reader, start=2):
                    cells = list(map(str.strip, values))
                    if any(cells):
                        yield number, cells
            except UnicodeDecodeError:
                raise UnreadableFile("not-utf8") from None
            except csv.Error:
                raise UnreadableFile("bad-csv") from None

    return header, rows()


def scan_lines(stream: BinaryIO, digest=None) -> tuple[int, bool]:
    """How many line breaks the stream holds, and whether it quotes a cell (at C speed,
    chunk by chunk); left at its start. ``digest`` (a ``hashlib`` object) is given the
    bytes on the way, so that a file is hashed in the same pass."""
    lines, quoted = 0, False
    stream.seek(0)
    while chunk := stream.read(STREAM_CHUNK):
        if digest is not None:
            digest.update(chunk)
        lines += chunk.count(b"\n")
        quoted = quoted or b'"' in chunk
    stream.seek(0)
    return lines, quoted


def _csv_rows(stream: BinaryIO, limit: int, quoted: bool) -> int:
    """How many rows with a value a CSV file has after its header, counted up to
    ``limit + 1``: its lines less its blank ones (at C speed, chunk by chunk) when no
    cell is quoted (only a quoted cell may hold a line break), otherwise read."""
    count = -1
    if not quoted:
        tail = b""
        while chunk := stream.read(STREAM_CHUNK):
            window = tail + chunk
            cut = window.rfind(b"\n") + 1
            if cut:  # whole lines, the last one's break left out (it would match again)
                lines = window[: cut - 1]
                count += lines.count(b"\n") + 1 - len(BLANK_LINE.findall(lines))
            tail = window[cut:]
        stream.seek(0)
        return count + (0 if BLANK_LINE.fullmatch(tail) else 1)
    try:
        with _csv_reader(stream) as reader:
            for values in reader:
                if any(value.strip() for value in values):
                    count += 1
                    if count > limit:
                        break
    except (UnicodeDecodeError, csv.Error):
        pass  # reported where the rows are read
    return count


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


@contextlib.contextmanager
def _workbook_refusals() -> Iterator[None]:
    """A workbook's refusals and damage (a bad part, a wrong checksum or size, an
    encrypted entry) as ``UnreadableFile``, wherever the workbook is read."""
    try:
        yield
    except UnreadableFile:
        raise
    except xlsx.WorkbookRefused as refused:
        raise UnreadableFile(refused.code, refused.detail) from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, ValueError):
        raise UnreadableFile("bad-xlsx") from None


def _read_xlsx(stream: BinaryIO, max_rows: int, max_columns: int):
    with _workbook_refusals():
        archive, parts = xlsx.open_workbook(stream)
        if xlsx.count_rows(archive, parts) > max_rows + 1:
            raise UnreadableFile("too-many-rows", str(max_rows))
        texts = xlsx.shared_strings(archive, parts)
        styles = xlsx.date_styles(archive, parts)
        rows_iter = xlsx.sheet_rows(archive, parts, texts, styles, max_column=max_columns)
        first = next(rows_iter, None)
    if first is None:
        raise UnreadableFile("empty")
    header: list[str] = []
    pending = [first]
    if first[0] == 1:  # the header is the sheet's first row
        pending = []
        _, cells, beyond = first
        if beyond:
            raise UnreadableFile("too-many-columns", str(max_columns))
        header = [_cell(cells.get(column)) for column in range(1, max(cells, default=0) + 1)]
        while header and not header[-1]:
            header.pop()
    width = len(header)

    def rows():  # as openpyxl gave them, a row being at most max_columns wide
        given = 0
        try:
            with _workbook_refusals():
                for number, cells, beyond in itertools.chain(pending, rows_iter):
                    last = max(cells, default=0)  # at most max_columns
                    values = [_cell(cells.get(column)) for column in range(1, last + 1)]
                    while values and not values[-1]:
                        values.pop()
                    if beyond:  # a value further still (not kept): the check reports it
                        values += [""] * (max(width, len(values)) - len(values)) + ["…"]
                    if values:
                        given += 1
                        if given > max_rows:
                            raise UnreadableFile("too-many-rows", str(max_rows))
                        yield number, values
        finally:
            archive.close()

    return header, rows()


# What a spreadsheet reads as a formula when a cell starts with it (OWASP's CSV
# injection list, with the full-width forms some spreadsheets also take for them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value) -> str | int:
    """A cell fit for a CSV that people open in a spreadsheet: text that a spreadsheet
    would take for a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return, also after spaces or line breaks) gets a leading single quote, so
    it is shown as the text it is; ``None`` is empty; numbers stay numbers.

    The one rule for every CSV the portal writes (``write_csv``, ``csv_chunks``).
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) or text.lstrip(" \n").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def write_csv(rows: Iterable[Iterable]) -> bytes:
    """Rows as a CSV file: UTF-8 with a BOM (so that spreadsheets read it as UTF-8),
    commas, CRLF line ends, every cell through ``safe_cell``."""
    out = io.StringIO()
    csv.writer(out).writerows(map(_safe_row, rows))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def csv_chunks(
    header: list[str], rows: Iterable[Iterable], *, lineterminator: str = "\r\n"
) -> Iterator[str]:
    """A CSV export streamed in chunks of about 64 KB: ``header``, then ``rows``, every
    cell through ``safe_cell`` (no BOM: the chunks are text)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=lineterminator)
    writer.writerow(_safe_row(header))
    for row in rows:
        writer.writerow(_safe_row(row))
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _safe_row(row: Iterable) -> list:
    return [safe_cell(value) for value in row]


def write_xlsx(header: list[str], notes_title: str, notes: list[list[str]]) -> bytes:
    """A workbook to fill in: its first sheet has ``header`` in bold and every column
    formatted as text (so "0012" stays "0012" and dates stay as typed); a second sheet,
    ``notes_title``, holds ``notes`` (not read by the import). Every cell is written as
    text, never as a formula, whatever it starts with."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "data"
    _append_text(sheet, header)
    for index, name in enumerate(header, start=1):
        sheet.cell(row=1, column=index).font = Font(bold=True)
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.number_format = "@"
        dimension.width = max(len(name) + 2, 14)
    sheet.freeze_panes = "A2"
    about = workbook.create_sheet(notes_title[:31])
    for row in notes:
        _append_text(about, row)
    for cell in about[1]:
        cell.font = Font(bold=True)
    for index in range(1, (max(map(len, notes)) if notes else 0) + 1):
        about.column_dimensions[get_column_letter(index)].width = 40
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _append_text(sheet, values: Iterable) -> None:
    """A row of text cells: openpyxl would make a formula of a text starting with ``=``."""
    sheet.append([None if value is None else str(value) for value in values])
    for cell in sheet[sheet.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"
