"""The staff area per campaign (issue 19): each campaign's pages under ``/admin/<slug>/``,
two campaigns sharing a month kept apart in pages and commands, drafts open to staff
only, and the old ``/admin/<page>`` addresses answering with a redirect."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from portal.campaign import catalogue, deadlines, eligibility
from portal.campaign.imports import import_month
from portal.campaign.periods import PeriodNotFound, current_campaign, find_period, resolve_period
from portal.models import Activity, Campaign, Participant, ReportingPeriod, Winner, db
from tests.helpers import (
    csrf_from,
    csv_2023,
    make_campaign_2023,
    page_text,
    row_2023,
)

APRIL_5 = date(2023, 4, 5)  # the day March 2023's files are imported


def _march(slug: str, rows: list[dict]) -> None:
    """Import ``rows`` into March 2023 of the campaign ``slug`` and compute eligibility."""
    campaign = db.session.scalar(sa.select(Campaign).filter_by(slug=slug))
    period = find_period(campaign, "2023-03")
    _, report = import_month(period, "march.csv", csv_2023(rows), today=APRIL_5)
    assert report.ok, report
    eligibility.compute(period)
    db.session.commit()


@pytest.fixture
def two_springs(app, demo):
    """The 2022 demo campaign, ``ismet-2023`` (published) and ``spring-bonus`` (a draft,
    the same months): March 2023 of each holds its own clients (1-3, and 21-22)."""
    with app.app_context():
        make_campaign_2023()
        make_campaign_2023(slug="spring-bonus", status=Campaign.DRAFT)
        _march("ismet-2023", [row_2023(n) for n in (1, 2, 3)])
        _march("spring-bonus", [row_2023(n) for n in (21, 22)])
    return demo


def test_two_campaigns_with_the_same_month_stay_apart_in_staff_pages(
    app, client, auth, two_springs
):
    auth.login("admin")
    ours = client.get("/admin/ismet-2023/participants/2023-03/eligible.csv").get_data(as_text=True)
    theirs = client.get("/admin/spring-bonus/participants/2023-03/eligible.csv").get_data(
        as_text=True
    )
    assert {f"ACC{n:07d}" in ours for n in (1, 2, 3)} == {True}
    assert {f"ACC{n:07d}" in ours for n in (21, 22)} == {False}
    assert {f"ACC{n:07d}" in theirs for n in (21, 22)} == {True}
    assert {f"ACC{n:07d}" in theirs for n in (1, 2, 3)} == {False}
    # the draw's confirmation screen counts each campaign's own pool
    assert "3" in page_text(client.get("/admin/ismet-2023/draws/new/2023-03"))
    search = client.get("/admin/spring-bonus/participants")
    token = csrf_from(search.get_data(as_text=True))
    found = page_text(
        client.post("/admin/spring-bonus/participants", data={"q": "Company", "csrf_token": token})
    )
    assert "Company 21" in found and "Company 1 " not in found and "Company 3" not in found
    # a campaign without the month: 404, never another campaign's March
    assert client.get("/admin/ismet-2022/participants/2023-03/eligible.csv").status_code == 404


def test_eligibility_recomputed_from_one_campaigns_page_leaves_the_other_alone(
    app, client, auth, two_springs
):
    auth.login("admin")
    with app.app_context():
        bonus = db.session.scalar(sa.select(Campaign).filter_by(slug="spring-bonus"))
        before = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Activity)
            .join(Participant, Participant.id == Activity.participant_id)
            .where(Participant.campaign_id == bonus.id, Activity.eligible.is_(True))
        )
    token = auth.token("/admin/ismet-2023/participants")
    answer = client.post(
        "/admin/ismet-2023/participants/2023-03/eligibility", data={"csrf_token": token}
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/admin/ismet-2023/")
    with app.app_context():
        periods = {
            p.campaign.slug: eligibility.latest_run(p)
            for p in db.session.scalars(sa.select(ReportingPeriod).filter_by(year=2023, month=3))
        }
        assert periods["ismet-2023"].eligible == 3 and periods["spring-bonus"].eligible == 2
        assert before == 2


def test_commands_name_a_month_of_one_campaign_and_refuse_a_shared_key(
    app, runner, two_springs, tmp_path
):
    shared = runner.invoke(args=["participants", "eligibility", "--period", "2023-03"])
    assert shared.exit_code != 0
    assert "2023-03" in shared.output and "--campaign" in shared.output
    assert "ismet-2023" in shared.output and "spring-bonus" in shared.output

    named = runner.invoke(
        args=["participants", "eligibility", "--period", "2023-03", "--campaign", "spring-bonus"]
    )
    assert named.exit_code == 0, named.output
    assert "2023-03: 2 of 2" in named.output

    # a month only one campaign has needs no --campaign: the documented lines still work
    april = tmp_path / "april.csv"
    april.write_bytes(csv_2023([row_2023(5), row_2023(6, legal_form="LLP")]))
    shared_again = runner.invoke(
        args=["participants", "import", str(april), "--period", "2023-04", "--lang", "ru"]
    )
    assert shared_again.exit_code != 0 and "--campaign" in shared_again.output
    imported = runner.invoke(
        args=[
            "participants",
            "import",
            str(april),
            "--period",
            "2023-04",
            "--campaign",
            "ismet-2023",
        ]
    )
    assert imported.exit_code == 0, imported.output
    assert "1 of 2 eligible" in imported.output  # the LLP is not an IE: this campaign's rule
    only_2022 = runner.invoke(args=["participants", "eligibility", "--period", "2022-09"])
    assert only_2022.exit_code == 0, only_2022.output

    unknown = runner.invoke(
        args=["participants", "eligibility", "--period", "2023-03", "--campaign", "nope"]
    )
    assert unknown.exit_code != 0 and "no campaign with the slug nope" in unknown.output
    missing = runner.invoke(args=["participants", "eligibility", "--period", "2023-07"])
    assert missing.exit_code != 0 and "no reporting month 2023-07" in missing.output
    with app.app_context():
        assert resolve_period("2022-10").campaign.slug == "ismet-2022"
        with pytest.raises(PeriodNotFound) as refused:
            resolve_period("2023-05")
        assert refused.value.reason == "ambiguous"
        assert resolve_period("2023-05", "spring-bonus").campaign.slug == "spring-bonus"
        with pytest.raises(PeriodNotFound):
            resolve_period("2023-13", "spring-bonus")


def test_a_draft_campaigns_staff_pages_work_and_its_public_pages_are_404(
    app, client, auth, two_springs
):
    auth.login("marketing")
    for path in ("", "participants", "draws", "winners", "rules", "news", "participants/import"):
        assert client.get(f"/admin/spring-bonus/{path}").status_code == 200, path
    page = page_text(client.get("/admin/spring-bonus/"))
    assert "Весенняя акция приложения Ismet.kz 2023 года" in page and "Черновик" in page
    for path in ("", "rules", "winners", "draws", "check"):
        assert client.get(f"/ru/spring-bonus/{path}").status_code == 404, path
    assert client.get("/ru/ismet-2023/").status_code == 200


def test_the_header_names_the_campaign_and_switches_between_all(app, client, auth, two_springs):
    auth.login("admin")
    page = client.get("/admin/ismet-2023/draws").get_data(as_text=True)
    bar = page[page.index('id="campaign-bar"') : page.index("</details>")]
    assert "Весенняя акция приложения Ismet.kz 2023 года" in bar and "Опубликована" in bar
    # every campaign, the draft marked; a list page switches to the same list
    assert 'href="/admin/ismet-2022/draws"' in bar
    assert 'href="/admin/spring-bonus/draws"' in bar and "Черновик" in bar
    assert 'href="/admin/ismet-2023/draws" aria-current="true"' in bar
    # a record's page switches to the other campaign's dashboard
    with app.app_context():
        other = db.session.scalar(sa.select(Participant).filter_by(account_number="ACC0000021"))
    record = client.get(f"/admin/spring-bonus/participants/{other.id}").get_data(as_text=True)
    assert 'href="/admin/ismet-2023/"' in record
    # a site-wide page keeps the campaign worked on last in its links
    accounts = client.get("/admin/users").get_data(as_text=True)
    assert 'href="/admin/spring-bonus/draws"' in accounts


def test_a_record_of_another_campaign_is_not_found_under_this_ones_address(
    app, client, auth, demo, two_springs
):
    auth.login("admin")
    with app.app_context():
        someone = db.session.scalar(sa.select(Participant).filter_by(account_number="ACC0000001"))
        theirs = db.session.scalar(sa.select(Participant).filter_by(account_number="ACC0000021"))
        ours_id, theirs_id = someone.id, theirs.id
    assert client.get(f"/admin/ismet-2023/participants/{ours_id}").status_code == 200
    assert client.get(f"/admin/spring-bonus/participants/{ours_id}").status_code == 404
    assert client.get(f"/admin/ismet-2023/participants/{theirs_id}").status_code == 404
    # an unknown slug, and a reserved word, are no campaign
    assert client.get("/admin/no-such-campaign/draws").status_code == 404
    assert client.get("/admin/no-such-campaign/").status_code == 404


def test_signed_out_an_unknown_campaign_says_nothing_but_sign_in(client, two_springs):
    for path in ("/admin/no-such-campaign/draws", "/admin/spring-bonus/draws", "/admin/draws"):
        answer = client.get(path)
        assert answer.status_code == 302 and "/admin/login" in answer.headers["Location"]


def test_old_staff_addresses_answer_a_302_to_the_campaigns_page(
    app, client, auth, drawn, two_springs
):
    auth.login("admin")
    with app.app_context():
        current = current_campaign().slug
        winner = db.session.get(Winner, drawn.id)
        winner_id, draw_id, status = winner.id, winner.draw_id, winner.status
    assert current in ("ismet-2023", "spring-bonus")  # the latest started, draft or not
    moved = client.get("/admin/draws?lang=ru&x=1")
    assert moved.status_code == 302
    assert moved.headers["Location"] == f"/admin/{current}/draws?lang=ru&x=1"
    assert client.get("/admin/participants/import").headers["Location"] == (
        f"/admin/{current}/participants/import"
    )
    assert client.get("/admin/rules").headers["Location"] == f"/admin/{current}/rules"
    # a record's old address goes to its own campaign's page
    assert client.get(f"/admin/winners/{winner_id}").headers["Location"] == (
        f"/admin/ismet-2022/winners/{winner_id}"
    )
    assert client.get(f"/admin/draws/{draw_id}").headers["Location"] == (
        f"/admin/ismet-2022/draws/{draw_id}"
    )
    assert client.get("/admin/").headers["Location"] == f"/admin/{current}/"
    # a form sent to an old address is refused: nothing acts on a campaign it may not mean
    token = auth.token(f"/admin/ismet-2022/winners/{winner_id}")
    refused = client.post(
        f"/admin/winners/{winner_id}/verify", data={"csrf_token": token, "outcome": "ok"}
    )
    assert refused.status_code == 404
    with app.app_context():
        assert db.session.get(Winner, winner_id).status == status


def test_reserved_segments_are_never_a_slug(app):
    """Every first segment of a site-wide staff address, and of an old campaign page's,
    is reserved: no campaign could be named so and shadow it."""
    firsts = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin.") and not rule.rule.startswith("/admin/<"):
            first = rule.rule.removeprefix("/admin/").split("/")[0]
            if first:
                firsts.add(first)
    assert firsts <= catalogue.RESERVED_SLUGS, firsts - catalogue.RESERVED_SLUGS
    assert not catalogue.slug_allowed("campaigns") and catalogue.slug_allowed("ismet-2023")


def test_the_dashboard_lists_what_is_due_in_every_published_campaign(
    app, client, auth, drawn, two_springs
):
    """The draws due in 2022 and in spring 2023 both show on a dashboard; a draft's only
    on its own (it has no public draw to be late for)."""
    auth.login("admin")
    page = client.get("/admin/ismet-2022/").get_data(as_text=True)
    named = re.findall(r'<span class="deadline-campaign">([^<]+):</span>', page)
    assert len(set(named)) == 2, named  # the 2022 campaign's and ismet-2023's, not the draft's
    assert 'href="/admin/ismet-2023/draws"' in client.get("/admin/ismet-2022/").get_data(
        as_text=True
    )
    assert 'href="/admin/spring-bonus/draws"' not in client.get("/admin/ismet-2022/").get_data(
        as_text=True
    )
    assert 'href="/admin/spring-bonus/draws"' in client.get("/admin/spring-bonus/").get_data(
        as_text=True
    )


def test_the_deadlines_command_covers_every_published_campaign(app, runner, two_springs):
    every = runner.invoke(args=["deadlines", "--today", "2023-04-25", "--lang", "ru"])
    assert every.exit_code == 0, every.output
    lines = [line for line in every.output.splitlines() if re.match(r"\d{4}-\d\d-\d\d  ", line)]
    assert any("ismet-2023: " in line for line in lines), lines
    assert any("ismet-2022: " in line for line in lines), lines  # its draws never held here
    assert not any("spring-bonus" in line for line in lines)  # a draft is no one's deadline yet
    draft = runner.invoke(args=["deadlines", "--today", "2023-04-25", "--campaign", "spring-bonus"])
    assert draft.exit_code == 0 and "2023-04-20" in draft.output, draft.output
    with app.app_context():
        keys = {item.key for item in deadlines.pending_every(date(2023, 4, 25))}
        assert "draw:ismet-2023:2023-03" in keys and "draw:ismet-2022:2022-09" in keys
