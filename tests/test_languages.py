"""Every page and paper of the demo in one language (issue "What every user sees is true,
in their own language"): a Russian page has no Kazakh letters and a Kazakh page no
Russian-looking English codes; names (companies, people, cities) are shown as given."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.demo import load_draws, load_participants
from portal.models import Act, Announcement, Campaign, Draw, Winner, db
from portal.web.urls import SiteLinks
from tests.helpers import make_staff, sign_in_client, submit_check, translated
from tests.languages import VisibleText, offending_words, pdf_text, shown_names


@pytest.fixture
def demo_drawn(app, demo):
    """The demo with its participants, draws and winners, as ``flask demo`` leaves it."""
    with app.app_context():
        campaign = db.session.get(Campaign, demo)
        load_participants(campaign)
        load_draws(campaign, secret=app.config["SECRET_KEY"], links=SiteLinks())
    return demo


def public_pages(app, client, lang: str) -> dict[str, str]:
    """Every public page of the demo in ``lang``, as the text a reader sees."""
    with app.app_context():
        draws = list(db.session.scalars(sa.select(Draw.id)))
        news = list(db.session.scalars(sa.select(Announcement.id)))
        winner = db.session.scalars(sa.select(Winner).order_by(Winner.id)).first()
        account, bin_iin = winner.participant.account_number, winner.participant.bin_iin
    paths = [
        f"/{lang}/",
        f"/{lang}/ismet-2022/rules",
        f"/{lang}/ismet-2022/rules/history",
        f"/{lang}/ismet-2022/rules/v1",
        f"/{lang}/ismet-2022/rules/diff?from=1&to=1",
        f"/{lang}/ismet-2022/winners",
        *(f"/{lang}/ismet-2022/winners/2022-{m:02d}" for m in (9, 10, 11)),
        f"/{lang}/ismet-2022/draws",
        *(f"/{lang}/draws/{d}" for d in draws),
        f"/{lang}/ismet-2022/news",
        *(f"/{lang}/ismet-2022/news/{n}" for n in news),
        f"/{lang}/subscribe",
    ]
    pages = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        pages[path] = VisibleText.of(response.get_data(as_text=True), lang)
    check = submit_check(client, lang, account, bin_iin)
    assert check.status_code == 200
    pages[f"/{lang}/ismet-2022/check (a winner's result)"] = VisibleText.of(
        check.get_data(as_text=True), lang
    )
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
    for path in [
        f"/{lang}/ismet-2022/rules/v1.pdf",
        *(f"/{lang}/draws/{d}/protocol.pdf" for d in draws),
    ]:
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
    client.get("/admin/ismet-2022/participants/1")  # an action the audit trail records
    paths = [
        "/admin/ismet-2022/",
        "/admin/calendar",
        "/admin/audit",
        "/admin/ismet-2022/winners",
        "/admin/ismet-2022/draws",
        *(f"/admin/ismet-2022/winners/{w}" for w in winners),
        *(f"/admin/ismet-2022/draws/{d}" for d in draws),
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
