"""`log export`'s event lines laid out by worker processes, for large logs.

An event's line in a CSV or JSON decision log depends only on that event and the
events of its own case before it (the clock columns are the case's clocks). So the
cases are dealt out to workers by id (`case_id % workers`), each worker replays its
cases' events in seq order and lays out their lines, and the coordinating process
merges the workers' streams by seq and writes them: the same bytes, in the same
order, as one process would write (tests hold the two to agreement).

Why dealt out by remainder rather than cut into runs of ids as `audit verify` does:
the export is written in seq order, and a run of cases opened together occupies a
run of seqs, so one worker would have everything the file needs first while the others
waited, blocked on a full pipe. Dealt out, every worker has about its share of every
stretch of the log.

What keeps the file the same as one process's:

* **The same rows.** Every worker reads case events up to the head the coordinator
  pinned. The log is append-only, so those rows are the same whenever each worker
  starts reading.
* **Nothing partial.** A worker that raises, crashes or is killed ends the export
  with an error; `log export -o FILE` writes to a temporary file that is moved into
  place only when the export succeeds.

The Markdown export groups events by case and holds them all until the end, and an
export of one case is short: both stay in one process.
"""

from __future__ import annotations

import datetime as dt
import heapq
import os
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import TYPE_CHECKING

from casereview.errors import CaseReviewError
from casereview.services.processes import (
    auto_jobs,
    bound_waits,
    start_processes,
    stop_processes,
    worker_context,
)

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from casereview.services.context import ServiceContext
    from casereview.workdays import WorkingDayCalendar


@dataclass(frozen=True)
class ExportJob:
    """Everything a worker needs, picklable."""

    url: str
    account: str
    directories: list[Path]
    include_shipped: bool
    calendar: WorkingDayCalendar | None  # None: the worker's default calendar
    share: tuple[int, int]  # (k, n): the cases whose id % n == k
    head_seq: int
    format: str
    include_personal: bool
    date_from: dt.date | None
    date_to: dt.date | None


class ExportWorkerFailed(CaseReviewError):
    """A worker process ended without finishing its share of the export."""


def workers_wanted(events: int, *, lines: bool, one_case: bool, jobs: int | None) -> int:
    """How many workers lay out an export of a log of `events` events (0: the
    coordinator does it alone); `lines`: the format's events are independent lines."""
    if not lines or one_case or events == 0:
        return 0
    wanted = auto_jobs(events, os.cpu_count()) if jobs is None else jobs
    return wanted if wanted >= 2 else 0


def start(
    ctx: ServiceContext,
    workers: int,
    head_seq: int,
    *,
    fmt: str,
    include_personal: bool,
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> LineStreams:
    """Start `workers` processes, each laying out its share of the export's events."""
    from casereview import workdays

    directories, include_shipped = ctx.registry.sources()
    calendar = None if workdays.is_default_calendar(ctx.calendar) else ctx.calendar
    jobs = [
        ExportJob(
            ctx.url,
            ctx.account,
            directories,
            include_shipped,
            calendar,
            (k, workers),
            head_seq,
            fmt,
            include_personal,
            date_from,
            date_to,
        )
        for k in range(workers)
    ]
    return LineStreams(*start_processes(work, jobs))


class LineStreams:
    """The workers of one export, and their lines merged back into seq order."""

    def __init__(self, processes: list[BaseProcess], pipes: list[Pipe]) -> None:
        self.processes = processes
        self.pipes = pipes

    def lines(self, progress: Callable[[int], None] | None) -> Iterator[str]:
        """Every selected event's line in seq order; `progress` told of events read.

        Raises ExportWorkerFailed if a worker ends without finishing. The workers are
        stopped however the iteration ends."""
        try:
            streams = [self._stream(pipe, progress) for pipe in self.pipes]
            for _, text in heapq.merge(*streams):
                yield text
        finally:
            self.stop()

    def stop(self) -> None:
        stop_processes(self.processes, self.pipes)

    @staticmethod
    def _stream(pipe: Pipe, progress: Callable[[int], None] | None) -> Iterator[tuple[int, str]]:
        while True:
            try:
                message = pipe.recv()
            except (EOFError, OSError):
                raise ExportWorkerFailed(_FAILED.format("it ended early")) from None
            if message[0] == "lines":
                _, read, seqs, texts = message
                if progress is not None:
                    progress(read)
                yield from zip(seqs, texts, strict=True)
            elif message[0] == "done":
                return
            else:
                _, kind, said = message
                raise ExportWorkerFailed(_FAILED.format(said or f"{kind} in the worker"))


_FAILED = (
    "a worker process of the export stopped ({}); nothing was exported. "
    "Run the export again, or with --jobs 1 to use one process"
)


def work(job: ExportJob, out: Pipe) -> None:
    """A worker: lay out the lines of the events of its share of the cases.

    Sends `("lines", events read, seqs, lines)` per batch read, then `("done",)`, or
    `("failed", exception type, message)`: the message only of casereview's own errors,
    which are written never to hold case data (`errors`); of anything else, none.
    """
    try:
        _lay_out(job, out)
        out.send(("done",))
    except BaseException as exc:
        # The coordinator may be gone (its end closed): then there is nobody to tell.
        with suppress(OSError):
            said = str(exc) if isinstance(exc, CaseReviewError) else None
            out.send(("failed", type(exc).__name__, said))
    finally:
        out.close()


def _lay_out(job: ExportJob, out: Pipe) -> None:
    from casereview.exports.decision_log import DecisionLogBuilder
    from casereview.services.exports import LINE_LAYOUTS, batches

    ctx = worker_context(job.url, job.account, job.directories, job.include_shipped, job.calendar)
    try:
        registry = ctx.registry
        builder = DecisionLogBuilder(
            # The builder keeps each workflow it is given, so each is looked up once.
            lambda ref: registry.get_exact(ref.id, ref.version, ref.content_hash),
            ctx.calendar,
            include_personal=job.include_personal,
            date_from=job.date_from,
            date_to=job.date_to,
        )
        feed, lay_out = builder.feed, LINE_LAYOUTS[job.format]
        with ctx.db().reading() as conn:
            bound_waits(conn)
            for batch in batches(conn, job.head_seq, None, share=job.share):
                seqs: list[int] = []
                texts: list[str] = []
                for event in batch:
                    record = feed(event)
                    if record is not None:
                        seqs.append(record.seq)
                        texts.append(lay_out(record))
                out.send(("lines", len(batch), seqs, texts))
    finally:
        ctx.close()
