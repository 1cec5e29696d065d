"""Importing a month of activity data (the import format of docs/DESIGN.md), all or nothing.

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
from operator import itemgetter
from typing import BinaryIO

import sqlalchemy as sa

from portal.campaign import audit, conditions, eligibility
from portal.campaign.conditions import Condition
from portal.campaign.eligibility import MonthFrozen, legal_form_as_stored, refuse_if_drawn
from portal.campaign.identity import is_valid_bin_iin
from portal.models import (
    Activity,
    Campaign,
    EligibilityRun,
    ImportBatch,
    ImportRow,
    Participant,
    ReportingPeriod,
    StaffUser,
    db,
    utcnow,
)
from portal.models.base import load_rows, refresh_statistics, room_for_bulk_statements
from portal.models.participants import LEGAL_FORM_LENGTH
from portal.services.tabular import UnreadableFile, read_table, scan_lines

# What a cell must hold (docs/DESIGN.md): a value; a column that must be there, its cells
# may be empty; or a column that may be left out altogether.
VALUE, COLUMN, OPTIONAL = "value", "column", "optional"


@dataclass(frozen=True)
class Column:
    """One column of the import format: the one definition that the checks below, the
    import page's list of columns and the templates to download are made from."""

    name: str
    kind: str  # text, bin_iin, email, date or count: how its cells are checked
    required: str  # VALUE, COLUMN or OPTIONAL
    limit: int | None  # at most this many characters
    example: str  # a valid cell


# The identity columns, the same for every campaign; then each condition's column, as
# the campaign names it (``Layout``).
IDENTITY = (
    Column("account_number", "text", VALUE, 32, "7012345678"),
    Column("bin_iin", "bin_iin", VALUE, None, "220540001239"),
    Column("legal_form", "text", VALUE, LEGAL_FORM_LENGTH, "LLP"),
    Column("company_name", "text", VALUE, 300, "Жетісу Сауда"),
    Column("director_name", "text", VALUE, 300, "Ахметова Динара Серікқызы"),
    Column("email", "email", OPTIONAL, 254, "info@example.kz"),
    Column("phone", "text", OPTIONAL, 40, "+7 701 123 45 67"),
    Column("city", "text", OPTIONAL, 100, "Алматы"),
)
# The slots a condition's column is read into (``conditions.SLOTS``), in the staged
# row's order, each with the example of its cell.
DATE_SLOTS = ("app_authorized_on", "ekassa_connected_on")
NUMBER_SLOTS = ("paid_months", "receipts_in_period")
EXAMPLES = {
    "app_authorized_on": "2022-09-05",
    "ekassa_connected_on": "2022-09-12",
    "paid_months": "1",
    "receipts_in_period": "12",
}


@dataclass(frozen=True)
class Layout:
    """A campaign's import format: the identity columns, then its conditions' columns;
    and which slot each of those is read into (decided once per file, not per row)."""

    columns: tuple[Column, ...]
    slots: dict[str, str]  # slot -> the campaign's column name, for the slots it uses
    legal_forms: tuple[str, ...]  # the forms its conditions name, kept in capitals
    names_of: dict[str, dict] = field(default_factory=dict)  # column -> its condition's names

    @classmethod
    def of(cls, applied: list[Condition]) -> Layout:
        slots = {}
        extra = []
        for c in applied:
            if c.slot in DATE_SLOTS:
                extra.append(Column(c.column, "date", COLUMN, None, EXAMPLES[c.slot]))
            elif c.slot in NUMBER_SLOTS:
                extra.append(Column(c.column, "count", VALUE, None, EXAMPLES[c.slot]))
            else:
                continue
            slots[c.slot] = c.column
        names = {c.column: c.name for c in applied}
        return cls((*IDENTITY, *extra), slots, conditions.legal_forms(applied), names)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def layout_of(campaign: Campaign) -> Layout:
    """The campaign's import format."""
    return Layout.of(conditions.of_campaign(campaign))


