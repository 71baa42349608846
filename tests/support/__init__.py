"""Helpers the tests (and bench/) share; fixtures stay in conftest.py files, factories in tests/factories/.

- `browser`: headless Chromium for Playwright (`CHROMIUM`, `ARGS`, `needs_chromium`, `log_in`).
- `clock`: a clock the test moves, shared with worker processes through Redis
  (`CAMPAIGNS_CLOCK=tests.support.clock.now`).
- `contract`: the inherited contract's bodies as the old docs print them, and the schedules' helpers.
- `embedded`: marks for the embedded tier (SQLite, no Redis): `needs_postgresql`, `needs_redis`.
- `fakes/provider_server.py`: a real HTTP server playing Evolution API and GOSAC, recording
  requests and answering as scripted (`python -m tests.support.fakes.provider_server`).
- `fakes/partners.py`: Pontta, Google (Sheets, Drive, OAuth) and an outbound-webhook receiver.
- `fuzz`: the whole API fuzzed from its OpenAPI schema against gunicorn (`LiveServer`, `fuzz`, `seed`).
- `gosac`: GOSAC `messages:created` payloads from the captured fixtures and a sender posting them.
- `instances`: providers' recorded answers (`answer`) and an instance's row after the counters' flush.
- `metrics`: reading /metrics as Prometheus would (`scrape`, `value`).
- `sequences`: rows with given ids on PostgreSQL and SQLite (`skip_ids_past`, `set_next_id`).
- `schedules`: plain stand-ins for Schedule and ScheduleException, and instants written as the API does.
- `workers`: real Celery worker processes on the test database (`Workers`, `wait_for`).
"""
