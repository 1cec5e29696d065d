"""Staff set a campaign up without code (issue 19, part 4): create, edit, copy and publish
at /admin/campaigns, each refusal said in Kazakh and Russian with nothing changed, and
rule 16's path for a published campaign's conditions and prizes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import flask_migrate
import pytest
import sqlalchemy as sa

from portal.campaign import conditions, draws, eligibility, setup
from portal.campaign.periods import find_period, local_today
from portal.demo.conditions_2022 import standard_2022
from portal.models import (
    Activity,
    AuditEntry,
    Campaign,
    CampaignCondition,
    Prize,
    RulesVersion,
    db,
)
from portal.services.organizer import organizer
from tests.helpers import bin_iin, count, draw_on, make_app, page_text, translated
from tests.test_draw_texts import _insert

RULES_KK = "# Көктем акциясы\n\n1. Акцияны ұйымдастырушы – «Исмет» ЖШС.\n\n2. Акция 2027 жылғы 1 наурыздан 31 мамырға дейін өткізіледі."
RULES_RU = "# Весенняя акция\n\n1. Организатор акции – ТОО «Исмет».\n\n2. Акция проводится с 1 марта по 31 мая 2027 года."
PRIZES = [
    setup.PrizeSpec(1, "Chocomart", "Chocomart сертификаты", "Сертификат Chocomart", 500000, 1),
    setup.PrizeSpec(2, "Chocomart", "Chocomart сертификаты", "Сертификат Chocomart", 100000, 2),
]
RECEIPTS = {
    "code": "receipts",
    "kind": "count-at-least",
    "slot": "receipts_in_period",
    "column": "receipts_in_period",
    "params": {"min": 10},
    "name": {"kk": "Чектер саны", "ru": "Количество чеков"},
    "holds": {
        "kk": "{value} чек, кемінде {threshold}",
        "ru": "{value} чеков, не менее {threshold}",
    },
    "fails": {"kk": "{value} чек, {threshold}-ден аз", "ru": "{value} чеков, меньше {threshold}"},
}


def prize_fields(specs: list[setup.PrizeSpec], blank: int = 1) -> dict:
    """The prizes as the set-up's rows post them, one row a prize, then ``blank`` rows left
    empty (a browser sends them too; an unticked box is not sent)."""
    fields = {}
    for index, s in enumerate(specs):
        row = f"prizes-{index}-"
        fields.update(
            {
                row + "position": str(s.position),
                row + "period": s.period or "*",
                row + "supplier": s.supplier,
                row + "name_kk": s.name_kk,
                row + "name_ru": s.name_ru,
                row + "nominal_kzt": str(s.nominal_kzt),
                row + "count": str(s.count),
            }
        )
        if s.vat_included:
            fields[row + "vat_included"] = "y"
    for index in range(len(specs), len(specs) + blank):
        row = f"prizes-{index}-"
        for name in ("position", "supplier", "name_kk", "name_ru", "nominal_kzt"):
            fields[row + name] = ""
        fields.update({row + "period": "*", row + "count": "1", row + "vat_included": "y"})
    return fields


def window_end(end) -> tuple[str, str]:
    """A date-within window's end as its select and its date field."""
    if isinstance(end, list):
        assert sorted(end) == ["campaign-end", "period-end"]
        return "campaign-end+period-end", ""
    if end in conditions.ENDS:
        return end, ""
    return "date", end


def params_fields(row: str, kind: str, params: dict) -> dict:
    """A condition's parameters as its row's own fields."""
    fields = {}
    if "min" in params:
        fields[row + "threshold"] = str(params["min"])
    if kind == "date-within":
        fields[row + "from_end"], fields[row + "from_date"] = window_end(params["from"])
        fields[row + "to_end"], fields[row + "to_date"] = window_end(params["to"])
    if "forms" in params:
        fields[row + "forms"] = ", ".join(params["forms"])
    return fields


def parameter_rows(chosen: list, changes: dict) -> dict:
    """A rules version's rows of parameters: one a condition in force, prefilled, with
    ``changes`` (``{code: {"min": 10}}``) typed in."""
    fields = {}
    for index, c in enumerate(chosen):
        row = f"parameters-{index}-"
        fields[row + "code"] = c.code
        fields.update(params_fields(row, c.kind, {**c.params, **changes.get(c.code, {})}))
    return fields


