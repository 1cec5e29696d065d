"""The documents the campaign makes, rendered from their templates: the draw protocol and
the act as PDF, the manager's notice of a manual signing as e-mail text.

Each function receives plain data (what to show, the language, the addresses already
built) and returns bytes or text; it neither queries nor decides.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import qrcode
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from qrcode.constants import ERROR_CORRECT_M

from portal.models import Draw, DrawWinner, Participant, Prize, ReportingPeriod, Winner
from portal.services.pdf import png_data_uri, render_pdf


def verification_qr(url: str) -> str:
    """A QR code of ``url``, where a document is checked, as a PNG ``data:`` URI.

    Only an absolute address is printed: a bare path on paper leads nowhere.
    """
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"a document's verification address must be absolute: {url!r}")
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=2)
    code.add_data(url)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out, format="PNG")
    return png_data_uri(out.getvalue())


def protocol_pdf(
    draw: Draw,
    lang: str,
    *,
    record_url: str,
    winners: Sequence[tuple[DrawWinner, Participant]],
    prizes: Sequence[tuple[Mapping[str, int], Prize]],
    local_time: datetime,
) -> bytes:
    """The commission's protocol of ``draw`` in ``lang``, pointing to its public record;
    ``prizes`` what the numbers go to, in order (``campaign.draws.plan_prizes``)."""
    with force_locale(lang):
        html = render_template(
            "pdf/protocol.html",
            draw=draw,
            lang=lang,
            local_time=local_time,
            winners=winners,
            prizes=prizes,
            record_url=record_url,
            qr=verification_qr(record_url),
        )
    return render_pdf(html)


def act_pdf(
    facts: dict[str, Any],
    winner: Winner,
    languages: Iterable[str],
    record_urls: Mapping[str, str],
) -> bytes:
    """The act as one PDF: its text in each of ``languages``, one after the other, each
    with the public record of the winner's draw (``record_urls``, by language)."""
    parts = []
    for lang in languages:
        with force_locale(lang):
            parts.append(
                render_template(
                    "pdf/act_part.html",
                    facts=facts,
                    winner=winner,
                    lang=lang,
                    record_url=record_urls[lang],
                    qr=verification_qr(record_urls[lang]),
                )
            )
    return render_pdf(render_template("pdf/act.html", parts=parts, facts=facts))


def manual_signing_mail(
    lang: str,
    *,
    act_number: str,
    company: str,
    legal_form: str,
    period: ReportingPeriod,
    scans: int,
    reason: str,
    url: str,
) -> tuple[str, str]:
    """The subject and text of the notice that a winner sent its act signed by hand."""
    with force_locale(lang):
        subject = _("Manual signing of act %(number)s", number=act_number)
        body = render_template(
            "mail/manual_signing.txt",
            act_number=act_number,
            company=company,
            legal_form=legal_form,
            period=period,
            scans=scans,
            reason=reason,
            url=url,
        )
    return subject, body
