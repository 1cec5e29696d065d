"""signing sessions: eGov Mobile's QR signing of an act (one QR code, one act's bytes, used once)

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-26 07:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "signing_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("act_id", sa.Integer(), nullable=False),
        sa.Column("winner_id", sa.Integer(), nullable=False),
        sa.Column("act_sha256", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("key_sha256", sa.String(length=64), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_data", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("failures", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["act_id"], ["act.id"], name=op.f("fk_signing_session_act_id_act")),
        sa.ForeignKeyConstraint(
            ["winner_id"], ["winner.id"], name=op.f("fk_signing_session_winner_id_winner")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_session")),
        sa.UniqueConstraint("key_sha256", name=op.f("uq_signing_session_key_sha256")),
    )
    with op.batch_alter_table("signing_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signing_session_act_id"), ["act_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_signing_session_winner_id"), ["winner_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("signing_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signing_session_winner_id"))
        batch_op.drop_index(batch_op.f("ix_signing_session_act_id"))
    op.drop_table("signing_session")