# The 2022 campaign's format: its conditions' columns are named as their slots.
STANDARD = Layout(
    (
        *IDENTITY,
        *(Column(s, "date", COLUMN, None, EXAMPLES[s]) for s in DATE_SLOTS),
        *(Column(s, "count", VALUE, None, EXAMPLES[s]) for s in NUMBER_SLOTS),
    ),
    {s: s for s in (*DATE_SLOTS, *NUMBER_SLOTS)},
    ("IE", "LLP"),
)
FORMAT = STANDARD.columns
COLUMNS = STANDARD.names
LIMITS = {column.name: column.limit for column in IDENTITY if column.limit}
MAX_PROBLEMS = 1000
# A month's file: at most this many rows after the header (the IMPORT_MAX_ROWS setting
# gives the import its own), and this many columns in its header (12 are read).
MAX_ROWS = 1_000_000
MAX_COLUMNS = 64
STAGE_BATCH = 20_000  # rows staged at a time
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
COUNT = re.compile(r"-?[0-9]+")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# An account number: letters, digits, "-", "/", "." and "_" only. Its last four
# characters are printed in the draw's pool file, a line of comma-separated cells: a
# comma, a quote, a space or a line break there would break the file (and the count of
# its lines that every verification makes).
ACCOUNT = re.compile(r"[\w./-]+")


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


def _date_problem(value: str, today: date) -> str | None:
    """What is wrong with a date cell's text, if anything (an empty cell is no date)."""
    if not value:
        return None
    if not DATE.match(value):
        return "date-format"
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        return "date-invalid"
    return "date-future" if parsed > today else None


def _count(value: str, row: int, column: str, report: Report) -> int:
    """A count cell that is not plain digits (an empty one is reported as required)."""
    if not value:
        return 0
    if not COUNT.fullmatch(value):
        report.add(Problem(row, column, "count-format"))
        return 0
    number = int(value)
    if number < 0:
        report.add(Problem(row, column, "count-negative"))
    return number


LIMITED = tuple(LIMITS)
CACHED = 1000
# The counts most cells hold, as their numbers: a lookup instead of a check and a
# conversion (any other count is checked and converted as before). An empty cell is
# None: a slot no condition uses (NULL), or a required cell, reported so never stored.
SMALL_COUNTS = {"": None, **{str(n): n for n in range(CACHED)}}
IDENTITY_REQUIRED = tuple(column.name for column in IDENTITY if column.required == VALUE)


