# Quick start:  `make run`  (embedded: SQLite + filesystem broker, nothing else needed)
#               `make test` (PostgreSQL and Redis on localhost, see TEST_* below)

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

# `make test` talks to these; override them from the environment.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/whatsflow
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=
# The embedded default as a tier of its own: the API and contract tests again on SQLite, no Redis,
# DEBUG=1 as `make run` has it (so raw SQL meets query logging). Runs with the whole suite only,
# unless given; `make test-embedded` runs it alone.
EMBEDDED_TESTS := tests/contract tests/accounts/test_api.py tests/campaigns/api tests/contacts/test_api.py \
	tests/contacts/test_api_bulk.py tests/flows/api tests/flows/test_api.py tests/flows/test_api_controls.py \
	tests/instances/test_api.py tests/integrations/test_api.py
EMBEDDED_PYTEST_ARGS ?= $(if $(PYTEST_ARGS),,$(EMBEDDED_TESTS) -q)

.PHONY: install run migrate seed test test-embedded lint format browser messages clean

install: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

# `make run` is for a laptop: DEBUG on (which also allows the dev SECRET_KEY) unless
# you set DEBUG yourself. With DATABASE_URL / REDIS_URL set it uses them instead.
run: export DEBUG ?= 1
run: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py setup_periodic_tasks
	$(BIN)/python manage.py seed_demo
	@echo "Starting web, worker and beat: http://127.0.0.1:8000/admin/  (Ctrl-C stops them)"
	@# Ctrl-C reaches make and the process manager; the recipe's shell ignores it and the manager
	@# stops every process (waiting for Celery's warm shutdown) and exits 0, so make reports nothing.
	@# On this laptop the worker may run as root (Celery's warning silenced); production must not.
	@trap '' INT; PATH="$(abspath $(BIN)):$$PATH" \
		PYTHONWARNINGS="ignore:You're running the worker with superuser privileges:UserWarning" \
		$(BIN)/python config/procfile.py start -f Procfile

# Chromium drives the admin in the browser tests (Debian's package; root installs it).
browser:
	@command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "Browser tests need Chromium: sudo apt-get install chromium" >&2; fi; }

test: install browser
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache   # the app tower and each large app's floors (.importlinter)
	DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" SECRET_KEY=test-only DEBUG=0 LANGUAGE_CODE=en \
		INTEGRATIONS_ENCRYPTION_KEYS="$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
		$(BIN)/pytest $(PYTEST_ARGS)
	@$(if $(EMBEDDED_PYTEST_ARGS),$(MAKE) --no-print-directory test-embedded EMBEDDED_PYTEST_ARGS="$(EMBEDDED_PYTEST_ARGS)")

# pytest-django turns DEBUG off unless told (django_debug_mode); the database is SQLite in memory.
test-embedded: install
	mkdir -p var
	DATABASE_URL="sqlite:///$(CURDIR)/var/test-embedded.sqlite3" REDIS_URL= SECRET_KEY=test-only DEBUG=1 LANGUAGE_CODE=en \
		INTEGRATIONS_ENCRYPTION_KEYS="$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
		$(BIN)/pytest -o django_debug_mode=true --create-db $(EMBEDDED_PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh locale/pt_BR after changing user-facing strings; translate the new msgstr
# entries in the .po (tests/locale/test_translations.py fails while any is empty), then compile.
messages: install
	DEBUG=1 $(BIN)/python manage.py makemessages -l pt_BR --ignore=.venv --ignore=var --ignore=bench --ignore=tests
	DEBUG=1 $(BIN)/python manage.py compilemessages -l pt_BR --ignore=.venv

clean:
	rm -rf $(VENV) var
