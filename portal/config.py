"""Default settings.

Every value here can be overridden, in this order, by ``instance/config.py`` and by
``PORTAL_<NAME>`` environment variables (values parsed as JSON where they can be,
e.g. ``PORTAL_MAIL_PORT=2525``). Tests pass their own mapping to ``create_app``.
"""

from __future__ import annotations

# Languages of the public site, the first one being the default.
LANGUAGES = ("kk", "ru")
BABEL_DEFAULT_LOCALE = "kk"
BABEL_DEFAULT_TIMEZONE = "Asia/Almaty"
# The campaign's own time zone: dates such as "the 20th of the next month" are
# calendar dates in Kazakhstan.
CAMPAIGN_TIMEZONE = "Asia/Almaty"

# Set from the instance folder by create_app when left as None.
SQLALCHEMY_DATABASE_URI: str | None = None
UPLOAD_FOLDER: str | None = None
# Signs sessions, CSRF tokens and links, and derives each draw's entry-code key: set it
# (PORTAL_SECRET_KEY), the same on every app server. Without it the portal refuses to
# start, unless INSTANCE_SECRET_KEY is true (`make run` and the Makefile's other
# development commands set it) or in debug or test mode: then a key is generated once
# into instance/secret_key, good for one machine only.
SECRET_KEY: str | None = None
INSTANCE_SECRET_KEY = False

# Where files are kept (winners' scans and photos, uploaded month files): unset, the
# folder UPLOAD_FOLDER; "file:///srv/portal/files", another folder (one that every app
# server mounts); "s3://bucket" or "s3://bucket/prefix", an S3-compatible bucket, for
# several app servers (portal/services/storage.py).
STORAGE_URL: str | None = None
# The S3 store: its address (unset: AWS itself), region, and credentials (unset: boto3's
# usual ones, the AWS_* variables, ~/.aws or an instance role). "path" addressing
# (https://host/bucket/key) suits most S3-compatible stores reached by a host name.
S3_ENDPOINT_URL: str | None = None
S3_REGION: str | None = None
S3_ACCESS_KEY_ID: str | None = None
S3_SECRET_ACCESS_KEY: str | None = None
S3_ADDRESSING_STYLE: str | None = None  # "path", "virtual" or "auto" (unset)

SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
# SQLite only: how many seconds a writing transaction waits for another one to end
# before it gives up with "database is locked" (the database runs in WAL mode, its
# writing transactions start with BEGIN IMMEDIATE: see portal/models/base.py).
SQLITE_BUSY_TIMEOUT = 30
MAX_CONTENT_LENGTH = 32 * 1024 * 1024
# A month of activity data may be larger than other requests (1,000,000 rows ~ 130 MB).
IMPORT_MAX_BYTES = 256 * 1024 * 1024
# ... and at most this many rows after its header (its header: at most 64 columns).
IMPORT_MAX_ROWS = 1_000_000

# The job queue (portal/services/jobs.py, run by `flask jobs worker`): None is a SQLite
# file, <instance>/jobs.sqlite3, with no server (make run, one machine); production:
# "redis://host:6379/0". Imports, outgoing mail, deadline notices and photos are jobs.
JOBS_URL: str | None = None
# On, every job runs at once inside the call that enqueues it (tests, debugging), in
# memory: no worker needed, nothing queued.
JOBS_IMMEDIATE = False
# Threads of `flask jobs worker` (its --workers): an import holds one while it runs.
JOBS_WORKERS = 2
# A running import writes a heartbeat every JOBS_HEARTBEAT_SECONDS; one whose heartbeat
# is older than JOBS_STALE_SECONDS (its worker killed) is failed by the sweep, which the
# worker runs when it starts and every minute.
JOBS_HEARTBEAT_SECONDS = 5
JOBS_STALE_SECONDS = 30
# A port on 127.0.0.1 where `flask jobs worker` serves its own Prometheus figures (each
# job's outcome and duration: portal/jobs/metrics.py); None: not served.
JOBS_METRICS_PORT: int | None = None

# How staff passwords are hashed (werkzeug's method string). Checking reads the method
# from the stored hash, so changing this only affects passwords set afterwards. Tests
# use a cheap one to sign in quickly; production keeps scrypt.
PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - a hashing method's name

# How many reverse proxies in front of the portal to trust: each one's X-Forwarded-For,
# -Proto, -Host and -Prefix are then read (Werkzeug's ProxyFix), so that lock-outs, rate
# limits and the audit trail see the real client's address. 0 trusts none: the headers
# are ignored, since anyone can send them. Set it to the number of proxies that add these
# headers (1 for one nginx in front), never more.
TRUSTED_PROXY_COUNT = 0

