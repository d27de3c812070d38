"""Deciding what an event does to a case. Pure: no I/O, no clock, no database.

`decide` takes a workflow definition, a snapshot of the case, the person asking (and the
person they act for) and the request, and returns a `Decision` (new state, typed field
changes, approval-round changes) or raises `Refused` saying exactly why. What the person
must give is named in messages as an `errors.Input`, never as a command-line option.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from casereview.domain import checks, dates, facts, holds, links, processes, signoffs
from casereview.domain import text as free_text
from casereview.domain.calendar.units import Calendar
from casereview.domain.clocks import EventFacts
from casereview.domain.workflow.derived import PerDefinition
from casereview.domain.workflow.model import (
    EVENT_DATE,
    IDENTITY_FIELDS,
    ApprovalCompleteGuard,
    ApprovalRound,
    DaysApartGuard,
    FieldEqualsGuard,
    FieldSetGuard,
    FieldSpec,
    Guard,
    Trigger,
    WorkflowDefinition,
)
from casereview.errors import Input, Refused

MAX_TEXT = 4000
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
YES = {"yes", "y", "true"}
NO = {"no", "n", "false"}


@dataclass(frozen=True)
class Person:
    username: str
    roles: frozenset[str]
    agency: str | None = None
    active: bool = True


@dataclass(frozen=True)
class CaseSnapshot:
    ref: str
    state: str
    fields: Mapping[str, Any]
    approvals: Mapping[str, Mapping[str, int]]  # round -> agency -> seq of sign-off
    version: int
    history: Sequence[EventFacts] = ()
    """The case's facts so far (replay's `facts`), for the rules that look back: a fact
    date's lower bound. Callers give it for triggers that declare a fact date."""
    hold: Mapping[str, Any] | None = None
    """The hold on the case (replay's `hold`), None when it is not held."""
    open_rounds: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """The case's opened sign-off rounds (replay's `open_rounds`): callers give them for
    a workflow with rounds that triggers open (`domain.signoffs`)."""
    processes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """The case's parallel processes by number (replay's `processes`), for a workflow
    with a `[processes]` table."""
    links: Sequence[Mapping[str, Any]] = ()
    """The links the case recorded (replay's `links`), for a workflow with `[links]`."""
    steps: Sequence[Mapping[str, Any]] = ()
    """The case's steps as corrected (replay's `history`): callers give them for a
    trigger with a check against what happened, or one that overrides one
    (`domain.checks`). `needs_history` says when."""


@dataclass(frozen=True)
class Request:
    trigger: str
    occurred_on: dt.date
    fields: Mapping[str, str] = field(default_factory=dict)
    rationale: str | None = None


@dataclass(frozen=True)
class Decision:
    trigger: str
    from_state: str
    to_state: str
    role: str
    changes: dict[str, Any]  # field id -> canonical value (dates as ISO text)
    fields_after: dict[str, Any]
    approvals_after: dict[str, dict[str, int]]
    signed: tuple[str, str] | None  # (round, agency) signed by this event
    terminal: bool


def parse_value(definition: WorkflowDefinition, name: str, raw: str) -> Any:
    """Turn typed text into the canonical stored value for a field, or refuse."""
    spec: FieldSpec | None = definition.fields_by_id.get(name)
    if spec is None:
        raise Refused(f"{name!r} is not a field of workflow {definition.id}")
    text = raw.strip()
    if "\x00" in raw:
        raise Refused(f"{name} must not contain NUL characters")
    if spec.type == "date":
        try:
            # Strictly YYYY-MM-DD: fromisoformat alone also takes week dates (2025-W23-1).
            if not _ISO_DATE.fullmatch(text):
                raise ValueError
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise Refused(f"{name} must be an ISO date YYYY-MM-DD, got {raw[:40]!r}") from None
        return dates.supported(day, name).isoformat()
    if spec.type == "choice":
        if text not in spec.choices:
            raise Refused(f"{name} must be one of: {', '.join(spec.choices)}; got {raw[:40]!r}")
        return text
    if spec.type == "yes_no":
        lowered = text.lower()
        if lowered in YES:
            return True
        if lowered in NO:
            return False
        raise Refused(f"{name} must be yes or no; got {raw[:40]!r}")
    if not text:
        raise Refused(f"{name} must not be empty")
    if len(text) > MAX_TEXT:
        raise Refused(f"{name} is longer than {MAX_TEXT} characters")
    free_text.check(text, name, multiline=True)
    return text


