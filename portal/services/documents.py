"""The documents the campaign makes, rendered from their templates: the draw protocol and
the act as PDF, the manager's notice of a manual signing as e-mail text.

Each function receives plain data (what to show, the language, the addresses already
built) and returns bytes or text; it neither queries nor decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.models import Draw, DrawWinner, Participant, ReportingPeriod, Winner
from portal.services.pdf import render_pdf


def protocol_pdf(
    draw: Draw,
    lang: str,
    *,
    record_url: str,
    winners: Sequence[tuple[DrawWinner, Participant]],
    local_time: datetime,
) -> bytes:
    """The commission's protocol of ``draw`` in ``lang``, pointing to its public record."""
    with force_locale(lang):
        html = render_template(
            "pdf/protocol.html",
            draw=draw,
            lang=lang,
            local_time=local_time,
            winners=winners,
            record_url=record_url,
        )
    return render_pdf(html)


def act_pdf(facts: dict[str, Any], winner: Winner, languages: Iterable[str]) -> bytes:
    """The act as one PDF: its text in each of ``languages``, one after the other."""
    parts = []
    for lang in languages:
        with force_locale(lang):
            parts.append(
                render_template("pdf/act_part.html", facts=facts, winner=winner, lang=lang)
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
