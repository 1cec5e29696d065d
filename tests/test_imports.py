"""A month of activity data: checked row by row, stored all or nothing; eligibility with evidence."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from datetime import date

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from portal.campaign import eligibility
from portal.campaign.imports import COLUMNS, AlreadyImported, import_month
from portal.campaign.periods import find_period
from portal.demo import load_participants
from portal.demo.participants import month_files
from portal.models import Activity, AuditEntry, Campaign, ImportBatch, Participant, db
from tests.helpers import TODAY, bin_iin, count, csv_bytes, row


def test_a_clean_file_is_stored_and_eligibility_explained(empty_september):
    rows = [
        row(1),
        row(2, receipts_in_period="3"),
        row(3, ekassa_connected_on="2022-08-14"),
        row(4, app_authorized_on=""),
        row(5, paid_months="0"),
        row(6, app_authorized_on="2022-10-01"),
    ]
    batch, report = import_month(empty_september, "sep.csv", csv_bytes(rows, bom=True), today=TODAY)
    db.session.commit()
    assert report.ok and batch.status == "done" and batch.rows == 6
    assert count(Participant) == 6 and count(Activity) == 6
    run = eligibility.compute(empty_september)
    db.session.commit()
    assert (run.participants, run.eligible) == (6, 1)
    funnel = eligibility.funnel(empty_september)
    assert funnel == {
        "participants": 6,
        "app": 4,
        "ekassa": 5,
        "paid": 5,
        "receipts": 5,
        "legal_form": 6,
        "eligible": 1,
    }
    campaign = empty_september.campaign
    by_account = {a.participant.account_number: a for a in db.session.scalars(sa.select(Activity))}

    def explained(account: str) -> dict:
        checks = eligibility.explain(by_account[account], campaign, empty_september)
        return {c.condition: c for c in checks}

    checks = explained("ACC0000002")
    assert not checks["receipts"].ok and checks["receipts"].values == {"value": 3, "threshold": 5}
    checks = explained("ACC0000003")
    assert checks["ekassa"].reason == "early" and checks["ekassa"].values["value"] == date(
        2022, 8, 14
    )
    checks = explained("ACC0000006")
    assert checks["app"].reason == "fails"


def test_sql_and_python_conditions_always_agree(empty_september):

    rng = random.Random(7)
    dates = [
        "",
        "2022-07-31",
        "2022-08-31",
        "2022-09-01",
        "2022-09-15",
        "2022-09-30",
        "2022-10-01",
        "2022-10-04",
    ]
    rows = [
        row(
            n,
            app_authorized_on=rng.choice(dates),
            ekassa_connected_on=rng.choice(dates),
            paid_months=str(rng.randint(0, 3)),
            receipts_in_period=str(rng.randint(0, 9)),
        )
        for n in range(1, 401)
    ]
    import_month(empty_september, "sep.csv", csv_bytes(rows), today=TODAY)
    eligibility.compute(empty_september)
    for activity in db.session.scalars(sa.select(Activity)):
        # the statement and the explanation, both built from the campaign's conditions
        checks = eligibility.explain(activity, empty_september.campaign, empty_september)
        stored = [
            activity.ok_app,
            activity.ok_ekassa,
            activity.ok_paid,
            activity.ok_receipts,
            activity.ok_legal_form,
        ]
        assert [c.ok for c in checks] == stored
        assert activity.eligible == all(stored)


def test_one_bad_row_and_nothing_is_stored(empty_september):
    rows = [
        row(1),
        row(2, bin_iin="123456789012"),
        row(3, email="not an address"),
        row(4, app_authorized_on="2022-02-30"),
        row(5, ekassa_connected_on="2023-01-01"),
        row(6, paid_months="-1"),
        row(7, receipts_in_period="2.5"),
        row(1, company_name=""),
        row(8, app_authorized_on="01.09.2022"),
    ]
    batch, report = import_month(empty_september, "bad.csv", csv_bytes(rows), today=TODAY)
    db.session.commit()
    assert batch.status == "failed" and not report.ok
    found = {(p.row, p.column, p.code) for p in report.problems}
    assert found == {
        (3, "bin_iin", "bin-iin-invalid"),
        (4, "email", "email-format"),
        (5, "app_authorized_on", "date-invalid"),
        (6, "ekassa_connected_on", "date-future"),
        (7, "paid_months", "count-negative"),
        (8, "receipts_in_period", "count-format"),
        (9, "company_name", "required"),
        (9, "account_number", "duplicate-account"),
        (10, "app_authorized_on", "date-format"),
    }
    assert count(Participant) == 0 and count(Activity) == 0
    assert json.loads(batch.problems)[0]["row"] == 3 and batch.problems_total == 9


@pytest.mark.parametrize(
    "account", ["12,34", '1234"', "12 34", "1234\n5", "12;34", "••1234", "12\t34"]
)
def test_an_account_number_that_would_break_the_pool_file_is_refused(empty_september, account):
    """Its last four characters are a cell of the draw's pool file, whose cells are
    separated by commas and whose lines are counted by every verification."""
    out = io.StringIO()  # written by the csv module: the cell quoted as a spreadsheet would
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows([row(1), row(2, account_number=account)])
    batch, report = import_month(empty_september, "bad.csv", out.getvalue().encode(), today=TODAY)
    assert [(p.row, p.column, p.code) for p in report.problems] == [
        (3, "account_number", "account-format")
    ]
    assert batch.status == "failed" and count(Participant) == 0


def test_account_numbers_of_letters_digits_and_separators_are_taken(empty_september):
    accounts = ["7012345678", "KZ-0012/3", "ҚТ.4455_7", "0000000001"]
    rows = [row(n, account_number=a) for n, a in enumerate(accounts, start=1)]
    _, report = import_month(empty_september, "ok.csv", csv_bytes(rows), today=TODAY)
    assert report.ok, report.problems
    assert sorted(db.session.scalars(sa.select(Participant.account_number))) == sorted(accounts)


def test_missing_columns_and_unreadable_files(empty_september):
    columns = [c for c in COLUMNS if c != "bin_iin"]
    _, report = import_month(
        empty_september, "x.csv", csv_bytes([row(1)], columns=columns), today=TODAY
    )
    assert [(p.row, p.column, p.code) for p in report.problems] == [
        (0, "bin_iin", "missing-column")
    ]
    _, report = import_month(
        empty_september,
        "x.csv",
        "account_number\n".encode("cp1251") + "Компания".encode("cp1251"),
        today=TODAY,
    )
    assert report.problems[0].code == "not-utf8"
    _, report = import_month(
        empty_september, "x.xlsx", b"PK\x03\x04 not really a workbook", today=TODAY
    )
    assert report.problems[0].code == "bad-xlsx"
    _, report = import_month(empty_september, "x.csv", csv_bytes([]), today=TODAY)
    assert report.problems[0].code == "no-rows"
    assert count(Activity) == 0


def test_problems_are_capped_at_1000_with_the_total(empty_september):
    rows = [row(n, bin_iin="123456789012") for n in range(1, 1201)]
    _, report = import_month(empty_september, "x.csv", csv_bytes(rows), today=TODAY)
    assert len(report.problems) == 1000 and report.total == 1200


def test_an_account_keeps_its_bin_iin_across_months(empty_september):
    import_month(empty_september, "sep.csv", csv_bytes([row(1)]), today=TODAY)
    db.session.commit()
    october = find_period(empty_september.campaign, "2022-10")
    _, report = import_month(
        october, "oct.csv", csv_bytes([row(1, bin_iin=bin_iin(5))]), today=date(2022, 11, 3)
    )
    assert [(p.row, p.code) for p in report.problems] == [(2, "bin-iin-changed")]


def test_reimport_replaces_the_month_only_when_confirmed(empty_september):
    first, _ = import_month(empty_september, "sep.csv", csv_bytes([row(1), row(2)]), today=TODAY)
    db.session.commit()
    with pytest.raises(AlreadyImported):
        import_month(empty_september, "sep2.csv", csv_bytes([row(3)]), today=TODAY)
    db.session.rollback()
    _, report = import_month(
        empty_september,
        "sep2.csv",
        csv_bytes([row(2, city="Astana"), row(3)]),
        today=TODAY,
        replace=True,
    )
    db.session.commit()
    assert report.ok
    assert db.session.get(ImportBatch, first.id).status == "replaced"
    accounts = set(
        db.session.scalars(
            sa.select(Participant.account_number).join(
                Activity, Activity.participant_id == Participant.id
            )
        )
    )
    assert accounts == {"ACC0000002", "ACC0000003"}
    assert (
        db.session.scalar(sa.select(Participant.city).filter_by(account_number="ACC0000002"))
        == "Astana"
    )


def test_xlsx_with_the_same_header(empty_september):

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS))
    values = row(1)
    values["paid_months"] = 2
    values["app_authorized_on"] = date(2022, 8, 1)
    sheet.append([values[c] for c in COLUMNS])
    out = io.BytesIO()
    workbook.save(out)
    _, report = import_month(empty_september, "sep.xlsx", out.getvalue(), today=TODAY)
    assert report.ok, report.problems
    activity = db.session.scalar(sa.select(Activity))
    assert activity.paid_months == 2 and activity.app_authorized_on == date(2022, 8, 1)


def test_import_command_all_or_nothing_then_replace(app, runner, demo, tmp_path):
    good = tmp_path / "sep.csv"
    good.write_bytes(csv_bytes([row(1), row(2, receipts_in_period="1")]))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([row(3), row(4, bin_iin="123456789012")]))
    result = runner.invoke(
        args=["participants", "import", str(bad), "--period", "2022-09", "--lang", "ru"]
    )
    assert result.exit_code == 1
    assert "Строка 3: bin_iin не состоит из 12 цифр с верной контрольной цифрой." in result.output
    assert "nothing was imported" in result.output
    result = runner.invoke(args=["participants", "import", str(good), "--period", "2022-09"])
    assert result.exit_code == 0, result.output
    assert "Imported 2 rows for 2022-09" in result.output and "1 of 2 eligible" in result.output
    again = runner.invoke(args=["participants", "import", str(good), "--period", "2022-09"])
    assert again.exit_code == 1 and "--replace" in again.output
    replaced = runner.invoke(
        args=["participants", "import", str(good), "--period", "2022-09", "--replace"]
    )
    assert replaced.exit_code == 0
    assert (
        runner.invoke(args=["participants", "import", str(good), "--period", "2031-01"]).exit_code
        == 1
    )
    with app.app_context():
        actions = list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))
        assert (
            actions.count("participants.import") == 3
            and actions.count("participants.eligibility") == 2
        )
    result = runner.invoke(args=["participants", "eligibility", "--period", "2022-09"])
    assert result.exit_code == 0 and "1 of 2 participants eligible" in result.output


def test_demo_months_are_deterministic_valid_and_varied(empty_september):

    assert month_files() == month_files()
    done = load_participants(empty_september.campaign)
    db.session.commit()
    assert [line.split(":")[0] for line in done] == ["2022-09", "2022-10", "2022-11"]
    for period in empty_september.campaign.periods:
        funnel = eligibility.funnel(period)
        assert funnel["participants"] >= 3000
        # some fail each condition that a valid file can fail, and a fair share pass all
        for condition in ("app", "ekassa", "paid", "receipts"):
            assert 0 < funnel[condition] < funnel["participants"], (period.key, condition)
        assert funnel["participants"] * 0.1 < funnel["eligible"] < funnel["participants"] * 0.5
    assert load_participants(empty_september.campaign) == []


def test_staff_see_the_funnel_search_a_participant_and_export_the_pool(app, client, auth, demo):
    with app.app_context():
        september = find_period(db.session.get(Campaign, demo), "2022-09")
        import_month(
            september,
            "sep.csv",
            csv_bytes([row(1), row(2, receipts_in_period="2"), row(3, city="Shymkent")]),
            today=TODAY,
        )
        eligibility.compute(september)
        db.session.commit()
    auth.login("auditor")
    page = client.get("/admin/ismet-2022/participants").get_data(as_text=True)
    assert 'data-share="66.7"' in page  # 2 of 3 have enough receipts
    found = client.post(  # by POST: the account number stays out of every address and log
        "/admin/ismet-2022/participants",
        data={"q": "ACC0000002", "csrf_token": auth.token("/admin/ismet-2022/participants")},
    ).get_data(as_text=True)
    link = re.search(r'href="(/admin/ismet-2022/participants/\d+)"', found).group(1)
    detail = client.get(link).get_data(as_text=True)
    assert "Company 2" in detail and 'class="not-ok"' in detail
    # the auditor reads, changes nothing and exports no list of people
    assert client.get("/admin/ismet-2022/participants/2022-09/eligible.csv").status_code == 403
    assert (
        client.post(
            "/admin/ismet-2022/participants/2022-09/eligibility",
            data={"csrf_token": auth.token("/admin/ismet-2022/participants")},
        ).status_code
        == 403
    )
    auth.logout()
    auth.login("marketing")
    with client.get("/admin/ismet-2022/participants/2022-09/eligible.csv") as response:
        lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("account_number,bin_iin")
    assert [line.split(",")[0] for line in lines[1:]] == ["ACC0000001", "ACC0000003"]


def test_cells_longer_than_their_columns_are_reported_on_every_database(empty_september):
    """Over-long cells are problems of their rows, never a database error while staging."""
    rows = [
        row(1),
        row(2, company_name="Ж" * 301),
        row(3, legal_form="L" * 101, city="Қ" * 101),
        row(4, account_number="9" * 33, phone="+7" * 21),
    ]
    batch, report = import_month(empty_september, "long.csv", csv_bytes(rows), today=TODAY)
    db.session.commit()
    assert batch.status == "failed"
    assert {(p.row, p.column, p.code, p.detail) for p in report.problems} == {
        (3, "company_name", "too-long", "300"),
        (4, "legal_form", "too-long", "100"),
        (4, "city", "too-long", "100"),
        (5, "account_number", "too-long", "32"),
        (5, "phone", "too-long", "40"),
    }
    assert count(Participant) == 0 and count(Activity) == 0
