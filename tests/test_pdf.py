"""The rules as PDF: text extracted from the file, in both languages."""

from __future__ import annotations

import io
import re

import pytest
from flask import render_template_string
from pypdf import PdfReader

from portal.services.pdf import PdfRenderingError, render_pdf, static_path

KAZAKH_LETTERS = "әғқңөұүһі"


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def embedded_fonts(data: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(data))
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return fonts


def test_kazakh_rules_pdf_holds_the_kazakh_text(client, demo):
    response = client.get("/kk/ismet-2022/rules/v1.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert 'filename="ismet-rules-v1-kk.pdf"' in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert "Chocomart сертификаттарының ұтысы ай сайын" in text
    assert "Қазақстан Республикасының барлық аумағында қолданылады" in text
    assert "18. Жүлдені жеңіп алған қатысушы" in text
    assert {c for c in KAZAKH_LETTERS if c in text} == set("әғқңөұүі")  # the rules use no һ
    assert any("NotoSans" in name for name in embedded_fonts(response.data))


def test_russian_rules_pdf_holds_the_russian_text(client, demo):
    text = pdf_text(client.get("/ru/ismet-2022/rules/v1.pdf").data)
    assert "Розыгрыш сертификатов Chocomart проводится ежемесячно" in text
    assert "Справочная информация" in text
    assert "1 сентября 2022 г." in text


def test_the_pdf_font_draws_every_kazakh_letter(app, ctx):

    html = render_template_string(
        "{% extends 'pdf/_base.html' %}{% block content %}<p>"
        + KAZAKH_LETTERS
        + KAZAKH_LETTERS.upper()
        + " ₸ №</p>{% endblock %}"
    )
    text = pdf_text(render_pdf(html))
    assert KAZAKH_LETTERS in text and KAZAKH_LETTERS.upper() in text and "₸" in text


def test_pdf_resources_come_only_from_static_files():
    assert static_path("static:fonts/NotoSans-Regular.ttf").endswith("NotoSans-Regular.ttf")
    for uri in (
        "https://example.com/font.ttf",
        "static:../config.py",
        "/etc/passwd",
        "static:nope.ttf",
    ):
        with pytest.raises(PdfRenderingError):
            static_path(uri)


def test_a_document_asking_for_a_remote_image_is_refused():
    with pytest.raises(PdfRenderingError):
        render_pdf('<html><body><img src="https://example.com/x.png"></body></html>')
