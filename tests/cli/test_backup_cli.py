"""`casereview backup` and `casereview restore` through the command line: what a person
sees, the exit codes docs/cli.md lists, and one `Error:` line for every refusal."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from casereview.infra import identity
from casereview.infra.now import FixedClock, SystemClock
from tests.conftest import enrol_keys, snapshot, unprotected

pytestmark = pytest.mark.sqlite_only  # backups copy a SQLite file; PostgreSQL: test_backup.py

TODAY = dt.date(2026, 12, 7)


@pytest.fixture
def live(tmp_path, cli, monkeypatch):
    monkeypatch.setattr(SystemClock, "now", lambda self: FixedClock(TODAY).now())
    monkeypatch.setattr(identity, "os_account", lambda: "root")
    db = tmp_path / "live.db"
    assert cli("init", "--db", str(db)).exit_code == 0
    for args in (
        ("bu", "--name", "Business unit", "--role", "business_unit"),
        ("scrut", "--name", "Scrutineer", "--role", "scrutineer"),
    ):
        assert cli("user", "add", *args, "--db", str(db)).exit_code == 0
    enrol_keys(f"sqlite:///{db}", "bu", "scrut", admin="root")
    monkeypatch.setattr(identity, "os_account", lambda: "bu")
    assert (
        cli("case", "open", "2026-001", "--aware-on", "2026-12-01", "--db", str(db)).exit_code == 0
    )
    return db


def as_(monkeypatch, name: str) -> None:
    monkeypatch.setattr(identity, "os_account", lambda: name)


def test_backup_then_restore_from_the_command_line(cli, live, tmp_path, monkeypatch):
    dest = tmp_path / "copy.db"
    result = cli("backup", str(dest), "--db", str(live))
    assert result.exit_code == 0, result.stderr
    shown = " ".join(result.stdout.split())
    assert shown.startswith(f"Backed up to {dest}: the copy verifies. 15 events, 1 cases, 3 users")
    assert f"{dest}.checkpoint.json" in "".join(result.stderr.split())
    as_(monkeypatch, "root")
    target = tmp_path / "restored.db"
    result = cli("restore", str(dest), "--db", str(target), "--json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["restored"] == str(target)
    assert shown["kept"] is None
    assert shown["verification"]["ok"] is True
    assert shown["verification"]["checkpoint_used"] is True
    assert snapshot(f"sqlite:///{target}") == snapshot(f"sqlite:///{dest}")


def test_backup_json_names_the_files(cli, live, tmp_path):
    dest = tmp_path / "copy.db"
    result = cli("backup", str(dest), "--db", str(live), "--json")
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert shown["backup"] == str(dest)
    assert shown["checkpoint"] == f"{dest}.checkpoint.json"
    assert shown["verification"]["cases"] == 1


def test_restore_replace_keeps_the_database_it_replaces(cli, live, tmp_path, monkeypatch):
    dest = tmp_path / "copy.db"
    assert cli("backup", str(dest), "--db", str(live)).exit_code == 0
    as_(monkeypatch, "root")
    refused = cli("restore", str(dest), "--db", str(live))
    assert refused.exit_code == 6
    assert refused.stderr.startswith("Error: ") and refused.stderr.count("\n") == 1
    result = cli("restore", str(dest), "--db", str(live), "--replace")
    assert result.exit_code == 0, result.stderr
    kept = [p for p in tmp_path.iterdir() if ".before-restore-" in p.name]
    assert len(kept) == 1
    assert f"kept at {kept[0]}" in " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("who", "args", "code"),
    [
        ("scrut", ("backup", "{tmp}/copy.db"), 4),
        ("bu", ("backup", "{tmp}/exists.db"), 6),
        ("bu", ("backup", "{tmp}/no-folder/copy.db"), 3),
        ("bu", ("restore", "{tmp}/missing.db", "--db", "{tmp}/new.db"), 3),
        ("bu", ("restore", "{tmp}/exists.db", "--db", "{tmp}/new.db"), 2),
        ("bu", ("restore", "{tmp}/good.db", "--db", "{tmp}/new.db"), 4),
        ("root", ("restore", "{tmp}/tampered.db", "--db", "{tmp}/new.db"), 7),
    ],
)
def test_refusals_are_one_line_with_their_exit_code(
    cli, live, tmp_path, monkeypatch, who, args, code
):
    (tmp_path / "exists.db").write_bytes(b"something else")
    assert cli("backup", str(tmp_path / "good.db"), "--db", str(live)).exit_code == 0
    assert cli("backup", str(tmp_path / "tampered.db"), "--db", str(live)).exit_code == 0
    unprotected(
        f"sqlite:///{tmp_path / 'tampered.db'}", "UPDATE events SET actor = 'bu' WHERE seq = 1"
    )
    before = snapshot(f"sqlite:///{live}")
    listing = sorted(p.name for p in tmp_path.iterdir())
    as_(monkeypatch, who)
    argv = [a.format(tmp=tmp_path) for a in args]
    if "--db" not in argv:
        argv += ["--db", str(live)]
    result = cli(*argv)
    assert result.exit_code == code, result.stderr
    assert result.stderr.startswith("Error: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert snapshot(f"sqlite:///{live}") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing


def test_a_backup_whose_log_does_not_verify_exits_7_but_is_kept(cli, live, tmp_path):
    unprotected(f"sqlite:///{live}", "UPDATE events SET rationale = 'rewritten' WHERE seq = 1")
    dest = tmp_path / "copy.db"
    result = cli("backup", str(dest), "--db", str(live))
    assert result.exit_code == 7
    assert "FAIL [" in result.stdout
    assert "does not verify" in result.stdout
    assert dest.exists() and Path(f"{dest}.checkpoint.json").exists()
