"""Each rule and each state written once, in portal/campaign (issue "One house"): a month's
status, "due soon", "awaits a redraw", the administrator's local fallback, the legal form
decided by eligibility, the eligible pool in the order of the draw."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import sqlalchemy as sa

from portal.campaign import deadlines, draws, eligibility, months, winners
from portal.campaign.audit import Actor
from portal.campaign.imports import import_month
from portal.campaign.periods import SOON_DAYS, find_period, urgency
from portal.demo import load_draws, load_participants
from portal.models import Activity, AuditEntry, Campaign, Draw, Participant, StaffUser, db
from portal.web.urls import SiteLinks
from portal.wording.messages import describe_check, legal_form_name, month_state_name
from tests.helpers import (
    COMMISSION,
    COMMISSION_TEXT,
    PLACE,
    TODAY,
    admin_actor,
    at,
    both,
    count,
    csv_bytes,
    draw_on,
    in_touch,
    make_staff,
    page_text,
    prepare,
    redraw,
    row,
    site,
    translated,
)


def state(period, today: date) -> str:
    return months.month_status(period, today).state


# --- 1. a month's status, decided once ----------------------------------------------


def test_a_month_without_a_draw_runs_then_its_draw_falls_due(ctx, demo):
    september = find_period(db.session.get(Campaign, demo), "2022-09")
    assert september.draw_deadline == date(2022, 10, 20)
    assert state(september, date(2022, 9, 30)) == "running"
    assert state(september, date(2022, 10, 1)) == "draw-due"
    assert state(september, date(2022, 10, 17)) == "draw-due-soon"  # three days left
    assert state(september, date(2022, 10, 20)) == "draw-due-soon"  # the last day
    late = months.month_status(september, date(2022, 10, 23))
    assert (late.state, late.days_left, late.draw, late.published) == ("draw-overdue", -3, None, [])
    assert late.draw_due and not late.drawn


def test_a_month_follows_its_draw_and_its_winner(app, drawn):
    period, draw = drawn.period, drawn.draw
    day = date(2022, 10, 24)
    status = months.month_status(period, day)
    assert (status.state, status.draw, status.published) == ("being-verified", draw, [])
    assert status.drawn and not status.draw_due
    in_touch(drawn)  # verified, then in touch
    assert state(period, day) == "verified-unpublished"
    winners.publish(drawn, {"kk": "t", "ru": "t"}, {"kk": "b", "ru": "b"}, now=at(10, 25))
    status = months.month_status(period, day)
    assert (status.state, status.published) == ("published", [drawn])
    winners.forfeit(drawn, "refused-to-sign", note="refused", now=at(10, 26))  # rule 12
    assert state(period, day) == "awaiting-redraw"  # a fallen winner is shown no more
    new = redraw(draw, "forfeited", actor=admin_actor(), fallback_reason="t", now=at(10, 27))
    status = months.month_status(period, day)
    assert (status.state, status.draw) == ("being-verified", new)


def test_no_template_queries_the_month(app):
    """The four queries the templates once called are gone: views pass the month's status."""
    assert not {"current_draw", "published_winners", "being_verified", "awaiting_redraw"} & set(
        app.jinja_env.globals
    )


def test_the_public_pages_word_the_month_status(app, client, drawn):
    winners.verify(drawn, manual_ok=False, manual_note="company closed", now=at(10, 24))
    db.session.commit()
    # one language: while the test's app context is pushed, the first request's locale stays
    fell = translated("ru", "The winner fell away; the prize will be drawn again (rules 8, 9, 12)")
    for path in ("/ru/ismet-2022/", "/ru/ismet-2022/winners"):
        assert fell in page_text(client.get(path))
    month = page_text(client.get("/ru/ismet-2022/winners/2022-09"))
    assert translated("ru", "The prize will be drawn again") in month
    # October ended long ago and has no draw: its deadline has passed
    october = page_text(client.get("/ru/ismet-2022/winners/2022-10"))
    message = translated("ru", "Draw was due by %(date)s; results not published yet")
    assert all(part.strip() in october for part in message.split("%(date)s"))


# --- 2. the dashboard shows a drawn month as drawn ------------------------------------


