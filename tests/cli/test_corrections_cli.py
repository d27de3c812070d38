"""`case correct`, `case undo` and `case void` through the command line: what each records,
who may, what is refused and why, and that every view and `audit verify` agree after."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from casereview.infra.now import FixedClock, SystemClock
from tests.conftest import enrol_keys, run_sql

TODAY = dt.date(2026, 12, 7)  # a Monday


@pytest.fixture
def as_user(as_user, monkeypatch):
    """Act as `name` (tests/conftest.py), on a fixed system clock."""
    monkeypatch.setattr(SystemClock, "now", lambda self: FixedClock(TODAY).now())
    return as_user


@pytest.fixture
def db(database_url, cli, as_user):
    assert cli("init", "--db", database_url).exit_code == 0
    for args in (
        ("bu", "--name", "Business unit", "--role", "business_unit"),
        ("chair", "--name", "Chair", "--role", "chair"),
        ("la", "--name", "LA", "--role", "partner", "--agency", "local_authority"),
        ("police", "--name", "Police", "--role", "partner", "--agency", "police"),
        ("icb", "--name", "ICB", "--role", "partner", "--agency", "icb"),
        ("scrut", "--name", "Scrutineer", "--role", "scrutineer"),
    ):
        result = cli("user", "add", *args, "--db", database_url)
        assert result.exit_code == 0, result.stderr
    enrol_keys(database_url, "bu", "chair", "la", "police", "icb", "scrut", admin="root")
    return database_url


@pytest.fixture
def run(cli, db, as_user):
    """`run(user, *args)`: the command as that user, against the test database."""

    def invoke(user: str, *args: str, env: dict[str, str] | None = None):
        as_user(user)
        return cli(*args, "--db", db, env=env)

    return invoke


def ok(result):
    assert result.exit_code == 0, result.stderr
    return result


def verified(run) -> None:
    result = run("root", "audit", "verify")
    assert result.exit_code == 0, result.stdout + result.stderr


def seqs(db: str, ref: str, trigger: str) -> list[int]:
    """The seqs of a case's events with this trigger, in order."""
    rows = run_sql(
        db,
        "SELECT seq FROM events WHERE case_ref = :ref AND trigger = :trigger ORDER BY seq",
        params={"ref": ref, "trigger": trigger},
    )
    return [int(r[0]) for r in rows]


def due_json(run) -> list[dict]:
    return json.loads(ok(run("bu", "due", "--json")).stdout)["clocks"]


def test_a_mistyped_aware_on_is_corrected_and_the_notification_clock_moves(run, db):
    ok(run("bu", "case", "open", "C-1", "--aware-on", "2026-10-02", "--on", "2026-12-03"))
    before = {c["clock_id"]: c for c in due_json(run) if c["ref"] == "C-1"}
    assert before["notification"]["due_on"] == "2026-10-09"

    result = ok(
        run(
            "bu",
            "case",
            "correct",
            "C-1",
            "--field",
            "aware_on=2026-12-02",
            "--rationale",
            "October typed for December",
            "--json",
        )
    )
    data = json.loads(result.stdout)
    assert data["trigger"] == "correct" and data["role"] == "business_unit"
    assert [(c["event"], c["field"], c["was"], c["now"]) for c in data["changes"]] == [
        (seqs(db, "C-1", "open")[0], "aware_on", "2026-10-02", "2026-12-02")
    ]
    assert [(c["clock"], c["due_before"], c["due_after"]) for c in data["clocks"]] == [
        ("notification", "2026-10-09", "2026-12-09")
    ]
    after = {c["clock_id"]: c for c in due_json(run) if c["ref"] == "C-1"}
    assert after["notification"]["due_on"] == "2026-12-09"
    shown = json.loads(ok(run("bu", "case", "show", "C-1", "--json")).stdout)
    assert shown["fields"]["aware_on"] == "2026-12-02"
    verified(run)


def test_the_chair_may_not_correct_what_the_business_unit_recorded(run):
    ok(run("bu", "case", "open", "C-1", "--aware-on", "2026-10-02", "--on", "2026-12-03"))
    refused = run(
        "chair", "case", "correct", "C-1", "--field", "aware_on=2026-12-02", "--rationale", "x"
    )
    assert refused.exit_code == 4
    assert "only the business unit may correct aware_on" in refused.stderr
    assert refused.stderr.count("\n") == 1 and refused.stderr.startswith("Error: ")