def possible_triggers(
    definition: WorkflowDefinition, state: str, hold: Mapping[str, Any] | None = None
) -> list[Trigger]:
    """Triggers that can fire in `state` (none for a state the workflow lacks), on a case
    with this hold (None: not held)."""
    return [
        t
        for t in definition.moves.triggers_from(state)
        if holds.possible(definition.holds, hold, t.id)
    ]


def _role_for(trigger: Trigger, person: Person) -> str | None:
    for role in trigger.roles:
        if role in person.roles:
            return role
    return None


def _roles_in_words(role_ids: Sequence[str]) -> str:
    return " or ".join(role.replace("_", " ") for role in role_ids)


def _who(person: Person) -> str:
    roles = ", ".join(sorted(person.roles)) or "no role"
    return f"{person.username!r} ({roles}{f' for {person.agency}' if person.agency else ''})"


def _on_behalf_allowed_in_words(trigger: Trigger) -> str:
    """What a trigger's `on_behalf` rules allow, as a sentence's end."""
    if not trigger.on_behalf:
        return f"{trigger.id} is recorded only by the person who decides it"
    ways = [
        f"by a {_roles_in_words(rule.by)} for a {_roles_in_words(rule.for_roles(trigger))}"
        + (" of their own agency" if rule.same_agency else "")
        for rule in trigger.on_behalf
    ]
    return f"for someone else, {trigger.id} is recorded " + ", or ".join(ways)


def on_behalf_refusal(
    definition: WorkflowDefinition,
    trigger_id: str,
    recorder: Person,
    decider: Person,
    role: str,
) -> str | None:
    """Whether `recorder` may record `trigger_id` on behalf of `decider`, the event
    recording `role` (the decision-maker's role). None when one of the trigger's
    `on_behalf` rules allows it: the recorder holds one of its `by` roles, `role` is one
    of its `for` roles and the decider holds it, and, for a `same_agency` rule, both act
    for the same agency. Otherwise the reason, saying what the workflow allows.

    Pure, and the one answer to the question: `decide` refuses with it, and a replay of
    the log can ask it of any event with the people as they were at that event. Whether
    either person is active, and which agency a sign-off names, are checked elsewhere.
    """
    trigger = definition.triggers_by_id.get(trigger_id)
    if trigger is None:
        return f"{trigger_id!r} is not a trigger of workflow {definition.label}"
    if role not in trigger.roles or role not in decider.roles:
        return (
            f"{trigger.id} is recorded as one of the roles {', '.join(trigger.roles)} held "
            f"by the decision-maker; {_who(decider)} does not hold {role}"
        )
    for rule in trigger.on_behalf:
        if recorder.roles.isdisjoint(rule.by) or role not in rule.for_roles(trigger):
            continue
        if rule.same_agency and (recorder.agency is None or recorder.agency != decider.agency):
            continue
        return None
    return (
        f"{_who(recorder)} may not record {trigger.id} on behalf of {_who(decider)}: "
        f"{_on_behalf_allowed_in_words(trigger)}"
    )


def _may_record_for(trigger: Trigger, recorder: Person) -> str:
    """When `recorder` lacks the trigger's roles but may record it for someone who holds
    them: the hint that says so (empty otherwise)."""
    if any(not recorder.roles.isdisjoint(rule.by) for rule in trigger.on_behalf):
        return f"; {_on_behalf_allowed_in_words(trigger)}, naming them with {{on_behalf_of}}"
    return ""


def needs_history(definition: WorkflowDefinition, trigger_id: str) -> bool:
    """Whether deciding `trigger_id` looks back at the case's history (`CaseSnapshot`'s
    `history`, `open_rounds` and `steps`): a fact date's lower bound, sign-off rounds that
    triggers open, a check against what happened or its override."""
    trigger = definition.triggers_by_id.get(trigger_id)
    if trigger is None:
        return False
    return (
        definition.fact_field_of(trigger_id) is not None
        or signoffs.rules_of(definition).any_opened
        or any(isinstance(g, DaysApartGuard) for g in trigger.guards)
        or bool(definition.checks_overridden_by(trigger_id))
    )


_Check = Callable[[DaysApartGuard], "str | None"]


