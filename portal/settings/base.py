"""Settings shared by every environment; everything that differs comes from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


SECRET_KEY = env("SECRET_KEY", "insecure-development-key-change-me-in-production-0123456789")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "import_export",
    "django_q",
    "csp",
    "portal.apps.PortalConfig",
    "contracts",
    "devices",
    "billing",
    "gdpr",
    "portal.support",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.NoStoreMiddleware",
    # Before the session limits, which leave a message for the login page.
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.middleware.SessionLimitsMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.middleware.MFARequiredMiddleware",
    "portal.middleware.ReauthenticationRequiredMiddleware",
    "portal.middleware.AccessLogMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "django.template.context_processors.i18n",
                "portal.context_processors.portal",
            ],
        },
    },
    {
        # Subjects and plain-text e-mail parts: the same templates, no HTML escaping
        # (portal/mail.py). Never used for anything a browser renders.
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

# --- Database ---------------------------------------------------------------------------------
# Embedded default: one SQLite file in WAL mode. DATABASE_URL switches to PostgreSQL.
SQLITE_PATH = Path(env("SQLITE_PATH", str(BASE_DIR / "var" / "portal.sqlite3")))
SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and task queue ---------------------------------------------------------------------
# Embedded default: a database cache and the django-q2 ORM broker. REDIS_URL switches both.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "portal"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache",
        }
    }

Q_CLUSTER = {
    "name": env("Q_CLUSTER_NAME", "portal"),
    "workers": env_int("Q_WORKERS", 2),
    "timeout": 300,
    "retry": 360,
    "max_attempts": 3,
    "catch_up": False,
    "save_limit": 500,
    "label": _("Aufgaben"),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
# Job claims (portal/jobs.py, docs/adr/0008): a step without a sign of life for this long is
# stuck (its worker died or its task was lost). Must exceed Q_CLUSTER["timeout"], after which
# django-q2 kills a task anyway, so that a live worker is never taken over.
PORTAL_JOB_STALE_SECONDS = env_int("PORTAL_JOB_STALE_SECONDS", Q_CLUSTER["timeout"] + 60)
#: Starts (and re-sends of a lost task) of one step before it is failed with a message.
PORTAL_JOB_MAX_ATTEMPTS = env_int("PORTAL_JOB_MAX_ATTEMPTS", 3)
#: A running step writes its sign of life (and progress) at most this often.
PORTAL_JOB_HEARTBEAT_SECONDS = env_int("PORTAL_JOB_HEARTBEAT_SECONDS", 2)

# --- Accounts, allauth, MFA -------------------------------------------------------------------
AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:dashboard"

ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "portal.forms.SignupNamesForm"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = env("EMAIL_SUBJECT_PREFIX", "[Kundenportal] ")
# Failed logins (docs/adr/0009, portal/login_throttle.py; backed by the shared cache). Counted
# before the password is checked, given back when it was right.
ACCOUNT_RATE_LIMITS = {
    # Per source IP (credential stuffing) and per address *and* source IP (key "address|ip").
    "login_failed": env("LOGIN_FAILED_RATE_LIMIT", "10/m/ip,60/h/ip,5/5m/key,10/h/key"),
    # Per address over all sources without a known-device cookie (distributed guessing).
    "login_failed_address": env("LOGIN_FAILED_ADDRESS_RATE_LIMIT", "30/h/key"),
    # Per browser that completed a login with both factors for that address.
    "login_failed_known_device": env("LOGIN_FAILED_KNOWN_DEVICE_RATE_LIMIT", "5/5m/key,10/h/key"),
}
#: How long a browser stays "known" after a login with password and second factor.
PORTAL_KNOWN_DEVICE_DAYS = env_int("PORTAL_KNOWN_DEVICE_DAYS", 180)
# Open self-signup is off: accounts are created by invitation.
PORTAL_OPEN_SIGNUP = env_bool("PORTAL_OPEN_SIGNUP", False)
PORTAL_INVITATION_MAX_AGE_DAYS = env_int("PORTAL_INVITATION_MAX_AGE_DAYS", 7)

OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "Kundenportal")
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
PORTAL_BACKUP_CODE_COUNT = 10
#: A security change (factor, backup codes, password, e-mail) needs password and code again
#: within this many seconds before it (portal/reauth.py).
PORTAL_REAUTH_MAX_AGE_SECONDS = env_int("PORTAL_REAUTH_MAX_AGE_SECONDS", 300)

# --- Audit and access log ---------------------------------------------------------------------
ACCESS_LOG_RETENTION_DAYS = env_int("ACCESS_LOG_RETENTION_DAYS", 90)
#: Audit events are kept this many years after the end of the calendar year in which they
#: happened (§§ 195, 199 BGB), then the daily job portal.purge_audit_trail deletes them
#: (ADR 0016).
PORTAL_AUDIT_RETENTION_YEARS = env_int("PORTAL_AUDIT_RETENTION_YEARS", 3)

# --- Sessions and cookies ---------------------------------------------------------------------
#: Absolute: counted from the login, not moved by activity (portal.middleware.SessionLimits…).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
PORTAL_SESSION_IDLE_TIMEOUT_MINUTES = env_int("PORTAL_SESSION_IDLE_TIMEOUT_MINUTES", 30)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# The failed-CSRF page in the portal's layout and language (Django's is bare English).
CSRF_FAILURE_VIEW = "portal.views.errors.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
    }
}

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("Deutsch")), ("en", _("Englisch"))]
# locale_overrides: formal German for third-party strings (allauth), maintained by hand.
LOCALE_PATHS = [BASE_DIR / "locale_overrides", BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "portal_language"
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

# --- Static and media files -------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "portal" / "static"]
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- E-mail -----------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Kundenportal <portal@localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# --- The operator ------------------------------------------------------------------------------
PORTAL_NAME = env("PORTAL_NAME", "Kundenportal")
#: The provider's identity in every e-mail footer (portal/notifications/identity.py); empty
#: values are taken from the provider organisation (name, address, VAT id).
PORTAL_PROVIDER_NAME = env("PORTAL_PROVIDER_NAME", "")
PORTAL_PROVIDER_ADDRESS = env("PORTAL_PROVIDER_ADDRESS", "")
PORTAL_PROVIDER_REGISTER = env("PORTAL_PROVIDER_REGISTER", "")
PORTAL_PROVIDER_MANAGEMENT = env("PORTAL_PROVIDER_MANAGEMENT", "")
PORTAL_PROVIDER_VAT_ID = env("PORTAL_PROVIDER_VAT_ID", "")
PORTAL_PROVIDER_CONTACT = env("PORTAL_PROVIDER_CONTACT", "")
#: The provider's data protection officer as the AVV names them (gdpr/avv.py): name, address,
#: e-mail, separated by ";" (one line each in the AVV); empty: the provider's name, address and
#: contact.
PORTAL_DPO_CONTACT = env("PORTAL_DPO_CONTACT", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django_q": {"level": env("LOG_LEVEL_Q", "WARNING")}},
}
#: The address people reach the portal at; used for links in e-mails sent by jobs and services.
PORTAL_BASE_URL = env("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
SESSION_ENGINE = "portal.models.sessions"

# --- Change notices (DOMAIN.md § 4) ------------------------------------------------------------
#: Objection window per change-notice kind (portal/change_notices/kinds.py), e.g. "4w", "30d",
#: "2m"; override in the environment as PORTAL_CHANGE_NOTICE_WINDOWS="price_increase=6w,...".
PORTAL_CHANGE_NOTICE_WINDOWS = {
    "subprocessor_change": "30d", "price_increase": "4w", "terms_change": "2w",
    "price_change_2m": "2m",
    **{code.strip(): window.strip() for code, _eq, window in
       (item.partition("=") for item in env_list("PORTAL_CHANGE_NOTICE_WINDOWS"))},
}

# --- Purge after the end of a contract (DOMAIN.md § 5) -----------------------------------------
#: How long the operator's backups keep data: a purged customer's data is gone from the last
#: backup this many days after the purge; the deletion certificate names that date.
BACKUP_RETENTION_DAYS = env_int("BACKUP_RETENTION_DAYS", 30)

# --- Device inventory imports ---------------------------------------------------------------
DEVICE_IMPORT_MAX_BYTES = env_int("DEVICE_IMPORT_MAX_BYTES", 10 * 1024 * 1024)
DEVICE_IMPORT_MAX_ROWS = env_int("DEVICE_IMPORT_MAX_ROWS", 100_000)
#: Files up to this size are checked and applied within the request; larger ones by a job.
DEVICE_IMPORT_INLINE_BYTES = env_int("DEVICE_IMPORT_INLINE_BYTES", 256 * 1024)
#: Unconfirmed or finished imports lose their stored file after this many hours.
DEVICE_IMPORT_KEEP_HOURS = env_int("DEVICE_IMPORT_KEEP_HOURS", 24)
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FORMAT_MODULE_PATH = ["portal.formats"]