def test_a_correction_must_say_why_and_what(run):
    ok(run("bu", "case", "open", "C-1", "--aware-on", "2026-12-02", "--on", "2026-12-03"))
    no_why = run("bu", "case", "correct", "C-1", "--field", "aware_on=2026-12-01")
    assert no_why.exit_code == 4 and "needs a --rationale saying why" in no_why.stderr
    nothing = run("bu", "case", "correct", "C-1", "--rationale", "x")
    assert nothing.exit_code == 2 and "--field NAME=VALUE" in nothing.stderr
    same = run("bu", "case", "correct", "C-1", "--field", "aware_on=2026-12-02", "--rationale", "x")
    assert same.exit_code == 4 and "already" in same.stderr
    bad = run("bu", "case", "correct", "C-1", "--field", "nature=lost", "--rationale", "x")
    assert bad.exit_code == 4 and "nature must be one of" in bad.stderr
    unknown = run(
        "bu", "case", "correct", "C-1", "--event", "999", "--on", "2026-12-01", "--rationale", "x"
    )
    assert unknown.exit_code == 3


def test_a_wrong_notified_on_is_corrected_and_the_rapid_review_clock_moves(run, db):
    ok(run("bu", "case", "open", "C-2", "--aware-on", "2026-11-30", "--on", "2026-11-30"))
    ok(
        run(
            "bu",
            "case",
            "advance",
            "C-2",
            "notify",
            "--on",
            "2026-12-02",
            "--set",
            "sin_reference=SIN-1",
            "--set",
            "notified_on=2026-12-03",
        )
    )
    result = ok(
        run(
            "bu",
            "case",
            "correct",
            "C-2",
            "--field",
            "notified_on=2026-12-01",
            "--rationale",
            "sent on the 1st; the 3rd was when it was filed",
            "--json",
        )
    )
    data = json.loads(result.stdout)
    assert data["changes"][0]["event"] == seqs(db, "C-2", "notify")[0]
    moved = {c["clock"]: (c["due_before"], c["due_after"]) for c in data["clocks"]}
    # 15 working days after the notification date.
    assert moved == {"rapid_review": ("2026-12-24", "2026-12-22")}
    shown = json.loads(ok(run("bu", "case", "show", "C-2", "--json")).stdout)
    assert shown["fields"]["notified_on"] == "2026-12-01"
    # awareness after the notification would make the history impossible
    refused = run(
        "bu", "case", "correct", "C-2", "--field", "aware_on=2026-12-02", "--rationale", "x"
    )
    assert refused.exit_code == 4
    assert "aware_on 2026-12-02 would be after notified_on 2026-12-01" in refused.stderr
    verified(run)


def _to_signoff(run, ref: str) -> None:
    ok(run("bu", "case", "open", ref, "--aware-on", "2026-11-02", "--on", "2026-11-02"))
    ok(
        run(
            "bu",
            "case",
            "advance",
            ref,
            "notify",
            "--on",
            "2026-11-04",
            "--set",
            "sin_reference=SIN-1",
        )
    )
    ok(
        run(
            "chair",
            "case",
            "advance",
            ref,
            "propose_decision",
            "--on",
            "2026-11-20",
            "--set",
            "recommendation=lcspr",
            "--rationale",
            "Text pasted from another case",
        )
    )


def test_a_wrong_rationale_is_corrected_by_the_chair_and_refused_for_the_business_unit(run, db):
    _to_signoff(run, "C-3")
    proposed = seqs(db, "C-3", "propose_decision")[0]
    refused = run(
        "bu",
        "case",
        "correct",
        "C-3",
        "--event",
        str(proposed),
        "--event-rationale",
        "The right reasons",
        "--rationale",
        "wrong text",
    )
    assert refused.exit_code == 4 and "only the chair may correct a rationale" in refused.stderr
    result = ok(
        run(
            "chair",
            "case",
            "correct",
            "C-3",
            "--event",
            str(proposed),
            "--event-rationale",
            "The right reasons",
            "--rationale",
            "wrong text",
            "--json",
        )
    )
    change = json.loads(result.stdout)["changes"][0]
    assert (change["what"], change["was"], change["now"]) == (
        "rationale",
        "Text pasted from another case",
        "The right reasons",
    )
    assert json.loads(result.stdout)["clocks"] == []
    verified(run)


