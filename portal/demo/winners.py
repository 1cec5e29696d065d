"""The demo's winners, each month along another path (issue: winners' life cycle).

- September: verified, in touch, act signed, delivered electronically, published with
  the photo: the path every winner should take.
- October: the first winner fails the manual check and is disqualified; the redraw's
  winner is verified, handed the certificate at a sales office and published.
- November: the winner is verified but never answers; after ten days it is marked as
  not responding, and the redraw's winner is verified, answers and is published.
- Spring 2023 (three winners a month): March's all take September's path; April's are
  verified, in touch and published; May is not drawn.

Every step is taken through ``portal.campaign.winners`` at a moment of its campaign, so the
history, the audit trail and the deadlines read as the campaign would have run.
All names and notes are invented; the photo is drawn here, of nobody.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from PIL import Image, ImageDraw

from portal.campaign import acts, draws, protocol_signatures, winners
from portal.campaign.links import Links
from portal.campaign.periods import CAMPAIGN_TZ
from portal.demo.randomorg_standin import StandIn
from portal.models import Winner, db
from portal.models.acts import WinnerFile
from portal.services.randomorg import RandomOrgClient
from portal.wording.messages import pool_announcement_news, redraw_reasons, winner_announcement

DEMO = winners.Actor(label="demo")


@dataclass(frozen=True)
class DrawSite:
    """What the demo's draws and redraws are made with: the site's secret and links, and
    the stand-in random.org with a client that asks it."""

    secret: str | bytes
    links: Links
    client: RandomOrgClient
    standin: StandIn


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=CAMPAIGN_TZ)


def _only_winner(draw) -> Winner:
    (winner,) = winners.winners_of_draw(draw)
    return winner


def _verify(winner: Winner, when: datetime, ok: bool = True, note: str = "") -> None:
    winners.verify(
        winner,
        manual_ok=ok,
        manual_note=note or "Мемлекеттік тізілімде БСН/ЖСН және атауы сәйкес; жеке шот белсенді.",
        actor=DEMO,
        now=when,
    )


def _publish(winner: Winner, when: datetime, links: Links) -> None:
    titles, bodies = winner_announcement(winner, links)
    winners.publish(winner, titles, bodies, actor=DEMO, now=when)


# The demo's pools are announced this long before their draw, which may be made an hour
# after the announcement (the demo's own waiting time: the setting is 0 in the demo).
ANNOUNCED_BEFORE = timedelta(hours=2)
ANNOUNCEMENT_WAIT = timedelta(hours=1)


def announce(pool, when: datetime):
    """The commission's first step for a draw at ``when``: its pool announced before it."""
    return draws.announce(
        pool,
        actor_label="demo",
        wait=ANNOUNCEMENT_WAIT,
        news=pool_announcement_news,
        now=when - ANNOUNCED_BEFORE,
    )


def _redraw(draw, site: DrawSite, when: datetime):
    site.standin.clock = lambda: when
    announce(draws.prepare(draw.period, secret=site.secret, replaces=draw), when)
    reason = redraw_reasons([_only_winner(draw)])
    return draws.redraw(
        draw,
        reason,
        secret=site.secret,
        links=site.links,
        client=site.client,
        actor_label="demo",
        now=when,
    )


def _photo(winner: Winner, when: datetime) -> None:
    """A drawn picture of a certificate (no person in it), added as staff add one."""
    image = Image.new("RGB", (1200, 800), (236, 242, 250))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle(
        (200, 180, 1000, 620), radius=28, fill=(255, 255, 255), outline=(0, 102, 204), width=8
    )
    prize = winner.prize
    amount = f"{prize.nominal_kzt:,}".replace(",", " ")
    pen.text((260, 240), prize.supplier, fill=(0, 102, 204), font_size=72)
    pen.text((260, 380), f"{amount} KZT", fill=(30, 30, 30), font_size=96)
    pen.text((260, 530), f"Ismet.kz  {winner.period.key}", fill=(90, 90, 90), font_size=40)
    raw = io.BytesIO()
    image.save(raw, "PNG")
    winners.add_photo(winner, raw.getvalue(), actor=DEMO, now=when)


