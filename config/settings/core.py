"""Django itself: debug and key, languages, the database, apps, templates, the admin's theme, files, logs."""

from django.utils.translation import gettext_lazy as _

from config.logfmt import logging_config
from config.settings.env import BASE_DIR, VAR_DIR, env

VERSION = "0.1.0"

# GENERAL
# ------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
# A development key exists only in DEBUG; anywhere else the key must be set.
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key" if DEBUG else None)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

LANGUAGE_CODE = env("LANGUAGE_CODE", default="pt-br")
LANGUAGES = [("pt-br", _("Brazilian Portuguese")), ("en", _("English"))]
# Ours first; then the admin theme's words, which it ships no pt-BR catalog for.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_theme"]
TIME_ZONE = env("TIME_ZONE", default="America/Sao_Paulo")
USE_I18N = True
USE_TZ = True

# DATABASES
# ------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: WAL lets readers run beside one writer,
    # IMMEDIATE takes the write lock up front instead of failing mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database that does not answer fails a connection in seconds (a 503, a retried task), not minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    )
    # Django's queries bind parameters client-side and are never prepared. Statements run with
    # `prepare=True` (the webhook intake's, `webhooks.store`) are prepared once per connection,
    # unless this is off: PgBouncer in transaction mode needs 1.21+ with max_prepared_statements.
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# APPS
# ------------------------------------------------------------------------------
INSTALLED_APPS = [
    # The admin's theme (django-unfold) must come before django.contrib.admin.
    "unfold",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "rest_framework",
    "django_filters",
    "django_celery_beat",
    "corsheaders",
    "axes",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "contacts",
    "instances",
    "flows",
    "campaigns",
    "webhooks",
    "integrations",
]

MIDDLEWARE = [
    "core.middleware.DrainUnreadBody",
    "config.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.RefuseUnstorableQuery",
    "core.middleware.AnswerDatabaseOutages",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
# A login without `next` (unfold's login form posts none) lands on the back-office, not on
# Django's default /accounts/profile/ (a 404 here).
LOGIN_REDIRECT_URL = "admin:index"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

# django-axes first: it refuses a locked-out username+address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# ADMIN THEME (django-unfold; every asset is bundled, nothing loads from a CDN)
# ------------------------------------------------------------------------------
UNFOLD = {
    "SITE_TITLE": "WhatsFlow",
    "SITE_HEADER": "WhatsFlow",
    "SITE_SYMBOL": "forum",
    "SITE_URL": "/admin/",
    "SITE_FAVICONS": [{"rel": "icon", "type": "image/svg+xml", "href": "/favicon.svg"}],
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "SHOW_LANGUAGES": False,
    "DASHBOARD_CALLBACK": "campaigns.dashboard.dashboard_callback",
    "COLORS": {
        "primary": {
            "50": "oklch(98.2% .018 155.826)",
            "100": "oklch(96.2% .044 156.743)",
            "200": "oklch(92.5% .084 155.995)",
            "300": "oklch(87.1% .15 154.449)",
            "400": "oklch(79.2% .209 151.711)",
            "500": "oklch(72.3% .219 149.579)",
            "600": "oklch(62.7% .194 149.214)",
            "700": "oklch(52.7% .154 150.069)",
            "800": "oklch(44.8% .119 151.328)",
            "900": "oklch(39.3% .095 152.535)",
            "950": "oklch(26.6% .065 152.934)",
        },
    },
}
# Form widgets may use the project's templates (the admin's JSON editors live under templates/).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
# Changelists of large tables count exactly up to this many rows, then show an estimate.
ADMIN_EXACT_COUNT_LIMIT = env.int("ADMIN_EXACT_COUNT_LIMIT", default=10_000)
# How often (seconds) the live admin pages poll their JSON endpoints.
ADMIN_POLL_SECONDS = env.int("ADMIN_POLL_SECONDS", default=3)

# STATIC AND MEDIA
# ------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Provider webhooks may inline base64 media; the webhook views enforce their own limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)

# LOGGING
# ------------------------------------------------------------------------------
# One line per event, UTC, with the request/organization/campaign/execution/instance/conversation
# ids known where it was written (config/logfmt.py, config/logs.py). LOG_FORMAT=json: JSON lines.
# Celery's per-tick and per-task INFO lines (beat's "Sending due task", the worker's "received"
# / "succeeded") are off unless LOG_TASKS; failures are still logged. docs/operations.md "Logs".


LOG_FORMAT = env("LOG_FORMAT", default="text")
_TASK_LOGGERS = ("celery.beat", "celery.app.trace", "celery.worker.strategy")
LOGGING = logging_config(
    log_format=LOG_FORMAT,
    level=env("LOG_LEVEL", default="INFO"),
    quiet={} if env.bool("LOG_TASKS", default=False) else {name: "WARNING" for name in _TASK_LOGGERS},
)
