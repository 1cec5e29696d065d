"""Every public page, in Kazakh and in Russian."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest

from portal.campaign import conditions
from portal.campaign.audit import Actor
from portal.models import Campaign, RulesVersion, db
from portal.wording.formats import (
    format_day,
    format_moment,
    format_money,
    format_month,
    format_span,
)
from tests.helpers import page_text, publish_v2, translated

PAGES = [
    "/{lang}/",
    "/{lang}/ismet-2022/rules",
    "/{lang}/ismet-2022/rules/v1",
    "/{lang}/ismet-2022/rules/history",
    "/{lang}/ismet-2022/rules/diff",
    "/{lang}/ismet-2022/rules/diff?from=1&to=1",
    "/{lang}/ismet-2022/winners",
    "/{lang}/ismet-2022/winners/2022-09",
    "/{lang}/ismet-2022/winners/2022-11",
    "/{lang}/ismet-2022/news",
    "/{lang}/ismet-2022/news/1",
]
OTHER = {"kk": "ru", "ru": "kk"}


@pytest.mark.parametrize("lang", ["kk", "ru"])
@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_in_its_language_and_links_its_twin(client, demo, lang, path):
    url = path.format(lang=lang)
    response = client.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    other = OTHER[lang]
    twin = url.replace(f"/{lang}/", f"/{other}/", 1).replace("&", "&amp;")
    assert f'hreflang="{other}" lang="{other}"' in html
    assert f'href="{twin}"' in html
    assert f'<link rel="alternate" hreflang="{other}" href="http://localhost{twin}">' in html
    assert 'hreflang="x-default"' in html
    assert translated(lang, "Rules") in html


def test_language_switch_keeps_the_query(client, demo):
    html = client.get("/kk/ismet-2022/rules/diff?from=1&to=1").get_data(as_text=True)
    assert re.search(r'href="/ru/ismet-2022/rules/diff\?(from=1&amp;to=1|to=1&amp;from=1)"', html)


@pytest.mark.parametrize(
    ("headers", "cookie", "expected"),
    [
        ({}, None, "/kk/"),
        ({"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}, None, "/ru/"),
        ({"Accept-Language": "en-US,en;q=0.9"}, None, "/kk/"),
        ({"Accept-Language": "ru"}, "kk", "/kk/"),
        ({}, "ru", "/ru/"),
        ({}, "xx", "/kk/"),
    ],
)
def test_root_chooses_by_cookie_then_accept_language_then_kazakh(
    client, demo, headers, cookie, expected
):
    if cookie:
        client.set_cookie("lang", cookie)
    response = client.get("/", headers=headers)
    assert response.status_code == 302
    assert response.headers["Location"] == expected
    assert "Accept-Language" in response.headers["Vary"]


def test_visiting_a_language_remembers_it(client, demo):
    client.get("/ru/ismet-2022/rules")
    assert client.get_cookie("lang").value == "ru"
    assert client.get("/").headers["Location"] == "/ru/"


def test_unknown_language_is_not_found(client, demo):
    assert client.get("/en/rules").status_code == 404


def test_rules_in_kazakh_show_clause_5_with_its_anchor(client, demo):
    text = page_text(client.get("/kk/ismet-2022/rules"))
    assert 'id="clause-5"' in text and 'href="#clause-5"' in text
    assert (
        "Chocomart сертификаттарының ұтысы ай сайын келесі айдың 20-нан кешіктірілмей өткізіледі"
        in text
    )
    assert 'id="clause-4-2"' in text
    assert "Анықтамалық ақпарат" in text


def test_rules_in_russian(client, demo):
    text = page_text(client.get("/ru/ismet-2022/rules"))
    assert "Розыгрыш сертификатов Chocomart проводится ежемесячно" in text
    assert translated("ru", "Download PDF") in text


def test_unpublished_or_unknown_versions_are_not_found(app, client, demo):
    with app.app_context():
        db.session.add(
            RulesVersion(
                campaign_id=demo,
                number=2,
                body_kk="1. x",
                body_ru="1. x",
                effective_on=date(2022, 10, 1),
            )
        )
        db.session.commit()
    assert client.get("/kk/ismet-2022/rules/v2").status_code == 404
    assert client.get("/kk/ismet-2022/rules/v9").status_code == 404
    assert client.get("/kk/ismet-2022/rules/v2.pdf").status_code == 404
    assert client.get("/kk/ismet-2022/rules/diff?from=1&to=2").status_code == 404
    assert client.get("/kk/ismet-2022/rules/diff?from=x&to=1").status_code == 404


def test_diff_page_shows_changed_and_added_clauses(app, client, demo):
    publish_v2(app, demo)
    text = page_text(client.get("/ru/ismet-2022/rules/diff?from=1&to=2"))
    assert "<del>5</del><ins>3</ins>" in text
    assert translated("ru", "Clause %(number)s changed", number="4.2") in text
    assert translated("ru", "Clause %(number)s added", number="19") in text
    assert "<ins>Новый пункт о порядке публикации.</ins>" in text
    assert "Минимальное число чеков снижено до 3." in text
    assert (
        translated("ru", "Clauses %(first)s to %(last)s unchanged", first="1", last="4.1") in text
    )
    # by default the newest version is compared with the one before it
    assert page_text(client.get("/kk/ismet-2022/rules/diff")).count("<del>5</del>") == 1


def test_history_lists_every_version_and_the_one_in_force(app, client, demo):
    publish_v2(app, demo)
    text = page_text(client.get("/kk/ismet-2022/rules/history"))
    assert text.index("/kk/ismet-2022/rules/v2") < text.index("/kk/ismet-2022/rules/v1")
    assert "Чектер саны 3-ке дейін азайтылды." in text
    assert "/kk/ismet-2022/rules/diff?to=2" in text


def test_old_version_says_it_is_not_in_force(app, client, demo):
    publish_v2(app, demo)
    assert translated("kk", "This is not the version in force.") in page_text(
        client.get("/kk/ismet-2022/rules/v1")
    )
    assert translated("kk", "This is not the version in force.") not in page_text(
        client.get("/kk/ismet-2022/rules/v2")
    )


def test_landing_page_shows_period_prize_and_how_to_take_part(client, demo):
    text = page_text(client.get("/kk/ismet-2022/"))
    assert "2022 жылғы 1 қыркүйек – 30 қараша" in text  # as official Kazakh writes it
    assert "200 000 ₸" in text
    assert 'href="/kk/ismet-2022/rules#clause-4-2"' in text
    text = page_text(client.get("/ru/ismet-2022/"))
    assert "1 сентября – 30 ноября 2022 г." in text
    assert "Вся территория Республики Казахстан" in text


def test_empty_month_says_when_its_draw_is_due(client, demo):
    text = page_text(client.get("/ru/ismet-2022/winners/2022-10"))
    assert "20 ноября 2022 г." in text
    text = page_text(client.get("/kk/ismet-2022/winners"))
    for deadline in ("2022 жылғы 20 қазан", "2022 жылғы 20 қараша", "2022 жылғы 20 желтоқсан"):
        assert deadline in text
    assert client.get("/kk/ismet-2022/winners/2022-12").status_code == 404
    assert client.get("/kk/ismet-2022/winners/september").status_code == 404


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_news_feed_is_atom_in_the_language(client, demo, lang):
    response = client.get(f"/{lang}/ismet-2022/news/feed.atom")
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == lang
    entries = root.findall("a:entry", ns)
    assert len(entries) == 1
    assert entries[0].find("a:id", ns).text == f"http://localhost/{lang}/news/1"  # as before
    title = entries[0].find("a:title", ns).text
    assert title == (
        "«Ismet.kz мобильді қосымша» акциясы басталды"
        if lang == "kk"
        else "Стартовала акция «Мобильное приложение Ismet.kz»"
    )


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\n"


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_not_found_page_is_in_the_visitors_language(client, demo, lang):
    response = client.get(f"/{lang}/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert translated(lang, "Page not found") in html
    assert translated(lang, "Page not found") != "Page not found"


def test_server_error_page_is_in_the_visitors_language(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def boom():
        raise RuntimeError("deliberate")

    app.add_url_rule("/ru/boom", "boom", boom)
    response = app.test_client().get("/ru/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert '<html lang="ru">' in html
    assert translated("ru", "Something went wrong on our side") in html


def test_no_campaign_yet_is_not_found_not_a_crash(client):
    page = client.get("/kk/")
    assert page.status_code == 200
    assert translated("kk", "No campaign is published yet.") in page.get_data(as_text=True)
    assert client.get("/kk/ismet-2022/").status_code == 404
    assert client.get("/kk/ismet-2022/rules").status_code == 404
    assert client.get("/kk/rules").status_code == 404  # no first campaign to redirect to


def test_pages_carry_security_headers_and_versioned_static_urls(client, demo):
    response = client.get("/kk/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = response.get_data(as_text=True)
    assert re.search(r'href="/static/css/portal\.css\?v=[0-9a-f]{12}"', html)
    external = re.findall(r'(?:src|href)="((?:https?:)?//[^"]*)"', html)
    assert all(url.startswith("http://localhost/") for url in external), external


def test_static_files_are_served_from_the_portal(client):
    for path in ("css/portal.css", "fonts/NotoSans-Regular.woff2", "img/logo.svg"):
        with client.get(f"/static/{path}") as response:
            assert response.status_code == 200
            assert response.headers["Cache-Control"] == "public, max-age=31536000"


def test_formats_per_locale(ctx):
    assert format_money(200_000, "kk").replace("\u00a0", " ") == "200 000 ₸"
    assert format_money(200_000, "ru").replace("\u00a0", " ") == "200 000 ₸"
    assert format_day(date(2022, 10, 20), "kk") == "2022 жылғы 20 қазан"
    assert format_day(date(2022, 10, 20), "ru") == "20 октября 2022 г."
    assert format_month(2022, 9, "kk") == "2022 жылғы қыркүйек"
    assert format_month(2022, 9, "kk", in_text=True) == "2022 жылғы қыркүйек"
    assert format_month(2022, 9, "ru") == "Сентябрь 2022 г."  # on its own: a heading, a cell
    assert format_month(2022, 9, "ru", in_text=True) == "сентябрь 2022 г."  # within a sentence
    assert (
        format_span(date(2022, 9, 1), date(2022, 11, 30), "kk")
        == "2022 жылғы 1 қыркүйек – 30 қараша"
    )
    assert (
        format_span(date(2022, 9, 1), date(2022, 11, 30), "ru") == "1 сентября – 30 ноября 2022 г."
    )
    assert format_span(date(2022, 12, 1), date(2023, 1, 31), "ru") == (
        "1 декабря 2022 г. – 31 января 2023 г."
    )
    moment = datetime(2022, 10, 20, 5, 0, tzinfo=UTC)  # 11:00 in Almaty
    assert format_moment(moment, "kk") == "2022 жылғы 20 қазан, 11:00"
    assert format_moment(moment, "ru") == "20 октября 2022 г., 11:00"


def test_how_to_take_part_follows_the_campaigns_threshold(app, client, demo):
    assert "не менее 5 чеков" in page_text(client.get("/ru/ismet-2022/"))
    with app.app_context():  # a new rules version's threshold: the condition's parameter
        campaign = db.session.get(Campaign, demo)
        conditions.change_parameters(campaign, {"receipts": {"min": 3}}, actor=Actor(label="t"))
        db.session.commit()
    assert "не менее 3 чеков" in page_text(client.get("/ru/ismet-2022/"))
