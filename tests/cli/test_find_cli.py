"""Finding cases: a pseudonym wherever a REF is taken, `case find` (names only for roles
that may see them, and recorded), `case list` by what is due next, and filters checked
against the workflows with the nearest id suggested."""

from __future__ import annotations

import json

import pytest

from tests.conftest import enrol_keys, run_sql


def ok(result):
    assert result.exit_code == 0, result.stderr
    return result


@pytest.fixture
def db(database_url, cli, as_user):
    """Three cases opened by the business unit: Child A (named Amelia Stone), Child B,
    and `child b` (a second pseudonym differing only in letter case)."""
    path = database_url
    ok(cli("init", "--db", path))
    for args in (
        ("bu", "--name", "Business unit", "--role", "business_unit"),
        ("scrut", "--name", "Scrutineer", "--role", "scrutineer"),
    ):
        ok(cli("user", "add", *args, "--db", path))
    enrol_keys(path, "bu", "scrut", admin="root")
    as_user("bu")
    for ref, pseudonym, aware, extra in (
        ("2026-001", "Child A", "2026-11-02", ("--set", "child_name=Amelia Stone")),
        ("2026-002", "Child B", "2026-11-09", ()),
        ("2026-003", "child b", "2026-10-26", ()),
    ):
        ok(
            cli(
                "case", "open", ref, "--aware-on", aware, "--on", aware, "--pseudonym",
                pseudonym, "--nature", "serious_harm", *extra, "--db", path,
            )
        )  # fmt: skip
    return path


def count_events(url: str) -> int:
    return run_sql(url, "SELECT COUNT(*) FROM events")[0][0]


def access_events(url: str) -> list[tuple]:
    return run_sql(url, "SELECT actor, fields FROM events WHERE kind = 'access' ORDER BY seq")


# -- a pseudonym for a REF ----------------------------------------------------------


def test_every_ref_argument_takes_a_unique_pseudonym(db, cli, as_user):
    as_user("bu")
    shown = json.loads(ok(cli("case", "show", "Child A", "--db", db, "--json")).stdout)
    assert shown["ref"] == "2026-001"
    lower = json.loads(ok(cli("case", "show", "child a", "--db", db, "--json")).stdout)
    assert lower["ref"] == "2026-001"  # letter case aside, one case has it
    timeline = json.loads(ok(cli("timeline", "Child A", "--db", db, "--json")).stdout)
    assert timeline["ref"] == "2026-001"
    explained = json.loads(
        ok(cli("explain", "Child A", "notification", "--db", db, "--json")).stdout
    )
    assert explained["ref"] == "2026-001"
    advanced = cli(
        "case", "advance", "Child A", "notify", "--on", "2026-11-04", "--set",
        "sin_reference=SIN-1", "--db", db,
    )  # fmt: skip
    assert advanced.exit_code == 0, advanced.stderr
    assert "on case 2026-001 " in advanced.stderr
    # The event names the case by its reference, not by what was typed.
    assert run_sql(db, "SELECT case_ref FROM events WHERE trigger = 'notify'") == [("2026-001",)]


def test_an_exact_pseudonym_wins_and_an_ambiguous_one_names_only_references(db, cli, as_user):
    as_user("bu")
    exact = json.loads(ok(cli("case", "show", "child b", "--db", db, "--json")).stdout)
    assert exact["ref"] == "2026-003"
    before = count_events(db)
    result = cli("case", "advance", "CHILD B", "add_note", "--set", "note=x", "--db", db)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: 'CHILD B' is the pseudonym of 2 cases (2026-002, 2026-003); give the case reference"
    )
    assert count_events(db) == before  # nothing written
    missing = cli("case", "show", "Child Q", "--db", db)
    assert missing.exit_code == 3
    assert missing.stderr.startswith("Error: no case 'Child Q'")


def test_a_reference_wins_over_a_pseudonym_that_spells_it(db, cli, as_user):
    as_user("bu")
    ok(cli("case", "open", "2026-004", "--aware-on", "2026-11-16", "--on", "2026-11-16",
           "--pseudonym", "2026-001", "--nature", "serious_harm", "--db", db))  # fmt: skip
    shown = json.loads(ok(cli("case", "show", "2026-001", "--db", db, "--json")).stdout)
    assert shown["ref"] == "2026-001" and shown["pseudonym"] == "Child A"


