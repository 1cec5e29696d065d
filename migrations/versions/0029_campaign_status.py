"""campaign status: a campaign is a draft (staff only) or published (on the public site)

Every campaign made before is published: the 2022 campaign and the demo's stay on the
public site as they were.

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-26 13:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="published")
        )
        batch_op.create_check_constraint(
            op.f("ck_campaign_status_known"), "status IN ('draft', 'published')"
        )


def downgrade():
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_campaign_status_known"), type_="check")
        batch_op.drop_column("status")
