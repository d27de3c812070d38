"""The schema guard and the append-only triggers' definitions.

A database whose `schema_migrations` records a migration this casereview does not know
was written by a newer casereview: every command refuses it on open with one line naming
the migration, exit 1, and writes nothing. `audit verify` compares the append-only
triggers' whole definitions, so a same-named trigger that does nothing is a finding.
Both backends (PostgreSQL when CASEREVIEW_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from casereview.errors import ExitCode
from casereview.services import audit
from casereview.services.context import ServiceContext
from casereview.store.database import Database
from casereview.store.reading import MIGRATION_NAMES, NewerDatabase
from tests.conftest import BACKEND, snapshot
from tests.security.conftest import raw

FUTURE = "0099_from_the_future"


@pytest.fixture
def newer(seeded):
    """The seeded database as a newer casereview would leave it: one more migration."""
    raw(
        seeded.url,
        "INSERT INTO schema_migrations (name, applied_at) VALUES (:n, '2030-01-01T00:00:00Z')",
        n=FUTURE,
    )
    return seeded


def _file_digest(url: str) -> str | None:
    if not url.startswith("sqlite"):
        return None
    return hashlib.sha256(Path(url.removeprefix("sqlite:///")).read_bytes()).hexdigest()


COMMANDS = {
    "write": ("case", "advance", "S-003", "add_note", "--set", "note=more"),
    "read": ("case", "show", "S-001"),
    "list": ("case", "list"),
    "due": ("due",),
    "export": ("log", "export", "--format", "json"),
    "verify": ("audit", "verify"),
}


@pytest.mark.parametrize("kind", sorted(COMMANDS))
def test_a_newer_database_is_refused_in_one_line_and_nothing_changes(newer, cli, kind):
    before, digest = snapshot(newer.url), _file_digest(newer.url)
    result = cli(*COMMANDS[kind], *newer.cli_args())
    assert result.exit_code == ExitCode.ERROR, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "written by a newer casereview" in lines[0]
    assert FUTURE in lines[0]
    assert result.stdout == ""
    assert snapshot(newer.url) == before
    assert _file_digest(newer.url) == digest


def test_a_newer_database_is_refused_before_any_pending_migration_runs(seeded):
    """Even when this casereview has migrations to apply, a database that records one it
    does not know is not migrated: the refusal comes first."""
    raw(seeded.url, "DELETE FROM schema_migrations WHERE name = :n", n=MIGRATION_NAMES[-1])
    raw(
        seeded.url,
        "INSERT INTO schema_migrations (name, applied_at) VALUES (:n, '2030-01-01T00:00:00Z')",
        n=FUTURE,
    )
    before = snapshot(seeded.url)
    with pytest.raises(NewerDatabase, match=FUTURE):
        Database.open(seeded.url)
    assert snapshot(seeded.url) == before


def test_a_known_database_opens(seeded):
    """The guard's other side: every name this casereview wrote is known."""
    Database.open(seeded.url).dispose()


# -- the append-only triggers, compared whole ----------------------------------------------


def _verify(url: str, account: str) -> audit.VerifyReport:
    ctx = ServiceContext(url=url, account=account)
    try:
        return audit.verify(ctx, jobs=1)
    finally:
        ctx.close()


def _protection_findings(report: audit.VerifyReport) -> list[str]:
    return [f.message for f in report.findings if f.check == "protection"]


def test_the_triggers_casereview_made_verify(seeded):
    report = _verify(seeded.url, seeded.account)
    assert report.ok, report.findings


DO_NOTHING = {
    "sqlite": [
        [
            "DROP TRIGGER events_no_update",
            "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT 1; END",
        ],
        [
            "DROP TRIGGER events_no_update",
            "CREATE TRIGGER events_no_update BEFORE UPDATE ON events WHEN 0 "
            "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
        ],
    ],
    "postgresql": [
        [
            "CREATE OR REPLACE FUNCTION casereview_events_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
        ],
        [
            "DROP TRIGGER events_append_only ON events",
            "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
            "FOR EACH ROW WHEN (false) EXECUTE FUNCTION casereview_events_append_only()",
        ],
    ],
}


@pytest.mark.parametrize("variant", [0, 1], ids=["body-does-nothing", "never-fires"])
def test_a_same_named_trigger_that_does_nothing_is_a_finding(seeded, variant):
    for statement in DO_NOTHING[BACKEND][variant]:
        raw(seeded.url, statement)
    # The replacement really lets an event be edited: the protection is gone in fact.
    raw(seeded.url, "UPDATE events SET rationale = 'edited' WHERE seq = 1")
    report = _verify(seeded.url, seeded.account)
    messages = _protection_findings(report)
    assert messages, report.findings
    assert any("differ from casereview's" in m for m in messages), messages
    name = "events_no_update" if BACKEND == "sqlite" else "events_append_only"
    assert any(name in m for m in messages), messages


def test_the_same_trigger_laid_out_differently_is_not_a_finding(seeded):
    """Definitions are compared word for word, not byte for byte: recreating the trigger
    with other line breaks leaves the same protection."""
    if BACKEND != "sqlite":
        pytest.skip("PostgreSQL prints a trigger's definition in its own layout")
    raw(seeded.url, "DROP TRIGGER events_no_delete")
    raw(
        seeded.url,
        "CREATE TRIGGER events_no_delete\n  BEFORE DELETE ON events\nBEGIN\n"
        "  SELECT RAISE(ABORT, 'events are append-only');\nEND",
    )
    report = _verify(seeded.url, seeded.account)
    assert report.ok, report.findings
