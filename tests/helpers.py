"""Factories and helpers shared by the test modules: the test app, sign-in and CSRF,
activity files, draws and winners on the 2022 calendar, a test PKI for acts, an SMTP
server, translated texts, the browser.

Plain functions, classes and constants: no tests and no fixtures (the fixtures are in
``conftest.py``). Test modules import from here, never from one another.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import io
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import boto3
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from babel.support import Translations
from flask import Flask, current_app
from PIL import Image
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from portal import create_app
from portal.campaign import acts, draws, eligibility, rules, winners
from portal.campaign import conditions as campaign_conditions
from portal.campaign.audit import Actor
from portal.campaign.identity import with_control_digit
from portal.campaign.imports import COLUMNS, Layout, import_month
from portal.campaign.periods import CAMPAIGN_TZ, ensure_periods, find_period
from portal.commands.translate import TRANSLATIONS
from portal.demo import load_campaign, load_draws, load_participants
from portal.demo.conditions_2022 import standard_2022
from portal.models import (
    Activity,
    Announcement,
    CalendarDay,
    Campaign,
    Participant,
    Prize,
    RulesVersion,
    StaffUser,
    Subscriber,
    Winner,
    db,
    utcnow,
)
from portal.services.randomorg import RandomOrgClient
from portal.web.urls import SiteLinks
from portal.wording.messages import pool_announcement_news
from tests.eds_pki import (
    AUTHENTICATION,
    FIRST_HEAD,
    INDIVIDUAL,
    LEGAL_ENTITY,
    SIGNING,
    Issued,
    Key,
    issue,
    issue_tsa,
    name,
    sign_cms,
    with_timestamp,
)

TESTS_DIR = Path(__file__).resolve().parent
REPOSITORY = TESTS_DIR.parent
DATA_DIR = TESTS_DIR / "data"

# --- the app as the tests configure it ---------------------------------------------

SECRET_KEY = "test-secret-key"
# One iteration of PBKDF2: signing in costs nothing in tests. Production keeps scrypt
# (portal/config.py); checking reads the method from the stored hash.
CHEAP_PASSWORD_HASH = "pbkdf2:sha256:1"
TEST_SETTINGS = {
    "TESTING": True,
    "SECRET_KEY": SECRET_KEY,
    "PASSWORD_HASH_METHOD": CHEAP_PASSWORD_HASH,
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": 9,  # nothing listens: a test that mails must start its own server
    "JOBS_IMMEDIATE": True,  # jobs run where they are enqueued; tests/test_jobs.py runs a worker
    "DRAW_ANNOUNCEMENT_WAIT_MINUTES": 0,  # a test that needs the wait sets it
}


def make_app(database_url: str, instance_path: str | Path, **settings) -> Flask:
    """The portal with the tests' settings (cheap password hashes included), plus ``settings``."""
    return create_app(
        {**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": database_url, **settings},
        instance_path=str(instance_path),
    )


def empty_all_tables() -> None:
    """Delete every row of every table (inside an app context), children first."""
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


# --- staff, sign-in and forms -------------------------------------------------------

PASSWORD = "correct horse battery staple"
CSRF_INPUT = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_INPUT.search(html)
    assert match, f"no CSRF token on the page: {html[:300]!r}"
    return match.group(1)


def make_staff(email: str, role: str, language: str = "ru", active: bool = True) -> int:
    """Create a staff account with PASSWORD (inside an app context); returns its id."""
    account = StaffUser(email=email, role=role, language=language, active=active, name=role.title())
    account.set_password(PASSWORD)
    db.session.add(account)
    db.session.commit()
    return account.id


def sign_in_client(client, email: str, password: str = PASSWORD, next_path: str | None = None):
    """Post the real sign-in form, its CSRF token included; returns the response."""
    url = "/admin/login" + (f"?next={next_path}" if next_path else "")
    page = client.get(url)
    return client.post(
        url,
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )


def count(model) -> int:
    """How many rows of ``model`` the database holds (inside an app context)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- a month of activity data -------------------------------------------------------

TODAY = date(2022, 10, 5)  # the day September 2022's file is imported


def bin_iin(n: int) -> str:
    """A valid BIN/IIN made from ``n`` (the next number that admits a control digit)."""
    while True:
        number = with_control_digit(f"{n:011d}")
        if number:
            return number
        n += 1


def row(n: int, **overrides) -> dict[str, str]:
    """Client ``n``'s row of an activity file, eligible unless ``overrides`` say otherwise."""
    values = {
        "account_number": f"ACC{n:07d}",
        "bin_iin": bin_iin(800000000 + n * 13),
        "legal_form": "IE" if n % 2 else "LLP",
        "company_name": f"Company {n}",
        "director_name": f"Director {n}",
        "email": f"client{n}@example.kz",
        "phone": "+77010000000",
        "city": "Almaty",
        "app_authorized_on": "2022-08-01",
        "ekassa_connected_on": "2022-09-02",
        "paid_months": "1",
        "receipts_in_period": "5",
    }
    values.update(overrides)
    return values


def csv_bytes(rows: list[dict[str, str]], bom: bool = False, columns=COLUMNS) -> bytes:
    """An activity file in CSV with ``columns`` as its header."""
    out = io.StringIO()
    out.write(",".join(columns) + "\n")
    for r in rows:
        out.write(",".join(r.get(c, "") for c in columns) + "\n")
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")


def load_september(app, campaign_id: int) -> dict[str, str]:
    """Import two clients into September 2022 (the first eligible, the second not) and
    compute eligibility; returns their BIN/IIN by account number."""
    with app.app_context():
        september = find_period(db.session.get(Campaign, campaign_id), "2022-09")
        rows = [row(1), row(2, receipts_in_period="3", ekassa_connected_on="2022-08-14")]
        import_month(september, "sep.csv", csv_bytes(rows), today=TODAY)
        eligibility.compute(september)
        db.session.commit()
        return {r["account_number"]: r["bin_iin"] for r in rows}


def load_demo_draws(app, campaign_id: int) -> None:
    """The demo's participants, draws and winners (``flask demo``'s later parts) for the
    campaign ``demo`` loaded: Sep-Nov 2022 drawn through the stand-in, each month's winners
    along its path."""
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        load_participants(campaign)
        load_draws(campaign, secret=app.config["SECRET_KEY"], links=SiteLinks())


# --- draws and winners on the 2022 calendar -----------------------------------------

AFTER_SEPTEMBER = datetime(2022, 10, 10, 6, 0, tzinfo=UTC)  # before the deadline of the 20th
FRIDAY_21_OCTOBER = datetime(2022, 10, 21, 11, 0, tzinfo=CAMPAIGN_TZ)
COMMISSION = [
    draws.Member(
        "Aigul Sarsenova", "маркетинг бөлімінің басшысы", "руководитель отдела маркетинга"
    ),
    draws.Member("Erlan Zhumabayev", "заңгер", "юрист"),
    draws.Member("Dinara Akhmetova", "маркетинг жөніндегі менеджер", "менеджер по маркетингу"),
]
# "Name, position in Kazakh | position in Russian; …", as the CLI's --commission takes it
COMMISSION_TEXT = "; ".join(f"{m.name}, {m.position_kk} | {m.position_ru}" for m in COMMISSION)
PLACE = {"kk": "Алматы қ.", "ru": "г. Алматы"}


def both(text: str) -> dict[str, str]:
    """The same text in Kazakh and in Russian, where a test's wording does not matter."""
    return {"kk": text, "ru": text}


def _in_both(kwargs: dict) -> dict:
    """The draw's texts given as one string (``late_reason="test"``) in both languages."""
    for text in ("place", "reason", "late_reason", "fallback_reason"):
        if isinstance(kwargs.get(text), str):
            kwargs[text] = both(kwargs[text])
    return kwargs


def at(month: int, day: int, hour: int = 12) -> datetime:
    """That day of 2022 at ``hour`` in the campaign's time zone."""
    return datetime(2022, month, day, hour, 0, tzinfo=CAMPAIGN_TZ)


MONDAY_24_OCTOBER = at(10, 24)


def prepare(period, **kwargs):
    """``draws.prepare`` with the app's secret, as the admin form and the CLI call it."""
    return draws.prepare(period, secret=current_app.config["SECRET_KEY"], **kwargs)


# A test's pool is announced this long before the draw it makes (its ``now``).
ANNOUNCED_BEFORE = timedelta(minutes=1)


# The stand-in random.org of the test under way (the ``standin`` fixture): the tests
# draw at fixed moments of 2022, the stand-in would date its answers by the machine's
# clock. While a test leaves the stand-in's clock alone, ``announce`` dates the next
# answer a second after the announcement it makes, and each announcement after the last
# answer: a draw's answer comes after its pool's announcement, the key's answer before
# it before (the ledger check), as they do in the field.
STANDIN: dict = {"server": None, "default": None, "set": None, "last": None}


def _standin_clock(when: datetime) -> datetime:
    """The announcement's time, moved past the stand-in's last answer; the next answer dated."""
    server = STANDIN["server"]
    if server is None or server.clock not in (STANDIN["default"], STANDIN["set"]):
        return when  # no stand-in, or a test that sets its clock itself
    last = STANDIN["last"]
    if last is not None and when <= last:
        when = last + timedelta(seconds=1)
    answer_at = when + timedelta(seconds=1)
    STANDIN["last"] = answer_at
    STANDIN["set"] = server.clock = lambda: answer_at
    return when


def announce(pool, now: datetime | None = None, **kwargs):
    """The commission's first step, as a draw of the tests takes it: ``pool`` announced
    (``draws.announce``) a minute before ``now``, with its news item; the announcement.

    A refusal (the month not ended, drawn already...) is the draw's own, which the draw
    that follows refuses in turn: it is let through, and None returned. A pool announced
    already is left announced."""
    current = draws.open_announcement(pool.period, pool.replaces)
    if current is not None and current.pool_sha256 == pool.sha256:
        return current
    when = _standin_clock((now or utcnow()) - ANNOUNCED_BEFORE)
    kwargs.setdefault("actor_label", "test")
    kwargs.setdefault("news", pool_announcement_news)
    try:
        return draws.announce(pool, now=when, **kwargs)
    except draws.DrawRefused:
        return None


def announced(pool, now: datetime | None = None):
    """``pool``, announced (``announce``) before a draw at ``now``."""
    announce(pool, now)
    return pool


def announce_in_admin(client, period_key: str, form: dict) -> str:
    """The commission's first step in the staff pages, signed in: the draw form (``form``,
    with its CSRF token) shows the pool, whose "Announce this pool" is pressed; the page
    that showed the pool (the page that answers shows the pool announced, to confirm)."""
    shown = client.post(f"/admin/ismet-2022/draws/new/{period_key}", data=form)
    html = shown.get_data(as_text=True)
    nonce = re.search(r'name="nonce" type="hidden" value="([0-9a-f]+)"', html).group(1)
    digest = re.search(r'id="pool-digest">([0-9a-f]{64})<', html).group(1)
    announced = client.post(
        f"/admin/ismet-2022/draws/new/{period_key}",
        data={**form, "nonce": nonce, "pool_sha256": digest, "announce": "1"},
    )
    assert announced.status_code == 200
    assert 'name="confirm"' in announced.get_data(as_text=True)
    return html


def site() -> dict:
    """What the admin form and the CLI give a draw: the site's links and the random.org
    client of the app's settings (the stand-in's, with the ``standin`` fixture)."""
    return {"links": SiteLinks(), "client": RandomOrgClient.from_config(current_app.config)}


def redraw(draw, reason, **kwargs):
    """``draws.redraw`` as the admin form and the CLI call it (a reason given as one
    string stands for both languages)."""
    secret = current_app.config["SECRET_KEY"]
    reason = both(reason) if isinstance(reason, str) else reason
    if kwargs.pop("announce", True):  # the redraw's pool announced first
        announce(prepare(draw.period, replaces=draw), kwargs.get("now"))
    return draws.redraw(draw, reason, secret=secret, **site(), **_in_both(kwargs))


def conduct(period, **kwargs):
    """``draws.conduct`` over the period's pool, with a commission, a place and a time
    after September unless given (texts given as one string stand for both languages)."""
    kwargs.setdefault("commission", COMMISSION)
    kwargs.setdefault("place", PLACE)
    kwargs.setdefault("now", AFTER_SEPTEMBER)
    # the pool announced if one is (made again from its nonce), else a new one
    pool = kwargs.pop("pool", None) or draws.announced_pool(
        period, secret=current_app.config["SECRET_KEY"]
    )
    if kwargs.pop("announce", True):  # the commission's first step
        announce(pool, kwargs["now"])
    return draws.conduct(pool, **site(), **_in_both(kwargs))


def png() -> bytes:
    """A small grey PNG image."""
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 200, 200)).save(out, "PNG")
    return out.getvalue()


