"""Helpers shared by models whose text exists in Kazakh and in Russian."""

from __future__ import annotations

from flask_babel import get_locale


def current_language() -> str:
    """The language of the request being served (``kk`` outside a request)."""
    try:
        locale = get_locale()
    except RuntimeError:
        locale = None
    return locale.language if locale is not None else "kk"


class Bilingual:
    """A model with ``<name>_kk`` and ``<name>_ru`` columns for each text field."""

    def tr(self, name: str, lang: str | None = None) -> str:
        """The field ``name`` in ``lang`` (default: the current language)."""
        return getattr(self, f"{name}_{lang or current_language()}")
