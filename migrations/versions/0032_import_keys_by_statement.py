"""the import's keys checked once per statement on PostgreSQL

An import of a million rows writes three tables in a few statements: the staged rows
(``import_row``, by ``COPY``), the new participants and the month's figures (each an
``INSERT ... SELECT``). PostgreSQL checked each of their foreign keys by a trigger call
per row and key, each looking up and locking the row referred to: about 8 s of the
10.7 s that the month's figures alone took in ``psql`` (1,000,000 rows). Here those keys
(``KEYS`` below, the one list of them) are checked as ``draw_entry``'s are since 0024:

- after each INSERT or COPY, once over all the rows it wrote (a transition table joined
  with the table referred to); after an UPDATE, only a row whose key changed, by itself
  (nothing the portal updates changes these keys, and an eligibility run that rewrites
  a million figures is not slowed by a copy of them). A row that refers to nothing
  fails with SQLSTATE 23503, as a foreign key's violation;
- a row referred to cannot be deleted, nor its key changed (the referring table first
  locked against writers, SHARE ROW EXCLUSIVE, so that rows being written at that moment
  are waited for, then seen; and rows written after it wait, then find the row gone);
  where the key cascaded (``import_row``, the staging of an import), the delete takes the
  referring rows with it.

``uq_import_batch_id_period_id`` stays: what the month's figures refer to is unique.
SQLite keeps the keys as declared (the portal leaves its enforcement, ``PRAGMA
foreign_keys``, off, as it always has).

Revision ID: 0032
Revises: 0031
Create Date: 2026-11-26 13:40:00.000000

"""

from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

# The keys checked by statement on PostgreSQL (0024 did ``draw_entry``'s, by functions of
# its own): the constraint dropped, the table and columns, the table and columns referred
# to, what a delete of a row referred to does.
KEYS = (
    ("fk_participant_campaign_id_campaign", "participant", "campaign_id", "campaign", "id", ""),
    (
        "fk_activity_participant_id_participant",
        "activity",
        "participant_id",
        "participant",
        "id",
        "",
    ),
    (
        "fk_activity_batch_id_import_batch",
        "activity",
        "batch_id,period_id",
        "import_batch",
        "id,period_id",
        "",
    ),
    (
        "fk_import_row_batch_id_import_batch",
        "import_row",
        "batch_id",
        "import_batch",
        "id",
        "ON DELETE CASCADE",
    ),
)

