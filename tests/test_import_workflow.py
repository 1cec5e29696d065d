"""The import as one step of the campaign: run for an actor, on the record, eligibility after."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from portal.campaign import eligibility, imports
from portal.campaign.audit import Actor
from portal.models import Activity, AuditEntry, Campaign, ImportBatch, ImportRow, StaffUser, db
from tests.helpers import TODAY, csv_bytes, make_staff, row


@pytest.fixture
def september(ctx, demo):
    return db.session.get(Campaign, demo).periods[0]


def trail() -> list[tuple[str, str, dict]]:
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))
    return [(e.action, e.actor, json.loads(e.details)) for e in entries]


def test_a_clean_import_is_audited_and_its_eligibility_computed(september):
    outcome = imports.run_import(
        september,
        "sep.csv",
        csv_bytes([row(1), row(2, receipts_in_period="1")]),
        actor=Actor(label="cli"),
        today=TODAY,
    )
    db.session.commit()
    assert outcome.report.ok and outcome.batch.status == ImportBatch.DONE
    assert (outcome.run.participants, outcome.run.eligible, outcome.run.computed_by) == (
        2,
        1,
        "cli",
    )
    assert eligibility.latest_run(september).id == outcome.run.id
    [(action, actor, details), eligible] = trail()
    assert (action, actor) == ("participants.import", "cli")
    assert details == {
        "period": "2022-09",
        "file": "sep.csv",
        "sha256": outcome.batch.sha256,
        "rows": 2,
        "status": "done",
        "problems": 0,
        "replace": False,
    }
    assert eligible == (
        "participants.eligibility",
        "cli",
        {"period": "2022-09", "participants": 2, "eligible": 1},
    )


def test_a_file_with_problems_is_audited_and_no_eligibility_is_computed(september):
    outcome = imports.run_import(
        september,
        "bad.csv",
        csv_bytes([row(1, bin_iin="123456789012")]),
        actor=Actor(label="demo"),
        today=TODAY,
    )
    db.session.commit()
    assert not outcome.report.ok and outcome.run is None
    assert outcome.batch.status == ImportBatch.FAILED
    assert [(a, who, d["problems"]) for a, who, d in trail()] == [
        ("participants.import", "demo", 1)
    ]
    assert eligibility.latest_run(september) is None


def test_a_second_import_needs_replace(september):
    actor = Actor(label="cli")
    imports.run_import(september, "a.csv", csv_bytes([row(1)]), actor=actor, today=TODAY)
    db.session.commit()
    with pytest.raises(imports.AlreadyImported):
        imports.run_import(september, "b.csv", csv_bytes([row(2)]), actor=actor, today=TODAY)
    db.session.rollback()
    with pytest.raises(imports.AlreadyImported):
        imports.start_import(september, "b.csv", b"x", actor=actor, replace=False)
    db.session.rollback()
    replaced = imports.run_import(
        september, "b.csv", csv_bytes([row(2), row(3)]), actor=actor, today=TODAY, replace=True
    )
    db.session.commit()
    assert replaced.batch.rows == 2 and replaced.run.participants == 2


def test_an_upload_is_recorded_then_finished_by_id(september):
    staff_id = make_staff("marketing@ismet.kz", "marketing")
    actor = Actor(user=db.session.get(StaffUser, staff_id), ip="10.0.0.7")
    data = csv_bytes([row(n) for n in range(1, 6)])
    batch = imports.start_import(september, "sep.csv", data, actor=actor, replace=False)
    batch_id = batch.id
    db.session.commit()
    assert batch.status == ImportBatch.PENDING and batch.imported_by == "marketing@ismet.kz"

    imports.finish_import(batch_id, data, False, staff_id, "10.0.0.7", TODAY)
    db.session.expire_all()
    batch = db.session.get(ImportBatch, batch_id)
    assert batch.status == ImportBatch.DONE and batch.rows == 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Activity)) == 5
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == [
        "participants.import_started",
        "participants.import",
        "participants.eligibility",
    ]
    assert {(e.actor_id, e.actor, e.ip) for e in entries} == {
        (staff_id, "marketing@ismet.kz", "10.0.0.7")
    }


def test_an_upload_of_a_month_taken_meanwhile_fails_and_leaves_no_rows(september):
    actor = Actor(label="cli")
    data = csv_bytes([row(1)])
    batch = imports.start_import(september, "first.csv", data, actor=actor, replace=False)
    batch_id = batch.id
    db.session.commit()
    imports.run_import(september, "other.csv", csv_bytes([row(2)]), actor=actor, today=TODAY)
    db.session.commit()

    imports.finish_import(batch_id, data, False, None, "", TODAY)
    db.session.expire_all()
    batch = db.session.get(ImportBatch, batch_id)
    assert batch.status == ImportBatch.FAILED and batch.problems_total == 1
    assert json.loads(batch.problems) == [
        {"row": 0, "column": "", "code": "already-imported", "detail": ""}
    ]
    assert batch.finished_at is not None


def test_fail_marks_the_batch_and_removes_its_staged_rows(september):
    batch = imports.new_batch(september, "sep.csv", b"header\n")
    db.session.execute(
        ImportRow.__table__.insert(),
        [
            {
                "batch_id": batch.id,
                "row_number": 2,
                "account_number": "A1",
                "bin_iin": "1",
                "legal_form": "IE",
                "company_name": "C",
                "director_name": "D",
                "email": "",
                "phone": "",
                "city": "",
                "paid_months": 1,
                "receipts_in_period": 1,
            }
        ],
    )
    batch_id = batch.id
    db.session.commit()
    imports.fail(batch_id, "internal")
    db.session.expire_all()
    assert db.session.get(ImportBatch, batch_id).status == ImportBatch.FAILED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportRow)) == 0


def test_recompute_computes_and_audits_for_the_actor(september):
    imports.import_month(september, "sep.csv", csv_bytes([row(1), row(2)]), today=TODAY)
    db.session.commit()
    run = eligibility.recompute(september, Actor(label="cli", ip="127.0.0.1"))
    db.session.commit()
    assert (run.participants, run.eligible, run.computed_by) == (2, 2, "cli")
    [entry] = db.session.scalars(sa.select(AuditEntry)).all()
    assert (entry.action, entry.object_id, entry.ip) == (
        "participants.eligibility",
        str(run.id),
        "127.0.0.1",
    )
