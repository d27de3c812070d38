"""`audit verify`'s case pass shared between worker processes, for large logs.

Verification reads every event twice: once for the chain's links (three short columns,
in `seq` order) and once whole, in case order, to check each event against its payload
and hash and to replay each case against its stored rows. The second pass is nearly
all of the time, and its work is independent from one case to the next. Here the case
ids are cut into runs of about equal size, each run goes to a worker process, the
coordinating process checks the links meanwhile, and the workers' findings are put back
together in exactly the order one process would have reported them.

What keeps the answer the same as one process's:

* **One snapshot.** Every worker must read the log the coordinator reads. On
  PostgreSQL the workers import the coordinator's snapshot (`pg_export_snapshot()`,
  `SET TRANSACTION SNAPSHOT`), so they see exactly its rows. SQLite has no such call:
  each worker reports the chain head its own read transaction saw, and if any differs
  from the coordinator's (a write committed in between; every write moves the head),
  the workers' results are discarded and the coordinator does the pass itself.
* **Nothing partial.** A worker that raises, crashes or is killed also sends the
  coordinator back to doing the pass itself, so a report is never missing a run.
* **Clean processes.** Workers are started with `spawn`, never `fork`: a forked child
  would share the coordinator's open database handles. Each rebuilds its context from
  a `processes.WorkerSetup`.

Small logs stay in one process (`services.processes` owns when to start workers, and
how).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from multiprocessing.connection import wait
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from casereview.infra.workers import (
    MAX_AUTO_JOBS,
    PARALLEL_FROM_EVENTS,
    WorkerSetup,
    auto_jobs,
    bound_waits,
    start_processes,
    stop_processes,
    workers_for,
)
from casereview.store import repository

__all__ = ["MAX_AUTO_JOBS", "PARALLEL_FROM_EVENTS", "Job", "Workers", "auto_jobs", "start"]

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from casereview.domain import chain
    from casereview.services.audit import CasePass
    from casereview.services.context import ServiceContext

RELAY_EVERY = 20_000
"""While checking links, pass on the workers' progress every this many rows."""


@dataclass(frozen=True)
class Job:
    """Everything a worker needs, picklable."""

    setup: WorkerSetup
    cases: repository.CaseRange
    unfiled: bool
    snapshot: str | None  # PostgreSQL: the coordinator's exported snapshot


Outcome = tuple[list["CasePass"], list["chain.Finding"], list[dict[str, Any]]]
"""(each run's case pass, every sealed-event finding, the user events)."""


def start(
    ctx: ServiceContext,
    conn: Connection,
    head: tuple[int, str] | None,
    jobs: int | None,
) -> Workers | None:
    """Start workers for the case pass in `conn`'s snapshot, or None to do it here.

    `jobs` None chooses (`auto_jobs`); 1 means no workers. Must run inside the
    coordinator's read transaction, before it reads anything else that must agree.
    """
    wanted = workers_for(head[0] if head is not None else 0, jobs)
    if not wanted:
        return None
    bounds = repository.case_id_bounds(conn, wanted)
    if not bounds:
        return None
    snapshot = None
    if conn.dialect.name == "postgresql":
        snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
    setup = WorkerSetup.of(ctx)
    ranges = list(zip([None, *bounds], [*bounds, None], strict=True))
    jobs_ = [
        Job(setup, cases, unfiled=number == 0, snapshot=snapshot)
        for number, cases in enumerate(ranges)
    ]
    return launch(head, jobs_)


def launch(head: tuple[int, str] | None, jobs: list[Job]) -> Workers:
    """Start one worker process per job; `head` is the coordinator's chain head."""
    workers = Workers(head)
    workers.processes, workers.pipes = start_processes(work, jobs)
    return workers


