"""Django settings for govreq, configured entirely by environment variables.

Safe by default: DEBUG is off, cookies are Secure/HttpOnly/SameSite, CSRF and a nonce-based
Content-Security-Policy are on. `GOVREQ_ENV=production` additionally refuses to start without an
explicit, strong `GOVREQ_SECRET_KEY` and an explicit `GOVREQ_ALLOWED_HOSTS`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from govreq.core.storage import s3_storages


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def _env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent
GOVREQ_ENV = os.environ.get("GOVREQ_ENV", "development").strip().lower()
if GOVREQ_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("GOVREQ_ENV must be 'development' or 'production'")
PRODUCTION = GOVREQ_ENV == "production"

DATA_DIR = Path(os.environ.get("GOVREQ_DATA_DIR", "govreq-data")).resolve()
DOCUMENTS_DIR = DATA_DIR / "documents"
# Sealed (encrypted) production packages and preservation snapshots.
PACKAGES_DIR = DATA_DIR / "packages"

# Known placeholder values that must never protect a real deployment.
INSECURE_SECRET_KEYS = frozenset({"", "changeme", "change-me", "secret", "django-insecure"})


def _secret_key() -> str:
    configured = os.environ.get("GOVREQ_SECRET_KEY")
    if configured is not None:
        if configured.strip().lower() in INSECURE_SECRET_KEYS or len(configured) < 32:
            raise ImproperlyConfigured(
                "GOVREQ_SECRET_KEY is a placeholder or shorter than 32 characters"
            )
        return configured
    if PRODUCTION:
        raise ImproperlyConfigured(
            "GOVREQ_SECRET_KEY is not set; production mode refuses to start without it"
        )
    # Development: a random key generated once per installation and kept beside the database,
    # readable only by its owner.
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


SECRET_KEY = _secret_key()
DEBUG = _env_bool("GOVREQ_DEBUG", False)
ALLOWED_HOSTS = _env_list(
    "GOVREQ_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("GOVREQ_ALLOWED_HOSTS must name the hosts govreq is served on")
CSRF_TRUSTED_ORIGINS = _env_list("GOVREQ_CSRF_TRUSTED_ORIGINS", [])
# Reverse proxies whose X-Forwarded-For is believed (exact addresses); none by default.
TRUSTED_PROXIES = _env_list("GOVREQ_TRUSTED_PROXIES", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_htmx",
    "django_tasks_db",
    "govreq.core",
    "govreq.web",
    "govreq.accounts",
    "govreq.jurisdictions",
    "govreq.agencies",
    "govreq.intake",
    "govreq.policy",
    "govreq.holds",
    "govreq.review",
    "govreq.disclosure",
    "govreq.notices",
    # No models: installed for its catalogue (the staff e-mails in Traditional Chinese).
    "govreq.lifecycle",
    "govreq.transparency",
    "govreq.audit",
    "govreq.portal",
    "govreq.console",
    "govreq.demo",
    "govreq.worker",
    "govreq.cli",
]

MIDDLEWARE = [
    "govreq.web.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "govreq.core.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "govreq.web.middleware.StaffIdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "govreq.urls"
WSGI_APPLICATION = "govreq.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    }
]

# --- Database ------------------------------------------------------------------------------------
SQLITE_PATH = DATA_DIR / "govreq.sqlite3"
SQLITE_OPTIONS = {
    # IMMEDIATE takes the write lock when a transaction starts, which serialises writers
    # (audit-chain appends, approvals, two workers sending the same notices) instead of failing
    # them mid-way.
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
    ),
}
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        # A sqlite:/// URL (a worker pointed at another process's file) behaves the same.
        DATABASES["default"]["OPTIONS"] = {
            **SQLITE_OPTIONS,
            **DATABASES["default"].get("OPTIONS", {}),
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            # Tests use a real file (not shared-cache memory), so locking behaves as in production.
            "TEST": {"NAME": str(DATA_DIR / "test-govreq.sqlite3")},
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    }

# --- Background tasks ----------------------------------------------------------------------------
# Side effects (collecting a production, every e-mail) are enqueued as tasks in the database when
# the transaction that caused them commits, and run by `govreq worker` (which `govreq serve`
# starts beside the web workers). A task whose worker died is retried after the lease.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
TASK_LEASE_MINUTES = float(os.environ.get("GOVREQ_TASK_LEASE_MINUTES", "15"))

# --- Passwords, sessions, cookies ----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
COOKIE_SECURE = _env_bool("GOVREQ_COOKIE_SECURE", True)
SESSION_COOKIE_SECURE = COOKIE_SECURE
CSRF_COOKIE_SECURE = COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Strict"
SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Staff sessions end after this much inactivity; approving a disclosure needs a fresh second
# factor within GOVREQ_REAUTH_MINUTES.
STAFF_IDLE_MINUTES = int(os.environ.get("GOVREQ_STAFF_IDLE_MINUTES", "30"))
REAUTH_MINUTES = int(os.environ.get("GOVREQ_REAUTH_MINUTES", "5"))
PORTAL_IDLE_MINUTES = int(os.environ.get("GOVREQ_PORTAL_IDLE_MINUTES", "60"))
# An officer's API token expires this many days after it is issued unless another lifetime is
# given when issuing it (staff tokens expire only when asked for).
OFFICER_TOKEN_DAYS = int(os.environ.get("GOVREQ_OFFICER_TOKEN_DAYS", "90"))
LOGIN_URL = "/console/sign-in"
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_HSTS_SECONDS = int(os.environ.get("GOVREQ_HSTS_SECONDS", "31536000"))
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _env_bool("GOVREQ_SSL_REDIRECT", True)

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# --- Request size limits -------------------------------------------------------------------------
JSON_BODY_MAX_BYTES = 1024 * 1024
DOCUMENT_MAX_BYTES = 25 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = JSON_BODY_MAX_BYTES
PORTAL_UPLOAD_MAX_BYTES = 100 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = None
FILE_UPLOAD_PERMISSIONS = 0o600

# --- I18N, static --------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hant", "繁體中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# Static files are served straight from the installed package (WhiteNoise with finders).
STATIC_ROOT = os.environ.get("GOVREQ_STATIC_ROOT") or None
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    # Documents and packages (production packages, preservation snapshots): folders of the data
    # directory by default (the layout of earlier versions), or one S3-compatible bucket shared
    # by every machine when GOVREQ_STORAGE_URL=s3://bucket/prefix (docs/deploy.md).
    "documents": {
        "BACKEND": "govreq.core.storage.LocalStorage",
        "OPTIONS": {"setting": "DOCUMENTS_DIR"},
    },
    "packages": {
        "BACKEND": "govreq.core.storage.LocalStorage",
        "OPTIONS": {"setting": "PACKAGES_DIR"},
    },
}
STORAGE_URL = os.environ.get("GOVREQ_STORAGE_URL", "")
if STORAGE_URL:
    if not STORAGE_URL.startswith("s3://"):
        raise ImproperlyConfigured("GOVREQ_STORAGE_URL must be s3://bucket/prefix")
    STORAGES.update(s3_storages(STORAGE_URL, dict(os.environ)))
WHITENOISE_USE_FINDERS = True

# --- Audit trail ---------------------------------------------------------------------------------
# When an audit event joins the hash chain (docs/audit.md, "Sequencing"): "in-transaction" (the
# default) chains it inside the change's own transaction, under one lock every writer shares to
# its commit; "after-commit" (PostgreSQL only) commits it with the change and chains it right
# after, in batches, so concurrent writers no longer queue for one lock. SQLite always chains in
# the transaction: its single write lock already serialises every writer.
AUDIT_CHAINING = os.environ.get("GOVREQ_AUDIT_CHAINING", "in-transaction").strip().lower()
if AUDIT_CHAINING not in {"in-transaction", "after-commit"}:
    raise ImproperlyConfigured("GOVREQ_AUDIT_CHAINING must be 'in-transaction' or 'after-commit'")

# --- Transparency reports ------------------------------------------------------------------------
# Ed25519 key that signs published reports (PEM, or base64 of the 32 raw bytes), or a file holding
# it; development generates one into the data directory, production refuses to publish without.
REPORT_SIGNING_KEY = os.environ.get("GOVREQ_REPORT_SIGNING_KEY", "")
REPORT_SIGNING_KEY_FILE = os.environ.get("GOVREQ_REPORT_SIGNING_KEY_FILE", "")
REPORT_TRUSTED_PUBLIC_KEYS = os.environ.get("GOVREQ_REPORT_TRUSTED_PUBLIC_KEYS", "")
REPORT_NATIONAL_SECURITY_BANDS = os.environ.get("GOVREQ_REPORT_NATIONAL_SECURITY_BANDS", "US:250")

# --- Disclosure ----------------------------------------------------------------------------------
# The platform's data source (docs/data-sources.md): a TOML file naming the source and its
# settings. `govreq demo load` writes one for the demo platform.
DATA_SOURCE_CONFIG = Path(
    os.environ.get("GOVREQ_DATA_SOURCE_CONFIG") or (DATA_DIR / "data-source.toml")
)
# Where officers and staff reach govreq: links in e-mails are built from it.
BASE_URL = os.environ.get("GOVREQ_BASE_URL", "http://127.0.0.1:8000")
# How long a released package can be downloaded; afterwards its bytes are purged.
PACKAGE_DOWNLOAD_DAYS = int(os.environ.get("GOVREQ_PACKAGE_DOWNLOAD_DAYS", "14"))

# --- E-mail (sign-in codes, notices) -------------------------------------------------------------
DEFAULT_FROM_EMAIL = os.environ.get("GOVREQ_MAIL_FROM", "govreq <govreq@localhost>")
MAIL_DIR = DATA_DIR / "mail"
# The domain of the Message-IDs of once-only mail (user notices).
MAIL_ID_DOMAIN = os.environ.get("GOVREQ_MAIL_ID_DOMAIN", "govreq.invalid")
MAILERS: dict[str, dict[str, object]]
if os.environ.get("GOVREQ_SMTP_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["GOVREQ_SMTP_HOST"],
                "port": int(os.environ.get("GOVREQ_SMTP_PORT", "587")),
                "username": os.environ.get("GOVREQ_SMTP_USER", ""),
                "password": os.environ.get("GOVREQ_SMTP_PASSWORD", ""),
                "use_tls": _env_bool("GOVREQ_SMTP_STARTTLS", True),
                "use_ssl": _env_bool("GOVREQ_SMTP_SSL", False),
                "timeout": 20,
            },
        }
    }
elif PRODUCTION:
    raise ImproperlyConfigured("GOVREQ_SMTP_HOST is required in production (sign-in codes)")
else:
    # Development: every message goes to the console and to a file under the data directory.
    MAILERS = {
        "default": {
            "BACKEND": "govreq.web.mail.ConsoleAndFileBackend",
            "OPTIONS": {"file_path": str(MAIL_DIR)},
        }
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GOVREQ_LOG_LEVEL", "WARNING")},
    # Django's task framework logs every task at INFO; failures are still WARNING and above.
    "loggers": {"django.tasks": {"level": os.environ.get("GOVREQ_LOG_LEVEL", "WARNING")}},
}
