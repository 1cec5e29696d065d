"""Bomb benchmark: small files made to cost most, each refused within 2 s and 100 MB.

    .venv/bin/python benchmarks/bomb_bench.py [--timeout 120]

Builds the worst file of each kind in a temporary folder: a PNG whose header claims
900 megapixels, a PNG just under Pillow's limit (the old 60 MP), an XLSX with
millions of shared texts, one with a header of 100,000 columns, one whose sheet
unpacks to 1.5 GB of nothing (a zip bomb), one with 3,000,000 rows, a CSV with 100,000
columns and one with 2,000,000 rows. Each is checked in a process of its own, as an
upload or an import checks it (`portal.services.uploads.check`;
`portal.services.tabular.read_table` with the import's limits, then every row through
`portal.campaign.imports.check_rows`, staged nowhere), and
the time and the memory added (peak RSS over the process's peak before the check) are
printed with the outcome, then Python's own peak allocation in a second run under
tracemalloc. The floor is
the same check of an ordinary file of the same kind (a 1 MP photo, a 12-column month of
1,000 rows); the ratios are the bomb's figures over the floor's.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MB = 1024 * 1024
LIMITS = {"time": 2.0, "memory": 100.0}

# --- the files ------------------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def blank_png(width: int, height: int) -> bytes:
    """A transparent RGBA PNG (4 bytes a pixel once decoded) of blank rows."""
    compressor = zlib.compressobj(9)
    row = bytes(1 + 4 * width)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def pixel_bomb() -> bytes:
    """A header claiming 30,000 x 30,000 pixels, 1 bit each: 900 MP in about 100 KB."""
    compressor = zlib.compressobj(9)
    row = bytes(1 + 30_000 // 8)
    idat = b"".join(compressor.compress(row) for _ in range(30_000)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 30_000, 30_000, 1, 0, 0, 0, 0))
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((1200, 900), 30).convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml"
CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{SPREADSHEET}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SPREADSHEET}.worksheet+xml"/>'
    "</Types>"
)
SHARED_TYPE = (
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SPREADSHEET}.sharedStrings+xml"/>'
)
PACKAGE_RELATIONS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)


def workbook(path: Path, sheet_parts, shared_parts=None) -> None:
    """An XLSX file written part by part (so a 1.5 GB sheet never sits in memory)."""
    relations = [f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>']
    if shared_parts is not None:
        relations.append(
            f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        types = CONTENT_TYPES
        if shared_parts is not None:
            types = types.replace("</Types>", SHARED_TYPE + "</Types>")
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", PACKAGE_RELATIONS)
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook {MAIN} xmlns:r="{REL}"><sheets>'
            '<sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(relations)
            + "</Relationships>",
        )
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as stream:
            stream.write(f"<worksheet {MAIN}><sheetData>".encode())
            for part in sheet_parts:
                stream.write(part)
            stream.write(b"</sheetData></worksheet>")
        if shared_parts is not None:
            with archive.open("xl/sharedStrings.xml", "w") as stream:
                stream.write(f"<sst {MAIN}>".encode())
                for part in shared_parts:
                    stream.write(part)
                stream.write(b"</sst>")


def header_row(names) -> bytes:
    cells = "".join(f'<c t="inlineStr"><is><t>{name}</t></is></c>' for name in names)
    return f'<row r="1">{cells}</row>'.encode()


def columns() -> list[str]:
    from portal.campaign.imports import COLUMNS

    return list(COLUMNS)


def month_rows(count: int):
    from portal.campaign.identity import with_control_digit

    for n in range(1, count + 1):
        number, base = None, 10**10 + n * 37
        while number is None:
            number = with_control_digit(f"{base:011d}")
            base += 1
        yield [
            f"30{n:08d}",
            number,
            "IE",
            f"Company {n}",
            f"Director {n}",
            f"client{n}@example.kz",
            "+77010000000",
            "Almaty",
            "2022-08-01",
            "2022-09-05",
            "1",
            "7",
        ]


def ordinary_xlsx(path: Path) -> None:
    def rows():
        yield header_row(columns())
        for n, values in enumerate(month_rows(1_000), start=2):
            cells = "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in values)
            yield f'<row r="{n}">{cells}</row>'.encode()

    workbook(path, rows())


def shared_texts_bomb(path: Path) -> None:
    """3,000,000 distinct texts in about 6 MB (it was 688 KB for 440 MB of memory)."""

    def texts():
        for start in range(0, 3_000_000, 10_000):
            yield b"".join(b"<si><t>%x</t></si>" % n for n in range(start, start + 10_000))

    workbook(path, [b'<row r="1"><c t="s"><v>0</v></c></row>'], texts())


def wide_xlsx(path: Path) -> None:
    workbook(path, [header_row(f"c{n}" for n in range(100_000))])


def zip_bomb(path: Path) -> None:
    """A sheet that unpacks to 1.5 GB of spaces after a proper header."""
    spaces = b" " * MB

    def parts():
        yield header_row(columns())
        for _ in range(1536):
            yield spaces

    workbook(path, parts())


def long_xlsx(path: Path) -> None:
    """3,000,000 rows of one small cell each (within the growth a sheet is allowed)."""

    def parts():
        yield header_row(columns())
        for start in range(2, 3_000_002, 10_000):
            yield b"".join(
                b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n)
                for n in range(start, start + 10_000)
            )

    workbook(path, parts())


def ordinary_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns())
    writer.writerows(month_rows(1_000))
    return out.getvalue().encode()


def wide_csv() -> bytes:
    return (",".join(f"c{n}" for n in range(100_000)) + "\n" + "1\n").encode()


def long_csv() -> bytes:
    return (",".join(columns()) + "\n").encode() + b"1\n" * 2_000_000


# --- one check, in a process of its own ----------------------------------------------------------


def check_one(kind: str, path: str) -> dict:
    import resource
    import time
    import tracemalloc

    data = Path(path).read_bytes()
    if kind == "image":
        from portal.services.uploads import UploadRefused, check

        def run():
            try:
                check(data, Path(path).name)
                return "accepted"
            except UploadRefused as refused:
                return f"refused: {refused.code}"
    else:
        from portal.campaign import imports
        from portal.services.tabular import UnreadableFile, read_table

        def run():
            try:
                try:
                    header, rows = read_table(
                        data,
                        Path(path).name,
                        max_rows=imports.MAX_ROWS,
                        max_columns=imports.MAX_COLUMNS,
                    )
                except (TypeError, AttributeError):  # a portal from before these limits
                    header, rows = read_table(data, Path(path).name)
                # every row through the import's checks, staged nowhere
                report = imports.check_rows(header, rows, date.today(), lambda staged: None)
                return f"checked: {report.rows:,} rows, {report.total:,} problems"
            except UnreadableFile as refused:
                return f"refused: {refused.code}"

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    outcome = run()
    seconds = time.perf_counter() - started
    added = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    traced = float("nan")
    if seconds < 10:  # a second run, for Python's own allocations (tracemalloc slows it)
        tracemalloc.start()
        run()
        traced = tracemalloc.get_traced_memory()[1] / MB
        tracemalloc.stop()
    return {"outcome": outcome, "seconds": seconds, "added_mb": added, "traced_mb": traced}


def measure(kind: str, path: Path, timeout: float) -> dict:
    command = [sys.executable, __file__, "--one", kind, str(path)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"outcome": f"stopped after {timeout:.0f} s", "seconds": timeout}
    except subprocess.CalledProcessError as failed:
        return {"outcome": "failed: " + failed.stderr.strip().splitlines()[-1], "seconds": 0}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--one", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(check_one(*args.one)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = {
            "photo.jpg": photo(),
            "pixel-bomb.png": pixel_bomb(),
            "under-60-mp.png": blank_png(7_740, 7_740),
            "month.csv": ordinary_csv(),
            "wide.csv": wide_csv(),
            "long.csv": long_csv(),
        }
        for name, data in files.items():
            (folder / name).write_bytes(data)
        for name, make in (
            ("month.xlsx", ordinary_xlsx),
            ("shared-texts.xlsx", shared_texts_bomb),
            ("wide.xlsx", wide_xlsx),
            ("zip-bomb.xlsx", zip_bomb),
            ("long.xlsx", long_xlsx),
        ):
            make(folder / name)

        cases = [
            ("image", "photo.jpg", None, "an ordinary photo, 1 MP (floor)"),
            ("image", "pixel-bomb.png", "photo.jpg", "PNG claiming 900 MP"),
            ("image", "under-60-mp.png", "photo.jpg", "PNG of 59.9 MP (under the old limit)"),
            ("table", "month.xlsx", None, "an ordinary month, XLSX, 1,000 rows (floor)"),
            ("table", "shared-texts.xlsx", "month.xlsx", "XLSX, 3,000,000 shared texts"),
            ("table", "wide.xlsx", "month.xlsx", "XLSX, 100,000 columns"),
            ("table", "zip-bomb.xlsx", "month.xlsx", "XLSX, sheet unpacking to 1.5 GB"),
            ("table", "long.xlsx", "month.xlsx", "XLSX, 3,000,000 rows"),
            ("table", "month.csv", None, "an ordinary month, CSV, 1,000 rows (floor)"),
            ("table", "wide.csv", "month.csv", "CSV, 100,000 columns"),
            ("table", "long.csv", "month.csv", "CSV, 2,000,000 rows"),
        ]
        results: dict[str, dict] = {}
        within = True
        for kind, name, floor, title in cases:
            result = measure(kind, folder / name, args.timeout)
            results[name] = result
            size = (folder / name).stat().st_size
            line = (
                f"{title} ({size / 1024:,.0f} KB): {result['outcome']}, {result['seconds']:.2f} s"
            )
            if "added_mb" in result:
                line += f", +{result['added_mb']:.0f} MB RSS, {result['traced_mb']:.0f} MB traced"
            if floor and "added_mb" in result and "added_mb" in results[floor]:
                base = results[floor]
                line += (
                    f" (time {result['seconds'] / max(base['seconds'], 1e-3):.1f} x the floor,"
                    f" memory {max(result['added_mb'], 0) - max(base['added_mb'], 0):+.0f} MB)"
                )
            if floor:
                ok = (
                    result["outcome"].startswith("refused")
                    and result["seconds"] <= LIMITS["time"]
                    and result.get("added_mb", 1e9) <= LIMITS["memory"]
                )
                within &= ok
                line += "  ok" if ok else "  OVER"
            print(line, flush=True)
        print(
            "every bomb refused within 2 s and 100 MB"
            if within
            else "some bomb was not refused within 2 s and 100 MB"
        )


if __name__ == "__main__":
    main()