# A staff member's session (kept on the server, see portal/campaign/staff.py) ends after
# this many minutes without a request, and this many hours after sign-in in any case.
SESSION_IDLE_MINUTES = 30
SESSION_MAX_HOURS = 12

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# None: secure everywhere but in debug or tests (set false for plain http on 127.0.0.1).
SESSION_COOKIE_SECURE: bool | None = None
WTF_CSRF_TIME_LIMIT = None
# Sent with every answer to an https request (browsers ignore it over http): browsers
# then never use http for this site again, for a year, nor for its subdomains. None:
# not sent (a site whose subdomains are not all on https may drop includeSubDomains).
STRICT_TRANSPORT_SECURITY: str | None = "max-age=31536000; includeSubDomains"

# Cookie that remembers the visitor's language choice.
LANGUAGE_COOKIE = "lang"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600

# Static files get their content hash in the URL, so they can be cached for long.
SEND_FILE_MAX_AGE_DEFAULT = 365 * 24 * 3600

# The public pages' cache (portal/web/pagecache.py, docs/DESIGN.md "Public pages cache"):
# anonymous visitors' public pages rendered once per change and served from each app
# server's memory. How often (seconds) a worker looks at the content's generation in the
# database (a change made by another process shows within this; one made by its own
# process at once); how old an entry may be served at most; the memory it may take per
# worker and per page; what browsers and proxies are told (they revalidate each time:
# a 304 when nothing changed).
PUBLIC_CACHE = True
PUBLIC_CACHE_CHECK_SECONDS = 1.0
PUBLIC_CACHE_MAX_AGE_SECONDS = 600.0
PUBLIC_CACHE_MAX_BYTES = 64 * 1024 * 1024
PUBLIC_CACHE_MAX_ENTRY_BYTES = 2 * 1024 * 1024
PUBLIC_CACHE_CONTROL = "public, no-cache"

# How long the notice of a rules change stays on the rules pages.
RULES_CHANGE_NOTICE_DAYS = 30

# The public site's address (a path prefix allowed), for every absolute link it writes:
# protocols, e-mails, feeds, the CLI (portal.web.urls). Set it in production. Without
# it a request's own host where that host is trusted (TRUSTED_HOSTS set, or debug and
# tests), and elsewhere (`flask draw run`, or a request naming any host) DEFAULT_BASE_URL.
PUBLIC_BASE_URL: str | None = None
# The hosts the site answers at (e.g. ["ismet.kz", "www.ismet.kz"]; ".ismet.kz" also
# takes its subdomains, the port is not compared): a request naming another host in
# its Host header gets a 400 (Flask's own check). None: any host is answered, and then
# no link is ever written at the request's host outside debug and tests.
TRUSTED_HOSTS: list[str] | None = None
# The address written where neither PUBLIC_BASE_URL nor a trusted request host gives
# one (a command making a protocol or an e-mail; a request in production without
# TRUSTED_HOSTS), so that no document carries a bare path or a host a visitor made up:
# the portal the rules name (rule 7). Its use is logged as a warning; None writes the
# path alone.
DEFAULT_BASE_URL: str | None = "https://ismet.kz"

# The organizer, as every protocol and act, the public pages' footer, the Atom feed and
# every e-mail name it: one source. The name is the rules' own (rule 16); the others are
# the organizer's registration details and contacts, which no file here can know: set
# them (instance/config.py or PORTAL_ORGANIZER_*) before the first draw. Unset, they are
# left out.
ORGANIZER_NAME_KK = "«Қазақтелеком» АҚ филиалы – Корпоративтік бизнес жөніндегі дивизион"
ORGANIZER_NAME_RU = "Филиал АО «Казахтелеком» – Дивизион по корпоративному бизнесу"
ORGANIZER_BIN: str | None = None  # 12 digits
ORGANIZER_ADDRESS_KK: str | None = None
ORGANIZER_ADDRESS_RU: str | None = None
# Who signs the acts for the organizer, and in what capacity.
ORGANIZER_SIGNATORY_KK: str | None = None
ORGANIZER_SIGNATORY_RU: str | None = None
ORGANIZER_SIGNATORY_POSITION_KK: str | None = None
ORGANIZER_SIGNATORY_POSITION_RU: str | None = None
ORGANIZER_HOTLINE: str | None = None  # a telephone number, as it is dialled
ORGANIZER_EMAIL: str | None = None