class Workers:
    """The running workers of one verification and what they have sent back."""

    def __init__(self, head: tuple[int, str] | None) -> None:
        self.head = head
        self.processes: list[BaseProcess] = []
        self.pipes: list[Pipe] = []
        self.results: dict[int, tuple[Any, ...]] = {}
        self.failed = False
        self.reported = 0  # events passed on to `progress` so far

    def relaying(
        self, rows: Iterable[Any], progress: Callable[[int], None] | None
    ) -> Iterator[Any]:
        """`rows` unchanged, passing on the workers' progress every `RELAY_EVERY` rows
        (the coordinator is busy with the links meanwhile)."""
        for number, row in enumerate(rows, start=1):
            if number % RELAY_EVERY == 0:
                self._receive(progress, timeout=0)
            yield row

    def finish(self, progress: Callable[[int], None] | None) -> Outcome | None:
        """Wait for every worker; their results, or None if the coordinator must do
        the pass itself (a worker failed, or saw a different log)."""
        try:
            while not self.failed and len(self.results) < len(self.pipes):
                self._receive(progress, timeout=None)
        finally:
            self.stop()
        if self.failed:
            return None
        ordered = [self.results[number] for number in range(len(self.pipes))]
        if any(head != self.head for head, *_ in ordered):
            return None
        passes = [done for _, done, _, _ in ordered]
        sealed = [finding for _, _, found, _ in ordered for finding in found]
        users = [event for _, _, _, user_events in ordered for event in user_events]
        return passes, sealed, users

    def _receive(self, progress: Callable[[int], None] | None, timeout: float | None) -> None:
        waiting = [p for n, p in enumerate(self.pipes) if n not in self.results]
        for pipe in wait(waiting, timeout):
            assert isinstance(pipe, Pipe)
            number = self.pipes.index(pipe)
            try:
                while True:
                    message = pipe.recv()
                    if message[0] == "progress":
                        self.reported += int(message[1])
                        if progress is not None:
                            progress(int(message[1]))
                    elif message[0] == "done":
                        self.results[number] = tuple(message[1:])
                        break
                    else:
                        self.failed = True
                        break
                    if not pipe.poll():
                        break
            except (EOFError, OSError):
                self.failed = True  # ended without a result: killed or crashed
            if self.failed:
                return

    def stop(self) -> None:
        """End every worker that is still running and close the pipes (again: safe)."""
        stop_processes(self.processes, self.pipes)


def after(progress: Callable[[int], None] | None, skip: int) -> Callable[[int], None] | None:
    """`progress`, told nothing until `skip` events have gone by: for a pass redone in
    the coordinator after workers had already reported some of the same events."""
    if progress is None or skip <= 0:
        return progress
    left = skip

    def told(events: int) -> None:
        nonlocal left
        shown = max(0, events - left)
        left = max(0, left - events)
        if shown:
            progress(shown)

    return told


def work(job: Job, out: Pipe) -> None:
    """A worker: verify the cases in `job.cases` and send back what it found.

    Sends `("progress", events)` as it goes, then `("done", head, CasePass, sealed
    findings, user events)`, or `("failed", exception type)`: never case data in a
    failure, which the coordinator does not show anyway (it redoes the pass itself).
    """
    try:
        out.send(("done", *_verify_run(job, lambda n: out.send(("progress", n)))))
    except BaseException as exc:
        # The coordinator may be gone (its end closed): then there is nobody to tell.
        with suppress(OSError):
            out.send(("failed", type(exc).__name__))
    finally:
        out.close()


def _verify_run(
    job: Job, progress: Callable[[int], None]
) -> tuple[tuple[int, str] | None, CasePass, list[chain.Finding], list[dict[str, Any]]]:
    from casereview.services.audit import EventPass, verify_cases

    ctx = job.setup.context()
    try:
        with ctx.db().reading() as conn:
            if job.snapshot is not None:
                conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
                conn.execute(text(f"SET TRANSACTION SNAPSHOT '{_snapshot_id(job.snapshot)}'"))
            else:
                repository.hold_snapshot(conn)
            bound_waits(conn)
            # Workers start only for a log with a head, so the coordinator's is a tuple.
            head = repository.chain_head(conn)
            events = EventPass(progress)
            done = verify_cases(ctx, conn, events, job.cases, unfiled=job.unfiled)
            return head, done, events.sealed, events.user_events
    finally:
        ctx.close()


def _snapshot_id(snapshot: str) -> str:
    """A snapshot id as PostgreSQL prints them (hex digits and dashes), checked before
    it is written into a statement (`SET TRANSACTION SNAPSHOT` takes no parameter)."""
    if not snapshot or any(c not in "0123456789ABCDEFabcdef-" for c in snapshot):
        raise ValueError("not a snapshot id")
    return snapshot
