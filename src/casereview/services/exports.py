"""Use cases for the scrutineer: export the decision log, verify an export, export the
open deadlines as a calendar.

`export_log` streams the log, up to the chain head as it stood when the export began, in
`seq` order through one writer (long CSV and JSON exports are laid out by worker
processes: `services.export_jobs`). `verify_export` checks a file's digest and structure
and, given a database, compares it with the same export regenerated at the file's own
chain head. What the export reads is `store.decision_log_source`. See docs/exports.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from casereview import __version__
from casereview.domain import chain, clocks, dates
from casereview.domain.workflow.model import WorkflowDefinition
from casereview.errors import CaseReviewError, Input, InvalidInput, NotFound, Step
from casereview.formats import ics, registry
from casereview.formats.decision_log.document import (
    ExportFormatError,
    ParsedExport,
    Writer,
)
from casereview.formats.decision_log.integrity import Finding, check_file, compare, read_export
from casereview.formats.decision_log.records import (
    EVENT_COLUMNS,
    DecisionLogBuilder,
    EarlierEvents,
    EventRow,
    ExportMeta,
    WorkflowRef,
)
from casereview.infra.files import read_bounded
from casereview.infra.workflows.registry import split_version
from casereview.services import export_jobs, filters, refs
from casereview.services.access import (
    ALL_CASES,
    allow_personal,
    recorded_personal_exports,
    require_reader,
)
from casereview.services.context import ServiceContext
from casereview.services.export_request import LogExportRequest as LogExportRequest
from casereview.store import decision_log_source, event_log, projections
from casereview.store import users as user_rows
from casereview.store.partnership import partnership_name

if TYPE_CHECKING:
    from casereview.store.database import Connection

GENERATOR = f"casereview {__version__}"
MAX_FINDINGS = 200

"""The formats whose events are independent lines (which worker processes can lay out)."""


@dataclass(frozen=True)
class LeftOut:
    """A workflow whose definition cannot be loaded here, so its cases' events are not
    in the export (`audit verify` reports each such case)."""

    workflow: WorkflowRef
    cases: int
    reason: str


@dataclass(frozen=True)
class LogExportResult:
    meta: ExportMeta
    digest: str
    left_out: tuple[LeftOut, ...] = ()


@dataclass(frozen=True)
class _Pin:
    """What a regenerated export copies from the file it is checked against."""

    head_seq: int
    head_hash: str
    created_at: str
    generator: str
    names: bool = True  # the file names people (every export since names were shown)


# -- export ------------------------------------------------------------------------------


def _check_request(request: LogExportRequest) -> None:
    _codec(request.format)
    if request.date_from is not None:
        dates.supported(request.date_from, Input("from"))
    if request.date_to is not None:
        dates.supported(request.date_to, Input("to"))
    if request.date_from and request.date_to and request.date_from > request.date_to:
        raise InvalidInput(
            "{start} {date_from} is after {end} {date_to}",
            start=Input("from"),
            date_from=request.date_from.isoformat(),
            end=Input("to"),
            date_to=request.date_to.isoformat(),
        )


def _codec(name: str) -> registry.Codec:
    """The writer and reader of the format called `name` (InvalidInput if none is)."""
    fmt = registry.decision_log_format(name)
    if fmt is None:
        raise InvalidInput(
            "format must be one of {names}, not {name!r}",
            names=", ".join(registry.NAMES),
            name=name,
        )
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
    with ctx.db().reading() as conn:
        viewer = require_reader(ctx, conn)
        head_seq, head_hash = (pin.head_seq, pin.head_hash) if pin else event_log.chain_head(conn)
        case_id = None
        if request.case is not None:
            row = refs.choose(
                request.case,
                projections.get_case(conn, request.case),
                lambda p: projections.cases_named(conn, p),
            )
            # The export, its header and its record of a personal view name the reference.
            request = dataclasses.replace(request, case=str(row["ref"]))
            case_id = int(row["id"])
        if pin is None:
            _check_filter(ctx, conn, request)
        codec = _codec(request.format)
        wanted = export_jobs.workers_wanted(
            head_seq, lines=codec.lines is not None, one_case=case_id is not None, jobs=jobs
        )
        # Started before the survey, so the workers' start-up overlaps it.
        streams = None
        if wanted:
            streams = export_jobs.start(ctx, wanted, head_seq, request)
        try:
            planned = _plan(ctx, conn, request, pin, head_seq, head_hash, case_id)
            if request.include_personal and pin is None:
                # Before a byte is written; a verification's re-export shows nobody.
                allow_personal(
                    ctx,
                    viewer,
                    [planned.definitions[ref] for ref in planned.meta.workflows],
                    command="log export",
                    cases=[request.case] if request.case is not None else ALL_CASES,
                    made_at=planned.meta.created_at,
                )
            if streams is not None and planned.left_out:
                # The workers read every case; with cases left out this process writes.
                streams.stop()
                streams = None
            if streams is not None and codec.lines is not None:
                line_writer = codec.lines.writer(sink)
                line_writer.begin(planned.meta)
                streams.write(line_writer, planned.meta.event_count, progress)
                return LogExportResult(planned.meta, line_writer.finish())
            writer = codec.writer(sink)
            writer.begin(planned.meta)
            _write_here(ctx, conn, request, planned, case_id, writer, progress)
            return LogExportResult(planned.meta, writer.finish(), planned.left_out)
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
        earlier=earlier_events(conn),
        actor=request.actor,
        trigger=request.trigger,
        workflow=request.workflow,
    )
    feed, write = builder.feed, writer.write
    rows = decision_log_source.batches(
        conn, EVENT_COLUMNS, planned.meta.chain_head_seq, case_id, excluded=planned.excluded
    )
    # Closed here on every path: a failure must not leave the cursor to be closed later,
    # by the garbage collector, on a connection that is closed by then (which printed a
    # traceback after the error message).
    with contextlib.closing(rows):
        for batch in rows:
            for event in batch:
                record = feed(event)
                if record is not None:
                    write(record)
            if progress is not None:
                progress(len(batch))


def _check_filter(ctx: ServiceContext, conn: Connection, request: LogExportRequest) -> None:
    """The actor filter names a user (NotFound otherwise) and the trigger filter a step
    some workflow here has (InvalidInput, with the nearest id): a typing mistake must
    not look like an empty record. A verification regenerates whatever the file says."""
    if request.actor is not None and user_rows.get_user(conn, request.actor) is None:
        raise NotFound(
            "no user {actor!r}; see '{next}'", actor=request.actor, next=Step("list_users")
        )
    if request.workflow is not None:
        filters.workflow(ctx, request.workflow)
    if request.trigger is not None:
        filters.check(ctx, "trigger", request.trigger)


def earlier_events(conn: Connection) -> EarlierEvents:
    """How the decision log reads a case's earlier events when a correction, undo or
    void reaches back into them: in the export's own read transaction."""

    def read(case_ref: str, seq: int) -> list[EventRow]:
        rows = decision_log_source.case_events_before(conn, EVENT_COLUMNS, case_ref, seq)
        return [EventRow(*row) for row in rows]

    return read


