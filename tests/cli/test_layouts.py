"""Every view read at 60, 80, 120 and 200 columns: the values a person must read or type
(due dates, statuses, trigger ids, case references) appear whole at every width, and
below 100 columns the views change to their compact layout rather than cutting them.

The demo dataset at Mon 23 Nov 2026, no colour; the width is rich's, from COLUMNS.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from casereview.domain.clock_status import status_word
from casereview.infra.now import FixedClock, SystemClock
from casereview.services import demo
from tests.conftest import register_cli_account

TODAY = dt.date(2026, 11, 23)
WIDTHS = (60, 80, 120, 200)
CUT = "…"  # rich's mark of a cut cell


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("layouts") / "demo.db"
    demo.seed(f"sqlite:///{path}", "demo-officer", TODAY)
    register_cli_account(
        f"sqlite:///{path}", "demo-officer", roles=("business_unit", "chair"), today=TODAY
    )
    return path


@pytest.fixture
def demo_db(seeded, tmp_path) -> str:
    """A copy of the demo database each test may write to."""
    path = tmp_path / "demo.db"
    shutil.copy2(seeded, path)
    return str(path)


@pytest.fixture(autouse=True)
def fixed_terminal(monkeypatch):
    monkeypatch.setattr(SystemClock, "now", lambda self: FixedClock(TODAY).now())
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CASEREVIEW_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CASEREVIEW_DATABASE_URL", raising=False)


def run(cli, width: int, *args: str) -> str:
    result = cli(*args, env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line.rstrip()) <= width for line in lines), result.stdout
    return result.stdout


def as_json(cli, *args: str):
    result = cli(*args, "--json", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def words(text: str) -> set[str]:
    return set(text.split())


@pytest.mark.parametrize("width", WIDTHS)
def test_due_shows_every_case_due_date_and_status_whole(cli, demo_db, width):
    clocks = as_json(cli, "due", "--db", demo_db)["clocks"]
    shown = run(cli, width, "due", "--db", demo_db)
    assert CUT not in shown
    for clock in clocks:
        assert clock["ref"] in words(shown)
        if clock["due_on"]:
            assert clock["due_on"] in words(shown)
        assert status_word(clock["status"]) in shown
    # Below 100 columns, one block per clock: the due date and status share a line.
    compact = width < 100
    overdue = next(c for c in clocks if c["status"] == "overdue")
    line = next(line for line in shown.splitlines() if overdue["due_on"] in line)
    assert ("overdue" in line) and (line.startswith("  due ") == compact)


@pytest.mark.parametrize("width", WIDTHS)
def test_case_show_keeps_trigger_ids_due_dates_and_statuses_whole(cli, demo_db, width):
    view = as_json(cli, "case", "show", "2026-007", "--db", demo_db)
    assert any(len(option["trigger"]) > 30 for option in view["possible"])  # a long one
    shown = run(cli, width, "case", "show", "2026-007", "--db", demo_db)
    for option in view["possible"]:
        assert option["trigger"] in words(shown)
        assert option["to_state"] in words(shown)
        for need in option["needs"]:
            for word in need.split():
                assert word.strip(";") in shown
    for clock in view["clocks"]:
        assert clock["due_on"] in words(shown)
        assert status_word(clock["status"]) in shown
    # The only cut-looking words are the needs' own `FIELD=…` placeholders.
    assert all(w.rstrip(";").endswith("=…") for w in words(shown) if CUT in w)


@pytest.mark.parametrize("width", WIDTHS)
def test_case_list_keeps_refs_and_states_whole(cli, demo_db, width):
    rows = as_json(cli, "case", "list", "--db", demo_db)
    shown = run(cli, width, "case", "list", "--db", demo_db)
    assert CUT not in shown
    for row in rows:
        assert row["ref"] in words(shown)
        assert row["state"] in words(shown)


@pytest.mark.parametrize("width", WIDTHS)
def test_timeline_keeps_trigger_ids_dates_and_statuses_whole(cli, demo_db, width):
    view = as_json(cli, "timeline", "2026-003", "--db", demo_db)
    shown = run(cli, width, "timeline", "2026-003", "--db", demo_db)
    for entry in view["entries"]:
        if entry.get("trigger") and entry["trigger"] != "open":
            assert f"({entry['trigger']})" in shown
        assert entry["on"] in words(shown)
    assert "[due soon]" in shown and "[overdue]" in shown
    chart = shown[shown.index("Plan versus actual") :]
    assert CUT not in chart
    for result in ("met on the due date", "overdue by"):
        assert result in " ".join(chart.split())


@pytest.mark.parametrize("width", WIDTHS)
def test_explain_keeps_the_due_date_and_status_whole(cli, demo_db, width):
    shown = run(cli, width, "explain", "2026-003", "advance_copy", "--db", demo_db)
    assert "Wed 2026-11-25" in shown
    assert "due soon" in shown
    assert "advance_copy" in words(shown.replace("(", " ").replace(")", " "))


@pytest.mark.parametrize("width", WIDTHS)
def test_case_advance_prints_one_line_and_the_changed_clocks(cli, demo_db, width):
    result = cli(
        "case", "advance", "2026-013", "notify", "--set", "sin_reference=SIN-9",
        "--db", demo_db, env={"COLUMNS": str(width)},
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip().splitlines() == [
        "Recorded notify on case 2026-013 (screening → rapid_review), event "
        + result.stderr.split("event ")[-1].strip()
    ]
    shown = result.stdout
    assert CUT not in shown and "─" not in shown  # no table
    # The notification clock stopped (met); the rapid review clock started.
    assert "Serious incident notification (statutory)" in shown
    assert "stopped 2026-11-23" in shown and "met" in words(shown)
    assert "Rapid review to the Panel (expectation)" in shown
    assert "due 2026-12-14 · left 15 · on track" in shown
    assert len(shown.splitlines()) == 4  # two clocks changed, two lines each


@pytest.mark.parametrize("width", WIDTHS)
def test_report_keeps_every_value_whole(cli, demo_db, width):
    shown = run(cli, width, "report", "--year", "2026-27", "--db", demo_db)
    assert all(w == CUT for w in words(shown) if CUT in w)  # labels' own "… of which" only
    assert "9 of 9 (100%)" in shown
    assert ("notifications.made" in shown) == (width >= 100)  # ids give way first


@pytest.mark.parametrize("width", (60, 80, 100, 120))
def test_report_keeps_every_figure_id_whole(cli, demo_db, width):
    shown = run(cli, width, "report", "--year", "2026-27", "--db", demo_db)
    assert all(w == CUT for w in words(shown) if CUT in w), shown  # nothing cut
    result = cli("report", "--year", "2026-27", "--format", "json", "--db", demo_db)
    assert result.exit_code == 0, result.stderr
    ids = set(json.loads(result.stdout)["figures"])
    assert "local_reviews.published_within_expectation" in ids
    shown_ids = ids & words(shown)
    assert shown_ids == (ids if width >= 100 else set())  # whole at 100 and over, or none
