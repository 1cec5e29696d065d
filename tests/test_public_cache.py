"""The public pages' cache (portal/web/pagecache.py, docs/DESIGN.md "Public pages cache"):
pages rendered once per change, served with validators, per language, never a visitor's
own page, and out of date neither after a change made anywhere nor after midnight in
Almaty; the rules PDF made once and stored."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from flask import Flask, request_started
from flask.testing import FlaskClient

from portal.campaign import draws, periods, winners
from portal.models import Announcement, Campaign, db, utcnow
from portal.public import routes
from portal.services import storage
from tests.helpers import COMMISSION_TEXT, admin_actor, page_text, publish_v2

ROOT = Path(__file__).resolve().parent.parent


class Flasks:
    """How many requests Flask itself has started (its ``request_started`` signal)."""

    started = 0

    @classmethod
    def count(cls, sender, **extra) -> None:
        cls.started += 1


class CountingClient(FlaskClient):
    """A test client whose answers say whether they came from the cache: whether Flask
    started no request for them."""

    def open(self, *args, **kwargs):
        before = Flasks.started
        response = super().open(*args, **kwargs)
        response.from_cache = Flasks.started == before
        return response


@pytest.fixture
def hit(monkeypatch):
    """``hit(client.get(...))``: whether the answer came from the cache."""
    monkeypatch.setattr(Flask, "test_client_class", CountingClient)
    request_started.connect(Flasks.count)
    yield lambda response: response.from_cache
    request_started.disconnect(Flasks.count)


def cache_of(app):
    return app.extensions["portal.pagecache"]


def announce(app, campaign_id: int, title: str) -> None:
    with app.app_context():
        db.session.add(
            Announcement(
                campaign_id=campaign_id,
                title_kk=title,
                title_ru=title,
                body_kk="мәтін",
                body_ru="текст",
                published_at=utcnow(),
            )
        )
        db.session.commit()


def test_a_page_is_rendered_once_then_served_with_validators(hit, client, demo):
    first = client.get("/kk/ismet-2022/")
    again = client.get("/kk/ismet-2022/")
    assert not hit(first) and hit(again)
    assert again.data == first.data
    for name in ("ETag", "Last-Modified", "Cache-Control", "Content-Security-Policy"):
        assert again.headers[name] == first.headers[name]
    assert again.headers["X-Frame-Options"] == "DENY"
    assert again.headers["Cache-Control"] == "public, no-cache"
    # the request id is each request's own; the language cookie is set as Flask sets it,
    # to a visitor who has not got it yet (the test client keeps the first answer's)
    assert first.headers["X-Request-ID"] != again.headers["X-Request-ID"]
    assert first.headers["Set-Cookie"].startswith("lang=kk;")
    assert "Set-Cookie" not in again.headers
    newcomer = client.application.test_client().get("/kk/ismet-2022/")
    assert hit(newcomer) and newcomer.headers["Set-Cookie"].startswith("lang=kk;")


def test_conditional_requests_get_304(hit, client, demo):
    page = client.get("/ru/ismet-2022/rules")
    etag, modified = page.headers["ETag"], page.headers["Last-Modified"]
    same = client.get("/ru/ismet-2022/rules", headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.data == b""
    assert same.headers["ETag"] == etag
    assert (
        client.get("/ru/ismet-2022/rules", headers={"If-Modified-Since": modified}).status_code
        == 304
    )
    assert (
        client.get("/ru/ismet-2022/rules", headers={"If-None-Match": '"other"'}).status_code == 200
    )
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get("/ru/ismet-2022/rules", headers={"If-Modified-Since": old}).status_code == 200
    # a HEAD is answered from the same entry, without its body
    head = client.head("/ru/ismet-2022/rules")
    assert hit(head) and head.data == b"" and head.headers["ETag"] == etag


def test_kazakh_and_russian_are_distinct_entries(hit, app, client, demo):
    kk, ru = client.get("/kk/ismet-2022/winners"), client.get("/ru/ismet-2022/winners")
    assert kk.data != ru.data and kk.headers["ETag"] != ru.headers["ETag"]
    assert hit(client.get("/kk/ismet-2022/winners")) and hit(client.get("/ru/ismet-2022/winners"))
    assert client.get("/ru/ismet-2022/winners").data == ru.data
    assert len(cache_of(app).entries) == 2


def test_a_change_through_the_app_shows_on_the_next_request(hit, app, client, demo):
    assert "Жаңа хабарландыру" not in page_text(client.get("/kk/ismet-2022/"))
    assert hit(client.get("/kk/ismet-2022/"))
    announce(app, demo, "Жаңа хабарландыру")
    page = client.get("/kk/ismet-2022/")
    assert not hit(page)
    assert "Жаңа хабарландыру" in page_text(page)
    assert "Жаңа хабарландыру" in client.get("/kk/ismet-2022/news/feed.atom").get_data(as_text=True)


def test_a_rules_version_published_shows_on_the_next_request(app, client, demo):
    assert "не менее 3 чеков" not in page_text(client.get("/ru/ismet-2022/rules"))
    publish_v2(app, demo)
    assert "не менее 3 чеков" in page_text(client.get("/ru/ismet-2022/rules"))


def test_a_draw_made_by_a_command_then_its_winner_verified_show_on_the_next_request(
    hit, app, client, other_app, runner, september
):
    uncached = other_app(PUBLIC_CACHE=False).test_client()
    month = client.get("/ru/ismet-2022/winners/2022-09")
    assert hit(client.get("/ru/ismet-2022/winners/2022-09"))
    admin_actor()
    db.session.commit()
    # the pool's announcement shows at once: a new generation
    announced = runner.invoke(args=["draw", "announce", "--period", "2022-09", "--yes"])
    assert announced.exit_code == 0, announced.output
    shown = client.get("/ru/ismet-2022/winners/2022-09")
    assert not hit(shown) and shown.data != month.data
    digest = draws.open_announcement(september).pool_sha256
    assert (
        digest.encode() in shown.data
        and shown.data == uncached.get("/ru/ismet-2022/winners/2022-09").data
    )
    month = shown
    result = runner.invoke(
        args=[
            *("draw", "run", "--period", "2022-09", "--commission", COMMISSION_TEXT, "--yes"),
            *("--late-reason-kk", "сынақ", "--late-reason-ru", "тест"),
            *("--fallback-reason-kk", "сынақ", "--fallback-reason-ru", "тест"),
            *("--admin", "admin@ismet.kz"),
        ]
    )
    assert result.exit_code == 0, result.output
    drawn = client.get("/ru/ismet-2022/winners/2022-09")
    assert not hit(drawn) and drawn.data != month.data
    assert drawn.data == uncached.get("/ru/ismet-2022/winners/2022-09").data
    (winner,) = winners.winners_of_draw(draws.current_draw(september))
    winners.verify(winner, manual_ok=True, manual_note="register checked", now=utcnow())
    db.session.commit()
    verified = client.get("/ru/ismet-2022/winners/2022-09")
    assert not hit(verified) and verified.data != drawn.data
    assert verified.data == uncached.get("/ru/ismet-2022/winners/2022-09").data


def test_another_process_change_reaches_this_worker_within_its_interval(
    hit, other_app, database_url, demo, tmp_path
):
    watcher = other_app(PUBLIC_CACHE_CHECK_SECONDS=0.2)
    client = watcher.test_client()
    assert "From another process" not in page_text(client.get("/ru/ismet-2022/news"))
    assert hit(client.get("/ru/ismet-2022/news"))
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from tests.helpers import make_app\n"
        "from portal.models import Announcement, db, utcnow\n"
        "app = make_app(sys.argv[2], sys.argv[3])\n"
        "with app.app_context():\n"
        "    db.session.add(Announcement(campaign_id=int(sys.argv[4]), title_kk='x',"
        " title_ru='From another process', body_kk='x', body_ru='x', published_at=utcnow()))\n"
        "    db.session.commit()\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(ROOT), database_url, str(tmp_path / "w"), str(demo)],
        check=True,
        timeout=120,
    )
    time.sleep(0.3)  # the watcher's interval
    assert "From another process" in page_text(client.get("/ru/ismet-2022/news"))


def test_two_app_instances_see_each_others_changes(hit, app, client, other_app, demo):
    second = other_app(PUBLIC_CACHE_CHECK_SECONDS=0)
    other = second.test_client()
    for each in (client, other):
        each.get("/kk/ismet-2022/news")
        assert hit(each.get("/kk/ismet-2022/news"))
    announce(second, demo, "Екінші сервер")
    assert "Екінші сервер" in page_text(client.get("/kk/ismet-2022/news"))
    announce(app, demo, "Бірінші сервер")
    assert "Бірінші сервер" in page_text(other.get("/kk/ismet-2022/news"))


def test_a_staff_member_neither_gets_nor_fills_the_shared_entry(hit, app, client, auth, demo):
    auth.login("admin")
    assert not hit(client.get("/kk/ismet-2022/rules")) and not hit(
        client.get("/kk/ismet-2022/rules")
    )
    assert len(cache_of(app).entries) == 0
    visitor = app.test_client()
    visitor.get("/kk/ismet-2022/rules")
    assert hit(visitor.get("/kk/ismet-2022/rules"))
    assert not hit(
        client.get("/kk/ismet-2022/rules")
    )  # the staff member's session cookie: Flask answers


def test_a_flashed_message_is_shown_to_its_visitor_alone(hit, app, demo):
    visitor = app.test_client()
    with visitor.session_transaction() as session:
        session["_flashes"] = [("info", "Only for this visitor")]
    own = visitor.get("/ru/ismet-2022/")
    assert "Only for this visitor" in page_text(own) and not hit(own)
    assert len(cache_of(app).entries) == 0
    stranger = app.test_client()
    assert "Only for this visitor" not in page_text(stranger.get("/ru/ismet-2022/"))
    assert "Only for this visitor" not in page_text(stranger.get("/ru/ismet-2022/"))
    assert "Only for this visitor" not in page_text(visitor.get("/ru/ismet-2022/"))  # shown once


@pytest.mark.parametrize("path", ["/kk/ismet-2022/check", "/ru/subscribe"])
def test_pages_with_a_form_are_never_kept(hit, app, client, demo, path):
    first, again = client.get(path), client.get(path)
    assert first.status_code == 200 and not hit(again)
    assert 'name="csrf_token"' in again.get_data(as_text=True)
    assert len(cache_of(app).entries) == 0


def test_a_query_string_is_answered_by_flask(hit, app, client, demo):
    client.get("/kk/ismet-2022/news")
    assert not hit(client.get("/kk/ismet-2022/news?page=1"))
    assert hit(client.get("/kk/ismet-2022/news"))


def test_the_rules_pdf_is_made_once_stored_and_the_same_bytes(app, other_app, demo):
    uncached = other_app(PUBLIC_CACHE=False, UPLOAD_FOLDER=app.config["UPLOAD_FOLDER"])
    first = uncached.test_client().get("/kk/ismet-2022/rules/v1.pdf")
    second = uncached.test_client().get("/kk/ismet-2022/rules/v1.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.data == second.data
    with uncached.app_context():
        keys = list(storage.current().keys("rules/"))
        assert len(keys) == 1 and keys[0].startswith(f"rules/{demo}/v1-kk-")
        assert storage.current().read(keys[0]) == first.data
    # the other language is another file; the cached app serves the stored bytes
    assert app.test_client().get("/kk/ismet-2022/rules/v1.pdf").data == first.data
    russian = app.test_client().get("/ru/ismet-2022/rules/v1.pdf")
    assert russian.data != first.data
    with app.app_context():
        assert len(list(storage.current().keys("rules/"))) == 2
    etag = first.headers["ETag"]
    assert (
        uncached.test_client()
        .get("/kk/ismet-2022/rules/v1.pdf", headers={"If-None-Match": etag})
        .status_code
        == 304
    )


def test_a_months_status_flips_at_midnight_in_almaty(hit, app, other_app, demo, monkeypatch):
    today = {"day": date(2022, 10, 20)}  # September's draw is due today

    def local_today(now=None):
        return today["day"]

    for module in (periods, routes, winners):
        monkeypatch.setattr(module, "local_today", local_today)
    uncached = other_app(PUBLIC_CACHE=False).test_client()
    client = app.test_client()
    due = client.get("/ru/ismet-2022/winners/2022-09")
    assert hit(client.get("/ru/ismet-2022/winners/2022-09"))
    assert due.data == uncached.get("/ru/ismet-2022/winners/2022-09").data
    today["day"] = date(2022, 10, 21)  # the next day: overdue
    overdue = client.get("/ru/ismet-2022/winners/2022-09")
    assert not hit(overdue)
    assert overdue.data != due.data
    assert overdue.data == uncached.get("/ru/ismet-2022/winners/2022-09").data
    assert overdue.headers["ETag"] != due.headers["ETag"]


def test_a_change_rolled_back_keeps_the_cache(hit, app, client, demo):
    client.get("/kk/ismet-2022/")
    with app.app_context():
        db.session.get(Campaign, demo).title_kk = "Болмаған атау"
        db.session.flush()
        db.session.rollback()
    assert hit(client.get("/kk/ismet-2022/"))


def test_pages_are_kept_when_the_generation_is_read_on_every_request(hit, other_app, demo):
    client = other_app(PUBLIC_CACHE_CHECK_SECONDS=0).test_client()
    client.get("/kk/ismet-2022/")  # the generation read, then read again (unchanged) for each page
    for path in ("/ru/", "/kk/ismet-2022/news", "/ru/ismet-2022/rules"):
        client.get(path)
        assert hit(client.get(path)), path


def test_behind_a_trusted_proxy_each_host_and_scheme_has_its_own_entry(hit, other_app, demo):
    client = other_app(TRUSTED_PROXY_COUNT=1, PUBLIC_BASE_URL=None).test_client()
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "ismet.kz"}
    secure = client.get("/kk/ismet-2022/", headers=https)
    assert "Strict-Transport-Security" in secure.headers
    assert hit(client.get("/kk/ismet-2022/", headers=https))
    plain = client.get("/kk/ismet-2022/", headers={"X-Forwarded-Host": "ismet.kz"})
    assert not hit(plain) and "Strict-Transport-Security" not in plain.headers
    other_host = client.get(
        "/kk/ismet-2022/", headers={**https, "X-Forwarded-Host": "www.ismet.kz"}
    )
    assert not hit(other_host)
    assert hit(client.get("/kk/ismet-2022/", headers=https))


def test_the_campaigns_list_and_a_campaigns_pages_follow_its_status(hit, app, client, demo):
    """Publishing or withdrawing a campaign is a change like any other: the cached list
    and the campaign's pages follow at once; the old addresses' redirects are never kept."""
    listing = client.get("/kk/")
    assert hit(client.get("/kk/")) and 'href="/kk/ismet-2022/"' in page_text(listing)
    assert not hit(client.get("/kk/rules")) and not hit(client.get("/kk/rules"))
    client.get("/kk/ismet-2022/")
    assert hit(client.get("/kk/ismet-2022/"))
    with app.app_context():
        db.session.get(Campaign, demo).status = Campaign.DRAFT
        db.session.commit()
    assert 'href="/kk/ismet-2022/"' not in page_text(client.get("/kk/"))
    assert client.get("/kk/ismet-2022/").status_code == 404
    with app.app_context():
        db.session.get(Campaign, demo).status = Campaign.PUBLISHED
        db.session.commit()
    assert 'href="/kk/ismet-2022/"' in page_text(client.get("/kk/"))
    assert client.get("/kk/ismet-2022/").status_code == 200
