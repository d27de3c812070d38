"""Use cases for the scrutineer: export the decision log, verify an export, export the
open deadlines as a calendar.

`export_log` reads the log in one read transaction, up to the chain head as it stood
when the export began (events appended meanwhile are not included, and the head is
recorded in the export), in `seq` order and in batches, and streams the records through
one writer. `verify_export` checks a file's digest and structure and, given a database,
regenerates the same export at the file's own chain head, filter and options and
compares them row by row, and looks up every entry hash in the log.

The export's own read queries (counts, the workflows involved, the streamed event rows,
entry-hash look-ups) are written here with SQLAlchemy Core constructs over the
documented `events` columns, so no SQL text is composed; `store.repository.iter_events`
selects every column (the payload too) and has no count or `kind` filter. They could move
to `store/` unchanged.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    case,
    column,
    distinct,
    func,
    select,
    table,
)

from casereview import __version__
from casereview.domain import chain, clocks
from casereview.domain.workflow.model import WorkflowDefinition
from casereview.errors import CaseReviewError, InvalidInput, NotFound
from casereview.formats import ics, registry
from casereview.formats.decision_log.document import ExportFormatError, ParsedExport, Writer
from casereview.formats.decision_log.integrity import Finding, check_file, compare, read_export
from casereview.formats.decision_log.records import (
    EVENT_COLUMNS,
    DecisionLogBuilder,
    ExportMeta,
    WorkflowRef,
)
from casereview.services.context import ServiceContext
from casereview.store import location, projections, repository

GENERATOR = f"casereview {__version__}"
BATCH = 2_000
MAX_FINDINGS = 200

_events = table(
    "events",
    *(column(name) for name in sorted({*EVENT_COLUMNS, "kind", "case_id"})),
)


@dataclass(frozen=True)
class LogExportRequest:
    format: str = "csv"
    case: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    include_personal: bool = False


@dataclass(frozen=True)
class LogExportResult:
    meta: ExportMeta
    digest: str


@dataclass(frozen=True)
class _Pin:
    """What a regenerated export copies from the file it is checked against."""

    head_seq: int
    head_hash: str
    created_at: str
    generator: str


# -- reading the log ---------------------------------------------------------------------


def _conditions(
    head_seq: int,
    case_id: int | None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    *,
    share: tuple[int, int] | None = None,
) -> list[ColumnElement[bool]]:
    """Case events up to `head_seq`: of one case, or with `share` (k, n) of the cases
    whose id % n == k; dated within the bounds given."""
    c = _events.c
    where: list[ColumnElement[bool]] = [c.kind == "case", c.seq <= head_seq]
    if case_id is not None:
        where.append(c.case_id == case_id)
    if share is not None:
        k, n = share
        where.append(c.case_id % n == k)
    return where + _dated(date_from, date_to)


def _dated(date_from: dt.date | None, date_to: dt.date | None) -> list[ColumnElement[bool]]:
    c = _events.c
    where: list[ColumnElement[bool]] = []
    if date_from is not None:
        where.append(c.occurred_on >= date_from.isoformat())
    if date_to is not None:
        where.append(c.occurred_on <= date_to.isoformat())
    return where


def _workflows(conn: Connection, where: Sequence[ColumnElement[bool]]) -> list[WorkflowRef]:
    c = _events.c
    rows = conn.execute(
        select(c.workflow_id, c.workflow_version, c.definition_hash)
        .distinct()
        .where(*where)
        .order_by(c.workflow_id, c.workflow_version, c.definition_hash)
    ).all()
    return [WorkflowRef(str(r[0]), int(r[1]), str(r[2])) for r in rows]


@dataclass(frozen=True)
class _Survey:
    """What the metadata needs to know before the first row is written."""

    event_count: int  # events the filter selects
    case_count: int  # cases they belong to
    selected: list[WorkflowRef]  # the workflows of the selected events
    read: list[WorkflowRef]  # the workflows of every event read (before --from too)


def _survey(
    conn: Connection,
    head_seq: int,
    case_id: int | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> _Survey:
    """Counts and workflows in one scan of the events the export reads.

    A log is nearly always recorded under one workflow version, so the scan takes the
    least and greatest of each workflow column rather than grouping (a `DISTINCT` over
    the three columns sorts every row, and was two of the three scans this replaces);
    only when those differ are the workflows listed one by one.
    """
    c = _events.c
    read = _conditions(head_seq, case_id)
    dated = _dated(date_from, date_to)
    if dated:
        picked = and_(*dated)
        counts = [func.count(case((picked, 1))), func.count(distinct(case((picked, c.case_ref))))]
    else:
        counts = [func.count(), func.count(distinct(c.case_ref))]
    columns = (c.workflow_id, c.workflow_version, c.definition_hash)
    spans = [f(col) for col in columns for f in (func.min, func.max, func.count)]
    row = conn.execute(select(*counts, func.count(), *spans).where(*read)).one()
    events, cases, total = int(row[0]), int(row[1]), int(row[2])
    lows, highs, present = row[3::3], row[4::3], row[5::3]
    if total == 0:
        return _Survey(events, cases, [], [])
    if lows == highs and all(n == total for n in present):
        only = [WorkflowRef(str(lows[0]), int(lows[1]), str(lows[2]))]
        return _Survey(events, cases, only if events else [], only)
    every = _workflows(conn, read)
    return _Survey(events, cases, _workflows(conn, read + dated) if dated else every, every)


def batches(
    conn: Connection,
    head_seq: int,
    case_id: int | None,
    batch: int = BATCH,
    *,
    share: tuple[int, int] | None = None,
) -> Iterator[list[Any]]:
    """Case events up to the head, in seq order, as the driver's own row tuples (in
    `EVENT_COLUMNS` order): one streamed query, `batch` rows at a time (a server-side
    cursor on PostgreSQL), so the log never sits in memory.

    The statement is built with SQLAlchemy and compiled for the connection's dialect,
    but executed on the driver's cursor inside the same transaction: SQLAlchemy's row
    objects (and a named tuple per row made from them) cost a third of reading the log.
    """
    c = _events.c
    stmt = (
        select(*(c[name] for name in EVENT_COLUMNS))
        .where(*_conditions(head_seq, case_id, share=share))
        .order_by(c.seq)
    )
    compiled = stmt.compile(dialect=conn.dialect)
    params = compiled.construct_params()
    args: Any = (
        tuple(params[name] for name in compiled.positiontup or ())
        if compiled.positional
        else params
    )
    driver = conn.connection.driver_connection
    assert driver is not None  # an open connection always has one
    postgres = conn.dialect.name == "postgresql"
    cursor = driver.cursor(name="casereview_log_export") if postgres else driver.cursor()
    try:
        cursor.execute(compiled.string, args)
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        cursor.close()


_MAX_SEQ = 2**63 - 1  # the largest integer either database stores


def _hash_positions(conn: Connection, hashes: Mapping[int, str]) -> dict[str, int]:
    """Where each of an export's entry hashes sits in the log: hash -> seq.

    `events.entry_hash` has no index (migration 0004), so each hash is first looked for
    at the seq the export gives it, by primary key. Only hashes not found there (a
    changed log, an export of another database, or a seq no database could hold) cost
    a scan of the log, streamed and ended as soon as every one is placed.
    """
    c = _events.c
    found: dict[str, int] = {}
    # The seqs come from the file being checked: only whole numbers a database can hold
    # are looked up (a forged seq of 2**64 or `true` must be a finding, not a crash).
    seqs = sorted(s for s in hashes if type(s) is int and 0 < s <= _MAX_SEQ)
    stmt = select(c.seq, c.entry_hash).where(c.seq.in_(bindparam("seqs", expanding=True)))
    for start in range(0, len(seqs), 500):
        for seq, entry_hash in conn.execute(stmt, {"seqs": seqs[start : start + 500]}):
            if hashes[int(seq)] == entry_hash:
                found[str(entry_hash)] = int(seq)
    wanted = set(hashes.values()) - found.keys()
    if wanted:
        scan = select(c.seq, c.entry_hash).order_by(c.seq)
        for seq, entry_hash in conn.execution_options(yield_per=5_000).execute(scan):
            if entry_hash in wanted:
                found[str(entry_hash)] = int(seq)
                wanted.discard(entry_hash)
                if not wanted:
                    break
    return found


# -- export ------------------------------------------------------------------------------


def _check_request(request: LogExportRequest) -> None:
    _codec(request.format)
    if request.date_from and request.date_to and request.date_from > request.date_to:
        raise InvalidInput(
            f"--from {request.date_from.isoformat()} is after --to {request.date_to.isoformat()}"
        )


def _codec(name: str) -> registry.Codec:
    """The writer and reader of the format called `name` (InvalidInput if none is)."""
    fmt = registry.decision_log_format(name)
    if fmt is None:
        raise InvalidInput(f"format must be one of {', '.join(registry.NAMES)}, not {name!r}")
    return fmt.codec()


def export_log(
    ctx: ServiceContext,
    request: LogExportRequest,
    sink: BinaryIO,
    *,
    progress: Callable[[int], None] | None = None,
    jobs: int | None = None,
) -> LogExportResult:
    """Write the decision log selected by `request` to `sink`; return its metadata.

    `jobs` is how many processes lay out the events (`services.export_jobs`): None
    chooses (several only for a long log), 1 keeps it in this process. The bytes
    written are the same either way."""
    _check_request(request)
    return _export(ctx, request, sink, pin=None, progress=progress, jobs=jobs)


def _export(
    ctx: ServiceContext,
    request: LogExportRequest,
    sink: BinaryIO,
    *,
    pin: _Pin | None,
    progress: Callable[[int], None] | None,
    jobs: int | None = None,
) -> LogExportResult:
    from casereview.services import export_jobs

    with ctx.db().reading() as conn:
        head_seq, head_hash = (pin.head_seq, pin.head_hash) if pin else repository.chain_head(conn)
        case_id = None
        if request.case is not None:
            row = projections.get_case(conn, request.case)
            if row is None:
                raise NotFound(f"no case {request.case!r}; see 'casereview case list'")
            case_id = int(row["id"])
        codec = _codec(request.format)
        wanted = export_jobs.workers_wanted(
            head_seq, lines=codec.lines is not None, one_case=case_id is not None, jobs=jobs
        )
        # Started before the survey, so the workers' start-up overlaps it.
        streams = export_jobs.start(ctx, wanted, head_seq, request) if wanted else None
        try:
            planned = _plan(ctx, conn, request, pin, head_seq, head_hash, case_id)
            if streams is not None and codec.lines is not None:
                line_writer = codec.lines.writer(sink)
                line_writer.begin(planned.meta)
                streams.write(line_writer, planned.meta.event_count, progress)
                return LogExportResult(planned.meta, line_writer.finish())
            writer = codec.writer(sink)
            writer.begin(planned.meta)
            _write_here(ctx, conn, request, planned, case_id, writer, progress)
            return LogExportResult(planned.meta, writer.finish())
        finally:
            if streams is not None:
                streams.stop()


def _write_here(
    ctx: ServiceContext,
    conn: Connection,
    request: LogExportRequest,
    planned: _Planned,
    case_id: int | None,
    writer: Writer,
    progress: Callable[[int], None] | None,
) -> None:
    """Replay and write the selected events in this process, in seq order."""
    builder = DecisionLogBuilder(
        planned.definitions.__getitem__,
        ctx.calendar,
        include_personal=request.include_personal,
        date_from=request.date_from,
        date_to=request.date_to,
    )
    feed, write = builder.feed, writer.write
    for batch in batches(conn, planned.meta.chain_head_seq, case_id):
        for event in batch:
            record = feed(event)
            if record is not None:
                write(record)
        if progress is not None:
            progress(len(batch))


@dataclass(frozen=True)
class _Planned:
    """An export's metadata, and the workflow definitions its events were recorded under."""

    meta: ExportMeta
    definitions: dict[WorkflowRef, WorkflowDefinition]


