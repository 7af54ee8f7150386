"""Settings, read from the environment (12-factor).

Development is the default: SQLite under ``var/``, a secret key generated once and kept in
``var/secret_key``, DEBUG off unless asked. Production mode (``PACING_PRODUCTION=1``) refuses to
start without an explicit ``SECRET_KEY`` or without the secrets key (``PACING_SECRETS_KEY`` or
``PACING_SECRETS_KEY_FILE``), and turns on the secure-cookie settings.

| variable                   | meaning                                                   | default                   |
|----------------------------|-----------------------------------------------------------|---------------------------|
| PACING_PRODUCTION          | production mode                                           | off                       |
| PACING_VAR_DIR             | SQLite file, secret keys, static files, embedded Redis    | ./var                     |
| PACING_STATIC_ROOT         | where collectstatic puts the static files                 | PACING_VAR_DIR/static     |
| SECRET_KEY                 | Django's secret key (required in production)              | generated into var/       |
| PACING_SECRETS_KEY         | Fernet key(s) of stored secrets (required in production)  | generated into var/       |
| PACING_SECRETS_KEY_FILE    | file holding them, read if PACING_SECRETS_KEY is unset    | unset                     |
| DEBUG                      | Django debug pages                                        | off                       |
| ALLOWED_HOSTS              | comma-separated host names                                | localhost,127.0.0.1,[::1] |
| CSRF_TRUSTED_ORIGINS       | comma-separated origins trusted for CSRF                  | none                      |
| DATABASE_URL               | database                                                  | sqlite:///var/db.sqlite3  |
| DATABASE_CONN_MAX_AGE      | seconds a connection is kept (SQLite: always 0)           | 60                        |
| TIME_ZONE                  | Django's time zone                                        | UTC                       |
| PACING_API_MAX_BODY        | largest API request body, bytes                           | 16 MiB                    |
| PACING_IMPORT_BACKGROUND_BYTES | config imports larger than this run as background jobs | 1 MiB                     |
| REDIS_URL                  | Redis of the stats store; Celery's broker when set; also  | unset: embedded Redis     |
|                            | redis+sentinel://h:p,h:p/<service>[/<db>] (Sentinel)      |                           |
| REDIS_SENTINELS            | instead of REDIS_URL: sentinels, host:port,host:port,…    | unset                     |
| REDIS_SENTINEL_SERVICE     | the master's name the sentinels monitor                   | mymaster                  |
| REDIS_SENTINEL_DB          | database number, with REDIS_SENTINELS                     | 0                         |
| REDIS_PASSWORD             | the Redis servers' password when the URL has none         | unset                     |
| REDIS_SENTINEL_PASSWORD    | the sentinels' own password (requirepass), if any         | unset                     |
| SESSION_COOKIE_SECURE      | secure session cookie (read in production only)           | on in production          |
| CSRF_COOKIE_SECURE         | secure CSRF cookie (read in production only)              | on in production          |
| SECURE_SSL_REDIRECT        | redirect HTTP to HTTPS (production only; not the probes)   | on in production          |
| PACING_BEHIND_PROXY        | trust X-Forwarded-Proto from the proxy (production only)  | on in production          |
| SECURE_HSTS_SECONDS        | HSTS max-age (production only; 0: no HSTS header)         | 31536000 in production    |
| SECURE_HSTS_INCLUDE_SUBDOMAINS | HSTS for subdomains too (production only)             | on in production          |
| SECURE_HSTS_PRELOAD        | HSTS preload flag (production only)                       | on in production          |
| PACING_CLUSTER             | the pacing cluster the image provisions at start          | unset                     |
| PACING_LOAD_DEMO           | the image loads the demo configuration at start           | off                       |
| PACING_LOGIN_FAILURES      | failed logins of one name that lock it (an address: 4x)   | 5                         |
| PACING_LOGIN_WINDOW_S      | the window they are counted in, and the lock's length      | 900                       |
| PACING_PROXY_HOPS          | trusted proxies in front: the client is X-Forwarded-For's  | 0 (REMOTE_ADDR)           |
|                            | entry that many places from the right                     |                           |
| LOG_LEVEL                  | root log level                                            | INFO                      |
| PACING_STATS_MAX_AGE_S     | stats older than this (s), or missing, are stale          | 30                        |
| PACING_TARGETS_CACHE_TTL_S | longest reuse of discovered targets, seconds              | 60                        |
| PACING_REDIS_PREFIX        | prefix of the pacing service's Redis keys                 | pacing                    |
| PACING_HISTORY_CYCLES      | cycle summaries kept per pacing cluster                   | 2880                      |
| PACING_HISTORY_RESULTS     | cycles whose per-target results are kept per cluster      | 120                       |
| PACING_HISTORY_HOUR_STEP_S | step (s) of the dashboard charts' last hour per target    | 20                        |
| PACING_NODE_NAME           | pacing node name outside a Celery worker                  | the host name             |
| CELERY_WORKER_POOL         | Celery pool of a pacing node                              | threads                   |
| CELERY_WORKER_CONCURRENCY  | threads of a pacing node                                  | 4                         |
| PACING_CHANGE_HISTORY_DAYS | change records kept this many days (0: for ever)          | 365                       |
| PACING_ALARM_HISTORY       | cleared alarms kept as history                            | 10000                     |
| PACING_METRICS_ALLOW       | addresses / networks that may read /metrics               | unset: any                |
| PACING_SYSLOG              | syslog sink, udp://host:514 or tcp://host:601             | unset: off                |
| PACING_ALARM_WEBHOOK       | webhook sink, an http(s) URL                              | unset: off                |
| PACING_ALARM_WEBHOOK_TOKEN | bearer token of the webhook                               | unset                     |
| PACING_SINK_QUEUE          | events a network sink holds while slow or down            | 1000                      |
| PACING_MEMORY_LIMIT_MB     | the limit the heap threshold is a fraction of             | cgroup limit, else RAM    |
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from configdb import redis_target as _redis_target  # pure: parses the Redis target, no models

BASE_DIR = Path(__file__).resolve().parent.parent
_TRUE = {"1", "true", "yes", "on"}


def env_flag(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in _TRUE


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PRODUCTION = env_flag("PACING_PRODUCTION")
VAR_DIR = Path(os.environ.get("PACING_VAR_DIR", BASE_DIR / "var")).resolve()


def _secret_key() -> str:
    """The key from SECRET_KEY; in development, one generated once and kept under var/."""
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production mode (PACING_PRODUCTION=1) needs an explicit "
            "SECRET_KEY in the environment."
        )
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()


def _secrets_keys() -> list[str]:
    """Fernet keys that encrypt stored secrets (first one encrypts; all decrypt, for rotation).

    From PACING_SECRETS_KEY (comma-separated) or the file named by PACING_SECRETS_KEY_FILE; in
    development, one generated once into var/secrets.key; in production, missing is an error.
    """
    from cryptography.fernet import Fernet

    raw = os.environ.get("PACING_SECRETS_KEY", "").strip()
    key_file = os.environ.get("PACING_SECRETS_KEY_FILE", "").strip()
    if not raw and key_file:
        try:
            raw = Path(key_file).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"PACING_SECRETS_KEY_FILE: cannot read {key_file}: {exc.strerror}.") from None
    if not raw:
        if PRODUCTION:
            raise ImproperlyConfigured(
                "PACING_SECRETS_KEY (or PACING_SECRETS_KEY_FILE) is not set. Production mode needs the key that "
                "encrypts stored secrets; make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            )
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path = VAR_DIR / "secrets.key"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(Fernet.generate_key().decode())
        raw = path.read_text().strip()
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"PACING_SECRETS_KEY: key {number} is not a Fernet key (32 url-safe base64-encoded bytes)."
            ) from None
    return keys


PACING_SECRETS_KEYS = _secrets_keys()
DEBUG = env_flag("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "pacingsite.apps.PacingAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pacingsite",
    "provisioning",
    "pacing",
    "alarms",
    "configdb",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "pacingsite.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "pacingsite.middleware.ActorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "pacingsite.urls"
WSGI_APPLICATION = "pacingsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "pacingsite" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Fit for a few concurrent administrators (ours): WAL lets readers go on while one request writes;
    # every transaction starts IMMEDIATE, taking the write lock at BEGIN, so two writers queue up instead of
    # failing at their first write with "database is locked"; a writer waits up to 20 s for the lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    })
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Password logins go through the throttled backend (pacingsite/throttle.py): a few failures lock the name tried
AUTHENTICATION_BACKENDS = ["pacingsite.throttle.ThrottledModelBackend"]
PACING_LOGIN_FAILURES = int(os.environ.get("PACING_LOGIN_FAILURES", "5"))
PACING_LOGIN_WINDOW_S = float(os.environ.get("PACING_LOGIN_WINDOW_S", "900"))
PACING_PROXY_HOPS = int(os.environ.get("PACING_PROXY_HOPS", "0"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# the image collects them at build time outside its data volume (Dockerfile: PACING_STATIC_ROOT=/app/static)
STATIC_ROOT = Path(os.environ.get("PACING_STATIC_ROOT") or VAR_DIR / "static").resolve()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Outside production, serve straight from the apps' static folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "pacingsite.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["configdb.api.base.StrictJSONParser"],
    # JSON first: what a script gets without an Accept header (or with */*); a browser asking for text/html
    # gets DRF's browsable API, signed in with the admin's session (docs/api.md).
    "DEFAULT_RENDERER_CLASSES": ["configdb.api.base.OrjsonRenderer", "configdb.api.base.BrowsableAPIRenderer"],
    "DEFAULT_PAGINATION_CLASS": "configdb.api.base.OrderedLimitOffsetPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "configdb.api.base.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pacing Console API",
    # Swagger UI reads the description as Markdown: the header goes in a code span, or its <key> is taken
    # for an HTML tag and vanishes.
    "DESCRIPTION": "Configuration Server objects, pacing targets and stats. Authenticate with the header "
                   "`Authorization: Token <key>` (the key from `manage.py api_token issue`) or a session.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name (state) or a value set (category / severity) get one name each.
    "ENUM_NAME_OVERRIDES": {
        "StateEnum": "configdb.models.base.State",
        "AlarmStateEnum": "alarms.models.AlarmState",
        "AlarmCategoryEnum": "configdb.models.alarms.AlarmCategory",
        "ImportJobStateEnum": "configdb.models.jobs.JobState",
    },
}
PACING_API_MAX_BODY = int(os.environ.get("PACING_API_MAX_BODY", str(16 * 1024 * 1024)))
PACING_API_MAX_BULK = 20_000
# A configuration import whose request body is larger than this (bytes) runs as a background job (202 and a
# progress URL) instead of within the request (docs/config-transfer.md). 1 MiB is 2,000 to 5,000 exported objects
# (an exported object takes 200 to 550 bytes): seconds of import, well inside a web worker's 30 s timeout.
PACING_IMPORT_BACKGROUND_BYTES = int(os.environ.get("PACING_IMPORT_BACKGROUND_BYTES", str(1024 * 1024)))

# Redis: an explicit URL, Redis Sentinel (a redis+sentinel:// URL, or REDIS_SENTINELS and its companions, kept as
# the equivalent URL), or (unset) the embedded one the pacing app starts for itself. configdb/redis_target.py
# parses it (a bad value stops here, naming the variable) and builds every client and the broker's URL.
REDIS_URL = _redis_target.environ_url(os.environ)
REDIS_PASSWORD = os.environ.get("REDIS_PASSWORD", "").strip()
REDIS_SENTINEL_PASSWORD = os.environ.get("REDIS_SENTINEL_PASSWORD", "").strip()
CELERY_BROKER_URL, _broker_options = _redis_target.celery_broker(_redis_target.parse(
    REDIS_URL, password=REDIS_PASSWORD, sentinel_password=REDIS_SENTINEL_PASSWORD) if REDIS_URL else None)
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# A pacing node is one process (pacingsite/celery.py): threads share its lease and caches; 4 threads let the
# dispatch run beside a long cycle. Beat keeps its schedule in memory (no celerybeat-schedule file).
CELERY_WORKER_POOL = os.environ.get("CELERY_WORKER_POOL", "threads")
CELERY_WORKER_CONCURRENCY = int(os.environ.get("CELERY_WORKER_CONCURRENCY", "4"))
CELERY_BEAT_SCHEDULER = "celery.beat:Scheduler"
CELERY_TASK_IGNORE_RESULT = True
# Background configuration imports go to their own queue, which every pacing node consumes (pacingsite/celery.py).
CELERY_TASK_ROUTES = {"configdb.import_job": {"queue": "configdb.jobs"}}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# No ack emulation on the Redis broker. Every task here acks when a node receives it (no acks_late: a pacing
# cycle is worth nothing a second later, and an import job records its own state), so kombu's emulation only
# adds a Redis round trip per ack, and an ack that fails while Redis is down leaves a message "unacked" that
# kombu 5.x then tries to restore while it closes the connection, and that crashes the worker ("Unrecoverable
# error: 'NoneType' object has no attribute 'hostname'"; tests/chaos/test_failover.py::test_redis_restart).
# Sentinel adds kombu's master_name and how to reach the sentinels (configdb/redis_target.py, celery_broker).
CELERY_BROKER_TRANSPORT_OPTIONS = {**_broker_options, "ack_emulation": False}

# Upload limits: an options file or template is small; refuse anything large before parsing it. A form may
# still carry the largest object the model allows: the admin's options editor posts three fields per row
# (section, key, value) and an application has two tables (options, annex) of at most configdb.options.MAX_KEYS
# (10,000) rows each: 60,000 fields and a margin for the rest of the form; ~8 MiB of them (tests/configdb/
# test_admin.py saves such an object).
DATA_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2 * 3 * 10_000 + 1000

if PRODUCTION:
    # Production serves HTTPS only (docs/deployment.md): TLS ends at the proxy or load balancer in front, which
    # says so in X-Forwarded-Proto; plain HTTP is redirected, except the probes a load balancer or an
    # orchestrator sends to the container's own port (health, readiness, metrics).
    SESSION_COOKIE_SECURE = env_flag("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_flag("CSRF_COOKIE_SECURE", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    if env_flag("PACING_BEHIND_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_flag("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_secrets": {"()": "pacingsite.logfilters.RedactSecretsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# --- Alarms and monitoring (alarms/, pacingsite/metrics.py) -----------------------------------------------------
# Cleared alarms kept as history (the newest N); older ones are deleted as new ones clear.
PACING_ALARM_HISTORY = int(os.environ.get("PACING_ALARM_HISTORY", "10000"))
# change records older than this are deleted by the upkeep task (pacing/retention.py); 0 keeps them for ever
PACING_CHANGE_HISTORY_DAYS = int(os.environ.get("PACING_CHANGE_HISTORY_DAYS", "365"))


def _metrics_allow() -> list:
    """PACING_METRICS_ALLOW: comma-separated addresses or CIDR networks that may read /metrics (unset: any)."""
    import ipaddress

    networks = []
    for item in env_list("PACING_METRICS_ALLOW", ""):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"PACING_METRICS_ALLOW: {item!r} is not an IP address or network "
                                       "(e.g. 127.0.0.1, 10.0.0.0/8).") from None
    return networks


PACING_METRICS_ALLOW = _metrics_allow()

# --- Pacing targets and stats store (pacing/targets.py, pacing/stats.py, pacing/redis.py) ---------------------
# Stats older than this (seconds), or missing, are stale: the target is sent 0 invitations.
PACING_STATS_MAX_AGE_S = float(os.environ.get("PACING_STATS_MAX_AGE_S", "30"))
# Discovered targets are cached per process and reloaded when the configuration version changes; this
# time-to-live (seconds) also catches writes that send no signals (bulk_create, QuerySet.update, raw SQL).
PACING_TARGETS_CACHE_TTL_S = float(os.environ.get("PACING_TARGETS_CACHE_TTL_S", "60"))
# Prefix of the pacing service's Redis keys: <prefix>:t<tenant id>:stats, <prefix>:t<tenant id>:invitations,
# <prefix>:cluster:<cluster>:…, <prefix>:lease:{<cluster>}:… (docs/runtime.md).
PACING_REDIS_PREFIX = os.environ.get("PACING_REDIS_PREFIX", "pacing")

# --- The pacing cycle's history in Redis (pacing/history.py) -----------------------------------------------------
# Cycle summaries kept per cluster (2,880: four hours at 5 s), and cycles whose per-target results are kept.
PACING_HISTORY_CYCLES = int(os.environ.get("PACING_HISTORY_CYCLES", "2880"))
PACING_HISTORY_RESULTS = int(os.environ.get("PACING_HISTORY_RESULTS", "120"))
# The dashboard charts' last hour: one point per target per step (seconds; docs/dashboard.md, "The last hour").
PACING_HISTORY_HOUR_STEP_S = int(os.environ.get("PACING_HISTORY_HOUR_STEP_S", "20"))

# --- Alarm sinks (alarms/sinks) ------------------------------------------------------------------------------------
# The Message Server role. Every event goes to the structured log (logger pacing.events); these add network sinks.
# The values are kept as text: alarms.sinks checks them and logs a bad one once, naming it (the others still work).
# Syslog, RFC 5424: udp://host:514 or tcp://host:601 (octet-counting framing), optionally ?facility=local0.
PACING_SYSLOG = os.environ.get("PACING_SYSLOG", "")
# Webhook: each event POSTed as JSON to this http(s) URL (urllib3 retries with backoff, a timeout per attempt).
PACING_ALARM_WEBHOOK = os.environ.get("PACING_ALARM_WEBHOOK", "")
# Sent as 'Authorization: Bearer <token>' to the webhook when set; never logged.
PACING_ALARM_WEBHOOK_TOKEN = os.environ.get("PACING_ALARM_WEBHOOK_TOKEN", "")
# Events each network sink holds while it is slow or down; when full, the oldest is dropped (and counted).
PACING_SINK_QUEUE = os.environ.get("PACING_SINK_QUEUE", "1000")
# The redactor every payload's text passes through before it leaves (the one the log handlers use).
PACING_SINK_REDACT = "pacingsite.logfilters.redact"
# The limit metrics/heapMemoryUsage.threshold is a fraction of (MB); unset: the cgroup limit, else physical memory.
PACING_MEMORY_LIMIT_MB = os.environ.get("PACING_MEMORY_LIMIT_MB", "")
