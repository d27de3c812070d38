"""Every command against the backend under test (SQLite, or PostgreSQL when
CASEREVIEW_TEST_DATABASE_URL is set): same commands, same results."""

from __future__ import annotations

import json

import pytest

from casereview.services import demo
from casereview.services.context import ServiceContext
from tests.conftest import TODAY


@pytest.fixture
def seeded(database_url, monkeypatch, tmp_path):
    from casereview.infra import identity

    monkeypatch.setattr(identity, "os_account", lambda: "root")
    # The CLI's actor: the OS account on SQLite, the session user on PostgreSQL.
    account = ServiceContext.from_options(database_url).account
    demo.seed(database_url, account, TODAY)
    return database_url


READS = [
    ("case", "list", "--json"),
    ("case", "show", "2026-002", "--json"),
    ("due", "--json"),
    ("timeline", "2026-002", "--json"),
    ("explain", "2026-002", "lcspr_publication", "--json"),
    ("audit", "verify", "--json"),
    ("user", "list", "--json"),
    ("report", "--format", "json"),
]


@pytest.mark.parametrize("args", READS, ids=[" ".join(a[:2]) for a in READS])
def test_read_commands_work(seeded, cli, args):
    args = tuple(a.replace("2026-", f"{TODAY.year}-") for a in args)
    result = cli(*args, "--db", seeded)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) is not None


def test_write_export_and_verify_round_trip(seeded, cli, tmp_path):
    ref = f"{TODAY.year}-012"
    advanced = cli("case", "advance", ref, "notify", "--set", "sin_reference=SIN-X", "--db", seeded)
    assert advanced.exit_code == 0, advanced.stderr
    shown = json.loads(cli("case", "show", ref, "--json", "--db", seeded).stdout)
    assert shown["state"] == "rapid_review"
    export = tmp_path / "log.json"
    assert (
        cli("log", "export", "--format", "json", "--output", str(export), "--db", seeded).exit_code
        == 0
    )
    checked = cli("log", "verify-export", str(export), "--db", seeded)
    assert checked.exit_code == 0, checked.stderr
    ics = tmp_path / "deadlines.ics"
    assert cli("calendar", "export", "--output", str(ics), "--db", seeded).exit_code == 0
    assert ics.read_text().startswith("BEGIN:VCALENDAR")
    checkpoint = tmp_path / "cp.json"
    assert cli("audit", "checkpoint", "--output", str(checkpoint), "--db", seeded).exit_code == 0
    verified = cli("audit", "verify", "--checkpoint", str(checkpoint), "--db", seeded)
    assert verified.exit_code == 0, verified.stdout
