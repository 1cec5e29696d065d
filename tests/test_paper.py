"""The protocols and acts are fit to sign: the organizer's requisites, an absolute address
to check them with and its QR code, nothing printed over anything else, and signatures
that are never left alone on a page; in Kazakh and in Russian."""

from __future__ import annotations

import base64
import io
import itertools
import re

import pdfplumber
import pytest
import sqlalchemy as sa
from PIL import Image
from pypdf import PdfReader

from portal.campaign import acts, draws
from portal.models import Draw, Participant, db
from portal.services import documents
from portal.services.pdf import PdfRenderingError, static_path
from portal.web.urls import SiteLinks
from tests.helpers import (
    FRIDAY_21_OCTOBER,
    admin_actor,
    announced,
    at,
    in_touch,
    prepare,
    site,
    translated,
    with_identity,
)

ORGANIZER = {
    "ORGANIZER_BIN": "123456789012",
    "ORGANIZER_ADDRESS_KK": "Астана қ., Мысал көшесі, 1",
    "ORGANIZER_ADDRESS_RU": "г. Астана, ул. Примерная, 1",
    "ORGANIZER_SIGNATORY_KK": "Сәрсенова Айгүл Маратқызы",
    "ORGANIZER_SIGNATORY_RU": "Сарсенова Айгуль Маратовна",
    "ORGANIZER_SIGNATORY_POSITION_KK": "Маркетинг департаментінің директоры",
    "ORGANIZER_SIGNATORY_POSITION_RU": "Директор департамента маркетинга",
    "ORGANIZER_HOTLINE": "+7 700 000 00 00",
    "ORGANIZER_EMAIL": "promo@example.kz",
}
LONG = (
    "начальник управления по работе с корпоративными клиентами малого и среднего бизнеса "
    "Дивизиона по корпоративному бизнесу"
)


@pytest.fixture
def organizer(app):
    """The organizer's requisites set, as an operator sets them before the first draw."""
    app.config.update(ORGANIZER)
    return app


def folded(text: str) -> str:
    """Text without white space (a long line may wrap anywhere)."""
    return re.sub(r"\s+", "", text)