def check_rows(
    header: list[str],
    rows: Iterable[tuple[int, list[str]]],
    today: date,
    sink: Callable[[list[tuple]], None],
    progress: Callable[[int], None] | None = None,
    layout: Layout = STANDARD,
) -> Report:
    """Check every row on its own, handing the typed rows to ``sink`` in batches.

    ``layout`` is the campaign's format: its conditions' columns are mapped to their
    slots once, here; a slot no condition uses is read from the empty cell past the
    row's end, and staged as NULL.

    Checks across rows (an account twice, a BIN/IIN that changed) are made afterwards
    on the staged rows, in SQL (``check_staged``). This loop runs once per row of a
    file that may have a million, so the common case takes the shortest way: one test
    for all required cells, one for all lengths, and each distinct date text is
    judged once.
    """
    report = Report()
    slot_columns = [layout.slots.get(slot) for slot in (*DATE_SLOTS, *NUMBER_SLOTS)]
    app_column, ekassa_column, paid_column, receipts_column = (c or "" for c in slot_columns)
    paid_unused, receipts_unused = not paid_column, not receipts_column
    required_columns = (*IDENTITY_REQUIRED, paid_column, receipts_column)
    expected = (*(column.name for column in IDENTITY), *slot_columns)
    forms_named = layout.legal_forms
    missing = [c for c in (*IDENTITY_REQUIRED, *filter(None, slot_columns)) if c not in header]
    for column in missing:
        report.add(Problem(0, column, "missing-column"))
    seen: set[str] = set()
    duplicates = sorted({c for c in header if c and (c in seen or seen.add(c))})
    for column in duplicates:
        report.add(Problem(0, column, "duplicate-column"))
    if missing or duplicates:
        return report

    width = len(header)
    # Each row is padded with one empty cell past the header, where absent columns point.
    pick = itemgetter(*(header.index(c) if c in header else width for c in expected))
    # Each distinct text of a date or a legal form is judged once (a file has few of
    # them; at most CACHED legal forms are remembered, whatever the file holds).
    date_problems: dict[str, str | None] = {}
    forms: dict[str, str] = {}
    (
        account_limit,
        legal_form_limit,
        company_limit,
        director_limit,
        email_limit,
        phone_limit,
        city_limit,
    ) = (LIMITS[column] for column in LIMITED)
    add = report.add
    buffer: list[tuple] = []
    append = buffer.append
    email_format = EMAIL.match
    account_format = ACCOUNT.fullmatch
    for number, cells in rows:
        report.rows += 1
        surplus = len(cells) - width
        if surplus > 0:
            add(Problem(number, "", "extra-cells"))
            cells = cells[:width]
            surplus = 0
        cells.extend([""] * (1 - surplus))
        if "\x00" in "".join(cells):  # no database stores it in text (PostgreSQL refuses)
            for column, at in zip(header, range(width), strict=False):
                if "\x00" in cells[at]:
                    add(Problem(number, column, "nul-character"))
            cells = [cell.replace("\x00", "") for cell in cells]
        (
            account,
            bin_iin,
            legal_form,
            company,
            director,
            email,
            phone,
            city,
            app_on,
            ekassa_on,
            paid,
            receipts,
        ) = pick(cells)

        if not (
            account
            and bin_iin
            and legal_form
            and company
            and director
            and (paid or paid_unused)
            and (receipts or receipts_unused)
        ):
            required = (account, bin_iin, legal_form, company, director, paid, receipts)
            for column, value in zip(required_columns, required, strict=True):
                if column and not value:
                    add(Problem(number, column, "required"))
        if (
            len(account) > account_limit
            or len(legal_form) > legal_form_limit
            or len(company) > company_limit
            or len(director) > director_limit
            or len(email) > email_limit
            or len(phone) > phone_limit
            or len(city) > city_limit
        ):
            limited = (account, legal_form, company, director, email, phone, city)
            for column, value in zip(LIMITED, limited, strict=True):
                if len(value) > LIMITS[column]:
                    add(Problem(number, column, "too-long", str(LIMITS[column])))
            # reported, so never stored; cut to fit the staging table's columns
            account, legal_form, company, director, email, phone, city = (
                value[: LIMITS[column]] for column, value in zip(LIMITED, limited, strict=True)
            )
        if account and not account_format(account):
            add(Problem(number, "account_number", "account-format"))
        if bin_iin and not is_valid_bin_iin(bin_iin):
            add(Problem(number, "bin_iin", "bin-iin-invalid"))
        if legal_form in forms:
            legal_form = forms[legal_form]
        else:
            stored = legal_form_as_stored(legal_form, forms_named)  # any: eligibility decides
            if len(forms) < CACHED:
                forms[legal_form] = stored
            legal_form = stored
        if email and not email_format(email):
            add(Problem(number, "email", "email-format"))
        if app_on not in date_problems:
            date_problems[app_on] = _date_problem(app_on, today)
        if ekassa_on not in date_problems:
            date_problems[ekassa_on] = _date_problem(ekassa_on, today)
        if date_problems[app_on]:
            add(Problem(number, app_column, date_problems[app_on]))
            app_on = ""
        if date_problems[ekassa_on]:
            add(Problem(number, ekassa_column, date_problems[ekassa_on]))
            ekassa_on = ""
        if paid in SMALL_COUNTS:
            paid = SMALL_COUNTS[paid]
        else:
            paid = (
                int(paid)
                if paid.isdigit() and paid.isascii()
                else _count(paid, number, paid_column, report)
            )
        if receipts in SMALL_COUNTS:
            receipts = SMALL_COUNTS[receipts]
        else:
            receipts = (
                int(receipts)
                if receipts.isdigit() and receipts.isascii()
                else _count(receipts, number, receipts_column, report)
            )
        append(
            (
                number,
                account,
                bin_iin[:12],
                legal_form,
                company,
                director,
                email,
                phone,
                city,
                # Dates are staged as their checked ISO text.
                app_on or None,
                ekassa_on or None,
                paid,
                receipts,
            )
        )
        if len(buffer) >= STAGE_BATCH:
            sink(buffer)
            buffer = []
            append = buffer.append
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


