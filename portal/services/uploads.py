"""Uploaded files: checked by their content, stored under random names, read back verified.

Winners upload scans (PDF, JPEG or PNG); staff upload a winner's photo and certificate,
which are shown publicly only after ``prepare_photo`` has re-encoded them.

- ``check`` decides what a file is from its bytes alone: the magic bytes, then a real
  parse (pypdf for PDF, Pillow for images). The name the browser sent never decides
  anything; a renamed executable, HTML page or ZIP is refused as ``not-allowed-type``.
  A PDF with scripts, attachments, actions that launch, submit or open other files,
  or a link to anything but an https address is refused. An image's pixels are
  bounded from its header before it is decoded (``MAX_PIXELS``; ``MAX_BUFFERED_PIXELS``
  for a JPEG decoded scan after scan), and it is read through without its pixels ever
  being held whole: a PNG's rows unpacked as a stream, a JPEG decoded at 1/8 scale.
- The original name is only *displayed*: ``Checked.display_name`` is its last path
  component with control, format (bidi) and Windows-reserved characters removed. It
  is never used on disk, so a name such as ``../../etc/passwd.pdf`` cannot lead
  anywhere; it becomes ``passwd.pdf`` on screen. There is therefore no refusal for a
  bad name.
- ``store`` writes through the portal's storage (``portal.services.storage``: the
  folder ``UPLOAD_FOLDER``, ``<instance>/uploads``, never under ``static/``, or an S3
  bucket), under a prefix the caller gives (``winners/``, ``photos/``), in a random
  name whose extension comes from the kind. It never overwrites: the storage refuses a
  key that has an object (a folder links the finished file into place; S3 writes with
  ``If-None-Match: *``). ``open_stored`` gives a file back only if its SHA-256 is the
  one recorded when it was stored: a file changed (or half written) since is refused.
- Refusals are ``UploadRefused`` with a short ``code``; ``portal.wording.uploads``
  words them for the reader.

Known limit: data after the end of an image or PDF (an appended archive) is not
refused; originals are only ever sent to staff as downloads, and the public sees
re-encoded photos only.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
import struct
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from PIL import Image, ImageCms, ImageOps
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from portal.services.storage import BadKey, ObjectMissing, Storage

KINDS = ("pdf", "jpeg", "png")
REFUSAL_CODES = (
    "empty",
    "too-large",
    "not-allowed-type",
    "damaged",
    "pdf-encrypted",
    "pdf-active-content",
    "pdf-unsafe-link",
    "image-too-large",
)
MIME_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
EXTENSIONS = {"pdf": ".pdf", "jpeg": ".jpg", "png": ".png"}
# Suffixes of a display name that already agree with the content.
NAME_SUFFIXES = {"pdf": {".pdf"}, "jpeg": {".jpg", ".jpeg", ".jpe", ".jfif"}, "png": {".png"}}
MAGIC = (
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
)
PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG"}

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# A 600 dpi A4 scan is 35 megapixels: anything larger is refused from the header, before
# it is decoded (below Pillow's own limit of 89 MP; 40 MP of RGB would be 120 MB).
MAX_PIXELS = 40_000_000
# A JPEG decoded scan after scan (progressive, or with one scan per colour) makes its
# decoder hold every coefficient of the image: 6 bytes a pixel. Such a JPEG is smaller.
MAX_BUFFERED_PIXELS = 12_000_000
JPEG_SCAN = b"\xff\xda"  # a scan's start; in the compressed data a 0xFF is followed by 0
# Checking a PNG's rows: channels by colour type, the interlaced passes, filter types.
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
PNG_FILTERS = bytes(range(5))
PNG_STREAM_CHUNK = 256 * 1024
# Objects walked in one PDF; a scanned document has a few hundred.
MAX_PDF_OBJECTS = 100_000
DISPLAY_NAME_LENGTH = 100

# In a PDF, dictionary keys that carry scripts, attached files or forms run by a viewer.
PDF_ACTIVE_KEYS = {
    "/JS",
    "/JavaScript",
    "/EmbeddedFiles",
    "/EF",
    "/XFA",
    "/RichMediaContent",
    "/RichMediaSettings",
}
# Action types (``/S``) that run code, open other files or send data; /GoTo links and
# /URI links to https addresses are harmless and common (scanner apps add them); a /URI
# to anything else (javascript:, file:, http:, a relative address) is refused below.
PDF_ACTIVE_ACTIONS = {
    "/JavaScript",
    "/Launch",
    "/ImportData",
    "/SubmitForm",
    "/GoToR",
    "/GoToE",
    "/RichMediaExecute",
    "/Rendition",
    "/Movie",
    "/Sound",
}
PDF_ACTIVE_TYPES = {"/EmbeddedFile", "/RichMedia"}
PDF_ACTIVE_SUBTYPES = {"/FileAttachment", "/RichMedia", "/Movie", "/Sound", "/Screen", "/3D"}
# The second guard: the same names in the file's bytes outside streams (where names in
# the clear live; the object walk also sees those hidden in object streams or #-escaped).
PDF_ACTIVE_BYTES = re.compile(
    rb"/(JS|JavaScript|Launch|EmbeddedFiles?|RichMedia\w*|XFA|ImportData|SubmitForm|GoToR|GoToE)"
    rb"(?=[\s()<>\[\]{}/%]|$)"
)
PDF_STREAM = re.compile(rb"\bstream\r?\n.*?\bendstream\b", re.DOTALL)
# The only kind of address a link in an uploaded PDF may lead to.
PDF_LINK_SCHEME = "https://"
# A link's address in the clear: ``/URI (text)`` or ``/URI <hex>`` (and a URI
# dictionary's ``/Base``); the object walk also sees those in object streams.
PDF_URI_BYTES = re.compile(
    rb"/(?:URI|Base)\s*(?:\(((?:\\.|[^\\)]){0,64})|<(?!<)([0-9A-Fa-f\s]{0,128}))"
)

STORED_NAME = re.compile(r"[0-9a-f]{2}/[0-9a-f]{32}\.(pdf|jpg|png)")
TOKEN_BYTES = 16
WINDOWS_RESERVED = str.maketrans(dict.fromkeys('<>:"|?*', "_"))


class UploadRefused(ValueError):
    """The upload is not accepted; ``code`` says why (``portal.wording.uploads`` words it)."""

    def __init__(self, code: str, **details):
        super().__init__(code)
        self.code = code
        self.details = details


class StoredFileError(RuntimeError):
    """A stored file cannot be given back: ``bad-path``, ``missing`` or ``changed``."""

    def __init__(self, code: str, relative_path: str):
        super().__init__(f"{code}: {relative_path!r}")
        self.code = code
        self.relative_path = relative_path


@dataclass(frozen=True)
class Checked:
    """What an accepted file is, by its content."""

    kind: str  # "pdf", "jpeg" or "png"
    mime_type: str
    size: int
    sha256: str
    display_name: str


@dataclass(frozen=True)
class Stored:
    """Where a file was stored: its key relative to the prefix it was stored under."""

    relative_path: str
    sha256: str
    size: int


# Checking


def check(
    data: bytes,
    filename: str,
    *,
    allowed: tuple[str, ...] = KINDS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Checked:
    """Accept ``data`` as one of the ``allowed`` kinds, or raise ``UploadRefused``."""
    unknown = set(allowed) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kinds of upload: {sorted(unknown)}")
    if not data:
        raise UploadRefused("empty")
    if len(data) > max_bytes:
        raise UploadRefused("too-large", limit=max_bytes, size=len(data))
    kind = sniff(data)
    if kind not in allowed:
        raise UploadRefused("not-allowed-type", kind=kind, allowed=tuple(allowed))
    if kind == "pdf":
        _check_pdf(data)
    else:
        _check_image(data, kind)
    return Checked(
        kind=kind,
        mime_type=MIME_TYPES[kind],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        display_name=display_name(filename, kind),
    )


def sniff(data: bytes) -> str | None:
    """The kind the magic bytes announce (a PDF must start with its header), or None."""
    for magic, kind in MAGIC:
        if data.startswith(magic):
            return kind
    return None


def display_name(filename: str, kind: str) -> str:
    """The sent name made safe to show and to offer as a download name, never a path."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(
        " " if unicodedata.category(ch).startswith("Z") else ch
        for ch in name
        if not unicodedata.category(ch).startswith("C")  # control, format (bidi), ...
    )
    name = " ".join(name.translate(WINDOWS_RESERVED).split()).strip(" .")
    stem, dot, suffix = name.rpartition(".")
    if dot and f".{suffix.lower()}" in NAME_SUFFIXES[kind]:
        stem, suffix = stem.rstrip(" ."), f".{suffix}"
    else:
        stem, suffix = name, EXTENSIONS[kind]
    stem = stem[: DISPLAY_NAME_LENGTH - len(suffix)].rstrip(" .") or "document"
    return stem + suffix


