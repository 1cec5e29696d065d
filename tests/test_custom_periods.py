"""Custom reporting periods (issue 19, part 2): a campaign of two half-months of March
2023 set up through the staff screens, imported, judged, drawn through the stand-in and
named by its label or its days; the months of the other campaigns as before; overlaps
refused."""

from __future__ import annotations

import json
from datetime import date, datetime

import flask_migrate
import pytest
import sqlalchemy as sa

from portal.campaign import draws, eligibility, setup
from portal.campaign.imports import Layout, import_month
from portal.campaign.periods import CAMPAIGN_TZ, PeriodNotFound, find_period, resolve_period
from portal.demo.conditions_2022 import standard_2022
from portal.models import Activity, AuditEntry, Campaign, ReportingPeriod, db
from portal.wording.formats import format_period
from portal.wording.messages import describe_refusal
from tests.helpers import conduct, count, csv_bytes, make_app, page_text, row, translated
from tests.test_campaign_setup import RULES_KK, RULES_RU, campaign_form, post
from tests.test_draw_texts import _insert

LINES = (
    "2023-03-01 | 2023-03-15 | Наурыздың бірінші жартысы | Первая половина марта\n"
    "2023-03-16 | 2023-03-31"
)
CONDITIONS = [c for c in standard_2022() if c.code in ("app", "receipts")]
AFTER_MARCH = datetime(2023, 4, 3, 11, 0, tzinfo=CAMPAIGN_TZ)


def march_form(**changes) -> dict:
    values = {
        "slug": "march-2023",
        "starts_on": "2023-03-01",
        "ends_on": "2023-03-31",
        "draw_deadline_day": "20",
        "period_kind": "custom",
        "period_lines": LINES,
        "chosen": [c.as_dict() for c in CONDITIONS],
        "rules_kk": RULES_KK,
        "rules_ru": RULES_RU,
    }
    return campaign_form(**{**values, **changes})


def the(slug: str) -> Campaign:
    return db.session.scalar(sa.select(Campaign).filter_by(slug=slug))


@pytest.fixture
def march(app, client, auth):
    """The campaign set up and published through the screens; its id."""
    auth.login("admin")
    assert post(client, auth, "/admin/campaigns/new", march_form()).status_code == 302
    assert post(client, auth, "/admin/campaigns/march-2023/publish", {}).status_code == 302
    with app.app_context():
        return the("march-2023").id


def test_custom_periods_are_set_up_with_their_keys_days_names_and_deadlines(app, march):
    with app.app_context():
        campaign = db.session.get(Campaign, march)
        assert campaign.status == Campaign.PUBLISHED and campaign.custom_periods
        assert [
            (p.key, p.first_day, p.last_day, p.year, p.month, p.draw_deadline, p.label_ru)
            for p in campaign.periods
        ] == [
            (
                "2023-03-01",
                date(2023, 3, 1),
                date(2023, 3, 15),
                2023,
                3,
                date(2023, 4, 20),
                "Первая половина марта",
            ),
            ("2023-03-16", date(2023, 3, 16), date(2023, 3, 31), 2023, 3, date(2023, 4, 20), None),
        ]
        first, second = campaign.periods
        assert (first.starts_on, first.ends_on) == (date(2023, 3, 1), date(2023, 3, 15))
        assert format_period(first, "kk") == "Наурыздың бірінші жартысы"
        assert format_period(second, "kk") == "2023 жылғы 16–31 наурыз"
        assert format_period(second, "ru") == "16–31 марта 2023 г."
        assert find_period(campaign, "2023-03-16") is second
        assert find_period(campaign, "2023-03") is None
        assert resolve_period("2023-03-01", "march-2023") is first
        with pytest.raises(PeriodNotFound):
            resolve_period("2023-03-32")
        # the set-up screen shows them as lines again
        assert setup.period_lines(setup.period_specs(campaign)) == LINES


