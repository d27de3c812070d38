"""Use cases about cases: open, advance, list, show (optionally as at a past date).

Every write follows the same path: one unit of work; load the case and its pinned
workflow; let the engine decide; append exactly one event (`store.event_log`); rebuild
the case row and its clocks from the events (the same replay `audit verify` runs);
commit. A step that linked cases take with the case (the workflow's `[links]`
`follow`) appends one event on each of them in the same unit of work, each decided by
the engine on its own case: all of them, or nothing.

`show_case` only reads, through `ctx.reader()` and `store.dashboard_queries`. The store
modules the writes use import SQLAlchemy, so they are imported inside the functions
that write: showing a case does not pay for them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from casereview.domain import chain, checks, clocks, dates, engine, signoffs
from casereview.domain import links as case_links
from casereview.domain import processes as case_processes
from casereview.domain import text as free_text
from casereview.domain.replay import Replayed, replay
from casereview.domain.workflow.model import WorkflowDefinition
from casereview.errors import (
    CaseReviewError,
    Conflict,
    Input,
    InvalidInput,
    NotFound,
    Refused,
    Step,
)
from casereview.infra.workflows import default_workflow
from casereview.services import filters, refs
from casereview.services.access import allow_personal, require_reader
from casereview.services.context import ServiceContext
from casereview.services.stored import replay_stored

if TYPE_CHECKING:
    from casereview.store.database import Connection, Row

_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.-]{0,39}")


@dataclass(frozen=True)
class ClockView:
    clock_id: str
    label: str
    kind: str
    state: str
    status: str
    anchor_on: str | None
    due_on: str | None
    started_on: str | None
    stopped_on: str | None
    working_days_left: int | None
    remaining_days: int | None
    rule: str


@dataclass(frozen=True)
class TriggerOption:
    trigger: str
    label: str
    to_state: str
    roles: tuple[str, ...]
    needs: tuple[Input | str, ...]  # inputs to give (spelled by the front end), guards in words


@dataclass(frozen=True)
class HoldView:
    """The hold on a case held in its stage (the workflow's `[holds]`)."""

    since: str
    review_by: str | None
    trigger: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class CaseView:
    ref: str
    pseudonym: str
    state: str
    state_label: str
    closed: bool
    workflow: str
    workflow_version: int
    version: int
    opened_on: str
    last_event_on: str
    fields: dict[str, Any]
    approvals: dict[str, list[str]]
    clocks: tuple[ClockView, ...]
    possible: tuple[TriggerOption, ...]
    as_at: str | None
    voided_on: str | None = None  # the day the case was voided as opened in error
    amended: int = 0  # corrections, undos and voids recorded on it (see its timeline)
    hold: HoldView | None = None  # held in its stage; None: not held
    hidden_fields: tuple[str, ...] = ()  # personal fields it holds, left out of `fields`
    rounds: tuple[signoffs.RoundView, ...] = ()  # sign-off rounds: who has and has not signed
    breaches: tuple[checks.Breach, ...] = ()  # steps recorded despite a failed check
    processes: tuple[dict[str, Any], ...] = ()  # parallel processes, in number order
    links: tuple[dict[str, Any], ...] = ()  # links this case recorded: other, relation, on, seq
    linked_from: tuple[dict[str, Any], ...] = ()  # links other cases recorded to this one


@dataclass(frozen=True)
class AdvanceResult:
    ref: str
    seq: int
    trigger: str
    from_state: str
    to_state: str
    occurred_on: str
    entry_hash: str
    clocks: tuple[ClockView, ...]
    changed: tuple[str, ...] = ()  # ids of the clocks this event started, stopped or moved
    as_of: str | None = None  # a back-dated event: the clocks' statuses are as of its date
    followed: tuple[dict[str, Any], ...] = ()
    """The linked cases that took the step with this one (`[links]` `follow`), each
    `{"ref", "seq"}`, and those left as they were, each `{"ref", "seq": None, "left"}`
    (why: in another state, closed, voided, on another version)."""


def _person(row: Row | None, username: str) -> engine.Person:
    if row is None:
        raise Refused(
            "account {username!r} is not a casereview user; ask an admin to run '{add}'",
            username=username,
            add=Step("add_user", (username,)),
        )
    return engine.Person(
        username=str(row["username"]),
        roles=frozenset(json.loads(row["roles"])),
        agency=row["agency"],
        active=bool(row["active"]),
    )


def _definition_for(ctx: ServiceContext, row: Mapping[str, Any] | Row) -> WorkflowDefinition:
    return ctx.registry.get_exact(
        str(row["workflow_id"]), int(row["workflow_version"]), str(row["workflow_hash"])
    )


def _case_row(conn: Connection, ref: str) -> Row:
    from casereview.store import projections

    return refs.choose(
        ref, projections.get_case(conn, ref), lambda p: projections.cases_named(conn, p)
    )


def _event_record(
    ctx: ServiceContext,
    definition: WorkflowDefinition,
    *,
    ref: str,
    trigger: str,
    from_state: str | None,
    to_state: str,
    occurred_on: dt.date,
    role: str,
    rationale: str | None,
    fields: Mapping[str, Any],
    on_behalf_of: str | None,
) -> dict[str, Any]:
    return {
        "kind": "case",
        "case_ref": ref,
        "trigger": trigger,
        "from_state": from_state,
        "to_state": to_state,
        "occurred_on": occurred_on.isoformat(),
        "recorded_at": chain.format_instant(ctx.clock.now()),
        "actor": ctx.account,
        "on_behalf_of": on_behalf_of,
        "role": role,
        "rationale": rationale or None,
        "fields": dict(fields),
        "workflow_id": definition.id,
        "workflow_version": definition.version,
        "definition_hash": definition.content_hash,
    }


def _rebuild(
    ctx: ServiceContext, conn: Connection, definition: WorkflowDefinition, case_id: int, ref: str
) -> tuple[Any, dict[str, clocks.ClockState]]:
    from casereview.store import event_log

    events: list[Mapping[str, Any]] = list(event_log.iter_events(conn, case_id=case_id))
    state = replay(definition, ref, events)
    derived = clocks.derive(clocks.rules_for(definition), state.facts, ctx.calendar)
    return state, derived


def _next_pseudonym(in_use: set[str]) -> str:
    letters = string.ascii_uppercase
    for width in (1, 2):
        for index in range(len(letters) ** width):
            label, n = "", index
            for _ in range(width):
                label = letters[n % 26] + label
                n //= 26
            candidate = f"Child {label}"
            if candidate not in in_use:
                return candidate
    raise Conflict(
        "every default pseudonym is in use; give {pseudonym}", pseudonym=Input("pseudonym")
    )


def _check_date(ctx: ServiceContext, on: dt.date, not_before: str | None, what: str) -> None:
    today = ctx.clock.today()
    dates.supported(on, what)
    if on > today:
        raise Refused(f"{what} {on.isoformat()} is in the future (today is {today.isoformat()})")
    if not_before is not None and on.isoformat() < not_before:
        raise Refused(
            f"{what} {on.isoformat()} is before the case's latest event on {not_before}; "
            "events are recorded in order"
        )


def check_ref(ref: str) -> None:
    """Refuse a case reference that is not 1-40 safe characters."""
    if not _REF.fullmatch(ref):
        raise InvalidInput(
            "a case reference is 1-40 letters, digits, '/', '_', '.' or '-', "
            f"starting with a letter or digit; got {ref[:40]!r}"
        )


@dataclass(frozen=True)
class Opening:
    """An opening request that passed every check that needs no database."""

    opened_on: dt.date
    values: dict[str, Any]
    pseudonym: str | None  # normalised; None: choose the next free one


def prepare_opening(
    ctx: ServiceContext,
    definition: WorkflowDefinition,
    aware_on: dt.date,
    fields: Mapping[str, str],
    pseudonym: str | None,
    on: dt.date | None,
) -> Opening:
    """Dates, opening fields and the pseudonym's form, checked (shared with bulk)."""
    opened_on = on or ctx.clock.today()
    dates.check_opening(opened_on=opened_on, aware_on=aware_on, today=ctx.clock.today())
    # The date the local authority became aware is recorded where the workflow has a
    # field for it (the England LCSPR workflow's clocks count from it); a workflow
    # without one (the transitional SCR workflow counts from notified_on) only has it
    # checked, not stored.
    given = dict(fields)
    if "aware_on" in definition.fields_by_id:
        given = {"aware_on": aware_on.isoformat(), **given}
    values = engine.opening_fields(definition, given)
    dates.check_opening_facts(
        dates.given_dates(definition, values), opened_on=opened_on, today=ctx.clock.today()
    )
    if pseudonym is not None:
        free_text.check(pseudonym, Input("pseudonym"), multiline=False)
        pseudonym = " ".join(pseudonym.split())
        if not pseudonym or len(pseudonym) > 60 or "\x00" in pseudonym:
            raise InvalidInput("a pseudonym is 1-60 printable characters, e.g. 'Child A'")
    return Opening(opened_on, values, pseudonym)


def opening_role(ctx: ServiceContext, definition: WorkflowDefinition, me: engine.Person) -> str:
    """The role `me` opens cases in, or Refused naming the roles that may (or saying
    that `me` is deactivated)."""
    if not me.active:
        raise Refused(f"user {me.username!r} is deactivated")
    open_roles = [r for r in definition.open_roles if r in me.roles]
    if not open_roles:
        raise Refused(
            f"opening a case needs one of the roles {', '.join(definition.open_roles)}; "
            f"{ctx.account!r} holds {', '.join(sorted(me.roles)) or 'no role'}"
        )
    return open_roles[0]


def check_installed(conn: Connection, definition: WorkflowDefinition) -> None:
    """Refuse opening a case on a workflow version no admin installed, once the log
    holds any installation (`audit verify` checks the same: `domain.authority`)."""
    from casereview.store import event_log

    installs = event_log.installed_workflows(conn)
    if not installs:
        return  # a log from before installations: every shipped workflow may be used
    installed = set()
    for _seq, stored in installs:
        try:
            fields = json.loads(stored)
        except ValueError:
            continue
        if isinstance(fields, dict):
            installed.add(
                (fields.get("workflow_id"), fields.get("version"), fields.get("definition_hash"))
            )
    if tuple(definition.key) not in installed:
        raise Refused(
            f"workflow {definition.label} is not installed in this database (or its file "
            "has changed since it was installed); an admin must install it before cases "
            "are opened on it"
        )


def opening_event(
    ctx: ServiceContext,
    definition: WorkflowDefinition,
    role: str,
    ref: str,
    opening: Opening,
    in_use: set[str],
) -> tuple[dict[str, Any], str]:
    """The pseudonym chosen or checked against `in_use`, and the opening event's record
    (shared with bulk). Returns (record, pseudonym)."""
    pseudonym = opening.pseudonym
    if pseudonym is None:
        pseudonym = _next_pseudonym(in_use)
    elif pseudonym in in_use:
        raise Conflict(f"pseudonym {pseudonym!r} is already used by another case")
    record = _event_record(
        ctx,
        definition,
        ref=ref,
        trigger=clocks.OPEN_TRIGGER,
        from_state=None,
        to_state=definition.initial_state,
        occurred_on=opening.opened_on,
        role=role,
        rationale=None,
        fields={**opening.values, "pseudonym": pseudonym},
        on_behalf_of=None,
    )
    return record, pseudonym


def open_case(
    ctx: ServiceContext,
    ref: str,
    *,
    aware_on: dt.date,
    pseudonym: str | None = None,
    workflow: str | None = None,
    fields: Mapping[str, str] | None = None,
    on: dt.date | None = None,
) -> CaseView:
    """Open a case in its workflow's initial state and start its clocks: `workflow` is
    an id (its highest installed version) or `id@N`; None is the default workflow."""
    from casereview.services import keys
    from casereview.services.workflows import for_new_case
    from casereview.store import event_log, projections
    from casereview.store import users as user_rows

    check_ref(ref)
    definition = for_new_case(ctx, workflow or default_workflow())
    opening = prepare_opening(ctx, definition, aware_on, fields or {}, pseudonym, on)
    opened_on, values = opening.opened_on, opening.values
    db = ctx.db()
    with db.unit_of_work() as uow:
        conn = uow.conn
        me = _person(user_rows.get_user(conn, ctx.account), ctx.account)
        role = opening_role(ctx, definition, me)
        check_installed(conn, definition)
        taken = projections.get_case(conn, ref)
        if taken is not None:
            raise Conflict(f"case {ref!r} already exists{_if_voided(taken)}")
        _pseudonym_free(conn, opening.pseudonym)
        record, pseudonym = opening_event(
            ctx, definition, role, ref, opening, projections.pseudonyms_in_use(conn)
        )
        case_id = projections.insert_case(
            conn,
            {
                "ref": ref,
                "pseudonym": pseudonym,
                "workflow_id": definition.id,
                "workflow_version": definition.version,
                "workflow_hash": definition.content_hash,
                "state": definition.initial_state,
                "version": 0,
                "fields": values,
                "approvals": {},
                "opened_on": opened_on.isoformat(),
                "closed": False,
                "last_event_on": opened_on.isoformat(),
                "last_seq": 0,
            },
        )
        event_log.append_event(conn, record, case_id, keys.write_signer(ctx, conn))
        _store_projection(ctx, conn, definition, case_id, ref, expected_version=0)
        uow.commit()
    return show_case(ctx, ref)


def _if_voided(row: Row) -> str:
    """What a refusal adds about a case that holds a reference or pseudonym asked for:
    a voided case keeps both, so the words say so rather than leave it a puzzle."""
    if row["voided_seq"] is None:
        return ""
    return (
        f" (it was voided as opened in error, event {row['voided_seq']}; its reference and "
        "pseudonym stay taken: choose others)"
    )


def _pseudonym_free(conn: Connection, pseudonym: str | None) -> None:
    """Refuse a pseudonym another case holds, naming that case."""
    from casereview.store import projections

    if pseudonym is None:
        return
    holder = projections.case_with_pseudonym(conn, pseudonym)
    if holder is not None:
        raise Conflict(
            f"pseudonym {pseudonym!r} is already used by case {holder['ref']}{_if_voided(holder)}"
        )


def _store_projection(
    ctx: ServiceContext,
    conn: Connection,
    definition: WorkflowDefinition,
    case_id: int,
    ref: str,
    *,
    expected_version: int,
) -> dict[str, clocks.ClockState]:
    from casereview.store import projections

    state, derived = _rebuild(ctx, conn, definition, case_id, ref)
    ok = projections.update_case(
        conn,
        case_id,
        expected_version,
        {
            "state": state.state,
            "version": state.version,
            "fields": state.fields,
            "approvals": state.approvals,
            "closed": state.closed,
            "opened_on": state.opened_on,  # a correction may move the opening's date
            "last_event_on": state.last_event_on,
            "last_seq": state.last_seq,
            "voided_seq": state.voided,
            "hold": state.hold,
            "processes": case_processes.listed(state.processes),
            "links": state.links,
        },
    )
    if not ok:
        raise Conflict(f"case {ref} was changed by someone else; nothing was recorded")
    projections.replace_clocks(
        conn,
        case_id,
        [clocks.summarise(c) for c in derived.values()],
        workflow=(definition.id, definition.version),
    )
    if definition.action_plan is not None:
        from casereview.services.actions import store_plan

        store_plan(conn, case_id, live=not state.closed and state.voided is None)
    return derived


def advance(
    ctx: ServiceContext,
    ref: str,
    trigger: str,
    *,
    on: dt.date | None = None,
    rationale: str | None = None,
    fields: Mapping[str, str] | None = None,
    on_behalf_of: str | None = None,
    expect_state: str | None = None,
    expect_version: int | None = None,
) -> AdvanceResult:
    """Fire one trigger on one case: exactly one event (and one on each linked case
    that takes the step with it), or nothing at all."""
    from casereview.services import keys
    from casereview.store import event_log
    from casereview.store import users as user_rows

    occurred_on = on or ctx.clock.today()
    if expect_state is not None:
        filters.check(ctx, "state", expect_state)
    db = ctx.db()
    with db.unit_of_work() as uow:
        conn = uow.conn
        row = _case_row(conn, ref)
        ref = str(row["ref"])
        if expect_state is not None and row["state"] != expect_state:
            raise Conflict(
                "case {ref} is now in {state}, not {expected}: someone else moved it first; "
                "nothing was recorded. Check '{show}' and retry",
                ref=ref,
                state=row["state"],
                expected=expect_state,
                show=Step("show_case"),
            )
        if expect_version is not None and int(row["version"]) != expect_version:
            raise Conflict(
                f"case {ref} has changed since you looked at it (version {row['version']}, "
                f"not {expect_version}); nothing was recorded"
            )
        if row["voided_seq"] is not None:
            raise Refused(
                f"case {ref} was voided as opened in error (event {row['voided_seq']}); "
                "nothing more is recorded on it"
            )
        definition = _definition_for(ctx, row)
        recorder = _person(user_rows.get_user(conn, ctx.account), ctx.account)
        decider = None
        if on_behalf_of is not None and on_behalf_of != ctx.account:
            decider_row = user_rows.get_user(conn, on_behalf_of)
            if decider_row is None:
                raise NotFound(f"no user {on_behalf_of!r} to record this on behalf of")
            decider = _person(decider_row, on_behalf_of)
        _check_date(ctx, occurred_on, str(row["last_event_on"]), "the event date")
        replayed = _replayed_for(conn, definition, row, trigger)
        snapshot = _snapshot(row, replayed)
        decision = engine.decide(
            definition,
            snapshot,
            engine.Request(trigger, occurred_on, dict(fields or {}), rationale),
            recorder,
            decider,
            destination=definition_machine(definition),
            calendar=ctx.calendar,
        )
        if definition.action_plan is not None:
            from casereview.services.actions import gate

            gate(conn, definition, row, decision.trigger)
        _other_case_exists(conn, definition, decision)
        record = _event_record(
            ctx,
            definition,
            ref=ref,
            trigger=decision.trigger,
            from_state=decision.from_state,
            to_state=decision.to_state,
            occurred_on=occurred_on,
            role=decision.role,
            rationale=(rationale or "").strip() or None,
            fields=decision.changes,
            on_behalf_of=decider.username if decider else None,
        )
        before = _clock_rows(conn, int(row["id"]))
        signer = keys.write_signer(ctx, conn)
        appended = event_log.append_event(conn, record, int(row["id"]), signer)
        derived = _store_projection(
            ctx, conn, definition, int(row["id"]), ref, expected_version=int(row["version"])
        )
        followed = _follow(
            ctx,
            conn,
            definition,
            row,
            decision,
            engine.Request(trigger, occurred_on, dict(fields or {}), rationale),
            (recorder, decider),
            lead_seq=appended.seq,
            signer=signer,
        )
        uow.commit()
    # A back-dated event is confirmed as things stood on its date: a clock it started
    # then is "on track" then, not overdue by the days since.
    today = min(ctx.clock.today(), occurred_on)
    return AdvanceResult(
        ref=ref,
        seq=appended.seq,
        trigger=decision.trigger,
        from_state=decision.from_state,
        to_state=decision.to_state,
        occurred_on=occurred_on.isoformat(),
        entry_hash=appended.entry_hash,
        clocks=tuple(_clock_view(c, today, ctx) for c in derived.values()),
        changed=tuple(
            clock_id
            for clock_id, clock in derived.items()
            if _clock_key(clocks.summarise(clock)) != before.get(clock_id)
        ),
        as_of=occurred_on.isoformat() if occurred_on < ctx.clock.today() else None,
        followed=followed,
    )


def _follow(
    ctx: ServiceContext,
    conn: Connection,
    definition: WorkflowDefinition,
    lead: Row,
    decision: engine.Decision,
    request: engine.Request,
    people: tuple[engine.Person, engine.Person | None],
    *,
    lead_seq: int,
    signer: Any,
) -> tuple[dict[str, Any], ...]:
    """The step each linked case takes with the lead (the workflow's `[links]` `follow`):
    every case the lead linked with a following relation that is in the state the lead
    was in takes the same step, decided by the engine on its own record (its own guards,
    rounds and clocks); one that cannot refuses the lead's step too, so nothing is
    written. A linked case elsewhere (another stage, closed, voided, another version)
    is left as it is and said so."""
    from casereview.store import event_log, projections

    table = definition.links
    if table is None or not table.follow:
        return ()
    lead_ref = str(lead["ref"])
    lead_links = json.loads(lead["links"]) if lead["links"] else []
    recorder, decider = people
    note = f"With case {lead_ref} (event {lead_seq})" + (
        f": {request.rationale.strip()}" if request.rationale and request.rationale.strip() else ""
    )
    found: list[dict[str, Any]] = []
    for other in case_links.followers(table, lead_links, decision.trigger, decision.from_state):
        row = projections.get_case(conn, other)
        if row is None:
            continue
        left = None
        if row["voided_seq"] is not None:
            left = "voided"
        elif (row["workflow_id"], int(row["workflow_version"])) != (
            definition.id,
            definition.version,
        ):
            left = f"on {row['workflow_id']} version {row['workflow_version']}"
        elif row["state"] != decision.from_state:
            left = f"in {row['state']}"
        if left is not None:
            found.append({"ref": other, "seq": None, "left": left})
            continue
        try:
            _check_date(ctx, request.occurred_on, str(row["last_event_on"]), "the event date")
            child = _definition_for(ctx, row)
            replayed = _replayed_for(conn, child, row, decision.trigger)
            child_decision = engine.decide(
                child,
                _snapshot(row, replayed),
                engine.Request(decision.trigger, request.occurred_on, request.fields, note),
                recorder,
                decider,
                destination=definition_machine(child),
                calendar=ctx.calendar,
            )
            if child.action_plan is not None:
                from casereview.services.actions import gate

                gate(conn, child, row, child_decision.trigger)
        except CaseReviewError as exc:
            raise exc.prefixed(
                f"linked case {other} takes {decision.trigger} with case {lead_ref}, but: "
            ) from None
        record = _event_record(
            ctx,
            child,
            ref=other,
            trigger=child_decision.trigger,
            from_state=child_decision.from_state,
            to_state=child_decision.to_state,
            occurred_on=request.occurred_on,
            role=child_decision.role,
            rationale=note,
            fields=child_decision.changes,
            on_behalf_of=decider.username if decider else None,
        )
        appended = event_log.append_event(conn, record, int(row["id"]), signer)
        _store_projection(
            ctx, conn, child, int(row["id"]), other, expected_version=int(row["version"])
        )
        found.append({"ref": other, "seq": appended.seq, "left": None})
    return tuple(found)


def _snapshot(row: Row, replayed: Replayed | None) -> engine.CaseSnapshot:
    """What the engine needs of a case: its row, and its replay when the step looks back."""
    return engine.CaseSnapshot(
        ref=str(row["ref"]),
        state=str(row["state"]),
        fields=json.loads(row["fields"]),
        approvals=json.loads(row["approvals"]),
        version=int(row["version"]),
        history=tuple(replayed.facts) if replayed is not None else (),
        hold=json.loads(row["hold"]) if row["hold"] else None,
        processes=_processes_of(row),
        links=json.loads(row["links"]) if row["links"] else (),
        open_rounds=replayed.open_rounds if replayed is not None else {},
        steps=tuple(replayed.history) if replayed is not None else (),
    )


_CLOCK_KEY = ("state", "anchor_on", "due_on", "started_on", "stopped_on", "remaining_days")
"""What makes a clock "changed" by an event: started, stopped, paused, resumed, re-projected."""


def _clock_key(values: Any) -> tuple[Any, ...]:
    get = values.get if isinstance(values, Mapping) else lambda name: getattr(values, name)
    return tuple(get(name) for name in _CLOCK_KEY)


def _clock_rows(conn: Connection, case_id: int) -> dict[str, tuple[Any, ...]]:
    """The case's stored clocks before an event, keyed for `_clock_key` comparison."""
    from casereview.store import projections

    return {str(r["clock_id"]): _clock_key(r) for r in projections.clocks_of(conn, case_id)}


def _other_case_exists(
    conn: Connection, definition: WorkflowDefinition, decision: engine.Decision
) -> None:
    """A link names a case that exists and was not voided (the engine cannot ask)."""
    from casereview.store import projections

    if definition.links is None:
        return
    other = case_links.other_of(definition.links, decision.trigger, decision.changes)
    if other is None:
        return
    row = projections.get_case(conn, other)
    if row is None:
        raise refs.no_case(other)
    if row["voided_seq"] is not None:
        raise Refused(f"case {other} was voided as opened in error; it cannot be linked")


def _processes_of(row: Row) -> dict[str, dict[str, Any]]:
    """The case's parallel processes as its row keeps them, by number."""
    stored = json.loads(row["processes"]) if row["processes"] else []
    return {str(p["number"]): p for p in stored}


def _replayed_for(
    conn: Connection, definition: WorkflowDefinition, row: Row, trigger: str
) -> Replayed | None:
    """The case replayed, when deciding `trigger` looks back at its history
    (`engine.needs_history`: a fact date's lower bound, the case's open sign-off rounds,
    a check against what happened); None otherwise, so most steps replay nothing first."""
    from casereview.store import event_log

    if not engine.needs_history(definition, trigger):
        return None
    events = list(event_log.iter_events(conn, case_id=int(row["id"])))
    return replay(definition, str(row["ref"]), events)


def definition_machine(definition: WorkflowDefinition) -> Any:
    from casereview.domain.workflow.machine import compile_workflow

    return compile_workflow(definition).destination


def _clock_view(clock: clocks.ClockState, today: dt.date, ctx: ServiceContext) -> ClockView:
    left = None
    if clock.due_on is not None and clock.state == "running":
        left = ctx.calendar.count_working_days(today, clock.due_on)
    return ClockView(
        clock_id=clock.rule.id,
        label=clock.rule.label,
        kind=clock.rule.kind,
        state=clock.state,
        status=clocks.status(clock, today),
        anchor_on=clock.anchor_on.isoformat() if clock.anchor_on else None,
        due_on=clock.due_on.isoformat() if clock.due_on else None,
        started_on=clock.started_on.isoformat(),
        stopped_on=clock.stopped_on.isoformat() if clock.stopped_on else None,
        working_days_left=left,
        remaining_days=clock.remaining,
        rule=clock.rule.describe(),
    )


def show_case(
    ctx: ServiceContext,
    ref: str,
    *,
    as_at: dt.date | None = None,
    include_personal: bool = False,
) -> CaseView:
    """The case now, or as it stood at the end of `as_at` (replayed from the log). Its
    personal fields are left out (named in `hidden_fields`) unless `include_personal`,
    which only a role the workflow allows may ask for, and which is recorded."""
    from casereview.store import dashboard_queries as views

    with ctx.reader() as reader:
        viewer = require_reader(ctx, reader)
        row = refs.choose(ref, views.case_row(reader, ref), lambda p: views.cases_named(reader, p))
        ref = str(row["ref"])
        definition = _definition_for(ctx, row)
        events = views.case_events(reader, int(row["id"]))
        linking = views.cases_with_links(reader)
    state = replay_stored(definition, ref, events, until=as_at, known_by=as_at)
    if as_at is not None and not state.opened_on:
        raise NotFound(f"case {ref} was not open yet on {as_at.isoformat()}")
    derived = clocks.derive(clocks.rules_for(definition), state.facts, ctx.calendar)
    today = as_at or ctx.clock.today()
    possible = []
    if not state.closed and state.voided is None:
        for trigger in engine.possible_triggers(definition, state.state, state.hold):
            possible.append(
                TriggerOption(
                    trigger=trigger.id,
                    label=trigger.label,
                    to_state=trigger.destination_from(state.state),
                    roles=tuple(trigger.roles),
                    needs=tuple(engine.describe_needs(definition, trigger)),
                )
            )
    labels = {r.id: r.label for r in definition.approval_rounds}
    personal = definition.personal_field_ids
    hidden = tuple(sorted(name for name in state.fields if name in personal))
    if include_personal:
        allow_personal(ctx, viewer, [definition], command="case show", cases=[ref])
        hidden = ()
    return CaseView(
        ref=ref,
        pseudonym=state.pseudonym,
        state=state.state,
        state_label=definition.state(state.state).label,
        closed=state.closed,
        workflow=definition.id,
        workflow_version=definition.version,
        version=state.version,
        opened_on=state.opened_on,
        last_event_on=state.last_event_on,
        fields={k: v for k, v in sorted(state.fields.items()) if k not in hidden},
        approvals={labels.get(k, k): sorted(v) for k, v in state.approvals.items()},
        clocks=tuple(_clock_view(c, today, ctx) for c in derived.values()),
        possible=tuple(possible),
        as_at=as_at.isoformat() if as_at else None,
        voided_on=state.voided_on or None,
        amended=len(state.amendments),
        hidden_fields=hidden,
        hold=_hold_view(state.hold),
        rounds=signoffs.rounds_shown(definition, state.state, state.approvals, state.open_rounds),
        processes=tuple(case_processes.listed(state.processes)),
        links=tuple(state.links),
        linked_from=tuple(
            case_links.naming(ref, [(str(r["ref"]), json.loads(r["links"])) for r in linking])
        ),
        breaches=checks.breaches(
            definition,
            [
                s
                for s in state.history
                if as_at is None or str(s["occurred_on"]) <= as_at.isoformat()
            ],
            ctx.calendar,
        ),
    )


def _hold_view(hold: Mapping[str, Any] | None) -> HoldView | None:
    if hold is None:
        return None
    review_by = hold.get("review_by")
    return HoldView(
        since=str(hold.get("since")),
        review_by=None if review_by is None else str(review_by),
        trigger=str(hold.get("trigger")),
        fields=dict(sorted(dict(hold.get("fields") or {}).items())),
    )


@dataclass(frozen=True)
class CaseListItem:
    ref: str
    pseudonym: str
    state: str
    closed: bool
    workflow: str
    opened_on: str
    last_event_on: str
    voided: bool = False  # opened in error (listed only when asked for every case)
    next_due_on: str | None = None  # the soonest due date of its running clocks
    next_clock: str | None = None  # that clock's label
    next_status: str | None = None  # that clock's status today (`domain.clock_status`)
    type: str = ""  # the workflow's short label ("SAR"), when the list holds several types


def list_cases(
    ctx: ServiceContext,
    *,
    state: str | None = None,
    closed: bool | None = None,
    voided: bool = False,
    workflow: str | None = None,
) -> Sequence[CaseListItem]:
    """Cases with what is due next on each, soonest first (overdue ones first), then the
    cases with nothing due, by reference; those voided as opened in error only with
    `voided`; only one review type's with `workflow` (an installed id, or `id@N`). A
    `state` or workflow not installed is refused, with the nearest one."""
    from casereview.store import projections

    if state is not None:
        filters.check(ctx, "state", state)
    only = filters.workflow(ctx, workflow) if workflow is not None else None
    with ctx.db().reading() as conn:
        require_reader(ctx, conn)
        rows = projections.list_cases(
            conn, state=state, closed=closed, voided=voided, workflow=only
        )
        soonest: dict[int, Mapping[Any, Any]] = {}
        today = ctx.clock.today()
        for clock in projections.running_due_clocks(conn):
            # A reminder whose date has passed is over: it is not what is due next.
            over = bool(clock["ends_on_due"]) and str(clock["due_on"]) < today.isoformat()
            if not over:
                soonest.setdefault(int(clock["case_id"]), clock)
    items = [_list_item(r, soonest.get(int(r["id"])), today) for r in rows]
    if len({str(r["workflow_id"]) for r in rows}) > 1:
        labels = filters.short_labels(ctx)
        items = [
            dataclasses.replace(i, type=labels.get(str(r["workflow_id"]), str(r["workflow_id"])))
            for i, r in zip(items, rows, strict=True)
        ]
    return sorted(items, key=lambda i: (i.next_due_on is None, i.next_due_on or "", i.ref))


def _list_item(
    r: Mapping[Any, Any], clock: Mapping[Any, Any] | None, today: dt.date
) -> CaseListItem:
    due = warn = None
    if clock is not None:
        with contextlib.suppress(ValueError):  # a stored value that is not a date
            due = dt.date.fromisoformat(str(clock["due_on"]))
            warn = dt.date.fromisoformat(str(clock["warn_from"])) if clock["warn_from"] else None
    return CaseListItem(
        ref=str(r["ref"]),
        pseudonym=str(r["pseudonym"]),
        state=str(r["state"]),
        closed=bool(r["closed"]),
        workflow=f"{r['workflow_id']} v{r['workflow_version']}",
        opened_on=str(r["opened_on"]),
        last_event_on=str(r["last_event_on"]),
        voided=r["voided_seq"] is not None,
        next_due_on=None if clock is None else str(clock["due_on"]),
        next_clock=None if clock is None else str(clock["label"]),
        next_status=(
            None
            if clock is None
            else clocks.status_of_running(due, warn, bool(clock["ends_on_due"]), today)
            if due is not None
            else "undetermined"
        ),
    )
