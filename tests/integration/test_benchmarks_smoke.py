"""Smoke test of the benchmarks: a tiny generated database, every benchmarked command once.

No timing is asserted (benchmarks are measured, never enforced in tests): only that the
generator writes a database that verifies and that each command the runner times exits
0 on it. Commands that do not exist yet are skipped, as the runner skips them.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from benchmarks import generate, run

from casereview.infra.identity import os_account
from casereview.services import actions, audit
from casereview.services.context import ServiceContext
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="the benchmarks generate SQLite files")


def test_generator_and_every_benchmarked_command(tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "smoke.db"
    generated = generate.build(db, 30, seed=7)
    monkeypatch.setenv("CASEREVIEW_KEY_DIR", str(generate.key_dir(db)))  # as the runner does
    assert generated.cases == 30
    assert 30 * 10 <= generated.events <= 30 * 45
    # Open LCSPR-stage cases get an action plan of about 10 actions, through plan events.
    assert generated.plan_cases > 0
    assert generated.plan_events >= generated.plan_cases * (6 + 2)
    # About a third on England version 2 (whether a number is, is drawn from the seed alone).
    assert 0 < generated.v2_cases < 30

    # The generator registers the account that runs it; read commands need a user.
    ctx = ServiceContext(url=f"sqlite:///{db}", account=os_account())
    report = audit.verify(ctx)
    owed = actions.actions_due(ctx, limit=10_000)
    ctx.close()
    # Due dates around today: some open actions overdue, some not yet due.
    assert {a.overdue for a in owed} == {True, False}
    assert report.ok, [str(f) for f in report.findings]
    assert report.cases == 30

    python = Path(sys.executable)
    casereview = python.parent / "casereview"
    if not casereview.exists():
        pytest.skip("no casereview console script beside the interpreter")
    refs = run.pick_refs(db, runs=1)
    advance_db = tmp_path / "advance.db"
    shutil.copyfile(db, advance_db)
    commands = run.command_list(db, advance_db, refs, python, casereview, runs=1)
    names = {c.name for c in commands}
    assert {"casereview --help", "casereview due", "casereview audit verify"} <= names
    ran = []
    for command in commands:
        if not run.subcommand_exists(casereview, command.needs):
            continue
        argv = (command.varying or [command.argv])[0]
        _seconds, code, peak_mib, stderr = run.run_once(argv)
        assert code == 0, f"{command.name}: exit {code}: {stderr}"
        assert peak_mib > 0
        ran.append(command.name)
    assert {"casereview audit verify", "casereview audit verify --full"} <= set(ran)
    assert "casereview case advance" in ran  # recorded with the generator's key
    assert {"python sqlite3: due queries", "casereview due --all --csv"} <= set(ran)
    assert "casereview action due" in ran


@pytest.mark.parametrize("failed", [False, True])
def test_a_failing_benchmarked_command_fails_the_run(tmp_path: Path, monkeypatch, failed) -> None:
    """CI's `make bench-smoke` relies on the exit code: a command that exits non-zero
    must fail the run, not just drop out of the table."""
    measured = run.Measured("casereview due", ["casereview", "due"], failed=failed)
    results = {"scales": [{"scale": "1k", "commands": [run.asdict(measured)]}]}
    monkeypatch.setattr(run, "run", lambda *args: results)
    monkeypatch.setattr(run, "OUT", tmp_path)
    assert run.main(["--quick"]) == (1 if failed else 0)
    assert len(list(tmp_path.glob("quick-*.json"))) == 1
