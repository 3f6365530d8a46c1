"""Settings, read once from the environment.

Every knob an operator may turn is an environment variable; the table in README.md lists
them. Nothing else in the code base reads ``os.environ``.
"""

import os
import ssl
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def _env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def _env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None


def _env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


DEBUG = _env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "django-insecure-dev-only-key-never-use-in-production-0123456789"

ALLOWED_HOSTS = _env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_prometheus",
    "matches",
    "realtime.ops",
    "realtime.dev",
    "frontend",
]

MIDDLEWARE = [
    # Outermost: every request's count and latency, probes included (/metrics/process).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # First: probes answer before the host check and the HTTPS redirect (config/health.py).
    "realtime.ops.health.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost: requests by view, method and status.
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database --------------------------------------------------------------------------------
# SQLite under var/ unless DATABASE_URL says otherwise (postgres://... in production and CI).
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
# No persistent connections: under ASGI each request's sync code may run on another thread, and
# a connection kept per thread outlives its request (Django's docs; docs/benchmarks.md has the
# figures: CONN_MAX_AGE=60 took 78-99 connections where 0 took 31).
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The tick worker, Daphne and the test runner share the file: WAL lets readers run during
    # a write, IMMEDIATE takes the write lock up front so transactions never deadlock on upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not :memory:, so worker processes started by the tests see the test database.
    # One per test run, so that two runs on one machine do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: one URL for the Celery broker, the channel layer and the match state store -------
PRIVATE_REDIS_PORT = int(os.environ.get("PRIVATE_REDIS_PORT", "6390"))
# redis://, rediss:// (TLS) or unix://, with the ACL user and password and the database number;
# with REDIS_SENTINELS its host and port are ignored (the sentinels name the primary).
# Unset means "the private Redis": `make run` and the test runner start it under var/redis/.
REDIS_URL = os.environ.get("REDIS_URL") or f"redis://127.0.0.1:{PRIVATE_REDIS_PORT}/0"
# TLS (rediss://): the CA that signed the server's certificate, and an optional client
# certificate and key for servers that ask for one (tls-auth-clients).
REDIS_TLS_CA_FILE = os.environ.get("REDIS_TLS_CA_FILE", "")
REDIS_TLS_CERT_FILE = os.environ.get("REDIS_TLS_CERT_FILE", "")
REDIS_TLS_KEY_FILE = os.environ.get("REDIS_TLS_KEY_FILE", "")
# Sentinel: host:port of each sentinel, and the name they know the primary by.
REDIS_SENTINELS = [
    (host, int(port))
    for host, _, port in (item.rpartition(":") for item in _env_list("REDIS_SENTINELS", []))
]
REDIS_SENTINEL_MASTER = os.environ.get("REDIS_SENTINEL_MASTER", "arcade")
REDIS_SENTINEL_PASSWORD = os.environ.get("REDIS_SENTINEL_PASSWORD", "")
# The long-lived connections (each Daphne's hub and input pipe, the tick pipeline) send a
# PING after this long without traffic, and one that received nothing for REDIS_DEAD_AFTER_S
# while waiting is taken for dead (a NAT or proxy dropped it silently) and replaced.
REDIS_KEEPALIVE_S = _env_float("REDIS_KEEPALIVE_S", 1.0)
REDIS_DEAD_AFTER_S = _env_float("REDIS_DEAD_AFTER_S", 3.0)
REDIS_IS_PRIVATE = not os.environ.get("REDIS_URL") and not REDIS_SENTINELS
if REDIS_URL.startswith("rediss://") and not REDIS_TLS_CA_FILE:
    raise ImproperlyConfigured("a rediss:// REDIS_URL needs REDIS_TLS_CA_FILE")
_redis_tls = {
    "ssl_ca_certs": REDIS_TLS_CA_FILE,
    "ssl_certfile": REDIS_TLS_CERT_FILE or None,
    "ssl_keyfile": REDIS_TLS_KEY_FILE or None,
}
_redis_parts = urlsplit(REDIS_URL)
_redis_db = int((_redis_parts.path or "/0").strip("/") or 0)

# RedisPubSubChannelLayer, not the core RedisChannelLayer, by measurement (shared FIELD-NOTES):
# a group_send on the core layer is ~4 round trips plus Lua per message, and a publisher doing
# 50 of them per tick overran every 30 Hz tick at 100 clients; on the pub/sub layer group_send
# is one PUBLISH, and each Daphne process subscribes once per group and fans out locally.
# It is at-most-once, which suits state snapshots: the next tick supersedes a lost one.
# Every client speaks RESP2 (protocol 2): redis-py 8 would otherwise negotiate RESP3.
CHANNEL_LAYER_PREFIX = "arcade"
if REDIS_SENTINELS:
    _layer_host = {
        "sentinels": REDIS_SENTINELS, "master_name": REDIS_SENTINEL_MASTER,
        "sentinel_kwargs": {"password": REDIS_SENTINEL_PASSWORD or None, "protocol": 2},
        "username": unquote(_redis_parts.username or "") or None,
        "password": unquote(_redis_parts.password or "") or None,
        "db": _redis_db, "protocol": 2,
    }  # fmt: skip
    if REDIS_URL.startswith("rediss://"):
        _layer_host.update(ssl=True, ssl_cert_reqs="required", **_redis_tls)
else:
    _layer_host = {"address": REDIS_URL, "protocol": 2}
    if REDIS_URL.startswith("rediss://"):
        _layer_host.update(ssl_cert_reqs="required", **_redis_tls)
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [_layer_host], "prefix": CHANNEL_LAYER_PREFIX},
    }
}

