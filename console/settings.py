"""Settings for the provisioning console, read from the environment (see README, "Configuration")."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import csp.constants as csp
import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from console.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state of a laptop install (SQLite database, development keys); never committed.
LOCAL_DIR = Path(env_str("CONSOLE_LOCAL_DIR") or BASE_DIR / ".local")

DEBUG = env_bool("DEBUG", False)


def _development_secret(filename: str, make) -> str:
    """A per-install secret for DEBUG mode, kept in LOCAL_DIR so data survives restarts."""
    LOCAL_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = LOCAL_DIR / filename
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY")
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")
if not DEBUG:
    missing = [
        name
        for name, value in (("SECRET_KEY", SECRET_KEY), ("FIELD_ENCRYPTION_KEYS", FIELD_ENCRYPTION_KEYS))
        if not value
    ]
    if missing:
        raise ImproperlyConfigured(
            f"Production mode (DEBUG off) needs {' and '.join(missing)} in the environment. "
            "Generate an encryption key with `python manage.py generate_encryption_key`, "
            "or set DEBUG=true for a development install."
        )
if not SECRET_KEY:
    SECRET_KEY = _development_secret("secret-key", lambda: secrets.token_urlsafe(64))
if not FIELD_ENCRYPTION_KEYS:
    from cryptography.fernet import Fernet

    FIELD_ENCRYPTION_KEYS = [_development_secret("field-encryption-key", lambda: Fernet.generate_key().decode())]

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "api.refusals.csrf_failure"  # Graph's error body for /api/ paths, Django's page elsewhere

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "django_q",
    "console",
    "connections",
    "mappings",
    "provisioning",
    "api",
    "emulators",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "console.request_limits.RequestLimitsMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "console.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Django's limits on one request, named here because the page that refuses a request names them
# (console/request_limits.py). No form of the console comes near them; the largest, a scoping filter of 100 clauses,
# has about 510 fields.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # bytes of form text (files aside)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 10

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"
ASGI_APPLICATION = "console.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "console.permissions.role_context",
            ],
        },
    },
]

# Database ------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{LOCAL_DIR / 'console.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0, 0))}
except ValueError as exc:
    raise ImproperlyConfigured(
        f"DATABASE_URL is not understood ({exc}). Use sqlite:///path/to/file.sqlite3 or "
        "postgres://user:password@host:5432/dbname."
    ) from None
if DATABASES["default"]["ENGINE"] not in ("django.db.backends.sqlite3", "django.db.backends.postgresql"):
    raise ImproperlyConfigured("DATABASE_URL must point at SQLite (sqlite:///...) or PostgreSQL (postgres://...).")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    LOCAL_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Django's backend, with the database files created with mode 600 (console/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "console.sqlite"
    # WAL + a busy timeout let the web server and a worker share the embedded database.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Authentication --------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Passwords of local accounts, refused while an administrator has turned local sign-in off.
    "console.signin_views.LocalAccountBackend",
    # Keeps people signed in after a Microsoft Entra ID sign-in (console/signin_views.py); checks no password.
    "console.signin_views.EntraSignInBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "applications"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed sign-ins: after AXES_FAILURE_LIMIT failures an account is locked from that address for the cool-off;
# names that are no account count together per address (console/lockout.py).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, 1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15, 1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "console.lockout.account_name"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_CLIENT_IP_CALLABLE = "console.client_address.client_address"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, 300)

# Sign-in with Microsoft Entra ID (OpenID Connect, console/entra_signin.py): on when ENTRA_SIGNIN_CLIENT_ID is set.
ENTRA_SIGNIN = {
    "tenant_id": env_str("ENTRA_SIGNIN_TENANT_ID"),
    "client_id": env_str("ENTRA_SIGNIN_CLIENT_ID"),
    "client_secret": env_str("ENTRA_SIGNIN_CLIENT_SECRET"),
    "authority_host": env_str("ENTRA_SIGNIN_AUTHORITY_HOST", "https://login.microsoftonline.com").rstrip("/"),
    "ca_bundle": env_str("ENTRA_SIGNIN_CA_BUNDLE"),
    "administrator_roles": env_list("ENTRA_SIGNIN_ADMINISTRATOR_ROLES", ["ApplicationAdministrator"]),
    "reader_roles": env_list("ENTRA_SIGNIN_READER_ROLES", ["ReportsReader"]),
    "administrator_groups": env_list("ENTRA_SIGNIN_ADMINISTRATOR_GROUPS"),
    "reader_groups": env_list("ENTRA_SIGNIN_READER_GROUPS"),
}
if ENTRA_SIGNIN["client_id"]:
    missing = [f"ENTRA_SIGNIN_{name.upper()}" for name in ("tenant_id", "client_secret") if not ENTRA_SIGNIN[name]]
    if missing:
        raise ImproperlyConfigured(f"ENTRA_SIGNIN_CLIENT_ID is set: {' and '.join(missing)} must be set too.")
    if not ENTRA_SIGNIN["authority_host"].startswith("https://"):
        raise ImproperlyConfigured("ENTRA_SIGNIN_AUTHORITY_HOST must be an https:// address.")

# Prometheus metrics at /metrics, for a scraper presenting "Authorization: Bearer <METRICS_TOKEN>" (off when unset).
METRICS_TOKEN = env_str("METRICS_TOKEN")
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 16 characters (e.g. `openssl rand -hex 32`).")
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Security (production behind a TLS-terminating proxy) --------------------------
# Behind the proxy, X-Forwarded-Proto says the request was https and X-Forwarded-For's last entry is the client.
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts and styles only from our own static files, no inline script, style
# or handler, no eval (htmx is told so in base.html), forms posted only to the console itself.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.NONE],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
        "base-uri": [csp.NONE],
        "object-src": [csp.NONE],
    }
}

# Internationalisation -----------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# Static files --------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT") or LOCAL_DIR / "staticfiles")
if DEBUG:
    # WhiteNoise expects the folder even when development serves files from STATICFILES_DIRS.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Email (notification emails, "Send test email") ----------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25, 1, 65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive: set only one.")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, 1)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "provisioning@localhost")
# The console's public address, for links in notification emails (mail clients need an absolute URL).
CONSOLE_URL = env_str("CONSOLE_URL").rstrip("/")
if CONSOLE_URL and not CONSOLE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("CONSOLE_URL must be an absolute address such as https://console.example.com.")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Provisioning log: entries older than this many days are purged daily (provisioning/retention.py).
LOG_RETENTION_DAYS = env_int("LOG_RETENTION_DAYS", 30, 1, 3650)
# Audit log: entries older than this many days are purged by the same daily task.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365, 1, 3650)

# A cycle paused by Salesforce's daily API allowance reads the org's Limits resource this often until it may resume.
API_LIMIT_CHECK_MINUTES = env_int("API_LIMIT_CHECK_MINUTES", 15, 1, 24 * 60)

# django-q2: timeout < retry, bounded attempts, no catch-up burst after downtime.
REDIS_URL = env_str("REDIS_URL")
Q_CLUSTER = {
    "name": "provisioning",  # also the salt of signed task packages: the same on every host
    "workers": env_int("Q_WORKERS", 2, 1, 64),
    "timeout": env_int("Q_TIMEOUT", 30 * 60, 10),
    "retry": env_int("Q_RETRY", 35 * 60, 20),
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 500,
    # Tasks a worker host takes off the broker beyond those it is running (django-q2 holds one more in hand): the
    # fewest it allows, so that cycles queued together spread over every host instead of waiting behind one host's
    # long cycle while another host sits idle (with 4, one of two hosts took 6 of 10 queued cycles: bench_fleet).
    "queue_limit": 1,
    "poll": 0.5,
    "label": "Task queue",
}
if Q_CLUSTER["timeout"] >= Q_CLUSTER["retry"]:
    raise ImproperlyConfigured("Q_TIMEOUT must be smaller than Q_RETRY (a task would run twice otherwise).")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://.")
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
# A queue of its own on a shared broker (bench_fleet's workers): such workers run only what is put on that queue,
# never the console's schedules. Every worker host of one console leaves it unset.
Q_QUEUE = env_str("Q_QUEUE")
if Q_QUEUE:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", Q_QUEUE):
        raise ImproperlyConfigured("Q_QUEUE takes letters, digits, - and _ (at most 64).")
    Q_CLUSTER["cluster_name"] = Q_QUEUE
    Q_CLUSTER["scheduler"] = False
if env_bool("Q_SYNC", False):
    Q_CLUSTER["sync"] = True

# Logging: secrets never reach a handler (they are never passed to the logger in the first place).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    # axes.apps announces itself on every start, management commands included; failed sign-ins still log.
    # msal logs token requests in full at DEBUG (authorization codes, PKCE verifiers): never below INFO.
    "loggers": {"django_q": {"level": "WARNING"}, "axes.apps": {"level": "WARNING"}, "msal": {"level": "INFO"}},
}