@dataclass(frozen=True)
class _Planned:
    """An export's metadata, and the workflow definitions its events were recorded under."""

    meta: ExportMeta
    definitions: dict[WorkflowRef, WorkflowDefinition]
    left_out: tuple[LeftOut, ...] = ()

    @property
    def excluded(self) -> list[WorkflowRef]:
        return [gone.workflow for gone in self.left_out]


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
    only = split_version(request.workflow) if request.workflow is not None else None
    survey = decision_log_source.survey(
        conn,
        head_seq,
        case_id,
        request.date_from,
        request.date_to,
        actor=request.actor,
        trigger=request.trigger,
        workflow=only,
    )
    definitions: dict[WorkflowRef, WorkflowDefinition] = {}
    missing: dict[WorkflowRef, str] = {}
    for ref in map(WorkflowRef._make, survey.read):
        try:
            definitions[ref] = ctx.registry.get_exact(ref.id, ref.version, ref.content_hash)
        except CaseReviewError as exc:
            # One workflow missing here must not stop the export of every other case:
            # its cases are left out, and said to be (`audit verify` reports them).
            missing[ref] = exc.message
    left_out = []
    if missing:
        whole = survey

        def without(excluded: list[WorkflowRef]) -> decision_log_source.Survey:
            return decision_log_source.survey(
                conn,
                head_seq,
                case_id,
                request.date_from,
                request.date_to,
                excluded=excluded,
                actor=request.actor,
                trigger=request.trigger,
                workflow=only,
            )

        for ref, reason in sorted(missing.items()):
            left_out.append(LeftOut(ref, whole.case_count - without([ref]).case_count, reason))
        survey = without(list(missing))
    selected = [WorkflowRef(*w) for w in survey.selected]
    people = None
    if pin is None or pin.names:
        logins = decision_log_source.people(
            conn,
            head_seq,
            case_id,
            request.date_from,
            request.date_to,
            excluded=[gone.workflow for gone in left_out],
            actor=request.actor,
            trigger=request.trigger,
            workflow=only,
        )
        known = user_rows.display_names_at(conn, head_seq)
        people = tuple((login, known[login]) for login in logins if login in known)
    personal = sorted({f for ref in selected for f in definitions[ref].personal_field_ids})
    meta = ExportMeta(
        partnership=partnership_name(conn, head_seq),
        format=request.format,
        generator=pin.generator if pin else GENERATOR,
        created_at=pin.created_at if pin else chain.format_instant(ctx.clock.now()),
        chain_head_seq=head_seq,
        chain_head_hash=head_hash,
        case=request.case,
        date_from=request.date_from.isoformat() if request.date_from else None,
        date_to=request.date_to.isoformat() if request.date_to else None,
        actor=request.actor,
        trigger=request.trigger,
        workflow=request.workflow,
        people=people,
        include_personal=request.include_personal,
        personal_fields=tuple(personal),
        event_count=survey.event_count,
        case_count=survey.case_count,
        workflows=tuple(selected),
    )
    return _Planned(meta, definitions, tuple(left_out))


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


