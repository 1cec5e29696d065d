"""An import that computes eligibility stores it with its rows: exactly what the month's
computation stores, condition by condition, on either edge of each threshold."""

from __future__ import annotations

import sqlalchemy as sa

from portal.campaign import conditions, eligibility, imports
from portal.campaign.audit import Actor
from portal.models import Activity, db
from tests.helpers import TODAY, csv_bytes, row

VERDICTS = ("ok_app", "ok_ekassa", "ok_paid", "ok_receipts", "ok_legal_form", "eligible")


def stored() -> dict[int, tuple]:
    columns = [getattr(Activity, name) for name in VERDICTS]
    return {
        pid: tuple(rest)
        for pid, *rest in db.session.execute(
            sa.select(Activity.participant_id, *columns).order_by(Activity.participant_id)
        )
    }


def test_the_eligibility_an_import_stores_is_the_one_its_computation_stores(empty_september):
    period = empty_september
    campaign = period.campaign
    applied = conditions.of_campaign(campaign)
    min_paid = conditions.minimum_of(applied, "paid_months")
    min_receipts = conditions.minimum_of(applied, "receipts_in_period")
    edges = [
        {},
        {"app_authorized_on": ""},
        {"app_authorized_on": period.ends_on.isoformat()},
        {"app_authorized_on": "2022-10-01"},
        {"ekassa_connected_on": ""},
        {"ekassa_connected_on": campaign.starts_on.isoformat()},
        {"ekassa_connected_on": "2022-08-31"},
        {"ekassa_connected_on": period.ends_on.isoformat()},
        {"ekassa_connected_on": "2022-10-01"},
        {"paid_months": str(min_paid)},
        {"paid_months": str(min_paid - 1)},
        {"receipts_in_period": str(min_receipts)},
        {"receipts_in_period": str(min_receipts - 1)},
        {"legal_form": "ie"},
        {"legal_form": "JSC"},
    ]
    rows = [row(n, **edge) for n, edge in enumerate(edges, start=1)]
    outcome = imports.run_import(
        period, "sep.csv", csv_bytes(rows), actor=Actor(label="cli"), today=TODAY
    )
    assert outcome.report.ok, outcome.report.problems
    db.session.commit()
    as_imported = stored()
    assert len(as_imported) == len(edges)
    assert {v for verdicts in as_imported.values() for v in verdicts} == {True, False}
    assert not any(None in verdicts for verdicts in as_imported.values())

    # computed again from the stored figures, row by row: nothing differs
    db.session.execute(sa.update(Activity).values(dict.fromkeys(VERDICTS)))
    run = eligibility.compute(period)
    db.session.commit()
    assert stored() == as_imported
    assert (run.participants, run.eligible) == (outcome.run.participants, outcome.run.eligible)
    assert run.passed_app == outcome.run.passed_app
