"""A winner's life cycle on the real 2022 calendar: every step, every forbidden one, the deadlines."""

from __future__ import annotations

import html
import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from PIL import Image

from portal.campaign import deadlines, winners, workdays
from portal.models import Activity, Announcement, AuditEntry, CalendarDay, Winner, WinnerEvent, db
from portal.web.urls import SiteLinks
from portal.wording.messages import redraw_reasons, winner_announcement, winner_outcome_name
from tests.helpers import admin_actor, at, csrf_from, in_touch, redraw, smtp_server, verified

W = Winner


# --- the working-day calendar -------------------------------------------------------


def test_the_2022_calendar_counts_the_moved_days(ctx):
    # Saturday 22 October 2022 was worked; Monday 24 (moved) and Tuesday 25 (Republic Day) were not
    assert workdays.is_working_day(date(2022, 10, 22))
    assert not workdays.is_working_day(date(2022, 10, 24))
    assert not workdays.is_working_day(date(2022, 10, 25))
    assert not workdays.is_working_day(date(2022, 10, 23))
    assert workdays.verification_due(date(2022, 10, 21)) == date(2022, 10, 26)  # Wednesday
    assert workdays.contact_due(date(2022, 10, 21)) == date(2022, 10, 31)
    assert workdays.verification_due(date(2022, 10, 10)) == date(2022, 10, 12)
    # Independence Day, Friday 16 December 2022, then a weekend
    assert workdays.verification_due(date(2022, 12, 15)) == date(2022, 12, 20)
    assert [d.day for d in workdays.days_off(date(2022, 10, 1), date(2022, 10, 31))] == [
        date(2022, 10, 24),
        date(2022, 10, 25),
    ]


def test_staff_decrees_win_over_the_package(ctx):
    db.session.add(CalendarDay(day=date(2022, 10, 26), working=False, note="decree"))
    db.session.add(CalendarDay(day=date(2022, 10, 22), working=False, note="decree"))
    db.session.flush()
    assert workdays.verification_due(date(2022, 10, 21)) == date(2022, 10, 28)
    db.session.add(CalendarDay(day=date(2022, 10, 23), working=True, note="decree"))
    db.session.flush()
    assert workdays.verification_due(date(2022, 10, 21)) == date(2022, 10, 27)


def test_a_decree_added_later_moves_the_open_verification_deadline(drawn):
    assert drawn.verification_due == date(2022, 10, 26)
    db.session.add(CalendarDay(day=date(2022, 10, 26), working=False, note="decree"))
    db.session.flush()
    winners.recount_verification_deadlines(date(2022, 10, 26), actor=winners.Actor(label="t"))
    assert drawn.verification_due == date(2022, 10, 27)
    assert drawn.events[-1].action == "verification_due"
    verified(drawn)
    db.session.add(CalendarDay(day=date(2022, 10, 27), working=False, note="decree"))
    db.session.flush()
    winners.recount_verification_deadlines(date(2022, 10, 27))
    assert drawn.verification_due == date(2022, 10, 27)  # a checked winner keeps its record


def test_a_draw_starts_its_winner_with_the_deadlines(drawn):
    assert drawn.status == W.DRAWN
    assert drawn.drawn_on == date(2022, 10, 21)
    assert drawn.verification_due == date(2022, 10, 26)
    assert drawn.contact_due == date(2022, 10, 31)
    assert [e.action for e in drawn.events] == ["drawn"]


# --- the transitions ----------------------------------------------------------------

# Every status and the ten steps a winner may take, written out here rather than read
# from winners.TRANSITIONS, the table under test.
EVERY_STATUS = (
    "drawn",
    "verified",
    "disqualified",
    "contacted",
    "no_response",
    "act_issued",
    "act_signed",
    "forfeited",
    "delivered",
    "published",
)
ALLOWED_STEPS = {
    ("drawn", "verified"),
    ("drawn", "disqualified"),
    ("verified", "contacted"),
    ("verified", "no_response"),
    ("contacted", "act_issued"),
    ("contacted", "forfeited"),
    ("act_issued", "act_signed"),
    ("act_issued", "forfeited"),
    ("act_signed", "delivered"),
    ("delivered", "published"),
}


def test_only_the_listed_steps_are_taken(drawn):
    """All 100 pairs of statuses: the 10 listed steps are taken, every other one refused."""
    assert sorted(winners.STATUSES) == sorted(EVERY_STATUS)
    taken = set()
    for source in EVERY_STATUS:
        for target in EVERY_STATUS:
            drawn.status = source
            try:
                winners.move(drawn, target, "test", winners.Actor(label="t"))
            except winners.WinnerRefused as refused:
                assert refused.code == "not-allowed" and drawn.status == source
            else:
                assert drawn.status == target
                assert (drawn.events[-1].from_status, drawn.events[-1].to_status) == (
                    source,
                    target,
                )
                taken.add((source, target))
    assert taken == ALLOWED_STEPS


