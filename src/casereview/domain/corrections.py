"""Deciding whether a correction, an undo or a void may be recorded. Pure.

What `engine.decide` is for a workflow's own triggers, this module is for the engine's
amending events (`domain.amendments`): it checks who may make one (the workflow's
`[corrections]` table), turns the request into what the event will record (which event
and field, what was wrong, what is right), and replays the case with it to check that
the corrected history is still one that could have happened: every step still a legal
move whose guards hold, sign-offs by agencies of their round and once each, dates in
order and in range, and dates the workflow orders (`not_after`) in order. A refusal
says which step would become impossible and why.

`clock_shifts` says which clocks an amendment moved, from the facts replay keeps either
side of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from casereview.domain import clocks, dates, facts, signoffs
from casereview.domain.amendments import (
    FIELD,
    OCCURRED_ON,
    RATIONALE,
    Change,
    correction_fields,
    undo_fields,
)
from casereview.domain.calendar.workdays import MAX_DATE, MIN_DATE
from casereview.domain.clocks import (
    CORRECT_TRIGGER,
    OPEN_TRIGGER,
    UNDO_TRIGGER,
    VOID_TRIGGER,
    Calendar,
    ClockRule,
)
from casereview.domain.engine import MAX_TEXT, Person, parse_value, unmet_guard
from casereview.domain.replay import Amendment, Replayed, fields_of, replay
from casereview.domain.workflow.model import IDENTITY_FIELDS, WorkflowDefinition
from casereview.errors import Input, InvalidInput, NotFound, Refused, Step


@dataclass(frozen=True)
class CorrectionRequest:
    """What a person asks to put right, and why."""

    fields: Mapping[str, str]  # field id -> the right value, as typed
    event: int | None  # the event corrected; None: for each field, the latest that recorded it
    occurred_on: dt.date | None  # the right date of `event`
    event_rationale: str | None  # the right rationale of `event`
    rationale: str | None  # why the correction is made


@dataclass(frozen=True)
class Amending:
    """An amending event that may be recorded: what it records, and the case after it."""

    trigger: str  # correct | undo | void
    role: str
    from_state: str
    to_state: str
    fields: dict[str, Any]
    rationale: str
    changes: tuple[Change, ...]
    reverses: int | None
    after: Replayed  # the case replayed with the event

    @property
    def amendment(self) -> Amendment:
        """The event as replay applied it (its facts before and after)."""
        return self.after.amendments[-1]


@dataclass(frozen=True)
class ClockShift:
    """A clock an amendment changed: its due date and state before and after."""

    clock: str
    label: str
    due_before: dt.date | None
    due_after: dt.date | None
    state_before: str | None  # running | paused | stopped; None: not started
    state_after: str | None


# -- checks shared by the three ---------------------------------------------------------


def _open_for_amending(case: Replayed) -> None:
    if case.voided is not None:
        raise Refused(
            "case {ref} was voided on {on} (event {seq}): nothing more is recorded on it",
            ref=case.ref,
            on=case.voided_on,
            seq=case.voided,
        )


def _active(person: Person) -> None:
    if not person.active:
        raise Refused(f"user {person.username!r} is deactivated")


def _role(definition: WorkflowDefinition, person: Person, roles: Sequence[str], what: str) -> str:
    """The first of `roles` that `person` holds, or the refusal naming who may."""
    for role in roles:
        if role in person.roles:
            return role
    if not roles:
        raise Refused(f"workflow {definition.label} lets no role {what} (its [corrections] table)")
    raise Refused(
        f"only the {' or '.join(r.replace('_', ' ') for r in roles)} may {what}; "
        f"{person.username!r} holds {', '.join(sorted(person.roles)) or 'no role'}"
    )


def _why(rationale: str | None, what: str) -> str:
    text = (rationale or "").strip()
    if not text:
        raise Refused(
            "{what} needs a {rationale} saying why", what=what, rationale=Input("rationale")
        )
    _text_ok(text, "the rationale")
    return text


def _text_ok(text: str, what: str) -> None:
    if "\x00" in text:
        raise Refused(f"{what} must not contain NUL characters")
    if len(text) > MAX_TEXT:
        raise Refused(f"{what} is longer than {MAX_TEXT} characters")


def _candidate(
    definition: WorkflowDefinition,
    rows: Sequence[Mapping[str, Any]],
    case: Replayed,
    trigger: str,
    fields: Mapping[str, Any],
    today: dt.date,
    to_state: str | None = None,
) -> Replayed:
    """The case replayed with the amending event appended (numbered after its events)."""
    row = {
        "seq": case.last_seq + 1,
        "trigger": trigger,
        "from_state": case.state,
        "to_state": to_state if to_state is not None else case.state,
        "occurred_on": today.isoformat(),
        "fields": dict(fields),
    }
    after = replay(definition, case.ref, [*rows, row])
    found = [problem for seq, problem in after.problems if seq == row["seq"]]
    if found:
        raise Refused(f"the {trigger} cannot be applied: {found[0]}")
    return after


# -- a correction ------------------------------------------------------------------------


def decide_correction(
    definition: WorkflowDefinition,
    rows: Sequence[Mapping[str, Any]],
    case: Replayed,
    request: CorrectionRequest,
    person: Person,
    today: dt.date,
) -> Amending:
    """The correction `request` asks for, checked; or Refused saying why not.

    `rows` are the case's events in order and `case` their replay."""
    _open_for_amending(case)
    _active(person)
    if not request.fields and request.occurred_on is None and request.event_rationale is None:
        raise InvalidInput(
            "say what to correct: {fields}, or {event} with {on} or {rationale}",
            fields=Input("corrected_field"),
            event=Input("event"),
            on=Input("on"),
            rationale=Input("event_rationale"),
        )
    if request.event is None and (
        request.occurred_on is not None or request.event_rationale is not None
    ):
        raise InvalidInput(
            "name the event whose date or rationale is corrected with {event}",
            event=Input("event"),
        )
    rationale = _why(request.rationale, "a correction")
    rules = definition.corrections
    changes: list[Change] = []
    allowed: list[tuple[str, tuple[str, ...]]] = []  # (what, the roles that may) per change
    target = _step(case, request.event) if request.event is not None else None
    for name, raw in request.fields.items():
        if name in IDENTITY_FIELDS:
            raise Refused(f"{name} identifies the case and cannot be corrected")
        now = parse_value(definition, name, raw)
        index = target if target is not None else _latest_recording(case, name)
        step = case.history[index]
        _takes(definition, step, name)
        if definition.fields_by_id[name].type == "date":
            day = dates.supported(dt.date.fromisoformat(now), name)
            if step["trigger"] == OPEN_TRIGGER:
                # A date given at the opening records something that had happened by then
                # (dates.check_opening_facts): its correction may not be in the future.
                dates.not_in_future(day, today, name)
        was = fields_of(step).get(name)
        if was == now:
            raise Refused(f"{name} of event {step['seq']} is already {raw.strip()!r}")
        changes.append(Change(int(step["seq"]), FIELD, name, was, now))
        allowed.append((f"correct {name}", rules.roles_for_field(name)))
    if request.occurred_on is not None:
        assert target is not None
        step = case.history[target]
        dates.supported(request.occurred_on, "the event date")
        now_on = request.occurred_on.isoformat()
        if now_on == str(step["occurred_on"]):
            raise Refused(f"event {step['seq']} is already dated {now_on}")
        changes.append(
            Change(int(step["seq"]), OCCURRED_ON, None, str(step["occurred_on"]), now_on)
        )
        allowed.append(("correct the date of an event", rules.event_dates))
    if request.event_rationale is not None:
        assert target is not None
        step = case.history[target]
        text = request.event_rationale.strip()
        if not text:
            raise Refused("the corrected rationale must not be empty")
        _text_ok(text, "the corrected rationale")
        seq = int(step["seq"])
        was_text = case.rationales.get(seq, step.get("rationale"))
        if was_text == text:
            raise Refused(f"the rationale of event {seq} already reads so")
        changes.append(Change(seq, RATIONALE, None, was_text, text))
        allowed.append(("correct a rationale", rules.rationales))
    role = _covering_role(definition, person, allowed)
    fields = correction_fields(changes)
    after = _candidate(definition, rows, case, CORRECT_TRIGGER, fields, today)
    first = min(_step(after, change.event) for change in changes)
    problem = impossible(definition, after, first, today)
    if problem is not None:
        raise Refused(f"the correction would make the case's history impossible: {problem}")
    return Amending(
        CORRECT_TRIGGER,
        role,
        case.state,
        after.state,
        fields,
        rationale,
        tuple(changes),
        None,
        after,
    )


