"""The audit trail's hash chain, and `flask audit verify` catching edits behind its back."""

from __future__ import annotations

from itertools import pairwise

import sqlalchemy as sa

from portal.campaign import audit
from portal.models import AuditEntry, db


def fill(n: int = 5) -> list[int]:
    ids = [
        audit.record(
            "test.action",
            details={"n": i},
            actor=audit.Actor(label="tester"),
            object_type="thing",
            object_id=i,
        ).id
        for i in range(n)
    ]
    db.session.commit()
    return ids


def test_entries_are_chained(ctx):
    ids = fill()
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert entries[0].prev_hash == "0" * 64
    for before, after in pairwise(entries):
        assert after.prev_hash == before.entry_hash
    report = audit.verify_chain()
    assert report.ok and report.checked == len(ids)


def test_an_edited_entry_is_found(ctx, runner):
    ids = fill()
    db.session.execute(
        sa.update(AuditEntry).where(AuditEntry.id == ids[2]).values(details='{"n": 99}')
    )
    db.session.commit()
    report = audit.verify_chain()
    assert report.broken_at == ids[2] and report.checked == 2
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken at entry {ids[2]}" in result.output and "edited" in result.output


def test_a_deleted_entry_is_found(ctx, runner):
    ids = fill()
    db.session.execute(sa.delete(AuditEntry).where(AuditEntry.id == ids[1]))
    db.session.commit()
    report = audit.verify_chain()
    assert report.broken_at == ids[2]
    assert "removed or inserted" in report.reason


def test_a_rehashed_forgery_is_still_found_by_the_next_link(ctx):
    ids = fill()
    forged = db.session.get(AuditEntry, ids[3])
    forged.details = '{"n": 42}'
    forged.entry_hash = audit.entry_digest(forged)
    db.session.commit()
    assert audit.verify_chain().broken_at == ids[4]


def test_intact_trail_verifies_from_the_command_line(ctx, runner):
    fill(3)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert "3 entries checked" in result.output


def test_audit_page_filters_and_exports_csv(app, client, auth):
    auth.login("auditor")
    with app.app_context():
        fill(3)
    text = client.get("/admin/audit?action=test.").get_data(as_text=True)
    assert text.count("<td>test.action</td>") == 3  # an action without a name: its code
    with client.get("/admin/audit.csv?action=test.") as response:
        body = response.get_data(as_text=True)
    lines = body.strip().splitlines()
    assert lines[0].startswith("id,at,actor,ip,action")
    assert len(lines) == 4 and all(",test.action," in line for line in lines[1:])
    response = client.post("/admin/audit/verify", data={"csrf_token": auth.token("/admin/audit")})
    assert response.status_code == 200
