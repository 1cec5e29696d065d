"""The campaign's documents, rendered by ``portal.services.documents`` from what the
campaign gives: the protocol's link to the public record, the act, the manager's notice."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from portal.campaign import acts, draws
from portal.models import Draw, OutboxMessage, ReportingPeriod, db
from portal.models.acts import WinnerFile
from portal.services import documents
from portal.web.urls import SiteLinks
from portal.wording.messages import winner_announcement
from tests.helpers import (
    COMMISSION,
    COMMISSION_TEXT,
    PLACE,
    admin_actor,
    both,
    conduct,
    make_staff,
    png,
    translated,
)


def pdf_words(data: bytes) -> str:
    """A PDF's text with its line breaks and spaces taken out (a long URL may wrap)."""
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def stored_protocol(draw: Draw, lang: str) -> bytes:
    return draws.draw_file(draw, draws.protocol_name(lang)).content


def test_the_protocol_prints_the_public_record_at_the_public_base_url(app, september):
    app.config["PUBLIC_BASE_URL"] = "https://ismet.kz/promo/"
    draw = conduct(
        september, fallback_reason="random.org unreachable", actor=admin_actor()
    )  # no request here
    for lang in ("kk", "ru"):
        url = f"https://ismet.kz/promo/{lang}/draws/{draw.id}"
        sentence = translated(lang, "Anyone can check this draw at %(url)s", url=url)
        assert re.sub(r"\s+", "", sentence) in pdf_words(stored_protocol(draw, lang))


def test_without_a_base_the_protocol_of_a_command_prints_the_default_base(app, september):
    draw = conduct(september, fallback_reason="random.org unreachable", actor=admin_actor())
    for lang in ("kk", "ru"):
        url = f"https://ismet.kz/{lang}/draws/{draw.id}"  # DEFAULT_BASE_URL, never a bare path
        sentence = translated(lang, "Anyone can check this draw at %(url)s", url=url)
        assert re.sub(r"\s+", "", sentence) in pdf_words(stored_protocol(draw, lang))


def test_without_any_base_no_protocol_is_made(app, september):
    app.config["DEFAULT_BASE_URL"] = None
    with pytest.raises(ValueError, match="absolute"):
        conduct(september, fallback_reason="random.org unreachable", actor=admin_actor())


def test_a_draw_on_random_org_without_a_client_is_not_made(app, september):
    pool = draws.prepare(september, secret=app.config["SECRET_KEY"])
    with pytest.raises(ValueError, match=r"random\.org client"):
        draws.conduct(
            pool, commission=COMMISSION, place=PLACE, links=SiteLinks(), late_reason=both("test")
        )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draw)) == 0


def test_the_cli_prints_the_public_record_at_the_public_base_url(app, runner, september):
    app.config["PUBLIC_BASE_URL"] = "https://ismet.kz"
    admin_actor()
    assert runner.invoke(args=["draw", "announce", "--period", "2022-09", "--yes"]).exit_code == 0
    result = runner.invoke(
        args=[
            *("draw", "run", "--period", "2022-09", "--commission", COMMISSION_TEXT, "--yes"),
            *("--late-reason-kk", "сынақ", "--late-reason-ru", "тест"),
            *("--fallback-reason-kk", "сынақ", "--fallback-reason-ru", "тест", "--lang", "ru"),
            *("--admin", "admin@ismet.kz"),
        ]
    )
    assert result.exit_code == 0, result.output
    draw_id = db.session.scalar(sa.select(Draw.id))
    assert f"public record: https://ismet.kz/ru/draws/{draw_id}" in result.output


def test_the_winner_announcement_links_the_record_at_the_public_base_url(app, drawn):

    app.config["PUBLIC_BASE_URL"] = "https://ismet.kz"
    _titles, bodies = winner_announcement(drawn, SiteLinks())
    for lang in ("kk", "ru"):
        assert f"(https://ismet.kz/{lang}/draws/{drawn.draw_id})" in bodies[lang]


