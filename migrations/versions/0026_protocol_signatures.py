"""protocol signatures: each commission member's signature of a draw's protocol (issue 18, part 3)

A member signs the Kazakh protocol (``protocol-kk.pdf``) with an EDS (the CMS kept as a
file of the draw, ``draw_file``, beside the protocol) or on paper (marked by staff). One
signature a member of a draw; never changed afterwards.

Revision ID: 0026
Revises: 0023
Create Date: 2026-11-26 10:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "protocol_signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("protocol_file", sa.String(length=40), nullable=False),
        sa.Column("protocol_sha256", sa.String(length=64), nullable=False),
        sa.Column("member_index", sa.Integer(), nullable=False),
        sa.Column("member_name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("cms_file_id", sa.Integer(), nullable=True),
        sa.Column("cms_sha256", sa.String(length=64), nullable=False),
        sa.Column("signer_name", sa.String(length=300), nullable=False),
        sa.Column("certificate_serial", sa.String(length=80), nullable=False),
        sa.Column("certificate_issuer", sa.String(length=500), nullable=False),
        sa.Column("signing_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("proven_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("revocation_method", sa.String(length=10), nullable=False),
        sa.Column("revocation_der", sa.LargeBinary(), nullable=True),
        sa.Column("revocation_evidence", sa.Text(), nullable=False),
        sa.Column("received_via", sa.String(length=20), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["draw_id"],
            ["draw.id"],
            name=op.f("fk_protocol_signature_draw_id_draw"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cms_file_id"],
            ["draw_file.id"],
            name=op.f("fk_protocol_signature_cms_file_id_draw_file"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocol_signature")),
        sa.UniqueConstraint(
            "draw_id", "member_index", name=op.f("uq_protocol_signature_draw_id_member_index")
        ),
    )


def downgrade():
    op.drop_table("protocol_signature")
