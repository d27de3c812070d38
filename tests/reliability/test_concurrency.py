"""Concurrency: eight writer processes at once, and two processes racing on one case.

The writers are separate processes (multiprocessing, spawn) going through the service
layer, each with its own connections, exactly as eight people at eight terminals would.
Each reports every seq it committed; afterwards every reported seq must be in the log
exactly once, the log must run 1…N without gaps, and `audit verify` (chain + replay of
every projection) must pass.

The race puts two processes at a barrier before every round; both then fire a trigger
naming the state they both saw (`expect_state`). Exactly one may win; the other must get
Conflict and write nothing. Part of the race runs through the real CLI
(`python -m casereview case advance … --expect-state …`) as the machine's own account.
"""

from __future__ import annotations

import multiprocessing
import random
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from casereview.infra.identity import os_account
from casereview.services import audit, cases
from casereview.services.context import ServiceContext
from tests.reliability import support, worker

pytestmark = pytest.mark.subprocesses
SPAWN = multiprocessing.get_context("spawn")


def verify_ok(url: str, clock) -> audit.VerifyReport:
    ctx = ServiceContext(url=url, account="scrut", clock=clock)
    try:
        return audit.verify(ctx)
    finally:
        ctx.close()


def test_eight_writers_lose_and_duplicate_nothing(tmp_path, clock, prof):
    path = tmp_path / "stress.db"
    url = support.sqlite_url(path)
    support.init_database(url, clock)
    setup_seqs = set(support.consistency(path).seqs)
    base_seed = random.randrange(1 << 30)

    started = time.monotonic()
    with SPAWN.Pool(prof.stress_workers) as pool:
        results = pool.starmap(
            worker.stress,
            [(url, i, prof.stress_seconds, base_seed + i) for i in range(prof.stress_workers)],
        )
    elapsed = time.monotonic() - started

    errors = [e for r in results for e in r["errors"]]
    assert not errors, errors
    committed = [c for r in results for c in r["committed"]]
    opened = [ref for r in results for ref in r["opened"]]
    seqs = [c[0] for c in committed]
    duplicated = len(seqs) - len(set(seqs))
    assert duplicated == 0

    state = support.consistency(path)
    stored = support.events_by_seq(path)
    lost = [c for c in committed if stored.get(c[0]) != (c[1], c[2], c[3])]
    assert not lost, lost[:5]
    open_seqs = [s for s, (ref, trigger, _a) in stored.items() if trigger == "open"]
    open_refs = Counter(stored[s][0] for s in open_seqs)
    assert sorted(open_refs) == sorted(opened)
    assert set(open_refs.values()) <= {1}
    # Every event in the log is accounted for by exactly one report, and nothing else.
    accounted = setup_seqs | set(seqs) | set(open_seqs)
    assert len(setup_seqs) + len(seqs) + len(open_seqs) == len(accounted)
    assert accounted == set(range(1, state.events + 1))
    assert state.seqs == list(range(1, state.events + 1))
    assert state.gaps == 0
    assert state.head_seq == state.events
    assert not state.version_mismatches and not state.last_seq_mismatches
    assert support.integrity(path) == ["ok"]
    report = verify_ok(url, clock)
    assert report.ok, [str(f) for f in report.findings][:10]

    totals = Counter()
    for r in results:
        totals.update(r["counts"])
    attempts = sum(r["attempts"] for r in results)
    support.record_figures(
        "concurrency",
        "stress",
        {
            "writer processes": prof.stress_workers,
            "seconds writing": prof.stress_seconds,
            "attempts": attempts,
            "events committed": len(seqs) + len(open_seqs),
            "cases": report.cases,
            "commits per second": round((len(seqs) + len(open_seqs)) / elapsed, 1),
            "refused by expect_state (conflict)": totals["conflict"],
            "refused by the rules": totals["refused"],
            "errors (busy, other)": totals["errors"],
            "lost events": len(lost),
            "duplicated events": duplicated,
            "gaps in seq": state.gaps,
            "audit verify": "ok" if report.ok else "FAILED",
        },
        seed=base_seed,
        wall_seconds=round(elapsed, 1),
        per_worker=[
            {"index": r["index"], "attempts": r["attempts"], "committed": len(r["committed"])}
            for r in results
        ],
    )


def race_plan(rounds: int) -> list[tuple[str, str, dict[str, str], str]]:
    """Alternate rapid_review -> rapid_review_signoff -> rapid_review: each round starts
    from the state the previous round's winner left."""
    plan = []
    for k in range(rounds):
        if k % 2 == 0:
            plan.append(("propose_decision", "rapid_review", {"recommendation": "lcspr"}, "race"))
        else:
            plan.append(("revise", "rapid_review_signoff", {}, "race again"))
    return plan


def case_in_rapid_review(url: str, clock, ref: str = "RACE-1") -> str:
    ctx = ServiceContext(url=url, account="bu", clock=clock)
    try:
        cases.open_case(ctx, ref, aware_on=support.TODAY)
        cases.advance(ctx, ref, "notify", fields={"sin_reference": "SIN-RACE"})
    finally:
        ctx.close()
    return ref


