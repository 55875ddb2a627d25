"""Settings of the amurlink web platform, read from the environment through typed helpers.

Environment variables
---------------------
AMURLINK_WEB_HOME      folder for the SQLite database and stored packages (default ~/.amurlink-web)
AMURLINK_DB_URL        database URL (``DATABASE_URL`` too); PostgreSQL when set, else SQLite
AMURLINK_SECRET_KEY    secret key (a per-home random key is created when unset and DEBUG is on)
AMURLINK_DEBUG         debug mode (default false)
AMURLINK_ALLOWED_HOSTS comma-separated host names (default localhost,127.0.0.1,[::1])
AMURLINK_SECURE_COOKIES secure-only session and CSRF cookies (default: not DEBUG)
AMURLINK_UPLOAD_MAX_BYTES  largest accepted upload in bytes (default 2 GiB)
AMURLINK_LOGIN_MAX_FAILURES / AMURLINK_LOGIN_WINDOW_S  failed logins of one account from one
                       client address before it is refused (default 5 per 900 s; counted in the
                       database, shared by every worker)
AMURLINK_LOGIN_MAX_FAILURES_PER_ADDRESS  failed logins from one address, any account (default 50)
AMURLINK_TRUSTED_PROXY_HEADER  header the trusted reverse proxy puts the client address in
                       (e.g. X-Forwarded-For); unset: REMOTE_ADDR is the client
AMURLINK_TRUSTED_PROXY_COUNT  trusted proxies in front of the app (default 1): the client is
                       that many entries from the right of the header
AMURLINK_STUDY_CONFIG  amurlink.toml of the study (border, CRS); default: beside the joint package
AMURLINK_JOBS_SYNC     run analysis jobs in the request, not in ``runjobs`` (default false)
AMURLINK_JOBS_WORKER_ALIVE_S  seconds after a worker's last heartbeat it counts as gone (30)
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from amurlink_web.config.env import database_from_url, envbool, envint, envlist, envstr

PACKAGE_DIR = Path(__file__).resolve().parents[1]
HOME = Path(envstr("AMURLINK_WEB_HOME", str(Path.home() / ".amurlink-web"))).expanduser()

DEBUG = envbool("AMURLINK_DEBUG", False)


def _secret_key() -> str:
    key = envstr("AMURLINK_SECRET_KEY", "")
    if key:
        return key
    if not DEBUG and not envbool("AMURLINK_LOCAL_SECRET", True):
        raise ImproperlyConfigured("set AMURLINK_SECRET_KEY (a long random string)")
    # A local installation keeps its own random key beside its database.
    path = HOME / "secret_key"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    HOME.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key, encoding="utf-8")
    path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = envlist("AMURLINK_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "amurlink_web.apps.core",
    "amurlink_web.apps.organisations",
    "amurlink_web.apps.sharing",
    "amurlink_web.apps.datasets",
    "amurlink_web.apps.identities",
    "amurlink_web.apps.api",
    "amurlink_web.apps.jobs",
    "amurlink_web.apps.incidents",
    # Django's task framework (the django-tasks backport) and its database backend: the queue
    # of analysis jobs, run by ``runjobs`` workers (SQLite and PostgreSQL)
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "amurlink_web.apps.api.auth.TokenAuthenticationMiddleware",
    "amurlink_web.apps.organisations.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "amurlink_web.apps.core.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "amurlink_web.config.urls"
WSGI_APPLICATION = "amurlink_web.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_db_url = envstr("AMURLINK_DB_URL", "") or envstr("DATABASE_URL", "")
if _db_url:
    DATABASES = {"default": database_from_url(_db_url)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                             "NAME": str(HOME / "amurlink-web.sqlite3")}}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several server processes share one SQLite file: write-ahead logging lets readers go on
    # while one writes (every page appends to the audit log), NORMAL sync skips the fsync of
    # each commit (a crash can lose the last commits, never corrupt the file), and IMMEDIATE
    # transactions take the write lock up front instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    })
_worker = envstr("PYTEST_XDIST_WORKER", "")
if _worker and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # each pytest-xdist worker gets its own test database
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{_worker}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                      "LOCATION": "amurlink-web"}}

# -- passwords and sessions ------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.ScryptPasswordHasher",  # memory-hard, in the standard library
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["amurlink_web.apps.organisations.backends.ProfileModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
LOGIN_MAX_FAILURES = envint("AMURLINK_LOGIN_MAX_FAILURES", 5)
LOGIN_WINDOW_S = envint("AMURLINK_LOGIN_WINDOW_S", 900)
LOGIN_MAX_FAILURES_PER_ADDRESS = envint("AMURLINK_LOGIN_MAX_FAILURES_PER_ADDRESS", 50)
#: Header of the trusted reverse proxy holding the client address (X-Forwarded-For), or "".
TRUSTED_PROXY_HEADER = envstr("AMURLINK_TRUSTED_PROXY_HEADER", "")
TRUSTED_PROXY_COUNT = envint("AMURLINK_TRUSTED_PROXY_COUNT", 1)

SECURE_COOKIES = envbool("AMURLINK_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = envint("AMURLINK_SESSION_AGE_S", 8 * 3600)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = envbool("AMURLINK_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = envint("AMURLINK_HSTS_SECONDS", 0)
if envbool("AMURLINK_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = envlist("AMURLINK_CSRF_TRUSTED_ORIGINS", [])
#: Content-Security-Policy of every page (core.middleware): the platform's own files only.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
#: Policy of analysis result files (self-contained reports): sandboxed, no network at all.
CSP_SANDBOX = ("sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; "
               "style-src 'unsafe-inline'; img-src data:; font-src data:; "
               "frame-ancestors 'none'")

# -- languages ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
#: Each language in its own name (the language menu reads the same in every language).
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文"), ("ru", "Русский")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]

# -- analysis jobs ---------------------------------------------------------------------------
#: amurlink.toml of the study (its [border] file); else one beside the joint package.
STUDY_CONFIG = envstr("AMURLINK_STUDY_CONFIG", "")
#: Run jobs inside the request that queues them (tests, tiny sites) instead of in ``runjobs``.
JOBS_RUN_SYNC = envbool("AMURLINK_JOBS_SYNC", False)
#: The task queue: Django's task framework (django-tasks backport) on the database, so every
#: worker on every machine that reaches the database takes jobs from the same queue.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
#: A worker that has not written its heartbeat for this long counts as gone (jobs page warns).
JOBS_WORKER_ALIVE_S = envint("AMURLINK_JOBS_WORKER_ALIVE_S", 30)

# -- uploads and stored packages -------------------------------------------------------------
DATA_DIR = Path(envstr("AMURLINK_WEB_DATA", str(HOME / "data")))
UPLOAD_MAX_BYTES = envint("AMURLINK_UPLOAD_MAX_BYTES", 2 * 1024**3)
# Uploads above 256 KiB go straight to a temporary file, never into memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
FILE_UPLOAD_TEMP_DIR = None
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024**2
FILE_UPLOAD_PERMISSIONS = 0o600

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"amurlink_web": {"handlers": ["console"], "level": "INFO"}},
}
