"""Applying many case scripts at once: historical imports and national-scale test data.

A *case script* is what a person would type: open a case, then fire its triggers.
`apply_scripts` runs the same domain code as `services.cases` (opening checks,
`engine.decide`, the action plan's gate, the check that a linked case exists, the steps
linked cases take with their lead, `replay`, `clocks.derive`, the store's one append
path), so every row is what `open_case` and `advance` would have written. Only the
grouping differs: one transaction per batch, the chain head in memory, and on SQLite a
writer process; a refusal rolls back its batch only. A step that linked cases take with
their lead (`[links]` `follow`) reaches only the cases whose scripts set
`keep_with_next`, which keeps them in one batch with the script after them (and in
memory until the batch is written). See docs/performance.md ("The data").
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from casereview.domain import actions as plans
from casereview.domain import chain, clocks, engine
from casereview.domain import links as case_links
from casereview.domain import processes as case_processes
from casereview.domain.imports import SOURCE_FIELD
from casereview.domain.replay import Replayed, apply_event
from casereview.domain.signing import Signer
from casereview.domain.workflow.model import WorkflowDefinition
from casereview.errors import CaseReviewError, Conflict, InvalidInput, NotFound, Refused
from casereview.infra.workers import RequestWorker
from casereview.infra.workflows import default_workflow
from casereview.services import cases, keys, refs
from casereview.services.context import ServiceContext
from casereview.store import bulk_writes, event_log, projections
from casereview.store import users as user_rows
from casereview.store.bulk_writes import PackedBatch, Start
from casereview.store.database import Database
from casereview.store.errors import StoreError

if TYPE_CHECKING:
    from casereview.store.database import Connection

IMPORT_GC_THRESHOLD = 100_000
"""Allocations between young-generation collections during an import (default 700)."""

DEFAULT_BATCH = 500
"""Cases per write transaction: big enough to amortise the commit (an fsync under
`synchronous=FULL`), small enough that a batch's events sit comfortably in memory."""


@dataclass(frozen=True)
class Step:
    """One trigger fired on a case: what advancing a case takes."""

    trigger: str
    on: dt.date
    fields: Mapping[str, str] = field(default_factory=dict)
    rationale: str | None = None
    on_behalf_of: str | None = None


@dataclass(frozen=True)
class CaseScript:
    """A case from its opening to its last event: what opening it, then advancing it once
    per step, take. `opened_on` defaults to today, as it does when a case is opened."""

    ref: str
    aware_on: dt.date
    fields: Mapping[str, str] = field(default_factory=dict)
    steps: Sequence[Step] = ()
    opened_on: dt.date | None = None
    pseudonym: str | None = None
    workflow: str | None = None
    """A workflow id or `id@N`; None: the default workflow."""
    source: str | None = None  # where an imported case came from (`domain.imports`)
    keep_with_next: bool = False
    """Written in the same batch as the script after it, and kept in memory until the
    batch is written: a case that a later script of the batch links to and leads
    (`[links]` `follow`), so that the lead's steps reach it."""


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
    case_id: int = 0


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
    with _fewer_collections():
        return _apply(ctx, scripts, batch_size, progress)


@dataclass(frozen=True)
class Checked:
    """What `check_and_write` found: each refused script (its index in the scripts
    given, the event refused: 0 the opening, N its step N) with the refusal, and what
    was written (None: nothing)."""

    refused: list[tuple[int, int, CaseReviewError]]
    written: BulkResult | None


