"""One installation, several review types: `due`, `case list`, `report`, `log export`, the
calendar feed and the .xlsx outputs take `--workflow ID` (an installed id, or `id@N`) and,
where the rows are of more than one type, say each row's type by the short label its
workflow file gives ("LCSPR", "SAR", "DHR").

Three cases, one of each type, opened through the command line in the 2025-26 year:
an LCSPR (england-lcspr v2), a SAR and a DHR; each has a clock running.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from tests.cli.test_review_types_cli import Desk, desk  # noqa: F401 - fixtures
from tests.conftest import BACKEND

YEAR = ("--year", "2025-26")
WIDTHS = (60, 80, 120)


@pytest.fixture
def mixed(desk: Desk) -> Desk:  # noqa: F811
    desk.open("LC-1", "england-lcspr", "2025-05-06", "Child A")
    desk.open("SAR-1", "england-sar", "2025-05-07", "Adult A")
    desk.open("DHR-1", "england-dhr", "2025-05-08", "Ms A")
    desk.as_user("bu")
    return desk


def run(at: Desk, *args: str, width: int | None = None):
    env = {"COLUMNS": str(width), "NO_COLOR": "1"} if width else None
    return at.cli(*args, "--db", at.db, env=env)


def ok(at: Desk, *args: str, width: int | None = None) -> str:
    result = run(at, *args, width=width)
    assert result.exit_code == 0, result.stderr
    return result.stdout


# -- due ------------------------------------------------------------------------------


def test_due_lists_every_type_with_its_workflow_and_filters_to_one(mixed):
    every = json.loads(ok(mixed, "due", "--json"))
    assert {c["ref"]: c["workflow"] for c in every["clocks"]} == {
        "LC-1": "england-lcspr",
        "SAR-1": "england-sar",
        "DHR-1": "england-dhr",
    }
    assert every["workflow"] is None
    sar = json.loads(ok(mixed, "due", "--json", "--workflow", "england-sar"))
    assert sar["workflow"] == "england-sar"
    assert {c["ref"] for c in sar["clocks"]} == {"SAR-1"}
    # The counts are the type's own, not the installation's.
    assert sar["summary"]["open"] == len(sar["clocks"]) < every["summary"]["open"]
    # With a version: the LCSPR case is on v2, so v1 has nothing open.
    v2 = json.loads(ok(mixed, "due", "--json", "--workflow", "england-lcspr@2"))
    assert {c["ref"] for c in v2["clocks"]} == {"LC-1"}
    assert json.loads(ok(mixed, "due", "--json", "--workflow", "england-lcspr@1"))["clocks"] == []
    rows = list(csv.DictReader(io.StringIO(ok(mixed, "due", "--csv", "--workflow", "england-dhr"))))
    assert [(r["ref"], r["workflow"]) for r in rows] == [("DHR-1", "england-dhr")]


@pytest.mark.parametrize("width", WIDTHS)
def test_due_table_names_each_rows_type_only_when_types_are_mixed(mixed, width):
    table = ok(mixed, "due", width=width)
    assert all(len(line.rstrip()) <= width for line in table.splitlines()), table
    assert "…" not in table
    for ref, label in (("LC-1", "LCSPR"), ("SAR-1", "SAR"), ("DHR-1", "DHR")):
        line = next(line for line in table.splitlines() if ref in line)
        assert re.search(rf"\b{label}\b", line), table
    one = ok(mixed, "due", "--workflow", "england-sar", width=width)
    assert "SAR-1" in one and "LC-1" not in one and "DHR-1" not in one
    assert "Type" not in one and not re.search(r"\bSAR\b", one.replace("SAR-1", ""))


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("england-sr", "did you mean 'england-sar'?"),
        ("nothing-like-it", "declared: england-dhr"),
        ("england-lcspr@9", "no version 9 installed (versions: 1, 2)"),
        ("england-lcspr@x", "is not a workflow version"),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        ("due",),
        ("case", "list"),
        ("report", *YEAR),
        ("log", "export"),
        ("calendar", "export"),
    ],
)
def test_a_workflow_not_installed_is_refused_with_the_nearest(mixed, command, given, words):
    result = run(mixed, *command, "--workflow", given)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("Error: ") and words in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.skipif(BACKEND != "sqlite", reason="reads SQLite's query plan")
def test_due_for_one_workflow_reads_the_workflow_index(mixed):
    """The filtered counts come from the index alone and the pages in its due-date order:
    no scan of the clocks, no sort of them, no lookup of every case."""
    import datetime as dt
    import sqlite3

    from casereview.store import dashboard_queries as views

    path = mixed.db.removeprefix("sqlite:///")
    only = ("england-sar", None)
    params = {"no": False, "as_of": "2026-01-01", "workflow_id": "england-sar"}
    with sqlite3.connect(path) as conn:
        counts_sql, extra = views._only(views.COUNTS_SQL, only)
        bounds = {"next_before": "", "within_before": ""}
        explained = conn.execute(f"EXPLAIN QUERY PLAN {counts_sql}", {**params, **extra, **bounds})
        plan = [r[3] for r in explained]
        assert any("COVERING INDEX ix_case_clocks_workflow_due" in step for step in plan), plan
        dated_sql, extra = views._only(views.DATED_SQL + "\nLIMIT 50", only)
        plan = [r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {dated_sql}", params)]
        assert any("INDEX ix_case_clocks_workflow_due" in step for step in plan), plan
        assert not any("SCAN" in step for step in plan), plan
        assert not any("TEMP B-TREE FOR ORDER BY" in step for step in plan), plan
        # And the rows it finds are those the filter names.
        from casereview.store.reading import SqliteReader

        rows = views.open_clocks(SqliteReader(conn, path), dt.date(2026, 1, 1), workflow=only)
    assert {r.ref for r in rows} == {"SAR-1"}


# -- case list ------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_case_list_names_each_cases_type_and_filters_to_one(mixed, width):
    table = ok(mixed, "case", "list", width=width)
    assert all(len(line.rstrip()) <= width for line in table.splitlines()), table
    for ref, label in (("LC-1", "LCSPR"), ("SAR-1", "SAR"), ("DHR-1", "DHR")):
        block = table[table.index(ref) :][:200]
        assert re.search(rf"\b{label}\b", block), table
    listed = json.loads(ok(mixed, "case", "list", "--json", "--workflow", "england-dhr"))
    assert [(c["ref"], c["workflow"], c["type"]) for c in listed] == [
        ("DHR-1", "england-dhr v1", "")  # one type: no label needed
    ]
    every = json.loads(ok(mixed, "case", "list", "--json"))
    assert {c["ref"]: c["type"] for c in every} == {
        "LC-1": "LCSPR",
        "SAR-1": "SAR",
        "DHR-1": "DHR",
    }


def test_the_xlsx_outputs_keep_to_the_workflow_asked_for(mixed, tmp_path: Path):
    due_book, cases_book = tmp_path / "due.xlsx", tmp_path / "cases.xlsx"
    ok(mixed, "due", "--workflow", "england-sar", "--xlsx", str(due_book))
    ok(mixed, "case", "list", "--workflow", "england-sar", "--xlsx", str(cases_book))
    due_rows = CalamineWorkbook.from_path(str(due_book))
    sheet = due_rows.get_sheet_by_index(0).to_python()
    header = sheet[1]  # under the heading line
    assert [(r[0], r[header.index("workflow")]) for r in sheet[2:]] == [("SAR-1", "england-sar")]
    cases = CalamineWorkbook.from_path(str(cases_book)).get_sheet_by_name("Cases").to_python()
    header = cases[0]
    assert [row[header.index("ref")] for row in cases[1:]] == ["SAR-1"]


# -- report, log export, calendar -----------------------------------------------------


def test_report_counts_only_the_workflow_asked_for(mixed):
    def opened(*extra: str) -> int:
        data = json.loads(ok(mixed, "report", *YEAR, "--format", "json", *extra))
        return int(data["figures"]["caseload.opened"]["value"])

    assert opened() == 3
    assert opened("--workflow", "england-sar") == 1
    assert opened("--workflow", "england-lcspr@1") == 0


def test_log_export_keeps_one_workflows_events_and_verifies(mixed, tmp_path: Path):
    out = tmp_path / "sar.json"
    ok(mixed, "log", "export", "--workflow", "england-sar", "--format", "json", "-o", str(out))
    data = json.loads(out.read_text())
    assert data["meta"]["filter"]["workflow"] == "england-sar"
    assert {e["case_ref"] for e in data["events"]} == {"SAR-1"}
    assert data["meta"]["case_count"] == 1
    mixed.as_user("root")
    verified = run(mixed, "log", "verify-export", str(out))
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    # Markdown says which review type the log was cut to.
    md = ok(mixed, "log", "export", "--workflow", "england-dhr", "--format", "md")
    assert "| Review type | england-dhr |" in md and "SAR-1" not in md


def test_calendar_feed_names_each_entrys_type_and_filters_to_one(mixed):
    every = ok(mixed, "calendar", "export")
    summaries = [line for line in every.splitlines() if line.startswith("SUMMARY:")]
    assert any(s.startswith("SUMMARY:SAR-1 [SAR] (Adult A)") for s in summaries), summaries
    assert any(s.startswith("SUMMARY:LC-1 [LCSPR] (Child A)") for s in summaries), summaries
    one = ok(mixed, "calendar", "export", "--workflow", "england-dhr")
    summaries = [line for line in one.splitlines() if line.startswith("SUMMARY:")]
    assert summaries and all(s.startswith("SUMMARY:DHR-1 (Ms A)") for s in summaries)
