"""Uploads: refused by content, stored without overwriting, read back verified, photos
cleaned. Every test file is made here (pypdf, Pillow, or by hand)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from flask_babel import force_locale
from PIL import ExifTags, Image, ImageCms, PngImagePlugin
from pypdf import PdfWriter

from portal.services import storage, uploads
from portal.services.storage import LocalStorage, ObjectExists
from portal.services.uploads import (
    DEFAULT_MAX_BYTES,
    MAX_PIXELS,
    REFUSAL_CODES,
    StoredFileError,
    UploadRefused,
    check,
    open_stored,
    prepare_photo,
    remove_stored,
    store,
)
from portal.wording.uploads import describe_upload_refusal
from tests.helpers import handmade_pdf

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "scripts" / "upload_translations.json"


# Test files


def pypdf_pdf(*, attachment: bytes | None = None, password: str | None = None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    if attachment is not None:
        writer.add_attachment("tool.exe", attachment)
    if password is not None:
        writer.encrypt(user_password=password, owner_password="owner", algorithm="AES-128")
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def content_stream(text: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text)


def picture(size=(320, 240)) -> Image.Image:
    """A noisy RGB picture (so that JPEG has real data to lose when truncated)."""
    noise = Image.effect_noise(size, 60)
    return Image.merge("RGB", (noise, Image.linear_gradient("L").resize(size), noise))


def encoded(image: Image.Image, format: str, **params) -> bytes:
    output = io.BytesIO()
    image.save(output, format, **params)
    return output.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def padded_png(total: int) -> bytes:
    """A valid PNG of exactly ``total`` bytes: a private chunk after the header fills it."""
    small = encoded(Image.new("RGB", (8, 8), "white"), "PNG")
    header_end = 8 + 25  # signature, IHDR chunk
    padding = total - len(small) - 12
    return small[:header_end] + png_chunk(b"prVt", bytes(padding)) + small[header_end:]


def bilevel_png(width: int, height: int) -> bytes:
    """A real 1-bit PNG of blank rows: large in pixels, small in bytes."""
    compressor = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def refusal(data: bytes, filename: str = "file", **kwargs) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        check(data, filename, **kwargs)
    return caught.value


ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(200)
PE = b"MZ\x90\x00" + bytes(56) + b"This program cannot be run in DOS mode.\r\r\n$" + bytes(200)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
JS_ACTION = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"


def zip_archive() -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("act.pdf", pypdf_pdf())
    return output.getvalue()


# Accepted files


@pytest.mark.parametrize(
    ("data", "name", "kind", "mime"),
    [
        (pypdf_pdf(), "act.pdf", "pdf", "application/pdf"),
        (handmade_pdf(), "act.PDF", "pdf", "application/pdf"),
        (encoded(picture(), "JPEG", quality=90), "id.jpg", "jpeg", "image/jpeg"),
        (encoded(picture(), "PNG"), "id.png", "png", "image/png"),
    ],
)
def test_valid_files_are_accepted_by_content(data, name, kind, mime):
    checked = check(data, name)
    assert (checked.kind, checked.mime_type, checked.size) == (kind, mime, len(data))
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    assert checked.display_name == name


def test_the_content_decides_not_the_name():
    checked = check(encoded(picture(), "PNG"), "scan.jpg")
    assert checked.kind == "png"
    assert checked.display_name == "scan.jpg.png"


def test_harmless_pdf_features_are_accepted():
    # A link, an opening view and "/JavaScript" as text inside a content stream.
    data = handmade_pdf(
        b"<< /S /GoTo /D [3 0 R /Fit] >>",
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /URI /URI (https://ismet.kz/) >> >>",
        content_stream(b"BT /F1 12 Tf 72 712 Td (see /JavaScript /JS here) Tj ET"),
        catalog=b" /OpenAction 4 0 R",
        page=b" /Annots [5 0 R] /Contents 6 0 R",
    )
    assert check(data, "act.pdf").kind == "pdf"


# Size


def test_empty_file_is_refused():
    assert refusal(b"").code == "empty"


def test_file_exactly_at_the_default_limit_is_accepted():
    data = padded_png(DEFAULT_MAX_BYTES)
    assert len(data) == 10 * 1024 * 1024
    assert check(data, "id.png").size == DEFAULT_MAX_BYTES


def test_file_just_over_the_default_limit_is_refused():
    refused = refusal(padded_png(DEFAULT_MAX_BYTES + 1))
    assert refused.code == "too-large"
    assert refused.details == {"limit": DEFAULT_MAX_BYTES, "size": DEFAULT_MAX_BYTES + 1}


def test_the_limit_is_a_parameter():
    data = pypdf_pdf()
    assert check(data, "a.pdf", max_bytes=len(data)).size == len(data)
    assert refusal(data, max_bytes=len(data) - 1).code == "too-large"


# Type by content


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (ELF, "act.pdf"),
        (PE, "act.pdf"),
        (HTML, "scan.jpg"),
        (zip_archive(), "act.pdf"),
        (b"%!PS-Adobe-3.0\n", "act.pdf"),
        (b"   %PDF-1.7\n", "act.pdf"),  # a PDF must start with its header
        (encoded(picture(), "GIF"), "photo.png"),
    ],
    ids=["elf", "pe", "html", "zip", "postscript", "late-header", "gif"],
)
def test_other_kinds_of_file_are_refused_whatever_their_name(data, name):
    refused = refusal(data, name)
    assert refused.code == "not-allowed-type"
    assert refused.details["kind"] is None


def test_a_kind_not_allowed_here_is_refused():
    refused = refusal(pypdf_pdf(), "photo.pdf", allowed=("jpeg", "png"))
    assert refused.code == "not-allowed-type"
    assert refused.details == {"kind": "pdf", "allowed": ("jpeg", "png")}


def test_unknown_allowed_kinds_are_a_programming_error():
    with pytest.raises(ValueError, match="unknown kinds"):
        check(pypdf_pdf(), "a.pdf", allowed=("pdf", "exe"))


# Damaged files


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n" + HTML, "pdf"),
        (handmade_pdf()[:200], "pdf"),
        (pypdf_pdf()[:-60], "pdf"),
        (handmade_pdf().replace(b"/Kids [3 0 R] /Count 1", b"/Kids [] /Count 0"), "pdf"),
        (encoded(picture(), "JPEG")[:-3000], "jpeg"),
        (b"\xff\xd8\xff\xe0" + HTML, "jpeg"),
        (encoded(picture(), "PNG")[:-5000], "png"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "png"),
    ],
    ids=[
        "html-with-pdf-header",
        "pdf-cut",
        "pdf-no-trailer",
        "pdf-no-pages",
        "jpeg-truncated",
        "jpeg-header-only",
        "png-truncated",
        "png-header-only",
    ],
)
def test_damaged_files_are_refused(data, kind):
    refused = refusal(data)
    assert refused.code == "damaged"
    assert refused.details == {"kind": kind}


def test_png_with_a_corrupted_chunk_is_refused():
    data = bytearray(encoded(picture(), "PNG"))
    data[40] ^= 0xFF  # inside the first IDAT: its CRC no longer matches
    assert refusal(bytes(data)).code == "damaged"


# Active content in PDFs


@pytest.mark.parametrize(
    ("data", "features"),
    [
        (handmade_pdf(JS_ACTION, catalog=b" /OpenAction 4 0 R"), {"/JS", "/JavaScript"}),
        (
            handmade_pdf(
                b"<< /Names [(x) 5 0 R] >>", JS_ACTION, catalog=b" /Names << /JavaScript 4 0 R >>"
            ),
            {"/JS", "/JavaScript"},
        ),
        (
            handmade_pdf(
                b"<< /S /Launch /F (cmd.exe) /NewWindow true >>", catalog=b" /OpenAction 4 0 R"
            ),
            {"/Launch"},
        ),
        (handmade_pdf(page=b" /AA << /O << /S /Launch /F (calc.exe) >> >>"), {"/Launch"}),
        (handmade_pdf(catalog=b" /AcroForm << /Fields [] /XFA [] >>"), {"/XFA"}),
        (
            handmade_pdf(
                b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 9 9] >>", page=b" /Annots [4 0 R]"
            ),
            {"/RichMedia"},
        ),
        (
            handmade_pdf(
                b"<< /S /SubmitForm /F (https://example.invalid/) >>", catalog=b" /OpenAction 4 0 R"
            ),
            {"/SubmitForm"},
        ),
        (
            handmade_pdf(
                b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] /FS (tool.exe) >>",
                page=b" /Annots [4 0 R]",
            ),
            {"/FileAttachment"},
        ),
    ],
    ids=[
        "openaction-js",
        "names-javascript",
        "launch",
        "page-aa-launch",
        "xfa",
        "richmedia",
        "submit",
        "file-attachment",
    ],
)
def test_pdf_active_content_is_refused(data, features):
    refused = refusal(data, "act.pdf")
    assert refused.code == "pdf-active-content"
    assert refused.details["feature"] in features


def test_pdf_embedded_file_is_refused():
    data = pypdf_pdf(attachment=ELF)
    refused = refusal(data, "act.pdf")
    assert refused.code == "pdf-active-content"
    assert refused.details["feature"] in {"/EmbeddedFiles", "/EF", "/EmbeddedFile"}


def test_pdf_names_written_with_escapes_are_found_by_the_object_walk():
    # /Java#53cript is /JavaScript to a reader; no byte grep for the names finds it.
    data = handmade_pdf(
        b"<< /S /Java#53cript /J#53 (app.alert\\(1\\)) >>", catalog=b" /OpenAction 4 0 R"
    )
    assert b"/JavaScript" not in data and b"/JS" not in data
    assert refusal(data, "act.pdf").code == "pdf-active-content"


def test_pdf_objects_reached_by_no_reference_are_walked_too():
    data = handmade_pdf(b"<< /S /Java#53cript /J#53 (app.alert\\(1\\)) >>")
    assert refusal(data, "act.pdf").code == "pdf-active-content"


def test_pdf_bytes_outside_the_cross_reference_table_are_scanned():
    # An object the parser never sees (not in the xref): the byte-level guard finds it.
    data = handmade_pdf(unlisted=b"9 0 obj\n" + JS_ACTION + b"\nendobj\n")
    refused = refusal(data, "act.pdf")
    assert refused.code == "pdf-active-content"
    assert refused.details["feature"] in {"/JavaScript", "/JS"}


@pytest.mark.parametrize("password", ["", "secret"], ids=["owner-only", "user-password"])
def test_encrypted_pdf_is_refused(password):
    assert refusal(pypdf_pdf(password=password), "act.pdf").code == "pdf-encrypted"


# Images: decompression bombs


def test_decompression_bomb_is_refused_before_decoding():
    data = bilevel_png(30_000, 30_000)  # 900 megapixels
    assert len(data) < 200_000
    refused = refusal(data, "photo.png")
    assert refused.code == "image-too-large"
    assert refused.details["limit"] == MAX_PIXELS


def test_image_over_the_portal_pixel_limit_is_refused():
    # Under Pillow's own limit (89 MP), over the portal's.
    data = bilevel_png(8_000, 8_000)
    refused = refusal(data, "photo.png")
    assert refused.code == "image-too-large"
    assert refused.details == {"pixels": 64_000_000, "limit": MAX_PIXELS}


def test_image_at_the_pixel_limit_is_accepted():
    data = bilevel_png(7_500, MAX_PIXELS // 7_500)
    assert check(data, "scan.png").kind == "png"


# Names


@pytest.mark.parametrize(
    ("name", "kind", "shown"),
    [
        ("../../etc/passwd.pdf", "pdf", "passwd.pdf"),
        ("C:\\x\\y.pdf", "pdf", "y.pdf"),
        ("a\x00b.pdf", "pdf", "ab.pdf"),
        ("..", "pdf", "document.pdf"),
        ("", "jpeg", "document.jpg"),
        ("/", "png", "document.png"),
        ("act\r\nSet-Cookie: x.pdf", "pdf", "actSet-Cookie_ x.pdf"),
        ("photo\u202egpj.exe", "jpeg", "photogpj.exe.jpg"),
        ('a<b>:"c"|?*.pdf', "pdf", "a_b___c____.pdf"),
        ("  .hidden.pdf  ", "pdf", "hidden.pdf"),
        ("Акт жеңімпаз.pdf", "pdf", "Акт жеңімпаз.pdf"),
        ("scan.JPEG", "jpeg", "scan.JPEG"),
        ("scan", "jpeg", "scan.jpg"),
        ("x" * 300 + ".pdf", "pdf", "x" * 96 + ".pdf"),
    ],
)
def test_display_names_are_made_safe(name, kind, shown):
    assert uploads.display_name(name, kind) == shown


def test_a_name_with_a_path_never_reaches_the_disk(tmp_path):
    data = pypdf_pdf()
    checked = check(data, "../../etc/passwd.pdf")
    folder = tmp_path / "uploads"
    stored = store(data, checked, LocalStorage(folder))
    assert "passwd" not in stored.relative_path
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert files == [folder / stored.relative_path]


# Storage


def test_store_writes_a_new_random_file(tmp_path):
    data = pypdf_pdf()
    checked = check(data, "act.pdf")
    stored = store(data, checked, LocalStorage(tmp_path))
    assert re.fullmatch(r"([0-9a-f]{2})/\1[0-9a-f]{30}\.pdf", stored.relative_path)
    path = tmp_path / stored.relative_path
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # the portal's account's alone
    assert (stored.sha256, stored.size) == (checked.sha256, len(data))


def test_store_mode_does_not_depend_on_the_umask(tmp_path):
    data = encoded(picture(), "PNG")
    previous = os.umask(0o077)
    try:
        stored = store(data, check(data, "a.png"), LocalStorage(tmp_path))
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / stored.relative_path).stat().st_mode) == 0o600
    assert stored.relative_path.endswith(".png")


def test_storing_the_same_bytes_twice_gives_two_files(tmp_path):
    data = encoded(picture(), "JPEG")
    checked = check(data, "id.jpg")
    where = LocalStorage(tmp_path)
    first, second = store(data, checked, where), store(data, checked, where)
    assert first.relative_path != second.relative_path
    assert (tmp_path / first.relative_path).read_bytes() == data
    assert (tmp_path / second.relative_path).read_bytes() == data


def test_a_name_collision_is_refused_not_overwritten(tmp_path, monkeypatch):
    monkeypatch.setattr(uploads.secrets, "token_hex", lambda nbytes: "ab" * nbytes)
    existing = tmp_path / "ab" / ("ab" * 16 + ".pdf")
    existing.parent.mkdir()
    existing.write_bytes(b"the earlier upload")
    data = pypdf_pdf()
    with pytest.raises(ObjectExists):
        store(data, check(data, "act.pdf"), LocalStorage(tmp_path))
    assert existing.read_bytes() == b"the earlier upload"


def test_store_refuses_data_other_than_the_checked(tmp_path):
    checked = check(pypdf_pdf(), "act.pdf")
    with pytest.raises(ValueError, match="not the data"):
        store(handmade_pdf(), checked, LocalStorage(tmp_path))
    assert not any(tmp_path.iterdir())


def test_open_stored_gives_back_the_bytes(tmp_path):
    data = pypdf_pdf()
    stored = store(data, check(data, "act.pdf"), LocalStorage(tmp_path))
    assert open_stored(LocalStorage(tmp_path), stored.relative_path, stored.sha256) == data


def test_open_stored_detects_a_changed_file(tmp_path):
    data = pypdf_pdf()
    stored = store(data, check(data, "act.pdf"), LocalStorage(tmp_path))
    path = tmp_path / stored.relative_path
    path.chmod(0o600)
    path.write_bytes(data + b"%")
    with pytest.raises(StoredFileError) as caught:
        open_stored(LocalStorage(tmp_path), stored.relative_path, stored.sha256)
    assert caught.value.code == "changed"


def test_open_stored_of_a_missing_file(tmp_path):
    with pytest.raises(StoredFileError) as caught:
        open_stored(LocalStorage(tmp_path), "ab/" + "ab" * 16 + ".pdf", "0" * 64)
    assert caught.value.code == "missing"


@pytest.mark.parametrize(
    "relative_path",
    [
        "../outside.pdf",
        "ab/../../outside.pdf",
        "/etc/passwd",
        "ab\\..\\..\\outside.pdf",
        "ab/" + "cd" * 16 + ".pdf",  # not in its own subfolder
        "ab/" + "ab" * 16 + ".exe",
        "ab/" + "AB" * 16 + ".pdf",
        "ab/" + "ab" * 16 + ".pdf/",
        "ab/" + "ab" * 16 + ".pdf\x00",
    ],
)
def test_open_stored_refuses_paths_it_did_not_make(tmp_path, relative_path):
    outside = tmp_path / "outside.pdf"
    outside.write_bytes(b"secret")
    folder = tmp_path / "uploads"
    folder.mkdir()
    with pytest.raises(StoredFileError) as caught:
        open_stored(LocalStorage(folder), relative_path, "0" * 64)
    assert caught.value.code == "bad-path"
    with pytest.raises(StoredFileError):
        remove_stored(LocalStorage(folder), relative_path)
    assert outside.exists()


def test_open_stored_refuses_a_link_out_of_the_folder(tmp_path):
    outside = tmp_path / "outside.pdf"
    data = pypdf_pdf()
    outside.write_bytes(data)
    folder = tmp_path / "uploads"
    (folder / "ab").mkdir(parents=True)
    link = "ab/" + "ab" * 16 + ".pdf"
    (folder / link).symlink_to(outside)
    with pytest.raises(StoredFileError) as caught:
        open_stored(LocalStorage(folder), link, check(data, "a.pdf").sha256)
    assert caught.value.code == "bad-path"


def test_remove_stored_rolls_back(tmp_path):
    data = pypdf_pdf()
    stored = store(data, check(data, "act.pdf"), LocalStorage(tmp_path))
    remove_stored(LocalStorage(tmp_path), stored.relative_path)
    assert not (tmp_path / stored.relative_path).exists()
    remove_stored(LocalStorage(tmp_path), stored.relative_path)  # already gone: nothing to do


def test_the_storage_is_the_instance_folder_and_never_static(app):
    with app.app_context():
        where = storage.current()
        assert isinstance(where, LocalStorage)
        assert where.root == Path(app.instance_path) / "uploads"
    app.config["UPLOAD_FOLDER"] = str(Path(app.static_folder) / "uploads")
    with pytest.raises(RuntimeError, match="static"):
        storage.init_app(app)


# Public photos


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.ImageDescription] = "winner at home"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (43.0, 14.0, 18.25)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (76.0, 53.0, 42.5)
    return exif


def test_prepare_photo_drops_exif_with_gps_and_bounds_the_size():
    original = encoded(picture((3000, 2000)), "JPEG", exif=gps_exif(), comment=b"secret note")
    with Image.open(io.BytesIO(original)) as before:  # the test file does carry them
        assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
    result = prepare_photo(original)
    with Image.open(io.BytesIO(result)) as after:
        assert after.format == "JPEG"
        assert after.size == (1600, 1067)
        assert not after.getexif()
        assert not {"exif", "comment", "icc_profile", "xmp"} & set(after.info)
    assert b"Exif" not in result and b"PhoneMaker" not in result and b"secret note" not in result
    assert check(result, "photo.jpg").kind == "jpeg"


def test_prepare_photo_applies_the_orientation():
    # Stored sideways: left half red, right half blue; orientation 6 turns it clockwise.
    image = Image.new("RGB", (200, 100), "red")
    image.paste("blue", (100, 0, 200, 100))
    result = prepare_photo(encoded(image, "JPEG", exif=gps_exif(orientation=6)))
    with Image.open(io.BytesIO(result)) as after:
        assert after.size == (100, 200)
        top, bottom = after.getpixel((50, 20)), after.getpixel((50, 180))
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


def test_prepare_photo_respects_max_side_and_does_not_enlarge():
    small = encoded(picture((300, 200)), "JPEG")
    with Image.open(io.BytesIO(prepare_photo(small))) as after:
        assert after.size == (300, 200)
    with Image.open(io.BytesIO(prepare_photo(small, max_side=150))) as after:
        assert after.size == (150, 100)


def test_prepare_photo_cleans_a_png_and_keeps_transparency():
    image = Image.new("RGBA", (2400, 1200), (0, 128, 0, 0))
    image.paste((255, 0, 0, 255), (0, 0, 1200, 1200))
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "taken at the winner's home")
    original = encoded(image, "PNG", pnginfo=text, exif=gps_exif())
    assert b"winner's home" in original
    result = prepare_photo(original, max_side=800)
    with Image.open(io.BytesIO(result)) as after:
        assert (after.format, after.mode, after.size) == ("PNG", "RGBA", (800, 400))
        assert not after.getexif()
        assert not {"exif", "Comment", "icc_profile"} & set(after.info)
        assert after.getpixel((700, 10))[3] == 0
    assert b"winner's home" not in result and b"eXIf" not in result


def test_prepare_photo_converts_a_colour_profile_to_srgb_and_drops_it():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = encoded(picture(), "JPEG", icc_profile=icc)
    with Image.open(io.BytesIO(original)) as before:
        assert before.info.get("icc_profile")
    with Image.open(io.BytesIO(prepare_photo(original))) as after:
        assert "icc_profile" not in after.info


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (pypdf_pdf(), "not-allowed-type"),
        (HTML, "not-allowed-type"),
        (encoded(picture(), "JPEG")[:-3000], "damaged"),
        (bilevel_png(30_000, 30_000), "image-too-large"),
    ],
)
def test_prepare_photo_checks_the_content(data, code):
    with pytest.raises(UploadRefused) as caught:
        prepare_photo(data)
    assert caught.value.code == code


# Sentences


SAMPLE_DETAILS = {
    "empty": {},
    "too-large": {"limit": DEFAULT_MAX_BYTES, "size": DEFAULT_MAX_BYTES + 1},
    "not-allowed-type": {"kind": None, "allowed": ("pdf", "jpeg", "png")},
    "damaged": {"kind": "pdf"},
    "pdf-encrypted": {},
    "pdf-active-content": {"feature": "/JS"},
    "pdf-unsafe-link": {"link": "javascript:alert(1)"},
    "image-too-large": {"pixels": 64_000_000, "limit": MAX_PIXELS},
}


def test_every_code_raised_is_a_known_refusal_code():
    source = Path(uploads.__file__).read_text(encoding="utf-8")
    raised = set(re.findall(r'UploadRefused\(\s*"([a-z0-9-]+)"', source))
    assert raised == set(REFUSAL_CODES) == set(SAMPLE_DETAILS)


@pytest.mark.parametrize("lang", ["kk", "ru"])
@pytest.mark.parametrize("code", REFUSAL_CODES)
def test_every_refusal_code_has_a_sentence(app, code, lang):
    with app.test_request_context(f"/{lang}/"):
        text = describe_upload_refusal(UploadRefused(code, **SAMPLE_DETAILS[code]))
    assert text != code
    assert text.endswith(".")
    assert "%(" not in text


def test_sentences_give_the_limits_readably(app):
    with app.test_request_context("/kk/"), force_locale("en"):
        assert "10 MB" in describe_upload_refusal(
            UploadRefused("too-large", limit=DEFAULT_MAX_BYTES)
        )
        assert "PDF, JPEG, or PNG" in describe_upload_refusal(
            UploadRefused("not-allowed-type", kind=None, allowed=("pdf", "jpeg", "png"))
        )
        assert "40 megapixels" in describe_upload_refusal(
            UploadRefused("image-too-large", limit=MAX_PIXELS)
        )
    with app.test_request_context("/kk/"), force_locale("ru"):
        text = describe_upload_refusal(UploadRefused("too-large", limit=5 * 1024 * 1024 // 2))
        assert "2,5" in text
        assert "JPEG или PNG" in describe_upload_refusal(
            UploadRefused("not-allowed-type", kind="pdf", allowed=("jpeg", "png"))
        )


def test_translations_cover_every_sentence_with_the_same_placeholders():
    path = ROOT / "portal" / "wording" / "uploads.py"
    msgids = {message for _line, message, *_rest in extract_from_file("python", path)}
    translations = json.loads(TRANSLATIONS.read_text(encoding="utf-8"))
    assert set(translations) == msgids
    for msgid, languages in translations.items():
        assert set(languages) == {"kk", "ru"}
        for text in languages.values():
            assert text.strip() and text != msgid
            assert sorted(re.findall(r"%\(\w+\)s", text)) == sorted(re.findall(r"%\(\w+\)s", msgid))
