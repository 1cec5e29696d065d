"""legal form as the client's records give it: up to 100 characters

The import takes any legal form (IE, LLP, JSC, a cooperative, ...); eligibility
decides. Eight characters cut longer names.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("participant", "activity", "import_row")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "legal_form",
                existing_type=sa.String(length=8),
                type_=sa.String(length=100),
                existing_nullable=False,
            )


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "legal_form",
                existing_type=sa.String(length=100),
                type_=sa.String(length=8),
                existing_nullable=False,
            )
