"""Users change one role at a time, and nothing leaves an installation without an admin.

Before: `user add root --role business_unit` replaced the only admin's roles, after which
nobody could ever manage users again, and a README newcomer did exactly that on day
one. Now `user add` refuses an existing user (exit 6) and points to `user grant` and
`user revoke`; revoking `admin` from, or deactivating, the last active admin is refused
(exit 4) saying why; grants, revocations, deactivations and reactivations are events
in the log and show in `user list`; a deactivated user records nothing (exit 4).
Everything through the command line, as the admin would type it.
"""

from __future__ import annotations

import json
import shlex

import pytest

from casereview.cli.render.admin import PLACEHOLDERS
from tests.conftest import TODAY, enrol_keys, run_sql
from tests.security.conftest import ADMIN


@pytest.fixture
def db(database_url, cli, as_user):
    """`init` by root (the only admin), then a business unit officer."""
    assert cli("init", "--db", database_url).exit_code == 0
    added = cli(
        "user", "add", "bu", "--name", "Officer", "--role", "business_unit", "--db", database_url
    )
    assert added.exit_code == 0, added.stderr
    enrol_keys(database_url, "bu", admin=ADMIN)
    return database_url


def one_error(result, code: int) -> str:
    assert result.exit_code == code, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    return " ".join(result.stderr.split())


def listed(cli, db, *extra: str) -> dict[str, dict]:
    result = cli("user", "list", "--json", "--db", db, *extra)
    assert result.exit_code == 0, result.stderr
    return {u["username"]: u for u in json.loads(result.stdout)}


def user_events(db) -> list[tuple]:
    return run_sql(
        db,
        "SELECT trigger, actor, role, fields FROM events WHERE kind = 'admin' ORDER BY seq",
    )


def count_events(db) -> int:
    return run_sql(db, "SELECT COUNT(*) FROM events")[0][0]


# -- the last admin ------------------------------------------------------------------------


def test_user_add_on_the_only_admin_is_refused_and_keeps_admin(db, cli):
    before = count_events(db)
    message = one_error(
        cli("user", "add", ADMIN, "--name", "Me", "--role", "business_unit", "--db", db), 6
    )
    assert "user 'root' already exists" in message
    assert "casereview user grant root ROLE" in message
    assert "casereview user revoke root ROLE" in message
    assert count_events(db) == before
    assert listed(cli, db)[ADMIN]["roles"] == ["admin"]
    # ... and root can still manage users.
    assert cli("user", "grant", "bu", "chair", "--db", db).exit_code == 0


def test_the_last_admin_cannot_revoke_their_own_admin_role(db, cli):
    before = count_events(db)
    message = one_error(cli("user", "revoke", ADMIN, "admin", "--db", db), 4)
    assert "'root' is the last active admin" in message
    assert "nobody able to manage users" in message
    assert "Grant admin to another user first" in message
    assert count_events(db) == before
    assert listed(cli, db)[ADMIN]["roles"] == ["admin"]


def test_the_last_admin_cannot_deactivate_themselves(db, cli):
    before = count_events(db)
    message = one_error(cli("user", "deactivate", ADMIN, "--db", db), 4)
    assert "'root' is the last active admin; deactivating them" in message
    assert count_events(db) == before
    assert listed(cli, db)[ADMIN]["active"] is True


def test_with_a_second_admin_the_first_may_step_down(db, cli, as_user):
    assert cli("user", "grant", "bu", "admin", "--db", db).exit_code == 0
    assert cli("user", "revoke", ADMIN, "admin", "--db", db).exit_code == 0
    # root is no admin any more: managing users is refused.
    message = one_error(cli("user", "grant", "bu", "chair", "--db", db), 4)
    assert "only an admin can manage users; 'root' is not an admin" in message
    # bu is now the last admin, and the guard holds for them too.
    as_user("bu")
    assert "'bu' is the last active admin" in one_error(
        cli("user", "revoke", "bu", "admin", "--db", db), 4
    )
    assert "'bu' is the last active admin" in one_error(
        cli("user", "deactivate", "bu", "--db", db), 4
    )


def test_a_deactivated_admin_does_not_count_as_an_admin(db, cli):
    assert cli("user", "grant", "bu", "admin", "--db", db).exit_code == 0
    assert cli("user", "deactivate", "bu", "--db", db).exit_code == 0
    assert "'root' is the last active admin" in one_error(
        cli("user", "revoke", ADMIN, "admin", "--db", db), 4
    )


# -- grant, revoke, deactivate, reactivate: events, and what `user list` shows --------------


