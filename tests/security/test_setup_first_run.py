"""`casereview setup`: the first run, scripted by flags and answered at the prompts.

Each person, role and name goes through the users and partnership services, so the log
holds the events the commands typed one by one would, and `audit verify` accepts them.
Everything is checked before anything is recorded; nothing is refused or skipped
without saying so.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from casereview.cli import app as cli_app
from casereview.cli.render import console
from tests.conftest import run_sql
from tests.security.conftest import ADMIN

NAME = "Northshire Safeguarding Children Partnership"
PEOPLE = (
    "--person",
    "jo:Jo Bloggs:business_unit",
    "--person",
    "kim:Kim Jones:partner:police",
    "--person",
    "sam:Sam Patel:chair",
)


def run(*args: str, answers: str | None = None):
    """`casereview ARGS…` with `answers` on standard input (one per line)."""
    console.reset()
    result = CliRunner().invoke(cli_app.app, list(args), input=answers, catch_exceptions=False)
    console.reset()
    return result


def people(db) -> dict[str, dict]:
    result = run("user", "list", "--json", "--db", db)
    assert result.exit_code == 0, result.stderr
    return {u["username"]: u for u in json.loads(result.stdout)}


def count_events(db) -> int:
    return run_sql(db, "SELECT COUNT(*) FROM events")[0][0]


def one_error(result, code: int) -> str:
    assert result.exit_code == code, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    return " ".join(result.stderr.split())


@pytest.fixture
def db(database_url, as_user):
    return database_url


# -- scripted ----------------------------------------------------------------------------


def test_scripted_setup_creates_everything_the_flags_say_and_verifies(db):
    result = run("setup", "--db", db, "--partnership", NAME, "--my-role", "business_unit", *PEOPLE)
    assert result.exit_code == 0, result.stderr
    assert "registered root as admin" in result.stderr
    assert "Added: Kim Jones (kim), partner for police." in result.stderr
    found = people(db)
    assert found[ADMIN]["roles"] == ["admin", "business_unit"]
    assert (found["jo"]["display_name"], found["jo"]["roles"]) == ("Jo Bloggs", ["business_unit"])
    assert (found["kim"]["roles"], found["kim"]["agency"]) == (["partner"], "police")
    assert found["sam"]["roles"] == ["chair"]
    assert run("partnership", "show", "--db", db).stdout.strip() == NAME
    # The events are the ones the commands make, by the admin.
    added = run_sql(
        db, "SELECT actor, role FROM events WHERE trigger IN ('user_add', 'user_grant') AND seq > 1"
    )
    assert added == [(ADMIN, "admin")] * 4
    verified = run("audit", "verify", "--db", db)
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    # The admin can open a case straight away.
    opened = run(
        "case", "open", "S-001", "--aware-on", "2026-01-05", "--on", "2026-01-05", "--db", db
    )
    assert opened.exit_code == 0, opened.stderr


def test_running_it_again_changes_nothing_and_says_so(db):
    assert run("setup", "--db", db, "--partnership", NAME, *PEOPLE).exit_code == 0
    before = count_events(db)
    again = run("setup", "--db", db, "--partnership", NAME, *PEOPLE)
    assert again.exit_code == 0, again.stderr
    assert again.stderr.count("Unchanged:") == 3
    assert count_events(db) == before


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("jo:Jo Bloggs", "is not LOGIN:FULL NAME:ROLE"),
        ("jo::chair", "is not LOGIN:FULL NAME:ROLE"),
    ],
)
def test_a_malformed_person_is_a_usage_error(db, spec, said):
    result = run("setup", "--db", db, "--person", spec)
    assert result.exit_code == 2
    assert said in result.stderr


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (("--person", "lee:Lee Ray:wizard"), "unknown role 'wizard'"),
        (("--person", "lee:Lee Ray:partner"), "acts for an agency"),
        (("--person", "bad login!:Lee Ray:chair"), "username must be"),
        (("--person", "jo:Jo Again:chair"), "names 'jo' more than once"),
        (("--partnership", "   "), "must not be empty"),
        (("--my-role", "chair", "--my-agency", "police"), "--my-agency is for a --my-role"),
    ],
)
def test_a_mistake_anywhere_records_nothing_not_even_the_database(db, extra, said):
    result = run("setup", "--db", db, *PEOPLE, *extra)
    message = one_error(result, 2)
    assert said in message
    # Nothing at all: `init` has not run either.
    fresh = run("init", "--db", db)
    assert fresh.exit_code == 0 and "Created" in fresh.stderr


def test_an_existing_person_with_other_details_is_refused_before_anything_is_recorded(db):
    assert run("setup", "--db", db, "--person", "jo:Jo Bloggs:business_unit").exit_code == 0
    before = count_events(db)
    result = run(
        "setup",
        "--db",
        db,
        "--partnership",
        NAME,
        "--person",
        "sam:Sam Patel:chair",
        "--person",
        "jo:Jo Bloggs:chair",
    )
    message = one_error(result, 6)
    assert "user 'jo' already exists with other details" in message
    assert "casereview user grant jo ROLE" in message
    assert count_events(db) == before  # not even the partnership or sam


def test_only_an_admin_sets_up_an_existing_installation(db, as_user):
    assert run("setup", "--db", db, "--person", "jo:Jo Bloggs:business_unit").exit_code == 0
    as_user("jo")
    before = count_events(db)
    message = one_error(run("setup", "--db", db, "--person", "x:X Y:chair"), 4)
    assert "admin" in message
    assert count_events(db) == before


# -- at the prompts ------------------------------------------------------------------------


def test_the_questions_explain_themselves_and_record_the_answers(db):
    answers = "\n".join(
        [
            NAME,  # partnership name
            "y",  # open cases yourself
            "y",  # add a person
            "jo",
            "Jo Bloggs",
            "business_unit",
            "y",  # another
            "kim",
            "Kim Jones",
            "partner",
            "police",
            "n",  # no more
            "y",  # record all this
        ]
    )
    result = run("setup", "--db", db, answers=answers + "\n")
    assert result.exit_code == 0, result.stderr
    said = " ".join(result.stderr.split())
    assert "heads every report and export" in said
    assert "needs the business_unit role too" in said
    assert "Each is known by the login" in said
    assert "A partner signs for one agency" in said
    assert "Kim Jones (kim): partner for police" in said  # the summary before recording
    found = people(db)
    assert found[ADMIN]["roles"] == ["admin", "business_unit"]
    assert (found["kim"]["roles"], found["kim"]["agency"]) == (["partner"], "police")
    assert found["jo"]["display_name"] == "Jo Bloggs"
    assert run("partnership", "show", "--db", db).stdout.strip() == NAME
    assert run("audit", "verify", "--db", db).exit_code == 0


def test_a_wrong_answer_is_said_and_asked_again(db):
    assert run("setup", "--db", db, "--person", "jo:Jo Bloggs:business_unit").exit_code == 0
    answers = "\n".join(
        [
            "North\x1bshire",  # refused: a control character
            NAME,
            "n",  # not opening cases
            "y",
            "jo",  # exists with other details below: refused, asked again
            "Jo Bloggs",
            "chair",
            "y",
            "sam",
            "Sam Patel",
            "wizard",  # not a role: asked again
            "chair",
            "n",
            "y",
        ]
    )
    result = run("setup", "--db", db, answers=answers + "\n")
    assert result.exit_code == 0, result.stderr
    said = " ".join(result.stderr.split())
    assert "That cannot be recorded: --partnership holds a control character" in said
    assert "That cannot be recorded: user 'jo' already exists with other details" in said
    assert "Please select one of the available options" in said
    found = people(db)
    assert found["jo"]["roles"] == ["business_unit"]  # unchanged
    assert found["sam"]["roles"] == ["chair"]
    assert found[ADMIN]["roles"] == ["admin"]


def test_declining_records_nothing_more(db):
    answers = "\n".join([NAME, "n", "y", "jo", "Jo Bloggs", "chair", "n", "n"])
    result = run("setup", "--db", db, answers=answers + "\n")
    assert result.exit_code == 0, result.stderr
    assert "Nothing more was recorded" in result.stderr
    assert set(people(db)) == {ADMIN}
    assert run_sql(db, "SELECT COUNT(*) FROM events WHERE trigger = 'partnership_set'") == [(0,)]


def test_running_out_of_answers_is_a_usage_error_that_names_the_flags(db):
    result = run("setup", "--db", db, answers="")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: setup ran out of answers")
    assert "--person" in last and "--no-input" in last
