# `make run` and `make demo` need only Python 3.11; `make test` needs PostgreSQL.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
PORT ?= 8000
DEMO_PORT ?= 8765
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/lede
# pytest-xdist workers: one a core (each has its own test database); tests
# sharing a fixed Redis database run in one worker (xdist_group "redis").
TEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=10

DEMO_DATABASE_URL := sqlite:///$(CURDIR)/var/demo.sqlite3

.PHONY: run demo superuser test setup browser bench-tools bench clean

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
demo: export DATABASE_URL := $(DEMO_DATABASE_URL)
demo: export FETCH_PRIVATE_ALLOWLIST := 127.0.0.1:$(DEMO_PORT)
demo: setup
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) setup_schedules
	PORT=$(PORT) $(BIN)/python -m demo.run --demo-port $(DEMO_PORT)

# An editor's account for /admin/: in the database `make run` uses, or with
# DEMO=1 in the demo's own. DJANGO_SUPERUSER_USERNAME, _EMAIL and _PASSWORD in
# the environment create it without questions.
superuser: setup
	$(if $(DEMO),DATABASE_URL=$(DEMO_DATABASE_URL)) $(MANAGE) migrate --noinput --verbosity 0
	$(if $(DEMO),DATABASE_URL=$(DEMO_DATABASE_URL)) $(MANAGE) createsuperuser $(if $(DJANGO_SUPERUSER_PASSWORD),--noinput)

# Browser tests drive Debian's chromium; Playwright cannot download its own here.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests (needs root)…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The embedded default's leg: what `make run` uses (SQLite in WAL mode, the
# ORM broker's database), for the tests of the pipeline, views, search, admin
# and reader. Tests marked postgresql say why they are skipped there.
EMBEDDED_TESTS := tests/test_pipeline.py tests/test_tasks.py tests/test_ingest.py \
	tests/test_sources.py tests/test_related.py tests/test_views.py tests/test_reader.py \
	tests/test_admin.py tests/test_page_cache.py tests/test_feeds.py tests/test_commands.py \
	tests/test_outages.py tests/test_websub.py \
	tests/test_related_coverage.py tests/test_retention.py tests/test_menus.py \
	tests/test_browser_reader.py tests/test_bad_input.py tests/test_story_additions.py \
	tests/test_publisher_terms.py tests/test_encoding.py tests/test_feed_refusals.py tests/test_extract_tags.py \
	tests/test_source_import.py \
	tests/test_browser_editor.py tests/test_images.py tests/test_page_parts.py

test: setup browser
	@echo "== PostgreSQL: the whole suite"
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PYTEST)
	@echo "== SQLite, the embedded default: pipeline, views, search, admin and reader"
	DATABASE_URL=sqlite:///$(CURDIR)/var/embedded-test.sqlite3 $(PYTEST) $(EMBEDDED_TESTS)

# wrk (Debian) is the load tool bench/pages.py prefers; it falls back to Python.
bench-tools:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "Installing Debian's wrk for bench/pages.py (needs root)…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null \
	  || echo "wrk not installed: bench/pages.py uses its Python load generator"; }

# The figures quoted in README.md's Performance section (PostgreSQL and Redis).
bench: setup bench-tools
	$(BIN)/python bench/extraction.py
	$(BIN)/python bench/related.py --dataset ../shared/corpus/related/ecbplus/ecbplus_docs.jsonl
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/lede_related_bench \
	  $(BIN)/python bench/related.py --dataset ../shared/corpus/related/ecbplus/ecbplus_docs.jsonl --filler 100000
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/freshness.py
	$(BIN)/python bench/pages.py --articles 100000 --compare 1000

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