def test_undo_of_a_proposed_decision_then_the_right_decision(run, db):
    _to_signoff(run, "C-4")
    proposed = seqs(db, "C-4", "propose_decision")[0]
    assert run("bu", "case", "undo", "C-4", "--rationale", "x").exit_code == 4
    result = ok(
        run("chair", "case", "undo", "C-4", "--rationale", "proposed on the wrong case", "--json")
    )
    data = json.loads(result.stdout)
    assert data["reverses"] == proposed and data["reversed_trigger"] == "propose_decision"
    assert (data["from_state"], data["to_state"]) == ("rapid_review_signoff", "rapid_review")
    shown = json.loads(ok(run("bu", "case", "show", "C-4", "--json")).stdout)
    assert shown["state"] == "rapid_review" and "recommendation" not in shown["fields"]
    # the right decision, back-dated to when it was taken
    ok(
        run(
            "chair",
            "case",
            "advance",
            "C-4",
            "propose_decision",
            "--on",
            "2026-11-20",
            "--set",
            "recommendation=no_lcspr",
            "--rationale",
            "The right case's reasons",
        )
    )
    shown = json.loads(ok(run("bu", "case", "show", "C-4", "--json")).stdout)
    assert shown["fields"]["recommendation"] == "no_lcspr"
    # the undone event stays in the log
    assert seqs(db, "C-4", "propose_decision") == [proposed, seqs(db, "C-4", "propose_decision")[1]]
    verified(run)


def test_only_the_latest_step_is_undone_and_never_the_opening(run, db):
    ok(run("bu", "case", "open", "C-5", "--aware-on", "2026-12-01", "--on", "2026-12-01"))
    nothing = run("chair", "case", "undo", "C-5", "--rationale", "x")
    assert nothing.exit_code == 4 and "casereview case void C-5" in nothing.stderr
    ok(
        run(
            "bu",
            "case",
            "advance",
            "C-5",
            "notify",
            "--on",
            "2026-12-02",
            "--set",
            "sin_reference=SIN-1",
        )
    )
    opened = seqs(db, "C-5", "open")[0]
    wrong = run("chair", "case", "undo", "C-5", "--event", str(opened), "--rationale", "x")
    assert wrong.exit_code == 4 and "only the latest can be undone" in wrong.stderr


def test_a_duplicate_case_is_voided_and_leaves_every_list_but_the_log(run, db, tmp_path):
    ok(
        run(
            "bu",
            "case",
            "open",
            "C-6",
            "--aware-on",
            "2026-12-01",
            "--on",
            "2026-12-01",
            "--pseudonym",
            "Child W",
        )
    )
    ok(run("bu", "case", "open", "C-7", "--aware-on", "2026-12-01", "--on", "2026-12-01"))
    assert run("bu", "case", "void", "C-6", "--rationale", "duplicate of C-7").exit_code == 4
    result = ok(run("chair", "case", "void", "C-6", "--rationale", "duplicate of C-7"))
    assert "Voided case C-6" in result.stderr
    assert all(c["ref"] != "C-6" for c in due_json(run))
    listed = json.loads(ok(run("bu", "case", "list", "--json")).stdout)
    assert [c["ref"] for c in listed] == ["C-7"]
    every = json.loads(ok(run("bu", "case", "list", "--all", "--json")).stdout)
    # Soonest due first: the voided case has no open clock, so it comes last.
    assert [(c["ref"], c["voided"]) for c in every] == [("C-7", False), ("C-6", True)]
    assert "(voided)" in ok(run("bu", "case", "list", "--all")).stdout
    feed = tmp_path / "deadlines.ics"
    ok(run("bu", "calendar", "export", "--output", str(feed)))
    assert "C-6" not in feed.read_text() and "C-7" in feed.read_text()
    report = json.loads(
        ok(run("bu", "report", "--year", "2026-27", "--format", "json", "--detail")).stdout
    )
    assert [c["ref"] for c in report["figures"]["caseload.opened"]["cases"]] == ["C-7"]
    assert [c["ref"] for c in report["timeline"]] == ["C-7"]
    # the reference and the pseudonym stay taken, and the refusal says by which case
    again = run("bu", "case", "open", "C-6", "--aware-on", "2026-12-01")
    assert again.exit_code == 6 and "voided" in again.stderr
    twin = run("bu", "case", "open", "C-8", "--aware-on", "2026-12-01", "--pseudonym", "Child W")
    assert twin.exit_code == 6 and "case C-6" in twin.stderr and "voided" in twin.stderr
    # nothing more is recorded on it
    later = run("bu", "case", "advance", "C-6", "notify", "--set", "sin_reference=S")
    assert later.exit_code == 4 and "voided" in later.stderr
    for who, args in (
        ("bu", ("correct", "C-6", "--field", "aware_on=2026-11-30", "--rationale", "x")),
        ("chair", ("undo", "C-6", "--rationale", "x")),
        ("chair", ("void", "C-6", "--rationale", "x")),
    ):
        again = run(who, "case", *args)
        assert again.exit_code == 4 and "was voided" in again.stderr
    assert seqs(db, "C-6", "void")
    verified(run)


