"""The campaign's calendar: reporting months and draw deadlines (rules 1 and 5)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.campaign.periods import (
    draw_deadline,
    local_today,
    months_between,
    next_draw_period,
    parse_period_key,
)
from portal.demo import load_campaign


def test_draw_is_due_by_the_20th_of_the_next_month():
    assert draw_deadline(2022, 9) == date(2022, 10, 20)
    assert draw_deadline(2022, 11) == date(2022, 12, 20)
    assert draw_deadline(2022, 12) == date(2023, 1, 20)


def test_months_of_a_campaign():
    assert months_between(date(2022, 9, 1), date(2022, 11, 30)) == [
        (2022, 9),
        (2022, 10),
        (2022, 11),
    ]
    assert months_between(date(2022, 12, 15), date(2023, 1, 5)) == [(2022, 12), (2023, 1)]


@pytest.mark.parametrize("bad", ["2022-9", "2022-13", "22-09", "2022/09", "", "abcd-ef"])
def test_period_keys_are_strict(bad):
    with pytest.raises(ValueError):
        parse_period_key(bad)


def test_today_is_counted_in_kazakhstan():
    # 20:30 UTC on 19 October is already 20 October in Almaty.
    assert local_today(datetime(2022, 10, 19, 20, 30, tzinfo=UTC)) == date(2022, 10, 20)


def test_demo_campaign_is_complete_and_loading_is_idempotent(ctx):
    campaign, done = load_campaign()
    assert done
    assert [(p.key, p.draw_deadline) for p in campaign.periods] == [
        ("2022-09", date(2022, 10, 20)),
        ("2022-10", date(2022, 11, 20)),
        ("2022-11", date(2022, 12, 20)),
    ]
    [prize] = campaign.prizes
    assert (prize.supplier, prize.nominal_kzt, prize.vat_included, prize.count_per_period) == (
        "Chocomart",
        200_000,
        True,
        1,
    )
    again, done_again = load_campaign()
    assert again.id == campaign.id and done_again == []
    assert len(again.periods) == 3 and len(again.prizes) == 1


def test_next_draw(ctx):
    campaign, _ = load_campaign()
    assert next_draw_period(campaign, date(2022, 9, 15)).key == "2022-09"
    assert next_draw_period(campaign, date(2022, 10, 21)).key == "2022-10"
    assert next_draw_period(campaign, date(2022, 12, 21)) is None
