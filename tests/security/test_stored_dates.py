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
import datetime as dt
import gc
import io
import json
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import BACKEND
from tests.security.conftest import TODAY, days_ago, raw, store_in_log

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


# -- any one stored value, generated -------------------------------------------------------

BAD_DATES = st.one_of(
    st.dates(dt.date(1, 1, 1), dt.date(1989, 12, 31)).map(dt.date.isoformat),
    st.dates(dt.date(2100, 1, 1), dt.date(9999, 12, 31)).map(dt.date.isoformat),
    st.sampled_from(["not a date", "", "2026-02-30", "2026-W01-1", "20261102", "0000-00-00"]),
)
PLACES = st.sampled_from(
    [
        ("event", "S-001", "open", "occurred_on"),
        ("event", "S-001", "notify", "occurred_on"),
        ("event", "S-002", "add_note", "occurred_on"),
        ("field", "S-002", "open", "aware_on"),
        ("field", "S-003", "open", "incident_on"),
        ("field", "S-001", "notify", "notified_on"),
        ("clock", "S-003", "notification", "due_on"),
        ("clock", "S-001", "rapid_review", "anchor_on"),
        ("clock", "S-002", "rapid_review", "warn_from"),
    ]
)
WHOLE_LOG = [
    ("log", "export", "--format", "csv"),
    ("log", "export", "--format", "json"),
    ("log", "export", "--format", "md"),
    ("report", *PERIOD, "--format", "json", "--detail"),
    ("report", *PERIOD, "--format", "html"),
    ("due", "--json"),
    ("calendar", "export"),
]
ONE_CASE = [
    ("case", "show", "{ref}", "--json"),
    ("timeline", "{ref}"),
    ("explain", "{ref}", "{clock}"),
]


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(place=PLACES, value=BAD_DATES)
def test_no_single_stored_date_stops_a_reader_of_the_whole_log(seeded, cli, place, value):
    """Whatever one stored date holds (out of range, or not a date at all), every reader
    of the whole log completes, `audit verify` reports it rather than failing, and the
    case's own views answer with their output or one clear `Error:` line."""
    kind, ref, where, name = place
    with copy_of(seeded) as url:
        _one_stored_value(cli, url, kind, ref, where, name, value)


@contextmanager
def copy_of(seeded) -> Iterator[str]:
    """A copy of the seeded database for one example (a file copy, or a PostgreSQL
    database made from it as a template)."""
    if BACKEND == "sqlite":
        source = seeded.url.removeprefix("sqlite:///")
        copy = seeded.tmp / "copy.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(copy) + suffix).unlink(missing_ok=True)
            if Path(source + suffix).exists():
                shutil.copyfile(source + suffix, str(copy) + suffix)
        yield f"sqlite:///{copy}"
        return
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from tests.conftest import _admin_engine

    original = make_url(seeded.url).database
    name = f"{original}_copy"
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {original}"))
        yield make_url(seeded.url).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        engine.dispose()


def _one_stored_value(cli, url, kind, ref, where, name, value) -> None:
    from tests.conftest import run_sql

    before = run_sql(url, "SELECT COUNT(*) FROM events")
    if kind == "event":
        store_in_log(url, ref, where, occurred_on=value)
    elif kind == "field":
        store_in_log(url, ref, where, field=name, value=value)
    else:
        raw(url, f"UPDATE case_clocks SET {name} = :v WHERE clock_id = :c AND case_id = "
            "(SELECT id FROM cases WHERE ref = :r)", v=value, c=where, r=ref)  # fmt: skip
    try:
        for argv in WHOLE_LOG:
            result = cli(*argv, "--db", url)
            assert result.exit_code == 0, (argv, result.stderr)
            assert "Traceback" not in result.stderr
        verified = cli("audit", "verify", "--json", "--db", url)
        assert verified.exit_code == 7, verified.stdout + verified.stderr
        assert json.loads(verified.stdout)["findings"]
        clock = "rapid_review" if ref == "S-001" else "notification"
        for argv in ONE_CASE:
            result = cli(*(a.format(ref=ref, clock=clock) for a in argv), "--db", url)
            assert result.exit_code in (0, 1, 2), (argv, result.stderr)
            assert "unexpected internal error" not in result.stderr, (argv, result.stderr)
            assert "Traceback" not in result.stderr
    finally:
        assert run_sql(url, "SELECT COUNT(*) FROM events") == before
