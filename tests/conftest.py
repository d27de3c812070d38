"""Shared fixtures: a CLI runner that goes through casereview's own error handling."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from casereview.cli import app as cli_app
from casereview.cli.render import console

FIXTURES = Path(__file__).parent / "fixtures"

# Keep the holiday cache (casereview.infra.holiday_cache) out of the user's own cache folder:
# one folder per test session, inherited by the commands tests start as subprocesses.
if "CASEREVIEW_CACHE_DIR" not in os.environ:
    import tempfile

    os.environ["CASEREVIEW_CACHE_DIR"] = tempfile.mkdtemp(prefix="casereview-test-cache-")


# The suite's scenarios are written on version 1 of the England workflow (its goldens are
# v1's): cases opened without a workflow stay on v1 here, as a partnership that has not
# moved sets it. Version 2's tests name england-lcspr@2, and the test of the default
# itself clears this.
os.environ.setdefault("CASEREVIEW_DEFAULT_WORKFLOW", "england-lcspr@1")

# Property tests replay one fixed sequence of inputs on every run, here and in CI, so a
# red run means a change broke something rather than that a new input turned up. Search
# for new inputs with `HYPOTHESIS_PROFILE=explore make test` (random inputs; 1,000 of
# them where a test sets no number of its own), and keep what it finds as an explicit
# regression test, as test_audit_event_check does.
settings.register_profile("fixed", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, max_examples=1_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fixed"))


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


class Cli:
    """Invoke `casereview ARGS…` in-process and capture stdout and stderr separately."""

    def __init__(self) -> None:
        self._runner = CliRunner()

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> CliResult:
        console.reset()
        result = self._runner.invoke(cli_app.app, list(args), env=env, catch_exceptions=False)
        console.reset()
        return CliResult(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def cli() -> Cli:
    return Cli()


def register_cli_account(
    url: str, admin: str, *, roles: tuple[str, ...] = ("scrutineer",), today: dt.date | None = None
) -> str:
    """Register the account the CLI runs as (the operating-system account on SQLite, the
    session user on PostgreSQL) in a database whose admin is `admin`, holding `roles`:
    read commands refuse an account that is not a registered, active user. Nothing
    changes where it is registered already. Returns the account."""
    from casereview.infra.now import FixedClock, SystemClock
    from casereview.services import users
    from casereview.services.context import ServiceContext

    account = ServiceContext.from_options(url).account
    clock = FixedClock(today) if today is not None else SystemClock()
    ctx = ServiceContext(url=url, account=admin, clock=clock)
    try:
        if account not in {u.username for u in users.list_users(ctx)}:
            users.add_user(ctx, account, f"{account} (runs the tests)", list(roles), None)
    finally:
        ctx.close()
    return account


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


# -- backends ------------------------------------------------------------------------
#
# By default every database test runs on a SQLite file. With CASEREVIEW_TEST_DATABASE_URL
# pointing at a PostgreSQL server (scripts/with_postgres.py sets it), the same tests run
# on a fresh PostgreSQL database each; tests that inspect SQLite itself are marked
# `sqlite_only` and skipped there.

PG_SERVER = os.environ.get("CASEREVIEW_TEST_DATABASE_URL", "")
BACKEND = "postgresql" if PG_SERVER else "sqlite"
TABLES = (
    "users",
    "cases",
    "events",
    "case_clocks",
    "chain_head",
    "schema_migrations",
    "installed_workflows",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: inspects SQLite itself; skipped on PostgreSQL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if BACKEND != "postgresql":
        return
    skip = pytest.mark.skip(reason="SQLite-specific test (running against PostgreSQL)")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)


def _admin_engine():  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(PG_SERVER, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def with_user(url: str, username: str) -> str:
    """The same database URL, logged in as another role (PostgreSQL only)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(username=username).render_as_string(hide_password=False)


def ensure_pg_login(username: str, *, superuser: bool = False) -> None:
    """Create a login role on the test server (trust auth) in the casereview_app group."""
    from sqlalchemy import text

    engine = _admin_engine()
    with engine.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": username}
        ).first()
        if not exists:
            conn.execute(
                text(f'CREATE ROLE "{username}" LOGIN' + (" SUPERUSER" if superuser else ""))
            )
        has_group = conn.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = 'casereview_app'")
        ).first()
        if has_group and not superuser:
            conn.execute(text(f'GRANT casereview_app TO "{username}"'))
    engine.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A URL for an empty database on the backend under test."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    from sqlalchemy import text

    name = f"cr_{uuid.uuid4().hex[:16]}"
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    from sqlalchemy.engine import make_url

    url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    yield url
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    engine.dispose()


def run_sql(url: str, *statements: str, params: dict | None = None) -> list[tuple]:
    """Run raw SQL outside casereview (as a tamperer or an inspector would)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    rows: list[tuple] = []
    try:
        with engine.connect() as conn:
            for statement in statements:
                result = conn.execute(text(statement), params or {})
                rows = [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()
    return rows


def unprotected(url: str, *statements: str) -> None:
    """Run statements with the append-only protection off, then put it back."""
    if url.startswith("sqlite"):
        run_sql(
            url,
            "DROP TRIGGER events_no_update",
            "DROP TRIGGER events_no_delete",
            *statements,
            "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
            "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
            "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
            "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
        )
    else:
        run_sql(
            url,
            "ALTER TABLE events DISABLE TRIGGER USER",
            *statements,
            "ALTER TABLE events ENABLE TRIGGER USER",
        )


def snapshot(url: str) -> list[list[tuple]]:
    """Every row of every table, in a fixed order: equal snapshots mean nothing changed."""
    result = []
    for table in TABLES:
        rows = run_sql(url, f"SELECT * FROM {table}")
        result.append(sorted(rows, key=repr))
    return result