# -- case find ----------------------------------------------------------------------


def test_find_searches_references_and_pseudonyms_for_every_reader(db, cli, as_user):
    as_user("scrut")
    found = json.loads(ok(cli("case", "find", "child", "--db", db, "--json")).stdout)
    assert [c["ref"] for c in found["cases"]] == ["2026-001", "2026-002", "2026-003"]
    assert found["names_searched"] is False
    by_ref = json.loads(ok(cli("case", "find", "6-002", "--db", db, "--json")).stdout)
    assert [(c["ref"], c["matched"]) for c in by_ref["cases"]] == [("2026-002", ["ref"])]
    # A scrutineer may not see names: a name finds nothing, and nothing is recorded.
    before = count_events(db)
    named = cli("case", "find", "amelia", "--db", db)
    assert named.exit_code == 0
    assert named.stdout == ""
    assert "0 cases found (searched references and pseudonyms)" in named.stderr
    assert count_events(db) == before


def test_find_by_name_is_for_roles_that_see_personal_fields_and_is_recorded(db, cli, as_user):
    as_user("bu")
    before = access_events(db)
    result = ok(cli("case", "find", "amelia STONE", "--db", db))
    assert "2026-001 · Child A" in result.stdout
    assert "matched: child_name" in result.stdout
    assert "Amelia" not in result.stdout + result.stderr  # the name itself is not shown
    assert "searched references, pseudonyms and names" in result.stderr
    after = access_events(db)
    assert len(after) == len(before) + 1
    actor, fields = after[-1]
    recorded = json.loads(fields) if isinstance(fields, str) else fields
    assert actor == "bu"
    assert recorded == {"command": "case find", "cases": ["2026-001"]}
    # A search that matches no name records nothing.
    ok(cli("case", "find", "Child B", "--db", db))
    assert len(access_events(db)) == len(after)


def test_find_refuses_empty_text(db, cli, as_user):
    as_user("bu")
    result = cli("case", "find", "  ", "--db", db)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: give some text to find")


# -- case list ----------------------------------------------------------------------


def test_case_list_shows_the_next_due_date_and_status_soonest_first(db, cli, as_user):
    as_user("bu")
    listed = json.loads(ok(cli("case", "list", "--db", db, "--json")).stdout)
    # Notification clocks: 5 working days after each aware date.
    assert [(c["ref"], c["next_due_on"]) for c in listed] == [
        ("2026-003", "2026-11-02"),
        ("2026-001", "2026-11-09"),
        ("2026-002", "2026-11-16"),
    ]
    assert {c["next_status"] for c in listed} == {"overdue"}
    assert {c["next_clock"] for c in listed} == {"Serious incident notification"}
    table = ok(cli("case", "list", "--db", db, env={"COLUMNS": "160"})).stdout
    assert "next due" in table and "2026-11-02" in table and "overdue" in table
    assert table.index("2026-003") < table.index("2026-001") < table.index("2026-002")


# -- filters ------------------------------------------------------------------------


def test_a_filter_no_workflow_declares_is_refused_with_the_nearest_id(db, cli, as_user):
    as_user("bu")
    result = cli("case", "list", "--state", "clsoed", "--db", db)
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: unknown state 'clsoed' (did you mean 'closed'?)"
    assert result.stdout == ""
    assert ok(cli("case", "list", "--state", "closed", "--db", db)).stderr.startswith("0 cases")
    before = count_events(db)
    expect = cli(
        "case", "advance", "2026-001", "notify", "--expect-state", "screenin",
        "--set", "sin_reference=S", "--db", db,
    )  # fmt: skip
    assert expect.exit_code == 2
    assert "did you mean 'screening'?" in expect.stderr
    assert count_events(db) == before
    as_user("root")
    role = cli("user", "add", "zed", "--name", "Zed", "--role", "chiar", "--db", db)
    assert role.exit_code == 2
    assert role.stderr.strip() == "Error: unknown role 'chiar' (did you mean 'chair'?)"
    assert count_events(db) == before


def test_a_misspelt_clock_is_answered_with_the_nearest_one(db, cli, as_user):
    as_user("bu")
    result = cli("explain", "Child A", "notificaton", "--db", db)
    assert result.exit_code == 3
    assert result.stderr.startswith(
        "Error: case 2026-001 has no clock 'notificaton' (did you mean 'notification'?); "
    )
