"""Markdown written by staff, rendered to HTML that cannot run anything."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_markdown.enable("table")
_markdown.enable("strikethrough")

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h2",
    "h3",
    "h4",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def sanitize(html: str) -> str:
    """Keep only harmless tags, attributes and link schemes."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def render_markdown(text: str) -> Markup:
    """Markdown to sanitized HTML, safe to put in a page."""
    return Markup(sanitize(_markdown.render(text or "")))  # noqa: S704 - sanitized by nh3


def render_inline(text: str) -> Markup:
    """Markdown of a single paragraph, without the enclosing ``<p>``."""
    return Markup(sanitize(_markdown.renderInline(text or "")))  # noqa: S704 - sanitized by nh3


# Characters that start inline Markdown (emphasis, links, images, code, autolinks, HTML,
# entities, strikethrough, tables) and, at the start of a line, blocks.
_INLINE_SPECIAL = frozenset("\\`*_[]<>!&~|#")
_BLOCK_START = frozenset("-+=>#*0123456789")


def escape_markdown(text: str) -> str:
    """Data (a company, a city) as Markdown that renders as exactly that text.

    For generated Markdown such as a winner's announcement: what comes from imports and
    forms is never read as markup. Line breaks become spaces (no block can start inside
    it); a character that could open inline markup is escaped with a backslash, and
    so is a first character that could open a block (a list, a heading, a quote).
    """
    text = " ".join(str(text or "").split())
    escaped = "".join("\\" + ch if ch in _INLINE_SPECIAL else ch for ch in text)
    if escaped[:1] in _BLOCK_START:
        escaped = "\\" + escaped if not escaped[0].isdigit() else _escape_number(escaped)
    return escaped


def _escape_number(text: str) -> str:
    """``1. x`` or ``1) x`` would start an ordered list: escape the mark after the digits."""
    digits = len(text) - len(text.lstrip("0123456789"))
    if text[digits : digits + 1] in (".", ")"):
        return text[:digits] + "\\" + text[digits:]
    return text
