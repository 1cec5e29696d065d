"""The portal as it is deployed: nginx (Debian's package) with deploy/nginx/ismet-portal.conf
in front of gunicorn with gunicorn.conf.py and two workers, the job worker, on a PostgreSQL database of its own, and the stand-in random.org.

Everything runs as the current user in a temporary folder: nginx with ``-p``/``-c``, its
pid, logs and temporary files there, listening on free ports of 127.0.0.1 with a
certificate made here by a test CA; gunicorn on a unix socket there, as the systemd unit
has it. Skipped when the tests do not run on PostgreSQL (``PORTAL_TEST_DATABASE_URL``) or
nginx is missing, except in CI (``CI=true``), where a missing nginx fails.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from requests.adapters import HTTPAdapter

from portal.demo import load_campaign
from portal.demo.randomorg_standin import StandIn
from portal.models import db
from tests.helpers import SECRET_KEY, free_port, make_app

REPO = Path(__file__).resolve().parents[2]
NGINX_SITE = REPO / "deploy" / "nginx" / "ismet-portal.conf"
BIN = Path(sys.executable).parent
NGINX_CANDIDATES = ("/usr/sbin/nginx", "nginx")
STARTUP_WAIT = 30  # seconds for nginx and gunicorn to answer through the proxy
STOP_WAIT = 20  # seconds each process gets to stop before it is killed
# A strong password for the staff the test creates with `flask users create`.
STAFF_PASSWORD = "Tolqyn-ken-dala-2022-steppe"


@dataclass
class Stack:
    """The running stack, as the test walks it."""

    url: str  # https://127.0.0.1:<port>
    http_url: str  # http://127.0.0.1:<port>, which redirects
    ca_file: str  # the test CA that signed nginx's certificate
    database_url: str
    folder: Path
    logs: dict[str, Path]
    staff: dict[str, str] = field(default_factory=dict)  # role -> e-mail
    password: str = STAFF_PASSWORD  # every staff member's
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    socket: Path | None = None  # gunicorn's

    def session(self, source: str = "127.0.0.1") -> requests.Session:
        """A client whose connections leave from ``source`` (any 127.0.0.0/8 address is
        this machine's loopback), so nginx sees it as that client."""
        session = requests.Session()
        # no proxy nor CA bundle from the environment (REQUESTS_CA_BUNDLE would win over
        # ``verify``): only the test CA
        session.trust_env = False
        session.verify = self.ca_file
        # as a browser sends it with a form (over https Flask-WTF wants the same origin)
        session.headers["Referer"] = f"{self.url}/"
        adapter = SourceAddressAdapter(source)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def signal(self, name: str, number: int) -> None:
        """Send a signal to one of the stack's processes (``gunicorn``, ``nginx``, ``worker``)."""
        self.processes[name].send_signal(number)

    def log(self, name: str) -> str:
        return self.logs[name].read_text(encoding="utf-8", errors="replace")

    def logged(self, name: str, text: str, wait: float = 10.0) -> str:
        """The log once it has ``text`` (a server logs a request after answering it);
        fails after ``wait`` seconds."""
        deadline = time.monotonic() + wait
        while text not in (log := self.log(name)):
            assert time.monotonic() < deadline, f"{text!r} not in the {name} log:\n{log[-2000:]}"
            time.sleep(0.1)
        return log


class SourceAddressAdapter(HTTPAdapter):
    """requests' adapter whose connections are bound to one local address."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        return super().init_poolmanager(*args, **kwargs)


# --- what is needed, or the reason to skip ---------------------------------------------


def _nginx() -> str:
    for candidate in NGINX_CANDIDATES:
        path = shutil.which(candidate)
        if path:
            return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(
            "CI=true but nginx is missing (apt-get install nginx): the deployment is not tested"
        )
    pytest.skip("the production-shape test needs Debian's nginx (apt-get install nginx)")


def _postgres_url() -> str:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("the production-shape test runs on PostgreSQL (PORTAL_TEST_DATABASE_URL)")
    if not (BIN / "gunicorn").exists():
        pytest.skip("gunicorn is not installed in the virtualenv")
    return url


# --- a database of its own ---------------------------------------------------------------


def _server_engine(url: str) -> sa.Engine:
    return sa.create_engine(
        sa.engine.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )


def _create_database(base_url: str) -> str:
    name = f"{sa.engine.make_url(base_url).database}_shape_{secrets.token_hex(4)}"
    engine = _server_engine(base_url)
    with engine.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return sa.engine.make_url(base_url).set(database=name).render_as_string(hide_password=False)


def _drop_database(url: str) -> None:
    name = sa.engine.make_url(url).database
    engine = _server_engine(url)
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


# --- a certificate from a test CA --------------------------------------------------------


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA, and nginx's certificate for 127.0.0.1 and localhost signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ismet-portal test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return ca_file, cert_file, key_file


# --- nginx with the shipped site ---------------------------------------------------------


def nginx_site(replacements: dict[str, str], dropped: tuple[str, ...]) -> str:
    """deploy/nginx/ismet-portal.conf with this machine's ports and paths: every text
    replaced must be in the file (a change there is then noticed here), and the lines
    ``dropped`` (IPv6 listeners) too."""
    text = NGINX_SITE.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, f"deploy/nginx/ismet-portal.conf no longer has {old!r}"
        text = text.replace(old, new)
    for line in dropped:
        assert line in text, f"deploy/nginx/ismet-portal.conf no longer has {line!r}"
        text = text.replace(line, "")
    return text


def _nginx_config(folder: Path, http_port: int, https_port: int, socket: Path, cert, key) -> Path:
    """The site inside a main configuration for an nginx run by this user in ``folder``."""
    static = REPO / "portal" / "static"
    site = nginx_site(
        {
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
            "unix:/run/ismet-portal/gunicorn.sock": f"unix:{socket}",
            "/etc/ssl/ismet-portal/fullchain.pem": str(cert),
            "/etc/ssl/ismet-portal/privkey.pem": str(key),
            "/opt/ismet-portal/portal/static/": f"{static}/",
            "/var/log/nginx/ismet-portal.access.log": str(folder / "nginx-access.log"),
            "/var/www/letsencrypt": str(folder / "acme"),
        },
        dropped=("listen [::]:80;", "listen [::]:443 ssl http2;"),
    )
    (folder / "ismet-portal.conf").write_text(site, encoding="utf-8")
    temp = folder / "nginx-temp"
    temp.mkdir()
    config = folder / "nginx.conf"
    # run by root (a container, CI), nginx's workers would become "nobody", which may
    # not open the socket in this user's temporary folder: they stay this user
    user = f"user {pwd.getpwuid(os.getuid()).pw_name};" if os.geteuid() == 0 else ""
    config.write_text(
        f"""# The main configuration of Debian's nginx.conf, reduced to what a user may run.
{user}
daemon off;
master_process on;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "nginx-error.log"} info;
events {{
    worker_connections 256;
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    access_log off;
    client_body_temp_path {temp / "body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};
    include {folder / "ismet-portal.conf"};
}}
""",
        encoding="utf-8",
    )
    return config


# --- the processes -------------------------------------------------------------------------


def _start(name: str, command: list[str], env: dict, folder: Path, logs: dict) -> subprocess.Popen:
    logs[name] = folder / f"{name}.log"
    out = logs[name].open("wb")
    try:
        return subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    finally:
        out.close()


def _stop(processes: dict[str, tuple[subprocess.Popen, int]]) -> None:
    """Each process its stop signal, then a bounded wait, then a kill."""
    for process, stop_signal in processes.values():
        if process.poll() is None:
            process.send_signal(stop_signal)
    deadline = time.monotonic() + STOP_WAIT
    for process, _ in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_WAIT)


def _run(command: list[str], env: dict, **kwargs) -> str:
    done = subprocess.run(
        command,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        **kwargs,
    )
    assert done.returncode == 0, f"{' '.join(command[:4])}… failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _wait_until_served(stack: Stack, processes: dict) -> None:
    """Until the home page answers through nginx (bounded), failing as soon as a process ends."""
    session = stack.session()
    deadline = time.monotonic() + STARTUP_WAIT
    last: object = None
    while True:
        for name, (process, _) in processes.items():
            if process.poll() is not None:
                pytest.fail(f"{name} ended ({process.returncode}):\n{stack.log(name)[-3000:]}")
        try:
            last = session.get(f"{stack.url}/healthz", timeout=5)
            if last.status_code == 200:
                return
        except requests.RequestException as error:
            last = error
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {n}\n{stack.log(n)[-2000:]}" for n in processes)
            pytest.fail(f"no answer through nginx in {STARTUP_WAIT} s ({last!r})\n{logs}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """nginx → gunicorn (2 workers) → PostgreSQL, and the job worker."""
    base_url = _postgres_url()
    nginx = _nginx()
    folder = tmp_path_factory.mktemp("shape")
    database_url = _create_database(base_url)
    processes: dict[str, tuple[subprocess.Popen, int]] = {}
    standin = StandIn().start()
    try:
        https_port, http_port = free_port(), free_port()
        socket = folder / "gunicorn.sock"
        ca_file, cert, key = _certificates(folder)
        config = _nginx_config(folder, http_port, https_port, socket, cert, key)
        url = f"https://127.0.0.1:{https_port}"
        # this machine's environment without its portal and gunicorn settings, then the test's
        inherited = ("PORTAL_", "GUNICORN_", "FORWARDED_ALLOW_IPS", "PROMETHEUS_", "FLASK_")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(inherited)},
            "PORTAL_INSTANCE_PATH": str(folder / "instance"),
            "PORTAL_SQLALCHEMY_DATABASE_URI": database_url,
            "PORTAL_SECRET_KEY": SECRET_KEY,
            "PORTAL_PUBLIC_BASE_URL": url,
            "PORTAL_TRUSTED_HOSTS": '["127.0.0.1", "localhost"]',
            "PORTAL_TRUSTED_PROXY_COUNT": "1",
            "PORTAL_RANDOM_ORG_URL": standin.url,
            "PORTAL_RANDOM_ORG_API_KEY": standin.api_key,
            "PORTAL_RANDOM_ORG_PUBLIC_KEY": standin.public_key_pem,
            "PORTAL_MAIL_SERVER": "127.0.0.1",
            "PORTAL_MAIL_PORT": "9",
            # the commission's draw announces its pool and confirms it at once (the
            # wait itself is tested in tests/test_announcements.py)
            "PORTAL_DRAW_ANNOUNCEMENT_WAIT_MINUTES": "0",
            "GUNICORN_BIND": f"unix:{socket}",
            "GUNICORN_WORKERS": "2",
            "PYTHONUNBUFFERED": "1",
        }
        if os.environ.get("PORTAL_TEST_JOBS_URL"):
            env["PORTAL_JOBS_URL"] = os.environ["PORTAL_TEST_JOBS_URL"]
        flask = [str(BIN / "flask"), "--app", "wsgi"]

        # as an operator deploys: the migrations, the campaign, the staff by the CLI
        _run([*flask, "db", "upgrade"], env)
        app = make_app(database_url, folder / "loader-instance")
        with app.app_context():
            load_campaign()
            db.session.commit()
            db.engine.dispose()
        password_file = folder / "password"
        password_file.write_text(STAFF_PASSWORD + "\n", encoding="utf-8")
        staff = {"marketing": "marketing@ismet.kz", "commission": "commission@ismet.kz"}
        for role, email in staff.items():
            _run(
                [
                    *flask,
                    *("users", "create", "--email", email, "--role", role),
                    *("--language", "ru", "--password-file", str(password_file)),
                ],
                env,
            )

        logs: dict[str, Path] = {}
        processes["gunicorn"] = (
            _start(
                "gunicorn",
                [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "wsgi:app"],
                env,
                folder,
                logs,
            ),
            signal.SIGTERM,
        )
        processes["worker"] = (
            _start("worker", [*flask, "jobs", "worker"], env, folder, logs),
            signal.SIGINT,
        )
        processes["nginx"] = (
            _start(
                "nginx",
                [
                    nginx,
                    "-p",
                    str(folder),
                    "-c",
                    str(config),
                    "-e",
                    str(folder / "nginx-error.log"),
                ],
                env,
                folder,
                logs,
            ),
            signal.SIGQUIT,
        )
        stack = Stack(
            url=url,
            http_url=f"http://127.0.0.1:{http_port}",
            ca_file=str(ca_file),
            database_url=database_url,
            folder=folder,
            logs={**logs, "nginx-access": folder / "nginx-access.log"},
            staff=staff,
            processes={name: process for name, (process, _) in processes.items()},
            socket=socket,
        )
        _wait_until_served(stack, processes)
        yield stack
    finally:
        _stop(processes)
        standin.stop()
        _drop_database(database_url)
