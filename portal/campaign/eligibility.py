"""Who may take part in a month's draw (rules 3 and 4 of the 2022 campaign).

A participant is eligible for a reporting month when every condition of the campaign
holds. The conditions are data (``portal.campaign.conditions``, rows of
``campaign_condition``); the 2022 campaign's five are:

- ``app``: authorised in the Ismet.kz app by the month's end (4.1);
- ``ekassa``: e-kassa connected at the fiscal data operator within the campaign and
  by the month's end (4.2);
- ``paid``: at least one month of the service paid (4.2);
- ``receipts``: at least five receipts through the app in the month (4.2);
- ``legal_form``: an individual entrepreneur or a limited liability partnership (3);
  the import takes any legal form as given, and this condition decides.

From the same rows a month is computed by one SQL statement (a million participants)
and one participant's decision is explained in Python; ``tests/test_conditions.py``
checks on generated data that both always agree.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import sqlalchemy as sa

from portal.campaign import audit, conditions
from portal.campaign.conditions import Check, Condition, Month
from portal.models import (
    Activity,
    Campaign,
    Draw,
    DrawAttempt,
    EligibilityRun,
    ImportBatch,
    Participant,
    ReportingPeriod,
    db,
    utcnow,
)

# The verdict slots, in the funnel's order (``conditions.SLOTS``): a campaign uses some.
CONDITIONS = conditions.VERDICTS

__all__ = ["CONDITIONS", "Check", "Condition", "Month"]


def legal_form_as_stored(text: str, forms: tuple[str, ...]) -> str:
    """A legal form as the import keeps it: one the campaign's conditions name (IE, LLP)
    in capitals whatever its case (so the condition knows it), any other form (JSC, ...)
    as the file gave it."""
    upper = text.upper()
    return upper if upper in forms else text


def applied(period: ReportingPeriod) -> list[Condition]:
    """The conditions the month was last computed with (its latest run's record), or the
    campaign's in force when it has not been computed yet."""
    return _applied_by(latest_run(period), period.campaign)


def _applied_by(run: EligibilityRun | None, campaign: Campaign) -> list[Condition]:
    if run is not None and run.conditions:
        return conditions.from_snapshot(run.conditions)
    return conditions.of_campaign(campaign)


def explain(activity: Activity, campaign: Campaign, period: ReportingPeriod) -> list[Check]:
    """The month's conditions (``applied``) for one participant, with their evidence."""
    return conditions.explain(applied(period), activity, Month.of(campaign, period))


# --- a drawn month is frozen ------------------------------------------------------------


class MonthFrozen(Exception):
    """A drawn month's data stays as it was drawn from: its pool, its winners' checks
    (rule 8) and every participant's self-check rest on it. No import, no replacement,
    no new computation of its eligibility. ``code`` is ``month-drawn``, or
    ``month-drawing`` while its first draw is under way; ``details`` name the month and
    its first draw (``portal.wording.messages`` words it)."""

    def __init__(self, code: str, **details) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


def first_draw(period: ReportingPeriod) -> Draw | None:
    """The month's first draw, once held: from then on the month's data is frozen."""
    return db.session.scalar(
        sa.select(Draw).filter_by(period_id=period.id).order_by(Draw.sequence, Draw.id).limit(1)
    )


def frozen(period: ReportingPeriod) -> MonthFrozen | None:
    """Why the month's data may no longer change (its draw), or None while it may."""
    draw = first_draw(period)
    if draw is None:
        return _drawing(period)
    return MonthFrozen(
        "month-drawn",
        month=period.key,
        period=period,
        draw=draw.id,
        drawn_at=draw.conducted_at,
    )


def _drawing(period: ReportingPeriod) -> MonthFrozen | None:
    """The month's first draw under way (reserved, waiting on random.org), if any: its
    data must stay as its pool was made from (``month-drawing``)."""
    attempt = db.session.scalar(
        sa.select(DrawAttempt)
        .where(
            DrawAttempt.period_id == period.id,
            DrawAttempt.sequence == 0,
            DrawAttempt.state == DrawAttempt.PENDING,
            DrawAttempt.expires_at > utcnow(),
        )
        .limit(1)
    )
    if attempt is None:
        return None
    return MonthFrozen(
        "month-drawing",
        month=period.key,
        period=period,
        draw=attempt.draw_id,
        drawn_at=attempt.started_at,
    )


def refuse_if_drawn(
    period: ReportingPeriod,
    *,
    actor: audit.Actor | None = None,
    action: str = "",
    obj=None,
    details: dict | None = None,
) -> None:
    """Raise ``MonthFrozen`` when the month has a draw; with ``actor``, the refusal is put
    on the record first as ``action`` (the caller commits, so that it stays)."""
    refusal = frozen(period)
    if refusal is None:
        return
    if actor is not None:
        audit.record(
            action,
            obj if obj is not None else period,
            {"period": period.key, "draw": refusal.details["draw"], **(details or {})},
            actor=actor,
        )
    raise refusal


# --- computing a month ---------------------------------------------------------------


def compute(period: ReportingPeriod, computed_by: str = "", stored: bool = False) -> EligibilityRun:
    """Store the campaign's conditions and the result for every participant of the month
    (one statement), and record the run with the conditions it applied.

    ``stored``: the month's rows hold them already, computed by ``conditions.sql_verdicts``
    with the campaign's current conditions in this transaction (an import that stored them with
    its rows): only the run is recorded, counted from them.
    Raises ``MonthFrozen`` once the month has been drawn.
    """
    refuse_if_drawn(period)
    campaign = period.campaign
    in_force = conditions.of_campaign(campaign)
    values = conditions.sql_verdicts(in_force, Month.of(campaign, period))
    # Only the rows whose verdicts change are written (none after an import, which
    # stores them with the rows; those of a threshold's change after): a row rewritten
    # is a new version of it in every index on PostgreSQL.
    changes = sa.or_(*(getattr(Activity, name).is_distinct_from(v) for name, v in values.items()))
    if not stored:
        db.session.execute(
            sa.update(Activity).where(Activity.period_id == period.id, changes).values(**values)
        )
    counted = _count_funnel(period)
    run = EligibilityRun(
        period_id=period.id,
        min_receipts=conditions.minimum_of(in_force, "receipts_in_period"),
        min_paid_months=conditions.minimum_of(in_force, "paid_months"),
        conditions=conditions.snapshot(in_force),
        participants=counted["participants"],
        eligible=counted["eligible"],
        **{f"passed_{name}": counted[name] for name in CONDITIONS},
        batch_id=current_batch_id(period),
        computed_at=utcnow(),
        computed_by=computed_by,
    )
    db.session.add(run)
    db.session.flush()
    return run


def recompute(period: ReportingPeriod, actor: audit.Actor, stored: bool = False) -> EligibilityRun:
    """Compute the month's eligibility for ``actor`` and put it on the record (the caller
    commits); ``stored`` as ``compute`` takes it.

    Once the month is drawn, raises ``MonthFrozen``, the refusal audited as
    ``participants.eligibility_refused`` (the caller commits it too).
    """
    refuse_if_drawn(period, actor=actor, action="participants.eligibility_refused")
    run = compute(period, computed_by=actor.name, stored=stored)
    audit.record(
        "participants.eligibility",
        run,
        {"period": period.key, "participants": run.participants, "eligible": run.eligible},
        actor=actor,
    )
    return run


def latest_run(period: ReportingPeriod) -> EligibilityRun | None:
    """The month's most recent eligibility computation, or None."""
    return db.session.scalar(
        sa.select(EligibilityRun).filter_by(period_id=period.id).order_by(EligibilityRun.id.desc())
    )


def funnel(period: ReportingPeriod) -> dict[str, int]:
    """How many of the month's participants pass each condition, and all of them.

    As the month's latest eligibility run counted them, when the month's data has not
    changed since (no later import); counted again otherwise, and for runs made before
    the counts were kept; none without data.
    """
    batch_id = current_batch_id(period)
    if batch_id is None:  # no data: an import stores a month's rows all or nothing
        return dict.fromkeys(("participants", *CONDITIONS, "eligible"), 0)
    run = latest_run(period)
    if run is not None and run.batch_id == batch_id and run.passed_app is not None:
        return {
            "participants": run.participants,
            **{name: getattr(run, f"passed_{name}") for name in CONDITIONS},
            "eligible": run.eligible,
        }
    return _count_funnel(period)


def current_batch_id(period: ReportingPeriod) -> int | None:
    """The import whose data the month holds now (its latest done), if any."""
    return db.session.scalar(
        sa.select(sa.func.max(ImportBatch.id)).where(
            ImportBatch.period_id == period.id, ImportBatch.status == ImportBatch.DONE
        )
    )


def _count_funnel(period: ReportingPeriod) -> dict[str, int]:
    """The funnel counted from the month's figures (one pass over them)."""
    a = Activity
    row = db.session.execute(
        sa.select(
            sa.func.count(),
            *(sa.func.count().filter(getattr(a, f"ok_{name}").is_(True)) for name in CONDITIONS),
            sa.func.count().filter(a.eligible.is_(True)),
        ).where(a.period_id == period.id)
    ).one()
    return dict(zip(("participants", *CONDITIONS, "eligible"), row, strict=True))


# --- a client's own standing (the self-check) ----------------------------------------


@dataclass(frozen=True)
class MonthStanding:
    """One month as a client sees it: its checks, or why there are none."""

    period: ReportingPeriod
    checks: list[Check] | None  # None: no data for the month, or not computed yet
    eligible: bool | None
    has_data: bool


def standing(campaign: Campaign, account_number: str, bin_iin: str) -> list[MonthStanding] | None:
    """Every month of the campaign for the client with this account and BIN/IIN, or None.

    An unknown account and a known account with another BIN/IIN both give None, after
    the same queries, so neither the answer nor its time tells them apart.
    """

    participant = db.session.scalar(
        sa.select(Participant).filter_by(
            campaign_id=campaign.id, account_number=account_number.strip()
        )
    )
    stored = participant.bin_iin if participant is not None else "0" * 12
    matches = (
        hmac.compare_digest(stored.encode(), bin_iin.strip().encode()) and participant is not None
    )
    participant_id = participant.id if matches else -1
    activities = {
        a.period_id: a
        for a in db.session.scalars(sa.select(Activity).filter_by(participant_id=participant_id))
    }
    months: list[MonthStanding] = []
    for period in campaign.periods:
        activity = activities.get(period.id)
        run = latest_run(period)
        if activity is None or run is None or activity.eligible is None:
            months.append(MonthStanding(period, None, None, activity is not None))
            continue
        month = Month.of(campaign, period)  # explained as the month was computed:
        checks = conditions.explain(_applied_by(run, campaign), activity, month)
        months.append(MonthStanding(period, checks, activity.eligible, True))
    return months if matches else None
