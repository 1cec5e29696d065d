"""Absolute URLs (``portal.web.urls``): PUBLIC_BASE_URL first, then the request's host,
else DEFAULT_BASE_URL (the path alone only when that is emptied too); and the campaign's
links built from them."""

from __future__ import annotations

import pytest

from portal.campaign.links import Links
from portal.web.urls import SiteLinks, absolute_url


def test_outside_a_request_without_a_base_the_default_base(app, caplog):
    assert app.config["DEFAULT_BASE_URL"] == "https://ismet.kz"
    with app.app_context():
        assert absolute_url("public.draw", lang="kk", draw_id=7) == "https://ismet.kz/kk/draws/7"
        assert (
            absolute_url("admin.winner", slug="ismet-2022", winner_id=3)
            == "https://ismet.kz/admin/ismet-2022/winners/3"
        )
    app.config["DEFAULT_BASE_URL"] = "https://promo.example.kz/x"
    with app.app_context():
        assert absolute_url("site.root") == "https://promo.example.kz/x/"
    assert "PUBLIC_BASE_URL is not set" in caplog.text  # the fallback says so


def test_without_any_base_outside_a_request_the_path_alone(app):
    app.config["DEFAULT_BASE_URL"] = None
    with app.app_context():
        assert absolute_url("public.draw", lang="kk", draw_id=7) == "/kk/draws/7"
        assert (
            absolute_url("admin.winner", slug="ismet-2022", winner_id=3)
            == "/admin/ismet-2022/winners/3"
        )
        assert absolute_url("site.root") == "/"


def test_in_a_request_without_a_base_the_request_host(app):
    with app.test_request_context("/ru/", base_url="http://portal.test:8080"):
        assert absolute_url("public.draw", lang="kk", draw_id=7) == (
            "http://portal.test:8080/kk/draws/7"
        )
        assert absolute_url("site.root") == "http://portal.test:8080/"


def test_outside_a_request_server_name_gives_the_host(app):
    app.config.update(SERVER_NAME="portal.test", PREFERRED_URL_SCHEME="https")
    with app.app_context():
        assert (
            absolute_url("admin.draws", slug="ismet-2022")
            == "https://portal.test/admin/ismet-2022/draws"
        )


@pytest.mark.parametrize("base", ["https://ismet.kz", "https://ismet.kz/"])
def test_the_public_base_url_outside_and_inside_a_request(app, base):
    app.config["PUBLIC_BASE_URL"] = base
    with app.app_context():
        assert absolute_url("public.draw", lang="ru", draw_id=7) == "https://ismet.kz/ru/draws/7"
        assert absolute_url("site.root") == "https://ismet.kz/"
    # a request on another host (a proxy's, a test client's) does not change it
    with app.test_request_context("/kk/", base_url="http://10.0.0.5:8000"):
        assert (
            absolute_url("admin.winner", slug="ismet-2022", winner_id=3)
            == "https://ismet.kz/admin/ismet-2022/winners/3"
        )
        assert (
            absolute_url("public.news", lang="kk", slug="ismet-2022")
            == "https://ismet.kz/kk/ismet-2022/news"
        )


def test_a_public_base_url_with_a_path_prefix(app):
    app.config["PUBLIC_BASE_URL"] = "http://example.kz:8443/promo/"
    with app.app_context():
        assert absolute_url("public.draw", lang="kk", draw_id=7) == (
            "http://example.kz:8443/promo/kk/draws/7"
        )
        assert absolute_url("site.root") == "http://example.kz:8443/promo/"
    with app.test_request_context("/ru/"):
        assert (
            absolute_url("admin.draws", slug="ismet-2022")
            == "http://example.kz:8443/promo/admin/ismet-2022/draws"
        )


def test_a_public_base_url_must_be_absolute(app):
    app.config["PUBLIC_BASE_URL"] = "ismet.kz"
    with app.app_context(), pytest.raises(ValueError, match="PUBLIC_BASE_URL"):
        absolute_url("site.root")


def test_the_site_links_are_the_campaigns(app):
    links: Links = SiteLinks()
    with app.app_context():
        assert links.draw_record(5, "ru") == "https://ismet.kz/ru/draws/5"
        assert links.winner_admin("ismet-2022", 9) == "https://ismet.kz/admin/ismet-2022/winners/9"
        assert links.draws_admin("ismet-2022") == "https://ismet.kz/admin/ismet-2022/draws"
    app.config["PUBLIC_BASE_URL"] = "https://ismet.kz/promo"
    with app.app_context():
        assert links.draw_record(5, "kk") == "https://ismet.kz/promo/kk/draws/5"
        assert links.winner_admin("ismet-2022", 9) == (
            "https://ismet.kz/promo/admin/ismet-2022/winners/9"
        )
        assert links.draws_admin("ismet-2022") == "https://ismet.kz/promo/admin/ismet-2022/draws"


def test_pages_name_their_other_languages_at_the_public_base_url(app, client, demo):
    app.config["PUBLIC_BASE_URL"] = "https://ismet.kz"
    page = client.get("/kk/ismet-2022/news").get_data(as_text=True)
    assert '<link rel="alternate" hreflang="ru" href="https://ismet.kz/ru/ismet-2022/news">' in page
    assert '<link rel="alternate" hreflang="x-default" href="https://ismet.kz/">' in page
    feed = client.get("/ru/ismet-2022/news/feed.atom").get_data(as_text=True)
    assert "<id>https://ismet.kz/ru/news/feed.atom</id>" in feed  # the page's language kept
