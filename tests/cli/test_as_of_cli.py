"""As-of means as-of: `due --as-of` a past day lists the clocks as they stood that day
(the replay `case show --as-at` uses), a back-dated event is confirmed with the statuses
of its date, and the summary's "due soon" is the status's own (the warning window).

The demo dataset at Mon 23 Nov 2026."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from casereview.infra.now import FixedClock, SystemClock
from casereview.services import demo
from tests.conftest import register_cli_account

TODAY = dt.date(2026, 11, 23)
PAST = ("2026-05-01", "2026-06-01", "2026-09-15", "2026-11-02")
OPEN = ("running", "overdue", "due_soon", "paused", "undetermined")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("asof") / "demo.db"
    demo.seed(f"sqlite:///{path}", "demo-officer", TODAY)
    register_cli_account(
        f"sqlite:///{path}", "demo-officer", roles=("business_unit", "chair"), today=TODAY
    )
    return path


@pytest.fixture
def demo_db(seeded, tmp_path) -> str:
    path = tmp_path / "demo.db"
    shutil.copy2(seeded, path)
    return str(path)


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch):
    monkeypatch.setattr(SystemClock, "now", lambda self: FixedClock(TODAY).now())
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("CASEREVIEW_DB", "CASEREVIEW_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def data(cli, *args: str):
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def as_at(cli, db: str, day: str) -> set[tuple[str, str, str | None, str]]:
    """The open clocks of every case as `case show --as-at` gives them."""
    shown = set()
    for case in data(cli, "case", "list", "--db", db):
        result = cli("case", "show", case["ref"], "--as-at", day, "--db", db, "--json")
        if result.exit_code == 3:  # not open yet that day
            continue
        view = json.loads(result.stdout)
        for c in view["clocks"]:
            if c["state"] in ("running", "paused") and c["status"] in OPEN:
                due = None if c["state"] == "paused" else c["due_on"]
                shown.add((case["ref"], c["clock_id"], due, c["status"]))
    return shown


@pytest.mark.parametrize("day", PAST)
def test_due_as_of_a_past_day_is_the_case_show_as_at_replay(cli, demo_db, day):
    listed = data(cli, "due", "--as-of", day, "--db", demo_db)
    assert listed["as_of"] == day
    rows = {(c["ref"], c["clock_id"], c["due_on"], c["status"]) for c in listed["clocks"]}
    assert rows == as_at(cli, demo_db, day)
    assert all(c["started_on"] <= day for c in listed["clocks"])  # none had not started
    assert listed["summary"]["open"] == len(rows)


def test_a_clock_stopped_since_is_still_running_on_the_past_day(cli, demo_db):
    today = data(cli, "due", "--db", demo_db)["clocks"]
    then = data(cli, "due", "--as-of", "2026-06-01", "--db", demo_db)["clocks"]
    now_ids = {(c["ref"], c["clock_id"]) for c in today}
    then_ids = {(c["ref"], c["clock_id"]) for c in then}
    assert then_ids - now_ids  # stopped since: listed then, not now
    assert now_ids - then_ids  # started since: listed now, not then
    # Counting the same clocks from the past day would have shown today's clocks.
    assert ("2026-010", "rapid_review") in now_ids and ("2026-010", "rapid_review") not in then_ids


@pytest.mark.parametrize("day", (None, *PAST))
def test_the_summary_counts_as_due_soon_exactly_the_rows_whose_status_says_so(cli, demo_db, day):
    args = ("due", "--db", demo_db) + (("--as-of", day) if day else ())
    listed = data(cli, *args)
    statuses = [c["status"] for c in listed["clocks"]]
    assert listed["summary"]["due_soon"] == statuses.count("due_soon")
    assert listed["summary"]["overdue"] == statuses.count("overdue")
    result = cli(*args)
    assert result.stderr.startswith(
        f"{statuses.count('overdue')} overdue, {statuses.count('due_soon')} due soon, "
    )


def test_a_back_dated_event_is_confirmed_with_the_statuses_of_its_date(cli, demo_db):
    # Case 2026-012 (screening) was opened on 2026-11-10; its notification is due 2026-11-17.
    view = data(cli, "case", "show", "2026-012", "--db", demo_db)
    notification = next(c for c in view["clocks"] if c["clock_id"] == "notification")
    assert notification["status"] == "overdue"  # as of today
    on = "2026-11-11"
    result = cli(
        "case", "advance", "2026-012", "notify", "--on", on, "--set", "sin_reference=S-1",
        "--db", demo_db,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"Clocks as of {on}, the event's date:"
    assert "stopped 2026-11-11 · due 2026-11-17 · met" in result.stdout
    # The rapid review clock started that day: 15 working days left then, on track.
    assert "left 15 · on track" in result.stdout
    assert "overdue" not in result.stdout


def test_an_event_dated_today_says_nothing_of_an_as_of_date(cli, demo_db):
    result = cli(
        "case", "advance", "2026-012", "notify", "--set", "sin_reference=S-1", "--db", demo_db,
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["as_of"] is None