def test_history_entered_late_is_put_in_order_by_correcting_the_opening_date(run, db):
    # Opened without --on: dated today, so the back-dated notification is refused...
    ok(run("bu", "case", "open", "C-9", "--aware-on", "2026-11-02"))
    early = run(
        "bu",
        "case",
        "advance",
        "C-9",
        "notify",
        "--on",
        "2026-11-04",
        "--set",
        "sin_reference=SIN-9",
    )
    assert early.exit_code == 4 and "before the case's latest event" in early.stderr
    # ...until the opening's date is corrected to the day it happened.
    opened = seqs(db, "C-9", "open")[0]
    ok(
        run(
            "bu",
            "case",
            "correct",
            "C-9",
            "--event",
            str(opened),
            "--on",
            "2026-11-02",
            "--rationale",
            "opened late without its date",
        )
    )
    ok(
        run(
            "bu",
            "case",
            "advance",
            "C-9",
            "notify",
            "--on",
            "2026-11-04",
            "--set",
            "sin_reference=SIN-9",
        )
    )
    notified = seqs(db, "C-9", "notify")[0]
    before = run(
        "bu",
        "case",
        "correct",
        "C-9",
        "--event",
        str(notified),
        "--on",
        "2026-11-01",
        "--rationale",
        "x",
    )
    assert before.exit_code == 4
    assert f"event {notified} would be dated 2026-11-01, before event {opened}" in before.stderr
    after = run(
        "bu",
        "case",
        "correct",
        "C-9",
        "--event",
        str(opened),
        "--on",
        "2026-11-05",
        "--rationale",
        "x",
    )
    assert after.exit_code == 4 and f"before event {opened} on 2026-11-05" in after.stderr
    future = run(
        "bu",
        "case",
        "correct",
        "C-9",
        "--event",
        str(notified),
        "--on",
        "2026-12-08",
        "--rationale",
        "x",
    )
    assert future.exit_code == 4 and "after today" in future.stderr
    # an event's date and the fact date it defaulted are corrected together
    result = ok(
        run(
            "bu",
            "case",
            "correct",
            "C-9",
            "--event",
            str(notified),
            "--on",
            "2026-11-03",
            "--field",
            "notified_on=2026-11-03",
            "--rationale",
            "sent a day earlier",
            "--json",
        )
    )
    data = json.loads(result.stdout)
    assert {c["what"] for c in data["changes"]} == {"field", "occurred_on"}
    assert {c["clock"]: c["due_after"] for c in data["clocks"]}["rapid_review"] == "2026-11-24"
    verified(run)


def test_a_corrections_table_naming_an_unknown_role_is_an_invalid_workflow(cli, fixtures_dir):
    path = fixtures_dir / "workflows" / "broken" / "corrections_unknown_role.toml"
    result = cli("workflow", "validate", str(path))
    assert result.exit_code == 5
    assert "'undo' names an unknown role 'clerc'" in result.stdout + result.stderr


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_a_log_with_corrections_undos_and_voids_exports_and_verifies(run, tmp_path, fmt):
    _to_signoff(run, "C-10")
    ok(run("bu", "case", "correct", "C-10", "--field", "aware_on=2026-11-01", "--rationale", "x"))
    ok(run("chair", "case", "undo", "C-10", "--rationale", "wrong case"))
    ok(run("bu", "case", "open", "C-11", "--aware-on", "2026-12-01", "--on", "2026-12-01"))
    ok(run("chair", "case", "void", "C-11", "--rationale", "duplicate"))
    path = tmp_path / f"log.{fmt}"
    ok(run("scrut", "log", "export", "--format", fmt, "--output", str(path)))
    checked = run("scrut", "log", "verify-export", str(path))
    assert checked.exit_code == 0, checked.stdout + checked.stderr


