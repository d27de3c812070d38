"""Use cases that put a case's record right: correct, undo the latest step, void.

Each follows the write path of `services.cases.advance`: one unit of work; load the case,
its pinned workflow and its events; let `domain.corrections` decide (who may, what the
event records, whether the corrected history could have happened); append exactly one
event; rebuild the case row and its clocks from the events, through the same replay
`audit verify` runs; commit. Nothing already in the log changes: the amending event
says what was wrong, what is right, who said so and why, and replay applies it.

The result names the clocks the event moved (due date and state before and after), so
a correction to a date a statutory clock counts from says what it did to the deadline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from casereview.domain import clocks, corrections
from casereview.domain.amendments import Change
from casereview.domain.corrections import Amending, ClockShift, CorrectionRequest
from casereview.domain.engine import Person
from casereview.domain.replay import Replayed, replay
from casereview.domain.workflow.model import WorkflowDefinition
from casereview.services import cases
from casereview.services.context import ServiceContext

if TYPE_CHECKING:
    from casereview.store.database import Connection, Row

Decide = Callable[
    [WorkflowDefinition, Sequence[Mapping[str, Any]], Replayed, Person, dt.date], Amending
]
"""How one of the three decides, given the case's definition, events, replay, the person
asking and today."""


@dataclass(frozen=True)
class AmendResult:
    """What an amending event recorded and did."""

    ref: str
    seq: int
    trigger: str  # correct | undo | void
    from_state: str
    to_state: str
    occurred_on: str
    role: str
    rationale: str
    changes: tuple[Change, ...]  # a correction's changes (which event, what, was -> now)
    reverses: int | None  # the step an undo reversed
    reversed_trigger: str | None  # that step's trigger
    clocks: tuple[ClockShift, ...]  # the clocks it moved
    entry_hash: str


def correct(
    ctx: ServiceContext,
    ref: str,
    *,
    fields: Mapping[str, str] | None = None,
    event: int | None = None,
    on: dt.date | None = None,
    event_rationale: str | None = None,
    rationale: str | None = None,
) -> AmendResult:
    """Record one correction: fields an event recorded, its date, or its rationale."""
    request = CorrectionRequest(dict(fields or {}), event, on, event_rationale, rationale)

    def decide(
        definition: WorkflowDefinition,
        rows: Sequence[Mapping[str, Any]],
        case: Replayed,
        person: Person,
        today: dt.date,
    ) -> Amending:
        return corrections.decide_correction(definition, rows, case, request, person, today)

    return _record(ctx, ref, decide)


def undo(
    ctx: ServiceContext, ref: str, *, rationale: str | None, event: int | None = None
) -> AmendResult:
    """Reverse the case's latest step (`event`, when given, must be that step)."""

    def decide(definition: Any, rows: Any, case: Any, person: Any, today: dt.date) -> Amending:
        return corrections.decide_undo(
            definition, rows, case, person, rationale, today, expect=event
        )

    return _record(ctx, ref, decide)


def void(ctx: ServiceContext, ref: str, *, rationale: str | None) -> AmendResult:
    """Void a case opened in error: it stays in the log, and leaves every list and figure."""

    def decide(
        definition: WorkflowDefinition,
        rows: Sequence[Mapping[str, Any]],
        case: Replayed,
        person: Person,
        today: dt.date,
    ) -> Amending:
        return corrections.decide_void(definition, rows, case, person, rationale, today)

    return _record(ctx, ref, decide)


def _record(ctx: ServiceContext, ref: str, decide: Decide) -> AmendResult:
    """The write path shared by the three: decide, append one event, rebuild, commit."""
    from casereview.services import keys
    from casereview.store import event_log
    from casereview.store import users as user_rows

    today = ctx.clock.today()
    db = ctx.db()
    with db.unit_of_work() as uow:
        conn = uow.conn
        row = cases._case_row(conn, ref)
        ref = str(row["ref"])
        definition = cases._definition_for(ctx, row)
        person = cases._person(user_rows.get_user(conn, ctx.account), ctx.account)
        rows = _events(conn, row)
        case = replay(definition, ref, rows)
        decision = decide(definition, rows, case, person, today)
        record = cases._event_record(
            ctx,
            definition,
            ref=ref,
            trigger=decision.trigger,
            from_state=decision.from_state,
            to_state=decision.to_state,
            occurred_on=today,
            role=decision.role,
            rationale=decision.rationale,
            fields=decision.fields,
            on_behalf_of=None,
        )
        signer = keys.write_signer(ctx, conn)
        appended = event_log.append_event(conn, record, int(row["id"]), signer)
        cases._store_projection(
            ctx, conn, definition, int(row["id"]), ref, expected_version=int(row["version"])
        )
        uow.commit()
    reversed_trigger = None
    if decision.reverses is not None:
        reversed_trigger = next(
            str(r["trigger"]) for r in rows if int(r["seq"]) == decision.reverses
        )
    shifts = corrections.clock_shifts(
        clocks.rules_for(definition), decision.amendment, ctx.calendar
    )
    return AmendResult(
        ref=ref,
        seq=appended.seq,
        trigger=decision.trigger,
        from_state=decision.from_state,
        to_state=decision.to_state,
        occurred_on=today.isoformat(),
        role=decision.role,
        rationale=decision.rationale,
        # A personal field's old value is a view of it: left out, as everywhere else.
        changes=tuple(
            Change(c.event, c.what, c.field, None, None)
            if c.field in definition.personal_field_ids
            else c
            for c in decision.changes
        ),
        reverses=decision.reverses,
        reversed_trigger=reversed_trigger,
        clocks=shifts,
        entry_hash=appended.entry_hash,
    )


def _events(conn: Connection, row: Row) -> list[dict[str, Any]]:
    from casereview.store import event_log

    return list(event_log.iter_events(conn, case_id=int(row["id"])))