VERIFY_LIMIT = 2**30
"""The largest export `verify_export` reads (1 GiB): the file and the export regenerated
to compare it with are both held in memory. A larger log is verified in parts (an
export per case or per period). A file that does not begin like an export is not read
past its first block."""


def _read(path: Path) -> bytes:
    return read_bounded(
        path,
        VERIFY_LIMIT,
        what="an export",
        looks_right=lambda first: registry.detect(first) is not None,
    )


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
        require_reader(ctx, conn)
        total, _ = event_log.chain_head(conn)
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
            event_log.event_hash_at(conn, meta.chain_head_seq) != meta.chain_head_hash
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
        head_recorded_at = decision_log_source.recorded_at(conn, meta.chain_head_seq)
        if meta.include_personal and meta.created_at not in recorded_personal_exports(conn):
            report.add(
                [
                    Finding(
                        "database",
                        f"the export includes personal fields, but the log records no such "
                        f"export made at {meta.created_at}",
                    )
                ]
            )
        hashes = parsed.entry_hashes
        known = decision_log_source.hash_positions(conn, hashes)
    report.add(_check_created_at(meta, head_recorded_at, ctx.clock.now()))
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
            actor=meta.actor,
            trigger=meta.trigger,
            workflow=meta.workflow,
        )
    except ValueError:
        report.add([Finding("structure", "the export's date filter is not a pair of ISO dates")])
        return
    pin = _Pin(
        meta.chain_head_seq,
        meta.chain_head_hash,
        meta.created_at,
        meta.generator,
        names=meta.people is not None,
    )
    buffer = io.BytesIO()
    try:
        _export(ctx, request, buffer, pin=pin, progress=None)
    except CaseReviewError as exc:
        report.add([Finding("database", f"the export cannot be regenerated from this log: {exc}")])
        return
    report.add(compare(parsed, read_export(buffer.getvalue())))


CLOCK_SKEW = dt.timedelta(days=1)
"""How far an export's `created_at` may stray from the log's instants before it is a
finding: the clocks of two machines sharing one database server (and a test's fixed
clock) differ, and a false "verification failed" would cost more than the day it
forgives."""


def _instant(text: str) -> dt.datetime | None:
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if instant.tzinfo is None or chain.format_instant(instant) != text:
        return None  # the one instant format casereview writes, nothing looser
    return instant


def _check_created_at(
    meta: ExportMeta, head_recorded_at: str | None, now: dt.datetime
) -> list[Finding]:
    """An export's `created_at` against the log: not before the event it was made at
    was recorded, not after now (each within `CLOCK_SKEW`, a day). The log does not record when
    a pseudonymised export was made, so an instant moved within that window passes
    (docs/audit.md, "What verify-export checks")."""
    made = _instant(meta.created_at)
    if made is None:
        return [Finding("structure", f"created_at {meta.created_at!r} is not a UTC instant")]
    found = []
    head = _instant(head_recorded_at) if head_recorded_at is not None else None
    if head is not None and made < head - CLOCK_SKEW:
        found.append(
            Finding(
                "database",
                f"created_at {meta.created_at} is before event {meta.chain_head_seq}, which "
                f"this export was made at, was recorded ({head_recorded_at})",
            )
        )
    if made > now + CLOCK_SKEW:
        found.append(Finding("database", f"created_at {meta.created_at} is in the future"))
    return found


# -- calendar ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarExportResult:
    deadlines: int
    cases: int
    paused_left_out: int
    closed_case: str | None = None
    unreadable_left_out: int = 0  # running clocks whose stored due date is not a date


