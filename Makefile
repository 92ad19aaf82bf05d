# `make run` and `make demo` need only Python 3.11; `make test` needs PostgreSQL.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
PORT ?= 8000
DEMO_PORT ?= 8765
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/lede

.PHONY: run demo test setup browser clean

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

setup: $(BIN)/.installed

# The embedded default: SQLite (WAL) in var/, django-q2's ORM broker.
run: setup
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) setup_schedules
	$(MANAGE) import_opml sources/default.opml
	PORT=$(PORT) $(MANAGE) serve

# The same on its own database, fed by the bundled sample news web (offline).
demo: export DATABASE_URL := sqlite:///$(CURDIR)/var/demo.sqlite3
demo: export FETCH_PRIVATE_ALLOWLIST := 127.0.0.1:$(DEMO_PORT)
demo: setup
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) setup_schedules
	PORT=$(PORT) $(MANAGE) serve --demo-port $(DEMO_PORT)

# Browser tests drive Debian's chromium; Playwright cannot download its own here.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests (needs root)…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: setup browser
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