def test_changes_are_events_and_show_in_user_list(db, cli):
    start = len(user_events(db))
    steps = [
        ("grant", "bu", "chair"),
        ("grant", "bu", "partner", "--agency", "police"),
        ("revoke", "bu", "chair"),
        ("deactivate", "bu"),
    ]
    for step in steps:
        result = cli("user", *step, "--db", db)
        assert result.exit_code == 0, result.stderr
    events = user_events(db)[start:]
    assert [(t, actor, role) for t, actor, role, _ in events] == [
        ("user_grant", ADMIN, "admin"),
        ("user_grant", ADMIN, "admin"),
        ("user_revoke", ADMIN, "admin"),
        ("user_deactivate", ADMIN, "admin"),
    ]
    assert [json.loads(f) for *_, f in events] == [
        {"username": "bu", "role": "chair", "agency": None},
        {"username": "bu", "role": "partner", "agency": "police"},
        {"username": "bu", "role": "chair"},
        {"username": "bu"},
    ]
    # Deactivated: gone from the default list, kept (inactive) with --all.
    assert "bu" not in listed(cli, db)
    kept = listed(cli, db, "--all")["bu"]
    assert (kept["roles"], kept["agency"], kept["active"]) == (
        ["business_unit", "partner"],
        "police",
        False,
    )
    table = cli("user", "list", "--all", "--db", db)
    rows = [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in table.stdout.splitlines()
        if line.startswith("│")
    ]
    assert ["bu", "Officer", "business_unit, partner", "police", "no"] in rows

    assert cli("user", "reactivate", "bu", "--db", db).exit_code == 0
    assert json.loads(user_events(db)[-1][3]) == {"username": "bu"}
    assert user_events(db)[-1][0] == "user_reactivate"
    assert listed(cli, db)["bu"]["active"] is True
    # History kept: the log still holds every step, the user row its first event.
    assert len(user_events(db)) == start + 5


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("grant", "bu", "business_unit"), 6, "already holds the role business_unit"),
        (("revoke", "bu", "chair"), 6, "does not hold the role chair"),
        (("grant", "nobody", "chair"), 3, "no user 'nobody'"),
        (("deactivate", "nobody"), 3, "no user 'nobody'"),
        (("grant", "bu", "overlord"), 2, "unknown role 'overlord'"),
        (("grant", "bu", "partner"), 2, "a partner acts for an agency: give --agency"),
        (("grant", "bu", "chair", "--agency", "police"), 2, "chair acts for no agency"),
        (("reactivate", "bu"), 6, "user 'bu' is active"),
    ],
)
def test_bad_changes_are_one_error_and_write_nothing(db, cli, args, code, words):
    before = count_events(db)
    assert words in one_error(cli("user", *args, "--db", db), code)
    assert count_events(db) == before


def test_only_an_admin_changes_users(db, cli, as_user):
    as_user("bu")
    before = count_events(db)
    for args in (("grant", "bu", "admin"), ("revoke", ADMIN, "admin"), ("deactivate", ADMIN)):
        message = one_error(cli("user", *args, "--db", db), 4)
        assert "only an admin can manage users; 'bu' is not an admin" in message
    assert count_events(db) == before


def test_a_deactivated_user_cannot_record(db, cli, as_user):
    assert cli("user", "grant", "bu", "chair", "--db", db).exit_code == 0
    as_user("bu")
    opened = cli(
        "case", "open", "D-1", "--aware-on", "2026-01-05", "--on", "2026-01-05", "--db", db
    )
    assert opened.exit_code == 0, opened.stderr
    as_user(ADMIN)
    assert cli("user", "deactivate", "bu", "--db", db).exit_code == 0
    as_user("bu")
    before = count_events(db)
    for args in (
        ("case", "open", "D-2", "--aware-on", "2026-01-05", "--on", "2026-01-05"),
        ("case", "advance", "D-1", "notify", "--set", "sin_reference=S", "--on", "2026-01-06"),
        ("case", "advance", "D-1", "add_note", "--set", "note=n", "--on", "2026-01-06"),
    ):
        message = one_error(cli(*args, "--db", db), 4)
        assert "user 'bu' is deactivated" in message
    assert count_events(db) == before
    # Reactivated, the same account records again with the roles it held.
    as_user(ADMIN)
    assert cli("user", "reactivate", "bu", "--db", db).exit_code == 0
    as_user("bu")
    again = cli(
        "case", "advance", "D-1", "add_note", "--set", "note=n", "--on", "2026-01-06", "--db", db
    )
    assert again.exit_code == 0, again.stderr


