"""Reading a workbook's first sheet as a stream, within limits checked before it is unpacked.

An XLSX file is a ZIP archive of XML parts: a few hundred kilobytes may unpack to
gigabytes, hold millions of shared texts, or a row that claims the millionth column.
So before anything is unpacked, the archive's own directory is checked: how many
entries, and for each part that will be read (the workbook, its relations, the styles,
the shared strings, the first sheet) its declared unpacked size and how much it
claims to grow (``zipfile`` then holds each part to its declared size). The parts are
then read with expat as streams, without a DTD, building no tree: memory stays flat
whatever the sheet's length, and the caller stops at its own limits of rows and
columns. A sheet's rows are counted (C-speed) before any is given, so a workbook with
too many rows is refused before the first one is read.

What is read as openpyxl reads it with ``data_only=True``: the cached value of a
formula, shared and inline texts (rich text runs joined, phonetic runs left out),
numbers as ``int`` or ``float``, dates (by the cell's number format) as ``datetime``,
booleans, errors as their text. Everything else in a sheet (its formats, merged
cells, hyperlinks, comments...) is skipped.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from posixpath import dirname, join, normpath
from typing import BinaryIO
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

MB = 1024 * 1024
# Limits on what a workbook may unpack to (the declared sizes, checked before reading).
MAX_ENTRIES = 1_000  # entries in the archive (a workbook has a dozen or two)
MAX_SHEET_BYTES = 1024 * MB  # the first sheet: a million rows of 12 columns is ~500 MB
MAX_SHARED_STRINGS_BYTES = 64 * MB  # the shared texts
MAX_PART_BYTES = 16 * MB  # the workbook, its relations, the styles
MAX_RATIO = 200  # how many times a part may grow when unpacked (XML: 5 to 50 times)
RATIO_FROM = 1 * MB  # ... once it unpacks to more than this
MAX_SHARED_STRINGS = 1_000_000  # distinct texts
CHUNK = 64 * 1024

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CELL_REFERENCE = re.compile(r"([A-Za-z]{1,3})(\d*)$")
ROW_START = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,31}:)?row[\s/>]")
TEXT_START = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,31}:)?si[\s/>]")
TAG_ROOM = 64  # longer than any match of ROW_START or TEXT_START
MAX_CELL_CHARACTERS = 32_767  # Excel's own limit: a cell's text beyond it is not kept


class WorkbookRefused(ValueError):
    """The workbook is not read: ``code`` says why, ``detail`` the limit it broke."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code} {detail}".strip())
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Parts:
    """Where the parts to read are in the archive, and the workbook's calendar."""

    sheet: str
    shared_strings: str | None
    styles: str | None
    epoch: datetime


def open_workbook(data: bytes | BinaryIO) -> tuple[zipfile.ZipFile, Parts]:
    """The archive and its parts, every limit checked; ``WorkbookRefused`` otherwise.

    ``data`` is the file's bytes or a stream that can seek (read where the archive's
    parts are, never whole).

    ``bad-xlsx`` for a damaged or foreign file, ``xlsx-too-large`` for one that would
    unpack to more than its limits or grow too much.
    """
    stream = io.BytesIO(data) if isinstance(data, bytes | bytearray | memoryview) else data
    _check_entries(stream)
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise WorkbookRefused("bad-xlsx") from None
    workbook = _part_name(archive, "xl/workbook.xml")
    _check_part(archive, workbook, MAX_PART_BYTES)
    relations_name = join(dirname(workbook), "_rels", workbook.rsplit("/", 1)[-1] + ".rels")
    _check_part(archive, relations_name, MAX_PART_BYTES)
    first_sheet, date1904 = _workbook(archive, workbook)
    targets = _relations(archive, relations_name, dirname(workbook))
    sheet = targets.get(("id", first_sheet))
    if sheet is None:
        raise WorkbookRefused("bad-xlsx")
    _check_part(archive, sheet, MAX_SHEET_BYTES)
    shared = targets.get(("type", "sharedStrings"))
    if shared is not None:
        _check_part(archive, shared, MAX_SHARED_STRINGS_BYTES)
    styles = targets.get(("type", "styles"))
    if styles is not None:
        _check_part(archive, styles, MAX_PART_BYTES)
    epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
    return archive, Parts(sheet, shared, styles, epoch)