# --- Celery ----------------------------------------------------------------------------------
# The transports of realtime/redisconn.py: kombu's, speaking RESP2.
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT = "realtime.redisconn:BrokerTransport"
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
if REDIS_SENTINELS:
    _auth = REDIS_URL.split("://", 1)[1].rpartition("@")[0]
    CELERY_BROKER_URL = ";".join(
        f"sentinel://{_auth + '@' if _auth else ''}{host}:{port}/{_redis_db}"
        for host, port in REDIS_SENTINELS
    )
    CELERY_BROKER_TRANSPORT = "realtime.redisconn:SentinelBrokerTransport"
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        master_name=REDIS_SENTINEL_MASTER,
        sentinel_kwargs={"password": REDIS_SENTINEL_PASSWORD or None, "protocol": 2},
    )
if REDIS_URL.startswith("rediss://"):
    CELERY_BROKER_USE_SSL = {"ssl_cert_reqs": ssl.CERT_REQUIRED, **_redis_tls}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# See docs/operations.md ("Celery settings for long tasks") for why each of these is set.
CELERY_TASK_ACKS_LATE = False
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# --- Game titles -----------------------------------------------------------------------------
# The title packages, as dotted paths (like INSTALLED_APPS); docs/titles.md says what one holds.
ARCADE_TITLES = _env_list(
    "ARCADE_TITLES",
    [
        "matches.titles.pong",
        "matches.titles.snake",
        "matches.titles.arena",
        "matches.titles.zombie",
    ],
)

# --- Match engine ----------------------------------------------------------------------------
MATCH_COUNTDOWN_S = _env_float("MATCH_COUNTDOWN_S", 3.0)
MATCH_LEASE_TTL_S = _env_float("MATCH_LEASE_TTL_S", 1.0)
# A tick worker splits each tick period into this many phase slots; the matches of a slot tick
# together, on two shared pipelines (realtime/engine/scheduler.py). Fewer slots: bigger batches,
# less CPU per tick, longer batches; 1 ticks every match of a rate at once.
TICK_PHASE_SLOTS = _env_int("TICK_PHASE_SLOTS", 8, minimum=1)
MATCH_WAITING_TIMEOUT_S = _env_float("MATCH_WAITING_TIMEOUT_S", 600.0)
MATCH_RETENTION_S = _env_float("MATCH_RETENTION_S", 3600.0)
SUPERVISOR_INTERVAL_S = _env_float("SUPERVISOR_INTERVAL_S", 1.0)
RECONNECT_GRACE_S = _env_float("RECONNECT_GRACE_S", 30.0)
# An input that arrives before the tick it asks for (`at`) is held until then, at most this
# long past its arrival: the client predicts it exactly despite the uplink's jitter.
INPUT_HOLD_MS = _env_float("INPUT_HOLD_MS", 250.0)
# A late input moves its own player as if applied at the tick it asked for, at most this far
# back: a stall on the uplink then leaves the predicting client nothing to correct.
INPUT_CATCH_UP_MS = _env_float("INPUT_CATCH_UP_MS", 250.0)
# A rematch offer stays open this long after the match ended; then it has expired.
REMATCH_OFFER_S = _env_float("REMATCH_OFFER_S", 300.0)
# Quick play: a player nobody was paired with by then plays against bots.
QUICKPLAY_BOT_AFTER_S = _env_float("QUICKPLAY_BOT_AFTER_S", 3.0)
# Quick play matches ratings within a window that widens while a player waits (measured in
# docs/benchmarks.md, "Quick play"); off, it pairs first come, first served.
QUICKPLAY_BY_RATING = _env_bool("QUICKPLAY_BY_RATING", True)
QUICKPLAY_RATING_WINDOW = _env_float("QUICKPLAY_RATING_WINDOW", 100.0)
QUICKPLAY_WINDOW_GROWTH_PER_S = _env_float("QUICKPLAY_WINDOW_GROWTH_PER_S", 100.0)
# A many-seat title's band short of its seats starts once one of it has waited this long.
QUICKPLAY_GATHER_S = _env_float("QUICKPLAY_GATHER_S", 2.0)

