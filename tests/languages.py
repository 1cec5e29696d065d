"""What a reader of one language must not meet on a page or a paper of the other: Kazakh
letters on a Russian page, English codes on either; names (companies, people, cities) are
shown as given. Used by the server-side language tests and by the browser's."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pdfplumber
import sqlalchemy as sa

from portal.models import Act, Draw, Winner, db

KAZAKH_LETTERS = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*")
# Latin written on purpose: brands, the tools and formats a visitor checks a draw with.
LATIN_ALLOWED = {
    "Chocomart",
    "Ismet",
    "kz",
    "random",
    "org",
    "SkillFactory",  # a brand the official rules name
    "Courses",
    "SHA-256",
    "SHA-512",
    "RSA",
    "PDF",
    "CSV",
    "JSON",
    "Atom",
    "HMAC",
    "openssl",
    "sha256sum",
    "B2B",
    "IP",  # IP-адрес, IP-мекенжай
    "SMS",
    "JPEG",
    "PNG",
    "NCALayer",
    "eGov",  # eGov Mobile, the state's app that signs with a QR code: a proper name
    "Mobile",
    "QR",  # QR-код, QR коды: no other word for it in either language
    "Python",  # the local fallback's "Python secrets", said to staff
    "secrets",
}
# What is not words of the page's language: addresses and paths, file names, digests,
# random.org's own time stamp, the output of openssl and the JSON field a reader greps
# for, "N" of "position N is line N+1", and "e-касса" as the official rules write it.
NOT_WORDS = re.compile(
    r"https?://\S+|(?<!\S)/[\w/.-]+|[\w.+-]+@[\w.-]+|\b[\w-]+\.(?:kz|org|com)\b"
    r"|\b[\w-]+\.(?:csv|json|pem|base64|pdf|atom|bin)\b|(?<![\w.])\.(?:cms|p7s)\b|\b[0-9a-f]{16,}\b"
    r"|\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?Z"
    r"|\"Verified OK\"|\"data\"|«Verified OK»|«data»|\bN(?:\+1)?\b|\b[eE]-касс",
)
OTHER_LEGAL_FORMS = {"ru": r"(?<!\w)(?:ЖШС|ЖК|АҚ)(?!\w)", "kk": r"(?<!\w)(?:ТОО|ИП|АО)(?!\w)"}
SKIPPED_TAGS = {"script", "style", "pre", "code"}
SHOWN_ATTRIBUTES = ("alt", "title", "aria-label", "placeholder")


# What the browser shows a reader (a script for Selenium's ``execute_script``): the text of
# the page, or of the element given as its argument, and its labelling attributes, without
# code, what is hidden, and what is marked as another language (the language switch).
READER_TEXT = """
const lang = document.documentElement.lang;
const parts = [];
const walk = (node) => {
  if (node.nodeType === Node.TEXT_NODE) { parts.push(node.textContent); return; }
  if (node.nodeType !== Node.ELEMENT_NODE) return;
  const tag = node.tagName.toLowerCase();
  if (['script', 'style', 'pre', 'code'].includes(tag)) return;
  if (node.hasAttribute('lang') && node.getAttribute('lang') !== lang) return;
  const style = getComputedStyle(node);
  if (style.display === 'none' || style.visibility === 'hidden') return;
  for (const name of ['alt', 'title', 'aria-label', 'placeholder']) {
    if (node.getAttribute(name)) parts.push(node.getAttribute(name));
  }
  node.childNodes.forEach(walk);
};
walk(arguments[0] || document.body);
return parts.join(' ');
"""


class VisibleText(HTMLParser):
    """The text a reader of a page in ``lang`` sees: its text and labelling attributes,
    without code, scripts, nor what is marked as another language (the switch)."""

    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "wbr",
    }

    def __init__(self, lang: str):
        super().__init__(convert_charrefs=True)
        self.lang = lang
        self.stack: list[bool] = []  # for each open element: whether its text is skipped
        self.parts: list[str] = []

    def skipping(self) -> bool:
        return any(self.stack)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        skipped = tag in SKIPPED_TAGS or values.get("lang", self.lang) != self.lang
        if not (skipped or self.skipping()):
            self.parts += [values[a] for a in SHOWN_ATTRIBUTES if values.get(a)]
        if tag not in self.VOID:
            self.stack.append(skipped)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not self.skipping():
            self.parts.append(data)

    @classmethod
    def of(cls, html: str, lang: str) -> str:
        parser = cls(lang)
        parser.feed(html)
        return " ".join(parser.parts)


def pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def offending_words(text: str, lang: str, names: list[str], letters: bool = True) -> list[str]:
    """The words of ``text`` that are not of ``lang``: Kazakh letters on a Russian page,
    English words on either; ``names`` (as given, or a word of one where a PDF wrapped
    it) and ``NOT_WORDS`` left out."""
    text = re.sub(r"\s+", " ", text.replace("\u00a0", " "))
    # the other language's legal forms, names included: a name is shown as registered and
    # its legal form in the reader's words ("ТОО «Салон Жумабаев»", not "… ЖШС (ТОО)")
    found = re.findall(OTHER_LEGAL_FORMS[lang], text)
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    name_words = {word for name in names for word in re.findall(r"\w+", name)}
    text = NOT_WORDS.sub(" ", text)
    words = [w for w in re.findall(r"[\w-]+", text) if w not in name_words]
    found += [w for w in words if letters and lang == "ru" and KAZAKH_LETTERS.search(w)]
    found += [
        w
        for word in words
        for w in LATIN_WORD.findall(word)
        if w not in LATIN_ALLOWED and not re.fullmatch(r"[\d-]+", w)
    ]
    return found


def shown_names(app) -> list[str]:
    """What the demo shows as given, whatever the language: the winners' companies,
    directors and cities, the commission's members, the names in the acts."""
    names = []
    with app.app_context():
        for winner in db.session.scalars(sa.select(Winner)):
            p = winner.participant
            names += [p.company_name, p.director_name, p.city or ""]
        for draw in db.session.scalars(sa.select(Draw)):
            names += [m.name for m in draw.commission]
        for act in db.session.scalars(sa.select(Act)):
            names += [act.facts["company"], act.facts["director"], act.facts["document_issuer"]]
    return [n for n in names if n]
