"""The public self-check: a client's own months and conditions, nothing else."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.campaign import eligibility
from portal.campaign.imports import import_month
from portal.campaign.periods import find_period
from portal.models import Campaign, db
from tests.conftest import csrf_from
from tests.test_imports import TODAY, csv_bytes, row


def load(app, demo):
    with app.app_context():
        september = find_period(db.session.get(Campaign, demo), "2022-09")
        rows = [row(1), row(2, receipts_in_period="3", ekassa_connected_on="2022-08-14")]
        import_month(september, "sep.csv", csv_bytes(rows), today=TODAY)
        eligibility.compute(september)
        db.session.commit()
        return {r["account_number"]: r["bin_iin"] for r in rows}


def submit(client, lang, account, bin_iin):
    page = client.get(f"/{lang}/check")
    return client.post(
        f"/{lang}/check",
        data={
            "account_number": account,
            "bin_iin": bin_iin,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True)).replace("\u00a0", " ")


def test_a_client_sees_each_condition_with_its_evidence(app, client, demo):
    bins = load(app, demo)
    page = text(submit(client, "ru", "ACC0000002", bins["ACC0000002"]))
    assert "3 чека из 5 необходимых" in page
    assert "14 августа 2022 г." in page
    assert (
        "Company 2" not in page and "client2@example.kz" not in page
    )  # nothing but the conditions
    assert page.count('class="card month-standing"') == 3
    ok_page = text(submit(client, "kk", "ACC0000001", bins["ACC0000001"]))
    assert ok_page.count('class="ok"') == 5


def test_unknown_and_mismatch_get_the_same_answer(app, client, demo):
    bins = load(app, demo)
    unknown = text(submit(client, "ru", "NOPE000001", bins["ACC0000001"]))
    mismatch = text(submit(client, "ru", "ACC0000001", bins["ACC0000002"]))
    strip = lambda page: re.sub(r'value="[^"]*"', "", page)  # noqa: E731 - the typed values differ
    assert strip(unknown) == strip(mismatch)
    assert 'class="flash error"' in unknown


def test_the_self_check_is_rate_limited_per_client_address(app, client, demo):
    bins = load(app, demo)
    for _ in range(20):
        assert submit(client, "kk", "ACC0000001", bins["ACC0000001"]).status_code == 200
    assert submit(client, "kk", "ACC0000001", bins["ACC0000001"]).status_code == 429


def test_standing_runs_the_same_queries_for_unknown_and_mismatch(app, demo):
    bins = load(app, demo)
    statements = []
    with app.app_context():
        campaign = db.session.get(Campaign, demo)
        assert len(campaign.periods) == 3  # loaded once, before counting
        sa.event.listen(
            db.engine, "before_cursor_execute", lambda *args: statements.append(args[2])
        )
        eligibility.standing(campaign, "NOPE000001", bins["ACC0000001"])
        unknown = list(statements)
        statements.clear()
        eligibility.standing(campaign, "ACC0000001", bins["ACC0000002"])
        assert statements == unknown