def _guard_failure(
    definition: WorkflowDefinition,
    guard: Guard,
    fields_after: Mapping[str, Any],
    approvals: Mapping[str, Mapping[str, int]],
    open_rounds: Mapping[str, Mapping[str, Any]],
    check: _Check | None = None,
) -> str | None:
    if isinstance(guard, DaysApartGuard):
        # Checked when a step is decided; a correction's re-check of the history has no
        # calendar and leaves it (the override that recorded a breach stays on record).
        return check(guard) if check is not None else None
    if isinstance(guard, ApprovalCompleteGuard):
        if guard.if_opened and guard.round not in open_rounds:
            return None  # never opened: nothing waits for it
        spec = definition.approval_rounds_by_id[guard.round]
        return signoffs.not_complete(spec, approvals, open_rounds)
    value = fields_after.get(guard.field)
    if isinstance(guard, FieldSetGuard):
        if value in (None, ""):
            spec_f = definition.fields_by_id.get(guard.field)
            label = spec_f.label if spec_f is not None else guard.field
            return f"{label} ({guard.field}) has not been recorded yet"
        return None
    if isinstance(guard, FieldEqualsGuard):
        if value != guard.value:
            return f"{guard.field} must be {guard.value!r} (it is {value!r})"
        return None
    if value not in guard.values:
        shown = ", ".join(str(v) for v in guard.values)
        return f"{guard.field} must be one of {shown} (it is {value!r})"
    return None


def unmet_guard(
    definition: WorkflowDefinition,
    trigger: Trigger,
    fields_after: Mapping[str, Any],
    approvals: Mapping[str, Mapping[str, int]],
    open_rounds: Mapping[str, Mapping[str, Any]],
) -> str | None:
    """Why the first of `trigger`'s guards that does not hold fails, in words (None when
    all hold): a correction re-asks it of every step the corrected value reaches."""
    for guard in trigger.guards:
        failure = _guard_failure(definition, guard, fields_after, approvals, open_rounds)
        if failure:
            return failure
    return None


@dataclass(frozen=True)
class _Move:
    """What a trigger fired in one state means, whoever fires it with whatever fields.

    Built from the definition's move and accessors the first time a (state, trigger)
    pair is decided, then reused: `decide` runs for every event written, and these
    answers (the fields taken, rounds cleared, the round signed, the destination) are
    the same every time.
    """

    trigger: Trigger
    allowed: frozenset[str]  # fields the event may carry
    takes: str  # `allowed` in words, for the refusal
    round: ApprovalRound | None  # the state round a signing trigger signs in this state
    cleared: tuple[str, ...]  # approval rounds whose sign-offs the trigger discards
    opens: tuple[str, ...]  # approval rounds of which the trigger opens a new round
    overridden: tuple[tuple[Trigger, DaysApartGuard], ...]  # checks it records despite
    case_fields: frozenset[str]  # fields of scope "case": kept on the case
    to_state: str
    terminal: bool


# Each definition's moves, filled as (state, trigger) pairs are asked for.
_moves_of: PerDefinition[dict[tuple[str, str], _Move]] = PerDefinition(lambda _: {})


def _move(definition: WorkflowDefinition, state: str, trigger_id: str, ref: str) -> _Move:
    """The move for (state, trigger), or the refusal saying why it is not possible (the
    definition's table of moves decides, and words the refusal).

    Refusals are not remembered (they name the case), only moves that are possible.
    """
    moves = _moves_of(definition)
    found = moves.get((state, trigger_id))
    if found is not None:
        return found
    legal = definition.moves.require(state, trigger_id, ref)
    trigger, to_state = legal.trigger, legal.to_state
    allowed = frozenset(trigger.requires) | frozenset(trigger.optional) | set(trigger.defaults)
    found = _Move(
        trigger=trigger,
        allowed=allowed,
        takes=", ".join(sorted(allowed)) or "no fields",
        round=definition.round_collected_in(state) if trigger.signs else None,
        cleared=tuple(r.id for r in definition.rounds_cleared_by(trigger.id)),
        opens=tuple(r.id for r in definition.rounds_opened_by(trigger.id)),
        overridden=definition.checks_overridden_by(trigger.id),
        case_fields=frozenset(f.id for f in definition.fields if f.scope == "case"),
        to_state=to_state,
        terminal=definition.is_terminal(to_state),
    )
    moves[(state, trigger_id)] = found
    return found