def condition_fields(chosen: list[dict], blank: int = 1) -> dict:
    """The conditions (``Condition.as_dict``) as the set-up's rows post them, each parameter
    in its own field, then ``blank`` rows left empty."""
    fields = {}
    for index, c in enumerate(chosen):
        row = f"conditions-{index}-"
        fields.update({row + k: c[k] for k in ("code", "kind", "slot", "column")})
        for text in ("name", "holds", "fails", "missing", "early"):
            for lang in ("kk", "ru"):
                fields[row + f"{text}_{lang}"] = (c.get(text) or {}).get(lang, "")
        fields.update(params_fields(row, c["kind"], c["params"]))
    for index in range(len(chosen), len(chosen) + blank):
        row = f"conditions-{index}-"
        for name in ("code", "kind", "slot", "column", "name_kk", "name_ru", "threshold"):
            fields[row + name] = ""
    return fields


def campaign_form(prizes=PRIZES, chosen=(RECEIPTS,), **changes) -> dict:
    form = {
        "slug": "spring-2027",
        "title_kk": "Көктем акциясы",
        "title_ru": "Весенняя акция",
        "organizer_kk": "«Исмет» ЖШС",
        "organizer_ru": "ТОО «Исмет»",
        "territory_kk": "Қазақстан Республикасы",
        "territory_ru": "Республика Казахстан",
        "starts_on": "2027-03-01",
        "ends_on": "2027-05-31",
        "draw_deadline_day": "15",
        "commission_min_members": "3",
        "organizer_bin": bin_iin(123456789),
        "organizer_address_kk": "Алматы қ., Абай даңғылы, 1",
        "organizer_address_ru": "г. Алматы, пр. Абая, 1",
        "organizer_hotline": "+7 727 000 00 00",
        "organizer_email": "promo@ismet.kz",
        **prize_fields(prizes),
        **condition_fields(list(chosen)),
        "rules_kk": RULES_KK,
        "rules_ru": RULES_RU,
    }
    form.update(changes)
    return form


def post(client, auth, url: str, data: dict, **kwargs):
    token = auth.token("/admin/campaigns/new")
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def the(slug: str) -> Campaign | None:
    return db.session.scalar(sa.select(Campaign).filter_by(slug=slug))


def test_create_edit_and_publish_through_the_screens(app, client, auth):
    auth.login("admin")
    response = post(client, auth, "/admin/campaigns/new", campaign_form())
    assert response.status_code == 302
    with app.app_context():
        campaign = the("spring-2027")
        assert campaign.status == Campaign.DRAFT
        assert [(p.key, p.draw_deadline) for p in campaign.periods] == [
            ("2027-03", date(2027, 4, 15)),
            ("2027-04", date(2027, 5, 15)),
            ("2027-05", date(2027, 6, 15)),
        ]
        assert [(p.position, p.nominal_kzt, p.count_per_period) for p in campaign.prizes] == [
            (1, 500000, 1),
            (2, 100000, 2),
        ]
        assert [c.code for c in conditions.of_campaign(campaign)] == ["receipts"]
        assert setup.first_rules(campaign).published is False
        assert setup.missing(campaign) == []
    # a draft is edited freely: its dates, its months follow
    response = post(
        client,
        auth,
        "/admin/campaigns/spring-2027/edit",
        campaign_form(ends_on="2027-04-30", title_ru="Весенняя акция Ismet.kz"),
    )
    assert response.status_code == 302
    with app.app_context():
        campaign = the("spring-2027")
        assert campaign.title_ru == "Весенняя акция Ismet.kz"
        assert [p.key for p in campaign.periods] == ["2027-03", "2027-04"]
    response = post(client, auth, "/admin/campaigns/spring-2027/publish", {})
    assert response.status_code == 302
    with app.app_context():
        campaign = the("spring-2027")
        assert campaign.status == Campaign.PUBLISHED
        assert setup.first_rules(campaign).published is True
        actions = db.session.scalars(sa.select(AuditEntry.action)).all()
        for action in ("campaign.create", "campaign.update", "campaign.publish"):
            assert action in actions
        # the edit sent the same conditions back: set once, on the record once
        assert actions.count("campaign.conditions") == 1
    # its public pages carry its own requisites
    page = page_text(client.get("/ru/spring-2027/"))
    assert bin_iin(123456789) in page and "г. Алматы, пр. Абая, 1" in page
    listing = page_text(client.get("/admin/campaigns"))
    assert "spring-2027" in listing
    trail = page_text(client.get("/admin/audit"))
    for action in ("Campaign draft created", "Campaign published"):
        assert translated("ru", action) in trail


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_publish_refused_names_every_missing_piece(app, client, auth, lang):
    auth.create("admin", f"{lang}@ismet.kz", language=lang)
    auth.login("admin", f"{lang}@ismet.kz", create=False)
    bare = campaign_form(prizes=[], chosen=[], rules_kk="", rules_ru="")
    assert post(client, auth, "/admin/campaigns/new", bare).status_code == 302
    response = post(client, auth, "/admin/campaigns/spring-2027/publish", {}, follow_redirects=True)
    page = page_text(response)
    for language in ("Kazakh", "Russian"):
        message = f"Version 1 of the rules in {language} is missing or has no valid clauses."
        assert translated(lang, message) in page
    for month in ("2027-03", "2027-04", "2027-05"):
        assert translated(lang, "The month %(detail)s has no prize.") % {"detail": month} in page
    assert translated(lang, "A campaign needs at least one eligibility condition.") in page
    with app.app_context():
        assert the("spring-2027").status == Campaign.DRAFT