def _step(case: Replayed, seq: int) -> int:
    """Where event `seq` is in the case's corrected history, or why it is not there."""
    for index, row in enumerate(case.history):
        if int(row["seq"]) == seq:
            return index
    if seq in case.reversed:
        raise Refused(
            f"event {seq} was undone by event {case.reversed[seq]}: it is no longer part of "
            f"case {case.ref}'s record"
        )
    raise NotFound(f"case {case.ref} has no event {seq}; see its timeline")


def _latest_recording(case: Replayed, name: str) -> int:
    """The latest step that recorded `name`, or the refusal asking which event should."""
    for index in range(len(case.history) - 1, -1, -1):
        if name in fields_of(case.history[index]):
            return index
    raise Refused(
        "no event of case {ref} recorded {name}; name the event that should have with {event}",
        ref=case.ref,
        name=name,
        event=Input("event"),
    )


def _takes(definition: WorkflowDefinition, step: Mapping[str, Any], name: str) -> None:
    """Refuse a field the step's trigger does not record (the opening takes any)."""
    trigger_id = str(step["trigger"])
    if trigger_id == OPEN_TRIGGER:
        return
    trigger = definition.trigger(trigger_id)
    if name not in trigger.fields and name not in trigger.defaults:
        takes = ", ".join(trigger.fields) or "no fields"
        raise Refused(
            f"event {step['seq']} ({trigger_id}) does not record {name}; it takes: {takes}"
        )


