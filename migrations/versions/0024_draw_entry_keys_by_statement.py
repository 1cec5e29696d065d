"""a draw's entries checked by statement on PostgreSQL, its large files stored uncompressed

A draw writes its whole pool into ``draw_entry`` in one ``COPY`` (a million rows for a
million eligible). Its two foreign keys made PostgreSQL call a trigger per row and key,
each looking up and locking the row referred to: 9.5 of the 11.5 s that COPY took (the
draw benchmark). Here the keys are checked once per statement instead, over all the rows
it wrote (a transition table), which costs a join of them with ``draw`` and
``participant``; what the keys guaranteed still holds:

- a row of ``draw_entry`` refers to a draw and a participant that exist (checked after
  each INSERT, COPY or UPDATE of it, SQLSTATE 23503 as a foreign key's violation);
- a participant a draw's entry refers to cannot be deleted, nor its id changed, and
  neither can a draw's id; a draw deleted takes its entries with it (ON DELETE CASCADE).
  The delete triggers first lock ``draw_entry`` against writers (SHARE ROW EXCLUSIVE),
  so that a draw being recorded at that moment is waited for, then seen; and a draw
  recorded after a participant's delete waits for that delete to end, then its check
  finds the participant gone.

The same draw stored its 87 MB pool file compressed (pglz: 3.6 s of the draw, to save
nearly nothing on hex digits) and its verification read the file back whole. The draws'
files and the kept pools are now stored as they are (``STORAGE EXTERNAL``): written in a
tenth of the time, and read a chunk at a time (``models.base.read_chunks``: a
``substring`` of an uncompressed value reads only its pages). Values already stored keep
their compression.

SQLite keeps the keys as declared (the portal leaves SQLite's enforcement of keys,
``PRAGMA foreign_keys``, off, as it always has).

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-26 10:10:00.000000

"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE draw_file ALTER COLUMN content SET STORAGE EXTERNAL;
ALTER TABLE kept_pool ALTER COLUMN content SET STORAGE EXTERNAL;
ALTER TABLE kept_pool ALTER COLUMN participant_ids SET STORAGE EXTERNAL;
ALTER TABLE draw_entry DROP CONSTRAINT fk_draw_entry_draw_id_draw;
ALTER TABLE draw_entry DROP CONSTRAINT fk_draw_entry_participant_id_participant;

CREATE FUNCTION draw_entry_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM draw_entry_written w
               WHERE NOT EXISTS (SELECT 1 FROM draw d WHERE d.id = w.draw_id)) THEN
        RAISE EXCEPTION 'insert or update on table "draw_entry" violates its key to "draw"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'draw_entry';
    END IF;
    IF EXISTS (SELECT 1 FROM draw_entry_written w
               WHERE NOT EXISTS (SELECT 1 FROM participant p WHERE p.id = w.participant_id)) THEN
        RAISE EXCEPTION 'insert or update on table "draw_entry" violates its key to "participant"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'draw_entry';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER draw_entry_keys_on_insert AFTER INSERT ON draw_entry
    REFERENCING NEW TABLE AS draw_entry_written
    FOR EACH STATEMENT EXECUTE FUNCTION draw_entry_keys();
CREATE TRIGGER draw_entry_keys_on_update AFTER UPDATE ON draw_entry
    REFERENCING NEW TABLE AS draw_entry_written
    FOR EACH STATEMENT EXECUTE FUNCTION draw_entry_keys();

CREATE FUNCTION participant_kept_by_draws() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE draw_entry IN SHARE ROW EXCLUSIVE MODE;
    IF EXISTS (SELECT 1 FROM participant_removed r
               JOIN draw_entry e ON e.participant_id = r.id) THEN
        RAISE EXCEPTION 'delete on table "participant" violates the key of "draw_entry"'
            USING ERRCODE = 'foreign_key_violation', TABLE = 'participant';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER participant_kept_by_draws AFTER DELETE ON participant
    REFERENCING OLD TABLE AS participant_removed
    FOR EACH STATEMENT EXECUTE FUNCTION participant_kept_by_draws();

CREATE FUNCTION id_kept_for_draw_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME,
        MESSAGE = 'the id of a row of "' || TG_TABLE_NAME || '" is kept: draw entries refer to it';
END $$;
CREATE TRIGGER participant_id_kept BEFORE UPDATE OF id ON participant
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION id_kept_for_draw_entries();
CREATE TRIGGER draw_id_kept BEFORE UPDATE OF id ON draw
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION id_kept_for_draw_entries();

CREATE FUNCTION draw_entries_go_with_their_draw() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE draw_entry IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM draw_entry WHERE draw_id IN (SELECT id FROM draw_removed);
    RETURN NULL;
END $$;
CREATE TRIGGER draw_entries_go_with_their_draw AFTER DELETE ON draw
    REFERENCING OLD TABLE AS draw_removed
    FOR EACH STATEMENT EXECUTE FUNCTION draw_entries_go_with_their_draw();
"""

DOWNGRADE = r"""
ALTER TABLE draw_file ALTER COLUMN content SET STORAGE EXTENDED;
ALTER TABLE kept_pool ALTER COLUMN content SET STORAGE EXTENDED;
ALTER TABLE kept_pool ALTER COLUMN participant_ids SET STORAGE EXTENDED;
DROP TRIGGER draw_entries_go_with_their_draw ON draw;
DROP FUNCTION draw_entries_go_with_their_draw();
DROP TRIGGER draw_id_kept ON draw;
DROP TRIGGER participant_id_kept ON participant;
DROP FUNCTION id_kept_for_draw_entries();
DROP TRIGGER participant_kept_by_draws ON participant;
DROP FUNCTION participant_kept_by_draws();
DROP TRIGGER draw_entry_keys_on_update ON draw_entry;
DROP TRIGGER draw_entry_keys_on_insert ON draw_entry;
DROP FUNCTION draw_entry_keys();
ALTER TABLE draw_entry ADD CONSTRAINT fk_draw_entry_draw_id_draw
    FOREIGN KEY (draw_id) REFERENCES draw (id) ON DELETE CASCADE;
ALTER TABLE draw_entry ADD CONSTRAINT fk_draw_entry_participant_id_participant
    FOREIGN KEY (participant_id) REFERENCES participant (id);
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(UPGRADE)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DOWNGRADE)
