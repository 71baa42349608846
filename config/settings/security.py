"""HTTPS and headers, the content security policy, rate limits and the login lockout, CORS."""

from datetime import timedelta

from config.settings.env import env

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


# SECURITY: RATE LIMITS (docs/api.md "Limits")
# ------------------------------------------------------------------------------
# Proxies in front of the web process that append to X-Forwarded-For (0: REMOTE_ADDR is the client).
# Every per-address limit below, and django-axes, reads the address this way (core.ratelimit).
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
AXES_CLIENT_IP_CALLABLE = "core.ratelimit.client_ip_for_axes"
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)


# https://github.com/adamchainz/django-cors-headers: the API only, origins from the
# environment (e.g. https://app.example.com), nothing allowed by default.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/v1/.*$"
CORS_ALLOW_HEADERS = ("accept", "authorization", "content-type", "user-agent", "x-request-id", "x-requested-with")
CORS_EXPOSE_HEADERS = ["X-Request-ID"]
