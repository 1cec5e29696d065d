"""import staging rows unlogged on PostgreSQL

The staged rows of an import live for the import only (emptied when it ends, failed by
the sweep when its job stops): writing them to the write-ahead log as well doubled what
staging a million rows writes. An unlogged table is emptied by a crash, which fails
the import under way as its job's stop does. Other databases have no such tables.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26 06:45:00.000000

"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE import_row SET UNLOGGED")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE import_row SET LOGGED")
