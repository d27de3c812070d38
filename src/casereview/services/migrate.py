"""`case migrate`: moving cases to a later installed version of their workflow (admin).

Each case moves with one event (kind and trigger `migrate`, `domain.migration`) under
the state map in the later version's file; its row is pinned to the new version and its
projection and clocks are rebuilt from the new version's rules, by the same replay
`audit verify` runs. Every selected case is worked out first, in one unit of work: if
any cannot move, nothing is written and the refusal lists each reason. A dry run works
out the same and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from casereview.domain import chain, clocks
from casereview.domain.migration import (
    FROM_HASH,
    FROM_VERSION,
    HELD_SINCE,
    MIGRATE,
    MIGRATE_KIND,
    arrival,
    state_map,
)
from casereview.domain.replay import Replayed, replay
from casereview.domain.workflow.model import WorkflowDefinition
from casereview.errors import CaseReviewError, InvalidInput, NotFound, Refused
from casereview.services.context import ServiceContext
from casereview.services.users import ADMIN

if TYPE_CHECKING:
    from casereview.domain.signing import Signer
    from casereview.store.database import Connection, Row


@dataclass(frozen=True)
class ClockChange:
    """One clock before and after the move (None: it does not exist on that side)."""

    clock_id: str
    before: clocks.ClockSummary | None
    after: clocks.ClockSummary | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class CaseMove:
    ref: str
    from_version: int
    to_version: int
    from_state: str
    to_state: str
    held: bool
    clocks: tuple[ClockChange, ...]
    seq: int | None = None
    """The migrate event's number (None in a dry run)."""


@dataclass(frozen=True)
class MigrationResult:
    workflow_id: str
    version: int
    dry_run: bool
    moves: tuple[CaseMove, ...]


@dataclass(frozen=True)
class _Planned:
    row: Row
    move: CaseMove
    record: dict[str, Any]
    definition: WorkflowDefinition


def migrate(
    ctx: ServiceContext,
    to: str,
    refs: Sequence[str] = (),
    *,
    every: bool = False,
    dry_run: bool = False,
) -> MigrationResult:
    """Move the cases `refs` (or, with `every`, every case on an earlier version of the
    workflow) to the installed version `to` (`id@N`, or an id: its highest installed
    version). Refused (exit 4, nothing written) unless every selected case can move."""
    from casereview.services.access import require_admin
    from casereview.services.workflows import for_new_case

    if bool(refs) == every:
        raise InvalidInput("name the cases to move, or all of them, not both or neither")
    with ctx.db().unit_of_work() as uow:
        conn = uow.conn
        require_admin(ctx, conn, "move cases between workflow versions")
        new = for_new_case(ctx, to, conn)
        rows = _selected(conn, new, refs, every)
        planned: list[_Planned] = []
        problems: list[str] = []
        for row in rows:
            try:
                planned.append(_plan(ctx, conn, row, new))
            except CaseReviewError as exc:
                problems.append(f"case {row['ref']}: {exc.message}")
        if problems:
            raise Refused(
                "{count} of {total} cases cannot move to {target}, so none was moved: {reasons}",
                count=len(problems),
                total=len(rows),
                target=new.label,
                reasons="; ".join(problems),
            )
        if dry_run:
            return MigrationResult(new.id, new.version, True, tuple(p.move for p in planned))
        from casereview.services import keys

        signer = keys.write_signer(ctx, conn)
        moved = [_write(ctx, conn, plan, new, signer) for plan in planned]
        uow.commit()
    return MigrationResult(new.id, new.version, False, tuple(moved))


def _selected(
    conn: Connection, new: WorkflowDefinition, refs: Sequence[str], every: bool
) -> list[Row]:
    from casereview.store import projections

    if every:
        return [
            r
            for r in projections.list_cases(conn)
            if r["workflow_id"] == new.id and int(r["workflow_version"]) < new.version
        ]
    rows = []
    for ref in dict.fromkeys(refs):
        row = projections.get_case(conn, ref)
        if row is None:
            raise NotFound("no case {ref!r}", ref=ref)
        rows.append(row)
    return rows


