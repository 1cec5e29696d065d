"""rules diffs, computed once: what changed between two published versions, per language

Published versions never change, so their comparison is computed once (on
publication, or on the first request for a pair) and kept as JSON.

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-26 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rules_diff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("older_id", sa.Integer(), nullable=False),
        sa.Column("newer_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("diff_format", sa.Integer(), nullable=False),
        sa.Column("diff_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["older_id"], ["rules_version.id"], name=op.f("fk_rules_diff_older_id_rules_version")
        ),
        sa.ForeignKeyConstraint(
            ["newer_id"], ["rules_version.id"], name=op.f("fk_rules_diff_newer_id_rules_version")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rules_diff")),
        sa.UniqueConstraint(
            "older_id",
            "newer_id",
            "language",
            name=op.f("uq_rules_diff_older_id_newer_id_language"),
        ),
    )
    with op.batch_alter_table("rules_diff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rules_diff_newer_id"), ["newer_id"], unique=False)


def downgrade():
    with op.batch_alter_table("rules_diff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rules_diff_newer_id"))
    op.drop_table("rules_diff")
