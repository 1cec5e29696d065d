"""Finding 8: small files, big costs.

What a file will cost is read from it before it is decoded: an image's pixels from its
header (``MAX_PIXELS``, 40 MP, below Pillow's own limit; 12 MP for a JPEG decoded scan
after scan), a workbook's declared unpacked sizes and growth from its ZIP directory, its
shared texts and rows counted in their streams before they are parsed, the rows and
columns of a CSV; every check linear. What is over a limit is refused with a sentence
in the reader's language and changes nothing. The malicious files are built here.
"""

from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.campaign.imports import COLUMNS, MAX_COLUMNS, import_month
from portal.models import ImportBatch, ImportRow, Participant, db
from portal.services import tabular, xlsx
from portal.services.uploads import MAX_BUFFERED_PIXELS, MAX_PIXELS, UploadRefused, check
from tests.helpers import TODAY, csrf_from, csv_bytes, row, translated

# --- images -------------------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, rows: bytes | None = None, *, interlace: int = 0) -> bytes:
    """A grey PNG whose rows are blank (or ``rows``, compressed as given): a few hundred
    kilobytes for tens of megapixels."""
    if rows is None:
        compressor = zlib.compressobj(9)
        blank = bytes(1 + width)
        idat = b"".join(compressor.compress(blank) for _ in range(height)) + compressor.flush()
    else:
        idat = zlib.compress(rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, interlace)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def refusal(data: bytes, name: str) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        check(data, name)
    return caught.value


def test_a_png_just_under_pillows_and_the_old_limit_is_refused_from_its_header():
    data = png(7_740, 7_740)  # 59.9 MP in 170 KB: it took 185 MB to decode
    assert len(data) < 250_000
    refused = refusal(data, "scan.png")
    assert refused.code == "image-too-large"
    assert refused.details == {"pixels": 7_740 * 7_740, "limit": 40_000_000}
    assert MAX_PIXELS == 40_000_000