def check_and_write(
    ctx: ServiceContext,
    scripts: Sequence[CaseScript],
    *,
    write: bool,
    progress: Callable[[int], None] | None = None,
) -> Checked:
    """Every script checked as `apply_scripts` checks it, each on its own (a refused one
    does not stop the rest), in one transaction; written only if `write` and none was
    refused. All or nothing: an import of a tracker (`services.imports`).

    Writing holds the write lock from the first check to the commit, so what was checked
    is what is written. `progress` is called with the number of scripts checked so far,
    every `DEFAULT_BATCH` scripts and at the end.
    """
    db = ctx.db()
    refused: list[tuple[int, int, CaseReviewError]] = []
    with (
        _fewer_collections(),
        bulk_writes.import_session(db, write=write) as session,
        session.batch() as conn,
    ):
        # A write is refused before anything is checked if the importer cannot sign.
        signer = keys.write_signer(ctx, conn) if write else None
        start = None if write else bulk_writes.log_position(conn)
        writer = _BatchWriter(ctx, conn, _Seen(), _Today(ctx), scripts, start=start)
        sealer = None
        if write and len(scripts) >= SEAL_APART_FROM:
            head_seq, head_hash, _next = writer.start
            assert head_hash is not None  # read under the lock just now
            sealer = _Sealer((head_seq, head_hash), signer)
        try:
            for index, script in enumerate(scripts):
                try:
                    writer.apply(script)
                except CaseReviewError as exc:
                    refused.append((index, writer.step_at, exc))
                if (index + 1) % DEFAULT_BATCH == 0:
                    if sealer is not None and not refused:
                        sealer.send(writer.checked_events())
                    if progress is not None:
                        progress(index + 1)
            if progress is not None:
                progress(len(scripts))
            if refused or not write or not scripts:
                return Checked(refused, None)
            if sealer is not None:
                sealer.send(writer.checked_events())
                head = bulk_writes.write_sealed(conn, writer.packed(), *sealer.sealed())
                events = sealer.count
            else:
                packed = writer.packed()
                seq, head_hash, _next_id = packed.start
                assert head_hash is not None  # read under the lock just now
                head = bulk_writes.write_batch(conn, packed, (seq, head_hash), signer)
                events = len(packed.events)
        finally:
            if sealer is not None:
                sealer.stop()
    return Checked([], BulkResult(len(scripts), events, head[0], head[1]))


SEAL_APART_FROM = 2 * DEFAULT_BATCH
"""Scripts from which a checked import seals and signs its events in a second process
while it checks the rest (`_Sealer`): below this, starting the process costs more than
it saves."""


class _Sealer:
    """A process that seals and signs a checked import's events in order, a part at a
    time, while the importing process checks the next part.

    Sealing (each event's hash on the one before) and signing are pure computation and,
    with the checks, most of an import's work; on two cores the two halves overlap. The
    events are written, sealed, in the import's one transaction at the end
    (`bulk_writes.write_sealed`); a refused import throws the sealed rows away.
    """

    def __init__(self, head: tuple[int, str], signer: Signer | None) -> None:
        self.worker = RequestWorker(
            _seal, (head, signer), name="the import's sealing process", error=StoreError
        )
        self.waiting = False
        self.names: tuple[str, ...] = ()
        self.rows: list[tuple[Any, ...]] = []
        self.head = head
        self.count = 0

    def send(self, events: list[tuple[Any, ...]]) -> None:
        """Hand over the next events in order (the part before is taken back first, so
        at most one part is in the worker's hands)."""
        self._take()
        self.worker.send(events)
        self.waiting = True

    def _take(self) -> None:
        if self.waiting:
            self.names, rows, self.head = self.worker.reply()
            self.rows.extend(rows)
            self.count += len(rows)
            self.waiting = False

    def sealed(self) -> tuple[tuple[str, ...], list[tuple[Any, ...]], tuple[int, str]]:
        """Every event handed over, sealed: the columns, the rows, the head after them."""
        self._take()
        return self.names, self.rows, self.head

    def stop(self) -> None:
        self.worker.stop()