def test_a_custom_period_is_imported_judged_at_its_own_end_drawn_and_named(
    app, client, march, standin
):
    columns = Layout.of(CONDITIONS).names
    rows = [
        row(1, app_authorized_on="2023-03-10", receipts_in_period="6"),
        row(2, app_authorized_on="2023-03-20", receipts_in_period="6"),  # after the 15th
        row(3, app_authorized_on="2023-02-01", receipts_in_period="7"),
    ]
    with app.app_context():
        campaign = db.session.get(Campaign, march)
        first, second = campaign.periods
        for period in (first, second):
            _, report = import_month(
                period,
                f"{period.key}.csv",
                csv_bytes(rows, columns=columns),
                today=date(2023, 4, 1),
            )
            assert report.ok
            eligibility.compute(period)
        db.session.commit()
        verdicts = {
            period.key: dict(
                db.session.execute(
                    sa.select(Activity.participant_id, Activity.eligible).filter_by(
                        period_id=period.id
                    )
                ).all()
            )
            for period in (first, second)
        }
        # authorised on 20 March: not by the first period's end, by the second's
        assert sorted(verdicts["2023-03-01"].values()) == [False, True, True]
        assert sorted(verdicts["2023-03-16"].values()) == [True, True, True]
        draw = conduct(first, now=AFTER_MARCH)
        db.session.commit()
        assert draw.source == draw.RANDOM_ORG
        assert json.loads(draw.random_json)["userData"]["period"] == "2023-03-01"
        assert draws.verified(draws.verify(draw))
        assert len(draw.winners) == 2  # the two eligible of the first half
        draw_id = draw.id
    for lang, name in (("kk", "Наурыздың бірінші жартысы"), ("ru", "Первая половина марта")):
        page = page_text(client.get(f"/{lang}/march-2023/winners/2023-03-01"))
        assert name in page
        assert name in page_text(client.get(f"/{lang}/draws/{draw_id}"))
        assert name in page_text(client.get(f"/{lang}/march-2023/winners"))
    second_page = page_text(client.get("/ru/march-2023/winners/2023-03-16"))
    assert "16–31 марта 2023 г." in second_page
    assert "2023 жылғы 16–31 наурыз" in page_text(client.get("/kk/march-2023/winners/2023-03-16"))
    assert client.get("/ru/march-2023/winners/2023-03").status_code == 404
    # the undrawn second half and the winners' table speak of a reporting period, not a month
    with app.app_context():
        first, second = db.session.get(Campaign, march).periods
        several = draws.prize_count(second) > 1
        already = draws.refusals(first, None, AFTER_MARCH)
    undrawn = (
        "The winners of this reporting period will be published here after the draw and the"
        " check of the winners."
        if several
        else "The winner of this reporting period will be published here after the draw and"
        " the check of the winner."
    )
    for lang in ("kk", "ru"):
        page = page_text(client.get(f"/{lang}/march-2023/winners/2023-03-16"))
        assert translated(lang, undrawn) in page
        assert translated(lang, "The winner of this month will be published here") not in page
        table = page_text(client.get(f"/{lang}/march-2023/winners"))
        assert translated(lang, "Reporting period") in table
        assert translated(lang, "Reporting month") not in table
        record = page_text(client.get(f"/{lang}/draws/{draw_id}"))
        assert translated(lang, "Prizes of the period") in record
        assert translated(lang, "Prizes of the month") not in record
        home = page_text(client.get(f"/{lang}/march-2023/"))
        assert (
            translated(
                lang,
                "In every reporting period these prizes are drawn among the small-business"
                " clients of the Ismet.kz app:",
            )
            in home
            or draws.prize_count(second) == 1
        )
    assert [r.code for r in already] == ["already-drawn"]
    with app.test_request_context("/ru/"):
        said = describe_refusal(already[0])
    assert said.startswith("Призы за " if several else "Приз за ")
    assert "Первая половина марта" in said


def test_the_staff_draw_page_takes_a_custom_key(app, client, march):
    page = client.get("/admin/march-2023/draws/new/2023-03-16")
    assert page.status_code == 200
    assert "16–31" in page_text(page)


@pytest.mark.parametrize("lang", ["kk", "ru"])
@pytest.mark.parametrize(
    ("lines", "message", "detail"),
    [
        (
            "2023-03-01 | 2023-03-15\n2023-03-15 | 2023-03-31",
            "Reporting period %(detail)s overlaps the one above it.",
            "2",
        ),
        (
            "2023-03-16 | 2023-03-31\n2023-03-01 | 2023-03-15",
            "Reporting period %(detail)s starts before the one above it: list them in order.",
            "2",
        ),
        (
            "2023-02-20 | 2023-03-15",
            "Reporting period %(detail)s falls outside the campaign's dates.",
            "1",
        ),
        ("2023-03-15 | 2023-03-01", "Reporting period %(detail)s ends before it starts.", "1"),
        (
            "1 March | 15 March",
            "Line %(detail)s of the reporting periods is not: first day | last day | name in Kazakh | name in Russian (the days as YYYY-MM-DD, the names optional).",
            "1",
        ),
    ],
)
def test_bad_custom_periods_are_refused_with_nothing_changed(
    app, client, auth, lang, lines, message, detail
):
    auth.create("admin", f"{lang}@ismet.kz", language=lang)
    auth.login("admin", f"{lang}@ismet.kz", create=False)
    with app.app_context():
        before = count(Campaign), count(ReportingPeriod), count(AuditEntry)
    response = post(client, auth, "/admin/campaigns/new", march_form(period_lines=lines))
    assert response.status_code == 400
    expected = translated(lang, message) % {"detail": detail}
    assert expected.replace("'", "&#39;") in page_text(response)
    with app.app_context():
        assert (count(Campaign), count(ReportingPeriod), count(AuditEntry)) == before


