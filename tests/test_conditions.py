"""Eligibility conditions as data (issue 19, part 3): the 2022 campaign's five conditions as
rows give exactly rule 4's results, another campaign's conditions read their own columns,
and a set that does not fit the slots is refused."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from datetime import date

import flask_migrate
import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.campaign import conditions, eligibility, imports
from portal.campaign.audit import Actor
from portal.campaign.conditions import Condition, ConditionsRefused
from portal.campaign.periods import ensure_periods, find_period
from portal.demo import load_participants
from portal.demo.conditions_2022 import standard_2022
from portal.demo.participants import month_files
from portal.models import Activity, Campaign, CampaignCondition, EligibilityRun, Participant, db
from portal.wording.messages import (
    condition_name,
    describe_check,
    describe_conditions_refusal,
)
from tests.helpers import (
    DATA_DIR,
    csv_bytes,
    load_september,
    make_app,
    page_text,
    row,
    submit_check,
    translated,
)

SLOTS = ("ok_app", "ok_ekassa", "ok_paid", "ok_receipts", "ok_legal_form", "eligible")


def rule_4(cells: dict[str, str], month_ends_on: date) -> tuple[bool, ...]:
    """Rules 3, 4.1 and 4.2 of the 2022 campaign, read from the file's own cells and
    written here from the rules' text, not from the portal's conditions."""
    starts, ends = date(2022, 9, 1), date(2022, 11, 30)
    app = cells["app_authorized_on"]
    kassa = cells["ekassa_connected_on"]
    ok_app = bool(app) and date.fromisoformat(app) <= month_ends_on
    ok_ekassa = bool(kassa) and starts <= date.fromisoformat(kassa) <= min(ends, month_ends_on)
    ok_paid = int(cells["paid_months"]) >= 1
    ok_receipts = int(cells["receipts_in_period"]) >= 5
    ok_form = cells["legal_form"].strip().upper() in ("IE", "LLP")
    verdicts = (ok_app, ok_ekassa, ok_paid, ok_receipts, ok_form)
    return (*verdicts, all(verdicts))


def test_the_demo_months_give_rule_4s_verdicts_participant_by_participant(ctx, demo):
    campaign = db.session.get(Campaign, demo)
    assert [(c.code, c.kind, c.slot, c.column) for c in campaign.conditions] == [
        ("app", "date-by-period-end", "app_authorized_on", "app_authorized_on"),
        ("ekassa", "date-within", "ekassa_connected_on", "ekassa_connected_on"),
        ("paid", "number-at-least", "paid_months", "paid_months"),
        ("receipts", "count-at-least", "receipts_in_period", "receipts_in_period"),
        ("legal_form", "legal-form-in", "legal_form", "legal_form"),
    ]
    load_participants(campaign)
    files = month_files()
    compared = 0
    for period in campaign.periods:
        text = files[period.key]
        text = text.decode("utf-8-sig") if isinstance(text, bytes) else text
        expected = {
            cells["account_number"]: rule_4(cells, period.ends_on)
            for cells in csv.DictReader(io.StringIO(text))
        }
        stored = {
            account: tuple(rest)
            for account, *rest in db.session.execute(
                sa.select(Participant.account_number, *(getattr(Activity, s) for s in SLOTS))
                .join(Activity, Activity.participant_id == Participant.id)
                .where(Activity.period_id == period.id)
            )
        }
        assert stored.keys() == expected.keys()
        for account, verdicts in expected.items():
            assert stored[account] == verdicts, (period.key, account)
        assert {v[-1] for v in expected.values()} == {True, False}
        compared += len(expected)
        run = eligibility.latest_run(period)
        assert (run.min_receipts, run.min_paid_months) == (5, 1)
        assert [c.code for c in conditions.from_snapshot(run.conditions)] == [
            "app",
            "ekassa",
            "paid",
            "receipts",
            "legal_form",
        ]
    assert compared > 9000


def test_the_2022_evidence_reads_as_before(app, ctx, september):
    """Each 2022 sentence, filled by the portal, is the catalogue's sentence of before."""
    campaign = september.campaign
    applied = conditions.of_campaign(campaign)
    by_code = {c.code: c for c in applied}
    month = conditions.Month.of(campaign, september)

    class Figures:
        app_authorized_on = date(2022, 9, 5)
        ekassa_connected_on = date(2022, 8, 14)
        paid_months = 0
        receipts_in_period = 3
        legal_form = "JSC"

    late = type("Late", (Figures,), {"app_authorized_on": date(2022, 10, 2)})
    none = type("None", (Figures,), {"app_authorized_on": None, "ekassa_connected_on": None})
    on = type("On", (Figures,), {"ekassa_connected_on": date(2022, 9, 30), "legal_form": "LLP"})
    after = type("After", (Figures,), {"ekassa_connected_on": date(2022, 10, 1)})
    # the sentences of before, as the catalogues worded them (rules 3, 4.1 and 4.2)
    before = {
        "kk": {
            ("app", Figures): "Авторизация күні: 2022 жылғы 5 қыркүйек — ай соңына дейін",
            ("app", late): "Авторизация күні: 2022 жылғы 2 қазан — айдың соңынан кейін",
            ("app", none): "Қосымшада авторизация жоқ.",
            ("ekassa", none): "E-касса қосылмаған.",
            (
                "ekassa",
                Figures,
            ): "E-касса қосылған күн: 2022 жылғы 14 тамыз — акция басталғанға дейін",
            ("ekassa", on): "E-касса қосылған күн: 2022 жылғы 30 қыркүйек — акция кезеңінде",
            ("ekassa", after): "E-касса қосылған күн: 2022 жылғы 1 қазан — айдың соңынан кейін",
            ("legal_form", Figures): "Ұйымдық-құқықтық нысаны: АҚ",
            ("legal_form", on): "Ұйымдық-құқықтық нысаны: ЖШС",
            ("paid", Figures): "Төленген ай саны: 0 (қажеті — кемінде 1)",
            ("receipts", Figures): "Шығарылған чек саны: 3 (қажеті — кемінде 5)",
        },
        "ru": {
            ("app", Figures): "Авторизация 5 сентября 2022 г. — до окончания месяца",
            ("app", late): "Авторизация 2 октября 2022 г. — после окончания месяца",
            ("app", none): "Авторизации в приложении нет.",
            ("ekassa", none): "E-касса не подключена.",
            ("ekassa", Figures): "E-касса подключена 14 августа 2022 г. — до начала акции",
            ("ekassa", on): "E-касса подключена 30 сентября 2022 г. — в период акции",
            ("ekassa", after): "E-касса подключена 1 октября 2022 г. — после окончания месяца",
            ("legal_form", Figures): "Организационно-правовая форма: АО",
            ("legal_form", on): "Организационно-правовая форма: ТОО",
            ("paid", Figures): "Оплачено месяцев: 0 (требуется не менее 1)",
            ("receipts", Figures): "Сформировано чеков: 3 (требуется не менее 5)",
        },
    }
    for lang in ("kk", "ru"):
        with app.test_request_context(f"/{lang}/"), force_locale(lang):
            for (code, figures), sentence in before[lang].items():
                check = conditions.explain_one(by_code[code], figures, month)
                assert describe_check(check) == sentence, (lang, code, figures)
            names = {
                "app": "Authorised in the Ismet.kz app",
                "ekassa": "E-kassa connected during the campaign",
                "paid": "Service paid",
                "receipts": "Receipts issued through the app",
                "legal_form": "Legal form IE or LLP",
            }
            for code, name in names.items():
                assert condition_name(by_code[code]) == translated(lang, name)
                assert condition_name(code) == translated(lang, name)