def draw_on(period, when: datetime = FRIDAY_21_OCTOBER):
    """The period's draw, held late at ``when`` without random.org (its pool announced)."""
    return draws.conduct(
        announced(prepare(period), when),
        **site(),
        commission=COMMISSION,
        place=PLACE,
        late_reason=both("test"),
        fallback_reason=both("no random.org in this test"),
        actor=admin_actor(),
        now=when,
    )


def verified(winner: Winner, when: datetime = MONDAY_24_OCTOBER) -> Winner:
    """The winner, its manual check passed."""
    return winners.verify(winner, manual_ok=True, manual_note="register checked", now=when)


def in_touch(winner: Winner) -> Winner:
    """The winner verified and answering the phone on 24 October."""
    verified(winner)
    winners.record_contact(
        winner, on=date(2022, 10, 24), channel="phone", answered=True, now=at(10, 24)
    )
    return winner


def published(winner: Winner) -> Winner:
    """The winner's prize handed over and published (on 28 October), waiting for its photo."""
    in_touch(winner)
    winners.mark_act_issued(winner, now=at(10, 26))
    winners.mark_act_signed(winner, now=at(10, 27))
    winners.deliver(winner, method=Winner.ELECTRONIC, on=date(2022, 10, 28), now=at(10, 28))
    winners.publish(winner, {"kk": "t", "ru": "t"}, {"kk": "b", "ru": "b"}, now=at(10, 28))
    db.session.commit()
    return winner


