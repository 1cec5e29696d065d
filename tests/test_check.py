"""The public self-check: a client's own months and conditions, nothing else."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.campaign import eligibility
from portal.models import Campaign, db
from tests.helpers import load_september, submit_check


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True)).replace("\u00a0", " ")


def test_a_client_sees_each_condition_with_its_evidence(app, client, demo):
    bins = load_september(app, demo)
    page = text(submit_check(client, "ru", "ACC0000002", bins["ACC0000002"]))
    assert "Сформировано чеков: 3 (требуется не менее 5)" in page
    assert "14 августа 2022 г." in page
    assert (
        "Company 2" not in page and "client2@example.kz" not in page
    )  # nothing but the conditions
    assert page.count('class="card month-standing"') == 3
    ok_page = text(submit_check(client, "kk", "ACC0000001", bins["ACC0000001"]))
    assert ok_page.count('class="ok"') == 5


def test_unknown_and_mismatch_get_the_same_answer(app, client, demo):
    bins = load_september(app, demo)
    unknown = text(submit_check(client, "ru", "NOPE000001", bins["ACC0000001"]))
    mismatch = text(submit_check(client, "ru", "ACC0000001", bins["ACC0000002"]))
    strip = lambda page: re.sub(r'value="[^"]*"', "", page)  # noqa: E731 - the typed values differ
    assert strip(unknown) == strip(mismatch)
    assert 'class="flash error"' in unknown


def test_the_self_check_is_rate_limited_per_client_address(app, client, demo):
    bins = load_september(app, demo)
    for _ in range(20):
        assert submit_check(client, "kk", "ACC0000001", bins["ACC0000001"]).status_code == 200
    assert submit_check(client, "kk", "ACC0000001", bins["ACC0000001"]).status_code == 429


def test_standing_runs_the_same_queries_for_unknown_and_mismatch(app, demo):
    bins = load_september(app, demo)
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
