"""random answers: every signed random.org answer of the portal's key, asked or fetched

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-26 10:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "random_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hashed_api_key", sa.String(length=100), nullable=False),
        sa.Column("serial_number", sa.Integer(), nullable=False),
        sa.Column("completion_time", sa.String(length=40), nullable=False),
        sa.Column("random_json", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("user_data", sa.Text(), nullable=True),
        sa.Column("how", sa.String(length=10), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=True),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("how IN ('asked', 'fetched')", name=op.f("ck_random_answer_how_known")),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["draw_attempt.id"],
            name=op.f("fk_random_answer_attempt_id_draw_attempt"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_random_answer")),
        sa.UniqueConstraint(
            "hashed_api_key",
            "serial_number",
            name=op.f("uq_random_answer_hashed_api_key_serial_number"),
        ),
    )
    with op.batch_alter_table("random_answer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_random_answer_attempt_id"), ["attempt_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("random_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_random_answer_attempt_id"))
    op.drop_table("random_answer")