@dataclass(frozen=True)
class Fingerprint:
    """What is recorded of a file before it is read: its SHA-256 and its number of lines;
    and, when the fingerprint was taken of the file (not told by a batch), whether it
    quotes a cell, so that reading it needs no second scan (``tabular.scan_lines``)."""

    sha256: str
    lines: int
    quoted: bool | None = None


def fingerprint(source: bytes | BinaryIO | Fingerprint) -> Fingerprint:
    """The fingerprint of bytes, or of a binary stream read to its end chunk by chunk (then
    put back at its start), so that an upload is never held in memory whole."""
    if isinstance(source, Fingerprint):
        return source
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        return Fingerprint(hashlib.sha256(data).hexdigest(), data.count(b"\n"), b'"' in data)
    digest = hashlib.sha256()
    lines, quoted = scan_lines(source, digest)
    return Fingerprint(digest.hexdigest(), lines, quoted)


def new_batch(
    period: ReportingPeriod, filename: str, data: bytes | Fingerprint, actor=None
) -> ImportBatch:
    """Record an import attempt before it starts (the caller commits, so others can follow it)."""
    facts = fingerprint(data)
    batch = ImportBatch(
        period_id=period.id,
        filename=filename[:255],
        sha256=facts.sha256,
        status=ImportBatch.PENDING,
        rows=max(facts.lines - 1, 0),  # an estimate until the rows are counted
        imported_by_id=getattr(actor, "id", None),
        imported_by=getattr(actor, "email", "") or "",
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def import_month(
    period: ReportingPeriod,
    filename: str,
    data: bytes | BinaryIO,
    *,
    today: date,
    actor=None,
    replace: bool = False,
    progress: Callable[[int], None] | None = None,
    batch: ImportBatch | None = None,
    max_rows: int = MAX_ROWS,
    facts: Fingerprint | None = None,
    with_eligibility: bool = False,
) -> tuple[ImportBatch, Report]:
    """Check a file and, when it is clean, store it as the month's data (the caller commits).

    ``data`` is the file's bytes or a binary stream of it (an open file, a stored
    object), read as a stream, never whole; ``facts`` its fingerprint when the caller
    has it already (recorded with a new batch; otherwise the file is read for it).
    ``with_eligibility`` stores each row with its eligibility as ``eligibility.compute``
    would (for a caller that computes it next: it then finds every row up to date);
    otherwise the month's rows wait, not computed, for that computation.

    A file with any problem stores nothing but the failed batch and its report. Rows
    are only read while checking, so ``progress`` may commit; storing is one step.
    Raises ``MonthFrozen`` once the month has been drawn, and ``AlreadyImported`` when
    it has data and ``replace`` is not asked for. A file of more than ``max_rows`` rows
    or ``MAX_COLUMNS`` columns, or a workbook over its limits, is refused (a problem of
    the file) before any row is read.
    """
    refuse_if_drawn(period)
    previous = existing_batch(period)
    if previous is not None and not replace:
        raise AlreadyImported(previous.id)
    if batch is None:
        facts = fingerprint(facts or data)
        batch = new_batch(period, filename, facts, actor)
    batch.status = ImportBatch.RUNNING
    columns = [c.name for c in ImportRow.__table__.columns if c.name not in ("id", "batch_id")]

    def stage(rows: list[tuple]) -> None:
        # Dates travel as their checked ISO text: SQLite stores them so (as SQLAlchemy's
        # Date does), PostgreSQL casts them to its date type.
        load_rows(ImportRow.__table__, columns, rows, fixed={"batch_id": batch.id})

    try:
        header, rows = read_table(
            data,
            filename,
            max_rows=max_rows,
            max_columns=MAX_COLUMNS,
            # the file as scanned for its fingerprint, when it was (not told by a batch)
            scanned=(facts.lines, facts.quoted) if facts and facts.quoted is not None else None,
        )
        report = check_rows(header, rows, today, stage, progress, layout_of(period.campaign))
    except UnreadableFile as unreadable:
        report = Report()
        report.add(Problem(0, "", unreadable.code, unreadable.detail))
    if report.rows:
        room_for_bulk_statements()  # rows are read: the rest is one transaction
        refresh_statistics(ImportRow.__table__)  # the joins below planned for what was staged
        check_staged(batch, period.campaign_id, report)
    batch.rows = report.rows
    if report.ok:
        if previous is not None:
            db.session.execute(sa.delete(Activity).where(Activity.period_id == period.id))
            previous.status = ImportBatch.REPLACED
        _store(period, batch, with_eligibility)
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
    # The accounts seen more than once, grouped once (PostgreSQL: MATERIALIZED). As a
    # subquery, PostgreSQL 15 planned a parallel join in which each of its three
    # processes grouped all the staged rows again: 2.6-3.0 s at 1,000,000 rows under
    # load, 1.1-1.5 s this way; and with nothing repeated, the join reads nothing more.
    first = (
        sa.select(staged.account_number, sa.func.min(staged.row_number).label("first_row"))
        .where(staged.batch_id == batch.id)
        .group_by(staged.account_number)
        .having(sa.func.count() > 1)
        .cte("repeated")
        .prefix_with("MATERIALIZED", dialect="postgresql")
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


def _store(period: ReportingPeriod, batch: ImportBatch, with_eligibility: bool) -> None:
    """From the staged rows: new participants, fresh contacts for known ones, the month's figures."""
    staged = ImportRow.__table__.c
    people = Participant.__table__
    details = ("legal_form", "company_name", "director_name", "email", "phone", "city")
    mine = staged.batch_id == batch.id
    known = sa.and_(
        people.c.campaign_id == period.campaign_id, people.c.account_number == staged.account_number
    )
    # Known clients first (their contacts as of this file), so that the update does
    # not also rewrite the rows the insert below has only just written.
    # Only those whose contacts changed are written: a row rewritten is a new version
    # of it in each of the table's indexes (on PostgreSQL).
    changed = sa.or_(*(people.c[d].is_distinct_from(staged[d]) for d in details))
    db.session.execute(
        people.update().values({d: staged[d] for d in details}).where(mine, known, changed)
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
            .order_by(staged.id),  # the file's order, as staged: no sort needed
        )
    )
    refresh_statistics(people)  # the join below planned for the participants just added
    activity = Activity.__table__
    # With their eligibility, as ``eligibility.compute`` would store it, when it is
    # computed next: rewriting a million rows (and each of their indexes) costs more
    # than writing them once with it.
    verdicts = (
        conditions.sql_verdicts(
            conditions.of_campaign(period.campaign),
            conditions.Month.of(period.campaign, period),
            staged,
        )
        if with_eligibility
        else {}
    )
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
                *verdicts,
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
                *verdicts.values(),
            )
            .join(people, known)
            .where(mine),
        )
    )


