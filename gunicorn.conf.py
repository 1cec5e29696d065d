"""gunicorn's settings for the portal: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Read by the systemd unit (deploy/systemd/ismet-portal-web.service), ``make serve`` and
the end-to-end test (tests/deploy/test_production_shape.py). Every value can be changed
by a ``GUNICORN_*`` environment variable (the env file, /etc/ismet-portal/env), so that
this file stays the same on every server:

- ``GUNICORN_BIND``: where to listen (default 127.0.0.1:8000; the unit sets the unix
  socket nginx proxies to, unix:/run/ismet-portal/gunicorn.sock, which only nginx and the
  portal's own account may open).
- ``GUNICORN_WORKERS``: processes (default 2 × cores + 1, at most 8).
- ``GUNICORN_THREADS``: threads per process (default 4: a draw that waits for random.org,
  or an upload being received, holds one thread, not a whole process).
- ``GUNICORN_TIMEOUT``, ``GUNICORN_GRACEFUL_TIMEOUT``, ``GUNICORN_MAX_REQUESTS``,
  ``GUNICORN_MAX_REQUESTS_JITTER``, ``GUNICORN_KEEPALIVE``, ``GUNICORN_LOG_LEVEL``:
  see below.
- ``FORWARDED_ALLOW_IPS``: gunicorn's own name for the proxies trusted (default the
  loopback). The portal itself trusts ``PORTAL_TRUSTED_PROXY_COUNT`` proxies (1: nginx).

Signals (what systemd sends): HUP starts new workers with the code and this file read
again and retires the old ones gracefully (``systemctl reload ismet-portal-web``);
TERM stops gracefully, waiting at most ``graceful_timeout``.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import multiprocess


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# --- where and how many ----------------------------------------------------------------

wsgi_app = "wsgi:app"
bind = [address.strip() for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")]
# The unix socket is made for the portal's account and its group (nginx's account is a
# member of that group: see README, Deploying); nobody else may connect and so send
# forwarding headers the portal would believe.
umask = 0o007

# Processes: the classic 2 × cores + 1, capped, since each holds its own database pool
# (SQLAlchemy: 5 connections and 10 more at most) and PostgreSQL's max_connections is
# shared with the job worker and the commands.
workers = _int("GUNICORN_WORKERS", min(2 * (os.cpu_count() or 1) + 1, 8))
# Threads: the portal's requests wait on the database, on PDF rendering and, for a draw,
# on random.org (up to RANDOM_ORG_TIMEOUT per try); with threads a waiting request does
# not stop its process from answering the others.
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"

# --- time ------------------------------------------------------------------------------

# A worker silent this long (it stopped updating its heartbeat) is killed and replaced.
# For threaded workers the heartbeat goes on while requests run, so this is not a limit
# on one request; with GUNICORN_THREADS=1 (sync workers) it is, and 120 s then leaves
# time for a 256 MB import upload over a slow line and a draw that retries random.org.
# nginx bounds each request itself (deploy/nginx/ismet-portal.conf).
timeout = _int("GUNICORN_TIMEOUT", 120)
# On reload or stop, requests under way get this long to finish (an upload included)
# before their worker is killed.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 90)
# Keep-alive with nginx's upstream connections (nginx closes them first: its
# keepalive_timeout for the upstream is shorter).
keepalive = _int("GUNICORN_KEEPALIVE", 75)

# Each worker is replaced after about this many requests (the jitter spreads the
# replacements so that the workers do not all restart at once): a slow leak in a
# library never grows for ever. 0 turns it off. A new worker costs about 2 s of a core
# (it imports the portal) and starts with an empty cache of public pages, while a public
# page from that cache costs a fraction of a millisecond: with 2000, a busy server spent
# most of its time starting workers (docs/DESIGN.md, "Public pages cache").
max_requests = _int("GUNICORN_MAX_REQUESTS", 200_000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 20_000)

# --- the app ---------------------------------------------------------------------------

# Not preloaded: each worker imports the portal itself. A preloaded app would save some
# memory and start workers faster, but HUP (systemctl reload) would then keep running
# the code the master loaded at its start, so a deploy would need a full restart and
# drop the requests under way; and nothing opened before the fork (database
# connections, the job queue's client) may be shared by the workers. The portal starts
# in well under a second, so each worker loads it.
preload_app = False

# The heartbeat files on memory, not disk: a busy disk would otherwise stall them.
if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):  # noqa: S108 - memory-backed
    worker_tmp_dir = "/dev/shm"  # noqa: S108

# gunicorn's own reading of X-Forwarded-Proto (wsgi.url_scheme) from these addresses;
# unix socket connections are always trusted (only nginx may connect, see umask).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# gunicorn 25+ opens a control socket under $HOME by default; off, unless asked for
# (two instances on one account would otherwise share it).
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]

# --- logs ------------------------------------------------------------------------------

# Both logs to the standard streams: systemd's journal keeps them (journalctl -u
# ismet-portal-web). The portal's log filter (portal/web/logs.py) masks the tokens of
# private links in the access log's request lines. The client is the address nginx
# saw (X-Forwarded-For), the request id nginx gave the request (X-Request-ID).
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = (
    '%({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}i)s "%(a)s"'
)
# JSON lines (PORTAL_LOG_FORMAT=json, as in production): gunicorn's own messages are
# JSON from the master's start, through python-json-logger's formatter; each worker's
# app then puts the portal's formatter and filters (request id, masked tokens, hidden
# row values) on this same handler (portal/web/logs.py, use_json_logs). gunicorn's
# access log is off then: the app writes one access record a request (portal.access)
# with the request id and without the query string. Nothing of the portal is imported
# here: what the master imports, its workers inherit, and a reload (HUP) would keep
# running the old code.
LOG_FORMAT = os.environ.get("PORTAL_LOG_FORMAT", "text").strip().strip('"')
if LOG_FORMAT == "json":
    accesslog = None
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": ["levelname", "name", "message", "process"],
                "rename_fields": {"levelname": "level", "name": "logger"},
                "timestamp": "time",
            }
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": os.environ.get("PORTAL_LOG_LEVEL", "INFO"), "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }

# --- metrics ---------------------------------------------------------------------------

# Prometheus in multiprocess mode (PROMETHEUS_MULTIPROC_DIR set, as the web unit does):
# every worker writes its figures to files in that folder, which /metrics adds up
# (portal/web/metrics.py). The folder is emptied when the server starts (files of a
# previous run would be counted again) and a worker's live gauges are dropped when it
# exits.
PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def on_starting(server) -> None:
    """In the master, before any worker: an empty metrics folder (see above)."""
    if PROMETHEUS_MULTIPROC_DIR:
        folder = Path(PROMETHEUS_MULTIPROC_DIR)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()


def child_exit(server, worker) -> None:
    """In the master, after a worker exited: its live gauges no longer count."""
    if PROMETHEUS_MULTIPROC_DIR:
        multiprocess.mark_process_dead(worker.pid)