def _covering_role(
    definition: WorkflowDefinition, person: Person, allowed: Sequence[tuple[str, tuple[str, ...]]]
) -> str:
    """One role of `person` that may make every change (the event records one role)."""
    held = [r.id for r in definition.roles if r.id in person.roles]
    for role in held:
        if all(role in roles for _, roles in allowed):
            return role
    for what, roles in allowed:
        _role(definition, person, roles, what)  # raises for the first change not covered
    raise Refused(
        "no one role of {user!r} may make all of these corrections; make them one at a time",
        user=person.username,
    )


def impossible(
    definition: WorkflowDefinition, case: Replayed, first: int, today: dt.date
) -> str | None:
    """Why the case's corrected history could not have happened, from step `first` on
    (None when it could): dates in order, none after today or out of range; every step
    still possible (its guards hold, a sign-off by an agency of its round, once); every
    date the workflow orders (`not_after`) in order."""
    approvals: signoffs.Approvals = {}
    open_rounds: signoffs.Opened = {}
    round_rules = signoffs.rules_of(definition)
    ordered = [(f, f.not_after) for f in definition.fields if f.not_after]
    previous: tuple[int, dt.date] | None = None
    for index, (row, fact) in enumerate(zip(case.history, case.facts, strict=False)):
        seq, on, trigger_id = int(row["seq"]), fact.occurred_on, str(row["trigger"])
        trigger = None if trigger_id == OPEN_TRIGGER else definition.trigger(trigger_id)
        if index >= first:
            if on > today:
                return f"event {seq} would be dated {on.isoformat()}, after today"
            if not MIN_DATE <= on <= MAX_DATE:
                return f"event {seq} would be dated {on.isoformat()}, outside the dates supported"
            if previous is not None and on < previous[1]:
                return (
                    f"event {seq} would be dated {on.isoformat()}, before event {previous[0]} "
                    f"on {previous[1].isoformat()}; events are in the order they happened"
                )
            if trigger is not None:
                failure = unmet_guard(
                    definition, trigger, fact.fields_after, approvals, open_rounds
                )
                if failure:
                    return f"event {seq} ({trigger_id}) would not have been possible: {failure}"
            if trigger is not None and trigger.fact_date and fact.fact_on is not None:
                failure = facts.problem(
                    definition,
                    trigger_id,
                    trigger.fact_date,
                    fact.fact_on,
                    on,
                    case.facts[:index],
                )
                if failure:
                    return f"event {seq} ({trigger_id}): {failure}"
            for spec, later in ordered:
                mine = fact.fields_after.get(spec.id)
                for other in later:
                    theirs = fact.fields_after.get(other)
                    if mine and theirs and str(mine) > str(theirs):
                        return f"{spec.id} {mine} would be after {other} {theirs}"
        if trigger is not None:
            before = {k: dict(v) for k, v in approvals.items()}
            signed = signoffs.step(
                round_rules,
                approvals,
                open_rounds,
                trigger=trigger_id,
                state=str(row["from_state"]),
                seq=seq,
                on=on.isoformat(),
                fields=fields_of(row),
            )
            if signed is not None and index >= first:
                rnd_spec, agency = signed
                if agency not in rnd_spec.agencies:
                    return (
                        f"event {seq} would sign {rnd_spec.label} for {agency}, "
                        "not one of its agencies"
                    )
                if agency in before.get(rnd_spec.id, {}) and rnd_spec.id not in (
                    *round_rules.clears.get(trigger_id, ()),
                    *round_rules.opens.get(trigger_id, ()),
                ):
                    return f"event {seq} would sign {rnd_spec.label} for {agency} again"
        previous = (seq, on)
    return None


