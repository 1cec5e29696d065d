"""draw attempts: a draw's place reserved before random.org is asked

A draw is reserved (``pending``) and committed, random.org is asked outside any
transaction, and the draw is recorded in one transaction (the attempt ``done``); a
failed or expired attempt is kept ``failed`` with its reason, for the staff.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 04:00:00.000000

"""

from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "draw_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("prize_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("pool_size", sa.Integer(), nullable=False),
        sa.Column("pool_sha256", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("started_by", sa.String(length=254), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.String(length=40), nullable=False),
        sa.Column("failure_detail", sa.Text(), nullable=False),
        sa.Column("response_text", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'failed', 'done')", name=op.f("ck_draw_attempt_state_known")
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["reporting_period.id"],
            name=op.f("fk_draw_attempt_period_id_reporting_period"),
        ),
        sa.ForeignKeyConstraint(
            ["prize_id"], ["prize.id"], name=op.f("fk_draw_attempt_prize_id_prize")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["draw.id"], name=op.f("fk_draw_attempt_replaces_id_draw")
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"],
            ["staff_user.id"],
            name=op.f("fk_draw_attempt_started_by_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draw_attempt")),
        sa.UniqueConstraint("draw_id", name=op.f("uq_draw_attempt_draw_id")),
    )
    with op.batch_alter_table("draw_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_draw_attempt_period_id"), ["period_id"], unique=False)
        batch_op.create_index(
            "uq_draw_attempt_pending_place",
            ["period_id", "prize_id", "sequence"],
            unique=True,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )


def downgrade():
    with op.batch_alter_table("draw_attempt", schema=None) as batch_op:
        batch_op.drop_index("uq_draw_attempt_pending_place")
        batch_op.drop_index(batch_op.f("ix_draw_attempt_period_id"))
    op.drop_table("draw_attempt")
