"""the staff's search of participants: an index for the search by a part of the name

On PostgreSQL a trigram GIN index (extension pg_trgm), which answers ``ILIKE '%…%'``;
where the extension cannot be created (no right to), a B-tree of the same name, and the
search by name stays a scan there. On SQLite a B-tree, walked in the order of the names
until the page's limit is reached. The exact keys (account number, BIN/IIN) already
have their indexes (0003).

Revision ID: 0015
Revises: 0013
Create Date: 2026-11-26 05:00:00.000000

"""

from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEX = "ix_participant_company_name"


def _trigrams_available(bind) -> bool:
    """Whether pg_trgm is (or could now be made) installed; a refusal leaves the
    transaction usable (it happens inside a savepoint)."""
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        return False
    return True


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and _trigrams_available(bind):
        op.create_index(
            INDEX,
            "participant",
            ["company_name"],
            postgresql_using="gin",
            postgresql_ops={"company_name": "gin_trgm_ops"},
        )
    else:
        with op.batch_alter_table("participant", schema=None) as batch_op:
            batch_op.create_index(INDEX, ["company_name"], unique=False)


def downgrade():
    # the extension stays: other databases' objects may use it, and dropping it needs rights
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