# --- an import, for whoever runs it -----------------------------------------------------


@dataclass
class Outcome:
    """What an import came to: its batch, its report and, when it was clean, the eligibility."""

    batch: ImportBatch
    report: Report
    run: EligibilityRun | None = None


def run_import(
    period: ReportingPeriod,
    filename: str,
    data: bytes | BinaryIO,
    *,
    actor: audit.Actor,
    today: date,
    replace: bool = False,
    progress: Callable[[int], None] | None = None,
    batch: ImportBatch | None = None,
    max_rows: int = MAX_ROWS,
    facts: Fingerprint | None = None,
) -> Outcome:
    """Import a month for ``actor``, on the record; a clean file's eligibility is computed at once.

    The one import behind the upload page, ``flask participants import`` and the demo.
    Raises ``AlreadyImported`` as ``import_month`` does, and ``MonthFrozen`` once the
    month has been drawn, the refusal audited (``participants.import_refused``). The
    caller commits, a refusal too. ``data`` and ``facts`` are as ``import_month`` takes
    them; the file is read once for its fingerprint (none when ``batch``, recorded by
    ``start_import``, has it already) and once for its rows.
    """
    if facts is None:
        facts = fingerprint(data) if batch is None else Fingerprint(batch.sha256, batch.rows + 1)
    refuse_import_if_drawn(period, filename, facts, actor=actor, replace=replace)
    batch, report = import_month(
        period,
        filename,
        data,
        today=today,
        actor=actor.user,
        replace=replace,
        progress=progress,
        batch=batch,
        max_rows=max_rows,
        facts=facts,
        with_eligibility=True,  # computed below, on the record
    )
    audit.record(
        "participants.import",
        batch,
        {
            "period": period.key,
            "file": batch.filename,
            "sha256": batch.sha256,
            "rows": batch.rows,
            "status": batch.status,
            "problems": report.total,
            "replace": replace,
        },
        actor=actor,
    )
    # stored with the rows (``with_eligibility``): only the run is recorded
    run = eligibility.recompute(period, actor, stored=True) if report.ok else None
    return Outcome(batch, report, run)