def test_the_dashboard_shows_the_demo_months_as_drawn(app, client, auth, demo):
    with app.app_context():
        campaign = db.session.get(Campaign, demo)
        load_participants(campaign)
        load_draws(campaign, secret=app.config["SECRET_KEY"], links=SiteLinks())
        today = date(2026, 1, 15)
        statuses = months.month_statuses(campaign, today)
        assert [m.state for m in statuses] == ["published"] * 3
        assert all(m.draw is not None and m.days_left < -1000 for m in statuses)
        assert deadlines.pending(campaign, today) == []
    auth.login("marketing")  # the account reads Russian
    page = page_text(client.get("/admin/ismet-2022/"))
    assert translated("ru", "draw overdue") not in page
    assert page.count(translated("ru", "winner published")) == 3
    assert translated("ru", "Nothing is due or overdue.") in page
    for draw_id in (1, 3, 5):  # each month links its standing draw (the redraws in Oct, Nov)
        assert f'href="/admin/ismet-2022/draws/{draw_id}"' in page


def test_the_dashboard_labels_every_state(app):

    with app.test_request_context("/ru/"):
        names = {s: month_state_name(s) for s in months.STATES}
    assert all(name != code for code, name in names.items())
    assert len(set(names.values())) == len(months.STATES)


# --- 3. "due soon" in one place -------------------------------------------------------


def test_due_soon_is_one_rule_for_the_months_and_the_deadlines(ctx, demo):
    september = find_period(db.session.get(Campaign, demo), "2022-09")
    campaign = september.campaign
    for days in range(0, SOON_DAYS + 3):
        today = date.fromordinal(september.draw_deadline.toordinal() - days)
        (item,) = [
            i
            for i in deadlines.pending(campaign, today, include_later=True)
            if i.period == september
        ]
        soon = item.state in ("soon", "today")
        assert soon == (days <= SOON_DAYS)
        assert state(september, today) == ("draw-due-soon" if soon else "draw-due")
        assert urgency(september.draw_deadline, today) == (item.state, days)
    # five days ahead is not soon (the dashboard once said it was)
    assert state(september, date(2022, 10, 15)) == "draw-due"


# --- 4. "the prize awaits a redraw" in one place --------------------------------------


def test_a_prize_awaits_a_redraw_as_soon_as_its_winner_fell_away(september):
    september.campaign.prizes[0].count_per_period = 2
    draw = draw_on(september)
    first, second = winners.winners_of_draw(draw)
    today = date(2022, 10, 24)
    assert not winners.awaits_redraw(first) and not winners.draw_awaits_redraw(draw)
    refused = draws.refusals(september, draw, at(10, 24))
    assert [r.code for r in refused] == ["winner-standing"]
    # one of two winners fell away: its prize alone is drawn again, the other stands
    winners.verify(first, manual_ok=False, manual_note="closed", now=at(10, 24))
    assert winners.awaits_redraw(first) and not winners.awaits_redraw(second)
    assert winners.draw_awaits_redraw(draw)
    kinds = [i.kind for i in deadlines.pending(september.campaign, today)]
    assert kinds.count("redraw") == 1
    assert state(september, today) == "awaiting-redraw"
    assert draws.refusals(september, draw, at(10, 24)) == []
    again = redraw(
        draw, "the first fell away", actor=admin_actor(), fallback_reason="t", now=at(10, 25)
    )
    assert [(w.replaces_winner_id, w.prize_id) for w in again.winners] == [
        (first.draw_winner_id, first.prize_id)
    ]
    assert not winners.awaits_redraw(first) and not winners.draw_awaits_redraw(draw)
    assert [r.code for r in draws.refusals(september, draw, at(10, 25))] == ["already-replaced"]
    # the second falls away later: the chain's last draw redraws it
    winners.verify(second, manual_ok=False, manual_note="closed too", now=at(10, 25))
    assert winners.draw_awaits_redraw(again) and not winners.draw_awaits_redraw(draw)
    third = redraw(
        again, "the second fell away", actor=admin_actor(), fallback_reason="t", now=at(10, 26)
    )
    assert [w.replaces_winner_id for w in third.winners] == [second.draw_winner_id]
    assert {w.participant_id for w in third.winners}.isdisjoint(
        {first.participant_id, second.participant_id, again.winners[0].participant_id}
    )


