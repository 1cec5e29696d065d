"""the public content's generation: one row, bumped by every change a public page shows

The public pages' cache (portal/web/pagecache.py) reads it to know when what it holds
is out of date (portal/models/content.py).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26 07:00:00.000000

"""

from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "content_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_state")),
    )
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # as UTCDateTime stores it there
    op.bulk_insert(table, [{"id": 1, "generation": 1, "changed_at": now}])


def downgrade():
    op.drop_table("content_state")