def test_a_threshold_changed_by_a_new_rules_version_applies_from_the_next_computation(
    ctx, september
):
    campaign = september.campaign
    before = eligibility.latest_run(september)
    conditions.change_parameters(campaign, {"receipts": {"min": 13}}, actor=Actor(label="t"))
    run = eligibility.compute(september)
    db.session.commit()
    assert (run.min_receipts, run.min_paid_months) == (13, 1)
    assert run.eligible < before.eligible
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EligibilityRun)) >= 2
    # the run before keeps what it applied
    assert conditions.from_snapshot(before.conditions)[3].params == {"min": 5}
    with pytest.raises(ConditionsRefused) as refused:
        conditions.change_parameters(campaign, {"receipts": {"min": -1}}, actor=Actor(label="t"))
    assert refused.value.code == "parameters"


# --- another campaign, its own conditions and columns ------------------------------------


def other_conditions() -> list[Condition]:
    words = {"kk": "{value}", "ru": "{value}"}
    return [
        Condition(
            "kassa",
            "date-within",
            "ekassa_connected_on",
            "kassa_on",
            {"from": "2023-01-15", "to": ["campaign-end", "period-end"]},
            {"kk": "E-касса 2023", "ru": "E-касса 2023"},
            words,
            words,
        ),
        Condition(
            "receipts10",
            "count-at-least",
            "receipts_in_period",
            "receipts_count",
            {"min": 10},
            {"kk": "Кемінде 10 чек", "ru": "Не менее 10 чеков"},
            {
                "kk": "Чек саны: {value} (кемінде {threshold})",
                "ru": "Чеков: {value} из {threshold}",
            },
            {
                "kk": "Чек саны: {value} (кемінде {threshold})",
                "ru": "Чеков: {value} из {threshold}",
            },
        ),
        Condition(
            "ie",
            "legal-form-in",
            "legal_form",
            "legal_form",
            {"forms": ["IE"]},
            {"kk": "Тек ЖК", "ru": "Только ИП"},
            words,
            words,
        ),
    ]