def test_the_staff_pages_offer_the_redraw_by_the_same_rule(app, drawn, client, auth):
    draw_id, winner_id = drawn.draw_id, drawn.id
    db.session.commit()
    auth.login("commission")
    assert 'id="redraw-heading"' not in client.get(f"/admin/ismet-2022/draws/{draw_id}").get_data(
        True
    )
    winners.verify(drawn, manual_ok=False, manual_note="closed", now=at(10, 24))
    db.session.commit()
    assert 'id="redraw-heading"' in client.get(f"/admin/ismet-2022/draws/{draw_id}").get_data(True)
    redraw_link = f"/admin/ismet-2022/draws/{draw_id}#redraw-heading"
    assert redraw_link in client.get("/admin/ismet-2022/").get_data(
        True
    )  # the commission's "what is due"
    assert client.get(f"/admin/ismet-2022/winners/{winner_id}").status_code == 403  # personal data
    auth.logout()
    auth.login("marketing")
    assert redraw_link in client.get(f"/admin/ismet-2022/winners/{winner_id}").get_data(True)


# --- 5. the local fallback is an administrator's, in campaign ------------------------


def staff_actor(role: str, active: bool = True) -> Actor:

    make_staff(f"{role}{'' if active else '-gone'}@ismet.kz", role, active=active)
    return Actor(user=db.session.scalar(sa.select(StaffUser).order_by(StaffUser.id.desc())))


@pytest.mark.parametrize(("role", "active"), [("commission", True), ("admin", False), (None, True)])
def test_conduct_itself_refuses_the_fallback_but_to_an_active_administrator(
    september, role, active
):
    actor = staff_actor(role, active) if role else Actor(label="cli")
    with pytest.raises(draws.DrawRefused) as refused:
        draws.conduct(
            prepare(september),
            **site(),
            commission=COMMISSION,
            place=PLACE,
            late_reason=both("test"),
            fallback_reason=both("random.org down"),
            actor=actor,
            now=at(10, 21),
        )
    assert refused.value.code == "fallback-admin-only"
    assert count(Draw) == 0
    assert draws.refusals(september, None, at(10, 21)) == []
    assert [
        r.code for r in draws.refusals(september, None, at(10, 21), actor=actor, fallback=True)
    ] == ["fallback-admin-only"]


def test_an_active_administrator_draws_locally(september):
    draw = draw_on(september)
    assert draw.is_local and draw.conducted_by == "admin@ismet.kz"


def draw_run(runner, *extra):
    return runner.invoke(
        args=[
            "draw",
            "run",
            "--period",
            "2022-09",
            "--commission",
            COMMISSION_TEXT,
            "--late-reason-kk",
            "сынақта кешіктіріліп өткізілді",
            "--late-reason-ru",
            "проведен с опозданием в тесте",
            "--fallback-reason-kk",
            "random.org қолжетімсіз",
            "--fallback-reason-ru",
            "random.org недоступен",
            "--yes",
            "--lang",
            "ru",
            *extra,
        ]
    )


def test_the_command_line_fallback_needs_an_active_administrator(app, runner, demo):
    with app.app_context():
        period = find_period(db.session.get(Campaign, demo), "2022-09")
        import_month(period, "sep.csv", csv_bytes([row(1), row(2), row(3)]), today=TODAY)
        eligibility.compute(period)
        make_staff("commission@ismet.kz", "commission")
        make_staff("admin@ismet.kz", "admin")
        make_staff("former@ismet.kz", "admin", active=False)
    assert runner.invoke(args=["draw", "announce", "--period", "2022-09", "--yes"]).exit_code == 0
    result = draw_run(runner)
    assert result.exit_code == 1 and "--admin" in result.output
    result = draw_run(runner, "--admin", "former@ismet.kz")
    assert result.exit_code == 1 and "no active staff account" in result.output
    result = draw_run(runner, "--admin", "commission@ismet.kz")
    assert result.exit_code == 1
    assert translated("ru", "Only an administrator may choose the local fallback.") in result.output
    with app.app_context():
        assert count(Draw) == 0
    result = draw_run(runner, "--admin", "Admin@Ismet.kz")
    assert result.exit_code == 0, result.output
    assert "LOCAL FALLBACK" in result.output
    with app.app_context():
        draw = db.session.scalar(sa.select(Draw))
        assert draw.is_local and draw.conducted_by == "admin@ismet.kz"
        entry = db.session.scalar(sa.select(AuditEntry).filter_by(action="draw.conduct"))
        assert entry.actor == "admin@ismet.kz" and entry.actor_id == draw.conducted_by_id
        draw_id = draw.id
        (winner,) = winners.winners_of_draw(draw)
        winners.verify(winner, manual_ok=False, manual_note="closed")
        db.session.commit()
    redraw = [
        "draw",
        "redraw",
        str(draw_id),
        "--fallback-reason-kk",
        "x",
        "--fallback-reason-ru",
        "x",
    ]
    assert runner.invoke(args=redraw).exit_code == 1
    announced = runner.invoke(args=["draw", "announce", "--replaces", str(draw_id), "--yes"])
    assert announced.exit_code == 0, announced.output
    result = runner.invoke(args=[*redraw, "--admin", "admin@ismet.kz"])
    assert result.exit_code == 0, result.output