def test_a_deactivated_decision_maker_cannot_be_recorded_for(db, cli, as_user):
    assert (
        cli("user", "add", "sam", "--name", "Chair", "--role", "chair", "--db", db).exit_code == 0
    )
    as_user("bu")
    assert (
        cli(
            "case", "open", "D-3", "--aware-on", "2026-01-05", "--on", "2026-01-05", "--db", db
        ).exit_code
        == 0
    )
    as_user(ADMIN)
    assert cli("user", "deactivate", "sam", "--db", db).exit_code == 0
    as_user("bu")
    message = one_error(
        cli(
            "case",
            "advance",
            "D-3",
            "decide_not_to_notify",
            "--on-behalf-of",
            "sam",
            "--rationale",
            "criteria not met",
            "--on",
            "2026-01-06",
            "--db",
            db,
        ),
        4,
    )
    assert "user 'sam' is deactivated" in message


# -- init and the first day --------------------------------------------------------------


def _filled(line: str, n: int) -> list[str]:
    """A printed command with its placeholders filled in (a new login per line)."""
    values = {
        "LOGIN": f"person{n}",
        "FULL NAME": f"Person {n}",
        "NAME": "Northshire Safeguarding Children Partnership",
        "REF": "2026-001",
        "YYYY-MM-DD": TODAY.isoformat(),
    }
    for placeholder in PLACEHOLDERS:
        line = line.replace(placeholder, values[placeholder])
    return shlex.split(line)


def test_init_prints_the_next_commands_and_they_work_in_order(database_url, cli, as_user):
    first = cli("init", "--db", database_url)
    assert first.exit_code == 0, first.stderr
    commands = [
        line.strip() for line in first.stderr.splitlines() if line.strip().startswith("casereview ")
    ]
    assert commands[1].startswith(f"casereview user grant {ADMIN} business_unit")
    assert [c.split()[1:3] for c in commands] == [
        ["partnership", "set"],
        ["user", "grant"],
        *[["user", "add"]] * 4,
        ["case", "open"],
    ]
    assert all("--db" in c for c in commands)  # a database named at init is named again
    for n, line in enumerate(commands):
        argv = _filled(line, n)
        assert argv[0] == "casereview"
        result = cli(*argv[1:])
        assert result.exit_code == 0, (line, result.stderr)
    people = listed(cli, database_url)
    assert people[ADMIN]["roles"] == ["admin", "business_unit"]  # admin kept
    assert {p["roles"][0] for name, p in people.items() if name != ADMIN} == {
        "business_unit",
        "chair",
        "partner",
        "scrutineer",
    }
    shown = cli("case", "show", "2026-001", "--db", database_url)
    assert shown.exit_code == 0, shown.stderr
    named = cli("partnership", "show", "--db", database_url)
    assert named.stdout.strip() == "Northshire Safeguarding Children Partnership"
    # A second init changes nothing and prints no steps.
    again = cli("init", "--db", database_url)
    assert again.exit_code == 0 and "already initialised" in again.stderr
    assert "casereview " not in again.stderr.replace(database_url, "")


def test_init_without_a_named_database_prints_commands_without_db(tmp_path, cli, monkeypatch):
    monkeypatch.delenv("CASEREVIEW_DATABASE_URL", raising=False)
    monkeypatch.setenv("CASEREVIEW_DB", str(tmp_path / "env.db"))
    result = cli("init")
    assert result.exit_code == 0, result.stderr
    commands = [
        s.strip() for s in result.stderr.splitlines() if s.strip().startswith("casereview ")
    ]
    assert commands and not any("--db" in c for c in commands)


def test_init_never_prints_a_database_password():
    """A PostgreSQL URL is shown without its password: the printed commands then rely
    on CASEREVIEW_DATABASE_URL instead of a `--db` that could not work."""
    from casereview.cli.render.admin import next_steps
    from casereview.services.users import NextSteps

    steps = NextSteps("business_unit", ("chair",), (), frozenset())
    text = next_steps("root", steps, "postgresql+psycopg://owner:***@db.example.org/cr")
    assert "***" not in text and "--db" not in text
    assert "Set CASEREVIEW_DATABASE_URL" in text
    assert "casereview user grant root business_unit" in text


def test_audit_verify_replays_the_user_events(db, cli):
    """The users table is a projection of grant, revoke, deactivate and reactivate:
    `audit verify` rebuilds it from them, and a row changed behind the log's back (a
    deactivated user switched back on in the table) is reported."""
    for step in (
        ("grant", "bu", "partner", "--agency", "icb"),
        ("grant", "bu", "chair"),
        ("revoke", "bu", "partner"),
        ("deactivate", "bu"),
        ("reactivate", "bu"),
        ("deactivate", "bu"),
    ):
        assert cli("user", *step, "--db", db).exit_code == 0
    verified = cli("audit", "verify", "--db", db)
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    run_sql(db, "UPDATE users SET active = TRUE WHERE username = 'bu'")
    tampered = cli("audit", "verify", "--db", db)
    assert tampered.exit_code == 7
    assert "user bu differs from the user events" in tampered.stdout + tampered.stderr