def refuse_import_if_drawn(
    period: ReportingPeriod,
    filename: str,
    data: bytes | Fingerprint,
    *,
    actor: audit.Actor,
    replace: bool,
) -> None:
    """Raise ``MonthFrozen`` when the month has been drawn, the refusal on the record."""
    refuse_if_drawn(
        period,
        actor=actor,
        action="participants.import_refused",
        details={
            "file": filename[:255],
            "sha256": fingerprint(data).sha256,
            "replace": replace,
        },
    )


def start_import(
    period: ReportingPeriod,
    filename: str,
    data: bytes | Fingerprint,
    *,
    actor: audit.Actor,
    replace: bool,
) -> ImportBatch:
    """Record an upload's import before it runs, so that its page can follow it (the caller commits).

    ``data`` is the file, or its ``fingerprint`` when the file is kept elsewhere (the
    upload page streams it to the storage, for the import job to read).

    Raises ``MonthFrozen`` once the month has been drawn (the refusal audited: the caller
    commits it), and ``AlreadyImported`` when the month has data and ``replace`` is not
    asked for.
    """
    refuse_import_if_drawn(period, filename, data, actor=actor, replace=replace)
    previous = existing_batch(period)
    if previous is not None and not replace:
        raise AlreadyImported(previous.id)
    batch = new_batch(period, filename, data, actor.user)
    audit.record(
        "participants.import_started",
        batch,
        {"period": period.key, "file": batch.filename, "sha256": batch.sha256, "replace": replace},
        actor=actor,
    )
    return batch