def count_rows(archive: zipfile.ZipFile, parts: Parts) -> int:
    """How many rows the sheet holds, blank ones included (unpacked and counted, not parsed)."""
    return _count_tags(archive, parts.sheet, ROW_START)


def _count_tags(archive: zipfile.ZipFile, name: str, pattern: re.Pattern) -> int:
    """How many times a start tag occurs in a part, counted at C speed in its stream.

    A match holds no ``<`` but its first character, so a window is counted up to its
    last ``<`` (a tag there may go on in the next chunk), unless that is further from
    the end than any match is long.
    """
    count, tail = 0, b""
    with archive.open(name) as stream:
        while chunk := stream.read(CHUNK):
            window = tail + chunk
            cut = window.rfind(b"<")
            if cut < 0 or len(window) - cut > TAG_ROOM:
                cut = len(window)
            count += len(pattern.findall(window, 0, cut))
            tail = window[cut:]
    return count + len(pattern.findall(tail))


def shared_strings(archive: zipfile.ZipFile, parts: Parts) -> list[str]:
    """The workbook's shared texts, at most ``MAX_SHARED_STRINGS`` (else refused, counted
    before any is parsed)."""
    if parts.shared_strings is None:
        return []
    if _count_tags(archive, parts.shared_strings, TEXT_START) > MAX_SHARED_STRINGS:
        raise WorkbookRefused("xlsx-too-many-texts", str(MAX_SHARED_STRINGS))
    texts: list[str] = []
    state = {"depth_phonetic": 0, "in_text": False, "buffer": []}

    def start(name, attributes):
        local = _local(name)
        if local == "si":
            state["buffer"] = []
        elif local == "rPh":
            state["depth_phonetic"] += 1
        elif local == "t" and not state["depth_phonetic"]:
            state["in_text"] = True

    def end(name):
        local = _local(name)
        if local == "si":
            if len(texts) >= MAX_SHARED_STRINGS:
                raise WorkbookRefused("xlsx-too-many-texts", str(MAX_SHARED_STRINGS))
            texts.append("".join(state["buffer"]))
        elif local == "rPh":
            state["depth_phonetic"] -= 1
        elif local == "t":
            state["in_text"] = False

    def text(data):
        if state["in_text"]:
            state["buffer"].append(data)

    _parse(archive, parts.shared_strings, start, end, text)
    return texts


def date_styles(archive: zipfile.ZipFile, parts: Parts) -> tuple[set[int], set[int]]:
    """The cell styles (indices) whose number format is a date, and those of a duration."""
    if parts.styles is None:
        return set(), set()
    formats: dict[int, str] = dict(BUILTIN_FORMATS)
    cell_formats: list[int] = []
    state = {"in_cell_xfs": False}

    def start(name, attributes):
        local = _local(name)
        if local == "numFmt":
            number = attributes.get("numFmtId", "")
            if number.isdigit():
                formats[int(number)] = attributes.get("formatCode", "")
        elif local == "cellXfs":
            state["in_cell_xfs"] = True
        elif local == "xf" and state["in_cell_xfs"]:
            try:
                cell_formats.append(int(attributes.get("numFmtId", "0")))
            except ValueError:
                cell_formats.append(0)

    def end(name):
        if _local(name) == "cellXfs":
            state["in_cell_xfs"] = False

    _parse(archive, parts.styles, start, end, lambda data: None)
    dates, durations = set(), set()
    for index, number_format in enumerate(cell_formats):
        code = formats.get(number_format, "")
        if code and is_date_format(code):
            dates.add(index)
            if is_timedelta_format(code):
                durations.add(index)
    return dates, durations


