"""`log export`'s event lines laid out by worker processes, for large logs.

A CSV or JSON event line depends only on its own case's earlier events, so the cases are
dealt out to workers by id (`case_id % workers`), each worker replays its cases and lays
out their lines, and the coordinating process merges the lines by `seq` and writes them:
the same bytes as one process would write. A worker that stops ends the export with an
error. Markdown and one-case exports stay in one process. How and why: docs/exports.md
("Several processes on a large log").
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from casereview.errors import CaseReviewError, Input, Step
from casereview.formats.decision_log.records import EVENT_COLUMNS, DecisionLogBuilder
from casereview.infra.workers import Process, WorkerFailed, Workers, workers_for
from casereview.services.context import ServiceContext, WorkerSetup
from casereview.services.export_request import LogExportRequest
from casereview.store import database, decision_log_source

if TYPE_CHECKING:
    from casereview.formats.decision_log.document import LineWriter
    from casereview.formats.decision_log.records import DecisionRecord

LineLayout = Callable[["DecisionRecord"], str]
"""How a line format lays out one record (a top-level function: it goes to workers)."""


@dataclass(frozen=True)
class ExportJob:
    """Everything a worker needs, picklable."""

    setup: WorkerSetup
    share: tuple[int, int]  # (k, n): the cases whose id % n == k
    head_seq: int
    request: LogExportRequest  # what to export (never one case: see `workers_wanted`)
    lay_out: LineLayout  # the format's layout of one event's line


class ExportWorkerFailed(CaseReviewError):
    """A worker process ended without finishing its share of the export."""


def workers_wanted(events: int, *, lines: bool, one_case: bool, jobs: int | None) -> int:
    """How many workers lay out an export of a log of `events` events (0: the
    coordinator does it alone); `lines`: the format's events are independent lines."""
    return workers_for(events, jobs) if lines and not one_case else 0


def start(
    ctx: ServiceContext,
    workers: int,
    head_seq: int,
    request: LogExportRequest,
) -> LineStreams:
    """Start `workers` processes, each laying out its share of the export's events."""
    from casereview.formats.registry import event_text

    lay_out = event_text(request.format)
    setup = WorkerSetup.of(ctx)
    # Dealt out by remainder, not cut into runs of ids as `audit verify`'s cases are: the
    # file is written in seq order, and a run of cases opened together fills a run of
    # seqs, so one worker would hold everything the file needs next while the others
    # waited on full pipes. Dealt out, each has about its share of every stretch.
    jobs = [ExportJob(setup, (k, workers), head_seq, request, lay_out) for k in range(workers)]
    return LineStreams(Workers(lay_out_share, jobs))


class LineStreams:
    """The workers of one export, and their lines merged back into seq order."""

    def __init__(self, started: Workers) -> None:
        self.started = started

    @property
    def processes(self) -> list[Process]:
        return self.started.processes

    def write(
        self, writer: LineWriter, expected: int, progress: Callable[[int], None] | None
    ) -> None:
        """Write every selected event's line to `writer`, in seq order, and check that
        there were `expected` of them (the export's own count of the events selected).

        Each worker reads the cases whose id falls to it; an event whose case id was
        damaged (none is NULL in a sound log) would fall to none and go missing, so a
        short count ends the export with an error rather than a file short of it."""
        written = 0
        write_text = writer.write_text
        for text in self.lines(progress):
            write_text(text)
            written += 1
        if written != expected:
            raise ExportWorkerFailed(
                "the export stopped: its worker processes laid out {written:,} of the "
                "{expected:,} events selected, so the log may be damaged. Check it with "
                "'{verify}', or export with {jobs} 1",
                written=written,
                expected=expected,
                verify=Step("verify_log"),
                jobs=Input("jobs"),
            )

    def lines(self, progress: Callable[[int], None] | None) -> Iterator[str]:
        """Every selected event's line in seq order; `progress` told of events read.

        Raises ExportWorkerFailed if a worker ends without finishing. The workers are
        stopped however the iteration ends."""
        try:
            streams = [self._stream(number, progress) for number in range(len(self.started))]
            for _, text in heapq.merge(*streams):
                yield text
        finally:
            self.stop()

    def stop(self) -> None:
        self.started.stop()

    def _stream(
        self, number: int, progress: Callable[[int], None] | None
    ) -> Iterator[tuple[int, str]]:
        while True:
            try:
                done, told = self.started.receive(number)
            except WorkerFailed as failed:
                if failed.kind is None:
                    why = "it ended early"
                else:
                    why = failed.said or f"{failed.kind} in the worker"
                raise ExportWorkerFailed(
                    "a worker process of the export stopped ({why}), so the export ends "
                    "without its digest (a file given with {output} is not written). Run it "
                    "again, or with {jobs} 1 to use one process",
                    why=why,
                    output=Input("output"),
                    jobs=Input("jobs"),
                ) from None
            if done:
                return
            read, seqs, texts = told
            if progress is not None:
                progress(read)
            yield from zip(seqs, texts, strict=True)


def lay_out_share(job: ExportJob, tell: Callable[[tuple[int, list[int], list[str]]], None]) -> None:
    """A worker: lay out the lines of the events of its share of the cases, telling
    `(events read, seqs, lines)` for each batch read."""
    ctx = job.setup.context()
    try:
        registry = ctx.registry
        request = job.request
        from casereview.services.exports import earlier_events

        feed, lay_out = None, job.lay_out
        with ctx.db().reading() as conn:
            builder = DecisionLogBuilder(
                # The builder keeps each workflow it is given, so each is looked up once.
                lambda ref: registry.get_exact(ref.id, ref.version, ref.content_hash),
                ctx.calendar,
                include_personal=request.include_personal,
                date_from=request.date_from,
                date_to=request.date_to,
                earlier=earlier_events(conn),
                actor=request.actor,
                trigger=request.trigger,
                workflow=request.workflow,
            )
            feed = builder.feed
            database.bound_waits(conn)
            rows = decision_log_source.batches(
                conn, EVENT_COLUMNS, job.head_seq, None, share=job.share
            )
            for batch in rows:
                seqs: list[int] = []
                texts: list[str] = []
                for event in batch:
                    record = feed(event)
                    if record is not None:
                        seqs.append(record.seq)
                        texts.append(lay_out(record))
                tell((len(batch), seqs, texts))
    finally:
        ctx.close()
