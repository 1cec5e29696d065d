"""Secrets in what the portal keeps: the tokens in the addresses of private links.

A winner's private page (``/<lang>/winner/<token>``), a subscription's confirmation
(``/<lang>/subscribe/confirm/<token>``), an unsubscribe link (``/<lang>/unsubscribe/<token>``)
and eGov Mobile's API 1 and API 2 of a signing session (``/egov-sign/<key>``) open to
whoever holds the address. Once an e-mail carrying one is sent, and in every log line,
the token is masked: ``/winner/…``.
"""

from __future__ import annotations

import re

MASK = "…"
# the token: everything after the link's path up to the next slash, query, space or quote
SECRET_PATH = re.compile(r"(/(?:winner|unsubscribe|subscribe/confirm|egov-sign)/)[^/\s?#\"'<>]+")


def redact_links(text: str | None) -> str | None:
    """``text`` with the token of every private link in it masked."""
    if not text:
        return text
    return SECRET_PATH.sub(rf"\g<1>{MASK}", text)
