"""The concurrency guarantees again, on a shared PostgreSQL server.

Eight writer processes, each with its own connections, advance random cases through
the service layer; then two processes race on one case behind a barrier. On PostgreSQL
writers serialise on `SELECT … FOR UPDATE` of the chain head rather than on SQLite's
file lock, so this is the test that the shared-installation path keeps the same
promises: nothing lost or duplicated, `seq` gap-free, one winner per race.
Runs only when CASEREVIEW_TEST_DATABASE_URL names a server (scripts/with_postgres.py).
"""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter

import pytest

from tests.conftest import BACKEND, ensure_pg_login, run_sql
from tests.reliability import support, worker
from tests.reliability.test_concurrency import case_in_rapid_review, race_plan, verify_ok

pytestmark = [
    pytest.mark.subprocesses,
    pytest.mark.skipif(BACKEND != "postgresql", reason="needs a PostgreSQL server"),
]
SPAWN = multiprocessing.get_context("spawn")


def log_seqs(url: str) -> list[int]:
    return [r[0] for r in run_sql(url, "SELECT seq FROM events ORDER BY seq")]


def test_eight_writers_on_postgres_lose_and_duplicate_nothing(database_url, clock, prof):
    support.init_database(database_url, clock)
    for name in (*worker.ACCOUNTS, *support.PEOPLE):  # each records through its own login
        ensure_pg_login(name)
    before = set(log_seqs(database_url))
    seed = random.randrange(1 << 30)
    seconds = min(prof.stress_seconds, 10.0)
    with SPAWN.Pool(prof.stress_workers) as pool:
        results = pool.starmap(
            worker.stress,
            [(database_url, i, seconds, seed + i) for i in range(prof.stress_workers)],
        )
    assert not [e for r in results for e in r["errors"]]
    committed = [c[0] for r in results for c in r["committed"]]
    assert committed, "the writers committed nothing"
    assert len(committed) == len(set(committed))
    seqs = log_seqs(database_url)
    assert seqs == list(range(1, len(seqs) + 1))  # gap-free
    assert set(committed) <= set(seqs) and not (set(committed) & before)
    head = run_sql(database_url, "SELECT seq FROM chain_head WHERE id = 1")[0][0]
    assert head == len(seqs)
    report = verify_ok(database_url, clock)
    assert report.ok, [str(f) for f in report.findings][:10]
    support.record_figures(
        "concurrency",
        "stress (PostgreSQL)",
        {
            "writer processes": prof.stress_workers,
            "seconds writing": seconds,
            "events in the log": len(seqs),
            "transitions committed by writers": len(committed),
            "lost or duplicated events": 0,
            "gaps in seq": 0,
            "audit verify": "ok",
        },
        seed=seed,
    )


def test_same_case_race_on_postgres(database_url, clock, prof):
    support.init_database(database_url, clock)
    for name in (*worker.ACCOUNTS, *support.PEOPLE):  # each records through its own login
        ensure_pg_login(name)
    ref = case_in_rapid_review(database_url, clock)
    before = len(log_seqs(database_url))
    plan = race_plan(min(prof.race_rounds, 50))
    barrier = SPAWN.Barrier(2, timeout=120)
    queue = SPAWN.Queue()
    procs = [
        SPAWN.Process(
            target=worker.race_to_queue, args=(queue, name, database_url, ref, plan, barrier)
        )
        for name in ("chair", "chair2")
    ]
    for p in procs:
        p.start()
    outcomes = dict(queue.get(timeout=600) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    winners: Counter[str] = Counter()
    for k in range(len(plan)):
        kinds = sorted(outcomes[name][k][0] for name in outcomes)
        assert kinds == ["conflict", "ok"], (k, {n: outcomes[n][k] for n in outcomes})
        winners.update(n for n in outcomes if outcomes[n][k][0] == "ok")
    assert len(log_seqs(database_url)) == before + len(plan)  # losers wrote nothing
    assert verify_ok(database_url, clock).ok
