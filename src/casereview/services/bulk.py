"""Applying many case scripts at once: historical imports and national-scale test data.

A *case script* is what a person would type, case by case: open a case (reference,
awareness date, opening fields) and then fire its triggers in order, each with its date,
fields, rationale and the person it is recorded on behalf of. `apply_scripts` applies
scripts with the same domain code as the one-event-at-a-time write path in
`services.cases` — the same opening checks, `engine.decide` for every step (roles,
fields, guards, the compiled machine), the same event record, `replay` and
`clocks.derive` for the projections, and the store's own sealing — so every event,
case row and clock row is exactly what `open_case` and `advance` would have written in
the same order with the same clock, and `audit verify` accepts the result.

What differs is only how the work is grouped. `services.cases` opens one write
transaction per event and rebuilds the case from the database each time. Here one
transaction covers a *batch* of cases: the chain head (seq, hash) is read once and kept
in memory, each case's state is carried forward event by event (`replay.apply_event`,
the step `replay` folds), users are looked up once per batch, clocks are derived once
per case (the write path re-derives them after every event and keeps the last), and the
batch's events go to the database in one `executemany`. The batches share one
connection, so SQLite's page cache (the hot part of the indexes) outlives each commit.
A refusal anywhere in a batch rolls that whole batch back and names the case and step;
earlier batches stay committed, so a failed import can be resumed from the first case
not recorded.

Each case's events are contiguous in the log (case after case), whereas a live
database interleaves cases as their events happen; nothing in casereview depends on
the order beyond the chain itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DatabaseError, OperationalError, ProgrammingError

from casereview import audit, clocks, engine
from casereview.errors import CaseReviewError, Conflict, InvalidInput, NotFound, Refused
from casereview.replay import Replayed, apply_event
from casereview.services import cases
from casereview.services.context import ServiceContext
from casereview.store import database, projections, repository
from casereview.store.database import Database
from casereview.workflow.model import WorkflowDefinition

DEFAULT_BATCH = 500
"""Cases per write transaction: big enough to amortise the commit (an fsync under
`synchronous=FULL`), small enough that a batch's events sit comfortably in memory."""


SQLITE_CACHE_KIB = 65536
"""SQLite page cache for a bulk transaction (the default is 2 MiB)."""

SQLITE_CHECKPOINT_PAGES = 20000
"""WAL pages (4 KiB each) the import's connection lets accumulate before checkpointing."""

SQLITE_LOAD_PRAGMAS: tuple[str, ...] = (
    # The batch inserts tens of thousands of index entries at random places
    # (entry_hash is a unique index); SQLite's default 2 MiB page cache would send most
    # of them back to the file.
    f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}",
    # Each commit of a batch leaves thousands of pages in the WAL; at the default (1,000
    # pages) every commit also copies them into the file. Checkpointing every ~80 MB
    # instead writes a page rewritten by several batches to the file once. Durability
    # is unchanged: each batch's commit is synced as before (synchronous = FULL).
    f"PRAGMA wal_autocheckpoint = {SQLITE_CHECKPOINT_PAGES}",
)
"""Settings of the import's own connection (SQLite), applied once, before its first
transaction (some, like `synchronous`, cannot change inside one)."""


@dataclass(frozen=True)
class Step:
    """One trigger fired on a case: what `casereview case advance` takes."""

    trigger: str
    on: dt.date
    fields: Mapping[str, str] = field(default_factory=dict)
    rationale: str | None = None
    on_behalf_of: str | None = None


@dataclass(frozen=True)
class CaseScript:
    """A case from its opening to its last event: what `case open` then `case advance`
    (once per step) take. `opened_on` defaults to today, as `case open --on` does."""

    ref: str
    aware_on: dt.date
    fields: Mapping[str, str] = field(default_factory=dict)
    steps: Sequence[Step] = ()
    opened_on: dt.date | None = None
    pseudonym: str | None = None
    workflow: str = "england-lcspr"


@dataclass(frozen=True)
class BulkResult:
    cases: int
    events: int
    head_seq: int
    head_hash: str


@dataclass
class _Workflow:
    definition: WorkflowDefinition
    rules: list[clocks.ClockRule]
    destination: Any


@dataclass
class _Case:
    script: CaseScript
    workflow: _Workflow
    state: Replayed
    events: list[dict[str, Any]] = field(default_factory=list)