REFUSALS = [
    (
        {"slug": "Spring 2027!"},
        "The address name %(detail)s is not allowed: use lower-case Latin letters, digits and inner hyphens, at most 64, and none of the site's own words.",
        "Spring 2027!",
    ),
    (
        {"organizer_bin": "123456789012"},
        "The BIN %(detail)s is not 12 digits with a valid control digit.",
        "123456789012",
    ),
    (
        {"prizes-1-position": "1"},
        "Two prizes share position %(detail)s in one month.",
        "1 (2027-03)",
    ),
    (
        {"chosen": [RECEIPTS, {**RECEIPTS, "code": "receipts2"}]},
        "The conditions do not fit: a campaign has at most two date conditions, two number conditions and one legal form condition, each in its own place (%(detail)s takes one already taken).",
        "receipts2",
    ),
]


@pytest.mark.parametrize("lang", ["kk", "ru"])
@pytest.mark.parametrize(("changes", "message", "detail"), REFUSALS)
def test_each_refusal_changes_nothing_and_says_why(
    app, client, auth, lang, changes, message, detail
):
    auth.create("admin", f"{lang}@ismet.kz", language=lang)
    auth.login("admin", f"{lang}@ismet.kz", create=False)
    with app.app_context():
        before = count(Campaign), count(Prize), count(CampaignCondition), count(AuditEntry)
    response = post(client, auth, "/admin/campaigns/new", campaign_form(**changes))
    assert response.status_code == 400
    expected = translated(lang, message) % {"detail": detail}
    assert expected.replace("'", "&#39;") in page_text(response)
    with app.app_context():
        after = count(Campaign), count(Prize), count(CampaignCondition), count(AuditEntry)
    assert after == before


EKASSA = {
    "code": "ekassa",
    "kind": "date-within",
    "slot": "ekassa_connected_on",
    "column": "ekassa_on",
    "params": {"from": "2027-02-15", "to": ["campaign-end", "period-end"]},
    "name": {"kk": "E-касса қосылған", "ru": "E-касса подключена"},
    "holds": {"kk": "Қосылған күні: {value}", "ru": "Подключена {value}"},
    "fails": {
        "kk": "Қосылған күні: {value}, мерзімнен кейін",
        "ru": "Подключена {value}, позже срока",
    },
    "early": {"kk": "Қосылған күні: {value}, {from} бұрын", "ru": "Подключена {value}, до {from}"},
}


