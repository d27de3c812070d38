"""Robust readers: one stored value that casereview cannot compute with (a year typed as
1026, a date that is not a date) no longer stops an export, a report, `due`, a case's
views or the calendar feed for the whole log. The value is shown and exported as stored,
the export verifies, and `audit verify` reports it as a `date` finding while everything
else verifies.

The values are put into the log with raw SQL (see conftest), the way a database written
before dates were checked on input holds them.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import sys

import pytest

from tests.security.conftest import TODAY, days_ago, raw

TYPO = "1026-11-02"
PERIOD = ("--from", days_ago(60).isoformat(), "--to", TODAY.isoformat())


@pytest.fixture
def aware_typo(seeded):
    """S-002's aware_on is 1026-11-02 in its opening event and in its case row."""
    seeded.store("S-002", "open", field="aware_on", value=TYPO)
    return seeded


@pytest.fixture
def opened_typo(seeded):
    """S-003 was opened `--on 1026-11-02`, as the code before this suite accepted."""
    seeded.store("S-003", "open", occurred_on=TYPO)
    return seeded


def _events_in(path, fmt: str) -> int:
    text = path.read_text(encoding="utf-8-sig")
    if fmt == "csv":
        return sum(1 for row in csv.reader(io.StringIO(text)) if row and row[0] == "event")
    if fmt == "json":
        return len(json.loads(text)["events"])
    return text.count("\n### ")


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
@pytest.mark.parametrize("stored", ["aware_typo", "opened_typo"])
def test_the_export_is_complete_shows_the_value_as_stored_and_verifies(stored, fmt, cli, request):
    db = request.getfixturevalue(stored)
    path = db.tmp / f"log.{fmt}"
    result = cli("log", "export", "--format", fmt, "-o", str(path), *db.cli_args())
    assert result.exit_code == 0, result.stderr
    assert "Exported 6 events from 3 cases" in result.stderr
    assert "Traceback" not in result.stderr
    assert TYPO in path.read_text(encoding="utf-8-sig")
    if fmt != "md":
        assert _events_in(path, fmt) == 6
    checked = cli("log", "verify-export", str(path), *db.cli_args())
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert "Every row matches the log" in checked.stdout


@pytest.mark.parametrize(
    ("stored", "ref", "named"),
    [("aware_typo", "S-002", "aware_on"), ("opened_typo", "S-003", "occurred_on")],
)
def test_audit_verify_reports_the_stored_value_and_the_rest_verifies(
    stored, ref, named, cli, request
):
    db = request.getfixturevalue(stored)
    trigger_seq = raw(
        db.url, "SELECT seq FROM events WHERE case_ref = :r AND trigger = 'open'", r=ref
    )[0][0]
    result = cli("audit", "verify", "--json", *db.cli_args())
    assert result.exit_code == 7, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["cases"] == 3
    assert report["findings"] == [
        {
            "check": "date",
            "seq": trigger_seq,
            "message": f"case {ref}: {named} {TYPO} is outside the dates casereview supports "
            "(1990-01-01 to 2099-12-31)",
        }
    ]
    shown = cli("audit", "verify", *db.cli_args())
    assert shown.exit_code == 7
    assert f"FAIL [date] event {trigger_seq}: case {ref}: {named} {TYPO}" in " ".join(
        shown.stdout.split()
    )


READERS = {
    "report": ("report", *PERIOD),
    "report --detail": ("report", *PERIOD, "--detail"),
    "report json": ("report", *PERIOD, "--format", "json", "--detail"),
    "report csv": ("report", *PERIOD, "--format", "csv"),
    "report md": ("report", *PERIOD, "--format", "md"),
    "report html": ("report", *PERIOD, "--format", "html"),
    "case show": ("case", "show", "S-002"),
    "case show --json": ("case", "show", "S-002", "--json"),
    "case show --as-at": ("case", "show", "S-002", "--as-at", days_ago(20).isoformat()),
    "timeline": ("timeline", "S-002"),
    "timeline --json": ("timeline", "S-002", "--json"),
    "explain": ("explain", "S-002", "notification"),
    "explain --json": ("explain", "S-002", "notification", "--json"),
}