def test_case_show_as_at_a_day_before_a_correction_shows_what_was_believed_then(run):
    ok(run("bu", "case", "open", "C-12", "--aware-on", "2026-10-02", "--on", "2026-12-03"))
    ok(run("bu", "case", "correct", "C-12", "--field", "aware_on=2026-12-02", "--rationale", "x"))
    then = json.loads(
        ok(run("bu", "case", "show", "C-12", "--as-at", "2026-12-04", "--json")).stdout
    )
    now = json.loads(
        ok(run("bu", "case", "show", "C-12", "--as-at", "2026-12-07", "--json")).stdout
    )
    assert then["fields"]["aware_on"] == "2026-10-02" and then["amended"] == 0
    assert {c["clock_id"]: c["due_on"] for c in then["clocks"]}["notification"] == "2026-10-09"
    assert now["fields"]["aware_on"] == "2026-12-02" and now["amended"] == 1
    assert {c["clock_id"]: c["due_on"] for c in now["clocks"]}["notification"] == "2026-12-09"


def test_the_timeline_shows_the_original_the_correction_and_the_reversed_step(run, db):
    _to_signoff(run, "C-13")
    ok(
        run(
            "bu",
            "case",
            "correct",
            "C-13",
            "--field",
            "aware_on=2026-11-01",
            "--rationale",
            "Typed the 2nd for the 1st",
        )
    )
    ok(run("chair", "case", "undo", "C-13", "--rationale", "Proposed on the wrong case"))
    opened, proposed = seqs(db, "C-13", "open")[0], seqs(db, "C-13", "propose_decision")[0]
    corrected, undone = seqs(db, "C-13", "correct")[0], seqs(db, "C-13", "undo")[0]
    data = json.loads(ok(run("bu", "timeline", "C-13", "--json")).stdout)
    by_seq = {e["seq"]: e for e in data["entries"] if "seq" in e}
    opening = by_seq[opened]
    assert opening["fields"]["aware_on"] == "2026-11-01"
    assert opening["was"] == {"aware_on": "2026-11-02"}
    assert opening["corrected_by"] == [corrected]
    correction = by_seq[corrected]
    assert (correction["kind"], correction["actor"], correction["role"]) == (
        "amendment",
        "bu",
        "business_unit",
    )
    assert correction["rationale"] == "Typed the 2nd for the 1st"
    assert correction["changes"][0]["text"] == (
        f"aware_on of event {opened}: 2026-11-02 → 2026-11-01"
    )
    assert [c["clock"] for c in correction["clocks"]] == ["notification"]
    assert by_seq[proposed]["reversed_by"] == undone and by_seq[proposed]["clocks"] == []
    assert (by_seq[undone]["reverses"], by_seq[undone]["actor"]) == (proposed, "chair")
    text = ok(run("bu", "timeline", "C-13")).stdout
    assert f"reversed by event {undone}: it changes nothing" in text
    assert "Correction (correct)" in text and "Typed the 2nd for the 1st" in text
    assert f"by Business unit (bu) as business_unit · event {corrected}" in text
    assert f"corrected by event {corrected}; recorded first as" in text


def test_explain_says_a_correction_moved_the_due_date_and_by_whom(run, db):
    ok(run("bu", "case", "open", "C-14", "--aware-on", "2026-10-02", "--on", "2026-12-03"))
    ok(
        run(
            "bu",
            "case",
            "correct",
            "C-14",
            "--field",
            "aware_on=2026-12-02",
            "--rationale",
            "October typed for December",
        )
    )
    corrected = seqs(db, "C-14", "correct")[0]
    data = json.loads(ok(run("bu", "explain", "C-14", "notification", "--json")).stdout)
    assert data["due_on"] == "2026-12-09"
    [step] = data["corrections"]
    assert (step["seq"], step["actor"], step["role"]) == (corrected, "bu", "business_unit")
    assert (step["due_from"], step["due_to"]) == ("2026-10-09", "2026-12-09")
    text = ok(run("bu", "explain", "C-14", "notification")).stdout
    assert "Due date moved from 2026-10-09 to 2026-12-09 on 2026-12-07 by a correction" in " ".join(
        text.split()
    )
    assert "by bu as business_unit" in text


