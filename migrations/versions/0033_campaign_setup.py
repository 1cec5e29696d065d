"""a campaign set up by staff (issue 19, part 4)

The organizer's requisites per campaign (nullable: the ``ORGANIZER_*`` settings stand in
for what a campaign leaves empty), the day of the next month a period's draw is due by
(rule 5, 20 for the campaigns made before), the prize changes a rules version brings
(rule 16, applied when it is published) and the first period an every-period prize is no
longer given in, once such a version replaced it for the periods not yet drawn.

Revision ID: 0033
Revises: 0032
Create Date: 2026-11-26 14:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

REQUISITES = (
    ("organizer_bin", sa.String(12)),
    ("organizer_address_kk", sa.String(500)),
    ("organizer_address_ru", sa.String(500)),
    ("organizer_hotline", sa.String(100)),
    ("organizer_email", sa.String(200)),
    ("organizer_signatory_kk", sa.String(300)),
    ("organizer_signatory_ru", sa.String(300)),
    ("organizer_position_kk", sa.String(300)),
    ("organizer_position_ru", sa.String(300)),
)


def upgrade():
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        for name, type_ in REQUISITES:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
        batch_op.add_column(
            sa.Column("draw_deadline_day", sa.Integer(), server_default="20", nullable=False)
        )
        batch_op.create_check_constraint(
            "draw_deadline_day_valid", "draw_deadline_day BETWEEN 1 AND 28"
        )
    with op.batch_alter_table("rules_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("setup_changes", sa.Text(), nullable=True))
    with op.batch_alter_table("prize", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_from", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("prize", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_from")
    with op.batch_alter_table("rules_version", schema=None) as batch_op:
        batch_op.drop_column("setup_changes")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_constraint("draw_deadline_day_valid", type_="check")
        batch_op.drop_column("draw_deadline_day")
        for name, _ in reversed(REQUISITES):
            batch_op.drop_column(name)