def with_identity(winner: Winner) -> Winner:
    """The winner with its director's identity document entered."""
    acts.set_identity(
        winner,
        director_name="Aidar Petrov",
        document_type="id_card",
        document_number="047123456",
        document_issuer="MVD RK",
        document_date=date(2019, 3, 1),
        entered_by="winner",
    )
    return winner


# --- a test PKI for the winner's act ------------------------------------------------


class Pki:
    """An NCA-shaped test CA, and signers for the September winner's BIN."""

    def __init__(self, bin_iin: str, company: str) -> None:
        """Issue the RSA and GOST CAs and every signer the act tests use."""
        self.ca = issue(
            name("TEST ҰКО (RSA)"), Key.rsa(), ca=True, not_before=datetime(2019, 1, 1, tzinfo=UTC)
        )
        llp = {"iin": "880101300123", "organisation": company, "bin": bin_iin}
        self.head = issue(
            name("PETROV AIDAR", **llp),
            Key.rsa(),
            self.ca,
            usages=(SIGNING, LEGAL_ENTITY, FIRST_HEAD),
        )
        self.auth = issue(
            name("PETROV AIDAR", **llp),
            Key.rsa(),
            self.ca,
            usages=(AUTHENTICATION, LEGAL_ENTITY, FIRST_HEAD),
        )
        self.other = issue(
            name("PETROV AIDAR", **{**llp, "bin": "990000000000"}),
            Key.rsa(),
            self.ca,
            usages=(SIGNING, LEGAL_ENTITY, FIRST_HEAD),
        )
        self.person = issue(
            name("PETROV AIDAR", iin="880101300123"),
            Key.rsa(),
            self.ca,
            usages=(SIGNING, INDIVIDUAL),
        )
        self.gost_ca = issue(
            name("TEST ҰКО (GOST)"),
            Key.gost(),
            ca=True,
            not_before=datetime(2019, 1, 1, tzinfo=UTC),
        )
        self.gost_ie = issue(
            name("PETROV AIDAR", iin=bin_iin),
            Key.gost(),
            self.gost_ca,
            usages=(SIGNING, INDIVIDUAL),
        )

    @cached_property
    def tsa(self) -> Issued:
        """The time-stamping authority standing in for NCA's (RSA), issued by the RSA CA as
        NCA's CA issues its TSA's: its tokens chain to the same trust anchors."""
        return issue_tsa(self.ca)

    @cached_property
    def gost_tsa(self) -> Issued:
        """The same with a GOST 34.10-2015 key, issued by the GOST CA."""
        return issue_tsa(self.gost_ca, Key.gost())