def _specimen(text: str) -> bytes:
    """A drawn card saying SPECIMEN: the demo's stand-in for a scanned document."""

    image = Image.new("RGB", (800, 500), (250, 250, 245))
    pen = ImageDraw.Draw(image)
    pen.rectangle((20, 20, 780, 480), outline=(120, 120, 120), width=4)
    pen.text((60, 180), "SPECIMEN", fill=(200, 30, 30), font_size=96)
    pen.text((60, 330), text, fill=(60, 60, 60), font_size=36)
    raw = io.BytesIO()
    image.save(raw, "PNG")
    return raw.getvalue()


def _act_signed_by_hand(winner: Winner, issued: datetime, signed: datetime, links: Links) -> None:
    """The real act, issued; signed by hand (rule 11) with synthetic scans, accepted by staff.

    (The demo has no EDS key the portal's production trust anchors would accept; the
    tests sign a demo act with a generated NCA-shaped key.)
    """

    acts.set_identity(
        winner,
        director_name=f"{winner.participant.director_name}",
        document_type="id_card",
        document_number="000000000",
        document_issuer="ҚР ІІМ",
        document_date=date(2018, 5, 4),
        entered_by="winner",
        now=issued,
    )
    act = acts.issue_act(winner, links=links, actor=DEMO, now=issued)
    submission = acts.submit_manual(
        act,
        reason="Директордың ЭЦҚ кілтінің мерзімі өтіп кетті, жаңасы әлі берілмеді.",
        files={
            WinnerFile.SIGNED_ACT: (act.pdf, "act-signed.pdf"),
            WinnerFile.DIRECTOR_ID: (_specimen("director"), "id.png"),
        },
        by_proxy=False,
        now=signed,
    )
    acts.staff_upload(winner, _specimen("organizer"), "organizer-id.png", actor=DEMO, now=signed)
    acts.accept_submission(submission, actor=DEMO, now=signed)


def _to_delivery(
    winner: Winner,
    *,
    contact_on: date,
    steps: list[datetime],
    method: str,
    office: str = "",
    staff: str = "",
    links: Links,
) -> None:
    """In touch, act issued and signed by hand, published, delivered, photo."""
    issued, signed, published, delivered = steps
    winners.record_contact(
        winner,
        on=contact_on,
        channel="phone",
        answered=True,
        note="Директор қоңырауға жауап берді.",
        actor=DEMO,
        now=issued,
    )
    _act_signed_by_hand(winner, issued, signed, links)
    _publish(winner, published, links)
    winners.deliver(
        winner,
        method=method,
        on=delivered.date(),
        office=office,
        staff=staff,
        note="Сертификат табысталды.",
        actor=DEMO,
        now=delivered,
    )
    _photo(winner, delivered)


def september(draw, site: DrawSite) -> list[str]:
    winner = _only_winner(draw)  # drawn Monday 10 October 2022
    # the commission signed the printed protocol that day, in ink: kept as such (an EDS
    # signature needs a member's own NCA key; staff add one from the draw's page)
    _paper_protocol(draw, at(2022, 10, 10, 12))
    _verify(winner, at(2022, 10, 11))
    _to_delivery(
        winner,
        contact_on=date(2022, 10, 11),
        steps=[at(2022, 10, 12), at(2022, 10, 14), at(2022, 10, 14, 15), at(2022, 10, 18)],
        method=Winner.ELECTRONIC,
        links=site.links,
    )
    db.session.commit()
    return ["2022-09: winner verified, delivered electronically, published with photo"]


