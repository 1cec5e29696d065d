"""The organizer's requisites: a campaign's own (``Campaign.organizer_*``, set up by staff)
and, for each one a campaign leaves empty, the site's settings (``ORGANIZER_*``,
docs/DESIGN.md).

One source for everything that names the organizer: the protocols and acts, the footer
of the public pages, the Atom feed and the signature of every e-mail. The organizer's
name is the campaign's (``Campaign.organizer_<lang>``) when the campaign has its own
BIN, another legal person then; else the settings' name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app

from portal.models.mixins import current_language

# The settings of each requisite; "{lang}" marks one set per language (KK, RU).
SETTINGS = {
    "name": "ORGANIZER_NAME_{lang}",
    "bin": "ORGANIZER_BIN",
    "address": "ORGANIZER_ADDRESS_{lang}",
    "signatory": "ORGANIZER_SIGNATORY_{lang}",
    "position": "ORGANIZER_SIGNATORY_POSITION_{lang}",
    "hotline": "ORGANIZER_HOTLINE",
    "email": "ORGANIZER_EMAIL",
}


@dataclass(frozen=True)
class Organizer:
    """The organizer in one language; a requisite not set is ``""``."""

    name: str
    bin: str
    address: str
    signatory: str
    position: str
    hotline: str
    email: str

    @property
    def contacts(self) -> bool:
        """Whether the organizer can be reached (a hotline or an e-mail is set)."""
        return bool(self.hotline or self.email)


def _setting(config: Mapping[str, Any], name: str, lang: str) -> str:
    value = config.get(name.format(lang=lang.upper()))
    return " ".join(str(value).split()) if value else ""


# The campaign's column of each requisite; "{lang}" as above.
CAMPAIGN_COLUMNS = {
    "bin": "organizer_bin",
    "address": "organizer_address_{lang}",
    "signatory": "organizer_signatory_{lang}",
    "position": "organizer_position_{lang}",
    "hotline": "organizer_hotline",
    "email": "organizer_email",
}


def _own(campaign: Any, field: str, lang: str) -> str:
    if campaign is None:
        return ""
    if field == "name":
        return _own_text(campaign, f"organizer_{lang}") if _own(campaign, "bin", lang) else ""
    return _own_text(campaign, CAMPAIGN_COLUMNS[field].format(lang=lang))


def _own_text(campaign: Any, column: str) -> str:
    value = getattr(campaign, column, None)
    return " ".join(str(value).split()) if value else ""


def organizer(lang: str | None = None, campaign: Any = None) -> Organizer:
    """The organizer in ``lang`` (default: the current language): ``campaign``'s own
    requisites, and the settings' for those it has not (or for every one, without it)."""
    lang = lang or current_language()
    config = current_app.config
    return Organizer(
        **{
            field: _own(campaign, field, lang) or _setting(config, name, lang)
            for field, name in SETTINGS.items()
        }
    )


def missing_settings(config: Mapping[str, Any], languages: tuple[str, ...]) -> list[str]:
    """The names of the organizer's settings left unset, for the staff to fill in."""
    names = []
    for name in SETTINGS.values():
        for lang in languages if "{lang}" in name else languages[:1]:
            if not _setting(config, name, lang):
                names.append(name.format(lang=lang.upper()))
    return names
