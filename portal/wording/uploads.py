"""Refused uploads as sentences in the reader's language (codes of ``services.uploads``)."""

from __future__ import annotations

from babel.lists import format_list
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _

from portal.services.uploads import KINDS, MAX_PIXELS, UploadRefused

KIND_NAMES = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG"}


def describe_upload_refusal(refusal: UploadRefused) -> str:
    """Why a file was not accepted, and what the sender can do about it."""
    d = refusal.details
    messages = {
        "empty": lambda: _("The file is empty."),
        "too-large": lambda: _(
            "The file is larger than %(limit)s MB: please send a smaller file.",
            limit=_megabytes(d.get("limit", 0)),
        ),
        "not-allowed-type": lambda: _(
            "This kind of file is not accepted: only %(types)s files are (the content of the file counts, not its name).",
            types=_kinds(d.get("allowed", KINDS)),
        ),
        "damaged": lambda: _(
            "The file is damaged or incomplete and cannot be opened: please save or scan it again."
        ),
        "pdf-encrypted": lambda: _(
            "The PDF is protected by a password (encrypted): please send it without protection."
        ),
        "pdf-active-content": lambda: _(
            "The PDF contains scripts, attached files or multimedia, which are not accepted: please send a plain scan of the document."
        ),
        "pdf-unsafe-link": lambda: _(
            "The PDF contains a link to an address that is not a secure web address (https), which is not accepted: please send the document without it, for example as a plain scan."
        ),
        "image-too-large": lambda: _(
            "The image is too large: at most %(limit)s megapixels are accepted. Please reduce its resolution.",
            limit=format_decimal(d.get("limit", MAX_PIXELS) / 1_000_000, format="#,##0.#"),
        ),
    }
    return messages.get(refusal.code, lambda: refusal.code)()


def _megabytes(size: int) -> str:
    """A size in MB (1 MB = 1,048,576 bytes) as the reader writes numbers: 10 or 2,5."""
    return format_decimal(size / (1024 * 1024), format="#,##0.#")


def _kinds(kinds) -> str:
    """``PDF, JPEG or PNG`` in the reader's language."""
    names = [KIND_NAMES.get(kind, kind) for kind in kinds]
    return format_list(names, style="or", locale=get_locale() or "en")