def _check_pdf(data: bytes) -> None:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise UploadRefused("pdf-encrypted")
        if len(reader.pages) == 0:
            raise UploadRefused("damaged", kind="pdf")
        feature = _pdf_active_feature(reader)
    except UploadRefused:
        raise
    except Exception:  # pypdf raises many kinds (and RecursionError) for a damaged file
        raise UploadRefused("damaged", kind="pdf") from None
    outside_streams = PDF_STREAM.sub(b"", data) if feature is None else b""
    if feature is None:
        match = PDF_ACTIVE_BYTES.search(outside_streams)
        feature = match and "/" + match.group(1).decode("ascii")
    if feature:
        raise UploadRefused("pdf-active-content", feature=feature)
    link = _pdf_unsafe_link(reader)
    if link is None:
        link = _pdf_unsafe_link_bytes(outside_streams)
    if link is not None:
        raise UploadRefused("pdf-unsafe-link", link=link[:200])


def _pdf_active_feature(reader: PdfReader) -> str | None:
    """The first key, action or type of active content found in the PDF, if any."""
    for dictionary in _pdf_dictionaries(reader):
        for key in dictionary:
            if key in PDF_ACTIVE_KEYS:
                return key
        for key, names in (
            ("/S", PDF_ACTIVE_ACTIONS),
            ("/Type", PDF_ACTIVE_TYPES),
            ("/Subtype", PDF_ACTIVE_SUBTYPES),
        ):
            name = _name(dictionary, key)
            if name in names:
                return name
    return None


