"""What templates may use: filters that format, and the wording of campaign codes.

Templates receive the data they show from their view; nothing here queries the database.
"""

from __future__ import annotations

import hashlib
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask

from portal.models.mixins import current_language
from portal.services.markup import render_inline, render_markdown
from portal.web import i18n
from portal.web.urls import absolute_url
from portal.wording import formats, history, messages
from portal.wording.eds import describe_eds_check


def _isodate(value):
    """A date kept as ISO text (an act's frozen facts) back to a date for the ``day`` filter."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def register(app: Flask) -> None:
    """Filters, globals and the static files' cache-busting URLs."""
    app.jinja_env.filters.update(
        markdown=render_markdown,
        markdown_inline=render_inline,
        day=formats.format_day,
        moment=formats.format_moment,
        money=formats.format_money,
        isodate=_isodate,
    )
    app.jinja_env.globals.update(
        format_month=formats.format_month,
        format_span=formats.format_span,
        other_languages=i18n.other_languages,
        page_url=i18n.page_url,
        absolute_url=absolute_url,
        language_names=i18n.LANGUAGE_NAMES,
        legal_form_name=messages.legal_form_name,
        company_title=messages.company_title,
        describe_draw_check=messages.describe_draw_check,
        condition_name=messages.condition_name,
        describe_check=messages.describe_check,
        winner_status_name=messages.winner_status_name,
        winner_outcome_name=messages.winner_outcome_name,
        contact_channel_name=messages.contact_channel_name,
        delivery_method_name=messages.delivery_method_name,
        deadline_text=messages.deadline_text,
        deadline_state_name=messages.deadline_state_name,
        redraw_reason=messages.redraw_reason,
        identity_document_name=messages.identity_document_name,
        winner_file_name=messages.winner_file_name,
        describe_eds_check=describe_eds_check,
        month_state_name=messages.month_state_name,
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
