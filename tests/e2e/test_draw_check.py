"""The record page's own check, "Check this draw here" (static/js/draw-check.js), in headless
Chromium: on a draw whose files are a REAL random.org result and on tampered copies of it,
on a draw of the stand-in with the ledger's fields, and with the site cut off after the
page loaded."""

from __future__ import annotations

import json
import re
import threading
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
import sqlalchemy as sa
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from portal.campaign import draws, eligibility
from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.models import (
    Campaign,
    Draw,
    DrawEntry,
    DrawFile,
    DrawVerdict,
    DrawWinner,
    Prize,
    Winner,
    db,
)
from portal.public import draws as draw_views
from portal.services.randomorg import RANDOM_ORG_KEY_SHA256, key_fingerprint
from tests.helpers import AFTER_SEPTEMBER, at, click, conduct, csv_bytes, row, translated
from tests.languages import READER_TEXT, offending_words
from tests.verifier_draws import (
    RANDOM_ORG_PEM,
    REAL_RANDOM,
    REAL_SIGNATURE,
    ask,
    changed_pool_byte,
    changed_signature_byte,
    previous_answer,
    standin_certificate,
)

pytestmark = pytest.mark.browser

STEPS = ("pool", "user-data", "request", "signature", "key", "winners", "prizes", "ledger")
# a draw of the stand-in, its pool announced before it (the key's previous answer
# before the announcement)
ALL_HOLD_OTHER_KEY = {
    "pool": "ok",
    "user-data": "ok",
    "request": "ok",
    "signature": "ok",
    "key": "other-key",
    "winners": "ok",
    "prizes": "ok",
    "ledger": "ok",
}
# a REAL random.org result: signed by random.org, for no pool of the portal (userData
# null, min 0): those two steps fail, every other holds
REAL_OUTCOMES = {
    "pool": "ok",
    "user-data": "failed",
    "request": "failed",
    "signature": "ok",
    "key": "ok",
    "winners": "ok",
    "prizes": "ok",
    "ledger": "not-applicable",
}
T0 = datetime(2022, 10, 10, 4, 0, tzinfo=UTC)


class Live:
    """A live portal that a test can cut off: ``stop()`` closes its listening socket."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.stopped = False

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=10)


@contextmanager
def live(other_app):
    """The portal served without its public pages cache, so that each visit reads the
    files as the test has just changed them."""
    site = Live(other_app(PUBLIC_CACHE=False))
    site.thread.start()
    try:
        yield site
    finally:
        site.stop()


def _import_ten(period, today: date) -> None:
    rows = [row(n + (100 if period.key == "2022-10" else 0)) for n in range(1, 11)]
    import_month(period, f"{period.key}.csv", csv_bytes(rows), today=today)
    eligibility.compute(period)
    db.session.commit()


class Drawn:
    """The draws the tests check: ``standin`` (September, signed by the stand-in, serial
    2), ``real`` (October, its signed files replaced by a REAL random.org result), and
    ``earlier``, the stand-in's answer of serial 1, before September's."""

    def __init__(self, standin_id: int, real_id: int, earlier: dict):
        self.standin, self.real, self.earlier = standin_id, real_id, earlier


@pytest.fixture
def drawn(app, demo, standin) -> Drawn:
    with app.app_context():
        campaign = db.session.get(Campaign, demo)
        db.session.scalar(sa.select(Prize).filter_by(campaign_id=demo)).count_per_period = 5
        september, october = find_period(campaign, "2022-09"), find_period(campaign, "2022-10")
        # September has a second prize, twice: its draw gives 5 numbers to the first
        # prize and the next 2 to the second (issue 19)
        db.session.add(
            Prize(
                campaign_id=demo,
                period_id=september.id,
                position=2,
                supplier="Chocomart",
                name_kk="100 000 теңгелік Chocomart сертификаты",
                name_ru="Сертификат Chocomart на 100 000 тенге",
                nominal_kzt=100_000,
                count_per_period=2,
            )
        )
        _import_ten(september, date(2022, 10, 5))
        _import_ten(october, date(2022, 11, 5))
        earlier = ask(standin, 1, 5, None, T0)  # serial 1 of the key
        standin.clock = lambda: T0 + timedelta(hours=2)
        first = conduct(september, now=AFTER_SEPTEMBER)
        second = conduct(october, now=at(11, 10))
        db.session.commit()
        assert first.serial_number == 2 and first.pool_size == 10
        _make_real(second)
        return Drawn(first.id, second.id, earlier)


def _make_real(draw: Draw) -> None:
    """Replace the draw's signed result by random.org's REAL one (serial 16675: 5, 1, 9, 4,
    7 of 0..10), its winners by the participants at those positions of its pool of 10.
    A stored draw is immutable to the portal's own code: this is a statement below it."""
    random = json.loads(REAL_RANDOM)
    draw_id = draw.id
    winners = {w.rank: w.id for w in draw.winners}
    db.session.execute(
        sa.update(Draw)
        .where(Draw.id == draw_id)
        .values(
            random_json=REAL_RANDOM.decode("utf-8"),
            signature=REAL_SIGNATURE,
            public_key_pem=RANDOM_ORG_PEM,
            serial_number=random["serialNumber"],
            completion_time=random["completionTime"],
            numbers_json=json.dumps(random["data"]),
            announced_at=None,  # made for no pool of ours: as a draw before announcements
        )
    )
    for rank, winner_id in winners.items():
        position = random["data"][rank - 1]
        participant = db.session.scalar(
            sa.select(DrawEntry.participant_id).filter_by(draw_id=draw_id, position=position)
        )
        db.session.execute(
            sa.update(DrawWinner)
            .where(DrawWinner.id == winner_id)
            .values(position=position, participant_id=participant)
        )
        db.session.execute(
            sa.update(Winner)
            .where(Winner.draw_winner_id == winner_id)
            .values(participant_id=participant)
        )
    db.session.execute(sa.delete(DrawVerdict).where(DrawVerdict.draw_id == draw_id))
    db.session.commit()
    db.session.expire_all()