def make_2023() -> Campaign:
    campaign = Campaign(
        slug="ismet-2023",
        title_kk="2023",
        title_ru="2023",
        organizer_kk="ҚТ",
        organizer_ru="КТ",
        territory_kk="ҚР",
        territory_ru="РК",
        starts_on=date(2023, 1, 1),
        ends_on=date(2023, 3, 31),
    )
    db.session.add(campaign)
    ensure_periods(campaign)
    db.session.flush()
    conditions.replace(campaign, other_conditions())
    db.session.commit()
    return campaign


@pytest.fixture
def campaign_2023(ctx, demo):
    return make_2023()


def file_2023(rows: list[dict[str, str]]) -> bytes:
    layout = imports.layout_of(
        db.session.scalars(sa.select(Campaign).filter_by(slug="ismet-2023")).one()
    )
    assert layout.names[-2:] == ("kassa_on", "receipts_count")
    return csv_bytes(rows, columns=layout.names)


def test_another_campaign_imports_its_own_columns_and_gets_its_verdicts(campaign_2023):
    period = find_period(campaign_2023, "2023-02")
    base = {"legal_form": "IE", "kassa_on": "2023-01-20", "receipts_count": "10"}
    cases = [
        ({}, (True, True, True, True)),
        ({"receipts_count": "9"}, (True, False, True, False)),
        ({"legal_form": "llp"}, (True, True, False, False)),
        ({"legal_form": "ie"}, (True, True, True, True)),
        ({"kassa_on": "2023-01-14"}, (False, True, True, False)),
        ({"kassa_on": "2023-02-28"}, (True, True, True, True)),
        ({"kassa_on": "2023-03-01"}, (False, True, True, False)),
        ({"kassa_on": ""}, (False, True, True, False)),
    ]
    rows = []
    for n, (change, _) in enumerate(cases, start=1):
        rows.append(row(n, **{**base, **change}))
    outcome = imports.run_import(
        period, "feb.csv", file_2023(rows), actor=Actor(label="t"), today=date(2023, 3, 10)
    )
    assert outcome.report.ok, outcome.report.problems
    db.session.commit()
    got = {
        a.participant.account_number: a
        for a in db.session.scalars(sa.select(Activity).filter_by(period_id=period.id))
    }
    for n, (_, (kassa, receipts, form, eligible)) in enumerate(cases, start=1):
        a = got[f"ACC{n:07d}"]
        assert (a.ok_ekassa, a.ok_receipts, a.ok_legal_form, a.eligible) == (
            kassa,
            receipts,
            form,
            eligible,
        ), n
        # the slots no condition uses: no figure, no verdict
        assert (a.app_authorized_on, a.paid_months, a.ok_app, a.ok_paid) == (None,) * 4
        explained = eligibility.explain(a, campaign_2023, period)
        assert [c.ok for c in explained] == [kassa, receipts, form]
    assert got["ACC0000004"].legal_form == "IE"  # a form the conditions name, in capitals
    assert got["ACC0000003"].legal_form == "llp"  # any other, as given
    funnel = eligibility.funnel(period)
    assert (funnel["ekassa"], funnel["receipts"], funnel["legal_form"]) == (5, 7, 7)
    assert (funnel["app"], funnel["paid"], funnel["eligible"]) == (0, 0, 3)
    run = outcome.run
    assert (run.min_receipts, run.min_paid_months) == (10, None)


