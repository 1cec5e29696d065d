"""act signatures: the revocation evidence kept with an accepted EDS signature

What proved the signer's certificate not revoked when the signature was accepted:
``revocation_method`` "ocsp" (``revocation_der`` holds the OCSP answer's DER) or "crl"
(the CRL's URL, number, thisUpdate, nextUpdate and SHA-256 in ``revocation_evidence``,
JSON), or "" when no revocation check ran. Signatures accepted before keep "".

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-26 07:45:00.000000

"""

from alembic import op
import sqlalchemy as sa

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("act_signature") as batch:
        batch.add_column(
            sa.Column("revocation_method", sa.String(length=10), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("revocation_der", sa.LargeBinary(), nullable=True))
        batch.add_column(
            sa.Column("revocation_evidence", sa.Text(), nullable=False, server_default="{}")
        )


def downgrade():
    with op.batch_alter_table("act_signature") as batch:
        batch.drop_column("revocation_evidence")
        batch.drop_column("revocation_der")
        batch.drop_column("revocation_method")
