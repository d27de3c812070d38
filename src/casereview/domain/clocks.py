"""Statutory and expectation clocks, derived from a case's events. Pure.

`derive` turns a workflow's clock definitions, the case's events in order and the
working-day calendar into every clock's anchor, due date, pauses and stop; `status` gives
the word a person sees (running, due_soon, overdue, paused, met, missed) on a given day.
A pause keeps what is left of the budget and re-projects it from the day the clock
resumes; a clock anchored on a field moves when an event changes that field. What a unit
means is its strategy in `casereview.domain.calendar.units` (docs/calendar.md).

Replay hands over the facts of a case's corrected history (corrections applied, undone
steps left out); a voided case's last fact is its void, after which it has no clocks.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from casereview.domain.calendar.units import UNITS, Unit, unit_named
from casereview.domain.calendar.units import Calendar as Calendar  # re-exported for callers
from casereview.errors import OutOfRange

if TYPE_CHECKING:
    from casereview.domain.workflow.model import WorkflowDefinition

# The pseudo-trigger of the event that opens a case (`OPEN` in the workflow format).
OPEN_TRIGGER = "open"
# The engine's own events that put a case's record right (`AMENDING` in the workflow
# format reserves them): a correction, the undo of the latest step, a void.
CORRECT_TRIGGER = "correct"
UNDO_TRIGGER = "undo"
VOID_TRIGGER = "void"
AMENDING_TRIGGERS = frozenset({CORRECT_TRIGGER, UNDO_TRIGGER, VOID_TRIGGER})


@dataclass(frozen=True)
class ClockRule:
    """A clock definition reduced to what the arithmetic needs (built from the workflow)."""

    id: str
    label: str
    kind: str
    budget: int
    unit: str  # working_days | calendar_days | months | years
    direction: str  # after | before
    anchor_field: str | None  # None: the date of the event that started the clock
    day_one: bool
    warn_within: int
    start_on: frozenset[str]
    stop_on: frozenset[str]
    pause_in: frozenset[str]
    reproject_on: frozenset[str]
    ends_on_due: bool
    stop_all: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    """The workflow's `stop_all`: (trigger, ((field, value), ...)) conditions, all of
    which must have happened since the clock started for it to stop."""
    paused_while_held: bool = False
    """Paused while the case is held (the workflow's `[holds]` table names it)."""
    hold_review: bool = False
    """The hold's review clock: it stops when the hold ends, whatever ends it."""

    @functools.cached_property
    def stoppers(self) -> frozenset[str]:
        """Every trigger that stops the clock, or is one of the things `stop_all` waits for."""
        return self.stop_on | {trigger for trigger, _ in self.stop_all}

    def stop_all_met(self, facts: EventFacts) -> frozenset[int]:
        """The `stop_all` conditions (by position) the event meets."""
        return frozenset(
            i
            for i, (trigger, where) in enumerate(self.stop_all)
            if trigger == facts.trigger and all(facts.recorded.get(k) == v for k, v in where)
        )

    @functools.cached_property
    def clock_unit(self) -> Unit:
        """The strategy for `unit`: due dates, counts and words."""
        return unit_named(self.unit)

    def describe(self) -> str:
        if self.budget == 0:
            return f"on {self.anchor_field or 'the start date'}"
        anchor = self.anchor_field or "the date the clock started"
        return f"{self.clock_unit.amount(self.budget)} {self.direction} {anchor}"


@dataclass(frozen=True)
class EventFacts:
    """What clocks need to know about one event."""

    trigger: str
    occurred_on: dt.date
    to_state: str
    fields_after: Mapping[str, Any]  # case fields after the event (dates as ISO text)
    changed: frozenset[str]
    seq: int | None = None
    fact_on: dt.date | None = None
    """The day the recorded thing happened, when the trigger declares a fact date
    (`notified_on`, `published_on`): a clock starts and stops on it, not on the day
    the event was recorded (`occurred_on`)."""

    held: bool = False
    """The case is held after the event (the workflow's `[holds]`): the clocks the
    workflow names pause, and stay paused until the hold ends."""

    overrode: str | None = None
    """The trigger whose check against what happened this event overrode (its guard's
    `override`, `domain.checks`): the event is the record of a breach."""

    recorded: Mapping[str, Any] = field(default_factory=dict)
    """What the event itself recorded (its fields, event-scoped ones too): a clock's
    `stop_all` conditions are met by these values."""

    @property
    def happened_on(self) -> dt.date:
        """The day the event's step happened: its fact date, else its business date."""
        return self.fact_on or self.occurred_on


@dataclass(frozen=True)
class Pause:
    paused_on: dt.date
    resumed_on: dt.date | None
    remaining: int  # in the count of the clock's unit (`Unit.counted_in`)


@dataclass(frozen=True)
class ClockState:
    rule: ClockRule
    state: str  # running | paused | stopped
    started_on: dt.date
    anchor_on: dt.date | None
    base_due_on: dt.date | None  # before any pause moved it
    due_on: dt.date | None
    warn_from: dt.date | None
    stopped_on: dt.date | None = None
    stopped_by: str | None = None
    pauses: tuple[Pause, ...] = ()
    reprojections: tuple[tuple[dt.date, dt.date], ...] = ()  # (on, new anchor)
    missing_anchor: str | None = None
    stops_seen: frozenset[int] = frozenset()
    """The `stop_all` conditions met since the clock started (by position)."""
    undetermined: str | None = None
    """Why the clock has no due date although it should: its arithmetic met a date
    outside the calendar casereview supports (a value stored before dates were checked
    on input). It keeps running, pausing and stopping with its case; `status` says
    `undetermined`, and `audit verify` reports the stored value."""

    @property
    def remaining(self) -> int | None:
        return self.pauses[-1].remaining if self.state == "paused" and self.pauses else None

    @property
    def paused_days(self) -> int:
        total = 0
        for pause in self.pauses:
            if pause.resumed_on is not None:
                total += (pause.resumed_on - pause.paused_on).days
        return total


def rules_for(definition: WorkflowDefinition) -> list[ClockRule]:
    """The clock rules of a workflow definition, with settings resolved."""
    holds = definition.holds
    return [
        ClockRule(
            id=c.id,
            label=c.label,
            kind=c.kind,
            budget=c.budget,
            unit=c.unit,
            direction=c.direction,
            anchor_field=definition.anchor_field(c),
            day_one=definition.day_zero_of(c) == "anchor_is_day_1",
            warn_within=c.warn_within,
            start_on=frozenset(c.start_on),
            stop_on=frozenset(c.stop_on),
            pause_in=frozenset(c.pause_in),
            reproject_on=frozenset(c.reproject_on),
            ends_on_due=c.ends == "on_due",
            stop_all=tuple((w.trigger, tuple(w.where.items())) for w in c.stop_all),
            paused_while_held=holds is not None and c.id in holds.pause,
            hold_review=holds is not None and c.id == holds.review_clock,
        )
        for c in definition.clocks
    ]


def project_due(rule: ClockRule, anchor: dt.date, cal: Calendar) -> dt.date:
    """The rule's due date from `anchor`, before any pause moves it."""
    unit = rule.clock_unit
    if rule.direction == "after":
        return unit.after(anchor, rule.budget, cal, day_one=rule.day_one)
    return unit.before(anchor, rule.budget, cal)


def _warn_from(rule: ClockRule, due: dt.date, cal: Calendar) -> dt.date:
    if rule.warn_within <= 0:
        return due
    return cal.subtract_working_days(due, rule.warn_within)


def _anchor(rule: ClockRule, facts: EventFacts) -> dt.date | None:
    if rule.anchor_field is None:
        return facts.happened_on
    value = facts.fields_after.get(rule.anchor_field)
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:  # stored around casereview: the clock cannot be computed
        raise OutOfRange(f"{rule.anchor_field} {str(value)[:40]!r} is not a date") from None


def _start(rule: ClockRule, facts: EventFacts, cal: Calendar) -> ClockState:
    anchor = _anchor(rule, facts)
    due = project_due(rule, anchor, cal) if anchor else None
    state = ClockState(
        rule=rule,
        state="running",
        started_on=facts.happened_on,
        anchor_on=anchor,
        base_due_on=due,
        due_on=due,
        warn_from=_warn_from(rule, due, cal) if due else None,
        missing_anchor=None if anchor else rule.anchor_field,
    )
    if _pausing(rule, facts) and due is not None:
        state = _pause(state, facts.occurred_on, cal)
    return state


def _pausing(rule: ClockRule, facts: EventFacts) -> bool:
    """Whether the clock is to be paused after the event: the case is in one of its
    `pause_in` states, or held and the clock is one the hold pauses."""
    return facts.to_state in rule.pause_in or (facts.held and rule.paused_while_held)


def _pause(state: ClockState, on: dt.date, cal: Calendar) -> ClockState:
    assert state.due_on is not None
    remaining = state.rule.clock_unit.remaining(on, state.due_on, cal)
    return replace(state, state="paused", pauses=(*state.pauses, Pause(on, None, remaining)))


def _resume(state: ClockState, on: dt.date, cal: Calendar) -> ClockState:
    last = state.pauses[-1]
    due = state.rule.clock_unit.resume(on, last.remaining, cal)
    pauses = (*state.pauses[:-1], replace(last, resumed_on=on))
    return replace(
        state,
        state="running",
        due_on=due,
        warn_from=_warn_from(state.rule, due, cal),
        pauses=pauses,
    )


def _reproject(state: ClockState, facts: EventFacts, cal: Calendar) -> ClockState:
    anchor = _anchor(state.rule, facts)
    if anchor is None or anchor == state.anchor_on:
        return state
    base = project_due(state.rule, anchor, cal)
    due = base
    if state.state == "running" and state.pauses:
        # Keep the time already credited by earlier pauses.
        shift = (state.due_on - state.base_due_on).days if state.due_on and state.base_due_on else 0
        due = base + dt.timedelta(days=shift)
    new = replace(
        state,
        anchor_on=anchor,
        base_due_on=base,
        due_on=due,
        warn_from=_warn_from(state.rule, due, cal),
        reprojections=(*state.reprojections, (facts.occurred_on, anchor)),
        missing_anchor=None,
        undetermined=None,
    )
    if state.state == "paused":
        # A paused clock keeps its ledger; the new remaining counts from the pause day.
        last = state.pauses[-1]
        remaining = state.rule.clock_unit.remaining(last.paused_on, base, cal)
        new = replace(new, pauses=(*state.pauses[:-1], replace(last, remaining=remaining)))
    return new


def step(
    clocks: Mapping[str, ClockState],
    rules: Sequence[ClockRule],
    facts: EventFacts,
    cal: Calendar,
) -> dict[str, ClockState]:
    """The clocks after one more event (the input mapping is not modified)."""
    result = dict(clocks)
    _step_in_place(result, rules, facts, cal)
    return result


def _step_in_place(
    clocks: dict[str, ClockState],
    rules: Sequence[ClockRule],
    facts: EventFacts,
    cal: Calendar,
) -> None:
    """`step`, changing `clocks` itself: `derive` keeps no intermediate states, so it
    need not copy the mapping for every event."""
    trigger = facts.trigger
    if trigger == VOID_TRIGGER:
        # A case opened in error has no deadlines: every clock goes with it.
        clocks.clear()
        return
    for rule in rules:
        current = clocks.get(rule.id)
        # `clocks[rule.id]` is assigned last on every path, so when the arithmetic
        # fails it still holds the clock as it was before this event.
        try:
            if trigger in rule.start_on:
                clocks[rule.id] = _start(rule, facts, cal)
                continue
            if current is None or current.state == "stopped":
                continue
            if trigger in rule.stop_on or (rule.hold_review and not facts.held):
                clocks[rule.id] = replace(
                    current,
                    state="stopped",
                    stopped_on=facts.happened_on,
                    stopped_by=trigger,
                )
                continue
            if rule.stop_all:
                met = rule.stop_all_met(facts)
                if met:
                    seen = current.stops_seen | met
                    if len(seen) == len(rule.stop_all):
                        # The last of what it waits for: stopped on the day it happened.
                        clocks[rule.id] = replace(
                            current,
                            state="stopped",
                            stopped_on=facts.happened_on,
                            stopped_by=trigger,
                            stops_seen=seen,
                        )
                        continue
                    current = replace(current, stops_seen=seen)
            if (
                rule.anchor_field
                and rule.anchor_field in facts.changed
                and (
                    rule.anchor_field in rule.reproject_on
                    or current.missing_anchor
                    or current.undetermined
                )
            ):
                current = _reproject(current, facts, cal)
            if current.due_on is not None:
                pausing = _pausing(rule, facts)
                if current.state == "running" and pausing:
                    current = _pause(current, facts.occurred_on, cal)
                elif current.state == "paused" and not pausing:
                    current = _resume(current, facts.occurred_on, cal)
            clocks[rule.id] = current
        except OutOfRange as exc:
            clocks[rule.id] = _undetermined(rule, clocks.get(rule.id), facts, exc.message)


def _undetermined(
    rule: ClockRule, current: ClockState | None, facts: EventFacts, why: str
) -> ClockState:
    """The clock after an event whose arithmetic left the supported calendar: started
    (or restarted) by it, or as it was, either way without a due date."""
    if current is None or facts.trigger in rule.start_on:
        try:
            anchor = _anchor(rule, facts)
        except OutOfRange:  # not a date at all
            anchor = None
        return ClockState(
            rule=rule,
            state="running",
            started_on=facts.happened_on,
            anchor_on=anchor,
            base_due_on=None,
            due_on=None,
            warn_from=None,
            undetermined=why,
        )
    return replace(current, base_due_on=None, due_on=None, warn_from=None, undetermined=why)


def derive(
    rules: Sequence[ClockRule], events: Iterable[EventFacts], cal: Calendar
) -> dict[str, ClockState]:
    """Replay events through every clock rule; returns the clocks that have started."""
    clocks: dict[str, ClockState] = {}
    for facts in events:
        _step_in_place(clocks, rules, facts, cal)
    return clocks


@dataclass(frozen=True)
class Moment:
    """One event with the clocks as they stood just before it and just after it."""

    facts: EventFacts
    before: Mapping[str, ClockState]
    after: Mapping[str, ClockState]

    def started(self) -> list[ClockState]:
        return [
            c
            for k, c in self.after.items()
            if c.started_on == self.facts.happened_on
            and (k not in self.before or self.before[k] is not c)
            and c.state != "stopped"
            and self.facts.trigger in c.rule.start_on
        ]

    def stopped(self) -> list[ClockState]:
        return [
            c
            for k, c in self.after.items()
            if c.state == "stopped" and k in self.before and self.before[k].state != "stopped"
        ]


def history(
    rules: Sequence[ClockRule], events: Iterable[EventFacts], cal: Calendar
) -> list[Moment]:
    """Every event with its before-and-after clocks, for timelines and exports."""
    moments: list[Moment] = []
    clocks: dict[str, ClockState] = {}
    for facts in events:
        after = step(clocks, rules, facts, cal)
        moments.append(Moment(facts, clocks, after))
        clocks = after
    return moments


def status(clock: ClockState, today: dt.date) -> str:
    """The word for a clock on `today`: running, due_soon, overdue, paused, met, missed,
    or undetermined (its dates are outside the supported calendar)."""
    if clock.undetermined is not None:
        return "undetermined"
    if clock.state == "stopped":
        if clock.due_on is None or clock.stopped_on is None:
            return "met"
        return "met" if clock.stopped_on <= clock.due_on else "missed"
    if clock.state == "paused":
        return "paused"
    return status_of_running(clock.due_on, clock.warn_from, clock.rule.ends_on_due, today)


def status_of_running(
    due_on: dt.date | None, warn_from: dt.date | None, ends_on_due: bool, today: dt.date
) -> str:
    if due_on is None:
        return "running"
    if today > due_on:
        return "met" if ends_on_due else "overdue"
    if warn_from is not None and today >= warn_from:
        return "due_soon"
    return "running"


@dataclass(frozen=True)
class Position:
    """Where a clock stood on a day: "working day 13 of 15"."""

    day: int
    of: int
    unit: str  # the count it is in (`Unit.counted_in`): working_days | calendar_days

    def __str__(self) -> str:
        counted = UNITS.get(self.unit)
        return f"{counted.day_word if counted else 'day'} {self.day} of {self.of}"


def position(clock: ClockState, on: dt.date, cal: Calendar) -> Position | None:
    """The count from the anchor to `on`, against the budget (after-clocks only)."""
    rule = clock.rule
    if clock.anchor_on is None or clock.due_on is None or rule.direction != "after":
        return None
    unit = rule.clock_unit
    paused = (
        [(p.paused_on, p.resumed_on) for p in clock.pauses if p.resumed_on is not None]
        if clock.pauses
        else ()
    )
    try:
        day, of = unit.position(
            clock.anchor_on, on, clock.due_on, rule.budget, paused, cal, day_one=rule.day_one
        )
    except OutOfRange:
        return None  # `on` is outside the supported calendar: there is no count to give
    return Position(day, of, unit.counted_in)


@dataclass
class ClockSummary:
    """A flat record of a derived clock, as stored in the projection."""

    clock_id: str
    label: str
    kind: str
    state: str
    anchor_on: str | None
    due_on: str | None
    warn_from: str | None
    started_on: str | None
    stopped_on: str | None
    remaining_days: int | None
    paused_days: int
    ends_on_due: bool


def summarise(clock: ClockState) -> ClockSummary:
    def iso(d: dt.date | None) -> str | None:
        return d.isoformat() if d else None

    return ClockSummary(
        clock_id=clock.rule.id,
        label=clock.rule.label,
        kind=clock.rule.kind,
        state=clock.state,
        anchor_on=iso(clock.anchor_on),
        due_on=iso(clock.due_on),
        warn_from=iso(clock.warn_from),
        started_on=iso(clock.started_on),
        stopped_on=iso(clock.stopped_on),
        remaining_days=clock.remaining,
        paused_days=clock.paused_days,
        ends_on_due=clock.rule.ends_on_due,
    )
