"""Shared infrastructure every app uses, knowing nothing of the product's domain.

It sits under `accounts` in the app tower and imports only Django, its libraries and
`config` (settings):

- `json_input`: reading untrusted JSON (bounded nesting, no NUL or lone surrogate, numbers
  that fit), for the API (`parsers`, `forms`, `middleware`) and the webhooks;
- `http_guard`: which addresses the server may call (the SSRF guard) and requests' guarded
  transport, for the provider clients and the integrations;
- `ratelimit` and `throttles`: who a request comes from, failed authentications per address,
  DRF's throttles;
- `schema`: the OpenAPI contract's shared parts (bearer authentication, error bodies);
- `bounds`, `spreadsheets`: numeric ranges held in form, API and database; CSV cells made safe;
- `redis`, `db`: the Redis client and key prefix; connection tuning and one-statement updates;
- `admin_widgets`: the admin's JSON editors.

Tenancy (which organization's rows a request sees) is `accounts.tenancy` and `accounts.admin`:
it needs the organizations and their members.
"""