# --- Realtime gateway (websockets; see docs/protocol.md) -------------------------------------
# Per-connection token bucket: sustained messages per second and burst; past it, close 4429.
GATEWAY_RATE_PER_S = _env_float("GATEWAY_RATE_PER_S", 60.0)
GATEWAY_RATE_BURST = _env_float("GATEWAY_RATE_BURST", 120.0)
# Nakama's figure: a game message has no business being bigger. Daphne's own cap is set to
# twice this (DAPHNE_MAX_MESSAGE_BYTES): up to it the client is told why, past it autobahn
# drops the connection (1009) before a byte reaches the application.
GATEWAY_MAX_MESSAGE_BYTES = int(_env_float("GATEWAY_MAX_MESSAGE_BYTES", 4096))
DAPHNE_MAX_MESSAGE_BYTES = 2 * GATEWAY_MAX_MESSAGE_BYTES
# The server pings each client this often; a ping unanswered for GATEWAY_SLOW_CLIENT_S means
# the client is not reading (its backlog sits in Daphne's buffers): close 4408.
GATEWAY_PING_INTERVAL_S = _env_float("GATEWAY_PING_INTERVAL_S", 2.0)
GATEWAY_SLOW_CLIENT_S = _env_float("GATEWAY_SLOW_CLIENT_S", 10.0)
# Spectators see a running match this late (0: live), so that watching cannot help a player.
SPECTATOR_DELAY_S = _env_float("SPECTATOR_DELAY_S", 5.0)
# Compact state frames (docs/protocol.md): a keyframe at least this often, so that a client
# that missed a delta recovers without asking.
STATE_KEYFRAME_EVERY_S = _env_float("STATE_KEYFRAME_EVERY_S", 2.0)
# A socket's resync requests past one per this many seconds are refused (each one makes the
# runner send a keyframe to every socket of the match).
GATEWAY_RESYNC_MIN_S = _env_float("GATEWAY_RESYNC_MIN_S", 0.5)
# Threads for the sockets' database work (who a socket is, presence): Channels' default is one
# per process, which a restarted Daphne's thousand handshakes queue behind one at a time.
GATEWAY_DB_THREADS = _env_int("GATEWAY_DB_THREADS", 4, minimum=1)
# Those threads keep their connections while they have work (opening one per call was a large
# share of a restarted Daphne's database time), at most this long, and close them when idle.
GATEWAY_DB_CONN_MAX_AGE_S = _env_float("GATEWAY_DB_CONN_MAX_AGE_S", 60.0)
GATEWAY_DB_CONN_IDLE_S = _env_float("GATEWAY_DB_CONN_IDLE_S", 1.0)
# Connections the kernel holds for Daphne until its reactor accepts them (Twisted's default is
# 50): past it a restarted Daphne's returning players' connects were dropped and timed out.
GATEWAY_LISTEN_BACKLOG = _env_int("GATEWAY_LISTEN_BACKLOG", 1024, minimum=1)
# Inputs pending for one match in Redis before more are refused (the runner takes 512 a tick).
GATEWAY_MAX_PENDING_INPUTS = int(_env_float("GATEWAY_MAX_PENDING_INPUTS", 256))
# Under Daphne, states are framed once per tick and written straight to each socket, with the
# other shortcuts of realtime/gateway/daphne.py; 0 takes the public paths (slower).
REALTIME_DIRECT_WRITE = _env_bool("REALTIME_DIRECT_WRITE", True)

# --- Auth, sessions, security ----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Log-in limits (realtime/lobby/accounts.py): failures counted per username and per client
# address over a window; past either limit every attempt is refused (429) until it ends.
LOGIN_MAX_FAILURES_PER_USERNAME = _env_int("LOGIN_MAX_FAILURES_PER_USERNAME", 5, minimum=1)
LOGIN_MAX_FAILURES_PER_ADDRESS = _env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20, minimum=1)
LOGIN_FAILURE_WINDOW_S = _env_float("LOGIN_FAILURE_WINDOW_S", 300.0)
# Accounts one client address may sign up per window (realtime/lobby/accounts.py); then 429.
SIGNUP_MAX_PER_ADDRESS = _env_int("SIGNUP_MAX_PER_ADDRESS", 10, minimum=1)
SIGNUP_WINDOW_S = _env_float("SIGNUP_WINDOW_S", 3600.0)
# Django's database sessions, read in plain SQL: every match socket's handshake loads one.
SESSION_ENGINE = "matches.sessions"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 30
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# The lobby API answers a failed CSRF check in JSON like its other errors.
CSRF_FAILURE_VIEW = "realtime.lobby.api.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    # Behind TLS in production; a proxy that terminates TLS must set X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", False)
# HSTS preload is an opt-in the domain owner makes with the browsers' list; not ours to assume.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The default finders, plus each title's browser/ folder served under titles/<name>/.
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "frontend.finders.TitleFinder",
]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

TEST_RUNNER = "tests.runner.StackTestRunner"