def test_a_draft_changes_its_periods_and_goes_back_to_months(app, client, auth):
    auth.login("admin")
    assert post(client, auth, "/admin/campaigns/new", march_form()).status_code == 302
    edited = march_form(period_lines="2023-03-01 | 2023-03-10\n2023-03-20 | 2023-03-31 | A | Б")
    assert post(client, auth, "/admin/campaigns/march-2023/edit", edited).status_code == 302
    with app.app_context():
        campaign = the("march-2023")
        assert [(p.key, p.last_day, p.label_ru) for p in campaign.periods] == [
            ("2023-03-01", date(2023, 3, 10), None),
            ("2023-03-20", date(2023, 3, 31), "Б"),
        ]
        entry = db.session.scalar(
            sa.select(AuditEntry).filter_by(action="campaign.update").order_by(AuditEntry.id.desc())
        )
        assert "periods" in json.dumps(entry.details)
    monthly = march_form(period_kind="monthly", ends_on="2023-04-30")
    assert post(client, auth, "/admin/campaigns/march-2023/edit", monthly).status_code == 302
    with app.app_context():
        campaign = the("march-2023")
        assert not campaign.custom_periods
        assert [p.key for p in campaign.periods] == ["2023-03", "2023-04"]
        assert format_period(campaign.periods[0], "ru") == "Март 2023 г."


def test_a_published_campaign_keeps_its_periods(app, client, auth, march):
    response = post(
        client,
        auth,
        "/admin/campaigns/march-2023/edit",
        march_form(period_lines="2023-03-01 | 2023-03-31"),
    )
    assert response.status_code == 400
    with app.app_context():
        assert [p.key for p in the("march-2023").periods] == ["2023-03-01", "2023-03-16"]


def test_a_copy_moves_the_custom_periods_with_its_start(app, client, auth, march):
    response = post(
        client,
        auth,
        "/admin/campaigns/march-2023/copy",
        {"slug": "march-2024", "starts_on": "2024-03-01", "ends_on": "2024-03-31"},
    )
    assert response.status_code == 302
    with app.app_context():
        copy = the("march-2024")
        assert copy.custom_periods and copy.status == Campaign.DRAFT
        assert [(p.key, p.last_day, p.label_kk) for p in copy.periods] == [
            ("2024-03-01", date(2024, 3, 15), "Наурыздың бірінші жартысы"),
            ("2024-03-16", date(2024, 3, 31), None),
        ]


def test_a_monthly_period_reads_and_is_found_as_before(app, ctx, demo):
    campaign = db.session.get(Campaign, demo)
    september = find_period(campaign, "2022-09")
    assert (september.key, september.first_day, september.last_day) == (
        "2022-09",
        date(2022, 9, 1),
        date(2022, 9, 30),
    )
    assert september.whole_month and not campaign.custom_periods
    assert format_period(september, "ru") == "Сентябрь 2022 г."
    assert format_period(september, "kk", in_text=True) == "2022 жылғы қыркүйек"


def test_migration_0034_gives_every_month_its_days_and_key(request, tmp_path):
    app = make_app(request.getfixturevalue("migration_database"), tmp_path / "instance")
    with app.app_context():
        flask_migrate.upgrade(revision="0033")
        with db.engine.begin() as connection:
            _insert(connection, "campaign", id=1, slug="c")
            _insert(connection, "reporting_period", id=1, campaign_id=1, year=2024, month=2)
        flask_migrate.upgrade()
        period = db.session.get(ReportingPeriod, 1)
        assert (period.key, period.first_day, period.last_day, period.label_kk) == (
            "2024-02",
            date(2024, 2, 1),
            date(2024, 2, 29),
            None,
        )
        assert db.session.get(Campaign, 1).custom_periods is False
        db.session.rollback()
        with db.engine.begin() as connection, pytest.raises(sa.exc.IntegrityError):
            # one key a campaign
            _insert(
                connection,
                "reporting_period",
                id=2,
                campaign_id=1,
                year=2024,
                month=2,
                key="2024-02",
                first_day=date(2024, 2, 1),
                last_day=date(2024, 2, 29),
            )
        flask_migrate.downgrade(revision="0033")
        with db.engine.connect() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("reporting_period")}
            assert not columns & {"key", "first_day", "last_day", "label_kk", "label_ru"}
        flask_migrate.upgrade()
        db.session.remove()
        db.engine.dispose()
