"""Settings, all read from the environment (see `.env.example`).

The default runs on nothing: SQLite under `var/` and Celery's filesystem broker, so
`make run` works on a fresh machine. `DATABASE_URL` and `REDIS_URL` switch to
PostgreSQL and Redis, which is how the product runs in production and in the tests.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VERSION = "0.1.0"

# GENERAL
# ------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
# A development key exists only in DEBUG; anywhere else the key must be set.
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key" if DEBUG else None)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# SECURITY: HTTPS AND HEADERS (docs/api.md "Production settings"; `manage.py check --deploy`)
# ------------------------------------------------------------------------------
# Off by default so `make run` and the tests work over plain http; production turns them on.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Behind a TLS-terminating proxy, the header it sets, e.g. "HTTP_X_FORWARDED_PROTO,https".
# Set it only when the proxy overwrites that header on every request.
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if len(_proxy_ssl_header) == 2 else None
SECURE_REFERRER_POLICY = env("SECURE_REFERRER_POLICY", default="same-origin")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp 4). Every list is space/comma separated in the environment;
# the defaults are what the admin, Swagger UI and ReDoc (served from this origin) need: the unfold
# theme runs Alpine.js, which evaluates its attributes ('unsafe-eval'), and the back-office's live
# pages carry small inline scripts ('unsafe-inline'). Scripts still load from this origin only.
# CSP_REPORT_ONLY=1 sends Content-Security-Policy-Report-Only instead (try a change first).
_csp = {
    "default-src": env.list("CSP_DEFAULT_SRC", default=["'self'"]),
    "script-src": env.list("CSP_SCRIPT_SRC", default=["'self'", "'unsafe-inline'", "'unsafe-eval'"]),
    # Inline style attributes are allowed: the admin's badges (and admin themes) colour with them.
    "style-src": env.list("CSP_STYLE_SRC", default=["'self'", "'unsafe-inline'"]),
    "img-src": env.list("CSP_IMG_SRC", default=["'self'", "data:"]),
    "font-src": env.list("CSP_FONT_SRC", default=["'self'", "data:"]),
    "connect-src": env.list("CSP_CONNECT_SRC", default=["'self'"]),
    "worker-src": env.list("CSP_WORKER_SRC", default=["'self'", "blob:"]),
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}
if env("CSP_REPORT_URI", default=""):
    _csp["report-uri"] = env("CSP_REPORT_URI")
if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": _csp}
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": _csp}

# https://docs.djangoproject.com/en/5.2/topics/i18n/
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
    "config.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.RefuseUnstorableQuery",
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

# CACHE AND REDIS
# ------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
# Every key this process writes to Redis starts with this (tests give each run its own).
REDIS_KEY_PREFIX = env("REDIS_KEY_PREFIX", default="wf")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            # Under REDIS_KEY_PREFIX and this database's installation id, as every key (config.redis).
            "KEY_FUNCTION": "config.redis.cache_key",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# CELERY
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
# ------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any countdown we queue; longer waits live in the database.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        "global_keyprefix": f"{REDIS_KEY_PREFIX}:",
    }
else:
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# REST FRAMEWORK
# https://www.django-rest-framework.org/api-guide/settings/
# ------------------------------------------------------------------------------
# UNTRUSTED INPUT
# ------------------------------------------------------------------------------
# How deep a JSON body may nest (API and webhooks); deeper is a 400 (config/json_input.py).
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=64)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.HasOrganizationRole"],
    "DEFAULT_FILTER_BACKENDS": [
        "accounts.filters.TenantFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "accounts.api.exception_handler",
    # The project's parsers bound nesting and refuse NUL, lone surrogates and numbers
    # that overflow, naming the field (accounts/parsers.py, docs/api-errors.md).
    "DEFAULT_PARSER_CLASSES": [
        "accounts.parsers.JSONParser",
        "accounts.parsers.FormParser",
        "accounts.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "accounts.schema.AutoSchema"
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "accounts.throttles.TokenRateThrottle",
    "accounts.throttles.AddressRateThrottle",
]

# SECURITY: RATE LIMITS (docs/api.md "Limits")
# ------------------------------------------------------------------------------
# Proxies in front of the web process that append to X-Forwarded-For (0: REMOTE_ADDR is the client).
# Every per-address limit below, and django-axes, reads the address this way (config.ratelimit).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# DRF throttles ("N/s|min|hour|day"; "" = off): per API token (or session user) and per address.
API_THROTTLE_TOKEN_RATE = env("API_THROTTLE_TOKEN_RATE", default="600/min")
API_THROTTLE_ADDRESS_RATE = env("API_THROTTLE_ADDRESS_RATE", default="1200/min")
# Requests without valid credentials (no token, a bad or revoked one): at most this many per
# address per window, then 429 (0 = no limit).
API_AUTH_FAILURE_LIMIT = env.int("API_AUTH_FAILURE_LIMIT", default=30)
API_AUTH_FAILURE_WINDOW_SECONDS = env.int("API_AUTH_FAILURE_WINDOW_SECONDS", default=300)
# Webhook posts with an unknown instance or a wrong secret/API key, per address and window.
WEBHOOKS_AUTH_FAILURE_LIMIT = env.int("WEBHOOKS_AUTH_FAILURE_LIMIT", default=30)
WEBHOOKS_AUTH_FAILURE_WINDOW_SECONDS = env.int("WEBHOOKS_AUTH_FAILURE_WINDOW_SECONDS", default=300)
# Admin login lockout (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username
# from one address, that pair is refused (429) for the cool-off; a good login resets the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.ratelimit.client_ip_for_axes"
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

# API SCHEMA (drf-spectacular; docs/api.md)
# ------------------------------------------------------------------------------
SPECTACULAR_SETTINGS = {
    "TITLE": "WhatsFlow API",
    "DESCRIPTION": "Contacts, chatbot flows, campaigns (flow automations) and WhatsApp instances. "
    "Authenticate with `Authorization: Bearer <token>`.",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": r"/api/v1/",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc from the installed drf-spectacular-sidecar package, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"ExecutionStatusEnum": "campaigns.models.Execution.Status"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "accounts.schema.add_shared_components",
        "webhooks.schema.add_webhook_paths",
    ],
}

# PROVIDERS
# ------------------------------------------------------------------------------
PROVIDER_CONNECT_TIMEOUT = env.float("PROVIDER_CONNECT_TIMEOUT", default=5.0)
PROVIDER_READ_TIMEOUT = env.float("PROVIDER_READ_TIMEOUT", default=30.0)
# Outbound calls (providers' base_url, received-file downloads) never go to link-local or cloud
# metadata addresses; loopback and private networks only when this is on (a self-hosted
# Evolution on the same network). See instances/addresses.py and docs/api.md.
PROVIDER_ALLOW_PRIVATE_NETWORKS = env.bool("PROVIDER_ALLOW_PRIVATE_NETWORKS", default=False)

# CONTACTS
# ------------------------------------------------------------------------------
PHONE_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", default="BR")

# DEMO
# ------------------------------------------------------------------------------
# `manage.py seed_demo` calls each of these with the demo organization, in order.
DEMO_SEEDERS = [
    "contacts.demo.seed",
    "instances.demo.seed",
    "flows.demo.seed",
    "campaigns.demo.seed",
]

# LOGGING
# ------------------------------------------------------------------------------
# One line per event, UTC, with the request/organization/campaign/execution/instance/conversation
# ids known where it was written (config/logfmt.py, config/logs.py). LOG_FORMAT=json: JSON lines.
# Celery's per-tick and per-task INFO lines (beat's "Sending due task", the worker's "received"
# / "succeeded") are off unless LOG_TASKS; failures are still logged. docs/operations.md "Logs".
from config.logfmt import logging_config  # noqa: E402

LOG_FORMAT = env("LOG_FORMAT", default="text")
_TASK_LOGGERS = ("celery.beat", "celery.app.trace", "celery.worker.strategy")
LOGGING = logging_config(
    log_format=LOG_FORMAT,
    level=env("LOG_LEVEL", default="INFO"),
    quiet={} if env.bool("LOG_TASKS", default=False) else {name: "WARNING" for name in _TASK_LOGGERS},
)

# OPERATIONS: METRICS, CORS, RETENTION (docs/operations.md)
# ------------------------------------------------------------------------------
# prometheus-client's multiprocess folder, shared by this machine's processes; it must be in
# the environment before prometheus-client is imported (config/metrics_files.py).
from config import metrics_files  # noqa: E402

PROMETHEUS_MULTIPROC_DIR = metrics_files.folder()
PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
# GET /metrics answers `Authorization: Bearer <METRICS_TOKEN>`, or callers whose address is in
# one of these networks (e.g. 10.0.0.0/8,127.0.0.1/32); with neither, nobody (403).
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
# Gauges read from the database at scrape time; each is a function returning metric families.
METRICS_COLLECTORS = ["campaigns.metrics.collect", "instances.metrics.collect"]
# Due recipients are counted up to this many (a LIMIT-bounded count); the gauge reads "at least".
METRICS_DUE_RECIPIENTS_CAP = env.int("METRICS_DUE_RECIPIENTS_CAP", default=100_000)

# https://github.com/adamchainz/django-cors-headers: the API only, origins from the
# environment (e.g. https://app.example.com), nothing allowed by default.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/v1/.*$"
CORS_ALLOW_HEADERS = ("accept", "authorization", "content-type", "user-agent", "x-request-id", "x-requested-with")
CORS_EXPOSE_HEADERS = ["X-Request-ID"]

# Rows older than this many days are deleted by the nightly `ops: retention` job
# (`manage.py apply_retention`), in batches of RETENTION_BATCH_SIZE ids; 0 keeps them forever.
RETENTION_DAYS = {
    "webhook_events": env.int("RETENTION_WEBHOOK_EVENTS_DAYS", default=30),
    "message_history": env.int("RETENTION_MESSAGE_HISTORY_DAYS", default=180),
    "sandbox_messages": env.int("RETENTION_SANDBOX_MESSAGES_DAYS", default=7),
    "send_slots": env.int("RETENTION_SEND_SLOTS_DAYS", default=2),
    "campaign_logs": env.int("RETENTION_CAMPAIGN_LOGS_DAYS", default=90),
    "activity_logs": env.int("RETENTION_ACTIVITY_LOGS_DAYS", default=30),
}
RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=1000)

# PERIODIC TASKS
# ------------------------------------------------------------------------------
# Installed by `manage.py setup_periodic_tasks` (run by `make run`); each entry has
# "task" and either "every_seconds" or "crontab" ("m h dom mon dow"), optional "kwargs".
SYSTEM_PERIODIC_TASKS: dict[str, dict] = {}

# INSTANCES
# ------------------------------------------------------------------------------
# Where providers reach this deployment; webhook URLs given to Evolution start with it.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
# One pooled requests.Session per process: hosts kept alive, connections per host.
# https://requests.readthedocs.io/en/latest/api/#requests.adapters.HTTPAdapter
PROVIDER_POOL_CONNECTIONS = env.int("PROVIDER_POOL_CONNECTIONS", default=10)
PROVIDER_POOL_MAXSIZE = env.int("PROVIDER_POOL_MAXSIZE", default=20)
# Dotted path of a function called as `sink(payload)` with each Evolution-v2-shaped
# webhook payload the sandbox plays back; "" only updates the sandbox's own rows.
SANDBOX_EVENT_SINK = env("SANDBOX_EVENT_SINK", default="webhooks.evolution.intake.accept_sandbox_payload")
SYSTEM_PERIODIC_TASKS["instances: flush daily counters"] = {
    "task": "instances.tasks.flush_instance_counters",
    "every_seconds": 10,
}
# Numbers that work when added (docs/contract.md): a state nothing reported on for this
# long is asked again by the beat job below, and by a dispatcher that has no open number.
INSTANCES_CONNECTION_STALE_SECONDS = env.int("INSTANCES_CONNECTION_STALE_SECONDS", default=900)
SYSTEM_PERIODIC_TASKS["instances: refresh stale connection states"] = {
    "task": "instances.tasks.refresh_stale_connections",
    "every_seconds": 300,
}
# Midnight differs per organization's time zone: reset whoever's local date moved on.
SYSTEM_PERIODIC_TASKS["instances: reset daily counters"] = {
    "task": "instances.tasks.reset_daily_counters",
    "crontab": "*/15 * * * *",
}

# CAMPAIGNS
# ------------------------------------------------------------------------------
# The dispatcher claims this many due recipients at a time and holds them for the
# lease; a worker that dies leaves them `sending` until the lease runs out, then they
# become `unknown` (never re-sent). The lease must outlast a batch of slow sends.
CAMPAIGNS_BATCH_SIZE = env.int("CAMPAIGNS_BATCH_SIZE", default=20)
CAMPAIGNS_LEASE_SECONDS = env.int("CAMPAIGNS_LEASE_SECONDS", default=900)
# Dispatcher tasks started per execution (they share its recipients through the claim).
CAMPAIGNS_DISPATCH_FAN_OUT = env.int("CAMPAIGNS_DISPATCH_FAN_OUT", default=2)
# A dispatcher task works this long, then queues its successor (others get a turn).
CAMPAIGNS_TASK_BUDGET_SECONDS = env.float("CAMPAIGNS_TASK_BUDGET_SECONDS", default=20)
# Waits for a send slot up to this long inside a task; longer waits go back to the queue.
CAMPAIGNS_MAX_SLEEP_SECONDS = env.float("CAMPAIGNS_MAX_SLEEP_SECONDS", default=10)
# Longest Celery countdown queued; anything later is found by the sweep (must stay well
# under CELERY_VISIBILITY_TIMEOUT, or Redis delivers the task twice).
CAMPAIGNS_MAX_COUNTDOWN_SECONDS = env.int("CAMPAIGNS_MAX_COUNTDOWN_SECONDS", default=120)
CAMPAIGNS_HEARTBEAT_STALE_SECONDS = env.int("CAMPAIGNS_HEARTBEAT_STALE_SECONDS", default=120)
# ProviderUnavailable: retry after base * 2^n seconds (±20%), at most max.
CAMPAIGNS_RETRY_BASE_SECONDS = env.float("CAMPAIGNS_RETRY_BASE_SECONDS", default=30)
CAMPAIGNS_RETRY_MAX_SECONDS = env.float("CAMPAIGNS_RETRY_MAX_SECONDS", default=3600)
# Daily sends per number by its age: (younger than N days, cap). Sandbox numbers have none.
CAMPAIGNS_WARMUP_LADDER = [(1, 40), (3, 80), (7, 150), (14, 300), (21, 600)]
# Daily cap of numbers past the ladder; 0 = none.
CAMPAIGNS_INSTANCE_DAILY_CAP = env.int("CAMPAIGNS_INSTANCE_DAILY_CAP", default=0)
# What the instances API and admin call to show a number's cap today and what is left of it
# (the limiter that keeps the count is the campaigns app's; instances does not import it).
INSTANCES_DAILY_CAP_STATUS = "campaigns.limits.cap_status"
# Dotted path of a `now()` the dispatcher lives by; "" = the system clock (tests move it).
CAMPAIGNS_CLOCK = env("CAMPAIGNS_CLOCK", default="")
SYSTEM_PERIODIC_TASKS["campaigns: sweep"] = {"task": "campaigns.tasks.sweep", "every_seconds": 30}
# Campaign totals are recounted from recipient states every minute for the campaigns
# with an execution live or finished within this many days (later statuses come by webhook).
CAMPAIGNS_TOTALS_REFRESH_DAYS = env.int("CAMPAIGNS_TOTALS_REFRESH_DAYS", default=7)
SYSTEM_PERIODIC_TASKS["campaigns: refresh totals"] = {
    "task": "campaigns.tasks.refresh_campaign_totals",
    "every_seconds": 60,
}

# SCHEDULES (campaigns.schedules; docs/schedules.md)
# ------------------------------------------------------------------------------
# The ticker locks this many due schedules per transaction, works up to the budget, and
# when more are due asks FAN_OUT - 1 other workers to share them. A long budget keeps it
# from requeueing behind the dispatchers of the executions it just started (the task is
# acknowledged on receipt, so its length is not bounded by the broker's visibility timeout).
SCHEDULES_TICKER_BATCH_SIZE = env.int("SCHEDULES_TICKER_BATCH_SIZE", default=50)
SCHEDULES_TICKER_BUDGET_SECONDS = env.float("SCHEDULES_TICKER_BUDGET_SECONDS", default=600)
SCHEDULES_TICKER_FAN_OUT = env.int("SCHEDULES_TICKER_FAN_OUT", default=2)
SYSTEM_PERIODIC_TASKS["campaigns: run due schedules"] = {
    "task": "campaigns.tasks.run_due_schedules",
    "every_seconds": 30,
}

# FLOWS
# ------------------------------------------------------------------------------
# Defaults of the bot controls; each organization may override them in the admin
# (Flows > System settings) or through `PUT /api/v1/settings/<key>`.
FLOWS_BOT_DEFAULTS = {
    "BOT_ENABLED": env.bool("BOT_ENABLED", default=True),
    "BOT_STATUS": env("BOT_STATUS", default="active"),
    "TEST_MODE": env.bool("TEST_MODE", default=False),
    # The old chatbot's singular TEST_CONTACT_ID (a GOSAC contact id, e.g. 24914) is read too.
    "TEST_CONTACT_IDS": [
        *env.list("TEST_CONTACT_IDS", default=[]),
        *([env("TEST_CONTACT_ID")] if env("TEST_CONTACT_ID", default="") else []),
    ],
    "DEBOUNCE_TIME": env.int("DEBOUNCE_TIME", default=3000),  # milliseconds
    "MESSAGE_COOLDOWN": env.int("MESSAGE_COOLDOWN", default=2),  # seconds
    # GOSAC: a closed ticket, or one a person has taken (ticket.userId), is not the bot's.
    "BOT_SKIP_TAKEN_TICKETS": env.bool("BOT_SKIP_TAKEN_TICKETS", default=True),
}
# Files contacts send are downloaded into media storage up to this size; off keeps the URL only.
FLOWS_DOWNLOAD_FILES = env.bool("FLOWS_DOWNLOAD_FILES", default=True)
FLOWS_MAX_FILE_BYTES = env.int("FLOWS_MAX_FILE_BYTES", default=10 * 1024 * 1024)
SYSTEM_PERIODIC_TASKS["flows: send due scheduled messages"] = {
    "task": "flows.tasks.send_due_scheduled",
    "every_seconds": 15,
}
SYSTEM_PERIODIC_TASKS["flows: process stale inbound messages"] = {
    "task": "flows.tasks.process_stale_inbound",
    "every_seconds": 60,
}

# WEBHOOKS
# ------------------------------------------------------------------------------
# Bodies over this get a 413 (Evolution may inline base64 media).
WEBHOOKS_MAX_BODY_BYTES = env.int("WEBHOOKS_MAX_BODY_BYTES", default=10 * 1024 * 1024)
# Apply each event before answering (and answer its result) instead of in a worker.
WEBHOOKS_APPLY_IN_REQUEST = env.bool("WEBHOOKS_APPLY_IN_REQUEST", default=False)
# Connection events of an instance within this many seconds are settled together (reconnect storms).
WEBHOOKS_CONNECTION_SETTLE_SECONDS = env.float("WEBHOOKS_CONNECTION_SETTLE_SECONDS", default=5.0)
# Events still pending this long (a lost task) or failed are applied again by the sweep.
WEBHOOKS_RETRY_AFTER_SECONDS = env.int("WEBHOOKS_RETRY_AFTER_SECONDS", default=60)
WEBHOOKS_MAX_ATTEMPTS = env.int("WEBHOOKS_MAX_ATTEMPTS", default=10)
# A status for a message id no recipient has yet is kept and applied again by the retry
# while this young and a send through its instance is being recorded; then `not_campaign`.
WEBHOOKS_UNRECORDED_SEND_GRACE_SECONDS = env.int("WEBHOOKS_UNRECORDED_SEND_GRACE_SECONDS", default=30)
# Whole messages that opt a contact out / back in; organizations may set their own in the admin.
WEBHOOKS_OPT_OUT_KEYWORDS = env.list(
    "WEBHOOKS_OPT_OUT_KEYWORDS",
    default=["SAIR", "PARAR", "CANCELAR", "STOP", "REMOVER", "DESCADASTRAR", "NAO QUERO", "UNSUBSCRIBE"],
)
WEBHOOKS_OPT_IN_KEYWORDS = env.list("WEBHOOKS_OPT_IN_KEYWORDS", default=["VOLTAR", "START"])
# Mounts /api/webhooks/floor, a bare "return 200" view: the floor `bench/webhooks.py` compares with.
WEBHOOKS_FLOOR_VIEW = env.bool("WEBHOOKS_FLOOR_VIEW", default=False)
SYSTEM_PERIODIC_TASKS["webhooks: retry unapplied events"] = {
    "task": "webhooks.tasks.retry_unapplied_webhook_events",
    "every_seconds": 60,
}

# INTEGRATIONS
# ------------------------------------------------------------------------------
# Fernet keys (comma-separated) that encrypt integration secrets at rest: the first encrypts,
# all decrypt (docs/integrations.md "Key rotation"). A development key exists only in DEBUG.
# https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet
_DEV_INTEGRATIONS_KEY = "d2hhdHNmbG93LWRldi1vbmx5LWludGVncmF0aW9ucyE="  # base64 of a public dev-only phrase
INTEGRATIONS_ENCRYPTION_KEYS = env.list(
    "INTEGRATIONS_ENCRYPTION_KEYS", default=[_DEV_INTEGRATIONS_KEY] if DEBUG else []
)
INTEGRATIONS_CONNECT_TIMEOUT = env.float("INTEGRATIONS_CONNECT_TIMEOUT", default=5.0)
INTEGRATIONS_READ_TIMEOUT = env.float("INTEGRATIONS_READ_TIMEOUT", default=20.0)
# A Pontta token is dropped this long before its expiry (then the next call logs in again).
INTEGRATIONS_PONTTA_TOKEN_MARGIN_SECONDS = env.int("INTEGRATIONS_PONTTA_TOKEN_MARGIN_SECONDS", default=60)
# Google: "" = the discovery documents' own addresses; tests point both at a fake server.
INTEGRATIONS_GOOGLE_API_ROOT_URL = env("INTEGRATIONS_GOOGLE_API_ROOT_URL", default="")
INTEGRATIONS_GOOGLE_TOKEN_URI = env("INTEGRATIONS_GOOGLE_TOKEN_URI", default="")
# Flow-step actions: attempts while the partner proves it did nothing, base of the backoff, lease.
INTEGRATIONS_ACTION_MAX_ATTEMPTS = env.int("INTEGRATIONS_ACTION_MAX_ATTEMPTS", default=5)
INTEGRATIONS_ACTION_RETRY_BASE_SECONDS = env.float("INTEGRATIONS_ACTION_RETRY_BASE_SECONDS", default=10)
INTEGRATIONS_ACTION_LEASE_SECONDS = env.int("INTEGRATIONS_ACTION_LEASE_SECONDS", default=300)
# Outbound webhooks: retried with backoff (base * 2^n, at most max) for this many hours.
INTEGRATIONS_WEBHOOK_RETRY_HOURS = env.float("INTEGRATIONS_WEBHOOK_RETRY_HOURS", default=24)
INTEGRATIONS_WEBHOOK_RETRY_BASE_SECONDS = env.float("INTEGRATIONS_WEBHOOK_RETRY_BASE_SECONDS", default=30)
INTEGRATIONS_WEBHOOK_RETRY_MAX_SECONDS = env.float("INTEGRATIONS_WEBHOOK_RETRY_MAX_SECONDS", default=3600)
INTEGRATIONS_WEBHOOK_TIMEOUT = env.float("INTEGRATIONS_WEBHOOK_TIMEOUT", default=10)
INTEGRATIONS_WEBHOOK_BATCH_SIZE = env.int("INTEGRATIONS_WEBHOOK_BATCH_SIZE", default=100)
INTEGRATIONS_WEBHOOK_LEASE_SECONDS = env.int("INTEGRATIONS_WEBHOOK_LEASE_SECONDS", default=300)
INTEGRATIONS_WEBHOOK_DRAIN_SECONDS = env.float("INTEGRATIONS_WEBHOOK_DRAIN_SECONDS", default=20)
SYSTEM_PERIODIC_TASKS["integrations: deliver webhooks"] = {
    "task": "integrations.tasks.drain_webhooks",
    "every_seconds": 10,
}
SYSTEM_PERIODIC_TASKS["integrations: run due actions"] = {
    "task": "integrations.tasks.run_due_actions",
    "every_seconds": 30,
}

# OPERATIONS: nightly retention (see "OPERATIONS" above for the settings)
SYSTEM_PERIODIC_TASKS["ops: retention"] = {"task": "config.tasks.apply_retention", "crontab": "30 3 * * *"}