# --- 6. any legal form is imported; eligibility decides ------------------------------


def test_an_import_takes_any_legal_form_and_eligibility_decides(app, september):
    cooperative = "Производственный кооператив"
    rows = [
        row(21, legal_form="JSC"),
        row(22, legal_form="ie"),
        row(23, legal_form="Llp"),
        row(24, legal_form=cooperative),
    ]
    _, report = import_month(september, "more.csv", csv_bytes(rows), today=TODAY, replace=True)
    assert report.ok, report.problems
    eligibility.compute(september)
    people = {
        p.account_number: p
        for p in db.session.scalars(sa.select(Participant).order_by(Participant.id))
    }
    jsc = people["ACC0000021"]
    assert (jsc.legal_form, people["ACC0000024"].legal_form) == ("JSC", cooperative)
    assert (people["ACC0000022"].legal_form, people["ACC0000023"].legal_form) == ("IE", "LLP")
    activities = {
        a.participant_id: a
        for a in db.session.scalars(sa.select(Activity).filter_by(period_id=september.id))
    }
    assert not activities[jsc.id].eligible and activities[jsc.id].ok_legal_form is False
    assert activities[people["ACC0000022"].id].eligible  # IE in any case
    assert not activities[people["ACC0000024"].id].eligible
    campaign = september.campaign
    checks = {c.condition: c for c in eligibility.explain(activities[jsc.id], campaign, september)}
    assert checks["legal_form"] == eligibility.Check(
        "legal_form", False, "fails", {"value": "JSC", "forms": ["IE", "LLP"]}
    )
    assert [c.condition for c in checks.values() if not c.ok] == ["legal_form"]
    for activity in activities.values():  # the SQL and the Python agree on every form
        explained = eligibility.explain(activity, campaign, september)
        assert activity.eligible == all(c.ok for c in explained)
        assert activity.ok_legal_form == explained[-1].ok
    with app.test_request_context("/ru/"):
        assert (
            describe_check(checks["legal_form"]) == "Организационно-правовая форма: АО"
        )  # the reader's abbreviation, not the import's code
        assert legal_form_name(cooperative) == cooperative
        assert (legal_form_name("IE"), legal_form_name("LLP"), legal_form_name("jsc")) == (
            "ИП",
            "ТОО",
            "АО",
        )


def test_a_legal_form_longer_than_the_column_is_reported(september):
    _, report = import_month(
        september, "long.csv", csv_bytes([row(1, legal_form="x" * 101)]), today=TODAY, replace=True
    )
    assert [(p.row, p.column, p.code, p.detail) for p in report.problems] == [
        (2, "legal_form", "too-long", "100")
    ]


# --- 7. the eligible pool's CSV in the order of the draw -----------------------------


def test_the_eligible_csv_is_in_the_order_of_the_draw(app, client, auth, demo):
    accounts = ["a10", "B2", "b1", "Ä1", "a9", "A1", "10", "9"]
    with app.app_context():
        september = find_period(db.session.get(Campaign, demo), "2022-09")
        rows = [row(n, account_number=a) for n, a in enumerate(accounts, start=1)]
        _, report = import_month(september, "sep.csv", csv_bytes(rows), today=TODAY)
        assert report.ok
        eligibility.compute(september)
        db.session.commit()
        pool = prepare(september)
        in_pool = [db.session.get(Participant, pid).account_number for pid in pool.participant_ids]
        listed = [a for (a,) in draws.eligible_pool(september, Participant.account_number)]
    assert in_pool == listed == sorted(accounts)  # Python's order: by code point
    auth.login("marketing")
    response = client.get("/admin/ismet-2022/participants/2022-09/eligible.csv")
    exported = [r["account_number"] for r in csv.DictReader(io.StringIO(response.get_data(True)))]
    assert exported == in_pool