def decide(
    definition: WorkflowDefinition,
    case: CaseSnapshot,
    request: Request,
    recorder: Person,
    decider: Person | None = None,
    destination: Any = None,
    calendar: Calendar | None = None,
) -> Decision:
    """Validate `request` against the workflow; return its effect or raise Refused.

    `recorder` is the account keying the event; `decider`, when someone else's, is the
    person whose decision it records. `destination(state, trigger)` is the compiled
    machine's answer for the move; when given it must agree with the definition.

    Checks run in a fixed order so that the first problem reported is the most useful:
    the trigger exists and may fire from the current state (the definition's table of
    moves, `workflow.moves`, decides, and says what is possible now) and the case's hold
    allows it (`domain.holds`: while held, only what the workflow lists); the actor, or the
    named decision-maker, holds a permitted role (and one of the trigger's `on_behalf`
    rules lets the recorder record it for them: `on_behalf_refusal`); fields and rationale are
    present and valid; the guards hold (an incomplete sign-off names the agencies
    missing). The compiled `transitions` machine confirms the move last.
    """
    move = _move(definition, case.state, request.trigger, case.ref)
    trigger = move.trigger
    if definition.holds is not None:
        refused = holds.refusal(definition.holds, case.hold, trigger.id, case.ref)
        if refused is not None:
            raise Refused(refused)

    # Roles: the decision-maker must hold a permitted role. Someone recording on
    # another's behalf must be allowed to by one of the trigger's `on_behalf` rules.
    if not recorder.active:
        raise Refused(f"user {recorder.username!r} is deactivated")
    acting = decider or recorder
    if decider is not None and not decider.active:
        raise Refused(f"user {decider.username!r} is deactivated")
    role = _role_for(trigger, acting)
    if role is None:
        raise Refused(
            # The hint is template text: it holds only ids, which have no braces.
            "{trigger} needs one of the roles {roles}; {who!r} holds {held}"
            + (_may_record_for(trigger, acting) if decider is None else ""),
            trigger=trigger.id,
            roles=", ".join(trigger.roles),
            who=acting.username,
            held=", ".join(sorted(acting.roles)) or "no role",
            on_behalf_of=Input("on_behalf_of"),
        )
    if decider is not None:
        refusal = on_behalf_refusal(definition, trigger.id, recorder, decider, role)
        if refusal is not None:
            raise Refused(refusal)  # no parameters: the text is shown as it is

    # Fields: only those this trigger records; required ones present; values valid.
    allowed = move.allowed
    for name in request.fields:
        if name not in allowed:
            raise Refused(
                "{trigger} does not record {name!r}; it takes: {takes}",
                trigger=trigger.id,
                name=name,
                takes=move.takes,
            )
    changes: dict[str, Any] = {}
    for name, raw in request.fields.items():
        changes[name] = parse_value(definition, name, raw)
    table = definition.processes
    if table is not None:
        refused = processes.refusal(table, case.processes, trigger.id, changes, case.ref)
        if refused is not None:
            raise Refused(refused)
        if trigger.id in table.add:
            changes[table.number] = processes.next_number(case.processes)
    if definition.holds is not None:
        refused = holds.process_refusal(
            definition.holds, case.processes, trigger.id, changes, case.ref
        )
        if refused is not None:
            raise Refused(refused)
        if holds.missing_reason(definition.holds, trigger.id, changes):
            raise Refused(
                "{trigger} needs {reason}, or the parallel process it is held for in {process}",
                trigger=trigger.id,
                reason=Input("field", definition.holds.reason),
                process=Input("field", definition.holds.process),
            )
    if definition.links is not None:
        refused = links.refusal(definition.links, case.links, trigger.id, changes, case.ref)
        if refused is not None:
            raise Refused(refused)
    for name, default in trigger.defaults.items():
        if name not in changes:
            if default == EVENT_DATE:
                changes[name] = request.occurred_on.isoformat()
            else:
                changes[name] = parse_value(definition, name, str(default))
    signed: tuple[str, str] | None = None
    if trigger.signs:
        spec = move.round
        if signoffs.rules_of(definition).any_opened:
            spec = signoffs.signing_round(
                signoffs.rules_of(definition), case.state, case.approvals, case.open_rounds
            )
        if spec is None:
            raise Refused(f"there is no sign-off round open while the case is in {case.state}")
        agency_field = spec.agency_field
        agency = changes.get(agency_field) or acting.agency
        if agency is None:
            raise Refused(
                "{trigger} needs {field} (the agency signing off)",
                trigger=trigger.id,
                field=Input("field", agency_field),
            )
        if acting.agency is not None and agency != acting.agency:
            raise Refused(f"{acting.username!r} signs off for {acting.agency}, not {agency}")
        if agency not in spec.agencies:
            raise Refused(f"{agency} is not part of {spec.label}: {', '.join(spec.agencies)}")
        if agency in case.approvals.get(spec.id, {}):
            raise Refused(f"{agency} has already signed off this round of {spec.label}")
        changes[agency_field] = agency
        signed = (spec.id, str(agency))
    missing = [name for name in trigger.requires if name not in changes]
    if missing:
        raise Refused(
            "{trigger} needs {fields}",
            trigger=trigger.id,
            fields=tuple(Input("field", name) for name in missing),
        )
    if trigger.fact_date is not None:
        day = facts.fact_on(trigger.fact_date, changes)
        if day is not None:
            facts.check(
                definition, trigger.id, trigger.fact_date, day, request.occurred_on, case.history
            )
    rationale = (request.rationale or "").strip()
    if "\x00" in rationale:
        raise Refused("the rationale must not contain NUL characters")
    if len(rationale) > MAX_TEXT:
        raise Refused(f"the rationale is longer than {MAX_TEXT} characters")
    free_text.check(rationale, Input("rationale"), multiline=True)
    if trigger.rationale_required and not rationale:
        raise Refused(
            "{trigger} needs a {rationale} explaining the decision",
            trigger=trigger.id,
            rationale=Input("rationale"),
        )

    fields_after = dict(case.fields)
    case_fields = move.case_fields
    fields_after.update({k: v for k, v in changes.items() if k in case_fields})
    approvals_after = {k: dict(v) for k, v in case.approvals.items()}
    values = {**fields_after, **changes}

    def check(guard: DaysApartGuard) -> str | None:
        try:
            return checks.failure(guard, values, case.steps, calendar)
        except ValueError as exc:  # a date beyond the calendar
            return str(exc)

    for guard in trigger.guards:
        failure = _guard_failure(
            definition, guard, fields_after, approvals_after, case.open_rounds, check
        )
        if failure:
            overrides = guard.override if isinstance(guard, DaysApartGuard) else None
            hint = (
                f"; {overrides} records it despite the check, with a rationale" if overrides else ""
            )
            # The trigger is a parameter, so a front end may name it by its label.
            raise Refused(
                "{trigger} refused: {failure}{hint}", trigger=trigger.id, failure=failure, hint=hint
            )
    overridden = move.overridden
    if overridden and all(check(guard) is None for _, guard in overridden):
        guarded = ", ".join(t.id for t, _ in overridden)
        raise Refused(
            f"{trigger.id} records {guarded} despite a failed check, but the check holds "
            f"({'; '.join(g.describe() for _, g in overridden)}): record {guarded}"
        )
    for cleared in (*move.cleared, *move.opens):
        approvals_after.pop(cleared, None)
    if signed is not None:
        approvals_after.setdefault(signed[0], {})[signed[1]] = -1  # seq filled by the store

    to_state = move.to_state
    if destination is not None:
        machine_dest = destination(case.state, trigger.id)
        if machine_dest != to_state:
            raise Refused(f"the compiled workflow disagrees about {trigger.id} from {case.state}")
    return Decision(
        trigger=trigger.id,
        from_state=case.state,
        to_state=to_state,
        role=role,
        changes=changes,
        fields_after=fields_after,
        approvals_after=approvals_after,
        signed=signed,
        terminal=move.terminal,
    )


