"""The Kazakh and Russian catalogues: complete, not fuzzy, placeholders intact, current."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from portal.commands.translate import TRANSLATIONS, extract_messages

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def catalogue(lang: str):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=lang)


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_message_is_translated_and_none_is_fuzzy(lang):
    problems = []
    for message in catalogue(lang):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if not all(strings):
            problems.append(f"untranslated: {message.id!r}")
    assert problems == []


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_translations_keep_the_placeholders(lang):
    problems = []
    for message in catalogue(lang):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        expected = set(PLACEHOLDER.findall(ids[-1]))
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            if set(PLACEHOLDER.findall(text)) - expected or (
                not isinstance(message.id, tuple) and set(PLACEHOLDER.findall(text)) != expected
            ):
                problems.append(f"{message.id!r} -> {text!r}")
    assert problems == []


def test_catalogues_hold_every_message_of_the_code(tmp_path):
    """Extracting again finds no message the catalogues lack (run `flask translate update`)."""
    pot = tmp_path / "messages.pot"
    extract_messages(pot, quiet=True)
    with open(pot, "rb") as handle:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    for lang in ("kk", "ru"):
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue(lang) if m.id}
        assert sorted(wanted - have) == [], (
            f"missing from {lang}: run `flask --app wsgi translate update`"
        )
