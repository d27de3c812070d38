# Two entry points (see README): `make run` shows casereview working, `make test` checks it.
# Each creates its own virtual environment, so a fresh machine needs only Python >= 3.11.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-sqlite test-postgres lint typecheck unit bench bench-smoke clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/casereview demo

test: $(BIN)/.installed lint typecheck
	$(BIN)/python -m pytest
	$(BIN)/python scripts/with_postgres.py -- $(BIN)/python -m pytest -q tests/integration tests/cli tests/security tests/reliability/test_postgres_concurrency.py
	$(MAKE) bench-smoke

test-sqlite: $(BIN)/.installed
	$(BIN)/python -m pytest

test-postgres: $(BIN)/.installed
	$(BIN)/python scripts/with_postgres.py -- $(BIN)/python -m pytest -q tests/integration tests/cli tests/security tests/reliability/test_postgres_concurrency.py

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/lint-imports
	$(BIN)/vulture

typecheck: $(BIN)/.installed
	$(BIN)/mypy

unit: $(BIN)/.installed
	$(BIN)/python -m pytest tests/unit -q

bench: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m benchmarks.run

# The benchmark runner once at the 1k scale, one run of each command, so it cannot rot.
# Times are printed, never asserted; a command that fails stops it (exit 1).
bench-smoke: $(BIN)/.installed
	$(BIN)/python -m benchmarks.run --quick

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
