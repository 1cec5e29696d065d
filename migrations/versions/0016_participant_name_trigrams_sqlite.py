"""the staff's search by a part of the name on SQLite: a trigram index (FTS5)

SQLite has no trigram index of its own: ``LIKE '%…%'`` walked the names' index to its
end for a rare part of a name. An FTS5 table with the ``trigram`` tokenizer (blind to
case, Kazakh and Russian letters too), whose content is ``participant.company_name``
(an external-content table: it keeps the trigrams, not a second copy of the names), is
kept in step by three triggers, and filled from the participants already there.
PostgreSQL keeps its trigram GIN index (0015): nothing changes there.

The update trigger works only when a name really changes: an import rewrites the
details of every known client, mostly with the same name.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 06:40:00.000000

"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# portal.models.participants.NAME_TRIGRAMS: the migration keeps its own copy of the name
TABLE = "participant_name_trigrams"

CREATE = (
    # detail=full: a quoted part is a phrase of consecutive trigrams; columnsize=0: no
    # per-row sizes, which only ranking (bm25) reads
    f"CREATE VIRTUAL TABLE {TABLE} USING fts5(company_name, content='participant',"
    " content_rowid='id', tokenize='trigram case_sensitive 0', columnsize=0)",
    f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON participant BEGIN"
    f" INSERT INTO {TABLE} (rowid, company_name) VALUES (new.id, new.company_name); END",
    f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON participant BEGIN"
    f" INSERT INTO {TABLE} ({TABLE}, rowid, company_name)"
    " VALUES ('delete', old.id, old.company_name); END",
    f"CREATE TRIGGER {TABLE}_update AFTER UPDATE OF id, company_name ON participant"
    " WHEN old.company_name IS NOT new.company_name OR old.id IS NOT new.id BEGIN"
    f" INSERT INTO {TABLE} ({TABLE}, rowid, company_name)"
    " VALUES ('delete', old.id, old.company_name);"
    f" INSERT INTO {TABLE} (rowid, company_name) VALUES (new.id, new.company_name); END",
    f"INSERT INTO {TABLE} ({TABLE}) VALUES ('rebuild')",
)


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in CREATE:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{trigger}")
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