def pages_text(data: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def requisites(lang: str) -> list[str]:
    suffix = lang.upper()
    return [
        translated(lang, "Organizer"),
        ORGANIZER_NAME[lang],
        translated(lang, "BIN"),
        ORGANIZER["ORGANIZER_BIN"],
        ORGANIZER[f"ORGANIZER_ADDRESS_{suffix}"],
        ORGANIZER[f"ORGANIZER_SIGNATORY_{suffix}"],
        ORGANIZER[f"ORGANIZER_SIGNATORY_POSITION_{suffix}"],
        ORGANIZER["ORGANIZER_HOTLINE"],
        ORGANIZER["ORGANIZER_EMAIL"],
    ]


ORGANIZER_NAME = {
    "kk": "«Қазақтелеком» АҚ филиалы – Корпоративтік бизнес жөніндегі дивизион",
    "ru": "Филиал АО «Казахтелеком» – Дивизион по корпоративному бизнесу",
}


def overprinted(data: bytes, tolerance: float = 0.6) -> list[tuple]:
    """Pairs of characters printed over each other, page by page (their boxes intersect by
    more than ``tolerance`` points both ways): text that does not fit its place."""
    found = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            chars = [c for c in page.chars if c["text"].strip()]
            cells: dict[tuple[int, int], list[int]] = {}
            for i, c in enumerate(chars):
                for x in range(int(c["x0"] // 20), int(c["x1"] // 20) + 1):
                    for y in range(int(c["top"] // 20), int(c["bottom"] // 20) + 1):
                        cells.setdefault((x, y), []).append(i)
            pairs = {pair for cell in cells.values() for pair in itertools.combinations(cell, 2)}
            for i, j in pairs:
                a, b = chars[i], chars[j]
                wide = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
                high = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
                if wide > tolerance and high > tolerance:
                    found.append((number, a["text"], b["text"], round(a["x0"]), round(a["top"])))
    return found


def embedded_images(data: bytes, page: int = 0) -> list[Image.Image]:
    return [image.image for image in PdfReader(io.BytesIO(data)).pages[page].images]


def qr_of(url: str) -> Image.Image:
    """The QR code the portal draws for ``url``, as the PDF embeds it."""
    uri = documents.verification_qr(url)
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB")


def same_image(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and a.convert("RGB").tobytes() == b.convert("RGB").tobytes()


def protocol(draw: Draw, lang: str) -> bytes:
    return draws.draw_file(draw, draws.protocol_name(lang)).content


def big_draw(period, members: int, repeat: int = 6) -> Draw:
    """A late draw without random.org, with a large commission and long texts (each reason
    ``repeat`` sentences long)."""
    commission = [
        draws.Member(f"Member{n:02d} Surname{n:02d}", f"{LONG} {n}", f"{LONG} {n}")
        for n in range(members)
    ]
    return draws.conduct(
        announced(prepare(period), FRIDAY_21_OCTOBER),
        **site(),
        commission=commission,
        place={
            "kk": "Алматы қ., Абай даңғылы, 100, «Қазақтелеком» АҚ кеңсесі, 5-қабат, мәжіліс залы",
            "ru": "г. Алматы, пр. Абая, 100, офис АО «Казахтелеком», 5 этаж, зал заседаний",
        },
        late_reason={
            "kk": "Комиссия мүшелерінің бірі іссапарда болды; " * repeat,
            "ru": "Один из членов комиссии был в командировке; " * repeat,
        },
        fallback_reason={
            "kk": "random.org күні бойы қолжетімсіз болды; " * repeat,
            "ru": "random.org был недоступен весь день; " * repeat,
        },
        actor=admin_actor(),
        now=FRIDAY_21_OCTOBER,
    )


# --- the protocol ---------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_protocol_names_the_organizer_and_an_absolute_address_with_its_qr(
    organizer, september, lang
):
    draw = big_draw(september, 3, repeat=1)  # made by no request, without PUBLIC_BASE_URL
    data = protocol(draw, lang)
    text = folded("".join(pages_text(data)))
    for requisite in requisites(lang):
        assert folded(requisite) in text, requisite
    url = f"https://ismet.kz/{lang}/draws/{draw.id}"  # DEFAULT_BASE_URL, not a bare path
    assert folded(translated(lang, "Anyone can check this draw at %(url)s", url=url)) in text
    [image] = embedded_images(data, page=0)
    assert same_image(image, qr_of(url))


def test_the_protocol_at_the_public_base_url(organizer, september):
    organizer.config["PUBLIC_BASE_URL"] = "https://example.kz/promo/"
    draw = big_draw(september, 3, repeat=1)
    for lang in ("kk", "ru"):
        url = f"https://example.kz/promo/{lang}/draws/{draw.id}"
        assert url in "".join(pages_text(protocol(draw, lang))).replace("\n", "")
        assert same_image(embedded_images(protocol(draw, lang))[0], qr_of(url))


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_no_text_of_the_protocol_is_printed_over_another(organizer, september, lang):
    long_name = "«Жетісу-Сауда-Логистика-Сервис» жауапкершілігі шектеулі серіктестігі"
    db.session.execute(sa.update(Participant).values(company_name=long_name))
    draw = big_draw(september, 5)
    assert overprinted(protocol(draw, lang)) == []


@pytest.mark.parametrize("members", [3, 4, 5, 6, 7])
def test_the_signatures_stay_together_with_the_winners(organizer, september, members):
    draw = big_draw(september, members)
    for lang in ("kk", "ru"):
        data = protocol(draw, lang)
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = pdf.pages
            heading = translated(lang, "Signatures of the commission")
            [page] = [p for p in pages if p.search(heading)]
            assert page.page_number == len(pages)  # the block ends the protocol
            below = page.crop((0, page.search(heading)[0]["top"], page.width, page.height))
            names = below.extract_text()
            for n in range(members):
                assert f"Member{n:02d} Surname{n:02d}" in names, (lang, members, n)
            # nor are they alone there: the winners come along
            assert page.search(translated(lang, "Winners"))


# --- the act --------------------------------------------------------------------------


@pytest.fixture
def act(organizer, drawn):
    """September's winner's act, issued with the organizer's requisites set."""
    with organizer.test_request_context("/ru/"):
        issued = acts.issue_act(with_identity(in_touch(drawn)), links=SiteLinks(), now=at(10, 25))
    db.session.commit()
    return issued


def test_the_act_names_the_organizer_with_its_requisites_and_signatory(act):
    kk, ru = [folded(text) for text in pages_text(act.pdf)]
    for lang, text in (("kk", kk), ("ru", ru)):
        for requisite in requisites(lang):
            assert folded(requisite) in text, (lang, requisite)
        url = f"http://localhost/{lang}/draws/{act.winner.draw_id}"  # the request's host
        sentence = translated(
            lang,
            "The Winner was drawn in draw No. %(draw)s; anyone can check it at %(url)s",
            draw=act.winner.draw_id,
            url=url,
        )
        assert folded(sentence) in text
        assert act.facts[f"record_url_{lang}"] == url
    for page, lang in ((0, "kk"), (1, "ru")):
        [image] = embedded_images(act.pdf, page)
        assert same_image(image, qr_of(act.facts[f"record_url_{lang}"]))


def test_the_act_names_the_prize_and_the_winner_once(act):
    facts = act.facts
    for text in pages_text(act.pdf):
        flat = " ".join(text.split())
        assert f"({facts['supplier']})" not in flat  # "Chocomart certificates (Chocomart)"
        assert not re.search(r"\b(\w+), \1\b", flat)  # "ЖШС, ЖШС"
        assert facts["company"] in flat


def test_no_text_of_the_act_is_printed_over_another(act):
    assert overprinted(act.pdf) == []


def test_each_language_of_the_act_is_one_page_with_its_signatures(act):
    pages = pages_text(act.pdf)
    assert len(pages) == 2
    for lang, text in zip(("kk", "ru"), pages, strict=True):
        assert translated(lang, "signature") in text
        assert ORGANIZER[f"ORGANIZER_SIGNATORY_{lang.upper()}"] in text


def test_without_a_signatory_the_act_leaves_a_blank_to_fill_by_hand(app, drawn):
    with app.test_request_context("/kk/"):
        issued = acts.issue_act(with_identity(in_touch(drawn)), links=SiteLinks(), now=at(10, 25))
    for lang, text in zip(("kk", "ru"), pages_text(issued.pdf), strict=True):
        assert "________________ / ________________ /" in text
        assert translated(lang, "full name") in text
        assert translated(lang, "BIN") + " " not in text  # no BIN set, none invented


# --- where a PDF's images may come from ------------------------------------------------


def test_a_pdf_may_show_an_image_made_in_memory_but_nothing_else_inline():
    uri = documents.verification_qr("https://ismet.kz/kk/draws/1")
    assert static_path(uri) == uri
    for other in ("data:image/svg+xml,%3Csvg%3E", "data:text/html;base64,PGI+", "data:,x"):
        with pytest.raises(PdfRenderingError):
            static_path(other)


def test_a_document_refuses_a_bare_path_as_its_verification_address():
    with pytest.raises(ValueError, match="absolute"):
        documents.verification_qr("/kk/draws/1")


# --- the staff are told what is missing ------------------------------------------------


def test_the_dashboard_names_the_organizer_settings_left_unset(app, client, auth, demo):
    auth.login("marketing")
    page = client.get("/admin/ismet-2022/").get_data(as_text=True)
    assert "<code>ORGANIZER_BIN</code>" in page
    assert "<code>ORGANIZER_SIGNATORY_RU</code>" in page
    assert "<code>ORGANIZER_NAME_KK</code>" not in page  # the rules' name is the default
    app.config.update(ORGANIZER)
    assert 'id="organizer-settings"' not in client.get("/admin/ismet-2022/").get_data(as_text=True)
