"""Finding 7: data read as markup.

Text from imports and forms is never rendered as Markdown or HTML; only what staff
write (the rules, their summaries, the announcements) is. A winner's announcement is
generated Markdown (it links the draw's record): the data in it is escaped first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from markupsafe import escape

from portal.campaign import eligibility, winners
from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.models import Announcement, Campaign, Winner, db
from portal.services.markup import escape_markdown, render_markdown
from tests.helpers import TODAY, csrf_from, csv_bytes, draw_on, row, verified

CITY = "[click](https://evil.example)"
COMPANY = "**x** <b>y</b>"
ATOM = "{http://www.w3.org/2005/Atom}"
TEMPLATES = Path(__file__).resolve().parents[2] / "portal" / "templates"
# Every template expression rendered as Markdown, and why it is written by staff.
STAFF_WRITTEN = {
    "version.tr('summary', lang)": "a rules version's summary of changes",
    "version.tr('summary')": "a rules version's summary of changes",
    "newer.tr('summary')": "a rules version's summary of changes",
    "document.preamble": "the rules text",
    "document.note": "the rules text",
    "clause.text": "the rules text",
    "change.new.text": "the rules text",
    "item.tr('body')": "an announcement (escaped data where generated)",
}


def test_a_winners_city_and_company_are_shown_as_text_never_as_markup(app, client, auth, demo):
    with app.app_context():
        september = find_period(db.session.get(Campaign, demo), "2022-09")
        rows = [row(1, city=CITY, company_name=COMPANY)]
        _, report = import_month(september, "sep.csv", csv_bytes(rows), today=TODAY)
        assert report.ok, report.problems
        eligibility.compute(september)
        (winner,) = winners.winners_of_draw(draw_on(september))
        verified(winner)
        db.session.commit()
        winner_id = winner.id
    auth.login("marketing")
    token = csrf_from(client.get(f"/admin/ismet-2022/winners/{winner_id}").get_data(as_text=True))
    published = client.post(
        f"/admin/ismet-2022/winners/{winner_id}/publish", data={"csrf_token": token}
    )
    assert published.status_code == 302
    with app.app_context():
        announcement = db.session.get(
            Announcement, db.session.get(Winner, winner_id).announcement_id
        )
        assert announcement.kind == Announcement.KIND_WINNER
        announcement_id = announcement.id

    for lang in ("kk", "ru"):
        pages = {
            "month": client.get(f"/{lang}/ismet-2022/winners/2022-09"),
            "news item": client.get(f"/{lang}/ismet-2022/news/{announcement_id}"),
            "news": client.get(f"/{lang}/ismet-2022/news"),
        }
        for name, response in pages.items():
            html = response.get_data(as_text=True)
            assert response.status_code == 200, name
            assert 'href="https://evil.example"' not in html, name
            assert "<b>y</b>" not in html and "<strong>x</strong>" not in html, name
            assert CITY in html, name  # shown literally
            assert "**x** &lt;b&gt;y&lt;/b&gt;" in html, name
        # the feed carries the announcement's HTML as text: the same HTML, no link
        feed = ET.fromstring(client.get(f"/{lang}/ismet-2022/news/feed.atom").data)
        contents = [e.findtext(f"{ATOM}content") for e in feed.iter(f"{ATOM}entry")]
        body = next(c for c in contents if "evil.example" in c)
        assert 'href="https://evil.example"' not in body and "<b>y</b>" not in body
        assert CITY in body and "**x** &lt;b&gt;y&lt;/b&gt;" in body
        # the link the announcement is made for is still a link
        assert re.search(r'<a href="[^"]*/draws/\d+"', body)


def test_only_what_staff_write_is_rendered_as_markdown():
    found = set()
    for template in TEMPLATES.rglob("*"):
        if template.is_file():
            text = template.read_text(encoding="utf-8")
            found |= set(
                re.findall(r"\{\{\s*((?:(?!\}\}).)+?)\s*\|\s*markdown(?:_inline)?\b", text)
            )
    assert found == set(STAFF_WRITTEN), found - set(STAFF_WRITTEN)


def test_escaped_data_renders_as_the_text_it_is():
    for text in (
        CITY,
        COMPANY,
        "<https://evil.example>",
        "![i](https://evil.example/x.png)",
        "1. a list",
        "12) a list",
        "- an item",
        "# a heading",
        "> a quote",
        "`code` ~~gone~~ a_b_c | d",
        "&lt; &amp;",
        "ТОО «Жетісу-Сауда»",
    ):
        html = render_markdown("Text: " + escape_markdown(text))
        assert html == f"<p>Text: {escape(text)}</p>\n", text
        alone = render_markdown(escape_markdown(text))
        assert alone == f"<p>{escape(text)}</p>\n", text
    assert render_markdown(escape_markdown("a\n\n# b")) == "<p>a # b</p>\n"  # one line