COMMISSION_IIN = "870512400321"  # the member's IIN in her certificate: never on a public page


class CommissionPki:
    """A test CA (made the app's trust anchor), its time-stamping authority, and the
    certificates the tests sign with."""

    def __init__(self) -> None:
        self.ca = issue(
            name("TEST ҰКО (RSA)"), Key.rsa(), ca=True, not_before=datetime(2019, 1, 1, tzinfo=UTC)
        )
        self.tsa = issue_tsa(self.ca)
        # the first member of tests.helpers.COMMISSION, "Aigul Sarsenova", surname first
        self.sarsenova = issue(
            name("SARSENOVA AIGUL", iin=COMMISSION_IIN),
            Key.rsa(),
            self.ca,
            usages=(SIGNING, INDIVIDUAL),
        )
        self.zhumabayev = issue(
            name("ZHUMABAYEV ERLAN", iin="790101300111"),
            Key.rsa(),
            self.ca,
            usages=(SIGNING, INDIVIDUAL),
        )
        # her certificate as the director of a company: a legal entity's
        self.sarsenova_llp = issue(
            name(
                "SARSENOVA AIGUL", iin=COMMISSION_IIN, organisation="TOO ISMET", bin="180240012345"
            ),
            Key.rsa(),
            self.ca,
            usages=(SIGNING, LEGAL_ENTITY, FIRST_HEAD),
        )

    def sign(self, document: bytes, signer: Issued) -> bytes:
        """A detached CMS with the TSA's timestamp, as NCALayer makes it."""
        return with_timestamp(sign_cms(document, signer), self.tsa)


