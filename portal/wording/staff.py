"""Staff sign-in as sentences in the reader's language."""

from __future__ import annotations

from flask_babel import gettext as _


def sign_in_refusal(outcome: str) -> str:
    """Why a sign-in was refused before any password was checked, or after a failure."""
    if outcome in ("locked", "now-locked"):
        return _("Too many failed attempts. Try again in 15 minutes.")
    if outcome in ("slowed", "now-slowed"):
        return _(
            "Too many failed attempts for this account from several places: one attempt a "
            "minute is allowed for now. Try again in a minute."
        )
    return _("Wrong e-mail or password.")
