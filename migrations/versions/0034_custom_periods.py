"""custom reporting periods (issue 19, part 2)

A reporting period stores its first and last day (filled from its year and month for the
periods made before, all calendar months), its key (``YYYY-MM`` for a month, ``YYYY-MM-DD``
of its first day for a custom period; unique per campaign in place of year and month) and
an optional name in each language; a campaign says whether its periods are the
calendar months of its dates or the custom ones staff listed.

Revision ID: 0034
Revises: 0033
Create Date: 2026-11-26 15:00:00

"""

import calendar
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("custom_periods", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("reporting_period", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(10), nullable=True))
        batch_op.add_column(sa.Column("first_day", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("last_day", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("label_kk", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("label_ru", sa.String(200), nullable=True))
    table = sa.table(
        "reporting_period",
        sa.column("id", sa.Integer),
        sa.column("year", sa.Integer),
        sa.column("month", sa.Integer),
        sa.column("key", sa.String),
        sa.column("first_day", sa.Date),
        sa.column("last_day", sa.Date),
    )
    bind = op.get_bind()
    for id_, year, month in bind.execute(sa.select(table.c.id, table.c.year, table.c.month)):
        bind.execute(
            table.update()
            .where(table.c.id == id_)
            .values(
                key=f"{year:04d}-{month:02d}",
                first_day=date(year, month, 1),
                last_day=date(year, month, calendar.monthrange(year, month)[1]),
            )
        )
    with op.batch_alter_table("reporting_period", schema=None) as batch_op:
        batch_op.alter_column("key", existing_type=sa.String(10), nullable=False)
        batch_op.alter_column("first_day", existing_type=sa.Date(), nullable=False)
        batch_op.alter_column("last_day", existing_type=sa.Date(), nullable=False)
        batch_op.drop_constraint(
            batch_op.f("uq_reporting_period_campaign_id_year_month"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_reporting_period_campaign_id_key"), ["campaign_id", "key"]
        )
        batch_op.create_check_constraint("days_in_order", "first_day <= last_day")


def downgrade():
    # only calendar months fit the old table: custom periods (and what hangs on them)
    # cannot go back, so the downgrade refuses while any exists
    bind = op.get_bind()
    custom = bind.scalar(sa.text("SELECT COUNT(*) FROM reporting_period WHERE LENGTH(key) <> 7"))
    if custom:
        raise RuntimeError(f"{custom} custom reporting periods cannot be downgraded")
    with op.batch_alter_table("reporting_period", schema=None) as batch_op:
        batch_op.drop_constraint("days_in_order", type_="check")
        batch_op.drop_constraint(batch_op.f("uq_reporting_period_campaign_id_key"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_reporting_period_campaign_id_year_month"),
            ["campaign_id", "year", "month"],
        )
        batch_op.drop_column("label_ru")
        batch_op.drop_column("label_kk")
        batch_op.drop_column("last_day")
        batch_op.drop_column("first_day")
        batch_op.drop_column("key")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("custom_periods")