def _plan(ctx: ServiceContext, conn: Connection, row: Row, new: WorkflowDefinition) -> _Planned:
    """Work out one case's move; raises (a `Refused`) when it cannot move."""
    from casereview.store import event_log

    ref = str(row["ref"])
    if row["voided_seq"] is not None:
        raise Refused("it was voided as opened in error")
    old = ctx.registry.get_exact(
        str(row["workflow_id"]), int(row["workflow_version"]), str(row["workflow_hash"])
    )
    found = state_map(new, old)
    if isinstance(found, str):
        raise Refused(found)
    events = list(event_log.iter_events(conn, case_id=int(row["id"])))
    before = replay(old, ref, events)
    if before.problems:
        raise Refused(f"its history does not replay on {old.label} ({before.problems[0][1]})")
    if before.hold is not None:
        raise Refused("it is held; lift the hold before it moves")
    states = [f.to_state for f in before.facts]
    arrived = arrival(found, new, before.state, states)
    if arrived.problem is not None:
        raise Refused(arrived.problem)
    _check_values(new, before.fields)
    fields: dict[str, Any] = {FROM_VERSION: old.version, FROM_HASH: old.content_hash}
    if arrived.held:
        if new.holds is None or not before.fields.get(new.holds.review_by):
            raise Refused("it arrives held but has no date by which the hold is reviewed")
        fields[HELD_SINCE] = _since(before)
        fields[new.holds.review_by] = before.fields[new.holds.review_by]
        for name in _hold_fields(new):
            if name in before.fields:
                fields[name] = before.fields[name]
    record = {
        "kind": MIGRATE_KIND,
        "case_ref": ref,
        "trigger": MIGRATE,
        "from_state": before.state,
        "to_state": arrived.state,
        "occurred_on": ctx.clock.today().isoformat(),
        "recorded_at": chain.format_instant(ctx.clock.now()),
        "actor": ctx.account,
        "on_behalf_of": None,
        "role": ADMIN,
        "rationale": None,
        "fields": fields,
        "workflow_id": new.id,
        "workflow_version": new.version,
        "definition_hash": new.content_hash,
    }
    last = int(row["last_seq"])
    after = replay(new, ref, [*events, {**record, "seq": last + 1}])
    if after.problems:
        raise Refused(f"on {new.label} its history would not replay ({after.problems[0][1]})")
    was = clocks.derive(clocks.rules_for(old), before.facts, ctx.calendar)
    now = clocks.derive(clocks.rules_for(new), after.facts, ctx.calendar)
    move = CaseMove(
        ref=ref,
        from_version=old.version,
        to_version=new.version,
        from_state=before.state,
        to_state=arrived.state,
        held=arrived.held,
        clocks=_clock_changes(was, now),
    )
    return _Planned(row, move, record, new)


def _check_values(new: WorkflowDefinition, fields: Mapping[str, Any]) -> None:
    """Every value the case keeps must mean something in the new version: a field it
    has, and for a choice one of its choices."""
    for name, value in sorted(fields.items()):
        spec = new.fields_by_id.get(name)
        if spec is None:
            raise Refused(f"its field {name!r} is not a field of {new.label}")
        if spec.type == "choice" and value not in spec.choices:
            raise Refused(f"its {name} {value!r} is not one of {new.label}'s choices")


def _hold_fields(new: WorkflowDefinition) -> list[str]:
    """The case fields a hold trigger of the new version records (its reason)."""
    assert new.holds is not None
    names: list[str] = []
    for trigger_id in new.holds.hold:
        trigger = new.trigger(trigger_id)
        for name in (*trigger.requires, *trigger.optional):
            spec = new.field(name)
            if spec.scope == "case" and name != new.holds.review_by and name not in names:
                names.append(name)
    return names


def _since(case: Replayed) -> str:
    """The day the case entered the state it is in (the start of its last stay)."""
    since = case.facts[-1].occurred_on
    for fact in reversed(case.facts):
        if fact.to_state != case.state:
            break
        since = fact.occurred_on
    return since.isoformat()


def _clock_changes(
    was: Mapping[str, clocks.ClockState], now: Mapping[str, clocks.ClockState]
) -> tuple[ClockChange, ...]:
    ids = list(dict.fromkeys([*was, *now]))
    return tuple(
        ClockChange(
            clock_id,
            clocks.summarise(was[clock_id]) if clock_id in was else None,
            clocks.summarise(now[clock_id]) if clock_id in now else None,
        )
        for clock_id in ids
    )


def _write(
    ctx: ServiceContext, conn: Connection, plan: _Planned, new: WorkflowDefinition, signer: Signer
) -> CaseMove:
    from casereview.errors import Conflict
    from casereview.services.cases import _rebuild
    from casereview.store import event_log, projections

    row = plan.row
    case_id, ref = int(row["id"]), str(row["ref"])
    appended = event_log.append_event(conn, plan.record, case_id, signer)
    state, derived = _rebuild(ctx, conn, new, case_id, ref)
    ok = projections.update_case(
        conn,
        case_id,
        int(row["version"]),
        {
            "workflow_version": new.version,
            "workflow_hash": new.content_hash,
            "state": state.state,
            "version": state.version,
            "fields": state.fields,
            "approvals": state.approvals,
            "closed": state.closed,
            "opened_on": state.opened_on,
            "last_event_on": state.last_event_on,
            "last_seq": state.last_seq,
            "voided_seq": state.voided,
            "hold": state.hold,
        },
    )
    if not ok:
        raise Conflict(f"case {ref} was changed by someone else; nothing was recorded")
    projections.replace_clocks(
        conn,
        case_id,
        [clocks.summarise(c) for c in derived.values()],
        workflow=(new.id, new.version),
    )
    return CaseMove(**{**plan.move.__dict__, "seq": appended.seq})
