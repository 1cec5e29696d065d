"""Settings, the secret key, migrations and the commands of the foundation."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal import MissingSecretKey, create_app
from portal.models import Campaign, db
from portal.models.migration import include_name, include_object
from tests.helpers import REPOSITORY, make_app


@pytest.fixture
def no_secret_key(monkeypatch):
    """No secret key, nor development or debug mode, from the environment."""
    for name in ("PORTAL_SECRET_KEY", "PORTAL_INSTANCE_SECRET_KEY", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)


def test_outside_development_the_portal_refuses_to_start_without_a_secret_key(
    tmp_path, no_secret_key
):
    with pytest.raises(MissingSecretKey, match="PORTAL_SECRET_KEY"):
        create_app(instance_path=str(tmp_path))
    assert not (tmp_path / "secret_key").exists()
    # nor does a key left in the instance folder by development count
    (tmp_path / "secret_key").write_text("k" * 64 + "\n", encoding="ascii")
    with pytest.raises(MissingSecretKey):
        create_app(instance_path=str(tmp_path))


def test_the_secret_key_from_the_settings_is_used_and_nothing_generated(
    tmp_path, no_secret_key, monkeypatch
):
    monkeypatch.setenv("PORTAL_SECRET_KEY", "from-the-environment-" + "k" * 40)
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SECRET_KEY"] == "from-the-environment-" + "k" * 40
    assert not (tmp_path / "secret_key").exists()


def flask_command(instance, *args, **environment):
    """``flask --app wsgi <args>`` in a process of its own, as the Makefile runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
    env.update(PORTAL_INSTANCE_PATH=str(instance), **environment)
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_line_needs_the_secret_key_but_under_the_makefile(tmp_path):
    refused = flask_command(tmp_path / "production", "routes")
    assert refused.returncode != 0
    assert "PORTAL_SECRET_KEY" in refused.stderr
    configured = flask_command(tmp_path / "production", "routes", PORTAL_SECRET_KEY="k" * 64)
    assert configured.returncode == 0, configured.stderr
    assert not (tmp_path / "production" / "secret_key").exists()
    # the Makefile's development commands (make run, demo, db, catalogs) allow the
    # instance's own key; PORTAL_INSTANCE_SECRET_KEY=true is what they set
    plan = subprocess.run(
        ["make", "-n", "run"], cwd=REPOSITORY, capture_output=True, text=True, timeout=60
    )
    flask_lines = [line for line in plan.stdout.splitlines() if "flask --app wsgi" in line]
    assert flask_lines
    assert all("PORTAL_INSTANCE_SECRET_KEY=true" in line for line in flask_lines)
    development = flask_command(tmp_path / "dev", "routes", PORTAL_INSTANCE_SECRET_KEY="true")
    assert development.returncode == 0, development.stderr
    assert (tmp_path / "dev" / "secret_key").exists()


def test_secret_key_is_generated_once_into_the_instance_folder(
    tmp_path, no_secret_key, monkeypatch
):
    monkeypatch.setenv("PORTAL_INSTANCE_SECRET_KEY", "true")  # as the Makefile sets it
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
    monkeypatch.setenv("PORTAL_SECRET_KEY", "from-the-environment")
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
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": include_name,
                "include_object": include_object,
            },
        )
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
    assert "Demo campaign ismet-2022: added campaign" in first.output
    assert "Demo campaign ismet-2023: added campaign" in first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert second.output.count("nothing added") == 2, second.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 2


def test_translate_compile_command(runner):
    result = runner.invoke(args=["translate", "compile"])
    assert result.exit_code == 0, result.output
