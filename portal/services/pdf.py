"""HTML to PDF with xhtml2pdf, with the portal's own fonts and no network access.

xhtml2pdf loads every font, image and stylesheet through ``link_callback``; here it
may only read files inside ``portal/static``, or a PNG image the portal made in memory
(a ``data:`` URI: a QR code), so a PDF never reaches the network or the disk elsewhere
and always embeds the shipped Noto Sans, which has every Kazakh letter.
"""

from __future__ import annotations

import base64
import io
import logging
from pathlib import Path

from xhtml2pdf import pisa

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STATIC_PREFIX = "static:"
PNG_DATA_PREFIX = "data:image/png;base64,"

log = logging.getLogger(__name__)


class PdfRenderingError(RuntimeError):
    """xhtml2pdf reported errors while rendering."""


def png_data_uri(png: bytes) -> str:
    """A PNG image made in memory, as a ``data:`` URI a PDF template may show."""
    return PNG_DATA_PREFIX + base64.b64encode(png).decode("ascii")


def static_path(uri: str, rel: str | None = None) -> str:
    """Resolve ``static:fonts/NotoSans-Regular.ttf`` to its file, let an in-memory PNG
    (``png_data_uri``) through as it is; refuse anything else."""
    if uri.startswith(PNG_DATA_PREFIX):
        return uri  # nothing to read: the image is in the document itself
    if not uri.startswith(STATIC_PREFIX):
        raise PdfRenderingError(f"PDF resources must come from the portal's static files: {uri!r}")
    path = (STATIC_DIR / uri.removeprefix(STATIC_PREFIX)).resolve()
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        raise PdfRenderingError(f"no such static file for the PDF: {uri!r}")
    return str(path)


def render_pdf(html: str) -> bytes:
    """Render a complete HTML document (from ``templates/pdf/``) to PDF bytes."""
    output = io.BytesIO()
    status = pisa.CreatePDF(html, dest=output, encoding="utf-8", link_callback=static_path)
    if status.err:
        raise PdfRenderingError(f"xhtml2pdf reported {status.err} error(s)")
    return output.getvalue()
