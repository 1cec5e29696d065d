"""Trust signals: the organizer's requisites in every public page's footer and in every
e-mail's signature, the campaign's end said on the public pages, and the winner's e-mail
saying who sends it and how to check it on the campaign's own site."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from portal.campaign import acts, deadlines, subscriptions
from portal.campaign.audit import Actor
from portal.campaign.periods import ENDED, RUNNING, UPCOMING, campaign_state, local_today
from portal.campaign.winners import VERIFIED_STANDING
from portal.demo import load_draws, load_participants
from portal.models import (
    Announcement,
    Campaign,
    Draw,
    OutboxMessage,
    Subscriber,
    Winner,
    db,
)
from portal.models.acts import WinnerFile
from portal.services.mail import send_pending
from portal.web.urls import SiteLinks, subscription_links
from tests.helpers import (
    csrf_from,
    page_text,
    png,
    translated,
    verified,
)

ORGANIZER = {
    "ORGANIZER_BIN": "123456789012",
    "ORGANIZER_ADDRESS_KK": "Астана қ., Мысал көшесі, 1",
    "ORGANIZER_ADDRESS_RU": "г. Астана, ул. Примерная, 1",
    "ORGANIZER_HOTLINE": "+7 700 000 00 00",
    "ORGANIZER_EMAIL": "promo@example.kz",
}
NAME = {
    "kk": "«Қазақтелеком» АҚ филиалы – Корпоративтік бизнес жөніндегі дивизион",
    "ru": "Филиал АО «Казахтелеком» – Дивизион по корпоративному бизнесу",
}


@pytest.fixture
def organizer(app):
    app.config.update(ORGANIZER)
    return app


# --- the footer of every public page -----------------------------------------------------


def public_pages(app, lang: str) -> list[str]:
    """Every public page the URL map has, for the demo with its draws, in ``lang``; files
    (PDF, CSV, JSON, the feed, photos) are left to the caller to skip."""
    with app.app_context():
        campaign = db.session.scalar(sa.select(Campaign))
        winner = db.session.scalar(
            sa.select(Winner).where(Winner.status.in_(VERIFIED_STANDING)).limit(1)
        )
        token = acts.issue_link(winner)  # the winner's private page is a public page too
        db.session.commit()
        values = {
            "number": [1],
            "period_key": [p.key for p in campaign.periods],
            "announcement_id": list(
                db.session.scalars(
                    sa.select(Announcement.id).where(Announcement.published_at.is_not(None))
                )
            ),
            "draw_id": list(db.session.scalars(sa.select(Draw.id))),
            "token": [token],
            "slug": [campaign.slug],
        }
        paths = []
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("public.") or "GET" not in rule.methods:
                continue
            if rule.endpoint.startswith("public.old_") or rule.endpoint == "public.campaign_bare":
                continue  # a redirect to a page of the campaign
            names = sorted(rule.arguments - {"lang"})
            if any(name not in values for name in names):
                continue  # a file of a winner or a draw: not a page
            for combination in _product([values[name] for name in names]):
                arguments = dict(zip(names, combination, strict=True), lang=lang)
                paths.append(rule.build(arguments, append_unknown=False)[1])
    return paths


def _product(lists):
    if not lists:
        yield ()
        return
    for first in lists[0]:
        for rest in _product(lists[1:]):
            yield (first, *rest)


@pytest.fixture
def demo_with_draws(app, demo):
    with app.app_context():
        campaign = db.session.get(Campaign, demo)
        load_participants(campaign)
        load_draws(campaign, secret=app.config["SECRET_KEY"], links=SiteLinks())
    return demo


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_public_page_names_the_organizer_in_its_footer(
    organizer, client, demo_with_draws, lang
):
    pages = 0
    for path in public_pages(organizer, lang):
        response = client.get(path)
        if response.mimetype != "text/html":
            continue
        pages += 1
        html = response.get_data(as_text=True)
        footer = unescape(html[html.index('<footer class="site-footer">') :])
        assert NAME[lang] in footer, path
        assert f"{translated(lang, 'BIN')} 123456789012" in footer, path
        assert ORGANIZER[f"ORGANIZER_ADDRESS_{lang.upper()}"] in footer, path
        assert f"{translated(lang, 'Hotline:')}" in footer, path
        assert 'href="tel:+77000000000"' in footer and "+7 700 000 00 00" in footer, path
        assert 'href="mailto:promo@example.kz"' in footer, path
    assert pages >= 20  # the campaign, rules, winners, draws, news, check, subscription…


def test_without_the_settings_the_footer_invents_nothing(client, demo):
    footer = client.get("/ru/").get_data(as_text=True).split('<footer class="site-footer">')[1]
    assert NAME["ru"] in unescape(footer)
    assert "tel:" not in footer and "mailto:" not in footer
    assert translated("ru", "BIN") + " " not in footer


# --- the campaign has ended ----------------------------------------------------------------


def test_the_campaign_state_day_by_day(ctx, demo):
    campaign = db.session.get(Campaign, demo)
    assert campaign_state(campaign, date(2022, 8, 31)) == UPCOMING
    assert campaign_state(campaign, date(2022, 9, 1)) == RUNNING
    assert campaign_state(campaign, date(2022, 11, 30)) == RUNNING
    assert campaign_state(campaign, date(2022, 12, 1)) == ENDED


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_public_pages_say_the_campaign_has_ended_after_its_last_day(
    app, client, demo_with_draws, lang
):
    notice = translated(
        lang,
        "The campaign ended on %(date)s; its rules, draws and winners stay published here.",
        date="2022 жылғы 30 қараша" if lang == "kk" else "30 ноября 2022 г.",
    )
    for path in public_pages(app, lang):
        response = client.get(path)
        if response.mimetype == "text/html" and "subscribe" not in path and path != f"/{lang}/":
            assert notice in page_text(response), path  # every page of the campaign
    # the list of campaigns has it in its archive instead, and the subscription is everyone's
    for path in (f"/{lang}/", f"/{lang}/subscribe"):
        assert notice not in page_text(client.get(path))
    assert translated(lang, "Archive: ended campaigns") in page_text(client.get(f"/{lang}/"))


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_no_ended_notice_while_the_campaign_runs(app, client, demo, lang):
    with app.app_context():
        campaign = db.session.get(Campaign, demo)
        campaign.ends_on = local_today()  # its last day is today: not ended yet
        db.session.commit()
    marker = 'class="campaign-ended"'
    for path in (
        f"/{lang}/",
        f"/{lang}/ismet-2022/rules",
        f"/{lang}/ismet-2022/winners",
        f"/{lang}/ismet-2022/news",
    ):
        assert marker not in client.get(path).get_data(as_text=True), path
    with app.app_context():
        db.session.get(Campaign, demo).ends_on = local_today() - timedelta(days=1)
        db.session.commit()
    assert marker in client.get(f"/{lang}/ismet-2022/").get_data(as_text=True)
    assert marker not in client.get(f"/{lang}/").get_data(
        as_text=True
    )  # the list: no one campaign's


# --- the signature of every e-mail ---------------------------------------------------------


def signature(lang: str) -> list[str]:
    """The lines every e-mail in ``lang`` ends with, at https://ismet.kz."""
    return [
        NAME[lang],
        f"{translated(lang, 'BIN')} 123456789012",
        ORGANIZER[f"ORGANIZER_ADDRESS_{lang.upper()}"],
        f"{translated(lang, 'Hotline:')} +7 700 000 00 00",
        f"{translated(lang, 'E-mail:')} promo@example.kz",
        translated(lang, "Ismet.kz prize campaign: %(url)s", url=f"https://ismet.kz/{lang}/"),
    ]