def _pdf_unsafe_link(reader: PdfReader) -> str | None:
    """The first link address (``/URI``, or a URI dictionary's ``/Base``) that is not
    an https address, if any."""
    for dictionary in _pdf_dictionaries(reader):
        for key in ("/URI", "/Base"):
            value = dict.get(dictionary, key)
            if isinstance(value, IndirectObject):
                value = value.get_object()
            if isinstance(value, bytes | str) and not is_safe_link(value):
                return _link_text(value)
    return None


def _pdf_unsafe_link_bytes(outside_streams: bytes) -> str | None:
    """The same check on the file's bytes outside streams (the second guard)."""
    for match in PDF_URI_BYTES.finditer(outside_streams):
        literal, hexadecimal = match.groups()
        if literal is not None:
            value = literal
        else:
            digits = re.sub(rb"\s", b"", hexadecimal)
            value = bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode("ascii"))
        if not is_safe_link(value):
            return _link_text(value)
    return None


def is_safe_link(value: bytes | str) -> bool:
    """Whether a PDF link's address is an https address (the scheme in any case; nothing
    before it, not even spaces or control characters, which some viewers skip)."""
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return text[: len(PDF_LINK_SCHEME)].lower() == PDF_LINK_SCHEME


def _link_text(value: bytes | str) -> str:
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _name(dictionary: DictionaryObject, key: str) -> str | None:
    """The value of ``key`` if it is a name (pypdf's names are ``str``)."""
    value = dict.get(dictionary, key)
    if isinstance(value, IndirectObject):
        value = value.get_object()
    return str(value) if isinstance(value, str) else None


def _pdf_dictionaries(reader: PdfReader) -> Iterator[DictionaryObject]:
    """Every dictionary (streams included) reachable from the trailer or listed in the
    cross-reference table, each object once, without decoding any content stream."""
    pending: list = [reader.trailer]
    for generation, numbers in reader.xref.items():
        pending.extend(IndirectObject(number, generation, reader) for number in numbers)
    pending.extend(IndirectObject(number, 0, reader) for number in reader.xref_objStm)
    seen: set[tuple[int, int]] = set()
    walked = 0
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = item.get_object()
        walked += 1
        if walked > MAX_PDF_OBJECTS:
            raise ValueError("too many objects in the PDF")
        if isinstance(item, DictionaryObject):
            yield item
            pending.extend(dict.values(item))
        elif isinstance(item, ArrayObject):
            pending.extend(list.__iter__(item))


