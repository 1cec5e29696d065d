"""Every page and paper of the demo in one language (issue "What every user sees is true,
in their own language"): a Russian page has no Kazakh letters and a Kazakh page no
Russian-looking English codes; names (companies, people, cities) are shown as given."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pdfplumber
import pytest
import sqlalchemy as sa

from portal.demo import load_draws, load_participants
from portal.models import Act, Announcement, Campaign, Draw, Winner, db
from portal.web.urls import SiteLinks
from tests.helpers import make_staff, sign_in_client, submit_check, translated

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
    "Python",  # the local fallback's "Python secrets", said to staff
    "secrets",
}
# What is not words of the page's language: addresses and paths, file names, digests,
# random.org's own time stamp, the output of openssl and the JSON field a reader greps
# for, "N" of "position N is line N+1", and "e-касса" as the official rules write it.
NOT_WORDS = re.compile(
    r"https?://\S+|(?<!\S)/[\w/.-]+|[\w.+-]+@[\w.-]+|\b[\w-]+\.(?:kz|org|com)\b"
    r"|\b[\w-]+\.(?:csv|json|pem|base64|pdf|atom|bin)\b|\b[0-9a-f]{16,}\b"
    r"|\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?Z"
    r"|\"Verified OK\"|\"data\"|«Verified OK»|«data»|\bN(?:\+1)?\b|\b[eE]-касс",
)
OTHER_LEGAL_FORMS = {"ru": r"(?<!\w)(?:ЖШС|ЖК|АҚ)(?!\w)", "kk": r"(?<!\w)(?:ТОО|ИП|АО)(?!\w)"}
SKIPPED_TAGS = {"script", "style", "pre", "code"}
SHOWN_ATTRIBUTES = ("alt", "title", "aria-label", "placeholder")


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


@pytest.fixture
def demo_drawn(app, demo):
    """The demo with its participants, draws and winners, as ``flask demo`` leaves it."""
    with app.app_context():
        campaign = db.session.get(Campaign, demo)
        load_participants(campaign)
        load_draws(campaign, secret=app.config["SECRET_KEY"], links=SiteLinks())
    return demo


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


def public_pages(app, client, lang: str) -> dict[str, str]:
    """Every public page of the demo in ``lang``, as the text a reader sees."""
    with app.app_context():
        draws = list(db.session.scalars(sa.select(Draw.id)))
        news = list(db.session.scalars(sa.select(Announcement.id)))
        winner = db.session.scalars(sa.select(Winner).order_by(Winner.id)).first()
        account, bin_iin = winner.participant.account_number, winner.participant.bin_iin
    paths = [
        f"/{lang}/",
        f"/{lang}/rules",
        f"/{lang}/rules/history",
        f"/{lang}/rules/v1",
        f"/{lang}/rules/diff?from=1&to=1",
        f"/{lang}/winners",
        *(f"/{lang}/winners/2022-{m:02d}" for m in (9, 10, 11)),
        *(f"/{lang}/draws/{d}" for d in draws),
        f"/{lang}/news",
        *(f"/{lang}/news/{n}" for n in news),
        f"/{lang}/subscribe",
    ]
    pages = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        pages[path] = VisibleText.of(response.get_data(as_text=True), lang)
    check = submit_check(client, lang, account, bin_iin)
    assert check.status_code == 200
    pages[f"/{lang}/check (a winner's result)"] = VisibleText.of(check.get_data(as_text=True), lang)
    return pages


def papers(app, client, lang: str) -> dict[str, str]:
    """The rules' PDF, every protocol, and the ``lang`` half of every act, as text."""
    with app.app_context():
        draws = list(db.session.scalars(sa.select(Draw.id)))
        acts = list(db.session.scalars(sa.select(Act)))
        halves = {}
        for act in acts:
            text = pdf_text(act.pdf)
            ru_title = translated("ru", "Acceptance-transfer act No. %(number)s", number=act.number)
            kk_half, ru_half = text.split(ru_title.split(" №")[0], 1)
            halves[f"act {act.number}"] = kk_half if lang == "kk" else ru_half
    texts = {}
    for path in [f"/{lang}/rules/v1.pdf", *(f"/{lang}/draws/{d}/protocol.pdf" for d in draws)]:
        response = client.get(path)
        assert response.status_code == 200, path
        texts[path] = pdf_text(response.data)
    texts.update(halves)
    return texts


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_every_public_page_and_paper_of_the_demo_is_in_its_language(app, client, demo_drawn, lang):
    names = shown_names(app)
    documents = {**public_pages(app, client, lang), **papers(app, client, lang)}
    offences = {
        where: words + re.findall(r"(?i)\bпул\w*", text)  # "the pool": the participants' list
        for where, text in documents.items()
        if (words := offending_words(text, lang, names)) or re.search(r"(?i)\bпул", text)
    }
    assert not offences, "\n".join(
        f"{where}: {' '.join(words)}" for where, words in offences.items()
    )


def staff_pages(app, client, lang: str) -> dict[str, str]:
    """The staff area of the demo, for a member who reads ``lang``: the text it shows."""
    with app.app_context():
        make_staff(f"admin-{lang}@ismet.kz", "admin", language=lang)
        winners = list(db.session.scalars(sa.select(Winner.id)))
        draws = list(db.session.scalars(sa.select(Draw.id)))
    sign_in_client(client, f"admin-{lang}@ismet.kz")
    client.get("/admin/participants/1")  # an action the audit trail records
    paths = [
        "/admin/",
        "/admin/calendar",
        "/admin/audit",
        "/admin/winners",
        "/admin/draws",
        *(f"/admin/winners/{w}" for w in winners),
        *(f"/admin/draws/{d}" for d in draws),
    ]
    pages = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        pages[path] = VisibleText.of(response.get_data(as_text=True), lang)
    return pages


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_the_staff_area_speaks_the_staff_member_s_language(app, client, demo_drawn, lang):
    """Holidays, dates, steps, actors and audit actions in the staff member's language:
    no "Republic Day", "10/22/2022", "cli", "participants.view", "StaffUser 1" or JSON."""
    names = shown_names(app)
    pages = staff_pages(app, client, lang)
    offences = {}
    for where, text in pages.items():
        # the demo's staff notes are Kazakh text, which a Russian reader's page shows as written
        words = offending_words(text, lang, names, letters=False)
        codes = re.findall(r"\d\d/\d\d/\d{4}|[{}\"]\w+\"?:|\w+\.\w+_\w+", text)
        if words or codes:
            offences[where] = words + codes
    assert not offences, "\n".join(f"{where}: {' '.join(w)}" for where, w in offences.items())
    calendar = pages["/admin/calendar"]
    holiday = {"kk": "Республика күні", "ru": "День Республики"}[lang]
    moved = {"kk": "2022 жылғы 22 қазан", "ru": "22 октября 2022 г."}[lang]
    assert holiday in calendar and moved in calendar
    audit = pages["/admin/audit"]
    for message in ("Signed in", "Participant's card opened", "the demo loader"):
        assert translated(lang, message) in audit
    assert translated(lang, "staff account No. %(id)s", id=1) in audit
    step = translated(lang, "Step")
    verified = (
        f"{step}: {translated(lang, 'Drawn, being verified')} → {translated(lang, 'Verified')}"
    )
    assert verified in audit