def signed_in_lang(text: str, lang: str) -> bool:
    lines = text.splitlines()
    wanted = signature(lang)
    return any(lines[i : i + len(wanted)] == wanted for i in range(len(lines)))


@pytest.fixture
def mailing(organizer, drawn, client, auth, smtpd):
    """Every kind of e-mail the portal sends, queued through the ways the site queues them."""
    app = organizer
    app.config.update(PUBLIC_BASE_URL="https://ismet.kz", MARKETING_MANAGER_EMAIL="boss@ismet.kz")
    winner_id = verified(drawn).id
    campaign_id = drawn.period.campaign_id
    db.session.add_all(
        [
            Subscriber(email="kk.reader@example.kz", language="kk", confirmed_at=_past()),
            Subscriber(email="ru.reader@example.kz", language="ru", confirmed_at=_past()),
        ]
    )
    db.session.commit()
    # a subscription asked for on the public form (Kazakh)
    page = client.get("/kk/subscribe").get_data(as_text=True)
    client.post(
        "/kk/subscribe",
        data={"csrf_token": csrf_from(page), "email": "new@example.kz", "language": "kk"},
    )
    # an announcement to every subscriber
    item = db.session.scalar(sa.select(Announcement).where(Announcement.campaign_id == campaign_id))
    subscriptions.queue_announcement(item, subscription_links())
    db.session.commit()
    # the winner's private link, issued by staff
    auth.login("marketing")
    token = auth.token(f"/admin/ismet-2022/winners/{winner_id}")
    assert (
        client.post(
            f"/admin/ismet-2022/winners/{winner_id}/link", data={"csrf_token": token}
        ).status_code
        == 302
    )
    # a deadline notice to the manager (Russian)
    winner = db.session.get(Winner, winner_id)
    items = deadlines.pending(winner.period.campaign, date(2022, 10, 28))
    deadlines.notify(
        items[:1], ("boss@ismet.kz", "ru"), actor=Actor(label="cli"), links=SiteLinks()
    )
    db.session.commit()
    return winner_id