def pki_for(app, winner: Winner) -> Pki:
    """A test PKI for the winner, its two CAs made the app's trust anchors."""
    pki = Pki(winner.participant.bin_iin, winner.participant.company_name)
    app.config["EDS_TRUST_ANCHORS"] = [pki.ca.cert, pki.gost_ca.cert]
    return pki


# --- an SMTP server -----------------------------------------------------------------


@dataclass
class Received:
    """One message as the SMTP server got it."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: email.message.EmailMessage


class Collector:
    """An aiosmtpd handler that keeps every message and refuses chosen recipients."""

    def __init__(self) -> None:
        """Start with nothing received and nobody refused."""
        self.received: list[Received] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        """Refuse the addresses in ``refuse`` with their reply, accept the others."""
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        """Keep the message."""
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.content,
                email.message_from_bytes(
                    envelope.content.replace(b"\r\n", b"\n"), policy=email.policy.default
                ),
            )
        )
        return "250 Message accepted for delivery"

    def to(self) -> list[str]:
        """Every envelope recipient, in the order received."""
        return [address for item in self.received for address in item.rcpt_tos]


def free_port() -> int:
    """A TCP port on 127.0.0.1 where nothing listens right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(app, **smtp_options):
    """Run an SMTP server on a free port and point the app's MAIL_SERVER/MAIL_PORT to it."""
    handler = Collector()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        yield handler
    finally:
        controller.stop()


# --- the public site ----------------------------------------------------------------


def translated(lang: str, message: str, **values) -> str:
    """``message`` as the compiled catalogue of ``lang`` has it (the msgid until translated)."""
    text = Translations.load(str(TRANSLATIONS), [lang]).gettext(message)
    return text % values if values else text


def translated_plural(lang: str, singular: str, plural: str, num: int, **values) -> str:
    """The form of ``singular``/``plural`` for ``num`` in the catalogue of ``lang``."""
    text = Translations.load(str(TRANSLATIONS), [lang]).ngettext(singular, plural, num)
    return text % {"num": num, **values}


def page_text(response) -> str:
    """The page's HTML, white space folded, without the texts only screen readers get."""
    html = re.sub(
        r'<span class="visually-hidden">[^<]*</span>', "", response.get_data(as_text=True)
    )
    return re.sub(r"\s+", " ", html).replace("\u00a0", " ")


