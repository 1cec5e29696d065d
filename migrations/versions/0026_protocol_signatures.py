"""protocol signatures: each commission member's signature of a draw's protocol (issue 18, part 3)

A member signs the Kazakh protocol (``protocol-kk.pdf``) with an EDS (the CMS kept as a
file of the draw, ``draw_file``, beside the protocol) or on paper (marked by staff). One
signature a member of a draw; never changed afterwards. A signing session of eGov
Mobile's QR signing may now carry a protocol and a member instead of an act
(``draw_id``, ``member_index``, ``opened_by``; ``act_id`` and ``winner_id`` nullable).

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-26 10:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
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

    with op.batch_alter_table("signing_session", schema=None) as batch_op:
        batch_op.alter_column("act_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("winner_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("draw_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("member_index", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("opened_by", sa.String(length=254), nullable=False, server_default="")
        )
        batch_op.create_index(batch_op.f("ix_signing_session_draw_id"), ["draw_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_signing_session_draw_id_draw"), "draw", ["draw_id"], ["id"]
        )


def downgrade():
    op.execute("DELETE FROM signing_session WHERE draw_id IS NOT NULL")
    with op.batch_alter_table("signing_session", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_signing_session_draw_id_draw"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_signing_session_draw_id"))
        batch_op.drop_column("opened_by")
        batch_op.drop_column("member_index")
        batch_op.drop_column("draw_id")
        batch_op.alter_column("winner_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("act_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("protocol_signature")