def test_same_case_race_through_services(tmp_path, clock, prof):
    path = tmp_path / "race.db"
    url = support.sqlite_url(path)
    support.init_database(url, clock)
    ref = case_in_rapid_review(url, clock)
    before = support.consistency(path).events
    plan = race_plan(prof.race_rounds)

    barrier = SPAWN.Barrier(2, timeout=120)
    queue = SPAWN.Queue()
    procs = [
        SPAWN.Process(target=worker.race_to_queue, args=(queue, name, url, ref, plan, barrier))
        for name in ("chair", "chair2")
    ]
    for p in procs:
        p.start()
    outcomes = dict(queue.get(timeout=600) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0

    winners = Counter()
    for k in range(len(plan)):
        pair = {name: outcomes[name][k] for name in outcomes}
        kinds = sorted(o[0] for o in pair.values())
        assert kinds == ["conflict", "ok"], (k, pair)
        winners.update(name for name, o in pair.items() if o[0] == "ok")
    state = support.consistency(path)
    assert state.events == before + len(plan)  # the losers wrote nothing
    won_seqs = sorted(o[1] for name in outcomes for o in outcomes[name] if o[0] == "ok")
    assert won_seqs == list(range(before + 1, before + len(plan) + 1))
    assert not state.version_mismatches
    assert verify_ok(url, clock).ok
    support.record_figures(
        "concurrency",
        "race (service layer)",
        {
            "rounds": len(plan),
            "rounds with exactly one winner": len(plan),
            "losers refused with Conflict": len(plan),
            "events written by losers": state.events - before - len(plan),
            "wins per process": dict(sorted(winners.items())),
        },
    )


def _holds_open(pid: int, path: Path) -> bool:
    target = str(path) + "-wal"
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if str(fd.readlink()) == target:
                return True
        except OSError:
            continue
    return False


def _wait_until_both_wait(procs: list[subprocess.Popen[str]], path: Path) -> bool:
    """Hold on until both CLIs have the database open (so both are at, or a moment from,
    their BEGIN IMMEDIATE behind the gate). A process that is already waiting must not
    outwait casereview's 10-second busy timeout, so the gate opens at most 5 seconds
    after the first one is ready, whatever the other is doing. True if both made it."""
    first_ready = None
    give_up = time.monotonic() + 60
    while time.monotonic() < give_up:
        ready = [_holds_open(p.pid, path) for p in procs]
        if all(ready):
            time.sleep(0.2)  # from "file open" to "waiting on the lock" is a few statements
            return True
        if any(ready):
            first_ready = first_ready or time.monotonic()
            if time.monotonic() - first_ready > 5:
                return False
        time.sleep(0.01)
    return False


def test_same_case_race_through_the_real_cli(tmp_path, clock, prof):
    """Two `python -m casereview case advance --expect-state` processes, released together.

    The gate: this process holds the write lock (`BEGIN IMMEDIATE`) while both CLIs start;
    each blocks at its own `BEGIN IMMEDIATE`. When both have the database open the gate
    opens, and they race for the lock. The CLI records the real OS account, so that
    account is made a chair in this database.
    """
    path = tmp_path / "cli-race.db"
    url = support.sqlite_url(path)
    support.init_database(url, clock, os_account_roles=["chair"])
    ref = case_in_rapid_review(url, clock)
    before = support.consistency(path).events
    plan = race_plan(prof.cli_race_rounds)
    gated = 0
    codes = Counter()
    for trigger, expect_state, fields, rationale in plan:
        args = [support.PYTHON, "-m", "casereview", "case", "advance", ref, trigger]
        args += ["--expect-state", expect_state, "--rationale", rationale, "--db", str(path)]
        for name, value in fields.items():
            args += ["--set", f"{name}={value}"]
        gate = support.connect(path)
        gate.execute("BEGIN IMMEDIATE")
        try:
            procs = [
                subprocess.Popen(
                    args,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=support.python_env(),
                )
                for _ in range(2)
            ]
            if _wait_until_both_wait(procs, path):
                gated += 1
        finally:
            gate.execute("ROLLBACK")
            gate.close()
        results = [(p, *p.communicate(timeout=120)) for p in procs]
        exit_codes = sorted(p.returncode for p, _o, _e in results)
        codes.update(exit_codes)
        assert exit_codes == [0, 6], [(p.returncode, e) for p, _o, e in results]
        for p, out, err in results:
            assert "Traceback" not in out + err
            if p.returncode == 6:
                lines = [line for line in err.splitlines() if line.strip()]
                assert len(lines) == 1 and lines[0].startswith("Error: ")
                assert "nothing was recorded" in lines[0]
    state = support.consistency(path)
    assert state.events == before + len(plan)
    stored = support.events_by_seq(path, range(before + 1, state.events + 1))
    assert {actor for _ref, _t, actor in stored.values()} == {os_account()}
    assert verify_ok(url, clock).ok
    support.record_figures(
        "concurrency",
        "race (real CLI)",
        {
            "rounds": len(plan),
            "rounds with both processes waiting at the gate": gated,
            "exit 0 (won)": codes[0],
            "exit 6 (conflict)": codes[6],
            "other exit codes": sum(v for k, v in codes.items() if k not in (0, 6)),
            "events written by losers": state.events - before - len(plan),
        },
    )
