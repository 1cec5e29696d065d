"""Importing a month of activity data (the import format of DESIGN.md), all or nothing.

Every row is checked; one problem anywhere and nothing is stored but the record of
the attempt, whose report lists every problem by row and column (the first
``MAX_PROBLEMS``, with the total). Problems are codes; the pages translate them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date

import sqlalchemy as sa

from portal.campaign.eligibility import LEGAL_FORMS
from portal.campaign.identity import is_valid_bin_iin
from portal.models import Activity, ImportBatch, Participant, ReportingPeriod, db, utcnow
from portal.services.tabular import UnreadableFile, read_table

COLUMNS = (
    "account_number",
    "bin_iin",
    "legal_form",
    "company_name",
    "director_name",
    "email",
    "phone",
    "city",
    "app_authorized_on",
    "ekassa_connected_on",
    "paid_months",
    "receipts_in_period",
)
REQUIRED = (
    "account_number",
    "bin_iin",
    "legal_form",
    "company_name",
    "director_name",
    "paid_months",
    "receipts_in_period",
)
LIMITS = {
    "account_number": 32,
    "company_name": 300,
    "director_name": 300,
    "email": 254,
    "phone": 40,
    "city": 100,
}
MAX_PROBLEMS = 1000
CHUNK = 900  # stays under SQLite's limit of bound parameters
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Problem:
    """What is wrong where: ``row`` 0 means the file or its header."""

    row: int
    column: str
    code: str
    detail: str = ""


@dataclass
class Report:
    """The outcome of checking a file."""

    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    total: int = 0

    def add(self, problem: Problem) -> None:
        self.total += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    @property
    def ok(self) -> bool:
        return self.total == 0


@dataclass(frozen=True)
class Row:
    """One checked row, typed."""

    account_number: str
    bin_iin: str
    legal_form: str
    company_name: str
    director_name: str
    email: str
    phone: str
    city: str
    app_authorized_on: date | None
    ekassa_connected_on: date | None
    paid_months: int
    receipts_in_period: int


def _date(value: str, row: int, column: str, today: date, report: Report) -> date | None:
    if not value:
        return None
    if not DATE.match(value):
        report.add(Problem(row, column, "date-format"))
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        report.add(Problem(row, column, "date-invalid"))
        return None
    if parsed > today:
        report.add(Problem(row, column, "date-future"))
    return parsed


def _count(value: str, row: int, column: str, report: Report) -> int:
    if not re.fullmatch(r"-?\d+", value):
        report.add(Problem(row, column, "count-format"))
        return 0
    number = int(value)
    if number < 0:
        report.add(Problem(row, column, "count-negative"))
    return number


def check_rows(
    header: list[str],
    rows: Iterable[tuple[int, dict[str, str]]],
    today: date,
    earlier_bin_iin: Callable[[list[str]], dict[str, str]],
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Row], Report]:
    """Check every row; ``earlier_bin_iin`` maps accounts to the BIN/IIN they had before."""
    report = Report()
    missing = [
        c for c in (*REQUIRED, "app_authorized_on", "ekassa_connected_on") if c not in header
    ]
    for column in missing:
        report.add(Problem(0, column, "missing-column"))
    duplicates = [c for c in set(header) if header.count(c) > 1 and c]
    for column in duplicates:
        report.add(Problem(0, column, "duplicate-column"))
    if missing or duplicates:
        return [], report

    checked: list[tuple[int, Row]] = []
    first_row_of: dict[str, int] = {}
    for number, values in rows:
        report.rows += 1
        if "__extra__" in values:
            report.add(Problem(number, "", "extra-cells"))
        for column in REQUIRED:
            if not values.get(column):
                report.add(Problem(number, column, "required"))
        for column, limit in LIMITS.items():
            if len(values.get(column, "")) > limit:
                report.add(Problem(number, column, "too-long", str(limit)))
        account = values.get("account_number", "")
        if account:
            if account in first_row_of:
                report.add(
                    Problem(
                        number, "account_number", "duplicate-account", str(first_row_of[account])
                    )
                )
            else:
                first_row_of[account] = number
        bin_iin = values.get("bin_iin", "")
        if bin_iin and not is_valid_bin_iin(bin_iin):
            report.add(Problem(number, "bin_iin", "bin-iin-invalid"))
        legal_form = values.get("legal_form", "").upper()
        if legal_form and legal_form not in LEGAL_FORMS:
            report.add(Problem(number, "legal_form", "legal-form"))
        email = values.get("email", "")
        if email and not EMAIL.match(email):
            report.add(Problem(number, "email", "email-format"))
        row = Row(
            account_number=account,
            bin_iin=bin_iin,
            legal_form=legal_form,
            company_name=values.get("company_name", ""),
            director_name=values.get("director_name", ""),
            email=email,
            phone=values.get("phone", ""),
            city=values.get("city", ""),
            app_authorized_on=_date(
                values.get("app_authorized_on", ""), number, "app_authorized_on", today, report
            ),
            ekassa_connected_on=_date(
                values.get("ekassa_connected_on", ""), number, "ekassa_connected_on", today, report
            ),
            paid_months=_count(values.get("paid_months", ""), number, "paid_months", report)
            if values.get("paid_months")
            else 0,
            receipts_in_period=_count(
                values.get("receipts_in_period", ""), number, "receipts_in_period", report
            )
            if values.get("receipts_in_period")
            else 0,
        )
        checked.append((number, row))
        if progress and report.rows % 10000 == 0:
            progress(report.rows)
    if report.rows == 0:
        report.add(Problem(0, "", "no-rows"))
    for start in range(0, len(checked), CHUNK):
        chunk = checked[start : start + CHUNK]
        earlier = earlier_bin_iin([row.account_number for _, row in chunk])
        for number, row in chunk:
            before = earlier.get(row.account_number)
            if before is not None and before != row.bin_iin:
                report.add(Problem(number, "bin_iin", "bin-iin-changed"))
    return [row for _, row in checked], report


# --- storing --------------------------------------------------------------------------


class AlreadyImported(Exception):
    """The month has data already; replacing it needs an explicit confirmation."""


def existing_batch(period: ReportingPeriod) -> ImportBatch | None:
    """The batch whose data the month holds now, if any."""
    return db.session.scalar(
        sa.select(ImportBatch)
        .filter_by(period_id=period.id, status=ImportBatch.DONE)
        .order_by(ImportBatch.id.desc())
    )


def _earlier_bin_iin(campaign_id: int) -> Callable[[list[str]], dict[str, str]]:
    def lookup(accounts: list[str]) -> dict[str, str]:
        return dict(
            db.session.execute(
                sa.select(Participant.account_number, Participant.bin_iin).where(
                    Participant.campaign_id == campaign_id, Participant.account_number.in_(accounts)
                )
            ).all()
        )

    return lookup


def new_batch(period: ReportingPeriod, filename: str, data: bytes, actor=None) -> ImportBatch:
    """Record an import attempt before it starts (the caller commits, so others can follow it)."""
    batch = ImportBatch(
        period_id=period.id,
        filename=filename[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        status=ImportBatch.PENDING,
        rows=max(data.count(b"\n") - 1, 0),  # an estimate until the rows are counted
        imported_by_id=getattr(actor, "id", None),
        imported_by=getattr(actor, "email", "") or "",
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def import_month(
    period: ReportingPeriod,
    filename: str,
    data: bytes,
    *,
    today: date,
    actor=None,
    replace: bool = False,
    progress: Callable[[int], None] | None = None,
    batch: ImportBatch | None = None,
) -> tuple[ImportBatch, Report]:
    """Check a file and, when it is clean, store it as the month's data (the caller commits).

    A file with any problem stores nothing but the failed batch and its report. Rows
    are only read while checking, so ``progress`` may commit; storing is one step.
    """
    previous = existing_batch(period)
    if previous is not None and not replace:
        raise AlreadyImported(previous.id)
    batch = batch or new_batch(period, filename, data, actor)
    batch.status = ImportBatch.RUNNING
    try:
        header, rows = read_table(data, filename)
        checked, report = check_rows(
            header, rows, today, _earlier_bin_iin(period.campaign_id), progress
        )
    except UnreadableFile as unreadable:
        checked, report = [], Report()
        report.add(Problem(0, "", unreadable.code))
    batch.rows = report.rows
    if not report.ok:
        batch.status = ImportBatch.FAILED
        batch.problems_total = report.total
        batch.problems = json.dumps([asdict(p) for p in report.problems], ensure_ascii=False)
        batch.finished_at = utcnow()
        return batch, report
    if previous is not None:
        db.session.execute(sa.delete(Activity).where(Activity.period_id == period.id))
        previous.status = ImportBatch.REPLACED
    _store(period, batch, checked)
    batch.status = ImportBatch.DONE
    batch.progress = len(checked)
    batch.finished_at = utcnow()
    return batch, report


def _store(period: ReportingPeriod, batch: ImportBatch, rows: list[Row]) -> None:
    """Insert new participants, refresh the contacts of known ones, insert the month's figures."""
    campaign_id = period.campaign_id
    ids: dict[str, int] = {}
    for start in range(0, len(rows), CHUNK):
        accounts = [row.account_number for row in rows[start : start + CHUNK]]
        ids.update(
            db.session.execute(
                sa.select(Participant.account_number, Participant.id).where(
                    Participant.campaign_id == campaign_id, Participant.account_number.in_(accounts)
                )
            ).all()
        )
    details = ("legal_form", "company_name", "director_name", "email", "phone", "city")
    new = [
        {
            "campaign_id": campaign_id,
            "account_number": r.account_number,
            "bin_iin": r.bin_iin,
            **{k: getattr(r, k) for k in details},
        }
        for r in rows
        if r.account_number not in ids
    ]
    # Core statements, run as one executemany each: the ORM's bulk path is far slower here.
    participants = Participant.__table__
    known = [
        {"pid": ids[r.account_number], **{k: getattr(r, k) for k in details}}
        for r in rows
        if r.account_number in ids
    ]
    if known:
        update = participants.update().where(participants.c.id == sa.bindparam("pid"))
        for start in range(0, len(known), 10_000):
            db.session.execute(update, known[start : start + 10_000])
    for start in range(0, len(new), 10_000):
        db.session.execute(participants.insert(), new[start : start + 10_000])
    if new:
        created = [row["account_number"] for row in new]
        for start in range(0, len(created), CHUNK):
            ids.update(
                db.session.execute(
                    sa.select(Participant.account_number, Participant.id).where(
                        Participant.campaign_id == campaign_id,
                        Participant.account_number.in_(created[start : start + CHUNK]),
                    )
                ).all()
            )
    activity = [
        {
            "period_id": period.id,
            "participant_id": ids[r.account_number],
            "batch_id": batch.id,
            "legal_form": r.legal_form,
            "app_authorized_on": r.app_authorized_on,
            "ekassa_connected_on": r.ekassa_connected_on,
            "paid_months": r.paid_months,
            "receipts_in_period": r.receipts_in_period,
        }
        for r in rows
    ]
    for start in range(0, len(activity), 10_000):
        db.session.execute(Activity.__table__.insert(), activity[start : start + 10_000])