def _plan(
    ctx: ServiceContext,
    conn: Connection,
    request: LogExportRequest,
    pin: _Pin | None,
    head_seq: int,
    head_hash: str,
    case_id: int | None,
) -> _Planned:
    """The export's metadata, from one survey of the events it reads, and the
    workflow definitions those events were recorded under."""
    survey = _survey(conn, head_seq, case_id, request.date_from, request.date_to)
    definitions: dict[WorkflowRef, WorkflowDefinition] = {
        ref: ctx.registry.get_exact(ref.id, ref.version, ref.content_hash) for ref in survey.read
    }
    personal = sorted({f for ref in survey.selected for f in definitions[ref].personal_field_ids})
    meta = ExportMeta(
        format=request.format,
        generator=pin.generator if pin else GENERATOR,
        created_at=pin.created_at if pin else chain.format_instant(ctx.clock.now()),
        chain_head_seq=head_seq,
        chain_head_hash=head_hash,
        case=request.case,
        date_from=request.date_from.isoformat() if request.date_from else None,
        date_to=request.date_to.isoformat() if request.date_to else None,
        include_personal=request.include_personal,
        personal_fields=tuple(personal),
        event_count=survey.event_count,
        case_count=survey.case_count,
        workflows=tuple(survey.selected),
    )
    return _Planned(meta, definitions)