# -- an undo -----------------------------------------------------------------------------


def decide_undo(
    definition: WorkflowDefinition,
    rows: Sequence[Mapping[str, Any]],
    case: Replayed,
    person: Person,
    rationale: str | None,
    today: dt.date,
    *,
    expect: int | None = None,
) -> Amending:
    """The undo of the case's latest step, checked; or Refused saying why not.

    `expect`, when given, is the step the person means to undo: refused unless it is
    the latest."""
    _open_for_amending(case)
    _active(person)
    role = _role(definition, person, definition.corrections.undo, "undo a step")
    latest = case.history[-1] if case.history else None
    if latest is None or latest["trigger"] == OPEN_TRIGGER:
        raise Refused(
            "case {ref} has no step to undo after its opening; a case opened in error is "
            "voided ('{void}')",
            ref=case.ref,
            void=Step("void_case", (case.ref,)),
        )
    seq = int(latest["seq"])
    if expect is not None and expect != seq:
        if expect in case.reversed:
            raise Refused(f"event {expect} was already undone by event {case.reversed[expect]}")
        raise Refused(
            f"event {expect} is not the latest step of case {case.ref}; only the latest can be "
            f"undone, and that is event {seq} ({latest['trigger']})"
        )
    why = _why(rationale, "an undo")
    fields = undo_fields(seq)
    probe = _probe_state(definition, rows, case, fields, today)
    after = _candidate(definition, rows, case, UNDO_TRIGGER, fields, today, to_state=probe)
    return Amending(UNDO_TRIGGER, role, case.state, after.state, fields, why, (), seq, after)


def _probe_state(
    definition: WorkflowDefinition,
    rows: Sequence[Mapping[str, Any]],
    case: Replayed,
    fields: Mapping[str, Any],
    today: dt.date,
) -> str:
    """The state an undo leaves the case in (the state before the step it reverses)."""
    row = {
        "seq": case.last_seq + 1,
        "trigger": UNDO_TRIGGER,
        "from_state": case.state,
        "to_state": case.state,
        "occurred_on": today.isoformat(),
        "fields": dict(fields),
    }
    return replay(definition, case.ref, [*rows, row]).state


# -- a void ------------------------------------------------------------------------------


def decide_void(
    definition: WorkflowDefinition,
    rows: Sequence[Mapping[str, Any]],
    case: Replayed,
    person: Person,
    rationale: str | None,
    today: dt.date,
) -> Amending:
    """The void of a case opened in error, checked; or Refused saying why not."""
    _open_for_amending(case)
    _active(person)
    role = _role(definition, person, definition.corrections.void, "void a case")
    why = _why(rationale, "voiding a case")
    after = _candidate(definition, rows, case, VOID_TRIGGER, {}, today)
    return Amending(VOID_TRIGGER, role, case.state, after.state, {}, why, (), None, after)


# -- what an amendment did to the clocks ------------------------------------------------


def clock_shifts(
    rules: Sequence[ClockRule], amendment: Amendment, cal: Calendar
) -> tuple[ClockShift, ...]:
    """The clocks whose due date or state `amendment` changed, in the workflow's order."""
    before = clocks.derive(rules, amendment.facts_before, cal)
    after = clocks.derive(rules, amendment.facts_after, cal)
    found: list[ClockShift] = []
    for rule in rules:
        was, now = before.get(rule.id), after.get(rule.id)
        if was is None and now is None:
            continue
        due_was = was.due_on if was else None
        due_now = now.due_on if now else None
        state_was = was.state if was else None
        state_now = now.state if now else None
        if due_was != due_now or state_was != state_now:
            found.append(ClockShift(rule.id, rule.label, due_was, due_now, state_was, state_now))
    return tuple(found)