def test_a_campaign_is_set_up_through_the_rows_of_fields_alone(app, client, auth):
    """Two conditions and three prizes typed into the rows, each parameter in its own
    field; the edit page shows them back as rows, and a ticked "remove" takes one away."""
    auth.login("admin")
    page = page_text(client.get("/admin/campaigns/new"))
    for row in ("prizes-0", "prizes-2", "conditions-0", "conditions-2"):
        assert f'id="{row}"' in page  # blank rows to fill
    april = setup.PrizeSpec(3, "Kaspi", "Kaspi сертификаты", "Сертификат Kaspi", 50000, 5, False)
    prizes = [*PRIZES, replace(april, period="2027-04")]
    form = campaign_form(prizes=prizes, chosen=[RECEIPTS, EKASSA])
    assert form["conditions-1-from_end"] == "date"
    assert post(client, auth, "/admin/campaigns/new", form).status_code == 302
    with app.app_context():
        campaign = the("spring-2027")
        assert setup.prize_specs(campaign) == prizes
        chosen = conditions.of_campaign(campaign)
        assert [(c.code, c.kind, c.column) for c in chosen] == [
            ("receipts", "count-at-least", "receipts_in_period"),
            ("ekassa", "date-within", "ekassa_on"),
        ]
        assert chosen[0].params == {"min": 10}
        assert chosen[1].params == EKASSA["params"]
        assert chosen[1].early == EKASSA["early"]
        assert setup.missing(campaign) == []
    page = page_text(client.get("/admin/campaigns/spring-2027/edit"))
    assert 'name="conditions-1-from_date" type="date" value="2027-02-15"' in page
    assert '<option selected value="campaign-end+period-end">' in page
    assert '<option selected value="2027-04">' in page
    assert 'id="prizes-5"' in page and 'id="prizes-6"' not in page  # three blank rows
    # the April prize removed, the threshold changed: nothing else
    changed = {**form, "prizes-2-remove": "y", "conditions-0-threshold": "12"}
    assert post(client, auth, "/admin/campaigns/spring-2027/edit", changed).status_code == 302
    with app.app_context():
        campaign = the("spring-2027")
        assert setup.prize_specs(campaign) == PRIZES
        assert [c.params for c in conditions.of_campaign(campaign)] == [
            {"min": 12},
            EKASSA["params"],
        ]
        actions = db.session.scalars(sa.select(AuditEntry.action)).all()
        assert actions.count("campaign.prizes") == 2
        assert actions.count("campaign.conditions") == 2


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_a_bad_parameter_is_refused_in_its_row_with_nothing_changed(app, client, auth, lang):
    auth.create("admin", f"{lang}@ismet.kz", language=lang)
    auth.login("admin", f"{lang}@ismet.kz", create=False)
    form = campaign_form(chosen=[EKASSA, RECEIPTS])
    assert post(client, auth, "/admin/campaigns/new", form).status_code == 302
    with app.app_context():
        before = (
            [c.as_dict() for c in conditions.of_campaign(the("spring-2027"))],
            count(AuditEntry),
        )
    message = translated(
        lang, "The parameters of the condition %(detail)s are not valid for its kind."
    )
    for bad in ({"conditions-1-threshold": "-3"}, {"conditions-0-from_date": ""}):
        response = post(client, auth, "/admin/campaigns/spring-2027/edit", {**form, **bad})
        assert response.status_code == 400
        page = page_text(response)
        row = "conditions-1" if "conditions-1-threshold" in bad else "conditions-0"
        code = "receipts" if row == "conditions-1" else "ekassa"
        start = page.index(f'id="{row}"')
        fieldset = page[start : page.index("</fieldset>", start)]
        assert f"{message % {'detail': code}}</p>" in fieldset
        with app.app_context():
            after = (
                [c.as_dict() for c in conditions.of_campaign(the("spring-2027"))],
                count(AuditEntry),
            )
        assert after == before
    # a number that is none, or too large for its column: the form's own error, no 500
    for bad in ({"prizes-0-nominal_kzt": "много"}, {"prizes-0-nominal_kzt": "9" * 20}):
        response = post(client, auth, "/admin/campaigns/spring-2027/edit", {**form, **bad})
        assert response.status_code == 400
        assert 'href="#prizes-0-nominal_kzt"' in page_text(response)  # in the error summary
        with app.app_context():
            assert setup.prize_specs(the("spring-2027")) == PRIZES


def test_a_taken_slug_is_refused_and_an_edit_changes_nothing(app, client, auth, demo):
    auth.login("admin")
    assert post(client, auth, "/admin/campaigns/new", campaign_form()).status_code == 302
    response = post(client, auth, "/admin/campaigns/new", campaign_form(title_ru="Другая"))
    assert response.status_code == 400
    expected = translated("ru", "The address name %(detail)s belongs to another campaign already.")
    assert expected % {"detail": "spring-2027"} in page_text(response)
    # an edit to a taken slug, with a bad prize line: nothing of it is kept
    response = post(
        client,
        auth,
        "/admin/campaigns/spring-2027/edit",
        campaign_form(slug="ismet-2022", title_ru="Изменено"),
    )
    assert response.status_code == 400
    with app.app_context():
        assert count(Campaign) == 2
        assert the("spring-2027").title_ru == "Весенняя акция"