RANDOM_ORG_API_KEY: str | None = None
RANDOM_ORG_URL = "https://api.random.org/json-rpc/4/invoke"
RANDOM_ORG_PUBLIC_KEY: str | None = None  # PEM text or a file; None: the pinned key shipped
RANDOM_ORG_TIMEOUT = (5.0, 30.0)  # seconds to connect, to read
RANDOM_ORG_RETRIES = 3  # after network errors and 5xx answers, with backoff
RANDOM_ORG_BACKOFF = 1.0
# The pool of a draw is announced (published: its size and SHA-256, with the time) before
# the draw; the draw may be confirmed only this many minutes after (0 in the demo and
# the tests). The announcement says from when.
DRAW_ANNOUNCEMENT_WAIT_MINUTES = 60

MAIL_SERVER = "localhost"
MAIL_PORT = 25
MAIL_USE_TLS = False
MAIL_USERNAME: str | None = None
MAIL_PASSWORD: str | None = None
MAIL_DEFAULT_SENDER = "Ismet.kz <no-reply@ismet.kz>"
MAIL_TIMEOUT = 30  # seconds, for connecting to and talking with the SMTP server
MARKETING_MANAGER_EMAIL: str | None = None

# A folder (or file) of NCA RK CA certificates; None: portal/services/eds/trust/production/.
# The app does not start when one of them is unreadable or expired (/readyz checks again).
EDS_TRUST_ANCHORS: str | None = None
# True only to check old signatures at their own time with expired CAs (NCA's old test
# CAs in trust/test/, `flask eds verify --at`): expired anchors are then let through.
EDS_ALLOW_EXPIRED_ANCHORS = False
# A signature without an RFC 3161 timestamp from NCA's time-stamping authority: False,
# accepted and marked "no timestamp" (its time is the signer's word); True, refused.
EDS_REQUIRE_TIMESTAMP = False
EDS_OCSP_URL: str | None = None
# An NCANode 3 server (e.g. "http://127.0.0.1:14579") to check GOST 34.310-2004 signatures.
EDS_NCANODE_URL: str | None = None
# Where the winner's page finds NCALayer (the NCA RK's signing application on the winner's
# own computer); the page's Content-Security-Policy allows connecting to it (connect-src).
# The browser tests point it at their stand-in (ws://127.0.0.1:<port>).
EDS_NCALAYER_URL = "wss://127.0.0.1:13579"
# When OCSP fails or answers "try again": the issuing CA's CRL (from the certificate's
# distribution point) decides instead. Only with EDS_OCSP_URL set (no OCSP, no revocation
# check). The CRLs are cached in EDS_CRL_CACHE (default: the instance folder's eds-crl/),
# one file per URL, reused until their nextUpdate.
EDS_CRL_FALLBACK = True
EDS_CRL_CACHE: str | None = None

# eGov Mobile QR signing of the act (portal/services/egov_qr.py, docs/DESIGN.md): a
# signing session's QR code is good for this many minutes, and once.
EDS_QR_MINUTES = 10
# "egov": the portal serves the app's API 1 and API 2 itself (its domain must be on
# eGov's allowed list); "sigex": SIGEX's hosted service at SIGEX_URL serves them, for a
# domain not yet registered with eGov.
EDS_QR_PROVIDER = "egov"
SIGEX_URL = "https://sigex.kz"
SIGEX_TIMEOUT = (5.0, 15.0)  # seconds to connect, to read (registering a QR)
# How long the worker waits for the phone to take the act and to sign it (SIGEX blocks).
SIGEX_WAIT_SECONDS = 600
# The organizer's name in English, which eGov Mobile shows beside the Kazakh and the
# Russian ones; unset: the Russian name.
ORGANIZER_NAME_EN: str | None = "Kazakhtelecom JSC branch – Corporate Business Division"

# --- operating the portal (portal/web/logs.py, metrics.py, health.py; flask backup) ---
# "json": every log record as one JSON line on stderr with the request's id (production);
# "text": Python's and Flask's own logging, untouched (make run).
LOG_FORMAT = "text"
LOG_LEVEL = "INFO"  # the root logger's level with LOG_FORMAT = "json"
# Who may read /metrics: clients in these networks (as seen after TRUSTED_PROXY_COUNT
# proxies), or a request with "Authorization: Bearer <METRICS_TOKEN>" when it is set.
# A request that came through an untrusted proxy (a forwarding header with
# TRUSTED_PROXY_COUNT = 0) is refused without the token, whatever its address.
METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
METRICS_TOKEN: str | None = None
# The PostgreSQL client programs `flask backup` and `flask restore` run (version >= the server's).
PG_DUMP = "pg_dump"
PG_RESTORE = "pg_restore"