def opening_fields(definition: WorkflowDefinition, raw: Mapping[str, str]) -> dict[str, Any]:
    """Validate the fields given when a case is opened."""
    values: dict[str, Any] = {}
    for name, text in raw.items():
        if name in IDENTITY_FIELDS:
            # `set` is the input that carries the workflow's fields.
            raise Refused(
                "{name} is given as its own option, not with {fields}",
                name=name,
                fields=Input("set"),
            )
        values[name] = parse_value(definition, name, text)
    missing = [
        f.id
        for f in definition.fields_required_at_open
        if f.id not in values and f.id not in IDENTITY_FIELDS
    ]
    if missing:
        raise Refused("opening a case needs " + ", ".join(missing))
    return values


def describe_needs(definition: WorkflowDefinition, trigger: Trigger) -> Sequence[Input | str]:
    """What a trigger needs, for `case show`: the inputs the person must give (fields,
    a rationale; each front end spells them) and, in words, the guards that must hold."""
    needs: list[Input | str] = [Input("field", name) for name in trigger.requires]
    if trigger.rationale_required:
        needs.append(Input("rationale"))
    for guard in trigger.guards:
        if isinstance(guard, ApprovalCompleteGuard):
            label = definition.approval_rounds_by_id[guard.round].label
            once = ", once opened" if guard.if_opened else ""
            needs.append(f"all of {label} signed off{once}")
        else:
            needs.append(guard.describe())
    return needs
