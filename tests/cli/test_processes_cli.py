"""Parallel processes on the command line, on the small `processes` workflow
(tests/fixtures/workflows/engine/processes.toml): a criminal trial registered on a case
with `case process add`, updated with `case process update`, shown by `case show` and
`case process list`, listed in `due` when its trial date is near, checked by `audit
verify` and carried by the decision log."""

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
    monkeypatch.setenv("COLUMNS", "80")
    assert cli("init", "--db", database_url).exit_code == 0
    installed = cli("workflow", "install", "processes", "--db", database_url)
    assert installed.exit_code == 0, installed.stderr
    for name in ("clerk", "chair"):
        result = cli("user", "add", name, "--name", name, "--role", name, "--db", database_url)
        assert result.exit_code == 0, result.stderr
    enrol_keys(database_url, "clerk", "chair", admin="root")
    as_user("clerk")
    opened = cli(
        "case", "open", "T-1", "--aware-on", "2026-03-02", "--workflow", "processes",
        "--db", database_url,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    return database_url


def test_a_trial_is_registered_updated_listed_and_due_when_near(cli, db, today):
    added = cli(
        "case", "process", "add", "T-1", "--type", "criminal_proceedings",
        "--reference", "T20267001", "--lead", "police", "--date", "trial_on=2026-04-20",
        "--status", "open", "--json", "--db", db,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    recorded = json.loads(added.stdout)
    assert recorded["number"] == "1"
    assert recorded["trigger"] == "register_parallel_process"
    process = recorded["process"]
    assert {k: process[k] for k in ("type", "reference", "lead", "status", "dates")} == {
        "type": "criminal_proceedings",
        "reference": "T20267001",
        "lead": "police",
        "status": "open",
        "dates": {"trial_on": "2026-04-20"},
    }
    # The event records the number the engine gave the process.
    fields = run_sql(db, "SELECT fields FROM events WHERE trigger = 'register_parallel_process'")
    assert json.loads(fields[0][0])["process"] == "1"

    # A trial six weeks away is not near: not in `due`; ten working days before, it is.
    due = json.loads(cli("due", "--json", "--db", db).stdout)
    assert [i for i in due["clocks"] if i["kind"] == "process"] == []
    today.set("2026-04-06")
    due = json.loads(cli("due", "--json", "--db", db).stdout)
    [trial] = [i for i in due["clocks"] if i["kind"] == "process"]
    assert (trial["ref"], trial["due_on"], trial["clock_id"]) == (
        "T-1",
        "2026-04-20",
        "process_1_trial_on",
    )
    assert trial["label"] == "criminal_proceedings (parallel process 1): trial_on"
    assert trial["working_days_left"] == 10  # from Easter Monday, a bank holiday

    # The trial moves; then it concludes and leaves `due`.
    moved = cli(
        "case", "process", "update", "T-1", "1", "--date", "trial_on=2026-04-27",
        "--date", "next_hearing_on=2026-04-10", "--db", db,
    )  # fmt: skip
    assert moved.exit_code == 0, moved.stderr
    listed = json.loads(cli("case", "process", "list", "T-1", "--json", "--db", db).stdout)
    assert listed[0]["dates"] == {"trial_on": "2026-04-27", "next_hearing_on": "2026-04-10"}
    shown = cli("case", "show", "T-1", "--db", db)
    assert shown.exit_code == 0, shown.stderr
    assert "Parallel processes" in shown.stdout and "T20267001" in shown.stdout
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80
    concluded = cli("case", "process", "update", "T-1", "1", "--status", "concluded", "--db", db)
    assert concluded.exit_code == 0, concluded.stderr
    due = json.loads(cli("due", "--json", "--db", db).stdout)
    assert [i for i in due["clocks"] if i["kind"] == "process"] == []
    assert json.loads(cli("case", "show", "T-1", "--json", "--db", db).stdout)["processes"][0][
        "concluded"
    ]

    verified = cli("audit", "verify", "--db", db)
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    exported = json.loads(cli("log", "export", "--db", db, "--format", "json").stdout)
    steps = [e["trigger"] for e in exported["events"] if e["case_ref"] == "T-1"]
    assert steps.count("update_parallel_process") == 2
    timeline = json.loads(cli("timeline", "T-1", "--json", "--db", db).stdout)
    assert [e["trigger"] for e in timeline["entries"] if e["kind"] == "event"][1:] == [
        "register_parallel_process",
        "update_parallel_process",
        "update_parallel_process",
    ]


def test_an_update_of_a_process_the_case_lacks_is_refused_and_nothing_written(cli, db):
    before = run_sql(db, "SELECT COUNT(*) FROM events")
    refused = cli("case", "process", "update", "T-1", "3", "--status", "concluded", "--db", db)
    assert refused.exit_code == 4
    assert refused.stderr == ("Error: case T-1 has no parallel process '3' (its processes: none)\n")
    wrong = cli(
        "case", "process", "add", "T-1", "--type", "inquest", "--date", "verdict_on=2026-05-01",
        "--db", db,
    )  # fmt: skip
    assert wrong.exit_code == 4
    assert wrong.stderr == (
        "Error: 'verdict_on' is not a key date of a parallel process "
        "(key dates: next_hearing_on, trial_on)\n"
    )
    assert run_sql(db, "SELECT COUNT(*) FROM events") == before


def test_audit_verify_reports_a_process_column_changed_behind_its_back(cli, db, as_user):
    added = cli("case", "process", "add", "T-1", "--type", "inquest", "--db", db)
    assert added.exit_code == 0, added.stderr
    run_sql(db, "UPDATE cases SET processes = '[]' WHERE ref = 'T-1'")
    as_user("root")
    verified = cli("audit", "verify", "--db", db)
    assert verified.exit_code == 7
    assert "processes" in verified.stdout + verified.stderr


def test_two_siblings_linked_on_one_case_show_the_link_on_both(cli, db):
    opened = cli(
        "case", "open", "T-2", "--aware-on", "2026-03-02", "--workflow", "processes",
        "--db", db,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    linked = cli("case", "link", "T-1", "T-2", "--relation", "sibling", "--db", db)
    assert linked.exit_code == 0, linked.stderr
    one = json.loads(cli("case", "show", "T-1", "--json", "--db", db).stdout)
    two = json.loads(cli("case", "show", "T-2", "--json", "--db", db).stdout)
    seq = run_sql(db, "SELECT MAX(seq) FROM events")[0][0]
    assert one["links"] == [{"other": "T-2", "relation": "sibling", "on": "2026-03-02", "seq": seq}]
    assert one["linked_from"] == []
    assert two["linked_from"] == [
        {"other": "T-1", "relation": "sibling", "on": "2026-03-02", "seq": seq}
    ]
    text = cli("case", "show", "T-2", "--db", db)
    assert "Linked from T-1 (sibling, 2026-03-02)" in text.stdout
    assert "Linked to T-2 (sibling, 2026-03-02)" in cli("case", "show", "T-1", "--db", db).stdout

    before = run_sql(db, "SELECT COUNT(*) FROM events")
    for args, code, message in (
        (
            ("T-1", "T-2", "--relation", "sibling"),
            4,
            "Error: case T-1 is already linked to T-2 as sibling",
        ),
        (("T-1", "T-1", "--relation", "sibling"), 4, "Error: case T-1 cannot be linked to itself"),
        (("T-1", "T-9", "--relation", "sibling"), 3, "Error: no case 'T-9'"),
        (("T-1", "T-2", "--relation", "cousin"), 4, "Error: relation must be one of: sibling"),
    ):
        refused = cli("case", "link", *args, "--db", db)
        assert refused.exit_code == code, (args, refused.stderr)
        assert refused.stderr.startswith(message), refused.stderr
    assert run_sql(db, "SELECT COUNT(*) FROM events") == before

    verified = cli("audit", "verify", "--db", db)
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    exported = json.loads(cli("log", "export", "--db", db, "--format", "json").stdout)
    [event] = [e for e in exported["events"] if e["seq"] == seq]
    assert (event["trigger"], event["case_ref"]) == ("link_case", "T-1")


SET_PROCESSES = "UPDATE cases SET processes = :text WHERE ref = 'T-1'"


def _process_rows(cli, db) -> list[tuple[str, str]]:
    due = cli("due", "--json", "--db", db)
    assert due.exit_code == 0, due.stderr
    return [
        (i["ref"], i["due_on"]) for i in json.loads(due.stdout)["clocks"] if i["kind"] == "process"
    ]


def test_due_reads_a_process_column_in_any_form_the_projection_may_hold(cli, db, today):
    """On SQLite the database picks the cases that may have a near key date before
    casereview reads them (`dashboard_queries.open_processes`): whatever it passes over,
    casereview's own reading would have passed over too."""
    added = cli(
        "case", "process", "add", "T-1", "--type", "criminal_proceedings",
        "--date", "trial_on=2026-04-20", "--db", db,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    today.set("2026-04-06")
    assert _process_rows(cli, db) == [("T-1", "2026-04-20")]
    [[column]] = run_sql(db, "SELECT processes FROM cases WHERE ref = 'T-1'")
    # A date written without hyphens still reads as that day.
    run_sql(db, SET_PROCESSES, params={"text": column.replace("2026-04-20", "20260420")})
    assert _process_rows(cli, db) == [("T-1", "2026-04-20")]
    # A concluded process, or a date that is not one, is not listed; text that is not
    # JSON lists nothing and stops nothing (`audit verify` reports it).
    concluded = column.replace('"concluded":false', '"concluded":true')
    assert concluded != column
    for text in (concluded, column.replace("2026-04-20", "in April"), "not json"):
        run_sql(db, SET_PROCESSES, params={"text": text})
        assert _process_rows(cli, db) == []