def test_another_campaign_reports_problems_under_its_own_column_names(campaign_2023):
    period = find_period(campaign_2023, "2023-02")
    rows = [row(1, receipts_count="-2", kassa_on="2023-13-01"), row(2, receipts_count="")]
    _, report = imports.import_month(period, "feb.csv", file_2023(rows), today=date(2023, 3, 10))
    problems = {(p.row, p.column, p.code) for p in report.problems}
    assert problems == {
        (2, "receipts_count", "count-negative"),
        (2, "kassa_on", "date-invalid"),
        (3, "receipts_count", "required"),
    }
    # the 2022 header lacks this campaign's columns
    _, report = imports.import_month(
        period, "feb.csv", csv_bytes([row(1)]), today=date(2023, 3, 10), replace=True
    )
    assert {(p.column, p.code) for p in report.problems} == {
        ("kassa_on", "missing-column"),
        ("receipts_count", "missing-column"),
    }


def test_sql_and_python_agree_on_another_campaigns_conditions(campaign_2023):
    period = find_period(campaign_2023, "2023-01")
    rng = random.Random(19)
    days = ["", "2022-12-31", "2023-01-14", "2023-01-15", "2023-01-31", "2023-02-01"]
    rows = [
        row(
            n,
            legal_form=rng.choice(["IE", "ie", "LLP", "JSC"]),
            kassa_on=rng.choice(days),
            receipts_count=str(rng.randint(7, 12)),
        )
        for n in range(1, 201)
    ]
    _, report = imports.import_month(period, "jan.csv", file_2023(rows), today=date(2023, 3, 1))
    assert report.ok, report.problems
    eligibility.compute(period)
    for a in db.session.scalars(sa.select(Activity).filter_by(period_id=period.id)):
        checks = eligibility.explain(a, campaign_2023, period)
        assert [c.ok for c in checks] == [a.ok_ekassa, a.ok_receipts, a.ok_legal_form]
        assert a.eligible == all(c.ok for c in checks)


# --- a set that does not fit -------------------------------------------------------------


def refused(campaign, changed: list[Condition]) -> ConditionsRefused:
    before = [(r.code, r.slot) for r in campaign.conditions]
    with pytest.raises(ConditionsRefused) as caught:
        conditions.replace(campaign, changed)
    db.session.expire_all()
    assert [(r.code, r.slot) for r in campaign.conditions] == before  # nothing changed
    return caught.value


def test_a_set_that_does_not_fit_the_slots_is_refused_clearly(app, ctx, demo):
    campaign = db.session.get(Campaign, demo)
    five = standard_2022()
    third_date = Condition.from_dict(
        {**five[0].as_dict(), "code": "app2", "column": "app_again_on"}
    )  # a third date condition: both date slots are taken
    refusal = refused(campaign, [*five, third_date])
    assert (refusal.code, refusal.detail) == ("slot-taken", "app2")
    for lang, expected in (
        ("ru", "не более двух условий по датам"),
        ("kk", "екі күн шартынан"),
    ):
        with app.test_request_context(f"/{lang}/"), force_locale(lang):
            assert expected in describe_conditions_refusal(refusal)
    count_in_a_date_slot = Condition.from_dict({**five[3].as_dict(), "slot": "app_authorized_on"})
    assert refused(campaign, [count_in_a_date_slot]).code == "slot-kind"
    identity = Condition.from_dict({**five[3].as_dict(), "column": "bin_iin"})
    assert refused(campaign, [identity]).code == "column-identity"
    unknown = Condition.from_dict({**five[3].as_dict(), "kind": "sum-at-least"})
    assert refused(campaign, [unknown]).code == "kind-unknown"
    bad_window = Condition.from_dict({**five[1].as_dict(), "params": {"from": "yesterday"}})
    assert refused(campaign, [bad_window]).code == "parameters"
    assert refused(campaign, []).code == "none"
    # a campaign whose conditions were never set makes nobody eligible
    month = conditions.Month(date(2022, 9, 1), date(2022, 11, 30), date(2022, 9, 30))
    assert str(conditions.sql_verdicts([], month)["eligible"]) == "false"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CampaignCondition)) == 5
    # the identity columns a condition may not take are the import's
    assert tuple(c.name for c in imports.IDENTITY) == conditions.IDENTITY_COLUMNS


# --- the migration ------------------------------------------------------------------------


