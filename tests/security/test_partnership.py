"""The partnership's name: recorded by an admin as an event, shown in every report and
export header, and checked by `audit verify` like every other admin event.

`init --partnership NAME` names a new installation in the same transaction that creates
it; `partnership set` renames it (admin only). A decision-log export carries the name
as the log stood at its chain head, so an export made before a rename still verifies
byte for byte, and a name changed in the file does not. A `partnership_set` event
forged by someone who was not an admin is an `authority` finding. Through the command
line as the admin types it, on SQLite and on PostgreSQL when the suite runs there.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from icalendar import Calendar

from casereview.services import partnership
from tests.conftest import register_cli_account, run_sql
from tests.security.authority_support import authority_findings, build, checks
from tests.security.conftest import ADMIN, raw

NAME = "Northshire Safeguarding Children Partnership"


def one_error(result, code: int) -> str:
    assert result.exit_code == code, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    return " ".join(result.stderr.split())


def partnership_events(db) -> list[tuple]:
    return run_sql(
        db,
        "SELECT actor, role, fields FROM events WHERE trigger = 'partnership_set' ORDER BY seq",
    )


def count_events(db) -> int:
    return run_sql(db, "SELECT COUNT(*) FROM events")[0][0]


@pytest.fixture
def named(database_url, cli, as_user):
    """A new installation named at `init`, with a business unit officer (the admin
    also holds business_unit) and one case."""
    result = cli("init", "--db", database_url, "--partnership", NAME)
    assert result.exit_code == 0, result.stderr
    for argv in (
        ("user", "grant", ADMIN, "business_unit"),
        ("user", "add", "bu", "--name", "Officer", "--role", "business_unit"),
        ("case", "open", "P-001", "--aware-on", "2026-01-05", "--on", "2026-01-05"),
    ):
        done = cli(*argv, "--db", database_url)
        assert done.exit_code == 0, (argv, done.stderr)
    return database_url


# -- init and the command --------------------------------------------------------------


def test_init_records_the_name_as_an_admin_event_and_says_what_comes_next(
    database_url, cli, as_user
):
    result = cli("init", "--db", database_url, "--partnership", f"  {NAME} ")
    assert result.exit_code == 0, result.stderr
    assert f"The partnership is {NAME}" in result.stderr
    # Named already: the next steps do not ask for it again, and still start with the grant.
    commands = [s.strip() for s in result.stderr.splitlines() if s.strip().startswith("casereview")]
    assert commands[0].startswith(f"casereview user grant {ADMIN} business_unit")
    assert not any(c.startswith("casereview partnership") for c in commands)
    assert partnership_events(database_url) == [
        (ADMIN, "admin", json.dumps({"name": NAME}, separators=(",", ":")))
    ]
    shown = cli("partnership", "show", "--db", database_url, "--json")
    assert json.loads(shown.stdout) == {"name": NAME}
    verified = cli("audit", "verify", "--db", database_url)
    assert verified.exit_code == 0, verified.stdout + verified.stderr


def test_init_without_a_name_prints_the_command_that_names_it(database_url, cli, as_user):
    result = cli("init", "--db", database_url)
    assert result.exit_code == 0, result.stderr
    assert 'casereview partnership set "NAME" --db ' in result.stderr
    shown = cli("partnership", "show", "--db", database_url)
    assert shown.exit_code == 0 and shown.stdout == ""
    assert "no name yet" in shown.stderr


@pytest.mark.parametrize(
    ("name", "said"),
    [("   ", "must not be empty"), ("North\x1b[31mshire", "control character"), ("x" * 201, "200")],
)
def test_a_name_that_cannot_head_a_report_is_refused_and_nothing_is_created(
    database_url, cli, as_user, name, said
):
    message = one_error(cli("init", "--db", database_url, "--partnership", name), 2)
    assert said in message and "--partnership" in message
    assert cli("init", "--db", database_url).exit_code == 0  # nothing was half made
    assert partnership_events(database_url) == []


def test_init_again_with_another_name_is_refused_with_the_command_to_rename(named, cli):
    before = count_events(named)
    message = one_error(cli("init", "--db", named, "--partnership", "Southshire SCP"), 6)
    assert "already initialised" in message
    assert "casereview partnership set 'Southshire SCP'" in message
    assert count_events(named) == before
    # The same name again is no change at all.
    again = cli("init", "--db", named, "--partnership", NAME)
    assert again.exit_code == 0 and "already initialised" in again.stderr


def test_an_admin_renames_it_and_nobody_else_can(named, cli, as_user):
    as_user("bu")
    before = count_events(named)
    message = one_error(cli("partnership", "set", "Officer's Partnership", "--db", named), 4)
    assert "only an admin" in message
    assert count_events(named) == before
    as_user(ADMIN)
    same = one_error(cli("partnership", "set", NAME, "--db", named), 6)
    assert "already called" in same
    empty = one_error(cli("partnership", "set", " ", "--db", named), 2)
    assert "the partnership's name must not be empty" in empty
    renamed = cli("partnership", "set", "Northshire and Eastshire SCP", "--db", named)
    assert renamed.exit_code == 0, renamed.stderr
    assert "now called Northshire and Eastshire SCP" in renamed.stderr
    assert [json.loads(f)["name"] for _, _, f in partnership_events(named)] == [
        NAME,
        "Northshire and Eastshire SCP",
    ]
    assert cli("partnership", "show", "--db", named).stdout.strip() == (
        "Northshire and Eastshire SCP"
    )
    assert cli("audit", "verify", "--db", named).exit_code == 0


# -- every report and export header ------------------------------------------------------


def test_every_report_format_names_the_partnership(named, cli):
    period = ("--from", "2025-04-01", "--to", "2026-03-31")
    table = cli("report", *period, "--db", named)
    assert table.exit_code == 0 and table.stdout.splitlines()[0] == NAME
    md = cli("report", *period, "--format", "md", "--db", named)
    assert md.exit_code == 0, md.stderr
    assert f"Partnership: {NAME}." in md.stdout.splitlines()[:4]
    data = json.loads(cli("report", *period, "--format", "json", "--db", named).stdout)
    assert data["partnership"] == NAME
    rows = list(
        csv.DictReader(
            io.StringIO(
                cli("report", *period, "--format", "csv", "--db", named).stdout.lstrip("\ufeff")
            )
        )
    )
    assert (rows[0]["record"], rows[0]["label"]) == ("partnership", NAME)
    page = cli("report", *period, "--format", "html", "--db", named).stdout
    assert f"<title>{NAME} · Child safeguarding practice reviews: figures for 2025-26 " in page


def test_the_calendar_feed_is_named_after_the_partnership(named, cli, tmp_path):
    target = tmp_path / "deadlines.ics"
    result = cli("calendar", "export", "--output", str(target), "--db", named)
    assert result.exit_code == 0, result.stderr
    feed = Calendar.from_ical(target.read_bytes())
    assert str(feed["X-WR-CALNAME"]) == f"{NAME}: casereview deadlines"


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_an_export_carries_the_name_it_had_at_its_chain_head(named, cli, tmp_path, fmt):
    first = tmp_path / f"first.{fmt}"
    made = cli("log", "export", "--format", fmt, "--output", str(first), "--db", named)
    assert made.exit_code == 0, made.stderr
    data = first.read_bytes().decode("utf-8")
    assert NAME in data
    if fmt == "md":
        assert f"| Partnership | {NAME} |" in data
    # Renamed afterwards: the earlier export still verifies against the log, byte for byte.
    assert cli("partnership", "set", "Renamed SCP", "--db", named).exit_code == 0
    checked = cli("log", "verify-export", str(first), "--db", named)
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    later = tmp_path / f"later.{fmt}"
    assert (
        cli("log", "export", "--format", fmt, "--output", str(later), "--db", named).exit_code == 0
    )
    assert "Renamed SCP" in later.read_bytes().decode("utf-8")
    # The name changed in the file (the digest recomputed for JSON cannot be: it is checked
    # against the log's regeneration too) does not verify.
    forged = tmp_path / f"forged.{fmt}"
    forged.write_bytes(first.read_bytes().replace(NAME.encode(), b"Southshire SCP"))
    refused = cli("log", "verify-export", str(forged), "--db", named)
    assert refused.exit_code == 7


def test_an_export_of_a_log_never_named_has_no_partnership_in_its_header(
    database_url, cli, as_user, tmp_path
):
    assert cli("init", "--db", database_url).exit_code == 0
    target = tmp_path / "log.json"
    assert (
        cli("log", "export", "--format", "json", "-o", str(target), "--db", database_url).exit_code
        == 0
    )
    assert "partnership" not in json.loads(target.read_text())["meta"]


# -- audit verify ------------------------------------------------------------------------


@pytest.fixture
def world(database_url):
    for world in build(database_url):
        register_cli_account(world.url, "ada")
        yield world


def test_a_partnership_name_set_by_a_non_admin_is_an_authority_finding(world):
    allowed = partnership.set_name(world.as_("ada"), NAME)
    assert allowed.changed and world.verify().ok
    allowed_seq = int(raw(world.url, "SELECT MAX(seq) FROM events")[0][0])
    forged = world.insert(
        world.admin_event("partnership_set", {"name": "Forged"}, actor="bu", role="admin")
    )
    report = world.verify()
    assert authority_findings(report) == [
        (forged, "partnership_set is an admin event, but 'bu' did not hold admin at that point")
    ]
    assert allowed_seq < forged


def test_an_unreadable_partnership_event_is_reported(world):
    seq = world.insert(world.admin_event("partnership_set", {"name": ""}))
    assert ("replay", seq) in checks(world.verify())