def sheet_rows(
    archive: zipfile.ZipFile,
    parts: Parts,
    texts: list[str],
    styles: tuple[set[int], set[int]],
    max_column: int,
) -> Iterator[tuple[int, dict[int, object], bool]]:
    """Each row of the sheet that has a value: its number, its values by column (1 = A)
    up to ``max_column``, and whether it has values beyond (not kept)."""
    dates, durations = styles
    rows: list[tuple[int, dict[int, object], bool]] = []
    state: dict = {
        "row": 0,
        "cells": None,
        "beyond": False,
        "column": 0,
        "cell": None,
        "collect": 0,
    }

    def start(name, attributes):
        local = _local(name)
        if local == "row":
            number = attributes.get("r")
            state["row"] = _number(number) if number else state["row"] + 1
            state["cells"], state["beyond"], state["column"] = {}, False, 0
        elif local == "c" and state["cells"] is not None:
            reference = attributes.get("r")
            column = _column(reference) if reference else state["column"] + 1
            state["column"] = column
            state["cell"] = {
                "type": attributes.get("t", "n"),
                "style": attributes.get("s"),
                "value": [],
                "inline": [],
                "length": 0,
                "phonetic": 0,
            }
        elif state["cell"] is not None:
            cell = state["cell"]
            if local == "v":
                state["collect"] = 1
            elif local == "rPh":
                cell["phonetic"] += 1
            elif local == "t" and not cell["phonetic"]:
                state["collect"] = 2

    def end(name):
        local = _local(name)
        if local in ("v", "t"):
            state["collect"] = 0
        elif local == "rPh" and state["cell"] is not None:
            state["cell"]["phonetic"] -= 1
        elif local == "c" and state["cell"] is not None:
            value = _value(state["cell"], texts, dates, durations, parts.epoch)
            if value is not None and value != "":
                if state["column"] <= max_column:
                    state["cells"][state["column"]] = value
                else:
                    state["beyond"] = True
            state["cell"] = None
        elif local == "row" and state["cells"] is not None:
            if state["cells"] or state["beyond"]:
                rows.append((state["row"], state["cells"], state["beyond"]))
            state["cells"] = None

    def text(data):
        collect, cell = state["collect"], state["cell"]
        if collect and cell["length"] < MAX_CELL_CHARACTERS:
            cell["value" if collect == 1 else "inline"].append(data)
            cell["length"] += len(data)

    parser = _parser(start, end, text)
    with archive.open(parts.sheet) as stream:
        while chunk := stream.read(CHUNK):
            _feed(parser, chunk)
            yield from rows
            rows.clear()
        _feed(parser, b"", final=True)
        yield from rows


# --- checks -----------------------------------------------------------------------------