def apply_scripts(
    ctx: ServiceContext,
    scripts: Iterable[CaseScript],
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> BulkResult:
    """Open and advance every scripted case, `batch_size` cases per transaction.

    Raises what `open_case` or `advance` would raise for the first step refused, with
    the case and step named; that batch is rolled back, earlier ones are kept.
    `progress` is called with the number of events written after each batch.
    """
    if batch_size < 1:
        raise InvalidInput(f"batch size must be at least 1, got {batch_size}")
    db = ctx.db()
    total_cases = total_events = 0
    head = (0, audit.GENESIS_HASH)
    seen = _Seen()
    today = _Today(ctx)
    with _writing(db) as conn:
        for batch in _batches(scripts, batch_size):
            with conn.begin():
                writer = _BatchWriter(ctx, conn, seen, today, [script.ref for script in batch])
                for script in batch:
                    try:
                        writer.apply(script)
                    except CaseReviewError as exc:
                        raise type(exc)(
                            f"case {script.ref}: {exc.message}. Nothing from this batch was "
                            f"recorded; the {total_cases} cases before it were"
                        ) from exc
                head = writer.flush()
            seen.commit(writer)
            total_cases += len(batch)
            total_events += writer.event_count
            if progress is not None:
                progress(writer.event_count)
    if total_cases == 0:
        with db.reading() as read:
            head = repository.chain_head(read)
    return BulkResult(total_cases, total_events, head[0], head[1])


@contextmanager
def _writing(db: Database) -> Iterator[Connection]:
    """One connection for every batch of the import, each batch its own transaction.

    `Database.unit_of_work` opens a connection per transaction (no pool), and on SQLite
    closing it throws away the page cache — which at national scale holds the hot part
    of the `entry_hash` index — and checkpoints the whole WAL. Kept open, the cache
    survives from batch to batch. Transactions begin as `unit_of_work`'s do (`BEGIN
    IMMEDIATE` on SQLite through the store's write option; on PostgreSQL each batch
    locks the head row first, in `_BatchWriter`), and errors are reported the same way.
    """
    try:
        with db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                # Straight to the driver: through SQLAlchemy the statement would begin a
                # transaction first.
                driver = conn.connection.driver_connection
                assert driver is not None
                for pragma in SQLITE_LOAD_PRAGMAS:
                    driver.execute(pragma)
            yield conn.execution_options(**{database._WRITE: True})
    except (OperationalError, ProgrammingError, DatabaseError) as exc:
        raise database.StoreError(database._describe(exc, db)) from None


class _Today:
    """The write path's date check without reading the clock for every event.

    `services.cases` asks the clock for today once per event. Today never goes
    backwards, so a date on or before an earlier answer is not in the future now
    either; anything else goes to the write path's own check, which reads the clock
    again and refuses in its own words.
    """

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.known = ctx.clock.today()

    def check(self, on: dt.date, not_before: str | None, what: str) -> None:
        if on > self.known or (not_before is not None and on.isoformat() < not_before):
            cases._check_date(self.ctx, on, not_before, what)
            self.known = max(self.known, self.ctx.clock.today())


def _batches(scripts: Iterable[CaseScript], size: int) -> Iterator[list[CaseScript]]:
    batch: list[CaseScript] = []
    for script in scripts:
        batch.append(script)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Seen:
    """Pseudonyms already in the database, read incrementally between batches.

    Pseudonyms are unique but not indexed; reading them all for every batch would make
    an import quadratic. Case rows are never deleted and a pseudonym never changes, so
    each batch reads only the rows added since the last one (by anyone).
    """

    def __init__(self) -> None:
        self.pseudonyms: set[str] = set()
        self.max_id = 0

    def refresh(self, conn: Connection) -> set[str]:
        self.max_id, added = repository.pseudonyms_since(conn, self.max_id)
        self.pseudonyms |= added
        return set(self.pseudonyms)

    def commit(self, writer: _BatchWriter) -> None:
        self.pseudonyms |= writer.new_pseudonyms
        self.max_id = max(self.max_id, writer.max_case_id)


class _BatchWriter:
    """One batch inside one write transaction, with the chain head kept in memory."""

    def __init__(
        self,
        ctx: ServiceContext,
        conn: Connection,
        seen: _Seen,
        today: _Today,
        refs: Sequence[str],
    ) -> None:
        self.ctx = ctx
        self.conn = conn
        self.today = today
        self.head_seq, self.head_hash = repository.chain_head(conn, lock=True)
        self.next_id = repository.next_case_id(conn)
        self.existing = repository.existing_case_refs(conn, refs)
        self.recorder = cases._person(repository.get_user(conn, ctx.account), ctx.account)
        self.deciders: dict[str, engine.Person] = {}
        self.workflows: dict[str, _Workflow] = {}
        self.in_use = seen.refresh(conn)
        self.new_pseudonyms: set[str] = set()
        self.refs: set[str] = set()
        self.rows: list[dict[str, Any]] = []
        self.case_rows: list[dict[str, Any]] = []
        self.clock_rows: list[dict[str, Any]] = []
        self.event_count = 0
        self.max_case_id = 0

    # -- lookups done once per batch ----------------------------------------------------

    def _workflow(self, workflow_id: str) -> _Workflow:
        found = self.workflows.get(workflow_id)
        if found is None:
            definition = self.ctx.registry.get(workflow_id)
            found = _Workflow(
                definition, clocks.rules_for(definition), cases.definition_machine(definition)
            )
            self.workflows[workflow_id] = found
        return found

    def _decider(self, username: str) -> engine.Person:
        person = self.deciders.get(username)
        if person is None:
            row = repository.get_user(self.conn, username)
            if row is None:
                raise NotFound(f"no user {username!r} to record this on behalf of")
            person = cases._person(row, username)
            self.deciders[username] = person
        return person

    # -- one case -------------------------------------------------------------------------

    def apply(self, script: CaseScript) -> None:
        case = self._open(script)
        for number, step in enumerate(script.steps, start=1):
            try:
                self._advance(case, step)
            except CaseReviewError as exc:
                raise type(exc)(f"step {number} ({step.trigger}): {exc.message}") from exc
        self._store(case)

    def _open(self, script: CaseScript) -> _Case:
        """What `services.cases.open_case` checks and records, without the database
        round trips it needs for a single case."""
        ctx, ref = self.ctx, script.ref
        cases.check_ref(ref)
        workflow = self._workflow(script.workflow)
        opening = cases.prepare_opening(
            ctx,
            workflow.definition,
            script.aware_on,
            script.fields,
            script.pseudonym,
            script.opened_on,
        )
        role = cases.opening_role(ctx, workflow.definition, self.recorder)
        if ref in self.refs or ref in self.existing:
            raise Conflict(f"case {ref!r} already exists")
        record, pseudonym = cases.opening_event(
            ctx, workflow.definition, role, ref, opening, self.in_use
        )
        self.refs.add(ref)
        self.in_use.add(pseudonym)
        self.new_pseudonyms.add(pseudonym)
        case = _Case(script, workflow, Replayed(ref=ref))
        self._append(case, record)
        return case

    def _advance(self, case: _Case, step: Step) -> None:
        """What `services.cases.advance` checks and records for one step."""
        ctx, state = self.ctx, case.state
        definition = case.workflow.definition
        decider = None
        if step.on_behalf_of is not None and step.on_behalf_of != ctx.account:
            decider = self._decider(step.on_behalf_of)
        self.today.check(step.on, state.last_event_on, "the event date")
        snapshot = engine.CaseSnapshot(
            ref=state.ref,
            state=state.state,
            fields=state.fields,
            approvals=state.approvals,
            version=state.version,
        )
        decision = engine.decide(
            definition,
            snapshot,
            engine.Request(step.trigger, step.on, dict(step.fields), step.rationale),
            self.recorder,
            decider,
            destination=case.workflow.destination,
        )
        record = cases._event_record(
            ctx,
            definition,
            ref=state.ref,
            trigger=decision.trigger,
            from_state=decision.from_state,
            to_state=decision.to_state,
            occurred_on=step.on,
            role=decision.role,
            rationale=(step.rationale or "").strip() or None,
            fields=decision.changes,
            on_behalf_of=decider.username if decider else None,
        )
        self._append(case, record)

    def _append(self, case: _Case, record: Mapping[str, Any]) -> None:
        """Seal the event after the in-memory head and carry the case forward."""
        columns, appended = repository.seal_event(record, None, self.head_seq + 1, self.head_hash)
        self.head_seq, self.head_hash = appended.seq, appended.entry_hash
        # Replay reads the fields as stored; the dict they were encoded from is equal
        # (canonical JSON round-trips str, int, bool and None) and saves decoding them.
        apply_event(case.workflow.definition, case.state, {**columns, "fields": record["fields"]})
        case.events.append(columns)

    def _store(self, case: _Case) -> None:
        """The case row and clock rows, as the write path leaves them after the last
        event (`projections.insert_case`, `update_case` and `replace_clocks` write the
        same columns the same way), queued with the case's events for the batch."""
        state, workflow = case.state, case.workflow
        definition = workflow.definition
        if state.problems:  # cannot happen after engine.decide; never store a bad replay
            seq, problem = state.problems[0]
            raise Refused(f"event {seq} does not replay: {problem}")
        derived = clocks.derive(workflow.rules, state.facts, self.ctx.calendar)
        case_id = self.next_id
        self.next_id += 1
        self.case_rows.append(
            {
                "id": case_id,
                "ref": state.ref,
                "pseudonym": state.pseudonym,
                "workflow_id": definition.id,
                "workflow_version": definition.version,
                "workflow_hash": definition.content_hash,
                "state": state.state,
                "version": state.version,
                "fields": audit.canonical_json(state.fields),
                "approvals": audit.canonical_json(state.approvals),
                "opened_on": state.opened_on,
                "closed": state.closed,
                "last_event_on": state.last_event_on,
                "last_seq": state.last_seq,
            }
        )
        for clock in derived.values():
            summary = clocks.summarise(clock)
            row = {name: getattr(summary, name) for name in projections.CLOCK_COLUMNS}
            row["case_id"] = case_id
            self.clock_rows.append(row)
        for columns in case.events:
            columns["case_id"] = case_id
        self.rows.extend(case.events)
        self.max_case_id = case_id

    def flush(self) -> tuple[int, str]:
        """Write the batch: case rows, clock rows, events, then the head."""
        repository.insert_case_rows(self.conn, self.case_rows)
        repository.insert_clock_rows(
            self.conn, ("case_id", *projections.CLOCK_COLUMNS), self.clock_rows
        )
        repository.insert_events(self.conn, self.rows)
        self.event_count = len(self.rows)
        if self.rows:
            repository.move_head(self.conn, self.head_seq, self.head_hash)
        self.rows, self.case_rows, self.clock_rows = [], [], []
        return self.head_seq, self.head_hash