def test_copy_of_2022_is_a_draft_with_everything_but_its_people(app, client, auth, demo):
    with app.app_context():
        source = db.session.get(Campaign, demo)
        source.organizer_bin = bin_iin(555)
        source.organizer_address_ru = "г. Алматы"
        db.session.commit()
    auth.login("admin")
    response = post(
        client,
        auth,
        "/admin/campaigns/ismet-2022/copy",
        {"slug": "ismet-2027", "starts_on": "2027-03-01", "ends_on": "2027-05-31"},
    )
    assert response.status_code == 302
    with app.app_context():
        source, copy = db.session.get(Campaign, demo), the("ismet-2027")
        assert copy.status == Campaign.DRAFT
        assert [p.key for p in copy.periods] == ["2027-03", "2027-04", "2027-05"]
        assert copy.periods[0].draw_deadline == date(2027, 4, 20)
        assert (copy.organizer_bin, copy.organizer_address_ru) == (bin_iin(555), "г. Алматы")
        assert setup.prize_specs(copy) == setup.prize_specs(source)
        assert [c.as_dict() for c in conditions.of_campaign(copy)] == [
            c.as_dict() for c in conditions.of_campaign(source)
        ]
        rules = setup.first_rules(copy)
        assert not rules.published
        assert rules.body_ru == setup._latest_rules(source).body_ru
        assert copy.title_kk == source.title_kk
        assert setup.missing(copy) == []
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)) == 0


def test_a_published_campaigns_conditions_and_prizes_are_not_edited_directly(
    app, client, auth, demo
):
    auth.login("admin")
    page = client.get("/admin/campaigns/ismet-2022/edit").get_data(as_text=True)
    assert "ismet-2022" in page
    with app.app_context():
        source = db.session.get(Campaign, demo)
        values = {
            name: getattr(source, name) or ""
            for name in ("slug", *setup.TEXT_FIELDS, *setup.REQUISITES)
        }
        prizes = setup.prize_specs(source)
        before = [c.as_dict() for c in conditions.of_campaign(source)]
    form = {
        **values,
        "starts_on": "2022-09-01",
        "ends_on": "2022-11-30",
        "draw_deadline_day": "20",
        "commission_min_members": "3",
        **prize_fields(prizes),
        **condition_fields(before),
    }
    # the same prizes and conditions: its titles may change
    assert post(client, auth, "/admin/campaigns/ismet-2022/edit", form).status_code == 302
    receipts = [c["code"] for c in before].index("receipts")
    assert form[f"conditions-{receipts}-threshold"] == "5"
    response = post(
        client,
        auth,
        "/admin/campaigns/ismet-2022/edit",
        {**form, f"conditions-{receipts}-threshold": "10"},
    )
    assert response.status_code == 400
    assert translated(
        "ru",
        "The campaign is published: its conditions and prizes change only through a new version of its rules.",
    ) in page_text(response)
    response = post(
        client,
        auth,
        "/admin/campaigns/ismet-2022/edit",
        {**form, "prizes-0-nominal_kzt": str(prizes[0].nominal_kzt + 100000)},
    )
    assert response.status_code == 400
    with app.app_context():
        source = db.session.get(Campaign, demo)
        assert [c.as_dict() for c in conditions.of_campaign(source)] == before
        assert setup.prize_specs(source) == prizes