def test_migration_0030_gives_each_campaign_its_thresholds_as_conditions(
    migration_database, tmp_path
):
    app = make_app(migration_database, tmp_path / "instance")
    with app.app_context():
        flask_migrate.upgrade(revision="0028")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO campaign (id, slug, title_kk, title_ru, organizer_kk,"
                    " organizer_ru, territory_kk, territory_ru, starts_on, ends_on,"
                    " min_receipts, min_paid_months, commission_min_members, created_at)"
                    " VALUES (1, 'c', 't', 't', 'o', 'o', 'r', 'r', '2022-09-01',"
                    " '2022-11-30', 7, 2, 3, '2022-09-01 00:00:00')"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO reporting_period (id, campaign_id, year, month, draw_deadline)"
                    " VALUES (1, 1, 2022, 9, '2022-10-20')"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO eligibility_run (id, period_id, min_receipts, min_paid_months,"
                    " participants, eligible, computed_at, computed_by)"
                    " VALUES (1, 1, 4, 1, 0, 0, '2022-10-05 00:00:00', 'x')"
                )
            )
        flask_migrate.upgrade(revision="0030")
        # not read through the model: later migrations add campaign columns (0033)
        campaign = Campaign(id=1)
        applied = conditions.of_campaign(campaign)
        assert [c.code for c in applied] == ["app", "ekassa", "paid", "receipts", "legal_form"]
        assert (applied[2].params, applied[3].params) == ({"min": 2}, {"min": 7})
        assert applied == standard_2022(7, 2)
        assert [c.as_dict() for c in applied] == [c.as_dict() for c in standard_2022(7, 2)]
        run = db.session.get(EligibilityRun, 1)
        recorded = conditions.from_snapshot(run.conditions)
        assert [c.as_dict() for c in recorded] == [c.as_dict() for c in standard_2022(4, 1)]
        db.session.rollback()
        flask_migrate.downgrade(revision="0028")
        with db.engine.connect() as connection:
            tables = sa.inspect(connection).get_table_names()
            columns = {c["name"] for c in sa.inspect(connection).get_columns("eligibility_run")}
        assert "campaign_condition" not in tables and "conditions" not in columns
        flask_migrate.upgrade()
        assert len(conditions.of_campaign(db.session.get(Campaign, 1))) == 5
        db.session.rollback()
        db.engine.dispose()


def test_the_2022_self_check_reads_as_before_the_conditions_were_data(app, client, demo):
    """The self-check's conditions and evidence for two September clients (one eligible,
    one not), in kk and ru, as the portal rendered them before the conditions were data
    (tests/data/self_check_2022_before_conditions.json, rendered at commit ceee726)."""
    before = json.loads((DATA_DIR / "self_check_2022_before_conditions.json").read_text("utf-8"))
    bins = load_september(app, demo)
    for lang in ("kk", "ru"):
        for account in ("ACC0000001", "ACC0000002"):
            html = submit_check(client, lang, account, bins[account]).get_data(as_text=True)
            blocks = re.findall(r'<ul class="checks">(.*?)</ul>', html, re.S)
            shown = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", b)).strip() for b in blocks]
            assert shown == before[f"{lang} {account}"]


def test_the_pages_of_another_campaign_read_its_conditions(app, client, auth, demo):
    with app.app_context():
        campaign = make_2023()
        period = find_period(campaign, "2023-02")
        rows = [
            row(1, kassa_on="2023-01-20", receipts_count="12"),
            row(2, kassa_on="2023-01-20", receipts_count="9"),
        ]
        outcome = imports.run_import(
            period, "feb.csv", file_2023(rows), actor=Actor(label="t"), today=date(2023, 3, 10)
        )
        assert outcome.report.ok
        db.session.commit()
        bins = {r["account_number"]: r["bin_iin"] for r in rows}
    checked = page_text(
        submit_check(client, "ru", "ACC0000002", bins["ACC0000002"], slug="ismet-2023")
    )
    assert "Не менее 10 чеков" in checked and "Чеков: 9 из 10" in checked
    assert "Только ИП" in checked and "Авторизация в приложении" not in checked
    home = page_text(client.get("/ru/ismet-2023/"))
    # how to take part: each condition as a sentence (a name stating its threshold alone)
    assert "<li>E-касса 2023: начиная с 15 января 2023 г. и не позднее" in home
    assert "<li>Не менее 10 чеков.</li>" in home
    assert "<li>Организационно-правовая форма: ИП.</li>" in home
    auth.login()
    staff = page_text(client.get("/admin/ismet-2023/participants"))
    assert "Не менее 10 чеков" in staff and "Допущены: выполнены все условия" in staff
    assert "Авторизация в приложении" not in staff
    exported = client.get("/admin/ismet-2023/participants/2023-02/eligible.csv").get_data(
        as_text=True
    )
    lines = exported.splitlines()
    assert lines[0] == "account_number,bin_iin,legal_form,company_name,city,receipts_count"
    assert [line.split(",")[0] for line in lines[1:]] == ["ACC0000001"]
    assert lines[1].endswith(",12")