def _pool(app, draw_id: int) -> bytes:
    with app.app_context():
        return db.session.scalar(
            sa.select(DrawFile.content).filter_by(draw_id=draw_id, name=DrawFile.POOL)
        )


def _set_pool(app, draw_id: int, content: bytes) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(DrawFile)
            .where(DrawFile.draw_id == draw_id, DrawFile.name == DrawFile.POOL)
            .values(content=content)
        )
        db.session.commit()


def _set_signature(app, draw_id: int, signature: str) -> None:
    with app.app_context():
        db.session.execute(sa.update(Draw).where(Draw.id == draw_id).values(signature=signature))
        db.session.commit()


def _open(browser, url: str, prefetch: bool = True):
    browser.get(url)
    box = browser.find_element(By.ID, "draw-check")
    assert box.get_attribute("data-prefetch") == ("yes" if prefetch else "no")
    if prefetch:  # the files are fetched as the page loads
        WebDriverWait(browser, 20).until(lambda b: box.get_attribute("data-state") == "ready")
    return box


def _run(browser, box) -> tuple[dict[str, str], str]:
    """Press the button; each step's outcome and the verdict."""
    click(browser, browser.find_element(By.ID, "draw-check-run"))
    WebDriverWait(browser, 30).until(lambda b: box.get_attribute("data-state") in ("done", "error"))
    outcomes = {
        item.get_attribute("data-step"): item.get_attribute("data-outcome")
        for item in box.find_elements(By.CSS_SELECTOR, "[data-step]")
    }
    verdict = browser.find_element(By.ID, "draw-check-verdict").get_attribute("data-verdict")
    return outcomes, verdict


def _detail(box, step: str) -> str:
    return box.find_element(By.CSS_SELECTOR, f'[data-step="{step}"]').text


def _foreign_words(browser, box, lang: str) -> list[str]:
    """What the section shows a reader of ``lang`` once the script has written its steps'
    findings and the verdict that is not of ``lang``: English words, "пул", Kazakh letters
    on a Russian page. The fields, files, digests and values it names are code."""
    text = browser.execute_script(READER_TEXT, box)
    return offending_words(text, lang, []) + re.findall(r"(?i)\bпул\w*", text)