def _check_entries(stream: BinaryIO) -> None:
    """Refuse an archive whose directory lists more than ``MAX_ENTRIES`` entries, read
    from its end record (in the stream's last bytes) before ``zipfile`` makes an object
    of each."""
    size = stream.seek(0, io.SEEK_END)
    stream.seek(max(0, size - 22 - 65_535))
    data = stream.read()
    stream.seek(0)
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65_535))
    if end < 0 or len(data) < end + 22:
        raise WorkbookRefused("bad-xlsx")
    (entries,) = struct.unpack_from("<H", data, end + 10)
    if entries > MAX_ENTRIES:  # 0xFFFF too: a ZIP64 directory, which no workbook needs
        raise WorkbookRefused("xlsx-too-large", str(MAX_SHEET_BYTES // MB))


def _check_part(archive: zipfile.ZipFile, name: str, limit: int) -> None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise WorkbookRefused("bad-xlsx") from None
    grows = info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * info.compress_size
    if info.file_size > limit or grows:
        raise WorkbookRefused("xlsx-too-large", str(limit // MB))


def _part_name(archive: zipfile.ZipFile, name: str) -> str:
    if name in archive.NameToInfo:
        return name
    raise WorkbookRefused("bad-xlsx")


# --- the workbook and its relations -------------------------------------------------------


def _workbook(archive: zipfile.ZipFile, name: str) -> tuple[str, bool]:
    """The relation id of the first sheet, and whether dates count from 1904."""
    found = {"sheet": None, "date1904": False}

    def start(element, attributes):
        local = _local(element)
        if local == "sheet" and found["sheet"] is None:
            found["sheet"] = attributes.get(f"{RELATIONSHIPS} id") or attributes.get("id")
        elif local == "workbookPr":
            found["date1904"] = attributes.get("date1904", "").lower() in ("1", "true")

    _parse(archive, name, start, lambda element: None, lambda data: None)
    if not found["sheet"]:
        raise WorkbookRefused("bad-xlsx")
    return found["sheet"], found["date1904"]


def _relations(archive: zipfile.ZipFile, name: str, base: str) -> dict[tuple[str, str], str]:
    """The parts a relations part points to, by ``("id", id)`` and ``("type", kind)``."""
    targets: dict[tuple[str, str], str] = {}

    def start(element, attributes):
        if _local(element) != "Relationship" or attributes.get("TargetMode") == "External":
            return
        target = attributes.get("Target", "")
        path = normpath(target.lstrip("/") if target.startswith("/") else join(base, target))
        targets[("id", attributes.get("Id", ""))] = path
        kind = attributes.get("Type", "").rsplit("/", 1)[-1]
        targets.setdefault(("type", kind), path)

    _parse(archive, name, start, lambda element: None, lambda data: None)
    return targets


# --- XML ------------------------------------------------------------------------------------


def _local(name: str) -> str:
    """A tag's name without its namespace (expat gives ``namespace name``)."""
    return name.rpartition(" ")[2]


def _parser(start: Callable, end: Callable, text: Callable) -> expat.XMLParserType:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text

    def no_dtd(*args):  # a workbook has none: no entity can be declared or expanded
        raise WorkbookRefused("bad-xlsx")

    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    return parser


def _feed(parser: expat.XMLParserType, chunk: bytes, final: bool = False) -> None:
    try:
        parser.Parse(chunk, final)
    except expat.ExpatError:
        raise WorkbookRefused("bad-xlsx") from None


def _parse(archive, name: str, start: Callable, end: Callable, text: Callable) -> None:
    parser = _parser(start, end, text)
    with archive.open(name) as stream:
        while chunk := stream.read(CHUNK):
            _feed(parser, chunk)
    _feed(parser, b"", final=True)


# --- cells ----------------------------------------------------------------------------------


def _number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        value = float(text)
        if not value.is_integer():
            raise WorkbookRefused("bad-xlsx") from None
        return int(value)


def _column(reference: str) -> int:
    match = CELL_REFERENCE.match(reference)
    if match is None:
        raise WorkbookRefused("bad-xlsx")
    column = 0
    for letter in match.group(1).upper():
        column = column * 26 + ord(letter) - 64
    return column


def _value(cell: dict, texts: list[str], dates: set[int], durations: set[int], epoch):
    kind, raw = cell["type"], "".join(cell["value"])
    if kind == "inlineStr":
        return "".join(cell["inline"])
    if raw == "":
        return None
    if kind == "s":
        index = _number(raw)
        if not 0 <= index < len(texts):
            raise WorkbookRefused("bad-xlsx")
        return texts[index]
    if kind in ("str", "e"):
        return raw
    if kind == "b":
        return bool(_number(raw))
    if kind == "d":
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            return raw
    # a number (openpyxl's reading): an int unless written with a point or exponent
    try:
        value = float(raw) if any(mark in raw for mark in ".eE") else int(raw)
    except ValueError:
        raise WorkbookRefused("bad-xlsx") from None
    style = cell["style"]
    if style is not None and style.isdigit() and int(style) in dates:
        try:
            return from_excel(value, epoch, timedelta=int(style) in durations)
        except (OverflowError, ValueError):
            return "#VALUE!"
    return value
