# Blue Beret: `make run` serves the app, `make test` checks it.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
PORT ?= 5000

.PHONY: run test lint typecheck pytest setup browser-deps migrate bench bench-deps load messages translations clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml $(BIN)/activate scripts/system-packages
	scripts/system-packages
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

migrate: setup
	$(FLASK) db upgrade

run: migrate translations
	$(FLASK) modules sync
	$(FLASK) demo seed
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy app

# PYTEST_ARGS passes options on, e.g. PYTEST_ARGS=--ignore=tests/browser.
pytest: setup browser-deps translations
	$(BIN)/pytest -q $(PYTEST_ARGS)

# axe-core for the accessibility tests, as pinned by tests/browser/package-lock.json.
BROWSER_DEPS := tests/browser/node_modules/.installed
browser-deps: $(BROWSER_DEPS)

$(BROWSER_DEPS): tests/browser/package.json tests/browser/package-lock.json
	@command -v npm >/dev/null || { echo "The browser tests need npm (Node.js) to install axe-core." >&2; exit 1; }
	npm ci --prefix tests/browser --no-audit --no-fund
	touch $@

test: lint typecheck pytest

# Report pages against their raw SQL on SQLite and PostgreSQL (BENCH_USERS people),
# certificate rendering, scheduling a session for a battalion in bulk against one person at
# a time, a session's pack in the request against its print job, then pages and downloads
# over HTTP as ratios to a bare Flask hello and to the floor of a signed-in request
# (BENCH_HTTP_ARGS passes options on, e.g. BENCH_HTTP_ARGS="--rounds 5").
BENCH_USERS ?= 100000
bench: setup bench-deps
	$(BIN)/python bench/bench.py --users $(BENCH_USERS)
	$(BIN)/python bench/certificates.py
	$(BIN)/python bench/classroom.py
	$(BIN)/python bench/pack.py
	$(BIN)/python bench/pages.py $(BENCH_HTTP_ARGS)

# wrk (a Debian package), which only the HTTP benchmark needs.
bench-deps:
	scripts/system-packages wrk

# Simulated peacekeepers against gunicorn and PostgreSQL for LOAD_DURATION (default 5m),
# then every submitted attempt checked in the database. Not part of `make test`.
load: setup
	$(BIN)/python load/run.py

# Every user-visible string, for translators: extract them (app/translations/messages.pot),
# then bring each language's catalog up to date with them: new strings empty, changed
# ones marked fuzzy (the former English kept beside them), removed ones kept as obsolete.
TRANSLATIONS := app/translations
messages: setup
	$(BIN)/pybabel extract --no-location --sort-by-file -F babel.cfg -k _l \
		--add-comments=Translators: --project="Blue Beret" --copyright-holder="Blue Beret" \
		-o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update --no-wrap --previous --ignore-pot-creation-date \
		-i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)
	$(FLASK) modules translations update

# The catalogs as the application reads them (.mo files, never committed).
translations: setup
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS)

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
