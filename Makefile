# OpenKAM — the two commands: `make demo` and `make test`. Everything else is a helper they use.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
PYTEST_ARGS ?= -n 2 --dist loadfile
export DJANGO_SETTINGS_MODULE := config.settings
export XDG_RUNTIME_DIR ?= /tmp

.PHONY: demo test install lint typecheck contracts check openapi openapi-check pytest bench db-stop clean help

help:
	@echo "make demo   install, start the embedded PostgreSQL, migrate, load the demo world, serve on :$(PORT)"
	@echo "make test   install and run every check and test (lint, types, contracts, checks, drift, pytest)"
	@echo "make bench  build a benchmark world and time the named operations (SCALE=demo|large)"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "Cannot create a venv: on Debian run 'apt-get install python3.11-venv'"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

demo: install
	$(PY) manage.py rundemo --port $(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy openkam config

contracts: install
	$(VENV)/bin/lint-imports

check: install
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run

openapi: install
	$(PY) manage.py export_openapi --output docs/api/openapi.json

openapi-check: install
	$(PY) manage.py export_openapi --check docs/api/openapi.json

pytest: install
	DJANGO_ALLOW_ASYNC_UNSAFE=true OPENKAM_ENV=test $(VENV)/bin/pytest $(PYTEST_ARGS) --create-db

test: lint typecheck contracts check openapi-check pytest

SCALE ?= demo
BENCH_ARGS ?=
bench: install
	OPENKAM_ENV=bench $(PY) manage.py bench --scale $(SCALE) $(BENCH_ARGS)

db-stop:
	@test -x $(PY) && $(PY) -c "from openkam.core import embedded_db; print('embedded PostgreSQL stopped' if embedded_db.stop() else 'still running')" || true

clean: db-stop
	rm -rf var/static .pytest_cache .mypy_cache .ruff_cache