# -- verify ------------------------------------------------------------------------------


@dataclass
class ExportVerification:
    file: str
    format: str | None = None
    meta: ExportMeta | None = None
    claimed_digest: str | None = None
    actual_digest: str | None = None
    rows: int = 0
    database_checked: bool = False
    findings: list[Finding] = field(default_factory=list)
    more_findings: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings and not self.more_findings

    def add(self, findings: Sequence[Finding]) -> None:
        room = MAX_FINDINGS - len(self.findings)
        self.findings.extend(findings[: max(room, 0)])
        self.more_findings += max(len(findings) - max(room, 0), 0)


def database_named(db_option: str | None) -> bool:
    """True when the person named a database (`--db` or the environment): only then
    does verify-export compare a file with a log. The per-user default database is not
    used implicitly, so a file checked on another machine is checked on its own."""
    return bool(
        db_option
        or os.environ.get(location.DB_ENV, "").strip()
        or os.environ.get(location.URL_ENV, "").strip()
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"no such file: {path}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a directory, not an export file") from None
    except OSError as exc:
        raise CaseReviewError(f"cannot read {path}: {exc.strerror}") from None


def verify_export(path: Path, ctx: ServiceContext | None) -> ExportVerification:
    """Check an export file alone, and against the log when `ctx` is given."""
    report = ExportVerification(file=str(path))
    data = _read(path)
    try:
        parsed = read_export(data)
    except ExportFormatError as exc:
        report.add([Finding("structure", str(exc))])
        return report
    report.format = parsed.format
    report.meta = parsed.meta
    report.claimed_digest = parsed.claimed_digest
    report.actual_digest = parsed.actual_digest
    report.rows = len(parsed.units)
    report.add(check_file(parsed))
    if ctx is not None:
        report.database_checked = True
        _check_against_log(ctx, parsed, report)
    return report


