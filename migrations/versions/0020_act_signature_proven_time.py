"""act signature proven time: the genTime of the signature's RFC 3161 timestamp

An accepted EDS signature keeps the time NCA's time-stamping authority proved it existed
at (``portal.services.eds.timestamp``), beside ``signing_time``, the time the signer's
own software stated. Signatures stored before this revision have none (NULL): their
report tells whether they carried a timestamp.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-26 07:20:00.000000

"""

from alembic import op
import sqlalchemy as sa

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("act_signature", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proven_time", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("act_signature", schema=None) as batch_op:
        batch_op.drop_column("proven_time")