def _past() -> datetime:
    return datetime(2022, 9, 1, 6, 0, tzinfo=UTC)


def test_every_kind_of_e_mail_is_signed_by_the_organizer(app, mailing, smtpd):
    queued = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    kinds = {message.kind for message in queued}
    assert {"subscribe_confirm", "announcement", "winner-link", "deadline"} <= kinds, kinds
    for message in queued:
        languages = ("kk", "ru") if message.kind == "winner-link" else (message.language,)
        for lang in languages:
            assert signed_in_lang(message.body_text, lang), (message.kind, lang)
    send_pending()
    # through a real SMTP server, as the recipients get them
    assert len(smtpd.received) == len(queued)
    for received in smtpd.received:
        text = received.message.get_content()
        assert any(signed_in_lang(text, lang) for lang in ("kk", "ru")), text


def test_the_manual_signing_notice_is_signed_too(app, organizer, issued):
    app.config.update(PUBLIC_BASE_URL="https://ismet.kz")
    submission = acts.submit_manual(
        issued,
        reason="The director's EDS expired.",
        files={
            WinnerFile.SIGNED_ACT: (issued.pdf, "act.pdf"),
            WinnerFile.DIRECTOR_ID: (png(), "id.png"),
        },
        by_proxy=False,
    )
    acts.notify_manager(
        submission, manager_email="boss@ismet.kz", default_language="kk", links=SiteLinks()
    )
    [mail] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert mail.kind == "manual-signing" and signed_in_lang(mail.body_text, "kk")


def test_the_winner_e_mail_says_who_sends_it_and_how_to_check_it(app, mailing, smtpd):
    [mail] = db.session.scalars(sa.select(OutboxMessage).filter_by(kind="winner-link")).all()
    winner = db.session.get(Winner, mailing)
    month = {"kk": "2022 жылғы қыркүйек", "ru": "сентябрь 2022 г."}
    # as the winner got it (the outbox keeps no token once it is sent)
    [received] = [r for r in smtpd.received if r.rcpt_tos == [mail.to_email]]
    text = received.message.get_content()
    for lang in ("kk", "ru"):
        site = f"https://ismet.kz/{lang}/"
        sentence = translated(
            lang,
            "This e-mail is sent by %(organizer)s, the organizer of the Ismet.kz prize campaign, through the campaign's own site. To be sure it is genuine: the link above starts with %(site)s; you can also open %(site)s yourself, where the winners of %(month)s and the record of their draw are published.",
            organizer=NAME[lang],
            site=site,
            month=month[lang],
        )
        assert sentence in text
        assert re.search(rf"{re.escape(site)}winner/[\w-]+", text)  # the link does start so
        assert (
            translated(
                lang,
                "If in doubt, call the organizer's hotline: %(phone)s.",
                phone="+7 700 000 00 00",
            )
            in text
        )
        assert (
            translated(lang, "The organizer never asks for a payment, a card number or a password.")
            in text
        )
    # every address in it is the campaign's own site: nothing leads elsewhere
    addresses = re.findall(r"https?://[^\s,;)]+", text)
    assert addresses and all(a.startswith("https://ismet.kz/") for a in addresses), addresses
    assert winner.participant.company_name in text