def test_the_act_is_rendered_in_the_languages_given(app, issued):
    facts = issued.facts
    records = {"ru": facts["record_url_ru"]}
    pdf = documents.act_pdf(facts, issued.winner, ["ru"], records)
    text = pdf_words(pdf)
    title = translated("ru", "Acceptance-transfer act No. %(number)s", number=issued.number)
    assert re.sub(r"\s+", "", title) in text
    kazakh = translated("kk", "Acceptance-transfer act No. %(number)s", number=issued.number)
    assert re.sub(r"\s+", "", kazakh) not in text
    assert len(PdfReader(io.BytesIO(issued.pdf)).pages) > len(PdfReader(io.BytesIO(pdf)).pages)


def test_the_manual_signing_notice_in_the_language_given(ctx):
    company = {"kk": "«Company 1» ЖШС", "ru": "ТОО «Company 1»"}
    month = {"kk": "2022 жылғы қыркүйек", "ru": "сентябрь 2022 г."}
    for lang in ("kk", "ru"):
        subject, body = documents.manual_signing_mail(
            lang,
            act_number="2022-09/1-1",
            company="Company 1",
            legal_form="LLP",
            period=ReportingPeriod(year=2022, month=9),
            scans=2,
            reason="The director's EDS expired.",
            url="https://ismet.kz/admin/ismet-2022/winners/1",
        )
        assert subject == translated(lang, "Manual signing of act %(number)s", number="2022-09/1-1")
        text, _signature = body.split("\n\n-- \n")  # the organizer's signature follows
        assert text.split("\n\n") == [
            translated(
                lang,
                "%(company)s, winner of %(month)s, has sent its act %(number)s signed by hand, with %(count)s scans, for this reason:",
                company=company[lang],
                month=month[lang],
                number="2022-09/1-1",
                count=2,
            ),
            "The director's EDS expired.",
            translated(lang, "Check the scans and accept or return the submission:"),
            "https://ismet.kz/admin/ismet-2022/winners/1",
        ]


def submitted(act):
    return acts.submit_manual(
        act,
        reason="The director's EDS expired.",
        files={
            WinnerFile.SIGNED_ACT: (act.pdf, "act.pdf"),
            WinnerFile.DIRECTOR_ID: (png(), "id.png"),
        },
        by_proxy=False,
    )


def test_the_manager_is_notified_once_in_its_language_with_the_staff_link(app, issued):
    app.config["PUBLIC_BASE_URL"] = "https://ismet.kz"
    make_staff("manager@ismet.kz", "marketing", language="kk")
    submission = submitted(issued)
    for _ in range(2):
        acts.notify_manager(
            submission,
            manager_email="manager@ismet.kz",
            default_language="ru",
            links=SiteLinks(),
        )
    [mail] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert (mail.kind, mail.to_email, mail.language) == ("manual-signing", "manager@ismet.kz", "kk")
    assert mail.subject == translated(
        "kk", "Manual signing of act %(number)s", number=issued.number
    )
    text, _signature = mail.body_text.split("\n\n-- \n")  # the organizer's signature follows
    assert text.endswith(f"\n\nhttps://ismet.kz/admin/ismet-2022/winners/{issued.winner_id}")
    assert "The director's EDS expired." in mail.body_text


def test_without_a_manager_nobody_is_notified(app, issued):
    acts.notify_manager(
        submitted(issued), manager_email=None, default_language="ru", links=SiteLinks()
    )
    assert db.session.scalars(sa.select(OutboxMessage)).all() == []


def test_deadline_notices_link_the_staff_pages_at_the_public_base_url(app, drawn, runner):
    db.session.commit()
    app.config.update(
        MARKETING_MANAGER_EMAIL="manager@ismet.kz", PUBLIC_BASE_URL="https://ismet.kz"
    )
    result = runner.invoke(args=["deadlines", "--today", "2022-10-28", "--notify"])
    assert result.exit_code == 0, result.output
    bodies = db.session.scalars(sa.select(OutboxMessage.body_text)).all()
    assert bodies and all(
        f"https://ismet.kz/admin/ismet-2022/winners/{drawn.id}" in body for body in bodies
    )
