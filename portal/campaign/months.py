"""How a reporting month stands on a day, decided once for the public pages and the dashboard.

A month's state, first that holds:

- ``published``: a winner of the month is published and still stands (rule 7);
- ``awaiting-redraw``: the month's draw stands, but its winner fell away and the prize
  is to be drawn again (rules 8, 9 and 12);
- ``being-verified``: drawn, the winner not checked yet (rule 8);
- ``verified-unpublished``: drawn, the winner checked and standing, not published yet;
- without a draw: ``running`` until the month's last day, then ``draw-due``,
  ``draw-due-soon`` (the deadline is today or soon) and ``draw-overdue`` past the
  20th of the following month (rule 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.campaign import winners as winner_rules
from portal.campaign.draws import awaiting_draw, current_draw
from portal.campaign.periods import urgency
from portal.models import Campaign, Draw, PoolAnnouncement, ReportingPeriod, Winner

DRAWN = ("published", "awaiting-redraw", "being-verified", "verified-unpublished")
DRAW_DUE = ("draw-due", "draw-due-soon", "draw-overdue")
STATES = (*DRAWN, "running", *DRAW_DUE)


@dataclass(frozen=True)
class MonthStatus:
    """A reporting month on ``today``: its state, its standing draw, its published winners."""

    period: ReportingPeriod
    state: str  # one of STATES
    draw: Draw | None  # the draw that stands (the last of its chain), or None
    published: list[Winner]  # published winners still standing, in draw order
    deadline: date  # the draw's deadline (rule 5)
    days_left: int  # to the deadline; negative once it has passed
    # the pool announced for the month's next draw (or redraw), not drawn yet, or None
    announcement: PoolAnnouncement | None = None

    @property
    def drawn(self) -> bool:
        return self.state in DRAWN

    @property
    def draw_due(self) -> bool:
        """The month has ended without a draw: the draw is to be held."""
        return self.state in DRAW_DUE


def month_status(period: ReportingPeriod, today: date) -> MonthStatus:
    """How ``period`` stands on ``today``."""
    draw = current_draw(period)
    published = winner_rules.published(period)
    state, days_left = urgency(period.draw_deadline, today)
    if published:
        state = "published"
    elif draw is not None:
        # every winner of the month's chain that stands, whichever draw took it
        standings = [winner_rules.public_standing(w) for w in winner_rules.standing(period)]
        if winner_rules.draw_awaits_redraw(draw):
            state = "awaiting-redraw"
        elif any(s.code == "being-verified" for s in standings):
            state = "being-verified"
        else:
            state = "verified-unpublished"
    elif today <= period.ends_on:
        state = "running"
    else:
        state = {"overdue": "draw-overdue", "later": "draw-due"}.get(state, "draw-due-soon")
    return MonthStatus(
        period, state, draw, published, period.draw_deadline, days_left, awaiting_draw(period)
    )


def month_statuses(campaign: Campaign, today: date) -> list[MonthStatus]:
    """Every month of ``campaign`` as it stands on ``today``, in calendar order."""
    return [month_status(period, today) for period in campaign.periods]