def submit_check(client, lang: str, account: str, bin_iin: str, slug: str = "ismet-2022"):
    """Ask a campaign's public self-check about an account, as a visitor does; returns the
    response."""
    page = client.get(f"/{lang}/{slug}/check")
    return client.post(
        f"/{lang}/{slug}/check",
        data={
            "account_number": account,
            "bin_iin": bin_iin,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )


def publish_v2(app, campaign_id: int) -> None:
    """Publish a version 2 that lowers the receipts threshold and adds clause 19 in Russian."""
    with app.app_context():
        v1 = db.session.get(RulesVersion, 1)
        version = RulesVersion(
            campaign_id=campaign_id,
            number=2,
            body_kk=v1.body_kk.replace("кемінде 5 чекті", "кемінде 3 чекті"),
            body_ru=v1.body_ru.replace("не менее 5 чеков", "не менее 3 чеков").replace(
                "\n\n---", "\n\n19. Новый пункт о порядке публикации.\n\n---"
            ),
            summary_kk="Чектер саны 3-ке дейін азайтылды.",
            summary_ru="Минимальное число чеков снижено до 3.",
            effective_on=date(2022, 10, 1),
            published=True,
            published_at=datetime(2022, 9, 25, 6, 0, tzinfo=UTC),
        )
        db.session.add(version)
        db.session.commit()


# --- the browser (tests/e2e) --------------------------------------------------------


def click(browser, element, attempts: int = 5) -> None:
    """Scroll the element to the middle of the window at once (the CSS scrolls smoothly), then
    click. A page still laying itself out (fonts, a script showing a form's fields) can move
    the element between the two under load: then scroll and click again, a few times, before
    the click's failure stands (an element that stays covered still fails the test)."""
    for attempt in range(attempts):
        browser.execute_script(
            "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element
        )
        try:
            element.click()
            return
        except ElementClickInterceptedException:
            if attempt == attempts - 1:
                raise
            time.sleep(0.3)


def answer_confirmation(browser, accept: bool = True) -> str:
    """Wait for the question the page asks before an action (``data-confirm``), accept or
    dismiss it, and return its text."""
    alert = WebDriverWait(browser, 10).until(EC.alert_is_present())
    text = alert.text
    if accept:
        alert.accept()
    else:
        alert.dismiss()
    return text


def sign_in(browser, live_server: str, wait, email: str, path: str) -> None:
    """Open ``path`` signed out, sign in on the page it sends to, and wait to be back on ``path``."""

    browser.delete_all_cookies()
    browser.get(live_server + path)
    wait.until(EC.url_contains("/admin/login"))
    browser.find_element(By.NAME, "email").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit].button").click()
    wait.until(EC.url_contains(path))


def admin_actor() -> Actor:
    """The active administrator ``admin@ismet.kz`` (created when missing) as the actor:
    the only one who may choose the local fallback instead of random.org."""
    email = "admin@ismet.kz"
    if db.session.scalar(sa.select(StaffUser).filter_by(email=email)) is None:
        make_staff(email, "admin")
    return Actor(user=db.session.scalar(sa.select(StaffUser).filter_by(email=email)))


# --- the whole demo, for the pages' accessibility ---------------------------------


class DemoSite(NamedTuple):
    """What ``load_demo_site`` made, for tests that visit every page of the demo."""

    app: Flask
    url: str  # where it is served (set by the fixture)
    campaign_id: int
    token: str  # November's standing winner's private link (its act issued)
    winner_id: int
    participant_id: int
    account: str  # an eligible client's account number and BIN/IIN, for the self-check
    bin_iin: str
    draft: int  # the number of the rules draft being written
    notice_id: int  # a draft announcement


def load_demo_site(app: Flask) -> DemoSite:
    """``flask demo`` (campaign, participants, draws and winners), then what the staff
    pages show when work is under way: rules version 2 published and version 3 drafted, a
    draft announcement, a decree in the calendar, two subscribers, an admin account in
    each language (``admin-kk@ismet.kz``, ``admin-ru@ismet.kz``), and November's winner
    with its act issued and a private link. Inside an app context."""
    campaign, _ = load_campaign()
    load_participants(campaign)
    load_draws(campaign, secret=app.config["SECRET_KEY"], links=SiteLinks())
    campaign_id = campaign.id
    publish_v2(app, campaign_id)
    campaign = db.session.get(Campaign, campaign_id)
    draft = rules_start_draft(campaign)
    notice = Announcement(
        campaign_id=campaign_id,
        kind=Announcement.KIND_NOTICE,
        title_kk="Хабарландыру жобасы",
        title_ru="Черновик объявления",
        body_kk="Мәтін.",
        body_ru="Текст.",
    )
    db.session.add(notice)
    db.session.add(
        CalendarDay(day=date(2022, 12, 26), working=False, note="Decree", created_by="t")
    )
    db.session.add_all(
        [
            Subscriber(email="kk@example.kz", language="kk", confirmed_at=utcnow()),
            Subscriber(email="ru@example.kz", language="ru", confirmed_at=utcnow()),
        ]
    )
    for lang in ("kk", "ru"):
        make_staff(f"admin-{lang}@ismet.kz", "admin", language=lang)
    november = find_period(campaign, "2022-11")
    (winner,) = winners.standing(november)
    with app.test_request_context("/ru/"):
        acts.issue_act(with_identity(winner), links=SiteLinks())
        token = acts.issue_link(winner)
    client = db.session.scalar(
        sa.select(Participant)
        .join(Activity, Activity.participant_id == Participant.id)
        .where(Participant.campaign_id == campaign_id, Activity.eligible.is_(True))
        .order_by(Participant.id)
        .limit(1)
    )
    db.session.commit()
    return DemoSite(
        app=app,
        url="",
        campaign_id=campaign_id,
        token=token,
        winner_id=winner.id,
        participant_id=winner.participant_id,
        account=client.account_number,
        bin_iin=client.bin_iin,
        draft=draft,
        notice_id=notice.id,
    )


