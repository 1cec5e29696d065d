"""What is due, and by when: the one list behind the dashboard and ``flask deadlines``.

- ``draw``: a month that has ended and has no draw yet, due by the 20th (rule 5);
- ``verification``: a winner drawn and not yet checked, due two working days after
  the draw (rule 8);
- ``contact``: a winner who has not got in touch, due ten days after the draw (rule 9);
- ``redraw``: a winner who fell away (disqualified, silent, forfeited) and whose prize
  has not been drawn again, due from the day it fell away.

``notify`` mails each of them to the marketing manager, once for each deadline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from portal.campaign import audit, mailings
from portal.campaign import winners as winner_rules
from portal.campaign.links import Links
from portal.campaign.months import month_status
from portal.campaign.periods import local_today, urgency
from portal.models import Campaign, ReportingPeriod, Winner, db
from portal.services.mail import enqueue, render_message

ORDER = {"overdue": 0, "today": 1, "soon": 2, "later": 3}


@dataclass(frozen=True)
class Deadline:
    """One thing staff must do, by ``due``; ``key`` names it for the once-only notice."""

    key: str
    kind: str  # "draw", "verification", "contact", "redraw"
    due: date
    period: ReportingPeriod
    winner: Winner | None
    state: str  # "overdue", "today", "soon", "later"
    days_left: int
    # the draw whose page holds what is to be done: a redraw is made from its chain's last
    draw_id: int | None = None


def _item(
    kind: str, key: str, due: date, period, winner, today: date, draw_id: int | None = None
) -> Deadline:
    state, days_left = urgency(due, today)
    return Deadline(key, kind, due, period, winner, state, days_left, draw_id)


def pending(campaign: Campaign, today: date, *, include_later: bool = False) -> list[Deadline]:
    """Everything due on ``today``: overdue first, then today's, then soon (then later)."""
    items = []
    for period in campaign.periods:
        if month_status(period, today).draw_due:
            items.append(
                _item(
                    "draw",
                    f"draw:{campaign.slug}:{period.key}",
                    period.draw_deadline,
                    period,
                    None,
                    today,
                )
            )
        for winner in winner_rules.winners_of_period(period):
            items.extend(_winner_items(winner, today))
    items = [i for i in items if include_later or i.state != "later"]
    return sorted(items, key=lambda i: (ORDER[i.state], i.due, i.key))


def pending_every(
    today: date, *, also: Campaign | None = None, include_later: bool = False
) -> list[Deadline]:
    """What is due in every published campaign (and in ``also``, a draft say), in one
    list ordered as ``pending`` orders one campaign's."""
    campaigns = list(
        db.session.scalars(
            sa.select(Campaign).filter_by(status=Campaign.PUBLISHED).order_by(Campaign.id)
        )
    )
    if also is not None and also not in campaigns:
        campaigns.append(also)
    items = [i for c in campaigns for i in pending(c, today, include_later=include_later)]
    return sorted(items, key=lambda i: (ORDER[i.state], i.due, i.key))


def _winner_items(winner: Winner, today: date) -> list[Deadline]:
    period, items = winner.period, []
    if winner.status == Winner.DRAWN:
        items.append(
            _item(
                "verification",
                f"verification:{winner.id}",
                winner.verification_due,
                period,
                winner,
                today,
            )
        )
    if winner.status in (Winner.DRAWN, Winner.VERIFIED) and winner.answered_on is None:
        items.append(
            _item("contact", f"contact:{winner.id}", winner.contact_due, period, winner, today)
        )
    if winner_rules.awaits_redraw(winner):
        fell_on = local_today(winner.events[-1].at) if winner.events else today
        last = winner_rules.last_of_chain(winner.draw).id
        items.append(_item("redraw", f"redraw:{winner.id}", fell_on, period, winner, today, last))
    return items


# --- notices ------------------------------------------------------------------------


def notice_key(item: Deadline) -> str:
    """What makes a notice once only: the item and its due date (a deadline moved is new)."""
    return f"deadline:{item.key}:{item.due.isoformat()}"


def notify(
    items: Iterable[Deadline],
    manager: tuple[str, str],
    *,
    actor: audit.Actor,
    links: Links,
) -> int:
    """Mail the marketing manager each item not mailed before, on the record, commit, and send
    what the outbox holds; how many notices were queued.

    ``manager`` is the address and the language to write in (``staff.marketing_manager``);
    ``links`` gives the address of the staff page each notice links.
    """
    to, lang = manager
    queued = 0
    for item in items:
        slug = item.period.campaign.slug
        link = links.winner_admin(slug, item.winner.id) if item.winner else links.draws_admin(slug)
        message = render_message("mail/deadline.txt", lang, item=item, link=link)
        queued += (
            enqueue("deadline", to, lang, message.subject, message.body, notice_key(item))
            is not None
        )
    if queued:
        audit.record(
            "deadlines.notify", details={"queued": queued}, object_type="outbox", actor=actor
        )
    db.session.commit()
    mailings.send_due(actor)
    return queued