def _check_against_log(
    ctx: ServiceContext, parsed: ParsedExport, report: ExportVerification
) -> None:
    meta = parsed.meta
    with ctx.db().reading() as conn:
        total, _ = repository.chain_head(conn)
        if meta.chain_head_seq > total:
            report.add(
                [
                    Finding(
                        "database",
                        f"the log has {total} events, fewer than the {meta.chain_head_seq} "
                        "this export was made at: this is a different database, or the log "
                        "was cut short or restored from an older copy",
                    )
                ]
            )
        elif meta.chain_head_seq and (
            repository.event_hash_at(conn, meta.chain_head_seq) != meta.chain_head_hash
        ):
            report.add(
                [
                    Finding(
                        "database",
                        f"event {meta.chain_head_seq} in the log does not have the hash this "
                        "export recorded as the chain head: this is a different database, or "
                        "the log was rewritten",
                    )
                ]
            )
        hashes = parsed.entry_hashes
        known = _hash_positions(conn, hashes)
    problems = []
    for seq in sorted(hashes):
        found = known.get(hashes[seq])
        if found is None:
            problems.append(Finding("database", "its entry_hash is not in the log", seq))
        elif found != seq:
            problems.append(
                Finding("database", f"its entry_hash belongs to event {found} in the log", seq)
            )
    report.add(problems)
    if meta.generator != GENERATOR:
        report.notes.append(
            f"the file was made by {meta.generator} and is compared with what {GENERATOR} "
            "produces; a difference may come from the version rather than the log"
        )
    try:
        request = LogExportRequest(
            format=parsed.format,
            case=meta.case,
            date_from=dt.date.fromisoformat(meta.date_from) if meta.date_from else None,
            date_to=dt.date.fromisoformat(meta.date_to) if meta.date_to else None,
            include_personal=meta.include_personal,
        )
    except ValueError:
        report.add([Finding("structure", "the export's date filter is not a pair of ISO dates")])
        return
    pin = _Pin(meta.chain_head_seq, meta.chain_head_hash, meta.created_at, meta.generator)
    buffer = io.BytesIO()
    try:
        _export(ctx, request, buffer, pin=pin, progress=None)
    except CaseReviewError as exc:
        report.add([Finding("database", f"the export cannot be regenerated from this log: {exc}")])
        return
    report.add(compare(parsed, read_export(buffer.getvalue())))


