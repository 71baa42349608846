"""Each app's own knobs, one section per app, in the order of the app tower (bottom first)."""

from config.settings.core import DEBUG
from config.settings.env import env

# PROVIDERS
# ------------------------------------------------------------------------------
PROVIDER_CONNECT_TIMEOUT = env.float("PROVIDER_CONNECT_TIMEOUT", default=5.0)
PROVIDER_READ_TIMEOUT = env.float("PROVIDER_READ_TIMEOUT", default=30.0)
# Outbound calls (providers' base_url, received-file downloads) never go to link-local or cloud
# metadata addresses; loopback and private networks only when this is on (a self-hosted
# Evolution on the same network). See core/http_guard.py and docs/api.md.
PROVIDER_ALLOW_PRIVATE_NETWORKS = env.bool("PROVIDER_ALLOW_PRIVATE_NETWORKS", default=False)

# CONTACTS
# ------------------------------------------------------------------------------
PHONE_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", default="BR")

# INSTANCES
# ------------------------------------------------------------------------------
# Where providers reach this deployment; webhook URLs given to Evolution start with it.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
# One pooled requests.Session per process: hosts kept alive, connections per host.
# https://requests.readthedocs.io/en/latest/api/#requests.adapters.HTTPAdapter
PROVIDER_POOL_CONNECTIONS = env.int("PROVIDER_POOL_CONNECTIONS", default=10)
PROVIDER_POOL_MAXSIZE = env.int("PROVIDER_POOL_MAXSIZE", default=20)

# Meta's WhatsApp Cloud API: the Graph API version every call names, and its address (a
# loopback fake in tests). https://developers.facebook.com/docs/graph-api/guides/versioning
CLOUD_API_VERSION = env("CLOUD_API_VERSION", default="v23.0")
CLOUD_API_BASE_URL = env("CLOUD_API_BASE_URL", default="https://graph.facebook.com")
# Where the Evolution-v2-shaped payloads the sandbox plays back go: unset or empty, to the
# webhook intake (the `sandbox_event_played` signal); a dotted path, to that `sink(payload)`;
# "off", nowhere (only the sandbox's own rows move; the setting is then "").
_sandbox_event_sink = env("SANDBOX_EVENT_SINK", default="")
SANDBOX_EVENT_SINK = "" if _sandbox_event_sink == "off" else (_sandbox_event_sink or None)
# Numbers that work when added (docs/contract.md): a state nothing reported on for this
# long is asked again by a beat job (config/settings/periodic.py), and by a dispatcher that has
# no open number.
INSTANCES_CONNECTION_STALE_SECONDS = env.int("INSTANCES_CONNECTION_STALE_SECONDS", default=900)

