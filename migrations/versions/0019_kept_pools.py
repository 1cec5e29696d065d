"""kept pools: the pool the confirmation screen showed, kept until the draw over it is made

The confirmation of a draw takes back the pool shown (its file and who holds each
position) instead of building it again from the database, when nothing it was made
from has changed (``campaign.draws.show`` and ``prepare``). Nothing of a draw's record
changes.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-26 06:45:00.000000

"""

from alembic import op
import sqlalchemy as sa

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kept_pool",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("prize_id", sa.Integer(), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("inputs", sa.String(length=200), nullable=False),
        sa.Column("key_sha256", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("participant_ids", sa.LargeBinary(), nullable=False),
        sa.Column("kept_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["reporting_period.id"],
            name=op.f("fk_kept_pool_period_id_reporting_period"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["prize_id"], ["prize.id"], name=op.f("fk_kept_pool_prize_id_prize"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["draw.id"],
            name=op.f("fk_kept_pool_replaces_id_draw"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_kept_pool")),
    )
    with op.batch_alter_table("kept_pool", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kept_pool_period_id"), ["period_id"], unique=False)


def downgrade():
    with op.batch_alter_table("kept_pool", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kept_pool_period_id"))
    op.drop_table("kept_pool")