def test_a_real_random_org_result_and_a_changed_pool_byte_and_signature_byte(
    app, other_app, drawn, browser
):
    original_pool = _pool(app, drawn.real)
    with live(other_app) as site:
        page = f"{site.url}/ru/draws/{drawn.real}"
        box = _open(browser, page)
        assert (
            translated(
                "ru",
                "The draw's files are loaded: the check works now even with this site cut off.",
            )
            in box.text
        )
        outcomes, verdict = _run(browser, box)
        assert (outcomes, verdict) == (REAL_OUTCOMES, "broken")
        assert _foreign_words(browser, box, "ru") == []
        key = _detail(box, "key")
        assert (
            translated("ru", "random.org's key: its SHA-256 is %(sha)s", sha=RANDOM_ORG_KEY_SHA256)
            in key
        )
        assert translated("ru", "holds") in _detail(box, "signature")
        assert translated("ru", "FAILED") in _detail(box, "request")
        assert "min 0" in _detail(box, "request")
        assert translated(
            "ru",
            "The draw's record has no %(field)s field: the draw was made before pools were announced ahead of the draw.",
            field="pool.announced_at",
        ) in _detail(box, "ledger")

        # one byte of a line that no winner holds changed in the pool file
        _set_pool(app, drawn.real, changed_pool_byte(original_pool, 2))
        box = _open(browser, page)
        outcomes, verdict = _run(browser, box)
        assert (outcomes, verdict) == ({**REAL_OUTCOMES, "pool": "failed"}, "broken")
        _set_pool(app, drawn.real, original_pool)

        # one byte of random.org's signature changed
        _set_signature(app, drawn.real, changed_signature_byte(REAL_SIGNATURE))
        box = _open(browser, f"{site.url}/kk/draws/{drawn.real}")
        outcomes, verdict = _run(browser, box)
        assert (outcomes, verdict) == ({**REAL_OUTCOMES, "signature": "failed"}, "broken")
        assert translated("kk", "FAILED") in _detail(box, "signature")
        assert _foreign_words(browser, box, "kk") == []

        # the real result again: every step as at first
        _set_signature(app, drawn.real, REAL_SIGNATURE)
        box = _open(browser, page)
        assert _run(browser, box) == (REAL_OUTCOMES, "broken")


def test_a_standin_draw_checked_with_the_site_cut_off_after_the_page_loaded(
    app, other_app, drawn, browser
):
    with live(other_app) as site:
        box = _open(browser, f"{site.url}/kk/draws/{drawn.standin}")
        site.stop()
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{site.url}/kk/draws/{drawn.standin}/pool.csv", timeout=5)
        outcomes, verdict = _run(browser, box)
    assert (outcomes, verdict) == (ALL_HOLD_OTHER_KEY, "verified-other-key")
    assert _foreign_words(browser, box, "kk") == []
    assert (
        translated(
            "kk",
            "Checked by your browser: every step holds, but the result was signed by another key than random.org's, which proves nothing about the randomness.",
        )
        in browser.find_element(By.ID, "draw-check-verdict").text
    )
    with app.app_context():
        standin_key = key_fingerprint(db.session.get(Draw, drawn.standin).public_key_pem)
    assert standin_key != RANDOM_ORG_KEY_SHA256
    assert translated(
        "kk",
        "NOT random.org's key: its SHA-256 is %(sha)s; such a signature proves nothing about random.org",
        sha=standin_key,
    ) in _detail(box, "key")


def test_a_key_published_as_a_certificate(app, other_app, drawn, browser):
    """The key the draw was checked with may be a PEM certificate (RANDOM_ORG_PUBLIC_KEY
    may name random.org's certificate): the script takes its SubjectPublicKeyInfo."""
    certificate = standin_certificate()
    with app.app_context():
        db.session.execute(
            sa.update(Draw).where(Draw.id == drawn.standin).values(public_key_pem=certificate)
        )
        db.session.commit()
    with live(other_app) as site:
        box = _open(browser, f"{site.url}/ru/draws/{drawn.standin}")
        assert _run(browser, box) == (ALL_HOLD_OTHER_KEY, "verified-other-key")
        assert key_fingerprint(certificate) in _detail(box, "key")


def test_a_large_pool_is_fetched_on_click_and_needs_the_site(
    other_app, drawn, browser, monkeypatch
):
    monkeypatch.setattr(draw_views, "PREFETCH_MAX_BYTES", 0)
    with live(other_app) as site:
        page = f"{site.url}/ru/draws/{drawn.standin}"
        box = _open(browser, page, prefetch=False)
        assert box.get_attribute("data-state") == "idle"
        assert _run(browser, box) == (ALL_HOLD_OTHER_KEY, "verified-other-key")

        box = _open(browser, page, prefetch=False)
        site.stop()
        click(browser, browser.find_element(By.ID, "draw-check-run"))
        WebDriverWait(browser, 30).until(lambda b: box.get_attribute("data-state") == "error")
        status = browser.find_element(By.ID, "draw-check-status").text
        names = ("record.json", "pool.csv", "random.json", "signature.base64", "public-key.pem")
        assert status in {
            translated("ru", "Could not fetch %(name)s: the check cannot be made.", name=name)
            for name in names
        }