@pytest.mark.parametrize("argv", READERS.values(), ids=READERS.keys())
def test_reports_and_case_views_read_past_the_stored_value(aware_typo, argv, cli):
    result = cli(*argv, *aware_typo.cli_args(), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_case_show_gives_the_value_as_stored_and_its_clock_as_not_computable(aware_typo, cli):
    result = cli("case", "show", "S-002", "--json", *aware_typo.cli_args())
    assert result.exit_code == 0, result.stderr
    view = json.loads(result.stdout)
    assert view["fields"]["aware_on"] == TYPO
    notification = next(c for c in view["clocks"] if c["clock_id"] == "notification")
    assert notification["status"] == "undetermined"
    assert notification["anchor_on"] == TYPO
    assert notification["due_on"] is None
    words = cli("case", "show", "S-002", *aware_typo.cli_args(), env={"COLUMNS": "200"})
    assert "cannot be computed" in words.stdout


def test_the_annual_report_lists_the_case_with_its_stored_date(aware_typo, cli):
    result = cli("report", *PERIOD, "--format", "json", "--detail", *aware_typo.cli_args())
    assert result.exit_code == 0, result.stderr
    assert TYPO in result.stdout  # the opened case's aware_on, as stored
    opened = json.loads(result.stdout)["figures"]["caseload.opened"]
    assert opened["value"] == 3
    assert {c["ref"]: c["aware_on"] for c in opened["cases"]}["S-002"] == TYPO


def test_due_lists_a_clock_whose_stored_due_date_is_out_of_range(seeded, cli):
    raw(
        seeded.url,
        "UPDATE case_clocks SET due_on = '1026-11-09', warn_from = '1026-11-04' "
        "WHERE clock_id = 'notification' AND case_id = (SELECT id FROM cases WHERE ref = 'S-003')",
    )
    result = cli("due", "--json", *seeded.cli_args())
    assert result.exit_code == 0, result.stderr
    items = {(i["ref"], i["clock_id"]): i for i in json.loads(result.stdout)["clocks"]}
    typo = items[("S-003", "notification")]
    assert typo["due_on"] == "1026-11-09"
    assert typo["working_days_left"] is None
    assert ("S-001", "rapid_review") in items and ("S-002", "rapid_review") in items
    table = cli("due", *seeded.cli_args(), env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.stderr
    assert "1026-11-09" in table.stdout


def test_the_calendar_feed_leaves_out_only_a_clock_whose_due_date_is_not_a_date(seeded, cli):
    raw(
        seeded.url,
        "UPDATE case_clocks SET due_on = 'not a date' "
        "WHERE clock_id = 'notification' AND case_id = (SELECT id FROM cases WHERE ref = 'S-003')",
    )
    path = seeded.tmp / "deadlines.ics"
    result = cli("calendar", "export", "-o", str(path), *seeded.cli_args())
    assert result.exit_code == 0, result.stderr
    feed = path.read_text()
    assert feed.count("BEGIN:VEVENT") == 2  # the two rapid review clocks
    assert "1 clock left out" in result.stderr
    listed = cli("due", "--json", *seeded.cli_args())
    assert listed.exit_code == 0, listed.stderr
    statuses = {(i["ref"], i["clock_id"]): i["status"] for i in json.loads(listed.stdout)["clocks"]}
    assert statuses[("S-003", "notification")] == "undetermined"


def test_a_failed_export_leaves_no_cursor_for_the_garbage_collector(seeded, cli, monkeypatch):
    """An export that fails part-way (here: a writer refusing its second record) says so in
    one line; before, the cursor was closed later, on a closed connection, and a traceback
    followed the error."""
    from casereview.errors import CaseReviewError
    from casereview.formats.decision_log import records

    real = records.DecisionLogBuilder.feed
    fed: list[int] = []

    def failing(self, row):
        fed.append(1)
        if len(fed) == 2:
            raise CaseReviewError("the writer gave up")
        return real(self, row)

    unraisable: list[object] = []
    monkeypatch.setattr(records.DecisionLogBuilder, "feed", failing)
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    result = cli("log", "export", "--jobs", "1", *seeded.cli_args())
    gc.collect()
    assert result.exit_code == 1
    assert "the writer gave up" in result.stderr
    assert unraisable == []


def test_a_personal_date_is_reported_without_its_value():
    from casereview.services.audit_cases import _date_findings, _Pinned

    pinned = _Pinned(
        None, None, date_fields=frozenset({"born_on", "aware_on"}), personal=frozenset({"born_on"})
    )
    events = [
        {"seq": 7, "occurred_on": "2026-11-02", "fields": {"born_on": "1026-01-01"}},
        {"seq": 8, "occurred_on": "2026-11-03", "fields": {"aware_on": TYPO, "note": TYPO}},
    ]
    found = [(f.check, f.seq, f.message) for f in _date_findings("S-9", events, pinned)]
    assert found == [
        ("date", 7, "case S-9: born_on is not a date casereview can compute with"),
        ("date", 8, f"case S-9: aware_on {TYPO} is outside the dates casereview supports "
         "(1990-01-01 to 2099-12-31)"),
    ]  # fmt: skip
