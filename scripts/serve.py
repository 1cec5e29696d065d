"""``make serve``: the production shape on this machine: gunicorn with gunicorn.conf.py
and the job worker, on PostgreSQL and Redis where they answer.

- The database: ``PORTAL_SQLALCHEMY_DATABASE_URI`` when set; else PostgreSQL at
  ``SERVE_POSTGRES`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/ismet_portal``,
  the database created when the server answers and it is missing); else the instance's
  SQLite file, with a notice.
- The job queue: ``PORTAL_JOBS_URL`` when set; else Redis at ``SERVE_REDIS`` (default
  ``redis://127.0.0.1:6379/0``) when it answers; else the queue's default (a SQLite file
  in the instance folder), with a notice.
- Then the migrations and the demo (as ``make run``), and both processes: the web
  server (``--web``) and the worker (``--worker``). Ctrl-C stops both; so does the web
  server's end. A worker command the portal does not have yet is said and skipped.

Plain http on 127.0.0.1: session cookies without ``Secure``, links at
``http://127.0.0.1:<port>``. ``PORTAL_SECRET_KEY``, unless set, is the instance's own key
(``instance/secret_key``), passed to both processes as production passes it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/ismet_portal"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
STOP_WAIT = 15  # seconds each process gets to stop before it is killed


def say(message: str) -> None:
    print(f"serve: {message}", flush=True)


def postgres_database(url: str) -> str | None:
    """``url`` when its server answers (its database created when missing), else None."""
    target = sa.engine.make_url(url)
    server = target.set(database="postgres")
    engine = sa.create_engine(
        server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with engine.connect() as connection:
            exists = connection.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            )
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
                say(f"created the database {target.database}")
    except sa.exc.SQLAlchemyError as error:
        shown = server.render_as_string(hide_password=True)
        say(f"PostgreSQL does not answer at {shown}: {type(error.__cause__ or error).__name__}")
        return None
    finally:
        engine.dispose()
    return url


def redis_answers(url: str) -> bool:
    """Whether a Redis server answers PING at ``url``'s host and port."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 3) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def secret_key(env: dict[str, str]) -> str:
    """The instance's own key (``<instance>/secret_key``, the one ``make run`` uses; made
    once, for this account alone), given to both processes as production gives it."""
    instance = Path(env.get("PORTAL_INSTANCE_PATH") or REPO / "instance")
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="ascii").strip()


def environment(port: int) -> dict[str, str]:
    """The settings both processes run with."""
    env = dict(os.environ)
    if not env.get("PORTAL_SECRET_KEY"):
        env["PORTAL_SECRET_KEY"] = secret_key(env)
    env.setdefault("PORTAL_PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    env.setdefault("PORTAL_SESSION_COOKIE_SECURE", "false")
    env.setdefault("GUNICORN_BIND", f"127.0.0.1:{port}")
    env.setdefault("GUNICORN_WORKERS", "2")
    if "PORTAL_SQLALCHEMY_DATABASE_URI" in env:
        say("database: PORTAL_SQLALCHEMY_DATABASE_URI as set")
    else:
        url = postgres_database(env.get("SERVE_POSTGRES", DEFAULT_POSTGRES))
        if url:
            env["PORTAL_SQLALCHEMY_DATABASE_URI"] = url
            say(f"database: PostgreSQL, {sa.engine.make_url(url).database}")
        else:
            say("NOTICE: database: the instance folder's SQLite file (portal.sqlite3)")
    if "PORTAL_JOBS_URL" in env:
        say("job queue: PORTAL_JOBS_URL as set")
    else:
        redis = env.get("SERVE_REDIS", DEFAULT_REDIS)
        if redis_answers(redis):
            env["PORTAL_JOBS_URL"] = redis
            say(f"job queue: Redis, {redis}")
        else:
            say(
                f"NOTICE: Redis does not answer at {redis}: the job queue's default "
                "(a SQLite file in the instance folder)"
            )
    return env


def run(command: list[str], env: dict[str, str]) -> None:
    say("$ " + shlex.join(command))
    subprocess.run(command, env=env, check=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def stop(processes: dict[str, subprocess.Popen]) -> None:
    """Ask each running process to stop (INT, as Ctrl-C), then kill what is left."""
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_WAIT
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop in {STOP_WAIT} s: killed")
            process.kill()
            process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--flask", required=True, help="the flask command, e.g. '.venv/bin/flask --app wsgi'"
    )
    parser.add_argument("--web", required=True, help="the web server's command")
    parser.add_argument("--worker", required=True, help="the job worker's command")
    args = parser.parse_args()
    # Ctrl-C, and TERM (a supervisor, `kill`), stop both processes; also when started
    # from a shell in the background, which would leave INT ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    flask = shlex.split(args.flask)
    env = environment(args.port)
    run([*flask, "db", "upgrade"], env)
    run([*flask, "demo"], env)

    processes: dict[str, subprocess.Popen] = {}
    try:
        say("$ " + args.web)
        processes["web"] = subprocess.Popen(shlex.split(args.web), env=env)
        say("$ " + args.worker)
        processes["worker"] = subprocess.Popen(shlex.split(args.worker), env=env)
        say(f"serving the portal on {env['PORTAL_PUBLIC_BASE_URL']}/ (Ctrl-C stops)")
        while True:
            for name, process in processes.items():
                code = process.poll()
                if code is not None:
                    say(f"the {name} process ended ({code}): stopping")
                    return code or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        say("stopping")
        return 0
    finally:
        stop(processes)


if __name__ == "__main__":
    sys.exit(main())