# CAMPAIGNS
# ------------------------------------------------------------------------------
# The dispatcher claims this many due recipients at a time and holds them for the
# lease, which its heartbeat extends while it works (every 5 s); a worker that dies leaves
# them `sending` until the lease runs out, then those never attempted are `pending` again
# and those whose request may have left become `unknown` (never re-sent). A send slower
# than the lease is safe: its recipient is `unknown` until the answer makes it `sent`, and
# the rest of its batch, taken by another dispatcher, is refused to this one (`Batch.mark`).
CAMPAIGNS_BATCH_SIZE = env.int("CAMPAIGNS_BATCH_SIZE", default=20)
CAMPAIGNS_LEASE_SECONDS = env.int("CAMPAIGNS_LEASE_SECONDS", default=20)
# A send that met an outage (database, Redis) before its request left is due again this soon.
CAMPAIGNS_OUTAGE_RETRY_SECONDS = env.float("CAMPAIGNS_OUTAGE_RETRY_SECONDS", default=2)
# Dispatcher tasks started per execution (they share its recipients through the claim).
CAMPAIGNS_DISPATCH_FAN_OUT = env.int("CAMPAIGNS_DISPATCH_FAN_OUT", default=2)
# A dispatcher task works this long, then queues its successor (others get a turn).
CAMPAIGNS_TASK_BUDGET_SECONDS = env.float("CAMPAIGNS_TASK_BUDGET_SECONDS", default=20)
# Waits for a send slot up to this long inside a task; longer waits go back to the queue.
CAMPAIGNS_MAX_SLEEP_SECONDS = env.float("CAMPAIGNS_MAX_SLEEP_SECONDS", default=10)
# Longest Celery countdown queued; anything later is found by the sweep (must stay well
# under CELERY_VISIBILITY_TIMEOUT, or Redis delivers the task twice).
CAMPAIGNS_MAX_COUNTDOWN_SECONDS = env.int("CAMPAIGNS_MAX_COUNTDOWN_SECONDS", default=120)
# The sweep re-queues a live execution whose heartbeat is older: a live dispatcher beats every
# second, except inside one provider call (up to PROVIDER_CONNECT_TIMEOUT + PROVIDER_READ_TIMEOUT).
# A worker that starts or reconnects to the broker re-queues those quiet for 3 s at once.
CAMPAIGNS_HEARTBEAT_STALE_SECONDS = env.int("CAMPAIGNS_HEARTBEAT_STALE_SECONDS", default=45)
# An `unknown` recipient is checked with its provider this long after its attempt (campaigns.sending.reconcile).
CAMPAIGNS_RECONCILE_AFTER_SECONDS = env.int("CAMPAIGNS_RECONCILE_AFTER_SECONDS", default=120)
# A dispatcher waits out a database or Redis outage this long inside its task, retrying every second.
CAMPAIGNS_OUTAGE_PATIENCE_SECONDS = env.float("CAMPAIGNS_OUTAGE_PATIENCE_SECONDS", default=300)
# ProviderUnavailable: retry after base * 2^n seconds (±20%), at most max.
CAMPAIGNS_RETRY_BASE_SECONDS = env.float("CAMPAIGNS_RETRY_BASE_SECONDS", default=30)
CAMPAIGNS_RETRY_MAX_SECONDS = env.float("CAMPAIGNS_RETRY_MAX_SECONDS", default=3600)
# Daily sends per number by its age: (younger than N days, cap). Sandbox numbers have none.
CAMPAIGNS_WARMUP_LADDER = [(1, 40), (3, 80), (7, 150), (14, 300), (21, 600)]
# Daily cap of numbers past the ladder; 0 = none.
CAMPAIGNS_INSTANCE_DAILY_CAP = env.int("CAMPAIGNS_INSTANCE_DAILY_CAP", default=0)
# Dotted path of a `now()` the dispatcher lives by; "" = the system clock (tests move it).
CAMPAIGNS_CLOCK = env("CAMPAIGNS_CLOCK", default="")
# Campaign totals are recounted from recipient states every minute for the campaigns
# with an execution live or finished within this many days (later statuses come by webhook).
CAMPAIGNS_TOTALS_REFRESH_DAYS = env.int("CAMPAIGNS_TOTALS_REFRESH_DAYS", default=7)

# SCHEDULES (campaigns.schedules; docs/schedules.md)
# ------------------------------------------------------------------------------
# The ticker locks this many due schedules per transaction, works up to the budget, and
# when more are due asks FAN_OUT - 1 other workers to share them. A long budget keeps it
# from requeueing behind the dispatchers of the executions it just started (the task is
# acknowledged on receipt, so its length is not bounded by the broker's visibility timeout).
SCHEDULES_TICKER_BATCH_SIZE = env.int("SCHEDULES_TICKER_BATCH_SIZE", default=50)
SCHEDULES_TICKER_BUDGET_SECONDS = env.float("SCHEDULES_TICKER_BUDGET_SECONDS", default=600)
SCHEDULES_TICKER_FAN_OUT = env.int("SCHEDULES_TICKER_FAN_OUT", default=2)

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
    # Hours the bot stays quiet with a contact once a person takes over (docs/flows.md).
    "HANDOFF_HOURS": env.int("HANDOFF_HOURS", default=12),
}
# Files contacts send are downloaded into media storage up to this size; off keeps the URL only.
FLOWS_DOWNLOAD_FILES = env.bool("FLOWS_DOWNLOAD_FILES", default=True)
FLOWS_MAX_FILE_BYTES = env.int("FLOWS_MAX_FILE_BYTES", default=10 * 1024 * 1024)

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
