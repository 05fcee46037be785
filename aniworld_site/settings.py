"""Django settings for Aniworld.

Deployment settings come from the environment (and an optional `.env` file in
the project directory); the owner's settings live in the database
(`apps.configuration`). Every variable is listed in README.md.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

import environ
from csp import constants as csp

from aniworld_site.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_limits,
    env_list,
    env_networks,
    env_path,
    env_rate,
    env_str,
    load_or_create_secret_key,
    node_name,
)
from aniworld_site.private import private_sqlite_file, secure_data_dir
from aniworld_site.tasks import MAINTENANCE_QUEUE
from apps.catalog import conf as catalog_conf

BASE_DIR = Path(__file__).resolve().parent.parent
VERSION = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())["project"]["version"]
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
env = environ.Env()

DATA_DIR = env_path("ANIWORLD_DATA_DIR", BASE_DIR / "data")
LOG_DIR = DATA_DIR / "logs"
RUN_DIR = DATA_DIR / "run"
# Where series folders go until the owner picks a library path (apps.configuration).
DEFAULT_LIBRARY_DIR = env_path("ANIWORLD_LIBRARY_DIR", DATA_DIR / "library")
secure_data_dir(
    DATA_DIR,
    [LOG_DIR, RUN_DIR, DATA_DIR / "redis"],
    [DATA_DIR / "secret_key", DATA_DIR / "redis_password"],
    holds_library=DEFAULT_LIBRARY_DIR.is_relative_to(DATA_DIR),
)

SECRET_KEY = load_or_create_secret_key(DATA_DIR)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
SESSION_TIMEOUT_HOURS = env_int("SESSION_TIMEOUT_HOURS", 24, minimum=1, maximum=24 * 365)
HEALTH_MIN_FREE_BYTES = int(env_float("HEALTH_MIN_FREE_GB", 1.0, minimum=0) * 1024**3)
NODE_NAME = node_name()
# Workers write a heartbeat this often; /health and /api/queue/workers count a worker as live for 3 beats.
WORKER_HEARTBEAT_SECONDS = env_float("ANIWORLD_WORKER_HEARTBEAT_SECONDS", 3.0, minimum=1)
# Who sees the checks behind /health's status: the logged-in owner only, or everyone (a monitoring page).
HEALTH_DETAILS = env_choice("HEALTH_DETAILS", "OWNER", {"OWNER", "EVERYONE"}).lower()

# HTTPS, usually terminated by a reverse proxy. Its X-Forwarded-Proto is believed only from TRUSTED_PROXIES
# (apps.accounts.middleware.ForwardedSchemeMiddleware drops it from anyone else).
BEHIND_HTTPS = env_bool("BEHIND_HTTPS", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES else None
SESSION_COOKIE_SECURE = BEHIND_HTTPS
CSRF_COOKIE_SECURE = BEHIND_HTTPS
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600 if BEHIND_HTTPS else 0, minimum=0)

# --- input limits (aniworld_site.limits, aniworld_site.webserver) ----------------
# Request bodies above this are refused with 413 by the web server before they are read,
# authenticated or parsed; Django's own form limit says the same.
MAX_REQUEST_BODY_BYTES = env_int("ANIWORLD_MAX_REQUEST_BYTES", 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
# WebSocket messages above this are refused by the server (close 1009) before they are buffered;
# the consumer's own, smaller limit answers with an error frame.
REALTIME_MAX_MESSAGE_BYTES = 64 * 1024
REALTIME_MAX_CONNECTIONS_PER_ADDRESS = env_int("ANIWORLD_WS_MAX_CONNECTIONS_PER_ADDRESS", 100, minimum=1)
# The catalog reads its ANIWORLD_ANIWORLD_URL, ANIWORLD_STO_URL, ANIWORLD_HOSTER_ORDER and ANIWORLD_CATALOG_*
# variables when used (tests and the demo change them at run time); a bad value stops start-up here.
catalog_conf.check_environment()

INSTALLED_APPS = [
    "daphne",
    "apps.web",  # before the admin: its admin/base_site.html gives the admin the site's theme and icon
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "apps.accounts",
    "apps.configuration",
    "apps.library",
    "apps.catalog",
    "apps.queue",
    "apps.scorecard",
    "apps.realtime",
]

MIDDLEWARE = [
    "apps.accounts.middleware.ForwardedSchemeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.accounts.middleware.SetupAndLoginRequiredMiddleware",
    "aniworld_site.limits.PathIdsInRangeMiddleware",
]

# Content-Security-Policy on every response (django-csp): scripts and styles only from our own files,
# no inline script or style attribute, no framing. Page data reaches scripts as json_script blocks.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF, "data:"],  # Bootstrap draws checkboxes, selects and the menu icon as data: SVGs
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],  # fetch and the same-origin WebSocket
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    }
}

ROOT_URLCONF = "aniworld_site.urls"
# API apps are included at prefixes without a slash ("api/queue") and their routes start with one
# ("/status"), which gives the documented paths (/api/queue/status, /api/anime) with no trailing slash.
SILENCED_SYSTEM_CHECKS = ["urls.W002"]
ASGI_APPLICATION = "aniworld_site.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],  # every app keeps its templates in apps/<app>/templates/<app>/
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.web.context_processors.shared_lists",
            ],
        },
    },
]

# --- database -------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'aniworld.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if str(DATABASES["default"]["NAME"]) not in ("", ":memory:"):
        private_sqlite_file(Path(DATABASES["default"]["NAME"]))
    # WAL lets readers run beside the single writer; IMMEDIATE transactions take
    # the write lock up front, which is what makes queue dispatch race-free.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
elif DATABASE_POOL_MAX_SIZE := env_int("ANIWORLD_DB_POOL_MAX_SIZE", 10, minimum=0, maximum=1000):
    # daphne runs each sync view on an executor thread and closes its connection at the end of the
    # request, so CONN_MAX_AGE cannot keep one: a psycopg pool per process does. Pools open lazily,
    # so a Celery worker child only holds the connections it used (aniworld_site.celery drops a pool
    # inherited through fork).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": 30,  # waiting for a free connection, then an error
        "max_idle": 300,
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- redis: broker, channel layer, cache, throttles ---------------------------
def _redis_url() -> str | None:
    """REDIS_URL, else the embedded Redis that `make run` started (see aniworld_site.stack)."""
    url = env_str("REDIS_URL", "")
    if url:
        return url
    marker = RUN_DIR / "redis.url"
    if marker.exists():
        return marker.read_text().strip() or None
    return None


REDIS_URL = _redis_url()
KEY_PREFIX = env_str("ANIWORLD_KEY_PREFIX", "aniworld")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": KEY_PREFIX,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{KEY_PREFIX}:asgi", "capacity": 500, "expiry": 30},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- downloads ------------------------------------------------------------
# Parallel connections of one download (byte ranges of a file, HLS fragments); hosters cap each connection.
DOWNLOAD_CONNECTIONS = env_int("ANIWORLD_DOWNLOAD_CONNECTIONS", 8, minimum=1, maximum=32)
# Per-hoster caps, e.g. "VOE:1,Filemoon:4" (a hoster that bans parallel connections).
HOSTER_CONNECTIONS = env_limits("ANIWORLD_HOSTER_CONNECTIONS", minimum=1, maximum=32)
# Bytes asked for in each range request of a file fetched over several connections.
DOWNLOAD_RANGE_BYTES = env_int("ANIWORLD_DOWNLOAD_RANGE_BYTES", 4 * 1024 * 1024, minimum=4096)

# --- celery ---------------------------------------------------------------
# --- download queue timings (apps.queue.config reads these) ---------------------------------
QUEUE_LEASE_SECONDS = env_float("ANIWORLD_QUEUE_LEASE_SECONDS", 60, above=0)
QUEUE_DISPATCH_TIMEOUT_SECONDS = env_float("ANIWORLD_QUEUE_DISPATCH_TIMEOUT_SECONDS", 600, above=0)
QUEUE_RECEIPT_TIMEOUT_SECONDS = env_float("ANIWORLD_QUEUE_RECEIPT_TIMEOUT_SECONDS", 15, above=0)
QUEUE_PROGRESS_WRITE_SECONDS = env_float("ANIWORLD_QUEUE_PROGRESS_WRITE_SECONDS", 3, above=0)
QUEUE_CONTROL_CHECK_SECONDS = env_float("ANIWORLD_QUEUE_CONTROL_CHECK_SECONDS", 0.5, above=0)
QUEUE_UNKNOWN_SIZE_BYTES = env_int("ANIWORLD_QUEUE_UNKNOWN_SIZE_BYTES", 300 * 1024 * 1024, minimum=0)

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{KEY_PREFIX}:celery:", "visibility_timeout": 3600}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"global_keyprefix": f"{KEY_PREFIX}:celery:"}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = MAINTENANCE_QUEUE
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# --- auth -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "apps.accounts.passwords.MasterPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "/login"
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = SESSION_TIMEOUT_HOURS * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

AUTH_THROTTLE_RATE = env_str("AUTH_THROTTLE_RATE", "5/min")
LOGIN_LOCKOUT_FAILURES = env_int("LOGIN_LOCKOUT_FAILURES", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
LOGIN_GLOBAL_FAILURES_PER_HOUR = env_int("LOGIN_GLOBAL_FAILURES_PER_HOUR", 50, minimum=1)
# Searches, series adds and refreshes per user: each sends requests to the catalog sites.
CATALOG_USER_RATE = env_rate("ANIWORLD_CATALOG_USER_RATE", "30/min")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.SessionBoundJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["aniworld_site.limits.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "aniworld_site.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "aniworld_site.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=SESSION_TIMEOUT_HOURS),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Aniworld API",
    "DESCRIPTION": "Self-hosted anime library manager and downloader.",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every integer in a path is a database id.
    "PATH_CONVERTER_OVERRIDES": {"int": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}},
    # One schema name per choice set that several apps share.
    "ENUM_NAME_OVERRIDES": {
        "SiteEnum": "apps.catalog.types.SITE_CHOICES",
        "LanguageEnum": "apps.catalog.types.LANGUAGE_CHOICES",
        "PriorityEnum": ["high", "normal", "low"],
        "DownloadStateEnum": "apps.queue.models.ItemState",
        "QueueStateEnum": "apps.queue.models.QueueState",
        "EpisodeStateEnum": "apps.library.models.EpisodeState",
    },
}

# --- static files -------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]  # vendored Bootstrap, Bootstrap Icons, HTMX; the rest is per app
STATIC_ROOT = env_path("ANIWORLD_STATIC_ROOT", DATA_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- logging ------------------------------------------------------------------
_rotating = {
    "class": "aniworld_site.logging.PrivateRotatingFileHandler",
    "maxBytes": 10 * 1024 * 1024,
    "backupCount": 5,
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "aniworld_site.logging.RedactSecretsFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)-7s %(name)s [%(process)d] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        "app_file": {**_rotating, "filename": str(LOG_DIR / "app.log"), "formatter": "plain", "filters": ["redact"]},
        "download_file": {
            **_rotating,
            "filename": str(LOG_DIR / "download.log"),
            "formatter": "plain",
            "filters": ["redact"],
        },
        "error_file": {
            **_rotating,
            "filename": str(LOG_DIR / "error.log"),
            "formatter": "plain",
            "filters": ["redact"],
            "level": "ERROR",
        },
    },
    "root": {"handlers": ["console", "app_file", "error_file"], "level": LOG_LEVEL},
    "loggers": {
        "aniworld.download": {"handlers": ["download_file"], "level": LOG_LEVEL, "propagate": True},
        "django.server": {"level": "WARNING"},
        "daphne.server": {"level": "WARNING"},
    },
}
