"""draw verdicts: a draw is verified once, and its verdict kept with its record

The public record shows the stored verdict and its time instead of verifying the draw
(its pool file, the signature, the protocols) on every view. A draw stored before this
revision gets its verdict at its first view (``campaign.draws.stored_verdict``), or at
once with ``flask draw verify --missing``.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26 04:45:00.000000

"""

from alembic import op
import sqlalchemy as sa

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "draw_verdict",
        sa.Column("draw_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("key_sha256", sa.String(length=64), nullable=False),
        sa.Column("checks", sa.Text(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["draw_id"],
            ["draw.id"],
            name=op.f("fk_draw_verdict_draw_id_draw"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("draw_id", name=op.f("pk_draw_verdict")),
    )


def downgrade():
    op.drop_table("draw_verdict")