def _corrected_then_notified(run) -> None:
    ok(
        run(
            "bu",
            "case",
            "open",
            "C-20",
            "--aware-on",
            "2026-10-02",
            "--on",
            "2026-12-03",
            "--set",
            "child_name=Jo",
        )
    )
    ok(
        run(
            "bu",
            "case",
            "correct",
            "C-20",
            "--field",
            "aware_on=2026-12-02",
            "--field",
            "child_name=Joe",
            "--rationale",
            "October typed for December",
        )
    )
    ok(
        run(
            "bu",
            "case",
            "advance",
            "C-20",
            "notify",
            "--on",
            "2026-12-04",
            "--set",
            "sin_reference=SIN-20",
        )
    )


def test_the_decision_log_marks_what_a_correction_superseded(run, db, tmp_path):
    _corrected_then_notified(run)
    opened, corrected = seqs(db, "C-20", "open")[0], seqs(db, "C-20", "correct")[0]
    notified = seqs(db, "C-20", "notify")[0]
    path = tmp_path / "log.json"
    ok(run("scrut", "log", "export", "--format", "json", "--output", str(path)))
    events = {e["seq"]: e for e in json.loads(path.read_text())["events"]}
    record = events[corrected]
    assert record["trigger"] == "correct" and record["rationale"] == "October typed for December"
    assert record["amends"] == [
        {
            "event": opened,
            "field": "aware_on",
            "now": "2026-12-02",
            "was": "2026-10-02",
            "what": "field",
        },
        # personal: which field was corrected, not its values
        {"event": opened, "field": "child_name", "now": None, "was": None, "what": "field"},
    ]
    assert record["omitted_fields"] == ["child_name"]
    assert [(c["clock"], c["change"], c["due_on"]) for c in record["clocks"]] == [
        ("notification", "corrected", "2026-12-09")
    ]
    # the original is kept as logged; what follows counts from the corrected date
    assert events[opened]["fields"]["aware_on"] == "2026-10-02"
    assert events[notified]["clocks"][0]["status"] == "met"
    assert all(e["amends"] == [] for s, e in events.items() if s != corrected)
    csv_path, md_path = tmp_path / "log.csv", tmp_path / "log.md"
    ok(run("scrut", "log", "export", "--format", "csv", "--output", str(csv_path)))
    ok(run("scrut", "log", "export", "--format", "md", "--output", str(md_path)))
    assert f"event {opened} aware_on: 2026-10-02 → 2026-12-02" in csv_path.read_text("utf-8-sig")
    assert "**Puts right:**" in md_path.read_text()
    for exported in (path, csv_path, md_path):
        checked = run("scrut", "log", "verify-export", str(exported))
        assert checked.exit_code == 0, checked.stdout + checked.stderr


def test_the_decision_log_is_the_same_from_worker_processes(run, tmp_path):
    _corrected_then_notified(run)
    _to_signoff(run, "C-21")
    ok(run("chair", "case", "undo", "C-21", "--rationale", "wrong case"))
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    ok(run("scrut", "log", "export", "--format", "csv", "--jobs", "1", "--output", str(one)))
    ok(run("scrut", "log", "export", "--format", "csv", "--jobs", "2", "--output", str(two)))
    assert one.read_bytes() == two.read_bytes()


