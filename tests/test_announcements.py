"""The pool is announced before it is drawn (issue 18, part 2).

The commission's first step publishes the pool's size and SHA-256 with the time (the
month's pages, the news and the feed); the draw is refused without it, before its
waiting time, or over another pool; an attempt that received a signed random.org answer
spends it, so that no two signed answers ever follow one announcement.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from portal.campaign import draws, eligibility, winners
from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.models import (
    Activity,
    Announcement,
    AuditEntry,
    Campaign,
    Draw,
    DrawAttempt,
    PoolAnnouncement,
    ReportingPeriod,
    db,
    utcnow,
)
from portal.services.randomorg import RandomOrgError
from portal.wording.formats import format_month
from tests.helpers import (
    AFTER_SEPTEMBER,
    COMMISSION_TEXT,
    PLACE,
    TODAY,
    announce,
    announce_in_admin,
    at,
    conduct,
    count,
    csrf_from,
    csv_bytes,
    page_text,
    prepare,
    redraw,
    row,
    translated,
    translated_plural,
)

LANGS = ("kk", "ru")


def utc_text(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- announce, then draw ---------------------------------------------------------------


def test_the_pool_announced_is_the_pool_drawn_and_both_times_are_kept(
    app, client, september, standin
):
    pool = prepare(september)
    announcement = announce(pool, AFTER_SEPTEMBER)
    assert announcement.state == PoolAnnouncement.ANNOUNCED
    assert (
        (announcement.pool_size, announcement.pool_sha256)
        == (pool.size, pool.sha256)
        == (
            10,
            pool.sha256,
        )
    )
    assert announcement.announced_at == AFTER_SEPTEMBER - timedelta(minutes=1)
    assert announcement.not_before == announcement.announced_at  # no wait in the tests
    # the confirmation takes the pool back from the announcement's nonce: the same bytes
    again = draws.announced_pool(september, secret=app.config["SECRET_KEY"])
    assert again.content == pool.content and again.nonce == pool.nonce
    draw = conduct(september, pool=again)
    db.session.expire_all()
    announcement = db.session.get(PoolAnnouncement, announcement.id)
    assert (announcement.state, announcement.draw_id) == (PoolAnnouncement.DRAWN, draw.id)
    assert draw.announced_at == announcement.announced_at < draw.conducted_at
    assert draws.verified(draws.verify(draw))
    record = json.loads(client.get(f"/ru/draws/{draw.id}/record.json").data)
    assert record["pool"] == {
        "size": 10,
        "sha256": pool.sha256,
        "file": "pool.csv",
        "announced_at": utc_text(announcement.announced_at),
    }
    entry = db.session.scalar(sa.select(AuditEntry).filter_by(action="draw.announce"))
    assert entry is not None and entry.object_id == str(announcement.id)
    assert json.loads(entry.details)["pool_sha256"] == pool.sha256


def test_no_draw_without_an_announcement(september, standin):
    with pytest.raises(draws.DrawRefused) as refused:
        conduct(september, announce=False)
    assert refused.value.code == "not-announced"
    assert count(Draw) == 0 and count(DrawAttempt) == 0


def test_no_draw_before_the_waiting_time_then_drawn(september, standin):
    pool = prepare(september)
    announced_at = AFTER_SEPTEMBER
    draws.announce(pool, actor_label="test", wait=timedelta(minutes=60), now=announced_at)
    with pytest.raises(draws.DrawRefused) as refused:
        conduct(september, pool=pool, announce=False, now=announced_at + timedelta(minutes=59))
    assert refused.value.code == "announcement-wait"
    assert refused.value.details["until"] == announced_at + timedelta(minutes=60)
    assert count(Draw) == 0 and count(DrawAttempt) == 0
    draw = conduct(september, pool=pool, announce=False, now=announced_at + timedelta(minutes=60))
    assert draw.announced_at == announced_at


def test_no_draw_over_another_pool_than_the_one_announced(app, september, standin):
    announcement = announce(prepare(september), AFTER_SEPTEMBER)
    # the month's data change after the announcement: a participant is no longer eligible
    first = db.session.scalar(
        sa.select(Activity).filter_by(period_id=september.id, eligible=True).order_by(Activity.id)
    )
    first.eligible = False
    db.session.commit()
    pool = draws.announced_pool(september, secret=app.config["SECRET_KEY"])
    assert pool.nonce == announcement.nonce and pool.sha256 != announcement.pool_sha256
    with pytest.raises(draws.DrawRefused) as refused:
        conduct(september, pool=pool, announce=False)
    assert refused.value.code == "not-the-announced-pool"
    assert count(Draw) == 0
    # a new pool announced in its stead (the first withdrawn) is drawn
    draw = conduct(september)
    db.session.expire_all()
    assert db.session.get(PoolAnnouncement, announcement.id).state == PoolAnnouncement.WITHDRAWN
    assert draw.pool_size == 9


def test_announcing_the_same_pool_twice_is_refused_and_nothing_changes(september):
    pool = prepare(september)
    announce(pool, AFTER_SEPTEMBER)
    with pytest.raises(draws.DrawRefused) as refused:
        draws.announce(pool, actor_label="test", now=AFTER_SEPTEMBER)
    assert refused.value.code == "already-announced"
    assert count(PoolAnnouncement) == 1


def test_a_pool_is_not_announced_before_the_month_ends(september):
    with pytest.raises(draws.DrawRefused) as refused:
        draws.announce(prepare(september), actor_label="test", now=at(9, 30))
    assert refused.value.code == "month-not-ended"
    assert count(PoolAnnouncement) == 0


# --- spent by an answered attempt -----------------------------------------------------


@pytest.mark.parametrize("failure", ["bad-signature", "wrong-data"])
def test_an_answered_failed_attempt_spends_the_announcement(september, standin, failure):
    """random.org answered (signed) and the attempt failed: announce again, a new time."""
    announcement = announce(prepare(september), AFTER_SEPTEMBER)
    standin.fail_next(failure)
    with pytest.raises(RandomOrgError):
        conduct(september, announce=False)
    db.session.expire_all()
    spent = db.session.get(PoolAnnouncement, announcement.id)
    (attempt,) = db.session.scalars(sa.select(DrawAttempt)).all()
    assert (spent.state, spent.attempt_id) == (PoolAnnouncement.SPENT, attempt.id)
    with pytest.raises(draws.DrawRefused) as refused:
        conduct(september, announce=False)
    assert refused.value.code == "announcement-spent"
    # announced again, at a new time: drawn
    draw = conduct(september, now=AFTER_SEPTEMBER + timedelta(minutes=5))
    assert draw.announced_at > spent.announced_at
    assert count(PoolAnnouncement) == 2


def test_an_answer_that_fails_at_recording_spends_the_announcement(september, standin):
    announcement = announce(prepare(september), AFTER_SEPTEMBER)

    def crash(step: str) -> None:
        if step == "pool":  # random.org has answered: the draw is being recorded
            raise RuntimeError("the process died")

    with pytest.raises(RuntimeError):
        conduct(september, announce=False, progress=crash)
    db.session.expire_all()
    assert db.session.get(PoolAnnouncement, announcement.id).state == PoolAnnouncement.SPENT
    assert count(Draw) == 0


@pytest.mark.parametrize(("failure", "times"), [(("error", 401), 1), ("http-500", 3)])
def test_an_attempt_without_an_answer_leaves_the_announcement_valid(
    september, standin, failure, times
):
    """random.org unreachable or refusing (every try of the client): no signed answer."""
    announcement = announce(prepare(september), AFTER_SEPTEMBER)
    standin.fail_next(failure, times=times)
    with pytest.raises(RandomOrgError):
        conduct(september, announce=False)
    db.session.expire_all()
    assert db.session.get(PoolAnnouncement, announcement.id).state == PoolAnnouncement.ANNOUNCED
    draw = conduct(september, announce=False, pool=prepare(september, nonce=announcement.nonce))
    assert draw.announced_at == announcement.announced_at


# --- the redraw --------------------------------------------------------------------------


def test_a_redraw_is_announced_the_same_way(client, september, standin):
    draw = conduct(september)
    (winner,) = winners.winners_of_draw(draw)
    winners.verify(winner, manual_ok=False, manual_note="closed", now=at(10, 12))
    db.session.commit()
    with pytest.raises(draws.DrawRefused) as refused:
        redraw(draw, "fell away", announce=False, now=at(10, 13))
    assert refused.value.code == "not-announced"
    announcement = announce(prepare(september, replaces=draw), at(10, 13))
    page = client.get(f"/kk/draws/{draw.id}").get_data(as_text=True)  # the draw it replaces
    assert announcement.pool_sha256 in page and 'id="announcement"' in page
    new = redraw(draw, "fell away", now=at(10, 13))
    announcement = draws.announcement_of(new)
    assert announcement.replaces_id == draw.id and new.announced_at == announcement.announced_at
    assert new.pool_size == 9 and new.pool_sha256 == announcement.pool_sha256


# --- published: news, feed, pages ----------------------------------------------------
# Pages are read outside any app context the test holds (a request must get its own, or
# the language of one request would leak into the next): the data is made in blocks.


@pytest.fixture
def september_id(app, demo, standin) -> int:
    """September 2022 with ten eligible clients, made in an app context of its own."""
    with app.app_context():
        period = find_period(db.session.get(Campaign, demo), "2022-09")
        rows = [row(n) for n in range(1, 11)]
        _, report = import_month(period, "sep.csv", csv_bytes(rows), today=TODAY)
        assert report.ok
        eligibility.compute(period)
        db.session.commit()
        return period.id


def announced_september(app, september_id: int) -> dict:
    with app.app_context():
        period = db.session.get(ReportingPeriod, september_id)
        made = announce(prepare(period), AFTER_SEPTEMBER)
        return {"id": made.id, "sha256": made.pool_sha256, "news": made.news_id}


def test_the_announcement_is_news_and_in_the_feed_in_both_languages(app, client, september_id):
    made = announced_september(app, september_id)
    with app.app_context():
        item = db.session.get(Announcement, made["news"])
        assert item.kind == Announcement.KIND_DRAW_POOL and item.published_at is not None
        titles = {lang: item.tr("title", lang) for lang in LANGS}
        bodies = {lang: item.tr("body", lang) for lang in LANGS}
    for lang in LANGS:
        month = format_month(2022, 9, lang, in_text=True)
        title = translated(lang, "The pool of the draw of %(month)s is announced", month=month)
        assert titles[lang] == title
        size = translated_plural(
            lang,
            "The draw of %(month)s will be made over a pool of %(num)d participant.",
            "The draw of %(month)s will be made over a pool of %(num)d participants.",
            10,
            month=month,
        )
        assert size in bodies[lang] and made["sha256"] in bodies[lang]
        assert title in page_text(client.get(f"/{lang}/ismet-2022/news"))
        assert made["sha256"] in page_text(client.get(f"/{lang}/ismet-2022/news/{made['news']}"))
        feed = client.get(f"/{lang}/ismet-2022/news/feed.atom").get_data(as_text=True)
        assert title in feed and made["sha256"] in feed
    assert "қыркүйек" in titles["kk"] and "сентябрь" in titles["ru"]


def test_the_month_s_pages_show_the_announcement_then_both_times(app, client, september_id):
    made = announced_september(app, september_id)
    for lang in LANGS:
        month = client.get(f"/{lang}/ismet-2022/winners/2022-09").get_data(as_text=True)
        assert made["sha256"] in month and 'id="announcement"' in month
        assert translated(lang, "The pool of the draw is announced") in month
        listing = client.get(f"/{lang}/ismet-2022/winners").get_data(as_text=True)
        assert made["sha256"] in listing
        draws_page = client.get(f"/{lang}/ismet-2022/draws").get_data(as_text=True)
        assert made["sha256"] in draws_page and 'data-state="announced"' in draws_page
        assert translated(lang, "Pool announced for the next draw, not drawn yet:") in draws_page
    with app.app_context():
        draw = conduct(db.session.get(ReportingPeriod, september_id), announce=False)
        draw_id, announced_at, drawn_at = draw.id, draw.announced_at, draw.conducted_at
    assert announced_at < drawn_at
    for lang in LANGS:
        month = client.get(f"/{lang}/ismet-2022/winners/2022-09").get_data(as_text=True)
        assert 'id="announcement"' not in month  # drawn: the record says it now
        draws_page = client.get(f"/{lang}/ismet-2022/draws").get_data(as_text=True)
        assert 'data-state="announced"' not in draws_page
        assert f'href="/{lang}/draws/{draw_id}"' in draws_page
        record = client.get(f"/{lang}/draws/{draw_id}").get_data(as_text=True)
        assert 'id="announced-at"' in record and 'id="drawn-at"' in record
        assert utc_text(announced_at) in record and utc_text(drawn_at) in record
        assert translated(lang, "Pool announced") in record
        pdf = client.get(f"/{lang}/draws/{draw_id}/protocol.pdf").data
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        text = re.sub(r"\s+", " ", text)
        assert translated(lang, "Pool announced") in text and translated(lang, "Drawn") in text


# --- the staff pages -----------------------------------------------------------------


def draw_form(client) -> dict:
    page = client.get("/admin/ismet-2022/draws/new/2022-09").get_data(as_text=True)
    return {
        "csrf_token": csrf_from(page),
        "commission": COMMISSION_TEXT.replace("; ", "\n"),
        "place_kk": PLACE["kk"],
        "place_ru": PLACE["ru"],
        "late_reason_kk": "Сынақта кешіктіріліп өткізілді.",
        "late_reason_ru": "Проведен с опозданием в тесте.",
    }


def test_the_staff_announce_then_wait_then_draw(app, client, auth, september_id):
    app.config["DRAW_ANNOUNCEMENT_WAIT_MINUTES"] = 60
    auth.login("commission")
    form = draw_form(client)
    shown = announce_in_admin(client, "2022-09", form)
    assert 'name="confirm"' not in shown  # the first step: no draw to confirm yet
    with app.app_context():
        announcement = db.session.scalar(sa.select(PoolAnnouncement))
        assert announcement.announced_by == "commission@ismet.kz"
        assert announcement.not_before - announcement.announced_at == timedelta(minutes=60)
        sha256 = announcement.pool_sha256
    page = client.post("/admin/ismet-2022/draws/new/2022-09", data=form).get_data(as_text=True)
    digest = re.search(r'id="pool-digest">([0-9a-f]{64})<', page)[1]
    nonce = re.search(r'name="nonce" type="hidden" value="([0-9a-f]+)"', page)[1]
    assert digest == sha256 and 'id="announcement-wait"' in page and 'name="confirm"' in page
    confirm = {**form, "nonce": nonce, "pool_sha256": digest, "confirm": "1"}
    refused = client.post("/admin/ismet-2022/draws/new/2022-09", data=confirm).get_data(
        as_text=True
    )
    assert 'id="announcement-wait"' in refused and 'name="confirm"' in refused  # still there
    with app.app_context():
        assert count(Draw) == 0
        # an hour later (the announcement moved back an hour): drawn
        announcement = db.session.scalar(sa.select(PoolAnnouncement))
        announcement.announced_at -= timedelta(minutes=60)
        announcement.not_before -= timedelta(minutes=60)
        db.session.commit()
    confirmed = client.post("/admin/ismet-2022/draws/new/2022-09", data=confirm)
    assert confirmed.status_code == 302
    with app.app_context():
        assert count(Draw) == 1
        draw = db.session.scalar(sa.select(Draw))
        announced_at, drawn_at = draw.announced_at, draw.conducted_at
    staff_page = client.get(confirmed.headers["Location"]).get_data(as_text=True)
    times = re.search(r'<p id="draw-times">(.*?)</p>', staff_page, re.S)[1]
    assert utc_text(announced_at) in times and utc_text(drawn_at) in times
    listing = client.get("/admin/ismet-2022/draws").get_data(as_text=True)
    assert sha256 in listing and 'data-state="drawn"' in listing


def test_announcing_needs_the_form_s_csrf_token(app, client, auth, september_id):
    auth.login("commission")
    form = draw_form(client)
    shown = client.post("/admin/ismet-2022/draws/new/2022-09", data=form).get_data(as_text=True)
    nonce = re.search(r'name="nonce" type="hidden" value="([0-9a-f]+)"', shown)[1]
    forged = {**form, "csrf_token": "forged", "nonce": nonce, "announce": "1"}
    assert client.post("/admin/ismet-2022/draws/new/2022-09", data=forged).status_code in (200, 400)
    redraw_forged = client.post("/admin/ismet-2022/draws/1/announce-redraw", data={})
    assert redraw_forged.status_code in (302, 400, 404)
    with app.app_context():
        assert count(PoolAnnouncement) == 0


# --- the command line --------------------------------------------------------------


def test_the_command_line_announces_then_draws_and_refuses_before_the_wait(
    app, runner, september, standin
):
    app.config["DRAW_ANNOUNCEMENT_WAIT_MINUTES"] = 30
    run = [
        *("draw", "run", "--period", "2022-09", "--commission", COMMISSION_TEXT, "--yes"),
        *("--late-reason-kk", "сынақ", "--late-reason-ru", "тест", "--lang", "ru"),
    ]
    result = runner.invoke(args=run)
    assert result.exit_code == 1 and "не опубликован" in result.output
    announced = runner.invoke(args=["draw", "announce", "--period", "2022-09", "--yes"])
    assert announced.exit_code == 0, announced.output
    assert "to be drawn not before" in announced.output
    result = runner.invoke(args=run)
    assert result.exit_code == 1 and "не раньше" in result.output
    assert count(Draw) == 0
    app.config["DRAW_ANNOUNCEMENT_WAIT_MINUTES"] = 0
    db.session.execute(
        sa.update(PoolAnnouncement).values(not_before=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    result = runner.invoke(args=run)
    assert result.exit_code == 0, result.output
    draw = db.session.scalar(sa.select(Draw))
    assert draw.announced_at is not None and draw.announced_at <= draw.conducted_at
    assert runner.invoke(args=["draw", "announce", "--yes"]).exit_code == 2  # no month given
