"""`casereview due`, `timeline` and `explain` through the command line: golden output on
the demo dataset (fixed at Mon 23 Nov 2026, 120 columns, no colour), exit codes, the
summary line, CSV safety, and user text shown literally."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys

import pytest

from casereview.cli.render import cases as cases_render
from casereview.cli.render import dashboard as render
from casereview.domain import clock_status as status_words
from casereview.formats.cells import safe_cell
from casereview.infra.now import FixedClock, SystemClock
from casereview.presenters.due import DUE_COLUMNS
from casereview.services import cases, demo, users
from casereview.services.context import ServiceContext
from tests.conftest import register_cli_account, unprotected
from tests.golden import assert_golden

TODAY = dt.date(2026, 11, 23)
DEMO_ACCOUNT = "demo-officer"
SUMMARY = "4 overdue, 5 due soon, 1 paused (12 open clocks)"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    demo.seed(f"sqlite:///{path}", DEMO_ACCOUNT, TODAY)
    register_cli_account(f"sqlite:///{path}", DEMO_ACCOUNT, today=TODAY)
    return str(path)


@pytest.fixture(autouse=True)
def fixed_terminal(monkeypatch):
    """Today is 23 Nov 2026; output is 120 columns wide with no colour codes."""
    monkeypatch.setattr(SystemClock, "now", lambda self: FixedClock(TODAY).now())
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CASEREVIEW_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CASEREVIEW_DATABASE_URL", raising=False)


def ok(result):
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout + result.stderr  # no colour codes in tests
    return result


# -- due ---------------------------------------------------------------------------


def test_due_table_is_golden_and_the_summary_counts_go_to_stderr(cli, demo_db):
    result = ok(cli("due", "--db", demo_db))
    assert_golden("due.txt", result.stdout)
    assert result.stderr.startswith(SUMMARY)
    assert len(result.stderr.strip().splitlines()) == 1


def test_due_json_is_golden_with_documented_keys(cli, demo_db):
    result = ok(cli("due", "--db", demo_db, "--json"))
    assert_golden("due.json", result.stdout)
    data = json.loads(result.stdout)
    assert list(data) == [
        "as_of", "within", "overdue_only", "limit", "summary", "clocks", "workflow", "clock"
    ]  # fmt: skip
    assert data["limit"] is None  # scripts get every clock unless they ask for fewer
    assert data["summary"] == {
        "open": 12,
        "overdue": 4,
        "due_soon": 5,
        "due_next_5": 5,
        "paused": 1,
        "matching": 12,
        "shown": 12,
    }
    assert all(list(c) == list(DUE_COLUMNS) for c in data["clocks"])
    assert data["clocks"][0]["working_days_left"] == -13
    assert result.stderr == ""


def test_due_csv_is_golden_with_a_header_row(cli, demo_db):
    result = ok(cli("due", "--db", demo_db, "--csv"))
    assert_golden("due.csv", result.stdout)
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == list(DUE_COLUMNS)
    assert len(rows) == 1 + 12
    assert rows[1][DUE_COLUMNS.index("working_days_left")] == "-13"  # a number, not '-13


def test_due_within_and_overdue_filter_rows_not_the_summary(cli, demo_db):
    within = json.loads(ok(cli("due", "--db", demo_db, "--json", "--within", "2")).stdout)
    assert {c["status"] for c in within["clocks"]} == {"overdue", "due_soon"}
    assert max(c["working_days_left"] for c in within["clocks"]) == 2
    assert within["summary"]["shown"] == 7 and within["summary"]["open"] == 12
    overdue = ok(cli("due", "--db", demo_db, "--overdue"))
    assert overdue.stdout.count("overdue") == 4
    assert "due soon" not in overdue.stdout
    assert overdue.stderr.startswith(SUMMARY.removesuffix(")") + "; 4 shown)")


def test_due_limit_shows_the_most_urgent_and_says_how_many_were_left_out(cli, demo_db):
    def rows(text):
        return [line.split() for line in text.splitlines() if line.startswith("2026-")]

    full = rows(ok(cli("due", "--db", demo_db)).stdout)
    three = ok(cli("due", "--db", demo_db, "--limit", "3"))
    assert len(full) == 12
    assert rows(three.stdout) == full[:3]
    assert "; the 3 most urgent of 12 shown, --all for every one)" in three.stderr
    data = json.loads(ok(cli("due", "--db", demo_db, "--json", "--limit", "2")).stdout)
    assert [c["ref"] for c in data["clocks"]] == ["2026-008", "2026-009"]
    assert (data["limit"], data["summary"]["matching"], data["summary"]["shown"]) == (2, 12, 2)
    assert rows(ok(cli("due", "--db", demo_db, "--all")).stdout) == full


def test_the_due_table_shows_fifty_rows_unless_asked_for_all(cli, tmp_path, monkeypatch):
    from casereview.cli import dashboard as due_cli

    monkeypatch.setattr(due_cli, "TABLE_LIMIT", 5)
    db = str(tmp_path / "demo.db")
    ok(cli("demo", "--db", db))
    table = ok(cli("due", "--db", db))
    assert len([line for line in table.stdout.splitlines() if line.startswith("2026-")]) == 5
    # The demo command records every review type: 17 open clocks (the seeded dataset
    # of England's version 1 alone has 12).
    assert "the 5 most urgent of 17 shown" in table.stderr
    every = ok(cli("due", "--db", db, "--all"))
    assert len([line for line in every.stdout.splitlines() if line.startswith("2026-")]) == 17
    assert len(json.loads(ok(cli("due", "--db", db, "--json")).stdout)["clocks"]) == 17


def test_due_as_of_moves_the_count_of_days_left(cli, demo_db):
    data = json.loads(ok(cli("due", "--db", demo_db, "--json", "--as-of", "2026-11-30")).stdout)
    assert data["as_of"] == "2026-11-30"
    first = data["clocks"][0]
    assert (first["ref"], first["working_days_left"]) == ("2026-008", -18)


def test_due_by_clock_lists_and_counts_only_that_clock_in_the_table_and_json(cli, demo_db):
    table = ok(cli("due", "--db", demo_db, "--clock", "rapid_review"))
    rows = [line for line in table.stdout.splitlines() if line.startswith("2026-")]
    assert len(rows) == 3 and all("Rapid review to the Panel" in r for r in rows)
    assert table.stderr.startswith(
        "2 overdue, 1 due soon, 0 paused (3 open clocks with clock id rapid_review"
    )
    data = json.loads(ok(cli("due", "--db", demo_db, "--json", "--clock", "rapid_review")).stdout)
    assert data["clock"] == ["rapid_review"]
    assert {c["clock_id"] for c in data["clocks"]} == {"rapid_review"}
    assert (data["summary"]["open"], data["summary"]["matching"]) == (3, 3)
    both = ["--clock", "rapid_review", "--clock", "notification"]
    data = json.loads(ok(cli("due", "--db", demo_db, "--json", *both)).stdout)
    assert {c["clock_id"] for c in data["clocks"]} == {"rapid_review", "notification"}
    assert data["summary"]["open"] == len(data["clocks"]) == 5
    lines = ok(cli("due", "--db", demo_db, "--csv", "--clock", "notification")).stdout
    assert {r["clock_id"] for r in csv.DictReader(io.StringIO(lines))} == {"notification"}


def test_due_by_an_unknown_clock_is_one_usage_error_naming_the_known_clocks(cli, demo_db):
    result = cli("due", "--db", demo_db, "--clock", "rapid_review", "--clock", "nope")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: --clock: unknown clock 'nope'")
    assert "rapid_review" in lines[0] and "notification" in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ("due", "--as-of", "2026-13-01"),
        ("due", "--as-of", "tomorrow"),
        ("due", "--within", "-1"),
        ("due", "--within", "soon"),
        ("due", "--json", "--csv"),
        ("due", "--within", "3", "--overdue"),
        ("due", "--limit", "0"),
        ("due", "--limit", "many"),
        ("due", "--all", "--limit", "5"),
    ],
)
def test_due_usage_errors_exit_2_with_one_line(cli, demo_db, args):
    result = cli(*args, "--db", demo_db)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_due_on_a_missing_database_is_not_found(cli, tmp_path):
    result = cli("due", "--db", str(tmp_path / "none.db"))
    assert result.exit_code == 3
    assert "casereview init" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_due_reads_no_events_and_builds_no_workflow(demo_db):
    """The dashboard path imports neither the engine, nor replay, nor the workflow models,
    nor SQLAlchemy (it reads through sqlite3), nor, once the holiday cache is warm, the
    holidays package; nor pydantic, which typer 0.29 would bring back to parse the
    options (see the pin in pyproject.toml)."""
    warm = [sys.executable, "-m", "casereview", "due", "--db", demo_db]
    subprocess.run(warm, capture_output=True, check=True, timeout=120)
    code = (
        "import sys\n"
        "from casereview.cli.app import main\n"
        "try:\n"
        f"    main(['due', '--db', {demo_db!r}, '--json'])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "heavy = ('casereview.domain.engine', 'casereview.domain.replay',"
        " 'casereview.domain.workflow', 'transitions',"
        " 'sqlalchemy', 'sqlmodel', 'holidays', 'pydantic')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stderr.strip() == "[]"


def test_status_words_and_colours_match_the_case_pages():
    from casereview.cli.render import status

    # One definition for the dashboard and the case pages, covering every status word.
    assert render.status_text is cases_render.status_text is status.status_text
    for word in ("running", "due_soon", "overdue", "paused", "met", "missed"):
        assert word in status_words.STATUS_WORD and word in status.STATUS_STYLE


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+2", "'=1+2"),
        ("+44 1234", "'+44 1234"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Child A", "Child A"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_formula_safe_prefixes_only_dangerous_leading_characters(cell, safe):
    assert safe_cell(cell) == safe


# -- cases with hostile text ---------------------------------------------------------


@pytest.fixture
def own_db(tmp_path):
    """A database with one admin/business-unit/chair account and no cases."""
    url = f"sqlite:///{tmp_path / 'own.db'}"
    ctx = ServiceContext(url=url, account="officer", clock=FixedClock(TODAY))
    users.init(ctx)
    for role in ("business_unit", "chair"):
        users.grant_role(ctx, "officer", role, None)
    register_cli_account(url, "officer", today=TODAY)
    yield ctx, str(tmp_path / "own.db")
    ctx.close()


def test_due_csv_cells_cannot_start_a_formula(cli, own_db):
    ctx, path = own_db
    for ref, pseudonym in (("F-1", "=HYPERLINK(1)"), ("F-2", "@cmd"), ("F-3", "-2+3")):
        cases.open_case(ctx, ref, aware_on=TODAY, pseudonym=pseudonym)
    rows = list(csv.DictReader(io.StringIO(ok(cli("due", "--db", path, "--csv")).stdout)))
    assert sorted(r["pseudonym"] for r in rows) == ["'-2+3", "'=HYPERLINK(1)", "'@cmd"]
    assert {r["working_days_left"] for r in rows} == {"5"}


def test_due_csv_neutralises_full_width_formula_characters_as_the_exports_do(cli, own_db):
    """One rule for every CSV: a spreadsheet may read ＝ ＋ － ＠ as = + - @."""
    ctx, path = own_db
    typed = ("＝HYPERLINK(1)", "＋1", "－1", "＠cmd")
    for number, pseudonym in enumerate(typed, start=1):
        cases.open_case(ctx, f"W-{number}", aware_on=TODAY, pseudonym=pseudonym)
    rows = list(csv.DictReader(io.StringIO(ok(cli("due", "--db", path, "--csv")).stdout)))
    assert sorted(r["pseudonym"] for r in rows) == sorted("'" + p for p in typed)
    assert [safe_cell(p) for p in typed] == ["'" + p for p in typed]


def test_timeline_shows_markup_and_escape_sequences_literally(cli, own_db):
    ctx, path = own_db
    cases.open_case(ctx, "M-1", aware_on=TODAY, pseudonym="[red]x[/red]")
    cases.advance(
        ctx,
        "M-1",
        "decide_not_to_notify",
        rationale="[bold]not[/bold] notifiable ESC[31mredESC[0m [link=http://x]y[/link]",
    )
    # Input refuses control characters now; a log written before that holds them as
    # stored, and the views must still show them literally.
    unprotected(
        f"sqlite:///{path}",
        "UPDATE events SET rationale = replace(rationale, 'ESC', char(27)) "
        "WHERE trigger = 'decide_not_to_notify'",
    )
    result = ok(cli("timeline", "M-1", "--db", path))
    assert "Case M-1 · [red]x[/red]" in result.stdout
    assert "[bold]not[/bold] notifiable \\x1b[31mred\\x1b[0m [link=http://x]y[/link]" in (
        result.stdout
    )
    data = json.loads(ok(cli("timeline", "M-1", "--db", path, "--json")).stdout)
    assert data["pseudonym"] == "[red]x[/red]"
    assert data["entries"][-1]["rationale"].startswith("[bold]not[/bold] notifiable \x1b[31m")


# -- timeline ------------------------------------------------------------------------


def test_timeline_of_the_held_case_is_golden(cli, demo_db):
    result = ok(cli("timeline", "2026-002", "--db", demo_db))
    assert_golden("timeline-2026-002.txt", result.stdout)
    assert "‖ LCSPR published paused (case in publication_hold): 40 days left" in result.stdout
    assert "Plan versus actual, as of 2026-11-23" in result.stdout


def test_timeline_of_the_published_case_shows_a_late_notification(cli, demo_db):
    result = ok(cli("timeline", "2026-001", "--db", demo_db))
    assert_golden("timeline-2026-001.txt", result.stdout)
    assert "! Serious incident notification: due date 2025-12-31 passed" in result.stdout
    assert "on working day 7 of 5: 2 working days late" in result.stdout


def test_timeline_json_is_golden(cli, demo_db):
    result = ok(cli("timeline", "2026-007", "--db", demo_db, "--json"))
    assert_golden("timeline-2026-007.json", result.stdout)
    data = json.loads(result.stdout)
    assert [b["run"] for b in data["bars"] if b["clock_id"] == "panel_response"] == [1, 2]
    assert {e["kind"] for e in data["entries"]} == {"event"}


def test_timeline_of_an_unknown_case_exits_3(cli, demo_db):
    result = cli("timeline", "2099-999", "--db", demo_db)
    assert result.exit_code == 3
    assert result.stderr == "Error: no case '2099-999'; see 'casereview case list'\n"


# -- explain -------------------------------------------------------------------------


def test_explain_over_christmas_is_golden(cli, demo_db):
    result = ok(cli("explain", "2026-001", "notification", "--db", demo_db))
    assert_golden("explain-2026-001-notification.txt", result.stdout)
    assert "2025-12-25  Thu      -  bank holiday: Christmas Day" in result.stdout


def test_explain_a_deadline_before_publication_is_golden(cli, demo_db):
    result = ok(cli("explain", "2026-003", "advance_copy", "--db", demo_db))
    assert_golden("explain-2026-003-advance_copy.txt", result.stdout)


def test_explain_json_of_a_paused_clock_is_golden(cli, demo_db):
    result = ok(cli("explain", "2026-002", "lcspr_publication", "--db", demo_db, "--json"))
    assert_golden("explain-2026-002-lcspr_publication.json", result.stdout)
    data = json.loads(result.stdout)
    assert data["state"] == "paused"
    assert data["pauses"] == [
        {
            "paused_on": "2026-09-28",
            "paused_in": "publication_hold",
            "resumed_on": None,
            "remaining": 40,
            "unit": "calendar_days",
        }
    ]


def test_explain_json_carries_the_day_by_day_calculation(cli, demo_db):
    data = json.loads(
        ok(cli("explain", "2026-009", "rapid_review", "--db", demo_db, "--json")).stdout
    )
    calc = data["calculation"]
    assert calc["n"] == 15 and calc["result"] == data["due_on"]
    assert len(calc["counted"]) == 15


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("2026-012", "no_such_clock"), "case 2026-012 has no clock 'no_such_clock'"),
        (("2026-012", "rapid_review"), "clock rapid_review has not started on case 2026-012"),
        (("2099-999", "rapid_review"), "no case '2099-999'"),
    ],
)
def test_explain_unknown_case_or_clock_exits_3_listing_clocks(cli, demo_db, args, message):
    result = cli("explain", *args, "--db", demo_db)
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: {message}")
    if args[0] == "2026-012":
        assert "its clocks: notification" in result.stderr
