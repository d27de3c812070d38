"""Shared fixtures: a CLI runner that goes through casereview's own error handling."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from casereview.cli import app as cli_app
from casereview.cli.render import console

FIXTURES = Path(__file__).parent / "fixtures"

TODAY = dt.date.today()
"""The day this test run counts as today: tests date their cases from it, and
`_one_day_per_run` keeps casereview's own clock on it."""

# Keep the holiday cache (casereview.infra.holiday_cache) out of the user's own cache folder:
# one folder per test session, inherited by the commands tests start as subprocesses.
if "CASEREVIEW_CACHE_DIR" not in os.environ:
    import tempfile

    os.environ["CASEREVIEW_CACHE_DIR"] = tempfile.mkdtemp(prefix="casereview-test-cache-")

# Signing keys (casereview.infra.keys) likewise never go to the user's own folder: a
# private folder (0700) for the session, where fixtures wider than one test make theirs;
# each test gets a folder of its own that starts with a copy of them (`_own_key_dir`).
if "CASEREVIEW_KEY_DIR" not in os.environ:
    import tempfile

    os.environ["CASEREVIEW_KEY_DIR"] = tempfile.mkdtemp(prefix="casereview-test-keys-")


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


@pytest.fixture(autouse=True)
def _own_key_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test's signing keys in a private folder of its own (0700), never the user's;
    inherited by the commands a test starts as subprocesses. It starts with a copy of the
    keys that wider fixtures (module, session) made in the session's folder, so a test
    can write as the users of a dataset built once for its module; what the test itself
    creates stays in its own folder."""
    import shutil

    outer = Path(os.environ["CASEREVIEW_KEY_DIR"])
    folder = tmp_path_factory.mktemp("keys")
    folder.chmod(0o700)
    for key in outer.glob("*.key"):
        shutil.copy2(key, folder / key.name)
    monkeypatch.setenv("CASEREVIEW_KEY_DIR", str(folder))


def fixed_key(account: str, folder: Path | None = None) -> None:
    """Give `account` the signing key derived from its name (in `folder`, default the
    current key folder), replacing any other key it has there: for datasets compared
    with golden files, whose hashes cover the key enrolment's public key, and for tests
    that write to a copy of such a dataset as its account. (Another module's dataset may
    have left a random key of the same account name in the session's folder.)"""
    import hashlib

    from casereview.domain.signing import Signer
    from casereview.infra import keys as key_files

    path = key_files.key_path(account, folder)
    signer = Signer(hashlib.sha256(f"casereview test key {account}".encode()).digest())
    if path.exists() and path.read_bytes() == signer.pem():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_bytes(signer.pem())
    path.chmod(0o600)


def enrol_keys(
    url: str,
    *usernames: str,
    admin: str = "admin",
    clock: object = None,
    key_dir: Path | None = None,
) -> None:
    """Give each of `usernames` a signing key, enrolled by them and confirmed by `admin`
    (who must have a confirmed key: `init` gives the first admin one): what every user
    needs before recording anything. A user whose key is already confirmed is left as
    they are. The one helper tests use for it."""
    from casereview.services import keys
    from casereview.services.context import ServiceContext

    extra: dict[str, Any] = {"key_dir": key_dir}
    if clock is not None:
        extra["clock"] = clock
    confirmer = ServiceContext(url=url, account=admin, **extra)
    try:
        for username in dict.fromkeys(usernames):
            me = ServiceContext(url=url, account=username, **extra)
            try:
                own = me.own_key()
                with me.db().reading() as conn:
                    known = keys.key_ring(conn).keys.get(own.key_id) if own else None
                if known is None or known.username != username:
                    enrolled = keys.enrol(me)
                    kid, confirmed = enrolled.key_id, enrolled.confirmed
                else:
                    kid, confirmed = known.key_id, known.state == "confirmed"
            finally:
                me.close()
            if not confirmed:
                keys.confirm(confirmer, username, kid)
    finally:
        confirmer.close()


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
    # A reader records too (a view of personal fields is an event), so it has a key.
    enrol_keys(url, account, admin=admin, clock=clock)
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
def as_user(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """`as_user(name)` acts as `name` from then on: the OS account on SQLite, the
    database login on PostgreSQL (created on the test server, a superuser for "root").
    The test starts as "root", the account that runs `init`."""
    from casereview.infra import identity
    from casereview.store import location

    real_resolve = location.resolve

    def switch(name: str) -> None:
        monkeypatch.setattr(identity, "os_account", lambda: name)
        if BACKEND == "postgresql":
            ensure_pg_login(name, superuser=name == "root")
            monkeypatch.setattr(
                location, "resolve", lambda option: with_user(real_resolve(option), name)
            )

    switch("root")
    return switch


@pytest.fixture(autouse=True, scope="session")
def _one_day_per_run() -> Iterator[None]:
    """casereview's today is London's (`SystemClock`); the tests' is `TODAY`, taken when
    the run began. A run that crosses midnight, or a machine whose date is not London's
    (UTC in summer after 23:00), would see the two disagree, and a date a test took as
    tomorrow would be refused as today's or passed as yesterday's. So, for code running
    in this process, the real instant is held within London's `TODAY`. Commands a test
    starts as subprocesses read the real clock."""
    from casereview.infra.now import SystemClock, london

    real_now = SystemClock.now
    first = dt.datetime.combine(TODAY, dt.time.min, tzinfo=london()).astimezone(dt.UTC)
    last = dt.datetime.combine(TODAY, dt.time.max, tzinfo=london()).astimezone(dt.UTC)

    def now(self: SystemClock) -> dt.datetime:
        return min(max(real_now(self), first), last)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SystemClock, "now", now)
        yield


@pytest.fixture(autouse=True)
def _accounts_are_logins(monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL the database records its login, never a name the program passes: a
    `ServiceContext` whose account is not its URL's login connects as a login of that
    name (created on first use, in casereview_app), once the URL's login, the test
    server's superuser, has created the schema as an installation's owner does."""
    if BACKEND != "postgresql":
        return
    from sqlalchemy.engine import make_url

    from casereview.services.context import ServiceContext
    from casereview.store.database import Database

    original = ServiceContext.db

    def db(self: ServiceContext, *, create: bool = False, group: int | None = None) -> Database:
        url = make_url(self.url)
        if (
            self._db is None
            and url.get_backend_name() == "postgresql"
            and self.account != url.username
        ):
            Database.open(self.url, create=create).dispose()
            ensure_pg_login(self.account)
            self._db = Database.open(with_user(self.url, self.account))
        return original(self, create=create, group=group)

    monkeypatch.setattr(ServiceContext, "db", db)


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


def write_events_directly(patch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: until `patch` is undone, events are appended with plain statements,
    as the store did before the write functions of migration 0008 existed, and as the
    tables' owner still can (a tamperer with the owner's rights, or a test building an
    old database). SQLite's writes are plain statements anyway."""
    from sqlalchemy import text

    from casereview.store import dialect, event_log, write_functions

    def lock_head(conn) -> None:  # type: ignore[no-untyped-def]
        conn.execute(text("SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE"))

    def append(conn, events) -> None:  # type: ignore[no-untyped-def]
        columns = [c for c in event_log.EVENT_COLUMNS if c in events[0]]  # unsigned: no key
        dialect.insert_rows(conn, "events", columns, [tuple(e[c] for c in columns) for e in events])
        conn.execute(
            text("UPDATE chain_head SET seq = :seq, entry_hash = :hash WHERE id = 1"),
            {"seq": events[-1]["seq"], "hash": events[-1]["entry_hash"]},
        )

    patch.setattr(write_functions, "lock_head", lock_head)
    patch.setattr(write_functions, "append", append)


@contextmanager
def events_written_directly() -> Iterator[None]:
    """`write_events_directly` for the length of a `with` block."""
    with pytest.MonkeyPatch.context() as patch:
        write_events_directly(patch)
        yield


def record_by_hand(ctx: Any, scripts: Any) -> None:
    """Each case script (`services.bulk.CaseScript`) recorded through the services one
    call at a time, as a person would: `open_case`, then `advance` for each step. What
    a bulk write or an import must leave the database exactly as."""
    from casereview.services import cases

    for script in scripts:
        cases.open_case(
            ctx,
            script.ref,
            aware_on=script.aware_on,
            pseudonym=script.pseudonym,
            workflow=script.workflow,
            fields=dict(script.fields),
            on=script.opened_on,
        )
        for step in script.steps:
            cases.advance(
                ctx,
                script.ref,
                step.trigger,
                on=step.on,
                rationale=step.rationale,
                fields=dict(step.fields),
                on_behalf_of=step.on_behalf_of,
            )


class SettableToday:
    """The system clock fixed at a day a test can move: `today.set("2026-03-13")`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, day: str) -> None:
        self._monkeypatch = monkeypatch
        self.set(day)

    def set(self, day: str) -> None:
        from casereview.infra import now as clock_module
        from casereview.infra.now import FixedClock

        instant = FixedClock(dt.date.fromisoformat(day)).now()
        self._monkeypatch.setattr(clock_module.SystemClock, "now", lambda self: instant)
