"""`init`, `user`, `case` and `audit` through the command line: output, exit codes, rows."""

from __future__ import annotations

import json

import pytest

from tests.conftest import enrol_keys, run_sql


@pytest.fixture
def db(database_url, cli, as_user):
    path = database_url
    assert cli("init", "--db", path).exit_code == 0
    for args in (
        ("bu", "--name", "Business unit", "--role", "business_unit"),
        ("chair", "--name", "Chair", "--role", "chair"),
        ("la", "--name", "LA", "--role", "partner", "--agency", "local_authority"),
        ("scrut", "--name", "Scrutineer", "--role", "scrutineer"),
    ):
        result = cli("user", "add", *args, "--db", path)
        assert result.exit_code == 0, result.stderr
    enrol_keys(path, "bu", "chair", "la", "scrut", admin="root")
    return path


def events(url: str) -> list[tuple]:
    return run_sql(url, "SELECT seq, trigger, actor, role FROM events ORDER BY seq")


def test_init_registers_the_os_account_as_admin_and_is_idempotent(database_url, cli, as_user):
    path = database_url
    first = cli("init", "--db", path)
    assert first.exit_code == 0
    assert "registered root as admin" in first.stderr
    again = cli("init", "--db", path)
    assert again.exit_code == 0
    assert "already initialised" in again.stderr
    listed = json.loads(cli("user", "list", "--db", path, "--json").stdout)
    assert listed == [
        {
            "username": "root",
            "display_name": "root",
            "roles": ["admin"],
            "agency": None,
            "active": True,
            "identities": [],
        }
    ]


def test_user_environment_variables_do_not_change_the_actor(db, cli, as_user):
    result = cli(
        "user",
        "add",
        "eve",
        "--name",
        "Eve",
        "--role",
        "chair",
        "--db",
        db,
        env={"USER": "bu", "LOGNAME": "bu"},
    )
    assert result.exit_code == 0
    assert events(db)[-1][2] == "root"


def test_case_open_show_and_advance(db, cli, as_user):
    as_user("bu")
    opened = cli(
        "case",
        "open",
        "2026-014",
        "--aware-on",
        "2026-11-16",
        "--on",
        "2026-11-16",
        "--nature",
        "serious_harm",
        "--db",
        db,
        "--json",
    )
    assert opened.exit_code == 0, opened.stderr
    view = json.loads(opened.stdout)
    assert view["state"] == "screening"
    assert view["pseudonym"] == "Child A"
    assert {c["clock_id"]: c["due_on"] for c in view["clocks"]} == {"notification": "2026-11-23"}
    advanced = cli(
        "case",
        "advance",
        "2026-014",
        "notify",
        "--on",
        "2026-11-18",
        "--set",
        "sin_reference=SIN-77",
        "--db",
        db,
    )
    assert advanced.exit_code == 0, advanced.stderr
    assert "screening → rapid_review" in advanced.stderr
    shown = json.loads(cli("case", "show", "2026-014", "--db", db, "--json").stdout)
    assert shown["state"] == "rapid_review"
    assert shown["fields"]["sin_reference"] == "SIN-77"
    triggers = {p["trigger"] for p in shown["possible"]}
    assert {"propose_decision", "withdraw", "add_note"} <= triggers
    listed = json.loads(cli("case", "list", "--db", db, "--json", "--open").stdout)
    assert [c["ref"] for c in listed] == ["2026-014"]
    assert events(db)[-1][1:] == ("notify", "bu", "business_unit")


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("case", "show", "nope"), 3, "no case 'nope'"),
        (("case", "advance", "2026-014", "submit_rapid_review"), 4, "possible now: notify"),
        (("case", "advance", "2026-014", "notify"), 4, "--set sin_reference"),
        (
            (
                "case",
                "advance",
                "2026-014",
                "notify",
                "--set",
                "sin_reference=x",
                "--expect-state",
                "rapid_review",
            ),
            6,
            "someone else moved it first",
        ),
        (("case", "advance", "2026-014", "notify", "--on", "2026-02-30"), 2, "not a real"),
        (("case", "advance", "2026-014", "notify", "--set", "oops"), 2, "FIELD=VALUE"),
        (("case", "open", "2026-015", "--aware-on", "next tuesday-ish"), 2, "ISO date"),
        (("case", "list", "--open", "--closed"), 2, "cannot be combined"),
    ],
)
def test_failures_are_one_error_line_with_their_exit_code(db, cli, as_user, args, code, fragment):
    as_user("bu")
    assert cli("case", "open", "2026-014", "--aware-on", "2026-11-16", "--db", db).exit_code == 0
    before = events(db)
    result = cli(*args, "--db", db)
    assert result.exit_code == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr
    assert events(db) == before


def test_a_workflow_without_an_aware_on_field_opens_and_records_only_its_own_fields(
    db, cli, as_user
):
    """The transitional SCR workflow counts from notified_on and has no aware_on field:
    --aware-on is checked but not recorded, and the opening records what it defines."""
    as_user("bu")
    args = ("case", "open", "SCR-1", "--aware-on", "2019-03-01", "--workflow")
    refused = cli(*args, "scr-transitional", "--on", "2019-03-04", "--db", db)
    assert refused.exit_code == 4
    assert refused.stderr.strip() == "Error: opening a case needs notified_on"
    opened = cli(
        *args,
        "scr-transitional",
        "--on",
        "2019-03-04",
        "--set",
        "notified_on=2019-03-01",
        "--json",
        "--db",
        db,
    )
    assert opened.exit_code == 0, opened.stderr
    fields = run_sql(db, "SELECT fields FROM events WHERE case_ref = 'SCR-1'")
    recorded = json.loads(fields[0][0])
    assert recorded["notified_on"] == "2019-03-01"
    assert "aware_on" not in recorded
    assert cli("audit", "verify", "--db", db).exit_code == 0


@pytest.mark.sqlite_only
def test_missing_database_is_not_found(tmp_path, cli, as_user):
    result = cli("case", "list", "--db", str(tmp_path / "absent.db"))
    assert result.exit_code == 3
    assert "casereview init" in result.stderr


def test_audit_verify_and_checkpoint(db, cli, as_user, tmp_path):
    as_user("scrut")
    ok = cli("audit", "verify", "--db", db, "--json")
    assert ok.exit_code == 0
    assert json.loads(ok.stdout)["ok"] is True
    cp = tmp_path / "cp.json"
    assert cli("audit", "checkpoint", "--db", db, "--output", str(cp)).exit_code == 0
    assert json.loads(cp.read_text())["event_count"] == len(events(db))
    run_sql(db, "UPDATE users SET roles = '[\"admin\"]' WHERE username = 'bu'")
    bad = cli("audit", "verify", "--db", db, "--checkpoint", str(cp))
    assert bad.exit_code == 7
    assert "user bu differs" in bad.stdout


def test_unexpected_errors_are_one_line_without_traceback(db, cli, as_user, monkeypatch):
    from casereview.services import cases

    def boom(*args, **kwargs):
        raise RuntimeError("secret case detail")

    monkeypatch.setattr(cases, "list_cases", boom)
    result = cli("case", "list", "--db", db)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: unexpected internal error (RuntimeError)")
    assert "secret case detail" not in result.stderr
    assert "Traceback" not in result.stderr