def october(draw, site: DrawSite) -> list[str]:
    first = _only_winner(draw)  # drawn Thursday 10 November 2022
    _verify(
        first,
        at(2022, 11, 11),
        ok=False,
        note="Мемлекеттік тізілім бойынша кәсіпкер қызметін 2022 жылғы қазанда тоқтатқан.",
    )
    db.session.commit()
    second = _only_winner(_redraw(draw, site, at(2022, 11, 11, 15)))
    _verify(second, at(2022, 11, 14))
    _to_delivery(
        second,
        contact_on=date(2022, 11, 14),
        steps=[at(2022, 11, 15), at(2022, 11, 21), at(2022, 11, 21, 15), at(2022, 11, 25)],
        method=Winner.OFFICE,
        office="B2B сату кеңсесі, Алматы қ., Абай даңғылы, 100",
        staff="Әсел Нұрланова",
        links=site.links,
    )
    db.session.commit()
    return ["2022-10: first winner disqualified, redraw, second winner delivered at an office"]


def november(draw, site: DrawSite) -> list[str]:
    first = _only_winner(draw)  # drawn Friday 9 December 2022
    _verify(first, at(2022, 12, 12))
    for day, channel in ((12, "phone"), (14, "email"), (16, "sms")):
        winners.record_contact(
            first,
            on=date(2022, 12, day),
            channel=channel,
            answered=False,
            note="Жауап жоқ.",
            actor=DEMO,
            now=at(2022, 12, day, 16),
        )
    winners.mark_no_response(
        first, note="10 күн ішінде байланысқа шықпады.", actor=DEMO, now=at(2022, 12, 20)
    )
    db.session.commit()
    second = _only_winner(_redraw(draw, site, at(2022, 12, 20, 15)))
    _verify(second, at(2022, 12, 21))
    winners.record_contact(
        second,
        on=date(2022, 12, 21),
        channel="email",
        answered=True,
        note="Хатқа жауап берді.",
        actor=DEMO,
        now=at(2022, 12, 21, 12),
    )
    _publish(second, at(2022, 12, 22), site.links)
    db.session.commit()
    return ["2022-11: first winner silent for 10 days, redraw, second winner published"]


def _paper_protocol(draw, when: datetime) -> None:
    """The commission signed the printed protocol in ink on the day of the draw."""
    for member_index in range(1, len(draw.commission) + 1):
        protocol_signatures.mark_paper(draw, member_index, actor=DEMO, now=when)


def march_2023(draw, site: DrawSite) -> list[str]:
    """Spring 2023, March (drawn Monday 10 April 2023): the three winners verified, in
    touch, their acts signed, published, their certificates sent electronically."""
    _paper_protocol(draw, at(2023, 4, 10, 12))
    for n, winner in enumerate(winners.winners_of_draw(draw)):
        _verify(winner, at(2023, 4, 11, 10 + n))
        _to_delivery(
            winner,
            contact_on=date(2023, 4, 11),
            steps=[at(2023, 4, 12, 10 + n), at(2023, 4, 14), at(2023, 4, 14, 15), at(2023, 4, 18)],
            method=Winner.ELECTRONIC,
            links=site.links,
        )
    db.session.commit()
    return ["2023-03: three winners verified, delivered electronically, published with photo"]


def april_2023(draw, site: DrawSite) -> list[str]:
    """April 2023 (drawn Wednesday 10 May 2023): the three winners verified, in touch
    and published, as November 2022's last winner."""
    _paper_protocol(draw, at(2023, 5, 10, 12))
    for n, winner in enumerate(winners.winners_of_draw(draw)):
        _verify(winner, at(2023, 5, 11, 10 + n))
        winners.record_contact(
            winner,
            on=date(2023, 5, 11),
            channel="phone",
            answered=True,
            note="Директор қоңырауға жауап берді.",
            actor=DEMO,
            now=at(2023, 5, 11, 15 + n),
        )
        _publish(winner, at(2023, 5, 12), site.links)
    db.session.commit()
    return ["2023-04: three winners verified, in touch and published"]


PATHS = {
    "2022-09": september,
    "2022-10": october,
    "2022-11": november,
    "2023-03": march_2023,
    "2023-04": april_2023,
}
