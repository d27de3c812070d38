"""`casereview demo`: seeds through the real write path, shows the dashboard and one
timeline, replaces only its own demo database and never an existing --db file."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

import pytest

from casereview.infra import identity
from casereview.infra.now import FixedClock, SystemClock
from casereview.services import demo
from tests.golden import GOLDEN_DIR, assert_golden, normalise

TODAY = dt.date(2026, 11, 23)
DEMO_ACCOUNT = "demo-officer"  # the account the dashboard golden files were made with


@pytest.fixture(autouse=True)
def fixed_terminal(monkeypatch):
    monkeypatch.setattr(SystemClock, "now", lambda self: FixedClock(TODAY).now())
    monkeypatch.setattr(identity, "os_account", lambda: DEMO_ACCOUNT)
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CASEREVIEW_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def default_demo(tmp_path, monkeypatch):
    path = tmp_path / "data" / "casereview" / "demo.db"
    monkeypatch.setattr(demo, "demo_path", lambda: path)
    return path


def count(path, table):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def test_demo_prints_the_dashboard_then_the_held_case_timeline(cli, tmp_path):
    path = tmp_path / "new" / "demo.db"
    own_keys = Path(os.environ["CASEREVIEW_KEY_DIR"])
    keys_before = sorted(own_keys.iterdir())
    result = cli("demo", "--db", str(path))
    assert result.exit_code == 0, result.stderr
    # The dashboard of every review type the demo records (England's version 1 cases,
    # whose rows `due.txt` holds, then the others), then the held case's timeline.
    dashboard, _, timeline = normalise(result.stdout).partition("\nCase 2026-002")
    assert_golden("demo-due.txt", dashboard + "\n")
    assert "Case 2026-002" + timeline == (GOLDEN_DIR / "timeline-2026-002.txt").read_text()
    assert f"Demo database: {path} (21 cases, 180 events, dated from 2026-11-23)." in result.stderr
    assert f"casereview due --db {path}" in result.stderr
    assert f"casereview timeline 2026-002 --db {path}" in result.stderr
    assert count(path, "cases") == 21
    # init (the admin and their key, the six shipped workflow versions installed), two
    # grants, three partners, six more people for the other review types, the events
    # of England's version 1 cases, then of the others, and the partnership's name
    assert count(path, "events") == 2 + 6 + 2 + 3 + 100 + 6 + 80 + 1
    # The demo signs with a key of its own beside the file, not the account's own.
    assert (path.parent / "demo.db.keys").is_dir()
    assert sorted(own_keys.iterdir()) == keys_before


def test_demo_refuses_an_existing_db_file_and_leaves_it_alone(cli, tmp_path):
    path = tmp_path / "real.db"
    path.write_bytes(b"a real database, not to be overwritten")
    result = cli("demo", "--db", str(path))
    assert result.exit_code == 6
    assert result.stderr.startswith("Error: ")
    assert "choose a new file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert path.read_bytes() == b"a real database, not to be overwritten"
    assert result.stdout == ""


def test_demo_refuses_a_database_url(cli):
    result = cli("demo", "--db", "postgresql://somewhere/db")
    assert result.exit_code == 2
    assert "file path" in result.stderr


def test_demo_without_db_replaces_its_own_demo_database_each_run(cli, default_demo):
    default_demo.parent.mkdir(parents=True)
    default_demo.write_bytes(b"stale demo from an older version")
    for _ in range(2):
        result = cli("demo")
        assert result.exit_code == 0, result.stderr
        assert count(default_demo, "cases") == 21  # replaced, not added to
    assert f"Demo database: {default_demo}" in result.stderr


def test_demo_ignores_the_configured_database(cli, tmp_path, default_demo, monkeypatch):
    real = tmp_path / "real.db"
    real.write_bytes(b"the partnership's database")
    monkeypatch.setenv("CASEREVIEW_DB", str(real))
    assert cli("demo").exit_code == 0
    assert real.read_bytes() == b"the partnership's database"
    assert default_demo.exists()
