"""Deadline notices as a campaign step: once per deadline, to the manager, in its language."""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
from babel.support import Translations

from portal.campaign import deadlines
from portal.campaign.audit import Actor
from portal.commands.translate import TRANSLATIONS
from portal.models import AuditEntry, OutboxMessage, db
from portal.wording.formats import format_day

CLI = Actor(label="cli")


class StaffLinks:
    """The staff pages' addresses, as a site would give them."""

    def winner_admin(self, campaign_slug: str, winner_id: int) -> str:
        return f"https://promo.example/admin.winner/{campaign_slug}/{winner_id}"

    def draws_admin(self, campaign_slug: str) -> str:
        return f"https://promo.example/admin.draws/{campaign_slug}/"

    def draw_record(self, draw_id: int, lang: str) -> str:
        return f"https://promo.example/{lang}/draws/{draw_id}"


def notices() -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage).filter_by(kind="deadline").order_by(OutboxMessage.id)
        )
    )


def test_each_deadline_is_mailed_once_with_its_link(drawn, smtpd):
    campaign = drawn.period.campaign
    db.session.commit()
    items = deadlines.pending(campaign, date(2022, 11, 18))
    kinds = sorted(item.kind for item in items)
    assert kinds == ["contact", "draw", "verification"]

    queued = deadlines.notify(items, ("manager@ismet.kz", "ru"), actor=CLI, links=StaffLinks())
    assert queued == 3
    mails = notices()
    assert {m.to_email for m in mails} == {"manager@ismet.kz"}
    assert {m.language for m in mails} == {"ru"}
    assert {m.dedupe_key for m in mails} == {deadlines.notice_key(item) for item in items}
    catalogue = Translations.load(str(TRANSLATIONS), ["ru"])
    once = catalogue.gettext("This notice is sent once for each deadline.")
    for item, mail in zip(items, mails, strict=True):
        links = StaffLinks()
        slug = item.period.campaign.slug
        link = links.winner_admin(slug, item.winner.id) if item.winner else links.draws_admin(slug)
        text, _signature = mail.body_text.split("\n\n-- \n")  # the organizer's signature
        paragraphs = text.split("\n\n")
        assert paragraphs[2:] == [link, once]
        assert format_day(item.due, "ru") in paragraphs[0]  # "26 октября 2022 г."
        assert item.due.isoformat() not in paragraphs[0]
        assert paragraphs[1] in mail.subject and "\n" not in mail.subject
    assert len(smtpd.received) == 3  # sent at once

    again = deadlines.notify(
        deadlines.pending(campaign, date(2022, 11, 19)),
        ("manager@ismet.kz", "ru"),
        actor=CLI,
        links=StaffLinks(),
    )
    assert again == 0 and len(notices()) == 3
    audited = db.session.scalars(
        sa.select(AuditEntry).filter_by(action="deadlines.notify").order_by(AuditEntry.id)
    ).all()
    assert [(e.actor, json.loads(e.details)) for e in audited] == [("cli", {"queued": 3})]


def test_notices_are_written_in_the_managers_language(drawn, smtpd):
    campaign = drawn.period.campaign
    db.session.commit()
    items = deadlines.pending(campaign, date(2022, 10, 28))
    deadlines.notify(items[:1], ("kk.manager@ismet.kz", "kk"), actor=CLI, links=StaffLinks())
    deadlines.notify(items[:1], ("ru.manager@ismet.kz", "ru"), actor=CLI, links=StaffLinks())
    [mail] = notices()  # the same deadline is noticed once, whoever the manager
    assert mail.language == "kk"
    catalogue = Translations.load(str(TRANSLATIONS), ["kk"])
    text, _signature = mail.body_text.split("\n\n-- \n")  # the organizer's signature
    assert text.endswith(catalogue.gettext("This notice is sent once for each deadline."))