def export_calendar(
    ctx: ServiceContext, sink: BinaryIO, *, case: str | None = None, workflow: str | None = None
) -> CalendarExportResult:
    """Write the open deadlines (all open cases, or one case; of one review type with
    `workflow`, an installed id or `id@N`) as iCalendar to `sink`. Where the feed holds
    several review types, each entry's summary names its type's short label."""
    from casereview.services import filters

    only = filters.workflow(ctx, workflow) if workflow is not None else None
    today = ctx.clock.today()
    named: str | None = None
    deadlines: list[ics.Deadline] = []
    paused = unreadable = 0
    closed_case = None
    rules: dict[tuple[str, int, str], dict[str, clocks.ClockRule]] = {}
    with ctx.db().reading() as conn:
        require_reader(ctx, conn)
        named = partnership_name(conn)
        if case is not None:
            row = refs.choose(
                case, projections.get_case(conn, case), lambda p: projections.cases_named(conn, p)
            )
            rows = [] if row["closed"] else [row]
            closed_case = str(row["ref"]) if row["closed"] else None
        else:
            rows = list(projections.list_cases(conn, closed=False, workflow=only))
        if only is not None:
            rows = [
                r
                for r in rows
                if r["workflow_id"] == only[0] and only[1] in (None, r["workflow_version"])
            ]
        for row in rows:
            key = (str(row["workflow_id"]), int(row["workflow_version"]), str(row["workflow_hash"]))
            if key not in rules:
                try:
                    definition = ctx.registry.get_exact(*key)
                except CaseReviewError:
                    # Missing here (`audit verify` reports the case): the deadline is
                    # still in the feed, without its rule's words.
                    rules[key] = {}
                else:
                    rules[key] = {r.id: r for r in clocks.rules_for(definition)}
            for clock in projections.clocks_of(conn, int(row["id"])):
                if clock["state"] == "paused":
                    paused += 1
                    continue
                if clock["state"] != "running" or not clock["due_on"]:
                    continue
                due = _stored_date(clock["due_on"])
                if due is None:
                    unreadable += 1
                    continue
                warn = _stored_date(clock["warn_from"]) or due
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
                        anchor_on=_stored_date(anchor),
                        due_on=due,
                        warn_from=warn,
                        status=status,
                        sequence=int(row["version"]),
                    )
                )
            deadlines.extend(_action_deadlines(conn, row, key, today))
    deadlines.sort(key=lambda d: (d.due_on, d.case_ref, d.clock_id))
    if len({d.workflow_id for d in deadlines}) > 1:
        labels = filters.short_labels(ctx)
        deadlines = [
            dataclasses.replace(d, type=labels.get(d.workflow_id, d.workflow_id)) for d in deadlines
        ]
    sink.write(
        ics.build(
            deadlines,
            stamp=ctx.clock.now(),
            generator=GENERATOR,
            today=today,
            partnership=named,
        )
    )
    return CalendarExportResult(
        deadlines=len(deadlines),
        cases=len({d.case_ref for d in deadlines}),
        paused_left_out=paused,
        closed_case=closed_case,
        unreadable_left_out=unreadable,
    )


def _action_deadlines(
    conn: Connection, row: Any, key: tuple[str, int, str], today: dt.date
) -> list[ics.Deadline]:
    """The case's open actions (`docs/actions.md`) as deadlines beside its clocks; an
    extension moves the entry (its sequence is the action's number of steps)."""
    from casereview.store import actions as plan_rows
    from casereview.store.actions_due import WARNING_DAYS

    found = []
    for action in plan_rows.open_actions_of(conn, int(row["id"])):
        due = _stored_date(action["due_on"])
        if due is None:
            continue
        warn = due - dt.timedelta(days=WARNING_DAYS)
        first = str(action["original_due_on"])
        rule = f"due date of action {action['action']} under recommendation {action['rec']}"
        if first != str(action["due_on"]):
            rule += f" (extended from {first})"
        found.append(
            ics.Deadline(
                case_ref=str(row["ref"]),
                pseudonym=str(row["pseudonym"]),
                workflow_id=key[0],
                workflow_version=key[1],
                clock_id=f"action-{action['action']}",
                label=f"Action {action['action']} ({action['agency']})",
                kind="action",
                rule=rule,
                anchor_on=_stored_date(action["added_on"]),
                due_on=due,
                warn_from=warn,
                status=clocks.status_of_running(due, warn, False, today),
                sequence=len(json.loads(str(action["history"]))),
            )
        )
    return found


def _stored_date(value: object) -> dt.date | None:
    """A date from the clock projection, or None for one that is not a date: one stored
    value must not stop the feed (`audit verify` reports it)."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None
