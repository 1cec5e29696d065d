"""Who may take part in a month's draw (rules 3, 4.1 and 4.2).

A participant is eligible for a reporting month when all five conditions hold:

- ``app``: authorised in the Ismet.kz app by the month's end (4.1);
- ``ekassa``: e-kassa connected at the fiscal data operator within the campaign and
  by the month's end (4.2);
- ``paid``: at least ``min_paid_months`` months of the service paid (4.2);
- ``receipts``: at least ``min_receipts`` receipts through the app in the month (4.2);
- ``legal_form``: an individual entrepreneur or a limited liability partnership (3);
  the import takes any legal form as given, and this condition decides.

Each condition is written here twice, side by side: as a SQL expression, which
computes a month of a million participants in one statement, and as Python, which
explains one participant's decision. ``tests/test_eligibility.py`` checks on
generated data that both always agree.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from portal.campaign import audit
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

LEGAL_FORMS = ("IE", "LLP")
CONDITIONS = ("app", "ekassa", "paid", "receipts", "legal_form")


def legal_form_as_stored(text: str) -> str:
    """A legal form as the import keeps it: IE and LLP in capitals whatever their case
    (so the condition knows them), any other form (JSC, ...) as the file gave it."""
    upper = text.upper()
    return upper if upper in LEGAL_FORMS else text


@dataclass(frozen=True)
class Thresholds:
    """What the campaign asks, and the month being judged."""

    campaign_starts_on: date
    campaign_ends_on: date
    month_ends_on: date
    min_receipts: int
    min_paid_months: int

    @classmethod
    def of(cls, campaign: Campaign, period: ReportingPeriod) -> Thresholds:
        return cls(
            campaign.starts_on,
            campaign.ends_on,
            period.ends_on,
            campaign.min_receipts,
            campaign.min_paid_months,
        )

    @property
    def ekassa_deadline(self) -> date:
        return min(self.campaign_ends_on, self.month_ends_on)


# --- the conditions, as SQL --------------------------------------------------------


def sql_conditions(t: Thresholds, a=None) -> dict[str, sa.ColumnElement[bool]]:
    """Each condition as a boolean SQL expression over the ``activity`` table, or over the
    columns ``a`` of another that has its figures under the same names (the import's
    staged rows, stored with their eligibility at once)."""
    a = Activity.__table__.c if a is None else a
    return {
        "app": sa.and_(a.app_authorized_on.is_not(None), a.app_authorized_on <= t.month_ends_on),
        "ekassa": sa.and_(
            a.ekassa_connected_on.is_not(None),
            a.ekassa_connected_on >= t.campaign_starts_on,
            a.ekassa_connected_on <= t.ekassa_deadline,
        ),
        "paid": a.paid_months >= t.min_paid_months,
        "receipts": a.receipts_in_period >= t.min_receipts,
        "legal_form": a.legal_form.in_(LEGAL_FORMS),
    }


def sql_verdicts(t: Thresholds, a=None) -> dict[str, sa.ColumnElement[bool]]:
    """What ``compute`` stores, as SQL over the same columns as ``sql_conditions``:
    ``ok_<condition>`` for each condition and ``eligible``, each TRUE or FALSE."""
    conditions = sql_conditions(t, a)
    values = {f"ok_{name}": sa.case((expr, True), else_=False) for name, expr in conditions.items()}
    values["eligible"] = sa.case((sa.and_(*conditions.values()), True), else_=False)
    return values


# --- the conditions, as Python, with their evidence --------------------------------


@dataclass(frozen=True)
class Check:
    """One condition for one participant: whether it holds, and the facts behind it."""

    condition: str
    ok: bool
    reason: str  # a code the pages translate
    values: dict


def explain(activity: Activity, t: Thresholds) -> list[Check]:
    """The five conditions for one participant and month, with their evidence."""
    checks = []
    app = activity.app_authorized_on
    if app is None:
        checks.append(Check("app", False, "app-never", {}))
    else:
        checks.append(
            Check(
                "app",
                app <= t.month_ends_on,
                "app-on" if app <= t.month_ends_on else "app-late",
                {"date": app, "deadline": t.month_ends_on},
            )
        )
    kassa = activity.ekassa_connected_on
    if kassa is None:
        checks.append(Check("ekassa", False, "ekassa-never", {}))
    elif kassa < t.campaign_starts_on:
        checks.append(
            Check("ekassa", False, "ekassa-before", {"date": kassa, "start": t.campaign_starts_on})
        )
    elif kassa > t.ekassa_deadline:
        checks.append(
            Check("ekassa", False, "ekassa-late", {"date": kassa, "deadline": t.ekassa_deadline})
        )
    else:
        checks.append(Check("ekassa", True, "ekassa-on", {"date": kassa}))
    checks.append(
        Check(
            "paid",
            activity.paid_months >= t.min_paid_months,
            "paid",
            {"count": activity.paid_months, "needed": t.min_paid_months},
        )
    )
    checks.append(
        Check(
            "receipts",
            activity.receipts_in_period >= t.min_receipts,
            "receipts",
            {"count": activity.receipts_in_period, "needed": t.min_receipts},
        )
    )
    checks.append(
        Check(
            "legal_form",
            activity.legal_form in LEGAL_FORMS,
            "legal-form",
            {"form": activity.legal_form},
        )
    )
    return checks


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
        year=period.year,
        month_number=period.month,
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
        year=period.year,
        month_number=period.month,
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
    """Store the five conditions and the result for every participant of the month (one statement).

    ``stored``: the month's rows hold them already, computed by ``sql_verdicts`` with the
    campaign's current thresholds in this transaction (an import that stored them with
    its rows): only the run is recorded, counted from them.
    Raises ``MonthFrozen`` once the month has been drawn.
    """
    refuse_if_drawn(period)
    campaign = period.campaign
    thresholds = Thresholds.of(campaign, period)
    values = sql_verdicts(thresholds)
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
        min_receipts=thresholds.min_receipts,
        min_paid_months=thresholds.min_paid_months,
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
    months = []
    for period in campaign.periods:
        activity = activities.get(period.id)
        run = latest_run(period)
        if activity is None or run is None or activity.eligible is None:
            months.append(MonthStanding(period, None, None, activity is not None))
            continue
        thresholds = Thresholds(
            campaign.starts_on,
            campaign.ends_on,
            period.ends_on,
            run.min_receipts,
            run.min_paid_months,
        )
        months.append(MonthStanding(period, explain(activity, thresholds), activity.eligible, True))
    return months if matches else None