def _check_image(data: bytes, kind: str) -> None:
    """Read the image through (so a truncated or damaged file is refused), its pixels
    bounded from its header first, without holding its pixels in memory: a PNG's
    compressed rows are unpacked as a stream and counted, a JPEG is decoded at an
    eighth of its size."""
    formats = [PIL_FORMATS[kind]]
    try:
        with Image.open(io.BytesIO(data), formats=formats) as probe:
            _check_pixels(probe, kind, data)
            probe.verify()  # the chunks' checksums (PNG), the markers (JPEG)
        if kind == "png":
            _check_png_rows(data)
        else:
            with Image.open(io.BytesIO(data), formats=formats) as image:
                width, height = image.size
                image.draft("RGB", (max(width // 8, 1), max(height // 8, 1)))
                image.load()
    except UploadRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limits (its warning is an error where warnings are errors)
        raise UploadRefused("image-too-large", pixels=None, limit=MAX_PIXELS) from None
    except Exception:  # Pillow raises OSError, SyntaxError, ValueError... for bad data
        raise UploadRefused("damaged", kind=kind) from None


def _check_pixels(image: Image.Image, kind: str = "", data: bytes = b"") -> None:
    """Refuse an image larger than its limit, from its header: ``MAX_PIXELS``, or
    ``MAX_BUFFERED_PIXELS`` for a JPEG decoded scan after scan (progressive, or with
    several scans), whose decoder holds all of the image's coefficients."""
    width, height = image.size
    limit = MAX_PIXELS
    if kind == "jpeg" and (image.info.get("progressive") or data.count(JPEG_SCAN) > 1):
        limit = MAX_BUFFERED_PIXELS
    if width * height > limit:
        raise UploadRefused("image-too-large", pixels=width * height, limit=limit)


def _check_png_rows(data: bytes) -> None:
    """A PNG's image data unpacked as a stream, never whole: it must unpack to every row
    its header announces, each starting with a valid filter type (data after the last
    row is not unpacked, as Pillow does not read it).

    Raises ``ValueError`` for a damaged file (``_check_image`` refuses it). The chunks'
    checksums, their order and the header's values are ``verify``'s checks, made before.
    """
    if data[12:16] != b"IHDR":
        raise ValueError("a PNG starts with its header chunk")
    width, height, depth, colour, interlace = struct.unpack_from(">IIBBxxB", data, 16)
    bits = depth * PNG_CHANNELS[colour]
    passes = ADAM7 if interlace else ((0, 0, 1, 1),)
    plan = []  # (rows, bytes a row) of each pass: a row is its filter type and its pixels
    for x0, y0, dx, dy in passes:
        columns, rows = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if columns > 0 and rows > 0:
            plan.append((rows, 1 + -(-columns * bits // 8)))
    unpack = zlib.decompressobj()
    step, done = 0, 0  # the pass being read, and how much of it is read
    position = 8
    while position < len(data):
        length, name = struct.unpack_from(">I4s", data, position)
        body = memoryview(data)[position + 8 : position + 8 + length]
        position += 12 + length
        if name == b"IEND":
            break
        if name != b"IDAT":
            continue
        while body:
            out = unpack.decompress(body, PNG_STREAM_CHUNK)
            body = unpack.unconsumed_tail
            while out and step < len(plan):  # data after the last row is left unread
                rows, row_bytes = plan[step]
                piece, out = out[: rows * row_bytes - done], out[rows * row_bytes - done :]
                # the filter types of the rows that start in this piece, read at C speed
                if piece[(-done) % row_bytes :: row_bytes].translate(None, PNG_FILTERS):
                    raise ValueError("a row with an unknown filter type")
                done += len(piece)
                if done == rows * row_bytes:
                    step, done = step + 1, 0
            if unpack.eof or step == len(plan):
                break
        if step == len(plan):
            return
    raise ValueError("the image data ends before its last row")


# Storage


def store(data: bytes, checked: Checked, where: Storage) -> Stored:
    """Write ``data`` (as accepted by ``check``) under a new random name in ``where``
    (the part of the storage for such files, ``storage.within(…, "winners")``).

    The name is ``<2 hex>/<32 hex><extension of the kind>``; an existing object is never
    overwritten (the storage raises ``storage.ObjectExists``); in a folder the file has
    mode 0600 and its folders 0700.
    """
    digest = hashlib.sha256(data).hexdigest()
    if digest != checked.sha256 or len(data) != checked.size:
        raise ValueError("the data is not the data that was checked")
    token = secrets.token_hex(TOKEN_BYTES)
    relative = str(PurePosixPath(token[:2], token + EXTENSIONS[checked.kind]))
    where.put(relative, data)
    return Stored(relative_path=relative, sha256=digest, size=len(data))


def open_stored(where: Storage, relative_path: str, expected_sha256: str) -> bytes:
    """The stored file's bytes, or ``StoredFileError``: ``changed`` if its digest is not
    the expected, ``missing``, or ``bad-path`` for a name ``store`` could not have made."""
    key = _stored_key(relative_path)
    try:
        data = where.read(key)
    except ObjectMissing:
        raise StoredFileError("missing", relative_path) from None
    except BadKey:  # a symbolic link in the folder that leads out of it
        raise StoredFileError("bad-path", relative_path) from None
    if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), expected_sha256.lower()):
        raise StoredFileError("changed", relative_path)
    return data


def remove_stored(where: Storage, relative_path: str) -> None:
    """Delete a file just stored, to roll back a transaction that failed after ``store``.

    Stored files are records; nothing else should delete them.
    """
    key = _stored_key(relative_path)
    try:
        where.delete(key)
    except BadKey:
        raise StoredFileError("bad-path", relative_path) from None


def _stored_key(relative_path: str) -> str:
    """The key of a relative path that ``store`` could have made; anything else refused."""
    if not isinstance(relative_path, str) or not STORED_NAME.fullmatch(relative_path):
        raise StoredFileError("bad-path", relative_path)
    directory, name = relative_path.split("/")
    if not name.startswith(directory):
        raise StoredFileError("bad-path", relative_path)
    return relative_path


# Public photos


def prepare_photo(
    data: bytes, *, max_side: int = 1600, max_bytes: int = DEFAULT_MAX_BYTES
) -> bytes:
    """A JPEG or PNG fit for the public site: upright, at most ``max_side`` pixels on its
    longer side, in sRGB, without any metadata (EXIF with GPS, XMP, ICC, text chunks,
    comments), re-encoded in its own format. Raises ``UploadRefused`` as ``check`` does.

    An embedded colour profile is applied (converted to sRGB) and then dropped.
    """
    if max_side < 1:
        raise ValueError("max_side must be positive")
    checked = check(data, "", allowed=("jpeg", "png"), max_bytes=max_bytes)
    with Image.open(io.BytesIO(data), formats=[PIL_FORMATS[checked.kind]]) as image:
        image.draft(image.mode, (max_side, max_side))  # JPEG: decode at a smaller scale
        upright = ImageOps.exif_transpose(image)
        icc = image.info.get("icc_profile")
    upright = _to_srgb(upright, icc, keep_alpha=checked.kind == "png")
    upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # A new image from the bare pixels: nothing of the original's info can be saved.
    clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
    output = io.BytesIO()
    if checked.kind == "jpeg":
        clean.save(output, "JPEG", quality=85, optimize=True, progressive=True)
    else:
        clean.save(output, "PNG", optimize=True)
    return output.getvalue()


def _to_srgb(image: Image.Image, icc: bytes | None, *, keep_alpha: bool) -> Image.Image:
    """RGB (RGBA where a PNG has transparency; L stays L), through the profile if any."""
    has_alpha = keep_alpha and (image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info)
    target = "RGBA" if has_alpha else ("L" if image.mode in ("L", "1") and not icc else "RGB")
    if icc and image.mode in ("RGB", "CMYK", "L") and target == "RGB":
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken profile: the pixels are taken as sRGB
    return image.convert(target)
