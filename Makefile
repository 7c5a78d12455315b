# Blue Beret: `make run` serves the app, `make test` checks it.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
PORT ?= 5000

.PHONY: run test lint typecheck pytest setup migrate bench clean

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

run: migrate
	$(FLASK) modules sync
	$(FLASK) demo seed
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy app

pytest: setup
	$(BIN)/pytest -q

test: lint typecheck pytest

# Report pages against their raw SQL on SQLite and PostgreSQL (BENCH_USERS people).
BENCH_USERS ?= 100000
bench: setup
	$(BIN)/python bench/bench.py --users $(BENCH_USERS)

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
