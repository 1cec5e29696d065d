"""several prizes a period, drawn in one signed call (issue 19, part 2)

A prize has its ``position`` in the order the rules publish (existing prizes: 1) and an
optional ``period_id`` (None: every period of its campaign). A draw draws every prize of
its period: its ``prize_plan`` says what its numbers are assigned to, each winner's
``prize_id`` which prize it took (existing winners: their draw's prize) and, for a
redraw, ``replaces_winner_id`` the fallen winner whose prize it drew again (existing
redraws: the replaced draw's winner of the same rank). Draws, attempts, announcements and
kept pools are a period's (plus the draw a redraw replaces): their ``prize_id`` becomes
nullable, kept on the rows made before, and a period's chain is unique without it.

Revision ID: 0031
Revises: 0030
Create Date: 2026-11-26 13:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

PENDING = sa.text("state = 'pending'")


def upgrade():
    with op.batch_alter_table("prize", schema=None) as batch_op:
        batch_op.add_column(sa.Column("position", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("period_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_prize_period_id_reporting_period"),
            "reporting_period",
            ["period_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint("position_positive", "position > 0")

    with op.batch_alter_table("draw_winner", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prize_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("replaces_winner_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE draw_winner SET prize_id ="
        " (SELECT draw.prize_id FROM draw WHERE draw.id = draw_winner.draw_id)"
    )
    op.execute(
        "UPDATE draw_winner SET replaces_winner_id = (SELECT earlier.id FROM draw_winner"
        " AS earlier JOIN draw ON draw.replaces_id = earlier.draw_id"
        " WHERE draw.id = draw_winner.draw_id AND earlier.rank = draw_winner.rank)"
    )
    with op.batch_alter_table("draw_winner", schema=None) as batch_op:
        batch_op.alter_column("prize_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_draw_winner_prize_id_prize"), "prize", ["prize_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_draw_winner_replaces_winner_id_draw_winner"),
            "draw_winner",
            ["replaces_winner_id"],
            ["id"],
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_draw_winner_replaces_winner_id"), ["replaces_winner_id"]
        )

    with op.batch_alter_table("draw", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prize_plan", sa.Text(), server_default="", nullable=False))
        batch_op.alter_column("prize_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint("uq_draw_period_id_prize_id_sequence", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_draw_period_id_sequence"), ["period_id", "sequence"]
        )

    with op.batch_alter_table("draw_attempt", schema=None) as batch_op:
        batch_op.drop_index("uq_draw_attempt_pending_place")
        batch_op.alter_column("prize_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(
            "uq_draw_attempt_pending_place",
            ["period_id", "sequence"],
            unique=True,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        )
    for table in ("pool_announcement", "kept_pool"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("prize_id", existing_type=sa.Integer(), nullable=True)


# a row made since, without a prize: its period's first prize (the draws': their first
# winner's), so that the columns may be required again
FIRST_PRIZE = (
    "(SELECT prize.id FROM prize JOIN reporting_period"
    " ON reporting_period.campaign_id = prize.campaign_id"
    " WHERE reporting_period.id = {table}.period_id"
    " ORDER BY prize.position, prize.id LIMIT 1)"
)


def downgrade():
    op.execute("DELETE FROM kept_pool WHERE prize_id IS NULL")
    for table in ("pool_announcement", "draw_attempt"):
        op.execute(
            f"UPDATE {table} SET prize_id = {FIRST_PRIZE.format(table=table)}"
            " WHERE prize_id IS NULL"
        )
    op.execute(
        "UPDATE draw SET prize_id = (SELECT draw_winner.prize_id FROM draw_winner"
        " WHERE draw_winner.draw_id = draw.id ORDER BY draw_winner.rank LIMIT 1)"
        " WHERE prize_id IS NULL"
    )
    op.execute(f"UPDATE draw SET prize_id = {FIRST_PRIZE.format(table='draw')} WHERE prize_id IS NULL")
    for table in ("pool_announcement", "kept_pool"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("prize_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("draw_attempt", schema=None) as batch_op:
        batch_op.drop_index("uq_draw_attempt_pending_place")
        batch_op.alter_column("prize_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(
            "uq_draw_attempt_pending_place",
            ["period_id", "prize_id", "sequence"],
            unique=True,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        )
    with op.batch_alter_table("draw", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_draw_period_id_sequence"), type_="unique")
        batch_op.create_unique_constraint(
            "uq_draw_period_id_prize_id_sequence", ["period_id", "prize_id", "sequence"]
        )
        batch_op.alter_column("prize_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("prize_plan")
    with op.batch_alter_table("draw_winner", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_draw_winner_replaces_winner_id"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_draw_winner_replaces_winner_id_draw_winner"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_draw_winner_prize_id_prize"), type_="foreignkey")
        batch_op.drop_column("replaces_winner_id")
        batch_op.drop_column("prize_id")
    with op.batch_alter_table("prize", schema=None) as batch_op:
        batch_op.drop_constraint("position_positive", type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_prize_period_id_reporting_period"), type_="foreignkey"
        )
        batch_op.drop_column("period_id")
        batch_op.drop_column("position")