def test_a_rules_version_changes_conditions_and_prizes_of_the_months_not_drawn(
    app, client, auth, september
):
    """September is drawn; version 2 raises the receipts to 10 and gives new prizes: from
    October on, and September keeps its conditions, prizes and verdicts."""
    campaign = september.campaign
    draw = draw_on(september)
    before_prizes = [p.id for p in draws.prizes_of(september)]
    before_verdicts = sorted(
        db.session.execute(
            sa.select(Activity.participant_id, Activity.eligible).filter_by(period_id=september.id)
        ).all()
    )
    before_applied = eligibility.applied(september)
    db.session.commit()
    auth.login("admin")
    assert (
        client.post(
            "/admin/ismet-2022/rules/new",
            data={"csrf_token": auth.token("/admin/ismet-2022/rules")},
        ).status_code
        == 302
    )
    version = db.session.scalar(sa.select(RulesVersion).filter_by(number=2))
    version.summary_kk, version.summary_ru = "Чектер 10.", "Чеков 10."
    version.effective_on = local_today()
    db.session.commit()
    token = auth.token("/admin/ismet-2022/rules/2/edit")
    new_prizes = [setup.PrizeSpec(1, "Kaspi", "Kaspi сертификаты", "Сертификат Kaspi", 300000)]
    in_force = conditions.of_campaign(campaign)
    # a prize for the drawn month is refused
    refused = client.post(
        "/admin/ismet-2022/rules/2/setup-changes",
        data={
            "csrf_token": token,
            **parameter_rows(in_force, {}),
            "change_prizes": "y",
            **prize_fields([replace(new_prizes[0], period="2022-09")]),
        },
    )
    assert refused.status_code == 400
    message = (
        "The month %(detail)s is drawn or comes before a drawn one: its prizes stay as they were."
    )
    lang = "kk" if '<html lang="kk">' in page_text(refused) else "ru"
    assert translated(lang, message) % {"detail": "2022-09"} in page_text(refused)
    db.session.expire_all()
    assert db.session.get(RulesVersion, version.id).setup_changes is None
    saved = client.post(
        "/admin/ismet-2022/rules/2/setup-changes",
        data={
            "csrf_token": token,
            **parameter_rows(in_force, {"receipts": {"min": 10}}),
            "change_prizes": "y",
            **prize_fields(new_prizes),
        },
    )
    assert saved.status_code == 302
    published = client.post("/admin/ismet-2022/rules/2/publish", data={"csrf_token": token})
    assert published.status_code == 302
    db.session.expire_all()
    assert db.session.get(RulesVersion, version.id).published
    campaign = db.session.get(Campaign, campaign.id)
    september = find_period(campaign, "2022-09")
    october = find_period(campaign, "2022-10")
    # September: the same prizes, verdicts and draw
    assert [p.id for p in draws.prizes_of(september)] == before_prizes
    assert (
        sorted(
            db.session.execute(
                sa.select(Activity.participant_id, Activity.eligible).filter_by(
                    period_id=september.id
                )
            ).all()
        )
        == before_verdicts
    )
    assert draws.current_draw(september).id == draw.id
    with pytest.raises(eligibility.MonthFrozen):
        eligibility.compute(september)
    assert eligibility.applied(september) == before_applied
    assert conditions.minimum_of(before_applied, "receipts_in_period") == 5
    # October and November: the new prize, the new threshold
    for period in (october, find_period(campaign, "2022-11")):
        assert [(p.supplier, p.nominal_kzt) for p in draws.prizes_of(period)] == [("Kaspi", 300000)]
    assert conditions.minimum_of(conditions.of_campaign(campaign), "receipts_in_period") == 10
    assert [c.code for c in conditions.of_campaign(campaign)] == [c.code for c in standard_2022()]


def test_migration_0033_gives_the_campaigns_made_before_the_20th_and_no_requisites(
    migration_database, tmp_path
):
    app = make_app(migration_database, tmp_path / "instance")
    with app.app_context():
        flask_migrate.upgrade(revision="0032")
        with db.engine.begin() as connection:
            _insert(connection, "campaign", id=1, slug="c")
        flask_migrate.upgrade()
        campaign = db.session.get(Campaign, 1)
        assert campaign.draw_deadline_day == 20
        assert all(getattr(campaign, name) is None for name in setup.REQUISITES)
        db.session.rollback()
        flask_migrate.downgrade(revision="0032")
        with db.engine.connect() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("campaign")}
            assert "draw_deadline_day" not in columns and "organizer_bin" not in columns
            prize = {c["name"] for c in sa.inspect(connection).get_columns("prize")}
            assert "withdrawn_from" not in prize
        flask_migrate.upgrade()
        db.session.remove()
        db.engine.dispose()


def test_a_campaigns_requisites_and_the_settings_for_what_it_leaves_empty(app, ctx, demo):
    app.config.update(
        ORGANIZER_NAME_RU="ТОО «Настройки»",
        ORGANIZER_BIN="111111111111",
        ORGANIZER_HOTLINE="+7 700 000 00 00",
        ORGANIZER_ADDRESS_RU="г. Астана",
    )
    campaign = db.session.get(Campaign, demo)
    # without requisites of its own: the settings, as before
    assert organizer("ru", campaign) == organizer("ru")
    assert organizer("ru", campaign).name == "ТОО «Настройки»"
    campaign.organizer_address_ru = "г. Алматы, пр. Абая, 1"
    assert organizer("ru", campaign).address == "г. Алматы, пр. Абая, 1"
    assert organizer("ru", campaign).name == "ТОО «Настройки»"  # no BIN of its own
    campaign.organizer_bin = bin_iin(555)
    own = organizer("ru", campaign)
    assert (own.bin, own.name, own.hotline) == (
        bin_iin(555),
        campaign.organizer_ru,
        "+7 700 000 00 00",
    )
