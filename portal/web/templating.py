"""What templates may use: filters that format, and the wording of campaign codes.

Templates receive the data they show from their view; nothing here queries the database.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.lists import format_list
from flask import Flask
from markupsafe import Markup, escape

from portal.models.mixins import current_language
from portal.services.markup import render_inline, render_markdown
from portal.services.organizer import organizer
from portal.web import access, forms, i18n
from portal.web.urls import absolute_url
from portal.wording import formats, history, messages
from portal.wording.eds import (
    describe_eds_check,
    describe_revocation_evidence,
    signing_time_sentence,
)


def _isodate(value):
    """A date kept as ISO text (an act's frozen facts) back to a date for the ``day`` filter."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def machine_time(value: date | datetime | None) -> str:
    """The value of a ``<time datetime>`` attribute: a day, or a moment to the second in UTC
    (HTML takes at most three decimals of a second; Python writes six)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def words_list(items: list[str]) -> str:
    """Names joined as the page's language joins them: "a, b and c", "a, b и c", "a, b және c"."""
    return format_list([str(item) for item in items], locale=current_language())


# What XML 1.0 does not allow in a document, even escaped: C0 controls but tab and line
# ends, lone surrogates, U+FFFE and U+FFFF.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _rfc3339(moment: datetime) -> str:
    """A moment as RFC 3339 in UTC (``2022-10-21T06:00:00Z``), as Atom wants it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _xml_text(value) -> Markup:
    """Text (or HTML, which is then shown as text) escaped for an XML element, whatever it
    holds: Atom's ``type="html"`` content carries its HTML escaped."""
    return escape(XML_ILLEGAL.sub("", str(value)))


def code(text: str) -> Markup:
    """A code token (a field, an option, a package, an algorithm's name) inside a sentence
    of the page's language: ``_('The %(field)s field: …', field=code('userData'))``. It is
    shown as code, not read as a word of the language."""
    return Markup("<code>{}</code>").format(text)


def register(app: Flask) -> None:
    """Filters, globals and the static files' cache-busting URLs."""
    app.jinja_env.filters.update(
        markdown=render_markdown,
        markdown_inline=render_inline,
        day=formats.format_day,
        moment=formats.format_moment,
        money=formats.format_money,
        isodate=_isodate,
        machine_time=machine_time,
        words_list=words_list,
        rfc3339=_rfc3339,
        xml_text=_xml_text,
    )
    app.jinja_env.globals.update(
        format_month=formats.format_month,
        format_period=formats.format_period,
        format_span=formats.format_span,
        other_languages=i18n.other_languages,
        page_url=i18n.page_url,
        absolute_url=absolute_url,
        code=code,
        may_open=access.may_open,
        organizer=organizer,
        language_names=i18n.LANGUAGE_NAMES,
        legal_form_name=messages.legal_form_name,
        company_title=messages.company_title,
        describe_draw_check=messages.describe_draw_check,
        describe_verdict=messages.describe_verdict,
        condition_name=messages.condition_name,
        condition_sentence=messages.condition_sentence,
        prize_of_month=messages.prize_of_month,
        describe_check=messages.describe_check,
        winner_status_name=messages.winner_status_name,
        campaign_status_name=messages.campaign_status_name,
        winner_standing=messages.winner_standing,
        winner_outcome_name=messages.winner_outcome_name,
        winner_outcome=messages.winner_outcome,
        contact_channel_name=messages.contact_channel_name,
        delivery_method_name=messages.delivery_method_name,
        deadline_text=messages.deadline_text,
        deadline_state_name=messages.deadline_state_name,
        redraw_reason=messages.redraw_reason,
        identity_document_name=messages.identity_document_name,
        winner_file_name=messages.winner_file_name,
        describe_eds_check=describe_eds_check,
        eds_signing_time=signing_time_sentence,
        describe_revocation_evidence=describe_revocation_evidence,
        month_state_name=messages.month_state_name,
        announcement_state_name=messages.announcement_state_name,
        form_problems=forms.problems,
        chosen_file=forms.chosen_file,
        chosen_files=forms.chosen_files,
        field_target=forms.field_target,
        actor_name=history.actor_name,
        audit_action_name=history.audit_action_name,
        audit_object_name=history.audit_object_name,
        describe_details=history.describe_details,
        winner_event_text=history.winner_event_text,
        winner_event_details=history.winner_event_details,
        holiday_name=history.holiday_name,
    )

    @app.context_processor
    def language_context():
        return {"lang": current_language()}

    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.url_defaults
    def static_cache_buster(endpoint: str, values: dict[str, Any]) -> None:
        """Give each static file's URL its content hash, so browsers may cache it for long."""
        if endpoint == "static" and "filename" in values and "v" not in values:
            values["v"] = _static_digest(app.static_folder, values["filename"])


def _static_digest(folder: str, filename: str) -> str:
    path = Path(folder, filename)
    try:
        return _file_digest(path, path.stat().st_mtime_ns)
    except OSError:
        return "0"


@lru_cache(maxsize=256)
def _file_digest(path: Path, mtime_ns: int) -> str:
    """The start of the file's SHA-256, computed again only when the file changes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
