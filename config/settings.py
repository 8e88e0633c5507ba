"""OpenKAM settings. One file, switched by environment variables.

- ``OPENKAM_ENV``: ``dev`` (default), ``test`` or ``prod``.
- ``DATABASE_URL``: an external PostgreSQL (>= 15). Without it, the embedded ``pgserver`` under ``var/``.
- ``SECRET_KEY``, ``ALLOWED_HOSTS`` (comma separated), ``DEBUG`` (``1``/``0``) for production.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
ENV = os.environ.get("OPENKAM_ENV", "dev")
TESTING = ENV == "test"

SECRET_KEY = os.environ.get("SECRET_KEY", "dev-insecure-openkam-key-change-me-in-production-0123456789")
DEBUG = os.environ.get("DEBUG", "1" if ENV == "dev" else "0") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
if ENV == "prod" and SECRET_KEY.startswith("dev-insecure"):
    raise RuntimeError("Set SECRET_KEY in production.")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_htmx",
    "pgtrigger",
    "pghistory",
    "procrastinate.contrib.django",
    "openkam.core",
    "openkam.accounts",
    "openkam.stakeholders",
    "openkam.portfolio",
    "openkam.plans",
    "openkam.activities",
    "openkam.evaluation",
    "openkam.relationships",
    "openkam.market_access",
    "openkam.commercial",
    "openkam.handover",
    "openkam.privacy",
    "openkam.workspace",
    "openkam.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "openkam.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "openkam.core.middleware.AuditContextMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "openkam" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "openkam.core.context_processors.navigation",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------------
if os.environ.get("DATABASE_URL"):
    _db_url = os.environ["DATABASE_URL"]
else:
    from openkam.core import embedded_db

    _db_url = embedded_db.ensure_running()
DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=0 if TESTING else 60)}
DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("OPENKAM_TEST_DB", "test_openkam")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = (
    []
    if ENV != "prod"
    else [
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
        {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    ]
)
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- i18n -----------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
LANGUAGES = [("en", _("English")), ("de", _("German"))]  # add a language with its openkam/locale/<code>
LOCALE_PATHS = [BASE_DIR / "openkam" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False  # ids in URLs must never read "1,487"; display numbers use intcomma/money

# --- static ---------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static" if ENV == "prod" else None  # dev/test: served from the finders
WHITENOISE_USE_FINDERS = ENV != "prod"
STATICFILES_DIRS = [BASE_DIR / "openkam" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if ENV == "prod"
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = BASE_DIR / "var" / "media"

# --- audit ----------------------------------------------------------------------------------------
PGHISTORY_APPEND_ONLY = True
PGHISTORY_DEFAULT_TRACKERS = None  # every tracked model names its trackers (see openkam.core.audit)

# --- security -------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # HTMX reads it to send X-CSRFToken
X_FRAME_OPTIONS = "DENY"
if ENV == "prod":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING" if TESTING else "INFO")},
    "loggers": {"procrastinate": {"level": "WARNING"}},
}

OPENKAM_API = "config.api.api"

# --- product settings -----------------------------------------------------------------------------
OPENKAM = {
    "PAGE_SIZE": 25,
    "API_PAGE_SIZE": 50,
    "RECENT_INTERACTIONS_DAYS": 90,
}