def _with_ledger(monkeypatch, draw_id: int, announced_at: str | None, previous: dict | None):
    """record.json of ``draw_id`` with the ledger's fields, as the branches that own them
    will write them (contract: ``pool.announced_at``, ``previous_answer``)."""
    made = draws.record

    def record(draw):
        found = made(draw)
        if draw.id == draw_id:
            found["pool"]["announced_at"] = announced_at
            found["previous_answer"] = previous
        return found

    monkeypatch.setattr(draws, "record", record)


def test_the_ledger_step_in_the_browser(other_app, drawn, browser, monkeypatch):
    previous = previous_answer(drawn.earlier)  # serial 1, completed at T0
    with live(other_app) as site:
        page = f"{site.url}/ru/draws/{drawn.standin}"

        # announced an hour after serial 1: no other answer came between
        _with_ledger(monkeypatch, drawn.standin, "2022-10-10T05:00:00Z", previous)
        box = _open(browser, page)
        outcomes, verdict = _run(browser, box)
        assert (outcomes, verdict) == (
            {**ALL_HOLD_OTHER_KEY, "ledger": "ok"},
            "verified-other-key",
        )
        assert translated(
            "ru",
            "Serial number %(serial)s was completed at %(completed)s, before the announcement at %(announced)s.",
            serial=1,
            completed="2022-10-10 04:00:00Z",
            announced="2022-10-10T05:00:00Z",
        ) in _detail(box, "ledger")
        assert _foreign_words(browser, box, "ru") == []

        # announced before serial 1: an answer of the key came after the announcement
        _with_ledger(monkeypatch, drawn.standin, "2022-10-10T03:59:00Z", previous)
        box = _open(browser, page)
        outcomes, verdict = _run(browser, box)
        assert (outcomes, verdict) == ({**ALL_HOLD_OTHER_KEY, "ledger": "failed"}, "broken")
        assert _foreign_words(browser, box, "ru") == []

        # the previous answer with a changed signature byte
        forged = {**previous, "signature": changed_signature_byte(previous["signature"])}
        _with_ledger(monkeypatch, drawn.standin, "2022-10-10T05:00:00Z", forged)
        box = _open(browser, page)
        outcomes, _ = _run(browser, box)
        assert outcomes["ledger"] == "failed"
        assert translated(
            "ru",
            "The previous answer's signature (%(field)s) does not verify with the key.",
            field="previous_answer",
        ) in _detail(box, "ledger")
        assert _foreign_words(browser, box, "ru") == []

        # no previous answer for serial 2
        _with_ledger(monkeypatch, drawn.standin, "2022-10-10T05:00:00Z", None)
        box = _open(browser, page)
        outcomes, _ = _run(browser, box)
        assert outcomes["ledger"] == "failed"
        assert translated(
            "ru",
            "The draw's record has no %(field)s field for serial number %(serial)s.",
            field="previous_answer",
            serial=2,
        ) in _detail(box, "ledger")
        assert _foreign_words(browser, box, "ru") == []


def test_the_prizes_step_in_the_browser(other_app, drawn, browser, monkeypatch):
    """The stand-in's September draw gives 5 numbers to prize 1 and 2 to prize 2: the
    browser checks each winner's prize against that order, and a record whose winners
    take the prizes in another order fails."""
    with live(other_app) as site:
        page = f"{site.url}/kk/draws/{drawn.standin}"
        box = _open(browser, page)
        outcomes, _ = _run(browser, box)
        assert outcomes["prizes"] == "ok" and outcomes["user-data"] == "ok"
        assert "[[1,5],[2,2]]" in _detail(box, "prizes")

        made = draws.record

        def swapped(draw):
            found = made(draw)
            if draw.id == drawn.standin:
                found["winners"][0]["prize"], found["winners"][-1]["prize"] = 2, 1
            return found

        monkeypatch.setattr(draws, "record", swapped)
        box = _open(browser, page)
        outcomes, verdict = _run(browser, box)
        assert outcomes["prizes"] == "failed" and verdict == "broken"
        assert _foreign_words(browser, box, "kk") == []
