"""A backup taken while another process keeps recording is one consistent snapshot.

The writer is a real second process (`python -m tests.reliability.worker crash`),
committing events as fast as it can and reporting each commit on its stdout. Backups
are taken between reports, so commits land before, during and after each copy; every
backup must verify, and its log must be exactly the live log's first N events.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from casereview.services import audit, backup
from casereview.services.context import ServiceContext
from tests.reliability import support

pytestmark = pytest.mark.subprocesses


def _wait_for_commits(writer: subprocess.Popen, n: int) -> None:
    """Read the writer's reports until `n` more commits have been made."""
    assert writer.stdout is not None
    seen = 0
    while seen < n:
        line = writer.stdout.readline()
        assert line, "the writer stopped"
        if line.startswith(("open ", "advance ")):
            seen += 1


def test_backups_taken_while_another_process_writes_verify(tmp_path: Path, clock):
    live = tmp_path / "live.db"
    url = support.sqlite_url(live)
    support.init_database(url, clock)
    writer = subprocess.Popen(
        [support.PYTHON, "-m", "tests.reliability.worker", "crash", url, "7"],
        stdout=subprocess.PIPE,
        text=True,
        env=support.python_env(),
        cwd=Path(__file__).resolve().parents[2],
    )
    copies = []
    try:
        _wait_for_commits(writer, 5)
        for n in range(3):
            dest = tmp_path / f"copy-{n}.db"
            ctx = ServiceContext(url=url, account=support.ADMIN, clock=clock)
            try:
                result = backup.take_backup(ctx, dest, jobs=1)
            finally:
                ctx.close()
            assert result.report.ok, [str(f) for f in result.report.findings]
            copies.append((dest, result.report.events))
            _wait_for_commits(writer, 5)  # the writer went on writing after the copy
    finally:
        writer.kill()
        writer.wait()
    ctx = ServiceContext(url=url, account=support.ADMIN, clock=clock)
    try:
        assert audit.verify(ctx).ok
    finally:
        ctx.close()
    final = support.events_by_seq(live)
    counts = [events for _, events in copies]
    assert counts == sorted(counts) and len(set(counts)) == 3  # each copy later than the last
    for dest, events in copies:
        copied = support.events_by_seq(dest)
        assert sorted(copied) == list(range(1, events + 1))
        assert copied == {seq: final[seq] for seq in copied}
        assert events < len(final)