@pytest.mark.parametrize("fmt", ["table", "md", "csv", "json", "html"])
def test_every_report_format_lists_what_was_changed_after_the_fact(run, fmt):
    ok(run("bu", "case", "open", "C-30", "--aware-on", "2026-10-02", "--on", "2026-12-03"))
    ok(
        run(
            "bu",
            "case",
            "correct",
            "C-30",
            "--field",
            "aware_on=2026-12-02",
            "--rationale",
            "October typed for December",
        )
    )
    ok(run("bu", "case", "open", "C-31", "--aware-on", "2026-12-01", "--on", "2026-12-01"))
    ok(run("chair", "case", "void", "C-31", "--rationale", "a test entry"))
    wide = {"COLUMNS": "400"}
    result = ok(run("scrut", "report", "--year", "2026-27", "--format", fmt, "--detail", env=wide))
    text = result.stdout
    if fmt == "json":
        figures = json.loads(text)["figures"]
        assert figures["corrections.recorded"]["value"] == 2
        rows = figures["corrections.recorded"]["cases"]
        assert [(r["ref"], r["change"], r["by"], r["why"]) for r in rows] == [
            ("C-31", "void", "Chair (chair)", "a test entry"),
            ("C-30", "correction", "Business unit (bu)", "October typed for December"),
        ]
        assert figures["caseload.opened"]["value"] == 1
        return
    flat = " ".join(text.split())
    assert "Corrections after the fact" in flat or "corrections.recorded" in flat
    assert "October typed for December" in flat and "a test entry" in flat


def test_a_correction_that_would_break_a_guard_or_sign_twice_is_refused(run, db):
    _to_signoff(run, "C-40")
    ok(
        run(
            "chair",
            "case",
            "correct",
            "C-40",
            "--field",
            "recommendation=no_lcspr",
            "--rationale",
            "the panel's minutes say no local review",
        )
    )
    ok(run("la", "case", "advance", "C-40", "sign_off", "--on", "2026-11-21"))
    ok(run("police", "case", "advance", "C-40", "sign_off", "--on", "2026-11-21"))
    signed = seqs(db, "C-40", "sign_off")
    twice = run(
        "bu",
        "case",
        "correct",
        "C-40",
        "--event",
        str(signed[1]),
        "--field",
        "agency=local_authority",
        "--rationale",
        "x",
    )
    assert twice.exit_code == 4
    assert f"event {signed[1]} would sign Rapid review sign-off for local_authority again" in (
        twice.stderr
    )
    ok(run("icb", "case", "advance", "C-40", "sign_off", "--on", "2026-11-23"))
    ok(run("bu", "case", "advance", "C-40", "submit_rapid_review", "--on", "2026-11-24"))
    ok(
        run(
            "chair",
            "case",
            "advance",
            "C-40",
            "record_other_learning",
            "--on",
            "2026-11-30",
            "--set",
            "learning_activity=event",
            "--rationale",
            "x",
        )
    )
    guard = run(
        "chair", "case", "correct", "C-40", "--field", "recommendation=lcspr", "--rationale", "x"
    )
    assert guard.exit_code == 4
    assert "(record_other_learning) would not have been possible: recommendation must be" in (
        guard.stderr
    )
    # a field the opening did not record is added to it by naming the event
    opened = str(seqs(db, "C-40", "open")[0])
    incident = run(
        "bu",
        "case",
        "correct",
        "C-40",
        "--event",
        opened,
        "--field",
        "incident_on=2026-11-05",
        "--rationale",
        "x",
    )
    assert incident.exit_code == 4
    assert "incident_on 2026-11-05 would be after aware_on 2026-11-02" in incident.stderr
    ok(
        run(
            "bu",
            "case",
            "correct",
            "C-40",
            "--event",
            opened,
            "--field",
            "incident_on=2026-10-30",
            "--rationale",
            "left out at the opening",
        )
    )
    verified(run)


def test_an_opening_date_is_not_corrected_into_the_future_or_out_of_range(run, db):
    ok(run("bu", "case", "open", "C-20", "--aware-on", "2026-10-02", "--on", "2026-12-03"))
    later = (TODAY + dt.timedelta(days=1)).isoformat()
    correct = ("bu", "case", "correct", "C-20", "--rationale", "x", "--field")
    future = run(*correct, f"aware_on={later}")
    assert future.exit_code == 4
    assert f"aware_on {later} is in the future" in future.stderr
    typo = run(*correct, "aware_on=1026-10-02")
    assert typo.exit_code == 2
    assert "outside the dates casereview supports" in typo.stderr
    shown = json.loads(ok(run("bu", "case", "show", "C-20", "--json")).stdout)
    assert shown["fields"]["aware_on"] == "2026-10-02"
