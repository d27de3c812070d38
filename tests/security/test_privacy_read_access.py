"""Read commands are for registered, active casereview users: any other account that
can open the database gets one `Error:` line (exit 4) and reads nothing. Commands that
read no case data (help, working days, a workflow file, init) stay open."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from casereview.infra.now import FixedClock
from casereview.services import cases, exports, users
from casereview.services.context import ServiceContext
from tests.conftest import Cli
from tests.security.conftest import TODAY, days_ago

ROOT = Path(__file__).resolve().parents[2]


def _ctx(url: str, account: str) -> ServiceContext:
    return ServiceContext(url=url, account=account, clock=FixedClock(TODAY))


@pytest.fixture
def stranger_db(database_url: str, tmp_path: Path) -> tuple[str, Path]:
    """A database set up by someone else: the CLI's own account is not a user of it.
    With an export file of it, made by its admin."""
    admin = _ctx(database_url, "setup-admin")
    try:
        users.init(admin)
        users.grant_role(admin, "setup-admin", "business_unit", None)
        cases.open_case(
            admin,
            "R-1",
            aware_on=days_ago(8),
            pseudonym="Child R",
            fields={"nature": "death"},
            on=days_ago(7),
        )
        made = tmp_path / "made.json"
        with made.open("wb") as sink:
            exports.export_log(admin, exports.LogExportRequest(format="json"), sink)
    finally:
        admin.close()
    return database_url, made


def reads(made: Path, out: Path) -> list[tuple[str, ...]]:
    return [
        ("case", "list"),
        ("case", "list", "--json"),
        ("case", "show", "R-1"),
        ("case", "show", "Child R"),
        ("case", "find", "R"),
        ("case", "show", "R-1", "--as-at", days_ago(7).isoformat()),
        ("timeline", "R-1"),
        ("explain", "R-1", "notification"),
        ("due",),
        ("due", "--json"),
        ("due", "--csv"),
        ("report", "--format", "json"),
        ("log", "export", "--format", "json"),
        ("log", "export", "--output", str(out / "log.csv")),
        ("log", "verify-export", str(made)),
        ("calendar", "export", "--output", str(out / "feed.ics")),
        ("audit", "verify"),
        ("audit", "checkpoint", "--output", str(out / "point.json")),
        ("user", "list"),
    ]


READ_IDS = [
    "case list",
    "case list json",
    "case show",
    "case show pseudonym",
    "case find",
    "case show as-at",
    "timeline",
    "explain",
    "due",
    "due json",
    "due csv",
    "report",
    "log export",
    "log export file",
    "verify-export",
    "calendar export",
    "audit verify",
    "audit checkpoint",
    "user list",
]


def refused(result_stderr: str) -> bool:
    lines = result_stderr.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("Error: account ")


@pytest.mark.parametrize("which", range(len(READ_IDS)), ids=READ_IDS)
def test_an_unregistered_account_reads_nothing(
    cli: Cli, stranger_db: tuple[str, Path], tmp_path: Path, which: int
) -> None:
    url, made = stranger_db
    out = tmp_path / "out"
    out.mkdir()
    args = reads(made, out)[which]
    result = cli(*args, "--db", url)
    assert result.exit_code == 4, result.stdout + result.stderr
    assert refused(result.stderr), result.stderr
    assert "is not a casereview user" in result.stderr
    assert "R-1" not in result.stdout and "Child R" not in result.stdout
    assert list(out.iterdir()) == []  # no file written either


def _deactivate(url: str, username: str) -> None:
    """`user deactivate`: the admin's signed event, the user row kept, inactive."""
    ctx = _ctx(url, "setup-admin")
    try:
        users.deactivate(ctx, username)
    finally:
        ctx.close()


@pytest.mark.parametrize("which", [0, 2, 4, 6, 7, 10, 14], ids=lambda i: READ_IDS[i])
def test_a_deactivated_user_reads_nothing(
    cli: Cli, stranger_db: tuple[str, Path], tmp_path: Path, which: int
) -> None:
    url, made = stranger_db
    account = ServiceContext.from_options(url).account
    admin = _ctx(url, "setup-admin")
    try:
        users.add_user(admin, account, "Reader", ["scrutineer"], None)
    finally:
        admin.close()
    args = reads(made, tmp_path)[which]
    assert cli(*args, "--db", url).exit_code == 0  # registered and active: reads
    _deactivate(url, account)
    result = cli(*args, "--db", url)
    assert result.exit_code == 4, result.stdout + result.stderr
    assert refused(result.stderr), result.stderr
    assert "has been deactivated" in result.stderr
    assert "R-1" not in result.stdout


def test_commands_that_read_no_case_stay_open(
    cli: Cli, stranger_db: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = stranger_db
    workflow = ROOT / "workflows" / "england-lcspr@1.toml"
    for args in (
        ("--help",),
        ("case", "show", "--help"),
        ("workdays", "count", "2026-01-05", "2026-01-09"),
        ("workflow", "show", "england-lcspr"),
        ("workflow", "validate", str(workflow)),
        ("workflow", "lint", str(workflow)),
        ("log", "verify-export", str(stranger_db[1])),  # the file alone, no database
    ):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
    # init on a database others set up: it says so, registers nobody, and reads no case.
    result = cli("init", "--db", url)
    assert result.exit_code == 0, result.stderr
    assert "R-1" not in result.stdout


def test_due_stays_on_the_driver_alone(stranger_db: tuple[str, Path], database_url: str) -> None:
    """The check is one keyed read through the command's own snapshot: on SQLite `due`
    still reads through sqlite3 without loading SQLAlchemy, and still refuses."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the driver-only path is SQLite's")
    url, _ = stranger_db
    script = (
        "import sys\n"
        "from casereview.errors import Refused\n"
        "from casereview.services import due\n"
        "from casereview.services.context import ServiceContext\n"
        f"ctx = ServiceContext(url={url!r}, account='setup-admin')\n"
        "rows = due.due_list(ctx)\n"
        "print('rows', len(rows.items) > 0)\n"
        "try:\n"
        f"    due.due_list(ServiceContext(url={url!r}, account='nobody-here'))\n"
        "except Refused:\n"
        "    print('refused')\n"
        "print('sqlalchemy', 'sqlalchemy' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["rows True", "refused", "sqlalchemy False"]


def test_an_unregistered_account_gets_no_view_even_of_a_day_in_the_past(
    cli: Cli, stranger_db: tuple[str, Path]
) -> None:
    url, _ = stranger_db
    day = (TODAY - dt.timedelta(days=1)).isoformat()
    result = cli("due", "--as-of", day, "--db", url)
    assert result.exit_code == 4
    assert refused(result.stderr)