def finish_import(
    batch_id: int,
    data: bytes | BinaryIO,
    replace: bool,
    actor_id: int | None,
    ip: str,
    today: date,
    max_rows: int = MAX_ROWS,
) -> None:
    """Run the import ``start_import`` recorded, committing its progress as it goes.

    Meant for a job (``portal.jobs.imports``), so it takes ids, not objects, and
    commits. Whatever stops it marks the batch failed (``fail``); an import already
    ended (failed by the sweep of interrupted imports, ``abandon``) is left as it is.
    """
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status not in (ImportBatch.PENDING, ImportBatch.RUNNING):
        return
    period = db.session.get(ReportingPeriod, batch.period_id)
    actor = actor_again(actor_id, ip)

    def progress(done: int) -> None:
        batch.progress = done
        db.session.commit()

    try:
        run_import(
            period,
            batch.filename,
            data,
            actor=actor,
            today=today,
            replace=replace,
            progress=progress,
            batch=batch,
            max_rows=max_rows,
        )
        db.session.commit()
    except AlreadyImported:
        db.session.rollback()
        fail(batch_id, "already-imported")
    except MonthFrozen as refusal:  # drawn between the upload and now
        db.session.rollback()
        batch = db.session.get(ImportBatch, batch_id)
        period = db.session.get(ReportingPeriod, batch.period_id)
        audit.record(
            "participants.import_refused",
            period,
            {"period": period.key, "draw": refusal.details["draw"], "batch": batch_id},
            actor=actor_again(actor_id, ip),
        )
        fail(batch_id, "month-drawn", str(refusal.details["draw"]))
    except Exception:
        db.session.rollback()
        fail(batch_id, "internal")
        raise


def actor_again(actor_id: int | None, ip: str) -> audit.Actor:
    """The actor of an upload, in the thread that finishes it."""
    user = db.session.get(StaffUser, actor_id) if actor_id is not None else None
    return audit.Actor(user=user, ip=ip)


INTERRUPTED = "interrupted"


def abandon(batch_id: int, *, actor: audit.Actor) -> bool:
    """An import whose job stopped before it ended (its worker killed or stopped): failed,
    for the reason ``interrupted``, its staged rows removed, on the record; and committed.

    Only a batch still pending or running is abandoned (the status is changed by one
    conditional statement, so two sweeps at once abandon it once); ``True`` when it was.
    """
    table = ImportBatch.__table__
    changed = db.session.execute(
        table.update()
        .where(
            table.c.id == batch_id,
            table.c.status.in_((ImportBatch.PENDING, ImportBatch.RUNNING)),
        )
        .values(status=ImportBatch.FAILED)
    ).rowcount
    if not changed:
        db.session.rollback()
        return False
    batch = db.session.get(ImportBatch, batch_id)
    db.session.refresh(batch)
    audit.record(
        "participants.import_interrupted",
        batch,
        {
            "period": batch.period.key,
            "file": batch.filename,
            "sha256": batch.sha256,
            "status": ImportBatch.FAILED,
            "cause": INTERRUPTED,
        },
        actor=actor,
    )
    fail(batch_id, INTERRUPTED)
    return True


def drop_leftovers() -> int:
    """Remove the staged rows of every import that has ended (rows a killed job staged after
    its batch was failed); the number removed."""
    open_batches = sa.select(ImportBatch.id).where(
        ImportBatch.status.in_((ImportBatch.PENDING, ImportBatch.RUNNING))
    )
    left = ImportRow.batch_id.not_in(open_batches)
    # looked for first: reading takes no lock, so a sweep does not wait for an import
    # that holds SQLite's write lock while nothing is left over
    if db.session.scalar(sa.select(sa.exists().where(left))):
        removed = db.session.execute(sa.delete(ImportRow).where(left)).rowcount
        db.session.commit()
        return removed
    db.session.rollback()
    return 0


def open_batches() -> list[ImportBatch]:
    """The imports not ended yet (waiting for their job, or running), the oldest first."""
    return list(
        db.session.scalars(
            sa.select(ImportBatch)
            .where(ImportBatch.status.in_((ImportBatch.PENDING, ImportBatch.RUNNING)))
            .order_by(ImportBatch.id)
        )
    )


def fail(batch_id: int, code: str, detail: str = "") -> None:
    """Mark an import failed for ``code`` and drop the rows it staged, and commit."""
    batch = db.session.get(ImportBatch, batch_id)
    batch.status = ImportBatch.FAILED
    batch.problems_total = 1
    batch.problems = json.dumps([{"row": 0, "column": "", "code": code, "detail": detail}])
    batch.finished_at = utcnow()
    # rows staged before a progress commit would otherwise stay behind
    db.session.execute(sa.delete(ImportRow).where(ImportRow.batch_id == batch_id))
    db.session.commit()
