# Two commands on a fresh machine:  `make run`  and  `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
AZURITE := tools/azurite/node_modules/.bin/azurite-blob
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

.PHONY: setup run test test-sqlite test-postgres lint format bench image

$(VENV)/.installed: requirements.txt clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(AZURITE): tools/azurite/package.json
	npm install --prefix tools/azurite --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed

# Set up, migrate SQLite, print a local admin key on first run, serve on
# http://127.0.0.1:8080 with the background worker. Ctrl-C stops both.
run: setup
	DJANGO_DEBUG=1 $(PY) manage.py serve

# Lint, then the whole suite on SQLite and then on PostgreSQL.
test: setup $(AZURITE)
	$(MAKE) --no-print-directory lint test-sqlite test-postgres

# ruff: lint (pyflakes, pycodestyle, import order, bugbear, pyupgrade, Django) and formatting, as ruff.toml says.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# Rewrite the tree as `make lint` wants it (imports sorted, formatted).
format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test-sqlite: setup $(AZURITE)
	DATABASE_URL=sqlite:///var/test.sqlite3 $(PY) -m pytest $(PYTEST_ARGS)

test-postgres: setup $(AZURITE)
	DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest $(PYTEST_ARGS)

# The container image (Dockerfile; podman or docker): labelhub:latest, or IMAGE=name:tag.
# From python:3.11-slim-bookworm, or a Debian base made with debootstrap where it cannot be pulled.
image:
	deploy/image/build.sh
