# Two entry points (see README): `make run` shows casereview working, `make test` checks it.
# Each creates its own virtual environment, so a fresh machine needs only Python >= 3.11.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run serve test test-sqlite test-postgres lint typecheck unit bench bench-smoke clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The demo goes to ./demo.db (replaced on every run), where the shell lines below find it; the
# last lines say where the command is and how to use it next (docs/install.md).
run: $(BIN)/.installed
	rm -f demo.db demo.db-wal demo.db-shm demo.db-journal
	$(BIN)/casereview demo --db demo.db
	@echo ""
	@echo "casereview is installed at $(abspath $(BIN))/casereview (not on your PATH yet)."
	@echo "To explore the demo, run these three lines in your shell:"
	@echo "  . $(VENV)/bin/activate"
	@echo "  export CASEREVIEW_DB=\"$(CURDIR)/demo.db\""
	@echo "  export CASEREVIEW_KEY_DIR=\"$(CURDIR)/demo.db.keys\""
	@echo "To see it in your browser instead: make serve (it prints the link to open)."
	@echo "For everyday use install it like a tool: pipx install .  (or: uv tool install .;"
	@echo "python -m pip install --user .), then 'casereview --version'. See docs/install.md."

# The demo in the browser (docs/web.md): builds ./demo.db as `make run` does when there is
# none, then serves it on http://127.0.0.1:8000 as you; open the sign-in link it prints.
serve: $(BIN)/.installed
	test -f demo.db || $(MAKE) run
	CASEREVIEW_KEY_DIR="$(CURDIR)/demo.db.keys" $(BIN)/casereview serve --db demo.db

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

# The benchmark runner once at the 1k scale, one run of each command, so it cannot rot;
# then the web load script on the same database, three requests per simulated person.
# Times are printed, never asserted; a command that fails, or any request answered
# wrongly, stops it (exit 1).
bench-smoke: $(BIN)/.installed
	$(BIN)/python -m benchmarks.run --quick
	$(BIN)/python -m benchmarks.web_load --quick

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
