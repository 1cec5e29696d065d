"""staff pages of a million participants: an index for the search by a part of the
name, and each eligibility run's funnel kept with it

On PostgreSQL a trigram GIN index (extension pg_trgm), which answers ``ILIKE '%…%'``;
where the extension cannot be created (no right to), a B-tree of the same name, and the
search by name stays a scan there. On SQLite a B-tree, walked in the order of the names
until the page's limit is reached. The exact keys (account number, BIN/IIN) already
have their indexes (0003).

An eligibility run keeps how many passed each condition and the import it counted
(``batch_id``), so the participants' page reads the month's funnel instead of counting
its rows per view; runs made before keep NULL there and are counted as before.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 05:00:00.000000

"""

from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

INDEX = "ix_participant_company_name"
COUNTS = ("passed_app", "passed_ekassa", "passed_paid", "passed_receipts", "passed_legal_form")


def _trigrams_schema(bind) -> str | None:
    """The schema holding pg_trgm, created now if it may be, or None when it cannot be
    (a refusal leaves the transaction usable: it happens inside a savepoint). Named in
    the index, its operator class is found whatever the connection's search path."""
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        return None
    return bind.execute(
        sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'pg_trgm'"
        )
    ).scalar_one()


def upgrade():
    bind = op.get_bind()
    schema = _trigrams_schema(bind) if bind.dialect.name == "postgresql" else None
    if schema is not None:
        quoted = bind.dialect.identifier_preparer.quote_identifier(schema)
        op.create_index(
            INDEX,
            "participant",
            ["company_name"],
            postgresql_using="gin",
            postgresql_ops={"company_name": f"{quoted}.gin_trgm_ops"},
        )
    else:
        with op.batch_alter_table("participant", schema=None) as batch_op:
            batch_op.create_index(INDEX, ["company_name"], unique=False)
    with op.batch_alter_table("eligibility_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        for name in COUNTS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("eligibility_run", schema=None) as batch_op:
        for name in ("batch_id", *COUNTS):
            batch_op.drop_column(name)
    # the extension stays: other databases' objects may use it, and dropping it needs rights
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