def rules_start_draft(campaign: Campaign) -> int:
    """A draft of the next rules version, started from the version in force; its number."""
    draft = rules.start_draft(campaign, date.today())
    db.session.flush()
    return draft.number


@contextmanager
def serving(app):
    """Serve ``app`` with Werkzeug's development server (as ``flask run`` and the browser
    tests do) on 127.0.0.1 in a background thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def handmade_pdf(
    *extra: bytes, catalog: bytes = b"", page: bytes = b"", unlisted: bytes = b""
) -> bytes:
    """A one-page PDF written by hand: objects 1-3 are the catalog, the page tree and the
    page; ``extra`` bodies are objects 4, 5...; ``unlisted`` is an object missing from
    the cross-reference table."""
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R" + catalog + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]" + page + b" >>",
        *extra,
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    out += unlisted
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        xref,
    )
    return bytes(out)


# --- an S3-speaking server ------------------------------------------------------------

S3_ACCESS_KEY_ID = "test-access-key"
S3_SECRET_ACCESS_KEY = "test-secret-access-key-not-for-any-log"
S3_REGION = "us-east-1"


def serve_moto(log: Path, attempts: int = 3) -> tuple[subprocess.Popen, str]:
    """moto's S3 server (``python -m moto.server``) in its own process on a free port of
    127.0.0.1, its output into ``log``; the process and its address, once it answers."""
    for _ in range(attempts):
        port = free_port()
        with log.open("ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):
                    return process, endpoint
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        process.kill()  # the port was taken meanwhile, or it never answered
        process.wait()
    raise RuntimeError(f"moto's server did not start: see {log}")


def s3_client(endpoint: str):
    """A plain boto3 client of the moto server (to look at, or tamper with, a bucket)."""
    return boto3.session.Session(
        aws_access_key_id=S3_ACCESS_KEY_ID,
        aws_secret_access_key=S3_SECRET_ACCESS_KEY,
        region_name=S3_REGION,
    ).client("s3", endpoint_url=endpoint)


def new_bucket(endpoint: str) -> str:
    """A new, empty bucket on the moto server; its name."""
    name = f"portal-test-{secrets.token_hex(6)}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def s3_settings(endpoint: str, bucket: str, prefix: str = "files") -> dict:
    """The settings that keep the portal's files in ``bucket`` under ``prefix``."""
    return {
        "STORAGE_URL": f"s3://{bucket}/{prefix}",
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": S3_REGION,
        "S3_ACCESS_KEY_ID": S3_ACCESS_KEY_ID,
        "S3_SECRET_ACCESS_KEY": S3_SECRET_ACCESS_KEY,
    }


def bucket_keys(endpoint: str, bucket: str) -> list[str]:
    """Every object's name in the bucket, as S3 lists them."""
    pages = s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))


# --- a second campaign: spring 2023 ---------------------------------------------------