# -- calendar ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarExportResult:
    deadlines: int
    cases: int
    paused_left_out: int
    closed_case: str | None = None


def export_calendar(
    ctx: ServiceContext, sink: BinaryIO, *, case: str | None = None
) -> CalendarExportResult:
    """Write the open deadlines (all open cases, or one case) as iCalendar to `sink`."""
    today = ctx.clock.today()
    deadlines: list[ics.Deadline] = []
    paused = 0
    closed_case = None
    rules: dict[tuple[str, int, str], dict[str, clocks.ClockRule]] = {}
    with ctx.db().reading() as conn:
        if case is not None:
            row = projections.get_case(conn, case)
            if row is None:
                raise NotFound(f"no case {case!r}; see 'casereview case list'")
            rows = [] if row["closed"] else [row]
            closed_case = case if row["closed"] else None
        else:
            rows = list(projections.list_cases(conn, closed=False))
        for row in rows:
            key = (str(row["workflow_id"]), int(row["workflow_version"]), str(row["workflow_hash"]))
            if key not in rules:
                definition = ctx.registry.get_exact(*key)
                rules[key] = {r.id: r for r in clocks.rules_for(definition)}
            for clock in projections.clocks_of(conn, int(row["id"])):
                if clock["state"] == "paused":
                    paused += 1
                    continue
                if clock["state"] != "running" or not clock["due_on"]:
                    continue
                due = dt.date.fromisoformat(str(clock["due_on"]))
                warn = dt.date.fromisoformat(str(clock["warn_from"] or clock["due_on"]))
                status = clocks.status_of_running(due, warn, bool(clock["ends_on_due"]), today)
                if status == "met":
                    continue  # a reminder clock that has run its course
                rule = rules[key].get(str(clock["clock_id"]))
                anchor = clock["anchor_on"]
                deadlines.append(
                    ics.Deadline(
                        case_ref=str(row["ref"]),
                        pseudonym=str(row["pseudonym"]),
                        workflow_id=key[0],
                        workflow_version=key[1],
                        clock_id=str(clock["clock_id"]),
                        label=str(clock["label"]),
                        kind=str(clock["kind"]),
                        rule=rule.describe() if rule else "(not in this workflow version)",
                        anchor_on=dt.date.fromisoformat(str(anchor)) if anchor else None,
                        due_on=due,
                        warn_from=warn,
                        status=status,
                        sequence=int(row["version"]),
                    )
                )
    deadlines.sort(key=lambda d: (d.due_on, d.case_ref, d.clock_id))
    sink.write(ics.build(deadlines, stamp=ctx.clock.now(), generator=GENERATOR, today=today))
    return CalendarExportResult(
        deadlines=len(deadlines),
        cases=len({d.case_ref for d in deadlines}),
        paused_left_out=paused,
        closed_case=closed_case,
    )
