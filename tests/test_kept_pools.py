"""The pool the confirmation screen shows, kept and taken back at its confirmation.

What a draw produces does not change (tests/test_draws.py): these tests check that the
pool confirmed is the one shown, and that whatever changed the month's eligibility in
between is refused as when the pool was built again.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import current_app

from portal.campaign import draws, eligibility
from portal.models import Activity, Draw, DrawEntry, DrawFile, KeptPool, Participant, db
from portal.models.base import copy_rows
from tests.helpers import AFTER_SEPTEMBER, conduct, count, prepare


def show(period, **kwargs):
    """``draws.show`` with the app's secret, as the admin form calls it."""
    return draws.show(period, secret=current_app.config["SECRET_KEY"], **kwargs)


def kept() -> sa.Table:
    return KeptPool.__table__


def test_the_pool_shown_is_kept_and_taken_back_by_its_nonce(september):
    shown = show(september)
    assert count(KeptPool) == 1
    # Only an eligibility run sets who is eligible; a change made behind its back shows
    # that the confirmation does not read the month's data again.
    db.session.execute(sa.update(Activity).values(eligible=False))
    db.session.commit()
    back = prepare(september, nonce=shown.nonce)
    assert back.content == shown.content and back.sha256 == shown.sha256
    assert list(back.participant_ids) == list(shown.participant_ids)
    assert back.entry_key == shown.entry_key and back.size == 10
    assert prepare(september).size == 0  # built, not taken back: nobody eligible


def test_the_draw_over_a_kept_pool_is_the_draw_over_the_pool_shown(september, standin):
    shown = show(september)
    pool = prepare(september, nonce=shown.nonce)
    draw = conduct(september, pool=pool, expected_sha256=shown.sha256)
    stored = db.session.scalar(sa.select(DrawFile).filter_by(draw_id=draw.id, name=DrawFile.POOL))
    assert stored.content == shown.content and draw.pool_sha256 == shown.sha256
    entries = db.session.execute(
        sa.select(DrawEntry.position, DrawEntry.participant_id)
        .filter_by(draw_id=draw.id)
        .order_by(DrawEntry.position)
    ).all()
    assert entries == [(n, pid) for n, pid in enumerate(shown.participant_ids, start=1)]
    assert draws.verified(draws.verify(draw))
    assert count(KeptPool) == 0  # the draw is made: the pools shown for it are dropped
    for position, code in (
        line.split(",")[:2] for line in stored.content.decode().splitlines()[1:]
    ):
        participant = db.session.get(Participant, entries[int(position) - 1][1])
        assert draws.entry_of(draw, participant) == (int(position), code)


def test_a_recomputed_eligibility_that_changes_the_pool_is_refused(september, standin):
    shown = show(september)
    first = db.session.get(Participant, shown.participant_ids[0])
    db.session.execute(
        sa.update(Activity).where(Activity.participant_id == first.id).values(receipts_in_period=0)
    )
    eligibility.compute(september)
    db.session.commit()
    pool = prepare(september, nonce=shown.nonce)
    assert pool.size == 9 and first.id not in pool.participant_ids
    with pytest.raises(draws.DrawRefused) as refused:
        conduct(september, pool=pool, expected_sha256=shown.sha256)
    assert refused.value.code == "pool-changed" and count(Draw) == 0


def test_a_recomputed_eligibility_that_changes_nothing_is_drawn_as_shown(september, standin):
    shown = show(september)
    eligibility.compute(september)  # a new run, the same eligible: built again, the same bytes
    db.session.commit()
    pool = prepare(september, nonce=shown.nonce)
    draw = conduct(september, pool=pool, expected_sha256=shown.sha256)
    assert draw.pool_sha256 == shown.sha256


def test_a_kept_pool_whose_file_changed_is_not_taken_back(september):
    shown = show(september)
    tampered = shown.content.replace(b"1,", b"9,", 1)
    db.session.execute(sa.update(kept()).values(content=tampered))
    db.session.commit()
    back = prepare(september, nonce=shown.nonce)
    assert back.content == shown.content  # built again from the nonce


def test_a_kept_pool_is_taken_back_only_with_its_own_key(september):
    shown = show(september)
    back = draws.prepare(september, secret="another-secret", nonce=shown.nonce)
    assert back.entry_key != shown.entry_key and back.content != shown.content
    assert list(back.participant_ids) == list(shown.participant_ids)


def test_kept_pools_are_few_and_expire(september):
    for _ in range(draws.KEPT_POOLS_A_DRAW + 2):
        show(september, now=AFTER_SEPTEMBER)
    assert count(KeptPool) == draws.KEPT_POOLS_A_DRAW
    latest = show(september, now=AFTER_SEPTEMBER + draws.KEPT_POOL_HOLD + timedelta(minutes=1))
    assert db.session.scalars(sa.select(kept().c.nonce)).all() == [latest.nonce]
    ids = db.session.scalar(sa.select(kept().c.participant_ids))
    assert len(ids) == 8 * latest.size
    digest = db.session.scalar(sa.select(kept().c.sha256))
    assert digest == hashlib.sha256(latest.content).hexdigest()


def test_copy_rows_writes_every_row_in_the_session_transaction(september):
    """COPY on PostgreSQL, one executemany on SQLite: the rows as given, uncommitted."""
    table = Participant.__table__
    before, campaign_id = count(Participant), september.campaign_id
    rows = (
        (
            campaign_id,
            f"COPY{n:06d}",
            "000000000000",
            "IE",
            f"Company {n}",
            "",
            "",
            "",
            "",
        )
        for n in range(1, 1001)
    )
    columns = ("campaign_id", "account_number", "bin_iin", "legal_form", "company_name")
    columns += ("director_name", "email", "phone", "city")
    assert copy_rows(table, columns, rows) == 1000
    copied = db.session.execute(
        sa.select(table.c.account_number, table.c.company_name)
        .where(table.c.account_number.like("COPY%"))
        .order_by(table.c.account_number)
    ).all()
    assert copied == [(f"COPY{n:06d}", f"Company {n}") for n in range(1, 1001)]
    db.session.rollback()
    assert count(Participant) == before