RULES_2023 = {
    "kk": (
        "# Ismet.kz қосымшасының 2023 жылғы көктемгі акциясының ережелері\n\n"
        "## 1. Жалпы ережелер\n\n"
        "1.1. Акция 2023 жылғы 1 наурыздан 31 мамырға дейін Қазақстан Республикасының "
        "барлық аумағында өткізіледі.\n\n"
        "## 2. Қатысу шарттары\n\n"
        "2.1. Акцияға Ismet.kz қосымшасында есепті айдың соңына дейін авторизациядан "
        "өткен, сол айда қосымша арқылы кемінде 10 чек шығарған жеке кәсіпкерлер "
        "қатысады.\n\n"
        "## 3. Жүлде қоры\n\n"
        "3.1. Ай сайын үш жүлде ойнатылады: 500 000 теңгелік бір сертификат және "
        "100 000 теңгелік екі сертификат.\n"
    ),
    "ru": (
        "# Правила весенней акции приложения Ismet.kz 2023 года\n\n"
        "## 1. Общие положения\n\n"
        "1.1. Акция проводится с 1 марта по 31 мая 2023 года на всей территории "
        "Республики Казахстан.\n\n"
        "## 2. Условия участия\n\n"
        "2.1. В акции участвуют индивидуальные предприниматели, авторизованные в "
        "приложении Ismet.kz до окончания отчётного месяца и сформировавшие через "
        "приложение не менее 10 чеков в этом месяце.\n\n"
        "## 3. Призовой фонд\n\n"
        "3.1. Ежемесячно разыгрываются три приза: один сертификат на 500 000 тенге и "
        "два сертификата на 100 000 тенге.\n"
    ),
}


def conditions_2023() -> list:
    """The spring 2023 campaign's conditions: the app as in 2022, at least 10 receipts
    in the month, individual entrepreneurs only."""
    kept = {c.code: c for c in standard_2022(min_receipts=10)}
    legal_form = dataclasses.replace(
        kept["legal_form"],
        params={"forms": ["IE"]},
        name={"kk": "Ұйымдық-құқықтық нысаны ЖК", "ru": "Организационно-правовая форма ИП"},
    )
    return [kept["app"], kept["receipts"], legal_form]


def make_campaign_2023(
    slug: str = "ismet-2023", status: str = "published", rules_published: bool = True
) -> Campaign:
    """A second campaign (inside an app context, committed): spring 2023, 1 March to 31
    May, three prizes a month (1 x 500,000 KZT, 2 x 100,000 KZT), its own conditions,
    and rules v1 in force from its first day (published unless told otherwise)."""
    campaign = Campaign(
        slug=slug,
        title_kk="Ismet.kz қосымшасының 2023 жылғы көктемгі акциясы",
        title_ru="Весенняя акция приложения Ismet.kz 2023 года",
        organizer_kk="«Қазақтелеком» АҚ филиалы – Корпоративтік бизнес жөніндегі дивизион",
        organizer_ru="Филиал АО «Казахтелеком» – Дивизион по корпоративному бизнесу",
        territory_kk="Қазақстан Республикасының барлық аумағы",
        territory_ru="Вся территория Республики Казахстан",
        starts_on=date(2023, 3, 1),
        ends_on=date(2023, 5, 31),
        status=status,
    )
    db.session.add(campaign)
    ensure_periods(campaign)
    campaign.prizes.extend(
        [
            Prize(
                supplier="Chocomart",
                name_kk="Chocomart сертификаты, 500 000 теңге",
                name_ru="Сертификат Chocomart на 500 000 тенге",
                nominal_kzt=500_000,
                count_per_period=1,
                position=1,
            ),
            Prize(
                supplier="Chocomart",
                name_kk="Chocomart сертификаты, 100 000 теңге",
                name_ru="Сертификат Chocomart на 100 000 тенге",
                nominal_kzt=100_000,
                count_per_period=2,
                position=2,
            ),
        ]
    )
    db.session.flush()
    campaign_conditions.replace(campaign, conditions_2023())
    db.session.add(
        RulesVersion(
            campaign=campaign,
            number=1,
            body_kk=RULES_2023["kk"],
            body_ru=RULES_2023["ru"],
            summary_kk="Акция ережелерінің бастапқы редакциясы.",
            summary_ru="Первоначальная редакция правил акции.",
            effective_on=date(2023, 3, 1),
            published=rules_published,
            published_at=datetime(2023, 3, 1, tzinfo=CAMPAIGN_TZ) if rules_published else None,
        )
    )
    db.session.commit()
    return campaign


def row_2023(n: int, **overrides) -> dict[str, str]:
    """Client ``n``'s row of a spring 2023 month: an individual entrepreneur with 12
    receipts, eligible unless ``overrides`` say otherwise."""
    values = row(n, legal_form="IE", app_authorized_on="2023-02-01", receipts_in_period="12")
    values.update(overrides)
    return values


def csv_2023(rows: list[dict[str, str]]) -> bytes:
    """A spring 2023 month's file, in the campaign's own format (its conditions' columns)."""
    return csv_bytes(rows, columns=Layout.of(conditions_2023()).names)
