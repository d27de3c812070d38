"""The engine's general capabilities as a person meets them on the command line, on the
small `overlays` workflow (tests/fixtures/workflows/engine/overlays.toml): fact dates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SettableToday, enrol_keys, run_sql

ENGINE = Path(__file__).resolve().parents[1] / "fixtures" / "workflows" / "engine"


@pytest.fixture
def today(monkeypatch):
    """Today is settable: `today.set("2026-03-13")`."""
    return SettableToday(monkeypatch, "2026-03-02")


@pytest.fixture
def db(database_url, cli, monkeypatch, today, as_user):
    monkeypatch.setenv("CASEREVIEW_WORKFLOWS", str(ENGINE))
    assert cli("init", "--db", database_url).exit_code == 0
    installed = cli("workflow", "install", "overlays", "--db", database_url)
    assert installed.exit_code == 0, installed.stderr
    for name, role in (("clerk", "clerk"), ("chair", "chair")):
        result = cli("user", "add", name, "--name", name, "--role", role, "--db", database_url)
        assert result.exit_code == 0, result.stderr
    enrol_keys(database_url, "clerk", "chair", admin="root")
    as_user("clerk")
    result = cli(
        "case", "open", "F-1", "--aware-on", "2026-03-02", "--workflow", "overlays",
        "--db", database_url,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return database_url


def _show(cli, db: str) -> dict:
    result = cli("case", "show", "F-1", "--json", "--db", db)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _clock(shown: dict, clock_id: str) -> dict:
    return next(c for c in shown["clocks"] if c["clock_id"] == clock_id)


def test_a_notification_keyed_in_late_counts_on_its_fact_date(cli, db, today):
    today.set("2026-03-13")  # a week after it was sent, past the 9 March deadline
    result = cli("case", "advance", "F-1", "notify", "--set", "notified_on=2026-03-06", "--db", db)
    assert result.exit_code == 0, result.stderr
    notification = _clock(_show(cli, db), "notification")
    assert notification["stopped_on"] == "2026-03-06"
    assert notification["status"] == "met"
    review = _clock(_show(cli, db), "review")
    assert review["started_on"] == review["anchor_on"] == "2026-03-06"
    rows = run_sql(db, "SELECT occurred_on FROM events WHERE trigger = 'notify'")
    assert [r[0] for r in rows] == ["2026-03-13"]  # the event keeps the day it was keyed
    # The annual report counts it on time, by the day it was sent.
    report = cli("report", "--db", db, "--year", "2025-26", "--format", "json")
    assert report.exit_code == 0, report.stderr
    figures = json.loads(report.stdout)["figures"]
    assert figures["notifications.made"]["value"] == 1
    assert figures["notifications.on_time"]["value"] == 1
    assert figures["notifications.late"]["value"] == 0
    verified = cli("audit", "verify", "--db", db)
    assert verified.exit_code == 0, verified.stderr


def test_a_fact_date_after_the_event_date_is_refused_and_nothing_written(cli, db, today):
    today.set("2026-03-13")
    before = run_sql(db, "SELECT COUNT(*) FROM events")
    result = cli(
        "case", "advance", "F-1", "notify", "--on", "2026-03-05",
        "--set", "notified_on=2026-03-06", "--db", db,
    )  # fmt: skip
    assert result.exit_code == 4
    assert result.stderr.startswith("Error: notified_on 2026-03-06 is after the event date")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert run_sql(db, "SELECT COUNT(*) FROM events") == before
    assert _show(cli, db)["state"] == "received"


def test_the_timeline_shows_no_due_date_passed_for_a_notification_sent_on_time(cli, db, today):
    today.set("2026-03-13")
    result = cli("case", "advance", "F-1", "notify", "--set", "notified_on=2026-03-06", "--db", db)
    assert result.exit_code == 0, result.stderr
    timeline = cli("timeline", "F-1", "--json", "--db", db)
    assert timeline.exit_code == 0, timeline.stderr
    entries = json.loads(timeline.stdout)["entries"]
    assert [e for e in entries if e["kind"] == "due_passed"] == []
    notify = next(e for e in entries if e.get("trigger") == "notify")
    assert notify["on"] == "2026-03-13"  # the day it was keyed in
    stopped = next(c for c in notify["clocks"] if c["clock_id"] == "notification")
    assert (stopped["change"], stopped["status"]) == ("stopped", "met")
    bar = next(b for b in json.loads(timeline.stdout)["bars"] if b["clock_id"] == "notification")
    assert (bar["actual_to"], bar["status"]) == ("2026-03-06", "met")


def test_a_correction_may_not_move_a_fact_date_out_of_its_bounds(cli, db, today):
    today.set("2026-03-13")
    result = cli("case", "advance", "F-1", "notify", "--set", "notified_on=2026-03-06", "--db", db)
    assert result.exit_code == 0, result.stderr
    before = run_sql(db, "SELECT COUNT(*) FROM events")
    seq = run_sql(db, "SELECT seq FROM events WHERE trigger = 'notify'")[0][0]
    refused = cli(
        "case", "correct", "F-1", "--field", "notified_on=2026-02-27",
        "--rationale", "typo", "--db", db,
    )  # fmt: skip
    assert refused.exit_code == 4
    assert refused.stderr == (
        f"Error: the correction would make the case's history impossible: event {seq} (notify): "
        "notified_on 2026-02-27 is before 2026-03-02 (aware_on, from which the Notification "
        "clock counts); notify cannot have happened before the step it follows on its path\n"
    )
    assert run_sql(db, "SELECT COUNT(*) FROM events") == before
    # Within its bounds, a corrected fact date moves the clock's stop.
    moved = cli(
        "case", "correct", "F-1", "--field", "notified_on=2026-03-10",
        "--rationale", "the email went on the 10th", "--db", db,
    )  # fmt: skip
    assert moved.exit_code == 0, moved.stderr
    notification = _clock(_show(cli, db), "notification")
    assert notification["stopped_on"] == "2026-03-10"
    assert notification["status"] == "missed"


def test_a_review_held_for_a_trial_stays_in_its_stage_and_goes_on_when_lifted(
    cli, db, today, as_user
):
    today.set("2026-03-09")
    assert cli("case", "advance", "F-1", "notify", "--db", db).exit_code == 0
    today.set("2026-03-13")
    as_user("chair")
    held = cli(
        "case", "advance", "F-1", "hold", "--set", "hold_reason=trial",
        "--set", "review_by=2026-04-10", "--rationale", "criminal trial listed", "--db", db,
    )  # fmt: skip
    assert held.exit_code == 0, held.stderr
    shown = _show(cli, db)
    assert shown["state"] == "reviewing"
    assert shown["hold"] == {
        "since": "2026-03-13",
        "review_by": "2026-04-10",
        "trigger": "hold",
        "fields": {"hold_reason": "trial"},
    }
    assert _clock(shown, "review")["state"] == "paused"
    assert _clock(shown, "hold_review")["due_on"] == "2026-04-10"
    assert [p["trigger"] for p in shown["possible"]] == ["review_hold", "lift_hold", "note"]
    text = cli("case", "show", "F-1", "--db", db)
    assert "Held since 2026-03-13 (hold), to be reviewed by 2026-04-10" in text.stdout
    # The hold's review date is on the due list, like any other deadline.
    due = cli("due", "--json", "--db", db)
    assert due.exit_code == 0, due.stderr
    assert "hold_review" in due.stdout and "2026-04-10" in due.stdout

    as_user("clerk")
    before = run_sql(db, "SELECT COUNT(*) FROM events")
    refused = cli(
        "case", "advance", "F-1", "submit", "--set", "submitted_on=2026-03-13", "--db", db
    )
    assert refused.exit_code == 4
    assert refused.stderr == (
        "Error: submit is not possible while case F-1 is held (since 2026-03-13, to be "
        "reviewed by 2026-04-10); possible while held: review_hold, lift_hold, note\n"
    )
    assert run_sql(db, "SELECT COUNT(*) FROM events") == before

    today.set("2026-04-20")
    as_user("chair")
    lifted = cli("case", "advance", "F-1", "lift_hold", "--rationale", "verdict given", "--db", db)
    assert lifted.exit_code == 0, lifted.stderr
    shown = _show(cli, db)
    assert shown["hold"] is None
    assert _clock(shown, "review")["state"] == "running"
    # Lifted after its review date had passed: the hold review shows as missed.
    assert _clock(shown, "hold_review")["status"] == "missed"
    assert run_sql(db, "SELECT hold FROM cases WHERE ref = 'F-1'") == [(None,)]
    as_user("clerk")
    submitted = cli(
        "case", "advance", "F-1", "submit", "--set", "submitted_on=2026-04-20", "--db", db
    )
    assert submitted.exit_code == 0, submitted.stderr
    verified = cli("audit", "verify", "--db", db)
    assert verified.exit_code == 0, verified.stderr
    timeline = json.loads(cli("timeline", "F-1", "--json", "--db", db).stdout)
    bar = next(b for b in timeline["bars"] if b["clock_id"] == "review")
    assert bar["pauses"] == [{"from": "2026-03-13", "to": "2026-04-20"}]
