"""Settings, the secret key, migrations and the commands of the foundation."""

from __future__ import annotations

import stat

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal import create_app
from portal.models import Campaign, db
from tests.helpers import make_app


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    first = create_app(instance_path=str(tmp_path))
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) == 64
    second = create_app(instance_path=str(tmp_path))
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]


def test_defaults_then_instance_config_then_environment(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text(
        "MAIL_PORT = 2525\nMARKETING_MANAGER_EMAIL = 'from-instance@example.kz'\n", encoding="utf-8"
    )
    monkeypatch.setenv("PORTAL_MAIL_PORT", "2526")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["MAIL_PORT"] == 2526
    assert app.config["MARKETING_MANAGER_EMAIL"] == "from-instance@example.kz"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    assert app.config["RANDOM_ORG_URL"] == "https://api.random.org/json-rpc/4/invoke"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_migrations_build_exactly_the_models(ctx):
    """The schema made by the migrations matches the models: nothing left to migrate."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_readyz_reports_an_unreachable_database(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/missing/dir/db.sqlite3", tmp_path / "instance")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "failed"


def test_demo_command_is_idempotent(runner, ctx):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "added campaign" in first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert "nothing added" in second.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 1


def test_translate_compile_command(runner):
    result = runner.invoke(args=["translate", "compile"])
    assert result.exit_code == 0, result.output
