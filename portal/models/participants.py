"""Participants (SME clients), their monthly activity, and the imports it came from."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import UTCDateTime, db, utcnow
from portal.models.campaign import ReportingPeriod

# A legal form as the client's records give it ("IE", "LLP", "JSC", "Производственный кооператив").
LEGAL_FORM_LENGTH = 100

# On SQLite, the trigrams of the participants' names: an FTS5 table (tokenizer
# ``trigram``, blind to case) whose content is ``participant.company_name``, kept in step
# by triggers; made by migration 0016, outside the models (SQLAlchemy has no virtual
# tables). Its rowid is the participant's id. PostgreSQL has its trigram index instead.
NAME_TRIGRAMS = "participant_name_trigrams"


class Participant(db.Model):
    """A client of the campaign, identified by its personal account number (rule 3)."""

    __tablename__ = "participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"))
    account_number: Mapped[str] = mapped_column(sa.String(32))
    bin_iin: Mapped[str] = mapped_column(sa.String(12), index=True)
    legal_form: Mapped[str] = mapped_column(sa.String(LEGAL_FORM_LENGTH))
    company_name: Mapped[str] = mapped_column(sa.String(300))
    director_name: Mapped[str] = mapped_column(sa.String(300), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    city: Mapped[str] = mapped_column(sa.String(100), default="")

    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "account_number"),
        # The staff's search by a part of the name: trigrams on PostgreSQL (pg_trgm; a
        # B-tree of the same name where the extension cannot be created, see migration
        # 0015); on SQLite a B-tree walked in the order of the names up to the page's
        # limit when many names match, beside the trigrams of NAME_TRIGRAMS.
        sa.Index(
            "ix_participant_company_name",
            "company_name",
            postgresql_using="gin",
            postgresql_ops={"company_name": "gin_trgm_ops"},
        ),
    )

    @property
    def account_masked(self) -> str:
        """The account number as public pages may show it: only the last 4 characters."""
        return mask_account(self.account_number)


def mask_account(account_number: str) -> str:
    """``"1234567890"`` -> ``"••••••7890"``."""
    visible = account_number[-4:]
    return "•" * max(len(account_number) - 4, 2) + visible


class ImportBatch(db.Model):
    """One imported file for one reporting month."""

    __tablename__ = "import_batch"

    PENDING, RUNNING, DONE, FAILED, REPLACED = "pending", "running", "done", "failed", "replaced"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("reporting_period.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    rows: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(10), default=PENDING)
    progress: Mapped[int] = mapped_column(default=0)
    problems_total: Mapped[int] = mapped_column(default=0)
    problems: Mapped[str] = mapped_column(sa.Text, default="[]")
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id"))
    imported_by: Mapped[str] = mapped_column(sa.String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    period: Mapped[ReportingPeriod] = relationship()

    # What a month's activity refers to (its import, of its month: one key, 0021).
    __table_args__ = (sa.UniqueConstraint("id", "period_id"),)


class Activity(db.Model):
    """A participant's figures for one reporting month, and its eligibility for the draw.

    The campaign's conditions are stored as computed (in the slots their rows name:
    ``portal.campaign.conditions.SLOTS``, historical 2022 names), with the conditions of the
    eligibility run that computed them; the figures they came from stay beside them,
    so each decision can be explained ("3 of 5 receipts").
    """

    __tablename__ = "activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The month and the import, one key (migration 0021): the row's import, of that month.
    period_id: Mapped[int]
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participant.id"), index=True)
    batch_id: Mapped[int]
    legal_form: Mapped[str] = mapped_column(sa.String(LEGAL_FORM_LENGTH))
    app_authorized_on: Mapped[date | None]
    ekassa_connected_on: Mapped[date | None]
    paid_months: Mapped[int | None]
    receipts_in_period: Mapped[int | None]
    ok_app: Mapped[bool | None]
    ok_ekassa: Mapped[bool | None]
    ok_paid: Mapped[bool | None]
    ok_receipts: Mapped[bool | None]
    ok_legal_form: Mapped[bool | None]
    eligible: Mapped[bool | None]

    participant: Mapped[Participant] = relationship()

    # Every index and key here is kept up to date for each of a month's million rows an
    # import writes (the keys checked once per statement on PostgreSQL, migration 0032:
    # ``models.migration.KEYS_CHECKED_BY_STATEMENT``): only those read are kept. The
    # month's rows are found by the unique key (the month first), a client's months by
    # ``participant_id``; nothing looks rows up by their import or their verdict (0021
    # dropped those indexes).
    __table_args__ = (
        sa.UniqueConstraint("period_id", "participant_id"),
        sa.ForeignKeyConstraint(
            ["batch_id", "period_id"], ["import_batch.id", "import_batch.period_id"]
        ),
    )


class EligibilityRun(db.Model):
    """One computation of a month's eligibility, with the conditions it applied."""

    __tablename__ = "eligibility_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("reporting_period.id"), index=True)
    # The 2022 thresholds applied (the minimum of the ``receipts_in_period`` and the
    # ``paid_months`` slots' conditions), None where the campaign has no such condition;
    # ``conditions`` the whole set applied, as ``conditions.snapshot`` writes it.
    min_receipts: Mapped[int | None]
    min_paid_months: Mapped[int | None]
    conditions: Mapped[str | None] = mapped_column(sa.Text)
    participants: Mapped[int]
    eligible: Mapped[int]
    # How many passed each condition, counted by the run on the data of the import
    # ``batch_id`` (the month's funnel: the staff pages read it instead of counting a
    # million rows per view); None for runs made before they were kept.
    batch_id: Mapped[int | None]
    passed_app: Mapped[int | None]
    passed_ekassa: Mapped[int | None]
    passed_paid: Mapped[int | None]
    passed_receipts: Mapped[int | None]
    passed_legal_form: Mapped[int | None]
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    computed_by: Mapped[str] = mapped_column(sa.String(254), default="")


class ImportRow(db.Model):
    """A checked row of an import under way: a staging area, emptied when the import ends.

    Rows are checked into this table as they are read, so a million-row file never
    sits in memory; the month's data is then made from it by set-based statements.
    Unlogged on PostgreSQL (migration 0017): its rows live for the import only.
    """

    __tablename__ = "import_row"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index: keeping one up to date costs more, row by row, than the few
    # statements that read the staged rows of a batch save (see the import benchmark).
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("import_batch.id", ondelete="CASCADE"))
    row_number: Mapped[int]
    account_number: Mapped[str] = mapped_column(sa.String(32))
    bin_iin: Mapped[str] = mapped_column(sa.String(12))
    legal_form: Mapped[str] = mapped_column(sa.String(LEGAL_FORM_LENGTH))
    company_name: Mapped[str] = mapped_column(sa.String(300))
    director_name: Mapped[str] = mapped_column(sa.String(300))
    email: Mapped[str] = mapped_column(sa.String(254))
    phone: Mapped[str] = mapped_column(sa.String(40))
    city: Mapped[str] = mapped_column(sa.String(100))
    app_authorized_on: Mapped[date | None]
    ekassa_connected_on: Mapped[date | None]
    paid_months: Mapped[int | None]
    receipts_in_period: Mapped[int | None]
