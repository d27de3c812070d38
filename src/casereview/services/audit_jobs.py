"""Verification's case pass shared between worker processes, for large logs.

The case ids are cut into runs of about equal size, each run goes to a worker process
(`infra.workers`) while the coordinating process checks the chain's links, and the
workers' findings are put back together in the order one process reports them. Workers
read the coordinator's snapshot where the database can share it (PostgreSQL); otherwise
each reports the chain head it saw, and any difference, or any worker failure, sends the
pass back to the coordinator. How and why: docs/audit.md, the section on verifying.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from casereview.domain import authority, chain
from casereview.infra.workers import (
    MAX_AUTO_JOBS,
    PARALLEL_FROM_EVENTS,
    Process,
    WorkerFailed,
    auto_jobs,
    workers_for,
)
from casereview.infra.workers import Workers as Processes
from casereview.services.audit_cases import CasePass, EventPass, rules_loader, verify_cases
from casereview.services.context import ServiceContext, WorkerSetup
from casereview.store import database, event_log, projections
from casereview.store.projections import CaseRange

if TYPE_CHECKING:
    from casereview.store.database import Connection

__all__ = ["MAX_AUTO_JOBS", "PARALLEL_FROM_EVENTS", "Job", "Workers", "auto_jobs", "start"]

RELAY_EVERY = 20_000
"""While checking links, pass on the workers' progress every this many rows."""


@dataclass(frozen=True)
class Job:
    """Everything a worker needs, picklable."""

    setup: WorkerSetup
    cases: CaseRange
    unfiled: bool
    snapshot: str | None  # the coordinator's shared snapshot, where there is one
    timeline: authority.Timeline  # who was who, replayed by the coordinator


Outcome = tuple[list[CasePass], list[chain.Finding]]
"""(each run's case pass, every sealed-event finding)."""


def start(
    ctx: ServiceContext,
    conn: Connection,
    head: tuple[int, str] | None,
    jobs: int | None,
    timeline: authority.Timeline,
) -> Workers | None:
    """Start workers for the case pass in `conn`'s snapshot, or None to do it here.

    `jobs` None chooses (`auto_jobs`); 1 means no workers. `timeline` is who was who,
    replayed from the events under no case in the same snapshot. Must run inside the
    coordinator's read transaction, before it reads anything else that must agree.
    """
    wanted = workers_for(head[0] if head is not None else 0, jobs)
    if not wanted:
        return None
    bounds = projections.case_id_bounds(conn, wanted)
    if not bounds:
        return None
    snapshot = database.share_snapshot(conn)
    setup = WorkerSetup.of(ctx)
    ranges = list(zip([None, *bounds], [*bounds, None], strict=True))
    jobs_ = [
        Job(setup, cases, unfiled=number == 0, snapshot=snapshot, timeline=timeline)
        for number, cases in enumerate(ranges)
    ]
    return launch(head, jobs_)


def launch(head: tuple[int, str] | None, jobs: list[Job]) -> Workers:
    """Start one worker process per job; `head` is the coordinator's chain head."""
    return Workers(head, Processes(work, jobs))


class Workers:
    """The running workers of one verification and what they have sent back."""

    def __init__(self, head: tuple[int, str] | None, started: Processes) -> None:
        self.head = head
        self.started = started
        self.results: dict[int, tuple[Any, ...]] = {}
        self.failed = False
        self.reported = 0  # events passed on to `progress` so far

    @property
    def processes(self) -> list[Process]:
        return self.started.processes

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
            while not self.failed and len(self.results) < len(self.started):
                self._receive(progress, timeout=None)
        finally:
            self.stop()
        if self.failed:
            return None
        ordered = [self.results[number] for number in range(len(self.started))]
        # Where the snapshot could not be shared (SQLite), a worker that saw another
        # chain head read another log (every write moves the head): its work is void.
        if any(head != self.head for head, *_ in ordered):
            return None
        passes = [done for _, done, _ in ordered]
        sealed = [finding for _, _, found in ordered for finding in found]
        return passes, sealed

    def _receive(self, progress: Callable[[int], None] | None, timeout: float | None) -> None:
        started = self.started
        waiting = [n for n in range(len(started)) if n not in self.results]
        for number in started.ready(waiting, timeout):
            try:
                while True:
                    done, value = started.receive(number)
                    if done:
                        self.results[number] = value
                        break
                    self.reported += int(value)
                    if progress is not None:
                        progress(int(value))
                    if not started.pending(number):
                        break
            except WorkerFailed:
                self.failed = True  # raised, crashed or was killed: redo the pass here
                return

    def stop(self) -> None:
        """End every worker that is still running and close the pipes (again: safe)."""
        self.started.stop()


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


def work(
    job: Job, tell: Callable[[int], None]
) -> tuple[tuple[int, str], CasePass, list[chain.Finding]]:
    """A worker: verify the cases in `job.cases`, telling how many events it has read
    as it goes; (the chain head its snapshot saw, its case pass, its sealed-event
    findings)."""
    ctx = job.setup.context()
    try:
        with ctx.db().reading() as conn:
            database.hold_snapshot(conn, job.snapshot)
            database.bound_waits(conn)
            # Workers start only for a log with a head, so the coordinator's is a tuple.
            head = event_log.chain_head(conn)
            checker = authority.Checker(job.timeline, rules_loader(ctx))
            events = EventPass(tell, checker)
            done = verify_cases(ctx, conn, events, job.cases, unfiled=job.unfiled)
            return head, done, events.sealed
    finally:
        ctx.close()
