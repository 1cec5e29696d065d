"""Each rule and each state written once, in portal/campaign (issue "One house"): a month's
status, "due soon", "awaits a redraw", the administrator's local fallback, the legal form
decided by eligibility, the eligible pool in the order of the draw."""

from __future__ import annotations

from datetime import date

from portal.campaign import deadlines, draws, winners
from portal.models import db
from tests import test_draws, test_winners
from tests.test_winners import at, draw_on

# The fixtures of the draws and the winners: September 2022 with ten eligible
# participants, and its draw on Friday 21 October 2022 with its one winner.
september = test_draws.september
drawn = test_winners.drawn


# --- 4. "the prize awaits a redraw" in one place --------------------------------------


def test_a_prize_awaits_a_redraw_only_when_every_winner_of_its_draw_fell_away(september):
    september.campaign.prizes[0].count_per_period = 2
    draw = draw_on(september)
    first, second = winners.winners_of_draw(draw)
    winners.verify(first, manual_ok=False, manual_note="closed", now=at(10, 24))
    today = date(2022, 10, 24)
    # one of two winners fell away: the other stands, there is no redraw to hold
    assert not winners.awaits_redraw(first) and not winners.draw_awaits_redraw(draw)
    assert "redraw" not in {i.kind for i in deadlines.pending(september.campaign, today)}
    refused = draws.refusals(september, draw.prize, draw, at(10, 24))
    assert [r.code for r in refused] == ["winner-standing"]
    winners.verify(second, manual_ok=False, manual_note="closed too", now=at(10, 24))
    assert winners.awaits_redraw(first) and winners.awaits_redraw(second)
    assert winners.draw_awaits_redraw(draw)
    kinds = [i.kind for i in deadlines.pending(september.campaign, today)]
    assert kinds.count("redraw") == 2
    assert draws.refusals(september, draw.prize, draw, at(10, 24)) == []
    draws.redraw(draw, "both fell away", fallback_reason="t", now=at(10, 25))
    assert not winners.awaits_redraw(first) and not winners.draw_awaits_redraw(draw)
    assert [r.code for r in draws.refusals(september, draw.prize, draw, at(10, 25))] == [
        "already-replaced"
    ]


def test_the_staff_pages_offer_the_redraw_by_the_same_rule(app, drawn, client, auth):
    draw_id, winner_id = drawn.draw_id, drawn.id
    db.session.commit()
    auth.login("commission")
    assert 'id="redraw-heading"' not in client.get(f"/admin/draws/{draw_id}").get_data(True)
    winners.verify(drawn, manual_ok=False, manual_note="closed", now=at(10, 24))
    db.session.commit()
    assert 'id="redraw-heading"' in client.get(f"/admin/draws/{draw_id}").get_data(True)
    redraw_link = f"/admin/draws/{draw_id}#redraw-heading"
    assert redraw_link in client.get(f"/admin/winners/{winner_id}").get_data(True)