def test_every_status_is_reachable_and_every_end_is_final():
    reachable, todo = {W.DRAWN}, [W.DRAWN]
    while todo:
        for nxt in winners.TRANSITIONS.get(todo.pop(), ()):
            if nxt not in reachable:
                reachable.add(nxt)
                todo.append(nxt)
    assert reachable == set(winners.STATUSES)
    assert all(status not in winners.TRANSITIONS for status in winners.ELIMINATED)
    assert W.PUBLISHED not in winners.TRANSITIONS


# --- verification -------------------------------------------------------------------


def test_verification_rechecks_the_five_conditions_and_records_who(drawn):
    verified(drawn)
    assert drawn.status == W.VERIFIED
    conditions = [c.condition for c in drawn.checks]
    assert conditions == ["app", "ekassa", "paid", "receipts", "legal_form", "manual"]
    assert all(c.ok for c in drawn.checks)
    assert drawn.checks[-1].note == "register checked"


def test_a_condition_failing_on_the_stored_evidence_disqualifies(drawn):
    activity = db.session.scalar(
        sa.select(Activity).filter_by(
            period_id=drawn.period_id, participant_id=drawn.participant_id
        )
    )
    activity.receipts_in_period = 1  # the month's data says fewer than 5 receipts
    winners.verify(drawn, manual_ok=True, manual_note="looked fine", now=at(10, 24))
    assert drawn.status == W.DISQUALIFIED and drawn.outcome == "receipts"
    assert [c.ok for c in drawn.checks if c.condition == "receipts"] == [False]


def test_failed_manual_checks_disqualify_and_a_note_is_required(drawn):
    with pytest.raises(winners.WinnerRefused) as refused:
        winners.verify(drawn, manual_ok=True, manual_note="   ")
    assert refused.value.code == "note-required" and drawn.status == W.DRAWN
    winners.verify(drawn, manual_ok=False, manual_note="company closed", now=at(10, 24))
    assert (drawn.status, drawn.outcome, drawn.outcome_note) == (
        W.DISQUALIFIED,
        "manual",
        "company closed",
    )
    with pytest.raises(winners.WinnerRefused):
        verified(drawn)


# --- contact ------------------------------------------------------------------------


def test_an_answer_closes_the_contact_step(drawn):
    verified(drawn)
    winners.record_contact(
        drawn, on=date(2022, 10, 24), channel="phone", answered=False, now=at(10, 24)
    )
    assert drawn.status == W.VERIFIED
    winners.record_contact(
        drawn, on=date(2022, 10, 27), channel="email", answered=True, note="replied", now=at(10, 27)
    )
    assert drawn.status == W.CONTACTED and drawn.answered_on == date(2022, 10, 27)
    assert [(c.channel, c.answered) for c in drawn.contacts] == [("phone", False), ("email", True)]
    with pytest.raises(winners.WinnerRefused) as refused:
        winners.record_contact(drawn, on=date(2022, 10, 28), channel="phone", answered=True)
    assert refused.value.code == "contact-closed"


def test_an_answer_during_verification_counts_once_verified(drawn):
    winners.record_contact(
        drawn, on=date(2022, 10, 21), channel="phone", answered=True, now=at(10, 21, 15)
    )
    assert drawn.status == W.DRAWN
    verified(drawn)
    assert drawn.status == W.CONTACTED
    assert [e.to_status for e in drawn.events][-2:] == [W.VERIFIED, W.CONTACTED]


@pytest.mark.parametrize(
    ("on", "channel", "answered", "code"),
    [
        (date(2022, 10, 20), "phone", False, "bad-date"),  # before the draw
        (date(2022, 11, 2), "phone", False, "bad-date"),  # after "today"
        (date(2022, 10, 24), "pigeon", False, "bad-channel"),
        (date(2022, 11, 1), "phone", True, "answer-too-late"),  # contact was due 31 October
    ],
)
def test_contact_attempts_are_checked(drawn, on, channel, answered, code):
    verified(drawn)
    with pytest.raises(winners.WinnerRefused) as refused:
        winners.record_contact(drawn, on=on, channel=channel, answered=answered, now=at(11, 1))
    assert refused.value.code == code and drawn.contacts == []


