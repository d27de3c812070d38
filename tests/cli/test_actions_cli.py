"""Recommendations and actions through the command line, on the small `plan` workflow
(tests/fixtures/workflows/actions/plan.toml): the chair records a national review's
six local recommendations and their actions for three agencies, partners and the
business unit record a year of updates, one action is extended and one missed; the
figures equal a hand count; `close` waits for open actions unless the chair overrides;
a partner cannot touch another agency's action; `audit verify` accepts it all."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from tests.conftest import SettableToday, enrol_keys

ACTIONS = Path(__file__).resolve().parents[1] / "fixtures" / "workflows" / "actions"

USERS = (
    ("bu", "business_unit", None),
    ("chair", "chair", None),
    ("pc_lee", "partner", "police"),
    ("la_khan", "partner", "local_authority"),
    ("icb_ode", "partner", "icb"),
    ("scrut", "scrutineer", None),
)


@pytest.fixture
def today(monkeypatch):
    """Today is settable: `today.set("2026-03-13")`."""
    return SettableToday(monkeypatch, "2026-01-05")


@pytest.fixture
def db(database_url, cli, monkeypatch, today, as_user):
    monkeypatch.setenv("CASEREVIEW_WORKFLOWS", str(ACTIONS))
    assert cli("init", "--db", database_url).exit_code == 0
    installed = cli("workflow", "install", "plan", "--db", database_url)
    assert installed.exit_code == 0, installed.stderr
    for name, role, agency in USERS:
        extra = ("--agency", agency) if agency else ()
        result = cli(
            "user", "add", name, "--name", name, "--role", role, *extra, "--db", database_url
        )
        assert result.exit_code == 0, result.stderr
    enrol_keys(database_url, *(name for name, _role, _agency in USERS), admin="root")
    as_user("bu")
    result = cli(
        "case", "open", "NR-1", "--aware-on", "2026-01-05", "--workflow", "plan",
        "--db", database_url,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return database_url


def _ok(result):
    assert result.exit_code == 0, result.stderr
    return result


RECS = {
    # number: agencies
    "1": ["local_authority"],
    "2": ["police"],
    "3": ["icb"],
    "4": ["local_authority", "police"],
    "5": ["police", "icb"],
    "6": ["local_authority", "police", "icb"],
}

# action: (rec, agency, due)
ACTIONS_PLAN = {
    "1.1": ("1", "local_authority", "2026-06-30"),
    "2.1": ("2", "police", "2026-06-30"),
    "3.1": ("3", "icb", "2026-09-30"),
    "4.1": ("4", "local_authority", "2026-09-30"),
    "4.2": ("4", "police", "2026-09-30"),
    "5.1": ("5", "icb", "2026-12-31"),
    "6.1": ("6", "police", "2026-12-31"),
}


def _record_plan(cli, db, as_user, today) -> None:
    as_user("chair")
    today.set("2026-02-02")
    for number, agencies in RECS.items():
        args = [a for agency in agencies for a in ("--agency", agency)]
        _ok(cli(
            "rec", "add", "NR-1", number, "--text", f"Recommendation {number}",
            "--source", "National review of Arthur and Star", "--section", "Part 4",
            *args, "--db", db,
        ))  # fmt: skip
    for action, (rec, agency, due) in ACTIONS_PLAN.items():
        _ok(cli(
            "action", "add", "NR-1", action, "--rec", rec, "--text", f"Do {action}",
            "--agency", agency, "--owner", f"Head of {agency}", "--due", due, "--db", db,
        ))  # fmt: skip
    _ok(cli("case", "advance", "NR-1", "approve_action_plan", "--db", db))


def test_a_national_reviews_plan_over_a_year(cli, db, as_user, today, tmp_path):
    # The plan cannot be approved before it has a recommendation with an action.
    as_user("chair")
    refused = cli("case", "advance", "NR-1", "approve_action_plan", "--db", db)
    assert refused.exit_code == 4
    assert "at least one recommendation with an action" in refused.stderr
    _record_plan(cli, db, as_user, today)

    # A year of updates: partners for their own agency, the business unit for any.
    as_user("la_khan")
    today.set("2026-03-02")
    _ok(cli("action", "update", "NR-1", "1.1", "--status", "in_progress",
            "--note", "Procedure drafted", "--db", db))  # fmt: skip
    today.set("2026-06-15")
    _ok(cli("action", "complete", "NR-1", "1.1", "--status", "evidenced",
            "--evidence", "https://dms.example/proc/17", "--db", db))  # fmt: skip
    as_user("pc_lee")
    # A partner is refused on another agency's action, and nothing is recorded.
    before = _ok(cli("action", "list", "NR-1", "--json", "--db", db)).stdout
    other = cli("action", "update", "NR-1", "1.1", "--note", "not mine", "--db", db)
    assert other.exit_code == 4
    assert "owned by 'local_authority'" in other.stderr
    other = cli("action", "update", "NR-1", "3.1", "--note", "not mine", "--db", db)
    assert other.exit_code == 4
    assert _ok(cli("action", "list", "NR-1", "--json", "--db", db)).stdout == before
    today.set("2026-07-20")
    _ok(
        cli(
            "action",
            "complete",
            "NR-1",
            "2.1",
            "--note",
            "Training delivered: 140 staff",
            "--db",
            db,
        )
    )  # fmt: skip  (late: missed)
    today.set("2026-08-03")
    _ok(cli("action", "complete", "NR-1", "4.2", "--db", db))  # on time
    as_user("chair")
    today.set("2026-09-01")
    _ok(cli("action", "extend", "NR-1", "3.1", "--due", "2027-01-31",
            "--reason", "Audit postponed by the inspection", "--agreed-by", "Chair",
            "--db", db))  # fmt: skip
    # A partner may not extend, even for their own agency.
    as_user("icb_ode")
    refused = cli("action", "extend", "NR-1", "5.1", "--due", "2027-03-31", "--reason", "r",
                  "--agreed-by", "me", "--db", db)  # fmt: skip
    assert refused.exit_code == 4
    today.set("2026-11-16")
    _ok(
        cli(
            "action",
            "complete",
            "NR-1",
            "3.1",
            "--status",
            "evidenced",
            "--evidence",
            "audit-2026-11.pdf",
            "--db",
            db,
        )
    )  # after the agreed extension
    as_user("bu")
    today.set("2026-12-14")
    _ok(cli("action", "update", "NR-1", "4.1", "--note", "Keyed in for the local authority",
            "--status", "in_progress", "--db", db))  # fmt: skip
    _ok(cli("action", "complete", "NR-1", "5.1", "--db", db))
    as_user("chair")
    today.set("2027-01-11")
    _ok(cli("action", "complete", "NR-1", "6.1", "--status", "closed_without_completion",
            "--reason", "Superseded by the national programme", "--db", db))  # fmt: skip

    # The figures equal a hand count: 1.1 met, 2.1 missed, 3.1 met after extension,
    # 4.1 open and overdue, 4.2 met, 5.1 met, 6.1 closed without completion.
    as_user("scrut")
    listed = json.loads(_ok(cli("action", "list", "NR-1", "--json", "--db", db)).stdout)
    outcomes = {a["action"]: a["outcome"] for a in listed}
    assert outcomes == {
        "1.1": "met",
        "2.1": "missed",
        "3.1": "met_after_extension",
        "4.1": "overdue",
        "4.2": "met",
        "5.1": "met",
        "6.1": "closed_without_completion",
    }
    three = next(a for a in listed if a["action"] == "3.1")
    assert (three["due_on"], three["original_due_on"]) == ("2027-01-31", "2026-09-30")
    extension = next(h for h in three["history"] if h["trigger"] == "action_extend")
    assert extension["reason"] == "Audit postponed by the inspection"
    assert extension["agreed_by"] == "Chair"
    assert next(a for a in listed if a["action"] == "1.1")["evidence"] == [
        "https://dms.example/proc/17"
    ]
    # The action plan report's figures equal the hand count.
    report = _ok(cli("action", "plan", "NR-1", "--db", db)).stdout
    for line in (
        "- Recommendations: 6 (3 multi-agency)",
        "- Actions: 7 (5 completed, 1 open)",
        "  - met: 3",
        "  - met after agreed extension: 1",
        "  - missed: 1",
        "  - closed without completion: 1",
        "  - overdue: 1",
        "  - open: 0",
    ):
        assert line in report.splitlines(), line
    rows = list(
        csv.DictReader(
            io.StringIO(_ok(cli("action", "plan", "NR-1", "--format", "csv", "--db", db)).stdout)
        )
    )
    assert {r["action"]: r["outcome"] for r in rows} == outcomes
    recs = json.loads(_ok(cli("rec", "list", "NR-1", "--json", "--db", db)).stdout)
    assert [r["number"] for r in recs["recommendations"]] == list(RECS)
    assert [r["scope"] for r in recs["recommendations"]] == ["single"] * 3 + ["multi"] * 3

    # What the police owe across cases: nothing open; the local authority owes 4.1.
    due = json.loads(_ok(cli("action", "due", "--agency", "police", "--json", "--db", db)).stdout)
    assert due == []
    due = json.loads(_ok(cli("action", "due", "--json", "--db", db)).stdout)
    assert [(d["ref"], d["action"], d["overdue"]) for d in due] == [("NR-1", "4.1", True)]

    # close waits for the open action; the chair's override lets it go ahead.
    as_user("chair")
    refused = cli("case", "advance", "NR-1", "close", "--db", db)
    assert refused.exit_code == 4
    assert "waits while actions are open (4.1)" in refused.stderr
    no_reason = cli("action", "override", "NR-1", "close", "--rationale", " ", "--db", db)
    assert no_reason.exit_code == 2
    as_user("bu")
    assert cli("action", "override", "NR-1", "close", "--rationale", "x", "--db", db).exit_code == 4
    as_user("chair")
    _ok(cli("action", "override", "NR-1", "close", "--rationale",
            "4.1 is carried into the partnership's business plan", "--db", db))  # fmt: skip
    _ok(cli("case", "advance", "NR-1", "close", "--db", db))
    # A closed case's actions are owed no more: not in `action due`, nor in `due`.
    assert json.loads(_ok(cli("action", "due", "--json", "--db", db)).stdout) == []
    due_now = json.loads(_ok(cli("due", "--json", "--db", db)).stdout)
    assert not any(c["kind"] == "action" for c in due_now["clocks"])

    verified = cli("audit", "verify", "--db", db)
    assert verified.exit_code == 0, verified.stdout + verified.stderr

    # The decision log holds the plan's steps among the case's, and still verifies.
    for form in ("json", "csv", "md"):
        exported = tmp_path / f"log.{form}"
        _ok(cli("log", "export", "--format", form, "--output", str(exported), "--db", db))
        checked = cli("log", "verify-export", str(exported), "--db", db)
        assert checked.exit_code == 0, checked.stdout + checked.stderr
    records = json.loads((tmp_path / "log.json").read_text())["events"]
    steps = [r["trigger"] for r in records]
    assert steps.count("rec_add") == 6
    assert steps.count("action_add") == 7
    assert steps.count("action_extend") == 1
    assert steps[-2:] == ["plan_override", "close"]
    override = records[-2]
    assert override["rationale"] == "4.1 is carried into the partnership's business plan"
    assert override["actor"] == "chair"


def test_an_override_answers_the_next_step_only(cli, db, as_user, today):
    _record_plan(cli, db, as_user, today)
    as_user("chair")
    _ok(cli("action", "override", "NR-1", "close", "--rationale", "why", "--db", db))
    # Any step of the case after the override makes it stale: here none is possible, so
    # the override stands and close goes ahead once.
    _ok(cli("case", "advance", "NR-1", "close", "--db", db))
    again = cli("action", "update", "NR-1", "1.1", "--note", "late", "--db", db)
    assert again.exit_code == 4
    assert "closed" in again.stderr


def test_a_scrutineer_reads_but_does_not_write(cli, db, as_user, today, tmp_path):
    _record_plan(cli, db, as_user, today)
    as_user("scrut")
    shown = json.loads(_ok(cli("rec", "show", "NR-1", "4", "--json", "--db", db)).stdout)
    assert [a["action"] for a in shown["actions"]] == ["4.1", "4.2"]
    refused = cli("action", "update", "NR-1", "4.1", "--note", "x", "--db", db)
    assert refused.exit_code == 4
    missing = cli("rec", "show", "NR-1", "9", "--db", db)
    assert missing.exit_code == 3
    # Each open action is a deadline in `due`, among the clocks, soonest first.
    due = json.loads(_ok(cli("due", "--json", "--db", db)).stdout)
    actions_due = [i for i in due["clocks"] if i["kind"] == "action"]
    assert [i["clock_id"] for i in actions_due] == [f"action-{a}" for a in ACTIONS_PLAN]
    dates = [i["due_on"] for i in due["clocks"] if i["due_on"]]
    assert dates == sorted(dates)
    assert due["summary"]["open"] >= 7
    assert "Action 1.1 (local_authority)" in _ok(cli("due", "--db", db)).stdout
    assert "Action 1.1 (local_authority)" in _ok(cli("due", "--csv", "--db", db)).stdout
    soon = json.loads(_ok(cli("due", "--within", "5", "--json", "--db", db)).stdout)
    assert not any(i["kind"] == "action" for i in soon["clocks"])  # none due that soon
    # The plan's steps are in the case's timeline, among its own, in date order.
    timeline = json.loads(_ok(cli("timeline", "NR-1", "--json", "--db", db)).stdout)
    entries = [e for e in timeline["entries"] if e["kind"] == "event"]
    triggers = [e["trigger"] for e in entries]
    assert triggers.count("rec_add") == 6
    assert triggers.count("action_add") == 7
    assert triggers[-1] == "approve_action_plan"
    added = next(e for e in entries if e["trigger"] == "action_add")
    assert added["trigger_label"] == "Action added"
    assert _ok(cli("timeline", "NR-1", "--db", db)).stdout.count("Action added") == 7
    # The plan as a document: Markdown to stdout, HTML and CSV to files by extension.
    shown = _ok(cli("action", "plan", "NR-1", "--db", db)).stdout
    assert "## Case NR-1 (plan v1)" in shown
    assert "- Actions: 7 (0 completed, 7 open)" in shown
    target = tmp_path / "plan.html"
    _ok(cli("action", "plan", "NR-1", "-o", str(target), "--db", db))
    assert target.read_text().startswith("<!DOCTYPE html>")
    again = cli("action", "plan", "NR-1", "-o", str(target), "--db", db)
    assert again.exit_code != 0  # an existing file is kept unless --force
    _ok(cli("action", "plan", "--from", "2026-02-01", "-o", str(tmp_path / "p.csv"), "--db", db))
    assert (tmp_path / "p.csv").read_text().count("NR-1") == 7
    both = cli("action", "plan", "NR-1", "--from", "2026-01-01", "--db", db)
    assert both.exit_code == 2


def test_bad_plan_steps_are_refused_and_record_nothing(cli, db, as_user, today):
    as_user("chair")
    cases = [
        (["rec", "add", "NR-1", "1", "--text", "t", "--source", "s", "--agency", "army"], 2),
        (["rec", "add", "NR-1", "1", "--text", "t", "--source", "s", "--agency", "police",
          "--agency", "icb", "--single"], 2),
        (["action", "add", "NR-1", "1.1", "--rec", "7", "--text", "t", "--agency", "police",
          "--owner", "o", "--due", "2026-05-01"], 4),
        (["action", "update", "NR-1", "1.1", "--note", "x"], 3),
        (["rec", "add", "NOPE", "1", "--text", "t", "--source", "s", "--agency", "police"], 3),
        (["action", "add", "NR-1", "1.1", "--rec", "1", "--text", "t", "--agency", "police",
          "--owner", "o", "--due", "2026-13-01"], 2),
    ]  # fmt: skip
    for args, code in cases:
        result = cli(*args, "--db", db)
        assert result.exit_code == code, (args, result.stderr)
        assert result.stderr.startswith("Error: ")
    _ok(cli("rec", "add", "NR-1", "1", "--text", "t", "--source", "s", "--agency", "police",
            "--db", db))  # fmt: skip
    twice = cli("rec", "add", "NR-1", "1", "--text", "t", "--source", "s", "--agency", "police",
                "--db", db)  # fmt: skip
    assert twice.exit_code == 4
    wrong_agency = cli("action", "add", "NR-1", "1.1", "--rec", "1", "--text", "t",
                       "--agency", "icb", "--owner", "o", "--due", "2026-05-01",
                       "--db", db)  # fmt: skip
    assert wrong_agency.exit_code == 4
    assert "addressed to police" in wrong_agency.stderr
    recs = json.loads(_ok(cli("rec", "list", "NR-1", "--json", "--db", db)).stdout)
    assert [r["number"] for r in recs["recommendations"]] == ["1"]
    assert recs["recommendations"][0]["actions"] == []


def test_a_reason_for_no_recommendations_lets_the_plan_be_approved(cli, db, as_user, today):
    as_user("chair")
    _ok(cli("rec", "none", "NR-1", "--reason", "Learning already acted on", "--db", db))
    _ok(cli("case", "advance", "NR-1", "approve_action_plan", "--db", db))
    _ok(cli("case", "advance", "NR-1", "close", "--db", db))


PLAN_CSV = """rec,recommendation,source,section,agencies,action,text,agency,owner,due_on
1,Share chronologies,National review,Part 4,local_authority;police,1.1,Protocol,police,DI,2026-06-30
1,,,,,1.2,Training,local_authority,Head of CSC,2026-09-30
2,Audit strategy meetings,National review,Part 5,icb,2.1,Audit,icb,Named GP,2026-12-31
"""


def test_a_plan_is_imported_from_csv_all_or_nothing(cli, db, as_user, today, tmp_path):
    as_user("chair")
    good = tmp_path / "plan.csv"
    good.write_text(PLAN_CSV)
    bad = tmp_path / "bad.csv"
    bad.write_text(PLAN_CSV.replace("2026-09-30", "30/09/2026"))
    refused = cli("action", "import", "NR-1", str(bad), "--db", db)
    assert refused.exit_code == 2
    assert refused.stderr.startswith("Error: row 3, column due_on: due_on must be a date")
    assert "nothing was recorded" in refused.stderr
    wrong = tmp_path / "wrong.csv"
    wrong.write_text(PLAN_CSV.replace("icb,Named GP", "police,Named GP"))
    refused = cli("action", "import", "NR-1", str(wrong), "--db", db)
    assert refused.exit_code == 4
    assert "row 4, column agency:" in refused.stderr
    unknown = tmp_path / "unknown.csv"
    unknown.write_text(PLAN_CSV.replace("owner,due_on", "owner,deadline"))
    refused = cli("action", "import", "NR-1", str(unknown), "--db", db)
    assert refused.exit_code == 2
    assert "row 1, column 10: unknown column 'deadline'" in refused.stderr
    recs = json.loads(_ok(cli("rec", "list", "NR-1", "--json", "--db", db)).stdout)
    assert recs["recommendations"] == []  # nothing of the refused files was recorded
    as_user("pc_lee")
    assert cli("action", "import", "NR-1", str(good), "--db", db).exit_code == 4
    as_user("chair")
    done = json.loads(_ok(cli("action", "import", "NR-1", str(good), "--json", "--db", db)).stdout)
    assert (done["recommendations"], done["actions"]) == (2, 3)
    listed = json.loads(_ok(cli("action", "list", "NR-1", "--json", "--db", db)).stdout)
    assert [(a["action"], a["agency"], a["due_on"]) for a in listed] == [
        ("1.1", "police", "2026-06-30"),
        ("1.2", "local_authority", "2026-09-30"),
        ("2.1", "icb", "2026-12-31"),
    ]
    recs = json.loads(_ok(cli("rec", "list", "NR-1", "--json", "--db", db)).stdout)
    assert [r["scope"] for r in recs["recommendations"]] == ["multi", "single"]
    again = cli("action", "import", "NR-1", str(good), "--db", db)
    assert again.exit_code == 4
    assert "row 2, column action: case NR-1: action 1.1 is already recorded" in again.stderr


def test_a_workflow_without_an_action_plan_records_none(cli, db, as_user):
    as_user("bu")
    # England version 1 has no [action_plan] table (version 2 has one).
    opened = cli("case", "open", "L-1", "--aware-on", "2026-01-05", "--workflow",
                 "england-lcspr@1", "--set", "nature=death", "--db", db)  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    as_user("chair")
    refused = cli("rec", "add", "L-1", "1", "--text", "t", "--source", "s", "--agency", "police",
                  "--db", db)  # fmt: skip
    assert refused.exit_code == 4
    assert "declares no action plan" in refused.stderr


def test_text_with_control_characters_is_refused(cli, db, as_user):
    as_user("chair")
    refused = cli("rec", "add", "NR-1", "1", "--text", "a\x1b[31mred", "--source", "s",
                  "--agency", "police", "--db", db)  # fmt: skip
    assert refused.exit_code == 2
    assert "control character" in refused.stderr
    listed = json.loads(_ok(cli("rec", "list", "NR-1", "--json", "--db", db)).stdout)
    assert listed["recommendations"] == []


def test_explain_says_why_an_action_is_due_when_it_is(cli, db, as_user, today):
    _record_plan(cli, db, as_user, today)
    today.set("2026-09-01")
    _ok(cli("action", "extend", "NR-1", "3.1", "--due", "2026-12-18",
            "--reason", "Audit postponed by the inspection", "--agreed-by", "Chair",
            "--db", db))  # fmt: skip
    today.set("2026-11-02")
    _ok(cli("action", "extend", "NR-1", "3.1", "--due", "2027-01-29",
            "--reason", "New audit lead", "--agreed-by", "Board", "--db", db))  # fmt: skip
    today.set("2027-01-11")
    as_user("scrut")
    # `due` lists the action's clock id; `explain` takes it.
    due = json.loads(_ok(cli("due", "--json", "--db", db)).stdout)
    assert "action-3.1" in {c["clock_id"] for c in due["clocks"]}
    for width in (60, 80, 120):
        result = cli("explain", "NR-1", "action-3.1", "--db", db,
                     env={"COLUMNS": str(width), "NO_COLOR": "1"})  # fmt: skip
        shown = _ok(result).stdout
        assert all(len(line.rstrip()) <= width for line in shown.splitlines()), shown
        assert "…" not in shown
        flat = " ".join(shown.split())
        assert "Action 3.1 (icb) (action-3.1)" in flat
        assert "due soon as of 2027-01-11" in flat  # 29 January is within 28 days
        assert "Fri 2027-01-29" in flat
        assert "first due on 2026-09-30, extended 2 times" in flat
        assert "2026-09-01: 2026-09-30 → 2026-12-18, agreed by Chair: Audit postponed" in flat
        assert "2026-11-02: 2026-12-18 → 2027-01-29, agreed by Board: New audit lead" in flat
        assert "icb: Head of icb" in flat
    why = json.loads(_ok(cli("explain", "NR-1", "action-4.1", "--json", "--db", db)).stdout)
    shown = (why["clock"], why["status"], why["action"]["agency"])
    assert shown == ("action-4.1", "overdue", "local_authority")
    assert why["extensions"] == []
    # 1 October 2026 to 11 January 2027: 73 weekdays, less three bank holidays.
    assert why["working_days_left"] == -70
    assert "overdue by 70 working days" in why["explanation"]
    missing = cli("explain", "NR-1", "action-9.9", "--db", db)
    assert missing.exit_code == 3
    assert missing.stderr.startswith("Error: case NR-1 has no action '9.9'; its actions: ")
    assert "Traceback" not in missing.stderr


def test_the_plan_as_a_workbook(cli, db, as_user, today, tmp_path):
    import openpyxl

    _record_plan(cli, db, as_user, today)
    _ok(cli("action", "add", "NR-1", "6.2", "--rec", "6", "--text", "Formula-like owner",
            "--agency", "icb", "--owner", "=1+2", "--due", "2027-03-31", "--db", db))  # fmt: skip
    as_user("la_khan")
    today.set("2026-06-15")
    _ok(cli("action", "complete", "NR-1", "1.1", "--db", db))
    today.set("2026-09-10")
    as_user("scrut")
    refused = cli("action", "plan", "NR-1", "--format", "xlsx", "--db", db)
    assert refused.exit_code == 2 and "--output" in refused.stderr
    path = tmp_path / "plan.xlsx"
    _ok(cli("action", "plan", "NR-1", "--output", str(path), "--db", db))  # from the suffix
    sheet = openpyxl.load_workbook(path)["Actions"]
    header = [c.value for c in sheet[2]]
    rows = [dict(zip(header, (c for c in row), strict=True)) for row in sheet.iter_rows(min_row=3)]
    assert [r["action"].value for r in rows] == [*ACTIONS_PLAN, "6.2"]
    assert all(r["due on"].is_date for r in rows)
    assert rows[0]["due on"].value == dt.datetime(2026, 6, 30)
    assert rows[0]["completed on"].value == dt.datetime(2026, 6, 15)
    # 2.1 is overdue on 10 September; 3.1, 4.1, 4.2 (30 September) are due soon.
    deadlines = {r["action"].value: r["deadline"].value for r in rows}
    assert deadlines == {"1.1": "done", "2.1": "overdue", "3.1": "due_soon", "4.1": "due_soon",
                         "4.2": "due_soon", "5.1": "on_track", "6.1": "on_track",
                         "6.2": "on_track"}  # fmt: skip
    owner = next(r["owner"] for r in rows if r["action"].value == "6.2")
    assert (owner.data_type, owner.value) == ("s", "=1+2")  # text, never a formula
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref is not None and sheet.auto_filter.ref.startswith("A2:")
    rules = [r for cf in sheet.conditional_formatting for r in cf.rules]
    assert any('"overdue"' in f for r in rules for f in r.formula)
    assert any('"due_soon"' in f for r in rules for f in r.formula)
    assert sheet.column_dimensions["C"].width > 8  # sized to the recommendations' text
    summary = openpyxl.load_workbook(path)["Summary"]
    every = {row[0].value: row for row in summary.iter_rows(min_row=4)}
    assert every["all agencies"][1].value == 8
    # Across cases, with a period, into the same layout.
    across = tmp_path / "plans.xlsx"
    _ok(cli("action", "plan", "--from", "2026-01-01", "--to", "2026-12-31", "--format", "xlsx",
            "--output", str(across), "--db", db))  # fmt: skip
    assert openpyxl.load_workbook(across)["Actions"].max_row == 2 + 8
    # LibreOffice opens it without repair and reads the due dates as dates.
    from tests.cli.test_xlsx_cli import _soffice_to

    assert _soffice_to(path, "pdf", tmp_path).read_bytes().startswith(b"%PDF")
    table = list(csv.reader(_soffice_to(path, "csv", tmp_path).read_text().splitlines()))
    due = table[2][table[1].index("due on")]
    assert due != "2026-06-30"  # shown as a date, in LibreOffice's style
    assert due in {"06/30/2026", "30/06/2026", "30 Jun 2026"}
