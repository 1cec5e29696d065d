"""import staging rows without indexes

Keeping the two indexes up to date cost more, row by row, than the few statements
that read a batch's staged rows saved (benchmarks/import_bench.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 16:20:15.782002

"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("import_row", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_row_batch_id"))
        batch_op.drop_index(batch_op.f("ix_import_row_batch_id_account_number"))


def downgrade():
    with op.batch_alter_table("import_row", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_import_row_batch_id_account_number"),
            ["batch_id", "account_number"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_import_row_batch_id"), ["batch_id"], unique=False)
