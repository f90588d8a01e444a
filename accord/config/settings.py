"""Accord's settings: one file, read from environment variables.

The defaults run the embedded demo: SQLite and keys under ``ACCORD_DATA_DIR`` (``var/`` in the
checkout). ``ACCORD_ENV=production`` turns on the production checks, which refuse to start with
demo secrets, a debug server, or keys kept beside the data they protect.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


ENVIRONMENT = env("ACCORD_ENV", "demo")
if ENVIRONMENT not in {"demo", "production"}:
    raise ImproperlyConfigured("ACCORD_ENV must be 'demo' or 'production'.")
PRODUCTION = ENVIRONMENT == "production"
# Demo mode marks every page as showing synthetic data and allows generated secrets.
DEMO_MODE = not PRODUCTION

# Under pytest each run gets a throwaway data folder (test database, keys) unless one is named,
# so parallel runs never share files and the demo's var/ is never touched by tests.
if "pytest" in sys.modules and not env("ACCORD_DATA_DIR"):
    os.environ["ACCORD_DATA_DIR"] = tempfile.mkdtemp(prefix="accord-test-")
    os.environ.setdefault("ACCORD_AUDIT_CHECKPOINT_SECONDS", "0")
    os.environ.setdefault("ACCORD_RETENTION_SECONDS", "0")
DATA_DIR = Path(env("ACCORD_DATA_DIR", str(BASE_DIR / "var"))).resolve()
KEYS_DIR = DATA_DIR / "keys"
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEMO_SECRET_PREFIX = "demo-insecure-"  # noqa: S105 (a marker, not a secret)


def _demo_secret(path: Path) -> str:
    """A secret generated once for this data folder, readable by its owner only."""
    KEYS_DIR.mkdir(mode=0o700, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(DEMO_SECRET_PREFIX + secrets.token_urlsafe(48))
    return path.read_text().strip()


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


if PRODUCTION:
    SECRET_KEY = env("ACCORD_SECRET_KEY")
    if len(SECRET_KEY) < 50 or SECRET_KEY.startswith(DEMO_SECRET_PREFIX):
        raise ImproperlyConfigured(
            "Production needs ACCORD_SECRET_KEY: at least 50 random characters, not a demo secret."
        )
    if env_bool("ACCORD_DEBUG", False):
        raise ImproperlyConfigured("ACCORD_DEBUG must be off in production.")
    if env("ACCORD_DEMO_PASSWORD"):
        raise ImproperlyConfigured("ACCORD_DEMO_PASSWORD is for the demo only; unset it.")
    DEBUG = False
    ALLOWED_HOSTS = [h.strip() for h in env("ACCORD_ALLOWED_HOSTS").split(",") if h.strip()]
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("Production needs ACCORD_ALLOWED_HOSTS (comma-separated).")
    AUDIT_SIGNING_KEY_FILE = Path(env("ACCORD_AUDIT_SIGNING_KEY_FILE", "/nonexistent"))
    if not AUDIT_SIGNING_KEY_FILE.is_file() or _inside(AUDIT_SIGNING_KEY_FILE, DATA_DIR):
        raise ImproperlyConfigured(
            "Production needs ACCORD_AUDIT_SIGNING_KEY_FILE: an existing Ed25519 key file kept "
            "outside ACCORD_DATA_DIR, so no data backup holds the key that signs the audit log."
        )
else:
    SECRET_KEY = env("ACCORD_SECRET_KEY") or _demo_secret(KEYS_DIR / "django-secret-key")
    DEBUG = env_bool("ACCORD_DEBUG", False)
    ALLOWED_HOSTS = [
        h.strip()
        for h in env("ACCORD_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
        if h.strip()
    ]
    AUDIT_SIGNING_KEY_FILE = Path(
        env("ACCORD_AUDIT_SIGNING_KEY_FILE", str(KEYS_DIR / "audit-signing-ed25519.pem"))
    )

# Vault -----------------------------------------------------------------------------------------
# Encrypted object storage (accord/vault, docs/adr/0004-vault-encryption.md). The master key
# comes from ACCORD_MASTER_KEY (base64 of 32 random bytes) or ACCORD_MASTER_KEY_FILE; in the demo,
# when neither is set, one is created at DATA_DIR/keys/vault-master.key. Blobs (ciphertext) live
# in ACCORD_VAULT_DIR; each object's wrapped data key in ACCORD_VAULT_KEYSTORE_DIR, apart from
# the blobs and the database. In production neither has a default: Accord refuses to start
# without a master key and a named key store, outside the data folder and the blob store.
VAULT_MASTER_KEY = env("ACCORD_MASTER_KEY").strip()
VAULT_MASTER_KEY_FILE = (
    Path(env("ACCORD_MASTER_KEY_FILE")).resolve() if env("ACCORD_MASTER_KEY_FILE") else None
)
VAULT_DIR = Path(env("ACCORD_VAULT_DIR", str(DATA_DIR / "vault"))).resolve()
_keystore = env(
    "ACCORD_VAULT_KEYSTORE_DIR", "" if PRODUCTION else str(DATA_DIR / "keystore")
).strip()
VAULT_KEYSTORE_DIR = Path(_keystore).resolve() if _keystore else None
VAULT_CHUNK_SIZE = 1024 * 1024  # plaintext bytes per encrypted chunk
# Vault storage URL: ACCORD_VAULT_URL chooses the blob store. Empty means ACCORD_VAULT_DIR;
# file:///path names the local folder instead; s3://bucket/prefix?endpoint_url=...&region=...
# an S3-compatible bucket (credentials from the standard AWS environment variables).
VAULT_URL = env("ACCORD_VAULT_URL").strip()
_vault_scheme = VAULT_URL.partition("://")[0] if VAULT_URL else ""
if _vault_scheme not in ("", "file", "s3"):
    raise ImproperlyConfigured("ACCORD_VAULT_URL must start file:// or s3://.")
if _vault_scheme == "file":
    from urllib.parse import unquote, urlsplit

    if env("ACCORD_VAULT_DIR"):
        raise ImproperlyConfigured("Set either ACCORD_VAULT_URL or ACCORD_VAULT_DIR, not both.")
    VAULT_DIR = Path(unquote(urlsplit(VAULT_URL).path)).resolve()
if VAULT_MASTER_KEY and VAULT_MASTER_KEY_FILE:
    raise ImproperlyConfigured(
        "Set either ACCORD_MASTER_KEY or ACCORD_MASTER_KEY_FILE for the vault, not both."
    )
if PRODUCTION:
    if not VAULT_MASTER_KEY and not VAULT_MASTER_KEY_FILE:
        raise ImproperlyConfigured(
            "Production needs a vault master key: set ACCORD_MASTER_KEY (base64 of 32 random "
            "bytes) or ACCORD_MASTER_KEY_FILE (a file kept outside ACCORD_DATA_DIR, the blob "
            "store and the key store)."
        )
    if not VAULT_KEYSTORE_DIR:
        raise ImproperlyConfigured(
            "Production needs ACCORD_VAULT_KEYSTORE_DIR: a folder outside ACCORD_DATA_DIR and "
            "the blob store, so no data or object backup holds the vault's keys."
        )
    if VAULT_MASTER_KEY_FILE and any(
        _inside(VAULT_MASTER_KEY_FILE, folder)
        for folder in (DATA_DIR, VAULT_DIR, VAULT_KEYSTORE_DIR)
    ):
        raise ImproperlyConfigured(
            "ACCORD_MASTER_KEY_FILE must be kept outside ACCORD_DATA_DIR, the vault's blob store "
            "(ACCORD_VAULT_DIR) and its key store, so no backup of the data holds the key that "
            "unlocks it."
        )
    if VAULT_MASTER_KEY_FILE and not VAULT_MASTER_KEY_FILE.is_file():
        raise ImproperlyConfigured(
            f"ACCORD_MASTER_KEY_FILE names {VAULT_MASTER_KEY_FILE}, which is not an existing "
            "file: give the file holding the vault master key."
        )
    if (
        _inside(VAULT_KEYSTORE_DIR, DATA_DIR)
        or _inside(VAULT_KEYSTORE_DIR, VAULT_DIR)
        or _inside(VAULT_DIR, VAULT_KEYSTORE_DIR)
    ):
        raise ImproperlyConfigured(
            "ACCORD_VAULT_KEYSTORE_DIR must be a folder outside ACCORD_DATA_DIR and the vault's "
            "blob store (ACCORD_VAULT_DIR), and must not contain the blob store, so no database "
            "or object backup holds a key."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "crispy_forms",
    "crispy_forms_gds",
    "govuk_frontend_django",
    # The JSON API's docs page from django-ninja's bundled Swagger UI files, not a CDN.
    "ninja",
    # Background tasks (ADR 0009): Django's tasks API and its database backend.
    "django_tasks",
    "django_tasks_db",
    "accord.audit",
    "accord.organisations",
    "accord.access",
    "accord.standards",
    "accord.agreements",
    "accord.data_requests",
    "accord.submissions",
    "accord.outputs",
    "accord.outcomes",
    "accord.linkage",
    "accord.breaches",
    "accord.rights",
    "accord.optouts",
    "accord.vault",
    "accord.notifications",
    "accord.tasks",
    "accord.web",
    "accord.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "accord.web.middleware.SecurityHeadersMiddleware",
    "accord.web.middleware.SessionLifetimeMiddleware",
    "accord.organisations.middleware.CurrentOrganisationMiddleware",
    "accord.web.middleware.RequireTwoFactorMiddleware",
    # Axes last, as its documentation asks, so it sees every sign-in attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "accord.config.urls"
WSGI_APPLICATION = "accord.config.wsgi.application"

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
                "accord.web.context_processors.accord",
            ],
        },
    },
]

# Databases: SQLite in the data folder unless DATABASE_URL names another.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'accord.sqlite3'}"),
        conn_max_age=int(env("ACCORD_DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # Take the write lock when a transaction starts, so two writers queue rather than fail
        # half-way; together with the audit head row this keeps the chain from forking.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
    }
    # A file, not memory, so tests that use threads see one database as production does.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "organisations.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Length and a deny-list, not composition rules (NCSC password guidance).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60  # one hour

LOGIN_URL = "web:sign_in"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:sign_in"

# Lockout after repeated failed sign-ins, per username (so rotating addresses does not help).
AXES_FAILURE_LIMIT = int(env("ACCORD_LOCKOUT_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("ACCORD_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accord.web.views.auth.locked_out"
AXES_VERBOSE = False

# Sessions end after 30 idle minutes and at most 10 hours after sign-in.
SESSION_COOKIE_AGE = int(env("ACCORD_SESSION_IDLE_SECONDS", str(30 * 60)))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_SECONDS = int(env("ACCORD_SESSION_ABSOLUTE_SECONDS", str(10 * 60 * 60)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = PRODUCTION and env_bool("ACCORD_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_HSTS_SECONDS = 31536000 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# A strict Content Security Policy: nothing inline except the one nonce'd line that tells
# GOV.UK Frontend JavaScript is available.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "manifest-src": [SELF],
    }
}

OTP_TOTP_ISSUER = "Accord"
OTP_TOTP_THROTTLE_FACTOR = 1

# Email: printed to the console in the demo; SMTP when ACCORD_EMAIL_HOST is set.
if env("ACCORD_EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env("ACCORD_EMAIL_HOST")
    EMAIL_PORT = int(env("ACCORD_EMAIL_PORT", "587"))
    EMAIL_HOST_USER = env("ACCORD_EMAIL_USER")
    EMAIL_HOST_PASSWORD = env("ACCORD_EMAIL_PASSWORD")
    EMAIL_USE_TLS = env_bool("ACCORD_EMAIL_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("ACCORD_FROM_EMAIL", "Accord <no-reply@accord.invalid>")
# Links in emails (invitations, password resets) are built from this address.
SITE_URL = env("ACCORD_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True

CRISPY_ALLOWED_TEMPLATE_PACKS = ["gds"]
CRISPY_TEMPLATE_PACK = "gds"

# How often `accord serve` signs the audit chain head (seconds); 0 turns it off.
AUDIT_CHECKPOINT_INTERVAL = int(env("ACCORD_AUDIT_CHECKPOINT_SECONDS", "3600"))
# How often `accord serve` runs the retention task (seconds; first run at start); 0 turns it
# off, for deployments that run `accord retention run` from cron instead.
RETENTION_INTERVAL = int(env("ACCORD_RETENTION_SECONDS", "3600"))

# Background tasks (ADR 0009). "database" (the default) queues them in the database, where they
# survive a restart, for the worker that `accord serve` runs in a thread (or `accord worker` runs
# alone); "immediate" runs each task at once, in the process that asks for it.
TASKS_BACKEND = env("ACCORD_TASKS_BACKEND", "database").strip().lower()
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured("ACCORD_TASKS_BACKEND must be 'database' or 'immediate'.")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND], "QUEUES": ["default"]}}
# Whether `accord serve` and `accord demo` run the database worker in a thread beside the web
# server. Turn off when separate `accord worker` processes run the queue.
TASKS_WORKER_IN_PROCESS = env_bool("ACCORD_TASKS_WORKER", True)

# Largest file the "check a file" page accepts (bytes). The command line, `accord validate`,
# checks national files of any size; the page is for what people upload from a browser.
ACCORD_CHECK_MAX_BYTES = int(env("ACCORD_CHECK_MAX_BYTES", str(100 * 1024 * 1024)))
# Uploads above this are streamed to a temporary file rather than held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# How long an invitation link works.
INVITATION_DAYS = int(env("ACCORD_INVITATION_DAYS", "7"))
# Reads of outputs an organisation may make in a day (accord/outputs/queries.py).
OUTPUT_DAILY_QUERY_LIMIT = int(env("ACCORD_OUTPUT_DAILY_QUERY_LIMIT", "2000"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("ACCORD_LOG_LEVEL", "WARNING")},
}
CSRF_FAILURE_VIEW = "accord.web.views.errors.csrf_failure"

# Lockout is per username on purpose: guessing one account's password is stopped whatever
# address or browser the guesses come from. Axes warns that ip_address is not in the list.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
