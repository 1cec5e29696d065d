"""Staff sign-in and passwords as sentences in the reader's language."""

from __future__ import annotations

from flask_babel import gettext as _

from portal.campaign.staff import MIN_PASSWORD_LENGTH


def password_hint() -> str:
    """What a good password is, said next to the field."""
    return _(
        "At least %(num)d characters, best a phrase of several words. Refused: the most "
        "common passwords, the account's e-mail or name in it, spaces only, one character "
        "or one piece repeated; such passwords are guessed first.",
        num=MIN_PASSWORD_LENGTH,
    )


def describe_password_problem(code: str) -> str:
    """Why a password is refused (a code of ``campaign.staff.PASSWORD_PROBLEMS``)."""
    messages = {
        "too-short": _("At least %(num)d characters.", num=MIN_PASSWORD_LENGTH),
        "blank": _("A password of spaces only is refused: choose one with words or characters."),
        "repetitive": _(
            "A password made of one character, or one piece, repeated is guessed at once: "
            "choose another."
        ),
        "common": _(
            "This is one of the most common passwords, which are tried first: choose "
            "another, for example a phrase of several words."
        ),
        "email": _(
            "A password must not contain the account's e-mail or its part before the @: "
            "it is the first thing tried."
        ),
        "name": _("A password must not contain the account's name: it is easily guessed."),
    }
    return messages[code]


def describe_password_problems(codes: list[str]) -> list[str]:
    return [describe_password_problem(code) for code in codes]


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
