"""Worker processes for the long passes over the log (`audit verify`, `log export`).

Owns how many workers a pass gets by default, how they are started (always `spawn`,
never `fork`: a forked child would share the parent's open database handles) and how
they are stopped. Each worker gets one one-way pipe back to the coordinator; the
coordinator closes its copy of the sending end, so end-of-file on the pipe means the
worker has ended, whatever the way.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess
    from pathlib import Path

    from sqlalchemy import Connection

    from casereview.domain.calendar.workdays import WorkingDayCalendar
    from casereview.services.context import ServiceContext

PARALLEL_FROM_EVENTS = 200_000
"""Logs shorter than this are read in one process unless `jobs` says otherwise:
starting a worker costs a fresh interpreter and its imports (a few hundred
milliseconds), which pays off only for long passes."""

MAX_AUTO_JOBS = 4
"""The most workers chosen automatically (one per CPU up to this)."""


WORKER_LOCK_TIMEOUT = "60s"
"""PostgreSQL: how long a worker waits for a lock before giving up (see `bound_waits`)."""


def auto_jobs(events: int, cpus: int | None) -> int:
    """How many processes share a pass over a log of `events` events on `cpus` CPUs."""
    if events < PARALLEL_FROM_EVENTS:
        return 1
    return max(1, min(cpus or 1, MAX_AUTO_JOBS))


def workers_for(events: int, jobs: int | None) -> int:
    """How many workers a pass over a log of `events` events starts: `jobs` as asked,
    or (None) `auto_jobs` on this machine; 0 if that is fewer than two, or the log is
    empty: the coordinator then does the pass alone."""
    if events == 0:
        return 0
    wanted = auto_jobs(events, os.cpu_count()) if jobs is None else jobs
    return wanted if wanted >= 2 else 0


def start_processes(
    target: Callable[[Any, Pipe], None], jobs: Sequence[Any]
) -> tuple[list[BaseProcess], list[Pipe]]:
    """One daemon process per job, running `target(job, pipe)`; the receiving ends.

    If any fails to start, those already started are stopped before raising."""
    spawn = multiprocessing.get_context("spawn")
    processes: list[BaseProcess] = []
    pipes: list[Pipe] = []
    try:
        for job in jobs:
            receive, send = spawn.Pipe(duplex=False)
            process = spawn.Process(target=target, args=(job, send), daemon=True)
            try:
                process.start()
            except BaseException:
                receive.close()
                send.close()
                raise
            send.close()  # the worker holds the only sending end: EOF means it ended
            processes.append(process)
            pipes.append(receive)
    except BaseException:
        stop_processes(processes, pipes)
        raise
    return processes, pipes


def stop_processes(processes: Sequence[BaseProcess], pipes: Sequence[Pipe]) -> None:
    """End every worker still running and close the pipes (safe to call again)."""
    for process in processes:
        if process.is_alive():
            process.terminate()
        process.join()
    for pipe in pipes:
        pipe.close()


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker rebuilds its service context from (picklable): the database, the
    account, the workflow registry's sources and the working-day calendar (None: the
    worker's own default, which is the coordinator's unless overrides were given)."""

    url: str
    account: str
    directories: list[Path]
    include_shipped: bool
    calendar: WorkingDayCalendar | None

    @classmethod
    def of(cls, ctx: ServiceContext) -> WorkerSetup:
        from casereview.infra.bank_holidays import is_default_calendar

        directories, include_shipped = ctx.registry.sources()
        calendar = None if is_default_calendar(ctx.calendar) else ctx.calendar
        return cls(ctx.url, ctx.account, directories, include_shipped, calendar)

    def context(self) -> ServiceContext:
        from casereview.infra.workflows.registry import Registry
        from casereview.services.context import ServiceContext

        return ServiceContext(
            url=self.url,
            account=self.account,
            _registry=Registry(self.directories, include_shipped=self.include_shipped),
            _calendar=self.calendar,
        )


def bound_waits(conn: Connection) -> None:
    """On PostgreSQL, let a worker's read transaction wait at most `WORKER_LOCK_TIMEOUT`
    for a lock. A worker queued behind someone's exclusive lock on the events table
    (a schema change, `VACUUM FULL`) would otherwise wait as long as that holder, while
    the coordinator, holding its own read lock, waits on the worker's pipe, a wait the
    server cannot see: with the timeout the worker fails and the pass reports it."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy import text

        conn.execute(text(f"SET LOCAL lock_timeout = '{WORKER_LOCK_TIMEOUT}'"))