# Generic: each trigger names its key in its arguments (the table referred to or referring,
# the columns, the columns referred to, whether a delete cascades), so one function serves
# every key. A key of several columns is matched column by column; a row with a NULL in
# its key refers to nothing and is not checked (as MATCH SIMPLE, a foreign key's default).
FUNCTIONS = r"""
CREATE FUNCTION keys_of_rows_written() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    mine text[] := string_to_array(TG_ARGV[1], ',');
    theirs text[] := string_to_array(TG_ARGV[2], ',');
    condition text := 'true';
    missing boolean;
BEGIN
    FOR i IN 1 .. cardinality(mine) LOOP
        condition := condition || format(' AND w.%I IS NOT NULL', mine[i]);
    END LOOP;
    condition := condition || format(' AND NOT EXISTS (SELECT 1 FROM %I r WHERE true', TG_ARGV[0]);
    FOR i IN 1 .. cardinality(mine) LOOP
        condition := condition || format(' AND r.%I = w.%I', theirs[i], mine[i]);
    END LOOP;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM rows_written w WHERE %s))', condition)
        INTO missing;
    IF missing THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME,
            MESSAGE = format('insert or update on table "%s" violates its key (%s) to "%s"',
                             TG_TABLE_NAME, TG_ARGV[1], TG_ARGV[0]);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION key_of_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    mine text[] := string_to_array(TG_ARGV[1], ',');
    theirs text[] := string_to_array(TG_ARGV[2], ',');
    unset text := 'false';
    condition text := 'true';
    found_it boolean;
BEGIN
    FOR i IN 1 .. cardinality(mine) LOOP
        unset := unset || format(' OR ($1).%I IS NULL', mine[i]);
        condition := condition || format(' AND r.%I = ($1).%I', theirs[i], mine[i]);
    END LOOP;
    EXECUTE format('SELECT %s OR EXISTS (SELECT 1 FROM %I r WHERE %s)', unset, TG_ARGV[0],
                   condition)
        INTO found_it USING NEW;
    IF NOT found_it THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME,
            MESSAGE = format('insert or update on table "%s" violates its key (%s) to "%s"',
                             TG_TABLE_NAME, TG_ARGV[1], TG_ARGV[0]);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION rows_referred_to_removed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    mine text[] := string_to_array(TG_ARGV[2], ',');
    theirs text[] := string_to_array(TG_ARGV[1], ',');
    condition text := 'true';
    referred boolean;
BEGIN
    FOR i IN 1 .. cardinality(mine) LOOP
        condition := condition || format(' AND c.%I = r.%I', theirs[i], mine[i]);
    END LOOP;
    EXECUTE format('LOCK TABLE %I IN SHARE ROW EXCLUSIVE MODE', TG_ARGV[0]);
    IF TG_ARGV[3] = 'cascade' THEN
        EXECUTE format('DELETE FROM %I c USING rows_removed r WHERE %s', TG_ARGV[0], condition);
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM rows_removed r JOIN %I c ON %s)',
                   TG_ARGV[0], condition)
        INTO referred;
    IF referred THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME,
            MESSAGE = format('delete on table "%s" violates the key (%s) of "%s"',
                             TG_TABLE_NAME, TG_ARGV[1], TG_ARGV[0]);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION key_of_row_referred_to_kept() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    mine text[] := string_to_array(TG_ARGV[2], ',');
    theirs text[] := string_to_array(TG_ARGV[1], ',');
    condition text := 'true';
    referred boolean;
BEGIN
    FOR i IN 1 .. cardinality(mine) LOOP
        condition := condition || format(' AND c.%I = ($1).%I', theirs[i], mine[i]);
    END LOOP;
    EXECUTE format('LOCK TABLE %I IN SHARE ROW EXCLUSIVE MODE', TG_ARGV[0]);
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I c WHERE %s)', TG_ARGV[0], condition)
        INTO referred USING OLD;
    IF referred THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME,
            MESSAGE = format('update on table "%s" violates the key (%s) of "%s"',
                             TG_TABLE_NAME, TG_ARGV[1], TG_ARGV[0]);
    END IF;
    RETURN NEW;
END $$;
"""


def _differs(row_a: str, row_b: str, columns: str) -> str:
    return " OR ".join(f"{row_a}.{c} IS DISTINCT FROM {row_b}.{c}" for c in columns.split(","))


def _triggers(name, table, columns, referred, referred_columns, on_delete) -> str:
    key = f"'{referred}', '{columns}', '{referred_columns}'"
    back = f"'{table}', '{columns}', '{referred_columns}'"
    cascade = "'cascade'" if on_delete else "'restrict'"
    return f"""
ALTER TABLE {table} DROP CONSTRAINT {name};
CREATE TRIGGER {name}_on_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS rows_written
    FOR EACH STATEMENT EXECUTE FUNCTION keys_of_rows_written({key});
CREATE TRIGGER {name}_on_update AFTER UPDATE OF {columns} ON {table}
    FOR EACH ROW WHEN ({_differs("OLD", "NEW", columns)})
    EXECUTE FUNCTION key_of_row_changed({key});
CREATE TRIGGER {name}_on_delete AFTER DELETE ON {referred}
    REFERENCING OLD TABLE AS rows_removed
    FOR EACH STATEMENT EXECUTE FUNCTION rows_referred_to_removed({back}, {cascade});
CREATE TRIGGER {name}_on_key_update BEFORE UPDATE OF {referred_columns} ON {referred}
    FOR EACH ROW WHEN ({_differs("OLD", "NEW", referred_columns)})
    EXECUTE FUNCTION key_of_row_referred_to_kept({back});
"""


def _untriggered(name, table, columns, referred, referred_columns, on_delete) -> str:
    return f"""
DROP TRIGGER {name}_on_key_update ON {referred};
DROP TRIGGER {name}_on_delete ON {referred};
DROP TRIGGER {name}_on_update ON {table};
DROP TRIGGER {name}_on_insert ON {table};
ALTER TABLE {table} ADD CONSTRAINT {name}
    FOREIGN KEY ({columns}) REFERENCES {referred} ({referred_columns}) {on_delete};
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTIONS + "".join(_triggers(*key) for key in KEYS))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "".join(_untriggered(*key) for key in KEYS)
            + "DROP FUNCTION key_of_row_referred_to_kept(); DROP FUNCTION rows_referred_to_removed();"
            + " DROP FUNCTION key_of_row_changed(); DROP FUNCTION keys_of_rows_written();"
        )