def test_a_png_header_claiming_60_mp_without_the_data_is_refused_before_anything_else():
    header = struct.pack(">IIBBBBB", 7_746, 7_746, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IEND", b"")
    assert refusal(data, "scan.png").code == "image-too-large"


def test_a_png_at_the_limit_is_read_through_without_decoding_it_whole():
    width = 8_000
    height = MAX_PIXELS // width
    assert check(png(width, height), "scan.png").kind == "png"
    # read through all the same: a row short, or a row with an unknown filter, is refused
    blank_rows = bytes(1 + width) * height
    assert refusal(png(width, height, blank_rows[:-1]), "scan.png").code == "damaged"
    bad_filter = blank_rows[: (1 + width) * 100] + b"\x07" + blank_rows[(1 + width) * 100 + 1 :]
    assert refusal(png(width, height, bad_filter), "scan.png").code == "damaged"


def test_an_interlaced_png_is_read_pass_by_pass():
    out = io.BytesIO()
    Image.effect_noise((301, 203), 40).save(out, "PNG", interlace=1)
    good = out.getvalue()
    assert check(good, "scan.png").kind == "png"
    truncated = good[: good.index(b"IDAT") + 40]
    assert refusal(truncated, "scan.png").code == "damaged"


def test_a_progressive_jpeg_is_held_to_a_lower_limit():
    # Decoded scan after scan, its decoder holds every coefficient (6 bytes a pixel).
    out = io.BytesIO()
    Image.new("RGB", (4_000, 3_100), "white").save(out, "JPEG", quality=30, progressive=True)
    refused = refusal(out.getvalue(), "photo.jpg")
    assert refused.code == "image-too-large"
    assert refused.details == {"pixels": 12_400_000, "limit": MAX_BUFFERED_PIXELS}
    baseline = io.BytesIO()
    Image.new("RGB", (4_000, 3_100), "white").save(baseline, "JPEG", quality=30)
    assert check(baseline.getvalue(), "photo.jpg").kind == "jpeg"


# --- workbooks ------------------------------------------------------------------------------

MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RELS = b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
WORKBOOK = (
    b'<?xml version="1.0"?><workbook ' + MAIN + b" " + RELS + b"><sheets>"
    b'<sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
TYPES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def relations(shared: bool) -> bytes:
    items = [f'<Relationship Id="rId1" Type="{TYPES}/worksheet" Target="worksheets/sheet1.xml"/>']
    if shared:
        items.append(
            f'<Relationship Id="rId2" Type="{TYPES}/sharedStrings" Target="sharedStrings.xml"/>'
        )
    return (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships">' + "".join(items) + "</Relationships>"
    ).encode()


def sheet(*rows: bytes) -> list[bytes]:
    return [
        b'<?xml version="1.0"?><worksheet ' + MAIN + b"><sheetData>",
        *rows,
        b"</sheetData></worksheet>",
    ]


def inline_row(number: int, values: list[str]) -> bytes:
    cells = "".join(f'<c t="inlineStr"><is><t>{value}</t></is></c>' for value in values)
    return f'<row r="{number}">{cells}</row>'.encode()


def workbook(sheet_parts, shared_parts=None, *, extra_entries: int = 0) -> bytes:
    """An XLSX archive, its sheet and shared texts written as streams of parts."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", relations(shared_parts is not None))
        with archive.open("xl/worksheets/sheet1.xml", "w") as stream:
            for part in sheet_parts:
                stream.write(part)
        if shared_parts is not None:
            with archive.open("xl/sharedStrings.xml", "w") as stream:
                for part in shared_parts:
                    stream.write(part)
        for n in range(extra_entries):
            archive.writestr(f"xl/media/image{n}.png", b"")
    return out.getvalue()


def declared(data: bytes, name: str, size: int) -> bytes:
    """The archive with the unpacked size its directory declares for ``name`` changed."""
    at = data.index(b"PK\x01\x02")  # the directory's first entry
    while True:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == name.encode():
            break
        extra, comment = struct.unpack_from("<HH", data, at + 30)
        at = data.index(b"PK\x01\x02", at + 46 + length + extra + comment)
    return data[: at + 24] + struct.pack("<I", size) + data[at + 28 :]


def read(data: bytes, *, max_rows: int = 1_000_000):
    return tabular.read_table(data, "month.xlsx", max_rows=max_rows, max_columns=MAX_COLUMNS)


def refused_file(data: bytes, name: str = "month.xlsx", **limits) -> tabular.UnreadableFile:
    limits.setdefault("max_rows", 1_000_000)
    limits.setdefault("max_columns", MAX_COLUMNS)
    with pytest.raises(tabular.UnreadableFile) as caught:
        _header, rows = tabular.read_table(data, name, **limits)
        for _ in rows:
            pass
    return caught.value


def test_a_workbook_that_grows_too_much_is_refused_before_it_is_unpacked():
    spaces = b" " * (1024 * 1024)
    data = workbook(sheet(inline_row(1, list(COLUMNS)), *([spaces] * 50)))  # 50 MB of spaces
    assert len(data) < 200_000
    refused = refused_file(data)
    assert (refused.code, refused.detail) == ("xlsx-too-large", "1024")


def test_a_workbook_declaring_a_sheet_over_its_limit_is_refused_from_its_directory():
    data = workbook(sheet(inline_row(1, list(COLUMNS))))
    claims = declared(data, "xl/worksheets/sheet1.xml", xlsx.MAX_SHEET_BYTES + 1)
    assert refused_file(claims).code == "xlsx-too-large"
    assert read(data)[0] == list(COLUMNS)  # the same file as it is: read


def test_a_workbook_with_too_many_shared_texts_is_refused_before_they_are_parsed():
    texts = [b"<sst " + MAIN + b">"]
    texts += [b"<si><t>%d</t></si>" % n for n in range(xlsx.MAX_SHARED_STRINGS + 1)]
    texts.append(b"</sst>")
    data = workbook(sheet(b'<row r="1"><c t="s"><v>0</v></c></row>'), texts)
    refused = refused_file(data)
    assert (refused.code, refused.detail) == ("xlsx-too-many-texts", "1000000")


def test_a_workbook_declaring_shared_texts_over_their_limit_is_refused():
    texts = [b"<sst " + MAIN + b"><si><t>account_number</t></si></sst>"]
    data = workbook(sheet(b'<row r="1"><c t="s"><v>0</v></c></row>'), texts)
    assert read(data)[0] == ["account_number"]
    claims = declared(data, "xl/sharedStrings.xml", xlsx.MAX_SHARED_STRINGS_BYTES + 1)
    assert refused_file(claims).code == "xlsx-too-large"


def test_a_workbook_of_100000_columns_is_refused_at_its_header():
    data = workbook(sheet(inline_row(1, [f"c{n}" for n in range(100_000)])))
    refused = refused_file(data)
    assert (refused.code, refused.detail) == ("too-many-columns", str(MAX_COLUMNS))


def test_a_workbook_with_more_rows_than_the_limit_is_refused_before_any_is_read():
    rows = [inline_row(n, ["x"]) for n in range(2, 103)]  # 101 rows after the header
    data = workbook(sheet(inline_row(1, list(COLUMNS)), *rows))
    with pytest.raises(tabular.UnreadableFile) as caught:
        read(data, max_rows=100)  # refused by the call itself, before a row is given
    assert (caught.value.code, caught.value.detail) == ("too-many-rows", "100")
    header, given = read(data, max_rows=101)
    assert header == list(COLUMNS) and len(list(given)) == 101


def test_a_row_numbered_a_billion_is_not_reached_by_a_billion_steps():
    data = workbook(sheet(inline_row(1, list(COLUMNS)), inline_row(1_000_000_000, ["x"])))
    started = time.perf_counter()
    _header, rows = read(data)
    assert list(rows) == [(1_000_000_000, ["x"])]
    assert time.perf_counter() - started < 5


def test_a_workbook_declaring_entities_is_refused():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<worksheet " + MAIN + b'><sheetData><row r="1"><c t="inlineStr"><is><t>&lol2;</t>'
        b"</is></c></row></sheetData></worksheet>"
    )
    assert refused_file(workbook([laughs])).code == "bad-xlsx"


def test_a_workbook_of_too_many_entries_is_refused_from_its_end_record():
    data = workbook(sheet(inline_row(1, list(COLUMNS))), extra_entries=xlsx.MAX_ENTRIES)
    assert refused_file(data).code == "xlsx-too-large"


# --- CSV --------------------------------------------------------------------------------


def test_a_csv_header_of_20000_columns_is_refused_at_once():
    # The duplicate-column check was quadratic: 100,000 columns took 90 s of CPU.
    data = (",".join(f"c{n}" for n in range(20_000)) + "\n1\n").encode()
    refused = refused_file(data, "month.csv")
    assert (refused.code, refused.detail) == ("too-many-columns", str(MAX_COLUMNS))


def test_a_csv_with_more_rows_than_the_limit_is_refused_before_any_is_read():
    data = csv_bytes([row(n) for n in range(1, 102)])
    with pytest.raises(tabular.UnreadableFile) as caught:
        tabular.read_table(data, "month.csv", max_rows=100, max_columns=MAX_COLUMNS)
    assert caught.value.code == "too-many-rows"
    # blank lines do not count
    blank = data.replace(b"\n", b"\n\n")
    _header, rows = tabular.read_table(blank, "month.csv", max_rows=101, max_columns=MAX_COLUMNS)
    assert len(list(rows)) == 101


def test_duplicate_columns_are_found_in_linear_time(empty_september):
    header = list(COLUMNS) + [f"extra{n}" for n in range(40)] + ["city", "email"]
    data = (",".join(header) + "\n").encode() + csv_bytes([row(1)]).split(b"\n", 1)[1]
    _, report = import_month(empty_september, "sep.csv", data, today=TODAY)
    assert sorted(p.column for p in report.problems) == ["city", "email"]
    assert {p.code for p in report.problems} == {"duplicate-column"}


# --- refused in the reader's language, nothing changed ---------------------------------------


def test_an_import_over_a_limit_is_refused_in_the_staff_language_and_stores_nothing(
    app, client, auth, demo
):
    app.config["IMPORT_MAX_ROWS"] = 5
    auth.login("marketing")  # the account's language is Russian
    token = csrf_from(client.get("/admin/ismet-2022/participants/import").get_data(as_text=True))
    data = {
        "csrf_token": token,
        "period": "2022-09",
        "file": (io.BytesIO(csv_bytes([row(n) for n in range(1, 8)])), "month.csv"),
    }
    response = client.post(
        "/admin/ismet-2022/participants/import", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    status = response.headers["Location"]
    deadline = time.monotonic() + 20
    while client.get(status + ".json").json["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    page = client.get(status).get_data(as_text=True)
    sentence = translated(
        "ru", "The file has more than %(detail)s rows after its header: the import takes no more."
    ) % {"detail": "5"}
    assert sentence in page
    with app.app_context():
        assert db.session.scalar(sa.select(ImportBatch.status)) == "failed"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportRow)) == 0
