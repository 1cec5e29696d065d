"""a month's activity with two indexes and one foreign key fewer to keep up per row

An import writes a million activity rows in one statement; each row cost an entry in
five indexes and a check of three foreign keys (PostgreSQL runs a trigger a row per
key). Two indexes were never read: ``ix_activity_batch_id`` (no query looks rows up by
their import, and an import is never deleted) and ``ix_activity_eligible`` (the month's
pool is found by ``uq_activity_period_id_participant_id``, whose first column is the
month; a yes/no over every month is not chosen by either planner). They are dropped.

The month and the import of a row were two keys checked one by one though an import
holds one month: they are one key now, ``(batch_id, period_id)`` referring to the
import's ``(id, period_id)`` (made unique for it). The database still refuses a row
whose import does not exist, and now also one whose month is not its import's; the
month exists because the import refers to it.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-26 07:45:00.000000

"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_import_batch_id_period_id", ["id", "period_id"])
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_batch_id")
        batch_op.drop_index("ix_activity_eligible")
        batch_op.drop_constraint("fk_activity_period_id_reporting_period", type_="foreignkey")
        batch_op.drop_constraint("fk_activity_batch_id_import_batch", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_activity_batch_id_import_batch",
            "import_batch",
            ["batch_id", "period_id"],
            ["id", "period_id"],
        )


def downgrade():
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_constraint("fk_activity_batch_id_import_batch", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_activity_batch_id_import_batch", "import_batch", ["batch_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_activity_period_id_reporting_period", "reporting_period", ["period_id"], ["id"]
        )
        batch_op.create_index("ix_activity_eligible", ["eligible"], unique=False)
        batch_op.create_index("ix_activity_batch_id", ["batch_id"], unique=False)
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.drop_constraint("uq_import_batch_id_period_id", type_="unique")
