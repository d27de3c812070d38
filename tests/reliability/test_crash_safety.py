"""Crash safety: a writer killed with SIGKILL at random moments loses nothing it committed.

A child process advances random cases through the service layer in a loop and prints
each committed seq to its stdout (a pipe to this test), flushing after commit returns.
Children are forked from a multiprocessing fork server that has casereview, the parsed
workflows and the calendar preloaded (`preload.py`), so each starts writing within
milliseconds: a kill cycle costs little more than the checks. Each child is killed with
SIGKILL at a random moment: usually while it is writing, sometimes while it is still
opening and migrating the database. After every
kill the database must open, pass `PRAGMA integrity_check` and `audit verify` (chain, and
replay of every projection: no transition half-applied), hold as many events as the chain
head says, give every case a version equal to its event count, and contain every write
the child reported as committed.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import pytest

from casereview.services import audit
from casereview.services.context import ServiceContext
from tests.reliability import support, worker

pytestmark = pytest.mark.subprocesses


FORKSERVER = multiprocessing.get_context("forkserver")
FORKSERVER.set_forkserver_preload(["tests.reliability.preload"])


class Child:
    """One writer, forked from the fork server, its stdout a pipe we read."""

    def __init__(self, url: str, seed: int) -> None:
        read, write = FORKSERVER.Pipe(duplex=False)
        key_dir = os.environ["CASEREVIEW_KEY_DIR"]
        self.process = FORKSERVER.Process(
            target=worker.crash_child, args=(url, seed, write, key_dir)
        )
        self.process.start()
        write.close()
        self.fd = read.fileno()
        self._read = read
        self.buffer = b""

    def readline(self) -> str:
        while b"\n" not in self.buffer:
            chunk = os.read(self.fd, 4096)
            if not chunk:
                break
            self.buffer += chunk
        line, sep, rest = self.buffer.partition(b"\n")
        self.buffer = rest
        return (line + sep).decode()

    def kill(self) -> str:
        """SIGKILL; then everything the child wrote before it died."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.join(timeout=60)
        os.set_blocking(self.fd, False)
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            self.buffer += chunk
        self._read.close()
        return self.buffer.decode(errors="replace")


def parse_reports(output: str) -> tuple[list[tuple[int, str, str, str]], list[str]]:
    """Complete lines only: ("advance", seq, ref, trigger, account) and ("open", ref)."""
    advances: list[tuple[int, str, str, str]] = []
    opens: list[str] = []
    for line in output.splitlines(keepends=True):
        if not line.endswith("\n"):
            continue  # cut off by the kill: never reported
        parts = line.split()
        if parts and parts[0] == "advance" and len(parts) == 5:
            advances.append((int(parts[1]), parts[2], parts[3], parts[4]))
        elif parts and parts[0] == "open" and len(parts) == 2:
            opens.append(parts[1])
    return advances, opens


def check_after_kill(path: Path, clock, advances, opens) -> dict[str, int]:
    wal = Path(str(path) + "-wal")
    hot_wal = int(wal.exists() and wal.stat().st_size > 0)
    assert support.integrity(path) == ["ok"]
    ctx = ServiceContext(url=support.sqlite_url(path), account="scrut", clock=clock)
    try:
        report = audit.verify(ctx)
    finally:
        ctx.close()
    assert report.ok, [str(f) for f in report.findings][:10]
    state = support.consistency(path)
    assert state.head_seq == state.events
    assert state.seqs == list(range(1, state.events + 1))
    assert not state.version_mismatches, state.version_mismatches[:5]
    assert not state.last_seq_mismatches, state.last_seq_mismatches[:5]
    stored = support.events_by_seq(path)
    missing = [a for a in advances if stored.get(a[0]) != a[1:]]
    assert not missing, missing[:5]
    opened_refs = {ref for ref, trigger, _actor in stored.values() if trigger == "open"}
    assert set(opens) <= opened_refs
    return {"events": state.events, "hot_wal": hot_wal}


def test_sigkill_at_random_moments_loses_nothing_committed(tmp_path, clock, prof):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    path = tmp_path / "crash-0.db"
    advances: list[tuple[int, str, str, str]] = []
    opens: list[str] = []
    figures = {
        "kills": 0,
        "killed while starting or opening": 0,
        "killed while writing": 0,
        "kills after at least one commit": 0,
        "commits reported": 0,
        "kills leaving a WAL to recover": 0,
        "databases": 0,
        "largest log (events)": 0,
    }
    for kill in range(prof.crash_kills):
        if kill % prof.crash_rotate_every == 0:
            # A fresh database now and then keeps each verify short.
            path = tmp_path / f"crash-{kill}.db"
            support.init_database(support.sqlite_url(path), clock)
            advances, opens = [], []
            figures["databases"] += 1
        child = Child(support.sqlite_url(path), seed * 1000 + kill)
        early = rng.random() < 0.15
        if early:
            time.sleep(rng.uniform(0.0, 0.05))
        else:
            first = child.readline()
            assert first == "ready\n", (first, child.process.exitcode)
            time.sleep(rng.uniform(0.0, 0.25))
        out = child.kill()
        assert child.process.exitcode == -signal.SIGKILL  # still writing when killed
        new_advances, new_opens = parse_reports(out)
        advances += new_advances
        opens += new_opens
        seen = check_after_kill(path, clock, advances, opens)
        figures["kills"] += 1
        figures["killed while starting or opening" if early else "killed while writing"] += 1
        figures["kills after at least one commit"] += int(bool(new_advances or new_opens))
        figures["commits reported"] += len(new_advances) + len(new_opens)
        figures["kills leaving a WAL to recover"] += seen["hot_wal"]
        figures["largest log (events)"] = max(figures["largest log (events)"], seen["events"])
    assert figures["kills"] == prof.crash_kills
    assert figures["commits reported"] > 0  # the child really was writing
    support.record_figures(
        "crash",
        "sigkill",
        {
            **figures,
            "integrity_check failures": 0,
            "verify failures": 0,
            "reported commits missing": 0,
            "half-applied transitions": 0,
        },
        seed=seed,
    )