def test_no_response_only_after_the_tenth_day(drawn):
    verified(drawn)
    with pytest.raises(winners.WinnerRefused) as refused:
        winners.mark_no_response(drawn, now=at(10, 31, 23))
    assert refused.value.code == "contact-not-due" and drawn.status == W.VERIFIED
    winners.mark_no_response(drawn, note="three calls", now=at(11, 1, 9))
    assert (drawn.status, drawn.outcome) == (W.NO_RESPONSE, "no-response")


# --- act, forfeit, delivery, publication --------------------------------------------


@pytest.mark.parametrize("reason", winners.FORFEIT_REASONS)
def test_forfeit_for_the_reasons_of_rule_12(drawn, reason):
    in_touch(drawn)
    with pytest.raises(winners.WinnerRefused) as refused:
        winners.forfeit(drawn, "changed-mind", note="x")
    assert refused.value.code == "bad-forfeit-reason"
    winners.mark_act_issued(drawn, now=at(10, 26))
    winners.forfeit(drawn, reason, note="no ID card", now=at(10, 27))
    assert (drawn.status, drawn.outcome) == (W.FORFEITED, reason)


def test_delivery_by_rule_13_only(drawn):
    in_touch(drawn)
    with pytest.raises(winners.WinnerRefused):  # act not signed yet
        winners.deliver(drawn, method=W.ELECTRONIC, on=date(2022, 10, 28), now=at(10, 28))
    winners.mark_act_issued(drawn, now=at(10, 26))
    winners.mark_act_signed(drawn, now=at(10, 27))
    for method, office, staff, code in [
        ("cash", "", "", "bad-delivery-method"),  # rule 15
        (W.OFFICE, "Almaty office", "", "office-required"),
    ]:
        with pytest.raises(winners.WinnerRefused) as refused:
            winners.deliver(
                drawn,
                method=method,
                on=date(2022, 10, 28),
                office=office,
                staff=staff,
                now=at(10, 28),
            )
        assert refused.value.code == code and drawn.status == W.ACT_SIGNED
    winners.deliver(
        drawn,
        method=W.OFFICE,
        on=date(2022, 10, 28),
        office="Almaty, Abay 100",
        staff="A. Nurlanova",
        now=at(10, 28),
    )
    assert (drawn.status, drawn.delivery_office) == (W.DELIVERED, "Almaty, Abay 100")


def test_publication_announces_the_winner_without_personal_data(app, drawn):

    with pytest.raises(winners.WinnerRefused) as refused:
        winners.publish(drawn, {"kk": "t", "ru": "t"}, {"kk": "b", "ru": "b"})
    assert refused.value.code == "not-verified"
    verified(drawn)
    with app.test_request_context("/ru/"):
        titles, bodies = winner_announcement(drawn, SiteLinks())
    announcement = winners.publish(drawn, titles, bodies, now=at(10, 25))
    assert announcement.kind == Announcement.KIND_WINNER and drawn.published_at is not None
    participant = drawn.participant
    for text in (bodies["kk"], bodies["ru"]):
        assert participant.company_name in text and participant.account_masked in text
        assert participant.account_number not in text and participant.bin_iin not in text
        assert f"/draws/{drawn.draw_id}" in text
    with pytest.raises(winners.WinnerRefused) as refused:
        winners.publish(drawn, titles, bodies)
    assert refused.value.code == "already-published"


def test_every_step_is_in_the_audit_trail(drawn):
    in_touch(drawn)
    actions = db.session.scalars(
        sa.select(AuditEntry.action).filter_by(object_type="Winner", object_id=str(drawn.id))
    ).all()
    assert actions == ["winner.drawn", "winner.verified", "winner.contacted"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WinnerEvent)) == 3


# --- redraws ------------------------------------------------------------------------


def test_a_fallen_winner_leads_to_a_redraw_with_fresh_deadlines(drawn):

    winners.verify(drawn, manual_ok=False, manual_note="company closed", now=at(10, 24))
    db.session.commit()
    item = deadlines.pending(drawn.period.campaign, date(2022, 10, 24))
    assert [(i.kind, i.winner.id) for i in item] == [("redraw", drawn.id)]
    reason = redraw_reasons([drawn])
    new = redraw(
        drawn.draw, reason, fallback_reason="test", actor=admin_actor(), now=at(10, 25, 10)
    )
    (second,) = winners.winners_of_draw(new)
    assert second.participant_id != drawn.participant_id and second.status == W.DRAWN
    assert (second.drawn_on, second.verification_due, second.contact_due) == (
        date(2022, 10, 25),
        date(2022, 10, 27),
        date(2022, 11, 4),
    )
    assert (new.reason_kk, new.reason_ru) == (reason["kk"], reason["ru"])
    for lang in ("kk", "ru"):
        assert str(drawn.draw_id) in reason[lang]
        with force_locale(lang):
            assert winner_outcome_name("manual") in reason[lang]
        assert "company closed" not in reason[lang]  # staff notes stay off the public record
    assert drawn.status == W.DISQUALIFIED  # the history stays
    assert winners.standing(drawn.period) == [second]


