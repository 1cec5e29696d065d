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
from portal.models import Activity, ImportBatch, ImportRow, Participant, ReportingPeriod, db, utcnow
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
STAGE_BATCH = 20_000  # rows staged at a time
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
COUNT = re.compile(r"-?[0-9]+")
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


def _date(value: str, row: int, column: str, today: date, report: Report) -> str | None:
    """The date as checked ISO text (as it is staged and stored), or None."""
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
    return value


def _count(value: str, row: int, column: str, report: Report) -> int:
    if value.isascii() and value.isdigit():  # the common case, without a regex
        return int(value)
    if not COUNT.fullmatch(value):
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
    sink: Callable[[list[tuple]], None],
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Check every row on its own, handing the typed rows to ``sink`` in batches.

    Checks across rows (an account twice, a BIN/IIN that changed) are made afterwards
    on the staged rows, in SQL (``check_staged``).
    """
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
        return report

    buffer: list[tuple] = []
    for number, values in rows:
        report.rows += 1
        get = values.get
        if "__extra__" in values:
            report.add(Problem(number, "", "extra-cells"))
        for column in REQUIRED:
            if not get(column):
                report.add(Problem(number, column, "required"))
        for column, limit in LIMITS.items():
            if len(get(column, "")) > limit:
                report.add(Problem(number, column, "too-long", str(limit)))
        bin_iin = get("bin_iin", "")
        if bin_iin and not is_valid_bin_iin(bin_iin):
            report.add(Problem(number, "bin_iin", "bin-iin-invalid"))
        legal_form = get("legal_form", "").upper()
        if legal_form and legal_form not in LEGAL_FORMS:
            report.add(Problem(number, "legal_form", "legal-form"))
        email = get("email", "")
        if email and not EMAIL.match(email):
            report.add(Problem(number, "email", "email-format"))
        paid, receipts = get("paid_months", ""), get("receipts_in_period", "")
        buffer.append(
            (
                number,
                get("account_number", "")[:32],
                bin_iin[:12],
                legal_form[:8],
                get("company_name", "")[:300],
                get("director_name", "")[:300],
                email[:254],
                get("phone", "")[:40],
                get("city", "")[:100],
                _date(get("app_authorized_on", ""), number, "app_authorized_on", today, report),
                _date(get("ekassa_connected_on", ""), number, "ekassa_connected_on", today, report),
                _count(paid, number, "paid_months", report) if paid else 0,
                _count(receipts, number, "receipts_in_period", report) if receipts else 0,
            )
        )
        if len(buffer) >= STAGE_BATCH:
            sink(buffer)
            buffer = []
            if progress:
                progress(report.rows)
    if buffer:
        sink(buffer)
    if report.rows == 0:
        report.add(Problem(0, "", "no-rows"))
    return report


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
    columns = [c.name for c in ImportRow.__table__.columns if c.name not in ("id", "batch_id")]
    connection = db.session.connection()
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    # Plain DB-API executemany of tuples: the staging rows are the import's hot path.
    # The statement is built from the model's own column names, never from input.
    insert = (
        f"INSERT INTO import_row (batch_id, {', '.join(columns)}) "  # noqa: S608
        f"VALUES ({', '.join([marker] * (len(columns) + 1))})"
    )

    def stage(rows: list[tuple]) -> None:
        # Dates travel as their checked ISO text: SQLite stores them so (as SQLAlchemy's
        # Date does), PostgreSQL casts them to its date type.
        prefix = (batch.id,)
        connection.exec_driver_sql(insert, [prefix + row for row in rows])

    try:
        header, rows = read_table(data, filename)
        report = check_rows(header, rows, today, stage, progress)
    except UnreadableFile as unreadable:
        report = Report()
        report.add(Problem(0, "", unreadable.code))
    if report.rows:
        check_staged(batch, period.campaign_id, report)
    batch.rows = report.rows
    if report.ok:
        if previous is not None:
            db.session.execute(sa.delete(Activity).where(Activity.period_id == period.id))
            previous.status = ImportBatch.REPLACED
        _store(period, batch)
        batch.status = ImportBatch.DONE
        batch.progress = report.rows
    else:
        batch.status = ImportBatch.FAILED
        batch.problems_total = report.total
        report.problems.sort(key=lambda p: (p.row, p.column))
        batch.problems = json.dumps([asdict(p) for p in report.problems], ensure_ascii=False)
    db.session.execute(sa.delete(ImportRow).where(ImportRow.batch_id == batch.id))
    batch.finished_at = utcnow()
    return batch, report


def check_staged(batch: ImportBatch, campaign_id: int, report: Report) -> None:
    """The checks across rows: an account twice in the file, a BIN/IIN unlike earlier months'."""
    staged = ImportRow.__table__.c
    first = (
        sa.select(staged.account_number, sa.func.min(staged.row_number).label("first_row"))
        .where(staged.batch_id == batch.id)
        .group_by(staged.account_number)
        .having(sa.func.count() > 1)
        .subquery()
    )
    repeated = db.session.execute(
        sa.select(staged.row_number, first.c.first_row)
        .join(first, first.c.account_number == staged.account_number)
        .where(
            staged.batch_id == batch.id,
            staged.row_number > first.c.first_row,
            staged.account_number != "",
        )
        .order_by(staged.row_number)
    )
    for row_number, first_row in repeated:
        report.add(Problem(row_number, "account_number", "duplicate-account", str(first_row)))
    people = Participant.__table__
    changed = db.session.scalars(
        sa.select(staged.row_number)
        .join(
            people,
            sa.and_(
                people.c.campaign_id == campaign_id,
                people.c.account_number == staged.account_number,
            ),
        )
        .where(staged.batch_id == batch.id, people.c.bin_iin != staged.bin_iin)
        .order_by(staged.row_number)
    )
    for row_number in changed:
        report.add(Problem(row_number, "bin_iin", "bin-iin-changed"))


def _store(period: ReportingPeriod, batch: ImportBatch) -> None:
    """From the staged rows: new participants, fresh contacts for known ones, the month's figures."""
    staged = ImportRow.__table__.c
    people = Participant.__table__
    details = ("legal_form", "company_name", "director_name", "email", "phone", "city")
    mine = staged.batch_id == batch.id
    known = sa.and_(
        people.c.campaign_id == period.campaign_id, people.c.account_number == staged.account_number
    )
    db.session.execute(
        people.insert().from_select(
            ["campaign_id", "account_number", "bin_iin", *details],
            sa.select(
                sa.literal(period.campaign_id),
                staged.account_number,
                staged.bin_iin,
                *(staged[d] for d in details),
            )
            .where(mine, ~sa.exists().where(known))
            .order_by(staged.row_number),
        )
    )
    db.session.execute(people.update().values({d: staged[d] for d in details}).where(mine, known))
    activity = Activity.__table__
    db.session.execute(
        activity.insert().from_select(
            [
                "period_id",
                "participant_id",
                "batch_id",
                "legal_form",
                "app_authorized_on",
                "ekassa_connected_on",
                "paid_months",
                "receipts_in_period",
            ],
            sa.select(
                sa.literal(period.id),
                people.c.id,
                sa.literal(batch.id),
                staged.legal_form,
                staged.app_authorized_on,
                staged.ekassa_connected_on,
                staged.paid_months,
                staged.receipts_in_period,
            )
            .join(people, known)
            .where(mine),
        )
    )