@contextmanager
def _seal(
    setup: tuple[tuple[int, str], Signer | None],
) -> Iterator[Callable[[list[tuple[Any, ...]]], Any]]:
    """The sealing process's work: seal each part it is sent after the one before,
    from the head the import found under its write lock."""
    head, signer = setup

    def seal(events: list[tuple[Any, ...]]) -> Any:
        nonlocal head
        records = (dict(zip(event_log.UNSEALED_COLUMNS, e, strict=True)) for e in events)
        names, rows, head = event_log.seal_events(records, head=head, signer=signer)
        return names, rows, head

    with _fewer_collections():
        yield seal


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the garbage collector less often while an import runs.

    An import allocates millions of short-lived dicts and tuples (records, rows) and
    makes no reference cycles of its own; at Python's default threshold a collection
    runs every 700 allocations and a full one, walking every live object (the import's
    sets of references and pseudonyms included), every few hundred thousand. Reference
    counting still frees everything as before; only the cycle collector waits longer.
    """
    before = gc.get_threshold()
    gc.set_threshold(IMPORT_GC_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _apply(
    ctx: ServiceContext,
    scripts: Iterable[CaseScript],
    batch_size: int,
    progress: Callable[[int], None] | None,
) -> BulkResult:
    db = ctx.db()
    with db.reading() as conn:
        signer = keys.write_signer(ctx, conn)  # refused before anything is prepared
    run = _Run(ctx, progress, signer)
    batches: Iterator[list[CaseScript]] = _batches(scripts, batch_size)
    first_two = list(itertools.islice(batches, 2))
    batches = itertools.chain(first_two, batches)
    # Overlap needs at least two batches; one would only pay for starting the writer.
    if bulk_writes.pipelined(db) and len(first_two) == 2:
        batches = _pipelined(ctx, db, run, batches)
    _serial(ctx, db, run, batches)
    if run.cases == 0:
        with db.reading() as read:
            run.head = event_log.chain_head(read)
    return BulkResult(run.cases, run.events, run.head[0], run.head[1])


class _Run:
    """What one import has recorded so far, and what every batch of it shares."""

    def __init__(
        self, ctx: ServiceContext, progress: Callable[[int], None] | None, signer: Signer
    ) -> None:
        self.progress = progress
        self.signer = signer
        self.cases = self.events = 0
        self.head = (0, chain.GENESIS_HASH)
        self.seen = _Seen()
        self.today = _Today(ctx)

    def fill(self, writer: _BatchWriter, batch: Sequence[CaseScript]) -> None:
        """Apply every script of `batch` to `writer` (nothing written yet); a refused
        step is raised as `_ScriptRefused`, naming its case."""
        for script in batch:
            try:
                writer.apply(script)
            except CaseReviewError as exc:
                raise _ScriptRefused(script.ref, exc) from exc

    def refusal(self, refused: _ScriptRefused) -> CaseReviewError:
        """The refusal reworded to say what was and was not recorded."""
        return refused.error.prefixed(f"case {refused.ref}: ").suffixed(
            f". Nothing from this batch was recorded; the {self.cases} cases before it were"
        )

    def committed(self, head: tuple[int, str], events: int, cases: int) -> None:
        self.cases += cases
        self.events += events
        self.head = head
        if self.progress is not None:
            self.progress(events)


class _ScriptRefused(Exception):
    """A step of the case `ref` was refused (`error`) while its batch was prepared."""

    def __init__(self, ref: str, error: CaseReviewError) -> None:
        super().__init__(ref)
        self.ref = ref
        self.error = error


def _serial(
    ctx: ServiceContext, db: Database, run: _Run, batches: Iterable[list[CaseScript]]
) -> None:
    """Each batch prepared and written in its own transaction, one after the other."""
    # One connection for every batch, so SQLite's page cache (the hot part of the
    # indexes) outlives each commit.
    with bulk_writes.import_session(db, write=True) as session:
        for batch in batches:
            with session.batch() as conn:
                writer = _BatchWriter(ctx, conn, run.seen, run.today, batch)
                try:
                    run.fill(writer, batch)
                except _ScriptRefused as refused:
                    raise run.refusal(refused) from refused.error
                packed = writer.packed()
                seq, head_hash, _next_id = packed.start
                assert head_hash is not None  # read under the lock just now
                head = bulk_writes.write_batch(conn, packed, (seq, head_hash), run.signer)
            run.seen.commit(writer)
            run.committed(head, len(packed.events), len(batch))


def _pipelined(
    ctx: ServiceContext, db: Database, run: _Run, batches: Iterator[list[CaseScript]]
) -> Iterator[list[CaseScript]]:
    """Prepare each batch while a writer process writes the one before (SQLite).

    Preparing a batch is Python (decide, replay, clocks); writing it is sealing each
    event onto the chain (the one step that must go in order) and the driver's and
    SQLite's work (binding, index inserts, the commit's sync). They overlap on two cores
    only in two processes: a writer thread would need the interpreter lock for every
    row it binds and spend most of its time waiting for it. The writer gets each
    batch's rows as plain tuples.

    A batch is prepared from where the previous one will leave the log (its head, its
    next case id, the references and pseudonyms it adds), and from a second connection
    for everything already committed. Before writing, the writer checks under its write
    lock that the log is where the batch expects it; if another writer got in between,
    nothing of that batch is written and the rest of the import goes through `_serial`,
    which reads everything afresh. What is written is identical either way.

    Returns the batches still to write (none unless that happened).
    """
    writer = _WriterProcess(ctx.url, run.signer)
    in_flight: list[CaseScript] | None = None
    start: Start | None = None
    try:
        with bulk_writes.import_session(db, write=False) as session:
            for batch in batches:
                refused = None
                with session.batch() as reads:
                    if start is None:
                        start = bulk_writes.log_position(reads)
                    prepared = _BatchWriter(ctx, reads, run.seen, run.today, batch, start=start)
                    try:
                        run.fill(prepared, batch)
                    except _ScriptRefused as exc:
                        refused = exc
                # The batch before must be written before this one goes, and before a
                # refusal here reports how many cases were recorded.
                if in_flight is not None and not writer.written(run, len(in_flight)):
                    return _resume(run, [in_flight, batch], batches)
                in_flight = None  # written and counted
                if refused is not None:
                    raise run.refusal(refused) from refused.error
                writer.send(prepared.packed())
                run.seen.prepared(prepared)
                in_flight, start = batch, prepared.end()
            if in_flight is not None and not writer.written(run, len(in_flight)):
                return _resume(run, [in_flight], batches)
            in_flight = None
        return iter(())
    except BaseException:
        # Whatever stopped the import (a bad script, an interrupt), the batch in the
        # writer's hands is committed or not before this returns, and counted if it was.
        if in_flight is not None:
            with suppress(BaseException):
                writer.written(run, len(in_flight))
        raise
    finally:
        writer.stop()


def _resume(
    run: _Run, unwritten: list[list[CaseScript]], rest: Iterator[list[CaseScript]]
) -> Iterator[list[CaseScript]]:
    """The batches to write one by one after another writer moved the log."""
    run.seen = _Seen()  # it holds what the unwritten batches would have added
    return itertools.chain(unwritten, rest)


class _WriterProcess:
    """A process that writes packed batches in order, one transaction each, on its own
    connection (`_writer`). At most one batch is in its hands at a time (`send` after
    `written`)."""

    def __init__(self, url: str, signer: Signer) -> None:
        self.worker = RequestWorker(
            _writer, (url, signer), name="the bulk writer process", error=StoreError
        )
        self.sent: PackedBatch | None = None

    def send(self, batch: PackedBatch) -> None:
        self.worker.send(batch)
        self.sent = batch

    def written(self, run: _Run, cases: int) -> bool:
        """Wait for the batch sent last: True once committed (and counted in `run`),
        False if the log had moved and nothing was written; a failure is raised."""
        head = self.worker.reply()
        if head is None:
            return False
        assert self.sent is not None
        run.committed(head, len(self.sent.events), cases)
        return True

    def stop(self) -> None:
        self.worker.stop()


@contextmanager
def _writer(
    setup: tuple[str, Signer],
) -> Iterator[Callable[[PackedBatch], tuple[int, str] | None]]:
    """The writer process's work: write each batch it is sent on one connection, each
    in its own transaction, unless the log is not where the batch expects it (another
    writer got in: then nothing is written, and None goes back). Events are signed with
    the importing account's key, handed over with the database's URL."""
    url, signer = setup
    db = Database.open(url)
    try:
        with _fewer_collections(), bulk_writes.import_session(db, write=True) as session:
            last: tuple[int, str] | None = None

            def write(batch: PackedBatch) -> tuple[int, str] | None:
                nonlocal last
                written = session.write_if_expected(batch, last, signer)
                if written is not None:
                    last = written
                return written

            yield write
    finally:
        db.dispose()


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
    """`size` scripts at a time, more while a script asks to stay with the next one."""
    batch: list[CaseScript] = []
    for script in scripts:
        batch.append(script)
        if len(batch) >= size and not script.keep_with_next:
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
        self.refs: set[str] = set()  # added by this import (maybe not yet committed)
        self.max_id = 0

    def refresh(self, conn: Connection) -> set[str]:
        self.max_id, added = projections.pseudonyms_since(conn, self.max_id)
        self.pseudonyms |= added
        return set(self.pseudonyms)

    def commit(self, writer: _BatchWriter) -> None:
        self.pseudonyms |= writer.new_pseudonyms
        self.max_id = max(self.max_id, writer.max_case_id)

    def prepared(self, writer: _BatchWriter) -> None:
        """Count a batch's cases as seen before it is committed (`_pipelined`), so the
        next batch, prepared meanwhile, refuses its references and pseudonyms too."""
        self.commit(writer)
        self.refs |= writer.refs


class _BatchWriter:
    """One batch inside one write transaction, with the chain head kept in memory."""

    def __init__(
        self,
        ctx: ServiceContext,
        conn: Connection,
        seen: _Seen,
        today: _Today,
        batch: Sequence[CaseScript],
        start: Start | None = None,
    ) -> None:
        """`conn` answers the batch's lookups. `start` (head seq, head hash, next case
        id) is where the batch will find the log; None reads it from `conn`, which must
        then hold the write lock."""
        self.ctx = ctx
        self.conn = conn
        self.today = today
        if start is None:
            start = bulk_writes.log_position(conn, lock=True)
        self.start: Start = start
        self.head_seq, self.next_id = start[0], start[2]
        refs = [script.ref for script in batch]
        self.existing = projections.existing_case_refs(conn, refs) | (seen.refs & set(refs))
        self.seen = seen
        self.recorder = cases._person(user_rows.get_user(conn, ctx.account), ctx.account)
        self.deciders: dict[str, engine.Person] = {}
        self.workflows: dict[str, _Workflow] = {}
        self.in_use = seen.refresh(conn)
        self.new_pseudonyms: set[str] = set()
        self.refs: set[str] = set()
        self.rows: list[dict[str, Any]] = []
        # By case id, in the order opened; a case that takes a step with its lead later
        # in the batch is stored again in its place.
        self.case_rows: dict[int, dict[str, Any]] = {}
        self.clock_rows: dict[int, list[dict[str, Any]]] = {}
        # The cases of this writer that a later lead's step may reach (`_follow`): those
        # whose scripts ask to be kept with the next (a checked import holds every case
        # of a tracker in one writer; only these are kept in memory).
        self.followers: dict[str, _Case] = {}
        self.max_case_id = 0
        self.step_at = 0

    # -- lookups done once per batch ----------------------------------------------------

    def _workflow(self, workflow_id: str) -> _Workflow:
        found = self.workflows.get(workflow_id)
        if found is None:
            from casereview.services.workflows import for_new_case

            definition = for_new_case(self.ctx, workflow_id, self.conn)
            found = _Workflow(
                definition, clocks.rules_for(definition), cases.definition_machine(definition)
            )
            self.workflows[workflow_id] = found
        return found

    def _decider(self, username: str) -> engine.Person:
        person = self.deciders.get(username)
        if person is None:
            row = user_rows.get_user(self.conn, username)
            if row is None:
                raise NotFound(f"no user {username!r} to record this on behalf of")
            person = cases._person(row, username)
            self.deciders[username] = person
        return person

    # -- one case -------------------------------------------------------------------------

    def apply(self, script: CaseScript) -> None:
        self.step_at = 0  # the event being checked: 0 the opening, then each step's number
        case = self._open(script)
        for number, step in enumerate(script.steps, start=1):
            self.step_at = number
            try:
                self._advance(case, step)
            except CaseReviewError as exc:
                raise exc.prefixed(f"step {number} ({step.trigger}): ") from exc
        self._store(case)

    def _open(self, script: CaseScript) -> _Case:
        """What `services.cases.open_case` checks and records, without the database
        round trips it needs for a single case."""
        ctx, ref = self.ctx, script.ref
        cases.check_ref(ref)
        workflow = self._workflow(script.workflow or default_workflow())
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
        if script.source is not None:
            record["fields"][SOURCE_FIELD] = script.source
        self.refs.add(ref)
        self.in_use.add(pseudonym)
        self.new_pseudonyms.add(pseudonym)
        # The write path numbers a case when it opens it.
        case = _Case(script, workflow, Replayed(ref=ref), case_id=self.next_id)
        self.next_id += 1
        links = workflow.definition.links
        if script.keep_with_next and links is not None and links.follow:
            self.followers[ref] = case
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
        decision = engine.decide(
            definition,
            _snapshot(state),
            engine.Request(step.trigger, step.on, dict(step.fields), step.rationale),
            self.recorder,
            decider,
            destination=case.workflow.destination,
            calendar=ctx.calendar,
        )
        self._gate(case, decision.trigger)
        self._other_case_exists(definition, decision)
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
        if case.script.source is not None:
            record["fields"][SOURCE_FIELD] = case.script.source
        self._append(case, record)
        self._follow(case, decision, step, decider)

    def _gate(self, case: _Case, trigger: str) -> None:
        """The action plan's gate (`services.actions.gate`): a scripted case has no plan
        events, so a step that needs a plan is refused and one that waits for open
        actions never waits."""
        rules = case.workflow.definition.action_plan
        if rules is None or (
            trigger not in rules.refuse_while_open and trigger not in rules.require_plan
        ):
            return
        problem = plans.gate_refusal(rules, plans.replay([]), trigger, case.state.last_seq)
        if problem is not None:
            raise Refused("case {ref}: {problem}", ref=case.state.ref, problem=problem)

    def _other_case_exists(self, definition: WorkflowDefinition, decision: engine.Decision) -> None:
        """A link names a case that exists and was not voided (`services.cases`): one of
        this import's or one in the database."""
        if definition.links is None:
            return
        other = case_links.other_of(definition.links, decision.trigger, decision.changes)
        if other is None or other in self.refs or other in self.seen.refs:
            return
        row = projections.get_case(self.conn, other)
        if row is None:
            raise refs.no_case(other)
        if row["voided_seq"] is not None:
            raise Refused(f"case {other} was voided as opened in error; it cannot be linked")

    def _follow(
        self, lead: _Case, decision: engine.Decision, step: Step, decider: engine.Person | None
    ) -> None:
        """The step each linked case takes with the lead, as `services.cases._follow`
        records it: decided on the linked case's own record, refused for the lead if it
        cannot be taken; a linked case in another state or on another workflow is left
        as it is. Only cases kept for it (`CaseScript.keep_with_next`) can take it."""
        definition = lead.workflow.definition
        table = definition.links
        if table is None or not table.follow or not lead.state.links:
            return
        others = case_links.followers(
            table, lead.state.links, decision.trigger, decision.from_state
        )
        if not others:
            return
        lead_ref, lead_seq = lead.state.ref, self.head_seq
        note = f"With case {lead_ref} (event {lead_seq})" + (
            f": {step.rationale.strip()}" if step.rationale and step.rationale.strip() else ""
        )
        for other in others:
            child = self.followers.get(other)
            if child is None:
                raise Refused(
                    f"linked case {other} takes {decision.trigger} with case {lead_ref}, but it "
                    "was not kept for it: a bulk write takes a lead's step only on linked "
                    "cases written before the lead in its batch, whose scripts are kept with "
                    "the next (keep_with_next)"
                )
            mine = child.workflow.definition
            if (mine.id, mine.version) != (definition.id, definition.version) or (
                child.state.state != decision.from_state
            ):
                continue
            try:
                self.today.check(step.on, child.state.last_event_on, "the event date")
                child_decision = engine.decide(
                    mine,
                    _snapshot(child.state),
                    engine.Request(decision.trigger, step.on, dict(step.fields), note),
                    self.recorder,
                    decider,
                    destination=child.workflow.destination,
                    calendar=self.ctx.calendar,
                )
                self._gate(child, child_decision.trigger)
            except CaseReviewError as exc:
                raise exc.prefixed(
                    f"linked case {other} takes {decision.trigger} with case {lead_ref}, but: "
                ) from None
            record = cases._event_record(
                self.ctx,
                mine,
                ref=other,
                trigger=child_decision.trigger,
                from_state=child_decision.from_state,
                to_state=child_decision.to_state,
                occurred_on=step.on,
                role=child_decision.role,
                rationale=note,
                fields=child_decision.changes,
                on_behalf_of=decider.username if decider else None,
            )
            self._append(child, record)
            self._store(child)

    def _append(self, case: _Case, record: dict[str, Any]) -> None:
        """Number the event after the in-memory head and carry the case forward. It is
        sealed when written (`bulk_writes.write_batch`): the chain is the one thing that
        must be done in order, and there it costs the preparing process nothing.

        `record` (a fresh `cases._event_record`, owned here) becomes the event itself,
        with the columns it lacks set to None (`algorithm`: filled when sealed), as a
        copy of its columns into a new dict would have them, at a third of the cost.
        """
        self.head_seq += 1
        event = record
        event["seq"] = self.head_seq
        for name in _BEFORE_CASE_ID.difference(event):
            event[name] = None
        # Replay reads the fields as stored; the dict they will be encoded from is equal
        # (canonical JSON round-trips str, int, bool and None) and saves decoding them.
        apply_event(case.workflow.definition, case.state, event)
        event["case_id"] = case.case_id
        self.rows.append(event)  # in seq order: a linked case's step sits after its lead's

    def _store(self, case: _Case) -> None:
        """The case row and clock rows, as the write path leaves them after the last
        event (`projections.insert_case`, `update_case` and `replace_clocks` write the
        same columns the same way), queued with the case's events for the batch."""
        state, workflow = case.state, case.workflow
        definition = workflow.definition
        if state.problems:  # cannot happen after engine.decide; never store a bad replay
            seq, problem = state.problems[0]
            raise Refused(f"event {seq} does not replay: {problem}")
        # Once per case: the write path derives the clocks after every event and keeps
        # the last, which is this.
        derived = clocks.derive(workflow.rules, state.facts, self.ctx.calendar)
        case_id = case.case_id
        self.case_rows[case_id] = {
            "id": case_id,
            "ref": state.ref,
            "pseudonym": state.pseudonym,
            "workflow_id": definition.id,
            "workflow_version": definition.version,
            "workflow_hash": definition.content_hash,
            "state": state.state,
            "version": state.version,
            "fields": chain.canonical_json(state.fields),
            "approvals": chain.canonical_json(state.approvals),
            "opened_on": state.opened_on,
            "closed": state.closed,
            "last_event_on": state.last_event_on,
            "last_seq": state.last_seq,
            "voided_seq": state.voided,
            "hold": projections.hold_json(state.hold),
            "processes": projections.processes_json(case_processes.listed(state.processes)),
            "links": projections.processes_json(state.links),
        }
        clock_rows = self.clock_rows[case_id] = []
        for clock in derived.values():
            summary = clocks.summarise(clock)
            row = {name: getattr(summary, name) for name in projections.CLOCK_COLUMNS}
            row["case_id"] = case_id
            row["workflow_id"], row["workflow_version"] = definition.id, definition.version
            clock_rows.append(row)
        self.max_case_id = max(self.max_case_id, case_id)

    def end(self) -> Start:
        """Where this batch leaves the log, as the next batch's `start`: the head's
        seq and the next case id are known here; its hash once the batch is written."""
        return self.head_seq, None, self.next_id

    def checked_events(self) -> list[tuple[Any, ...]]:
        """The events of the cases checked since the last call, in order, as tuples of
        `event_log.UNSEALED_COLUMNS` (and no longer held here: `packed` leaves them
        out)."""
        events = bulk_writes.row_values(event_log.UNSEALED_COLUMNS, self.rows)
        self.rows = []
        return events

    def packed(self) -> PackedBatch:
        """The batch's rows as the writer takes them (and the batch's lists emptied)."""
        row_values = bulk_writes.row_values
        batch = PackedBatch(
            self.start,
            row_values(projections.CASE_COLUMNS, list(self.case_rows.values())),
            row_values(
                projections.CLOCK_ROW_COLUMNS,
                [row for rows in self.clock_rows.values() for row in rows],
            ),
            row_values(event_log.UNSEALED_COLUMNS, self.rows),
        )
        self.rows, self.case_rows, self.clock_rows = [], {}, {}
        return batch


_BEFORE_CASE_ID = frozenset(event_log.UNSEALED_COLUMNS) - {"case_id"}
"""The columns an event has when it is replayed (`case_id` is set just after)."""


def _snapshot(state: Replayed) -> engine.CaseSnapshot:
    """What the engine needs of a case being written: its replay so far."""
    return engine.CaseSnapshot(
        ref=state.ref,
        state=state.state,
        fields=state.fields,
        approvals=state.approvals,
        version=state.version,
        history=state.facts,
        hold=state.hold,
        open_rounds=state.open_rounds,
        processes=state.processes,
        links=state.links,
        steps=state.history,
    )