# --- deadlines ----------------------------------------------------------------------


def test_deadlines_on_the_2022_calendar(drawn):
    campaign = drawn.period.campaign
    kinds = lambda today: [(i.kind, i.state, i.due) for i in deadlines.pending(campaign, today)]  # noqa: E731
    october = next(p for p in campaign.periods if p.key == "2022-10")
    assert kinds(date(2022, 10, 24)) == [
        ("verification", "soon", date(2022, 10, 26)),
    ]
    assert kinds(date(2022, 10, 26)) == [("verification", "today", date(2022, 10, 26))]
    assert kinds(date(2022, 10, 28)) == [
        ("verification", "overdue", date(2022, 10, 26)),
        ("contact", "soon", date(2022, 10, 31)),
    ]
    # December: October's draw (due 20 November) is overdue too
    assert ("draw", "overdue", october.draw_deadline) in kinds(date(2022, 12, 1))
    verified(drawn, at(10, 25))
    assert kinds(date(2022, 10, 31)) == [("contact", "today", date(2022, 10, 31))]


def client_page(app, auth, path: str) -> str:

    return html.unescape(auth.client.get(path).get_data(as_text=True))


def test_deadlines_command_and_dashboard_agree_and_notify_once(app, drawn, runner, auth):
    db.session.commit()
    app.config["MARKETING_MANAGER_EMAIL"] = "manager@ismet.kz"
    result = runner.invoke(args=["deadlines", "--today", "2022-10-28", "--lang", "ru"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("2022-")]
    assert len(lines) == 2 and "2022-10-26" in lines[0] and "2022-10-31" in lines[1]
    assert "28 октября 2022 г.:" in result.output.splitlines()[0]  # the day as Russian writes it
    with smtp_server(app) as smtpd:
        first = runner.invoke(args=["deadlines", "--today", "2022-10-28", "--notify"])
        again = runner.invoke(args=["deadlines", "--today", "2022-10-29", "--notify"])
    assert first.exit_code == 0 and "notices queued: 2" in first.output, first.output
    assert again.exit_code == 0 and "notices queued: 0" in again.output
    assert len(smtpd.received) == 2
    assert {m.rcpt_tos[0] for m in smtpd.received} == {"manager@ismet.kz"}
    # the dashboard lists exactly what the command prints, today
    auth.login("marketing")
    page = client_page(app, auth, "/admin/ismet-2022/")
    lang = re.search(r'<html lang="(\w+)"', page).group(1)
    now = runner.invoke(args=["deadlines", "--lang", lang])
    printed = [
        line[12:] for line in now.output.splitlines() if re.match(r"\d{4}-\d\d-\d\d  ", line)
    ]
    assert len(printed) >= 3  # the verification, the contact, and the draws of later months
    listed = re.findall(
        r'<li class="state-[^"]+"><span class="badge[^"]*">([^<]+)</span>\s*<a [^>]+>([^<]+)</a>',
        page,
    )
    assert [f"{state:<12} {text.strip()}" for state, text in listed] == printed


def png(size=(40, 30), exif_gps: bool = False, fmt: str = "PNG") -> bytes:
    image = Image.new("RGB", size, (10, 120, 200))
    out = io.BytesIO()
    if exif_gps:
        exif = Image.Exif()
        exif[0x8825] = {1: "N", 2: (43.0, 15.0, 0.0)}
        exif[0x010F] = "SecretCam"
        image.save(out, fmt, exif=exif)
    else:
        image.save(out, fmt)
    return out.getvalue()


def test_the_public_month_page_follows_the_winner(app, drawn, client):
    company = drawn.participant.company_name
    account = drawn.participant.account_number
    db.session.commit()
    page = client.get("/ru/ismet-2022/winners/2022-09").get_data(as_text=True)
    assert 'id="being-verified"' in page and company not in page
    verified(drawn)
    db.session.commit()
    page = client.get("/ru/ismet-2022/winners/2022-09").get_data(as_text=True)
    assert "being-verified" not in page and company not in page  # verified, not yet published

    with app.test_request_context("/ru/"):
        titles, bodies = winner_announcement(drawn, SiteLinks())
    winners.publish(drawn, titles, bodies)
    db.session.commit()
    page = client.get("/kk/ismet-2022/winners/2022-09").get_data(as_text=True)
    assert company in page and drawn.participant.account_masked in page
    assert account not in page and drawn.participant.bin_iin not in page
    assert f"/kk/draws/{drawn.draw_id}" in page
    news = client.get("/ru/ismet-2022/news").get_data(as_text=True)
    assert titles["ru"] in news


def test_staff_take_the_steps_and_upload_the_photo(app, drawn, client, auth):
    winner_id, company = drawn.id, drawn.participant.company_name
    db.session.commit()
    auth.login("marketing")

    def post(path, data, **kw):
        token = csrf_from(
            client.get(f"/admin/ismet-2022/winners/{winner_id}").get_data(as_text=True)
        )
        return client.post(path, data={"csrf_token": token, **data}, **kw)

    refused = post(
        f"/admin/ismet-2022/winners/{winner_id}/verify", {"manual_ok": "yes", "manual_note": ""}
    )
    assert refused.status_code == 400
    done = post(
        f"/admin/ismet-2022/winners/{winner_id}/verify",
        {"manual_ok": "yes", "manual_note": "register ok"},
    )
    assert done.status_code == 302
    answered = post(
        f"/admin/ismet-2022/winners/{winner_id}/contact",
        {"on": "2022-10-24", "channel": "phone", "answered": "y", "note": ""},
    )
    assert answered.status_code == 302
    db.session.expire_all()
    assert db.session.get(Winner, winner_id).status == W.CONTACTED
    winner = db.session.get(Winner, winner_id)
    winners.mark_act_issued(winner)  # the act's own steps are tested in test_acts.py
    winners.mark_act_signed(winner)
    db.session.commit()
    assert (
        post(
            f"/admin/ismet-2022/winners/{winner_id}/deliver",
            {"method": "electronic", "on": "2022-10-28", "note": "code sent"},
        ).status_code
        == 302
    )
    assert post(f"/admin/ismet-2022/winners/{winner_id}/publish", {}).status_code == 302
    # a renamed executable is refused by its content and nothing is stored
    fake = post(
        f"/admin/ismet-2022/winners/{winner_id}/photo",
        {"photo": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 200), "photo.jpg")},
        content_type="multipart/form-data",
    )
    assert fake.status_code == 400
    db.session.expire_all()
    assert db.session.get(Winner, winner_id).photo_path == ""
    good = post(
        f"/admin/ismet-2022/winners/{winner_id}/photo",
        {"photo": (io.BytesIO(png((3000, 2000), exif_gps=True, fmt="JPEG")), "me.jpg")},
        content_type="multipart/form-data",
    )
    assert good.status_code == 302
    db.session.expire_all()
    winner = db.session.get(Winner, winner_id)
    assert winner.status == W.PUBLISHED and winner.photo_type == "image/jpeg"
    page = client.get("/ru/ismet-2022/winners/2022-09").get_data(as_text=True)
    [src] = re.findall(r'src="(/ru/ismet-2022/winners/2022-09/photo/\d+)"', page)
    photo = client.get(src)
    assert photo.status_code == 200 and company in page
    served = Image.open(io.BytesIO(photo.data))
    assert max(served.size) <= 1600 and not served.getexif()  # resized, no GPS, no camera
    assert b"SecretCam" not in photo.data


def test_the_redraw_is_offered_with_the_reason_filled_in(app, drawn, client, auth):
    winners.verify(drawn, manual_ok=False, manual_note="company closed", now=at(10, 24))
    draw_id = drawn.draw_id
    db.session.commit()
    auth.login("commission")
    page = client.get(f"/admin/ismet-2022/draws/{draw_id}").get_data(as_text=True)
    assert 'id="redraw-heading"' in page and "company closed" not in page
    # the redraw's form comes once its pool is announced (the commission's first step)
    assert 'id="reason_kk"' not in page
    announced = client.post(
        f"/admin/ismet-2022/draws/{draw_id}/announce-redraw", data={"csrf_token": csrf_from(page)}
    )
    assert announced.status_code == 302
    page = client.get(f"/admin/ismet-2022/draws/{draw_id}").get_data(as_text=True)
    assert "pool-announcement" in page
    for lang in ("kk", "ru"):  # in each language, for the record and the protocol of each
        offered = re.search(f'<textarea[^>]*id="reason_{lang}"[^>]*>\\s*([^<]*)<', page).group(1)
        with force_locale(lang):
            assert html.unescape(offered.strip()) == redraw_reasons([drawn])[lang]
            assert winner_outcome_name("manual") in html.unescape(offered)
