"""pool announcements: the pool published (size, SHA-256, time) before it is drawn

The commission's first step publishes the pool; the draw may be confirmed only over
that pool and after a waiting time. A draw keeps the time its pool was announced
(``draw.announced_at``, None for the draws made before).

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-26 10:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pool_announcement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("prize_id", sa.Integer(), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("pool_sha256", sa.String(length=64), nullable=False),
        sa.Column("pool_size", sa.Integer(), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("announced_by_id", sa.Integer(), nullable=True),
        sa.Column("announced_by", sa.String(length=254), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=True),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("news_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "state IN ('announced', 'drawn', 'withdrawn', 'spent')",
            name=op.f("ck_pool_announcement_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["reporting_period.id"],
            name=op.f("fk_pool_announcement_period_id_reporting_period"),
        ),
        sa.ForeignKeyConstraint(
            ["prize_id"], ["prize.id"], name=op.f("fk_pool_announcement_prize_id_prize")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["draw.id"], name=op.f("fk_pool_announcement_replaces_id_draw")
        ),
        sa.ForeignKeyConstraint(
            ["announced_by_id"],
            ["staff_user.id"],
            name=op.f("fk_pool_announcement_announced_by_id_staff_user"),
        ),
        sa.ForeignKeyConstraint(
            ["draw_id"], ["draw.id"], name=op.f("fk_pool_announcement_draw_id_draw")
        ),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["draw_attempt.id"],
            name=op.f("fk_pool_announcement_attempt_id_draw_attempt"),
        ),
        sa.ForeignKeyConstraint(
            ["news_id"], ["announcement.id"], name=op.f("fk_pool_announcement_news_id_announcement")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_announcement")),
    )
    with op.batch_alter_table("pool_announcement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pool_announcement_period_id"), ["period_id"], unique=False
        )
    with op.batch_alter_table("draw", schema=None) as batch_op:
        batch_op.add_column(sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("draw", schema=None) as batch_op:
        batch_op.drop_column("announced_at")
    with op.batch_alter_table("pool_announcement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pool_announcement_period_id"))
    op.drop_table("pool_announcement")
