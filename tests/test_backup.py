"""``flask backup`` and ``flask restore``: the demo with its draws, acts and stored files
backed up, restored into a new empty instance (a new SQLite file, or a new PostgreSQL
database), and every draw, act, file and the audit chain checked there; a backup that
does not match its manifest, or a target that is not empty, is refused with nothing
changed."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
import sqlalchemy as sa

from portal.campaign import acts, draws
from portal.campaign.audit import verify_chain
from portal.models import Act, Draw, Winner, WinnerFile, db
from portal.services import backup as backups
from portal.services import storage
from tests.helpers import admin_actor, load_demo_site, make_app, png


def _fresh_database(database_url: str, tmp_path) -> tuple[str, object]:
    """A new empty database of the test database's kind; its URL and a function that drops it."""
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{tmp_path / f'restored-{uuid.uuid4().hex[:8]}.sqlite3'}", lambda: None
    name = f"{url.database}_restore_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture
def fresh(database_url, tmp_path):
    """Make a new instance (its own folder) on a new empty database: ``fresh()``."""
    made = []

    def make():
        url, drop = _fresh_database(database_url, tmp_path)
        instance = make_app(url, tmp_path / f"fresh-{len(made)}")
        made.append((instance, drop))
        return instance

    yield make
    for instance, drop in made:
        with instance.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()


def _what_can_be_checked() -> dict:
    """Every draw's verdict, every act's and stored file's digest as recomputed from
    its bytes, the audit chain's report, and each table's row count."""
    draw_verdicts = {
        draw.id: draws.verdict(draws.verify(draw))
        for draw in db.session.scalars(sa.select(Draw).order_by(Draw.id))
    }
    act_digests = {
        act.number: (hashlib.sha256(act.pdf).hexdigest(), act.sha256)
        for act in db.session.scalars(sa.select(Act).order_by(Act.id))
    }
    files = {
        record.path: hashlib.sha256(acts.read_file(record)).hexdigest()
        for record in db.session.scalars(sa.select(WinnerFile).order_by(WinnerFile.id))
    }
    chain = verify_chain()
    rows = {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }
    return {
        "draws": draw_verdicts,
        "acts": act_digests,
        "files": files,
        "chain": (chain.ok, chain.checked),
        "rows": rows,
        "keys": sorted(storage.current().keys()),
    }


@pytest.fixture
def site(app):
    """The demo (draws through the stand-in random.org, acts) with a scan stored by staff."""
    with app.app_context():
        demo = load_demo_site(app)
        winner = db.session.get(Winner, demo.winner_id)
        acts.staff_upload(winner, png(), "director-id.png", actor=admin_actor())
        db.session.commit()
        return _what_can_be_checked()


@pytest.fixture
def made(app, site, tmp_path):
    """A backup of the site: its folder."""
    folder = tmp_path / "backup"
    result = app.test_cli_runner().invoke(args=["backup", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def test_round_trip_restores_every_draw_act_file_and_the_chain(app, site, made, fresh):
    assert site["draws"] and site["acts"] and site["files"] and site["chain"][0]
    assert all(verdict.code != "broken" for verdict in site["draws"].values())
    assert all(computed == stored for computed, stored in site["acts"].values())
    manifest = json.loads((made / "manifest.json").read_text())
    assert manifest["format"] == "ismet-portal-backup"
    assert manifest["database"]["kind"] == db_kind(app)
    assert manifest["database"]["revision"]
    assert sorted(entry["key"] for entry in manifest["files"]) == site["keys"]
    for entry in manifest["files"] + [manifest["database"]]:
        data = (made / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["size"]

    restored = fresh()
    result = restored.test_cli_runner().invoke(args=["restore", str(made)])
    assert result.exit_code == 0, result.output
    assert f"{len(site['keys'])} files" in result.output
    with restored.app_context():
        assert _what_can_be_checked() == site


def test_a_tampered_file_is_refused_and_nothing_changes(made, fresh):
    key = json.loads((made / "manifest.json").read_text())["files"][0]["path"]
    data = bytearray((made / key).read_bytes())
    data[len(data) // 2] ^= 0x01
    (made / key).write_bytes(bytes(data))
    restored = fresh()
    result = restored.test_cli_runner().invoke(args=["restore", str(made)])
    assert result.exit_code == 1
    assert f"differs from the manifest (SHA-256 or size): {key}" in result.output
    assert "Nothing was restored" in result.output
    with restored.app_context():
        assert backups.database_is_empty(db.engine)
        assert list(storage.current().keys()) == []


def test_a_tampered_database_copy_is_refused(made, fresh):
    manifest = json.loads((made / "manifest.json").read_text())
    database = made / manifest["database"]["path"]
    database.write_bytes(database.read_bytes() + b"\0")
    result = fresh().test_cli_runner().invoke(args=["restore", str(made)])
    assert result.exit_code == 1
    assert f"differs from the manifest (SHA-256 or size): {database.name}" in result.output


def test_a_missing_or_an_added_file_is_refused(made, fresh):
    key = json.loads((made / "manifest.json").read_text())["files"][0]["path"]
    (made / key).unlink()
    (made / "files" / "extra.txt").write_text("not from the portal")
    result = fresh().test_cli_runner().invoke(args=["restore", str(made)])
    assert result.exit_code == 1
    assert f"missing: {key}" in result.output
    assert "not in the manifest: files/extra.txt" in result.output


def test_a_manifest_naming_a_path_outside_the_backup_is_refused(made, fresh):
    manifest = json.loads((made / "manifest.json").read_text())
    manifest["files"][0]["key"] = "../../secret_key"
    manifest["files"][0]["path"] = "files/../../secret_key"
    (made / "manifest.json").write_text(json.dumps(manifest))
    result = fresh().test_cli_runner().invoke(args=["restore", str(made)])
    assert result.exit_code == 1
    assert "outside the backup's files" in result.output


def test_restore_refuses_a_database_that_is_not_empty(app, made):
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Draw))
    result = app.test_cli_runner().invoke(args=["restore", str(made)])
    assert result.exit_code == 1
    assert "The configured database is not empty" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Draw)) == before


def test_restore_refuses_a_storage_that_is_not_empty(made, fresh):
    restored = fresh()
    with restored.app_context():
        storage.current().put("winners/left-over.txt", b"already here")
    result = restored.test_cli_runner().invoke(args=["restore", str(made)])
    assert result.exit_code == 1
    assert "The storage already holds files" in result.output
    with restored.app_context():
        assert backups.database_is_empty(db.engine)


def test_backup_refuses_a_folder_that_is_not_empty(app, tmp_path):
    folder = tmp_path / "used"
    folder.mkdir()
    (folder / "something").write_text("x")
    result = app.test_cli_runner().invoke(args=["backup", str(folder)])
    assert result.exit_code == 1
    assert "exists and is not an empty folder" in result.output
    assert sorted(p.name for p in folder.iterdir()) == ["something"]


def test_a_folder_without_a_manifest_is_not_a_backup(fresh, tmp_path):
    (tmp_path / "plain").mkdir()
    result = fresh().test_cli_runner().invoke(args=["restore", str(tmp_path / "plain")])
    assert result.exit_code == 1
    assert "has no manifest.json: not a backup" in result.output


def db_kind(app) -> str:
    return sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
