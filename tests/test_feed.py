"""The Atom feeds (``/<lang>/news/feed.atom``) are valid Atom whatever the announcements
hold: line breaks, ``&``, ``<``, quotes and emoji in their titles and bodies."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import feedparser
import pytest

from portal.models import Announcement, Campaign, db

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

TITLES = {
    "kk": 'Жеңімпаздар & «сыйлықтар»\n<маңызды> "жаңалық" 🎉',
    "ru": 'Победители & «призы»\n<важно> "новость" 🎉',
}
BODIES = {
    "kk": "Бірінші жол  \nекінші жол & <b>қалың емес</b>\n\nТырнақша: \"сөз\" 'сөз' 🎁",
    "ru": "Первая строка  \nвторая строка & <b>не жирный</b>\n\nКавычки: \"слово\" 'слово' 🎁",
}


@pytest.fixture
def announced(app, demo):
    """The demo's launch announcement, and a later one with markup-like text in it."""
    with app.app_context():
        item = Announcement(
            campaign_id=demo,
            title_kk=TITLES["kk"],
            title_ru=TITLES["ru"],
            body_kk=BODIES["kk"],
            body_ru=BODIES["ru"],
            published_at=datetime(2022, 12, 1, 4, 30, tzinfo=UTC),
        )
        db.session.add(item)
        db.session.commit()
        return item.id


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_feed_is_well_formed_atom_with_any_text(client, announced, lang):
    response = client.get(f"/{lang}/ismet-2022/news/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)  # well-formed XML, or this raises
    assert root.tag == f"{ATOM}feed"

    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    newest = feed.entries[0]
    assert newest.title == " ".join(TITLES[lang].split())  # one line, every character kept
    body = newest.content[0]
    assert body.type == "text/html"
    html = body.value
    assert "&amp;" in html and "&lt;b&gt;" in html  # the author's "<b>" stays text
    assert "<br" in html and "🎁" in html and '"' in html
    assert newest.id == f"http://localhost/{lang}/news/{announced}"  # the id it always had


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_dates_are_rfc3339_and_the_feed_is_as_new_as_its_latest_entry(app, client, announced, lang):
    root = ET.fromstring(client.get(f"/{lang}/ismet-2022/news/feed.atom").data)
    stamps = [e.text for e in root.iter() if e.tag in (f"{ATOM}updated", f"{ATOM}published")]
    assert stamps and all(RFC3339_UTC.match(stamp) for stamp in stamps)
    entries = root.findall(f"{ATOM}entry")
    latest = max(e.find(f"{ATOM}updated").text for e in entries)
    assert root.find(f"{ATOM}updated").text == latest
    with app.app_context():
        # an entry is never updated before it was published
        for entry in entries:
            assert entry.find(f"{ATOM}updated").text >= entry.find(f"{ATOM}published").text


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_feed_names_its_author_and_ids(app, client, announced, lang):
    app.config["PUBLIC_BASE_URL"] = "https://ismet.kz"
    feed = feedparser.parse(client.get(f"/{lang}/ismet-2022/news/feed.atom").data)
    assert feed.feed.author == app.config[f"ORGANIZER_NAME_{lang.upper()}"]
    # the first campaign's feed keeps the ids feed readers hold (the old addresses,
    # which redirect to the new ones); its links are the new addresses
    assert feed.feed.id == f"https://ismet.kz/{lang}/news/feed.atom"
    ids = [entry.id for entry in feed.entries]
    assert len(set(ids)) == len(ids) == 2
    assert all(i.startswith(f"https://ismet.kz/{lang}/news/") for i in ids)
    assert all(e.link.startswith(f"https://ismet.kz/{lang}/ismet-2022/news/") for e in feed.entries)
    assert feed.feed.link == f"https://ismet.kz/{lang}/ismet-2022/news"


def test_a_feed_without_entries_is_as_old_as_its_campaign(app, client, demo):
    with app.app_context():
        db.session.query(Announcement).delete()
        created = db.session.get(Campaign, demo).created_at
        db.session.commit()
    feed = feedparser.parse(client.get("/ru/ismet-2022/news/feed.atom").data)
    assert not feed.bozo and feed.entries == []
    assert feed.feed.updated == created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
