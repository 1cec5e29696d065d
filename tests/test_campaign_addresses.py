"""Campaigns side by side on the public site (docs/DESIGN.md, "URL map"): each published
campaign under ``/<lang>/<slug>/``, the list at ``/<lang>/``, a draft nowhere, and every
address the first campaign had before, a permanent redirect to the same page."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.campaign import winners
from portal.campaign.audit import Actor
from portal.campaign.periods import ensure_periods, local_today
from portal.models import Announcement, Campaign, Prize, RulesVersion, db
from portal.models.base import utcnow
from tests.helpers import (
    csrf_from,
    page_text,
    published,
    submit_check,
    translated,
    translated_plural,
)

FIRST = "ismet-2022"


def picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def old_addresses(lang: str, winner_id: int, announcement_id: int) -> list[tuple[str, str]]:
    """Every address of the first campaign before campaigns had their own, and where it
    is now."""
    moved = [
        "rules",
        "rules/v1",
        "rules/v1.pdf",
        "rules/history",
        "rules/diff?from=1&to=1",
        "winners",
        "winners/2022-09",
        f"winners/2022-09/photo/{winner_id}",
        "draws",
        "draws/ledger.json",
        "news",
        f"news/{announcement_id}",
        "news/feed.atom",
        "check",
    ]
    return [(f"/{lang}/{path}", f"/{lang}/{FIRST}/{path}") for path in moved]


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_old_address_of_the_first_campaign_redirects_for_good(client, drawn, lang):
    winner = published(drawn)
    winners.add_photo(winner, picture(), actor=Actor(label="staff"))
    db.session.commit()
    draw_id = winner.draw_id
    announcement_id = db.session.scalar(
        sa.select(Announcement.id).where(Announcement.published_at.is_not(None)).limit(1)
    )
    for old, new in old_addresses(lang, winner.id, announcement_id):
        answer = client.get(old)
        expected = 308 if old.endswith("/check") else 301
        assert (answer.status_code, answer.location) == (expected, new), old
        assert client.get(new).status_code == 200, new
    # a form posted to the old self-check is posted again to the new one
    token = csrf_from(client.get(f"/{lang}/{FIRST}/check").get_data(as_text=True))
    posted = client.post(f"/{lang}/check?a=1", data={"account_number": "x", "csrf_token": token})
    assert (posted.status_code, posted.location) == (308, f"/{lang}/{FIRST}/check?a=1")
    # the draw records stay where their protocols say they are, and their files with them
    for path in (f"draws/{draw_id}", f"draws/{draw_id}/record.json", f"draws/{draw_id}/pool.csv"):
        assert client.get(f"/{lang}/{path}").status_code == 200, path
    record = page_text(client.get(f"/{lang}/draws/{draw_id}"))
    assert f'href="/{lang}/{FIRST}/winners/2022-09"' in record  # its campaign's month


def add_campaign(slug: str, starts_in: int, status: str = Campaign.PUBLISHED) -> Campaign:
    """A second campaign, ``starts_in`` days from today, with a prize, rules v1 and a notice."""
    starts_on = local_today() + timedelta(days=starts_in)
    campaign = Campaign(
        slug=slug,
        title_kk="Ismet.kz 2023 акциясы",
        title_ru="Акция Ismet.kz 2023",
        organizer_kk="«Қазақтелеком» АҚ",
        organizer_ru="АО «Казахтелеком»",
        territory_kk="Қазақстан Республикасы",
        territory_ru="Республика Казахстан",
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=80),
        status=status,
    )
    campaign.prizes.append(
        Prize(supplier="Chocomart", name_kk="Смартфон", name_ru="Смартфон", nominal_kzt=300_000)
    )
    db.session.add(campaign)
    ensure_periods(campaign)
    db.session.add(
        RulesVersion(
            campaign=campaign,
            number=1,
            body_kk="## 1. Жалпы ережелер\n\nЕкінші акцияның ережесі.",
            body_ru="## 1. Общие положения\n\nПравила второй акции.",
            effective_on=starts_on,
            published=True,
            published_at=utcnow(),
        )
    )
    db.session.add(
        Announcement(
            campaign=campaign,
            title_kk="Екінші акция туралы хабарландыру",
            title_ru="Объявление второй акции",
            body_kk="Мәтін.",
            body_ru="Текст.",
            published_at=utcnow(),
        )
    )
    db.session.commit()
    return campaign


def test_a_second_campaign_shows_its_own_pages_and_the_first_goes_to_the_archive(client, ctx, demo):
    second = add_campaign("ismet-2023", starts_in=-10)
    news_2023 = db.session.scalar(sa.select(Announcement.id).filter_by(campaign_id=second.id))
    news_2022 = db.session.scalar(sa.select(Announcement.id).filter_by(campaign_id=demo))

    listing = page_text(client.get("/ru/"))
    running = listing.index('id="running-heading"')
    archive = listing.index('id="archive-heading"')
    assert running < listing.index('href="/ru/ismet-2023/"') < archive
    assert archive < listing.index(f'href="/ru/{FIRST}/"')
    assert "Акция Ismet.kz 2023" in listing and "300 000" in listing

    home = page_text(client.get("/ru/ismet-2023/"))
    assert "Акция Ismet.kz 2023" in home and "Объявление второй акции" in home
    assert 'href="/ru/ismet-2023/rules"' in home  # the menu is the campaign's
    assert 'class="campaign-ended"' not in home
    assert 'class="campaign-ended"' in page_text(client.get(f"/ru/{FIRST}/"))

    news = page_text(client.get("/ru/ismet-2023/news"))
    assert "Объявление второй акции" in news
    assert "Стартовала акция" not in news
    assert "Объявление второй акции" not in page_text(client.get(f"/ru/{FIRST}/news"))
    assert client.get(f"/ru/ismet-2023/news/{news_2022}").status_code == 404
    assert client.get(f"/ru/{FIRST}/news/{news_2023}").status_code == 404
    feed = client.get("/ru/ismet-2023/news/feed.atom").get_data(as_text=True)
    assert f"/ru/ismet-2023/news/{news_2023}</id>" in feed and "Стартовала" not in feed

    assert "Правила второй акции" in page_text(client.get("/ru/ismet-2023/rules"))
    assert "Правила второй акции" not in page_text(client.get(f"/ru/{FIRST}/rules"))
    assert client.get("/ru/ismet-2023/rules/v1.pdf").status_code == 200

    period = second.periods[0].key
    assert period in page_text(client.get("/ru/ismet-2023/winners"))
    assert client.get(f"/ru/ismet-2023/winners/{period}").status_code == 200
    assert client.get("/ru/ismet-2023/winners/2022-09").status_code == 404
    assert client.get("/ru/ismet-2023/draws").status_code == 200
    assert client.get("/ru/ismet-2023/draws/ledger.json").status_code == 200

    # the old addresses stay the first campaign's, whichever campaign runs now
    assert client.get("/ru/news").location == f"/ru/{FIRST}/news"
    # without its last slash, a campaign's address goes to its home page
    assert client.get("/ru/ismet-2023").location == "/ru/ismet-2023/"


def test_the_self_check_looks_in_the_campaign_of_its_address(client, drawn):
    add_campaign("ismet-2023", starts_in=-10)
    participant = drawn.participant
    found = submit_check(client, "ru", participant.account_number, participant.bin_iin)
    assert found.status_code == 200
    assert participant.account_number in page_text(found)
    elsewhere = submit_check(
        client, "ru", participant.account_number, participant.bin_iin, slug="ismet-2023"
    )
    assert elsewhere.status_code == 200
    assert translated(
        "ru",
        "We found no participant with this account number and this BIN/IIN. Check both and try again.",
    ) in page_text(elsewhere)


def test_an_upcoming_campaign_is_listed_before_the_archive(client, ctx, demo):
    add_campaign("ismet-2027", starts_in=30)
    listing = page_text(client.get("/kk/"))
    assert "running-heading" not in listing
    upcoming = listing.index('id="upcoming-heading"')
    assert upcoming < listing.index('href="/kk/ismet-2027/"') < listing.index("archive-heading")
    assert translated_plural("kk", "Upcoming campaign", "Upcoming campaigns", 1) in listing
    assert client.get("/kk/ismet-2027/").status_code == 200


def test_a_draft_campaign_is_nowhere_on_the_public_site(client, ctx, demo):
    draft = add_campaign("ismet-draft", starts_in=-10, status=Campaign.DRAFT)
    news_id = db.session.scalar(sa.select(Announcement.id).filter_by(campaign_id=draft.id))
    for path in ("", "rules", "rules/v1", "winners", "draws", "news", f"news/{news_id}", "check"):
        assert client.get(f"/kk/ismet-draft/{path}").status_code == 404, path
    assert "ismet-draft" not in page_text(client.get("/kk/"))


@pytest.mark.parametrize(
    "path", ["/kk/no-such-campaign/", "/ru/no-such-campaign/rules", "/kk/no-such-campaign"]
)
def test_a_campaign_that_does_not_exist_is_not_found(client, demo, path):
    assert client.get(path).status_code == 404
