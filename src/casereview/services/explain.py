"""How one clock's due date was reached: its anchor, its rule, the pauses and moves of its
latest run, the corrections that moved it (when, by whom, why), and the working-day
count (every counted and skipped day) behind the date.

Everything returned is a fact: dates, numbers, ids, workflow labels, the clock state and
the calendar's own explanation. The sentences a person reads are `presenters.explain`'s.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from casereview.domain import clocks
from casereview.errors import NotFound
from casereview.services import case_history
from casereview.services.case_history import CaseHistory, Standing
from casereview.services.context import ServiceContext

if TYPE_CHECKING:
    from casereview.domain.calendar.workdays import Explanation, WorkingDayCalendar


@dataclass(frozen=True)
class Move:
    """A change of the anchor field that moved the due date."""

    on: dt.date
    trigger: str
    anchor_on: dt.date | None
    due_from: dt.date | None
    due_to: dt.date | None


@dataclass(frozen=True)
class CorrectedBy:
    """A correction, undo or void that changed this clock's due date or state: when,
    by whom, why."""

    on: dt.date
    seq: int
    trigger: str  # correct | undo | void
    actor: str
    role: str | None
    rationale: str | None
    due_from: dt.date | None
    due_to: dt.date | None
    state_from: str | None  # None: not started
    state_to: str | None


@dataclass(frozen=True)
class ClockExplanation:
    ref: str
    pseudonym: str
    today: dt.date
    clock: clocks.ClockState  # the latest run
    status: str
    day_zero: str  # anchor_is_day_0 | anchor_is_day_1
    anchor_setting: str | None
    started_by: str  # the trigger that started this run (the anchor of an event anchor)
    anchor_set_by: str | None  # the trigger that last set the anchor field
    anchor_set_on: dt.date | None
    paused_in: tuple[str | None, ...]  # the state that paused the clock, per pause
    moves: tuple[Move, ...]
    resumed_from: clocks.Pause | None  # the pause whose end set the current due date
    calculation: Explanation | None  # the working-day count behind the current due date
    counted_due: dt.date | None  # the due date by plain date arithmetic (other units)
    stopped: Standing | None  # where the clock stood on the day it stopped
    earlier_runs: tuple[tuple[dt.date, dt.date | None], ...]  # (started on, ended on)
    corrections: tuple[CorrectedBy, ...] = ()  # amendments that moved it, in log order


def explain(ctx: ServiceContext, ref: str, clock_id: str) -> ClockExplanation:
    """How a clock's due date was reached: anchor, rule, day-0 rule, every counted and
    skipped day, pauses and re-projections. `clock_id` may also be the clock's label."""
    loaded = case_history.load(ctx, ref)
    cal = ctx.calendar
    definition = loaded.definition
    wanted = _resolve_clock(loaded, clock_id)
    runs = [r for r in case_history.runs(loaded.moments, loaded.rules) if r.clock.rule.id == wanted]
    run = runs[-1]
    clock = run.clock
    spec = definition.clocks_by_id[wanted]

    # Walk this run's moments: which event started it, pauses, moves, the last step
    # that set the due date.
    start_index = max(
        i for i, m in enumerate(loaded.moments) if any(c.rule.id == wanted for c in m.started())
    )
    start_moment = loaded.moments[start_index]
    paused_in: list[str | None] = []
    moves: list[Move] = []
    setter: clocks.Pause | None = None
    if clock.pauses and start_moment.after[wanted].state == "paused":
        paused_in.append(start_moment.facts.to_state)
    for moment in loaded.moments[start_index + 1 :]:
        before, after = moment.before.get(wanted), moment.after.get(wanted)
        if before is None or after is None or before is after:
            continue
        if len(after.reprojections) > len(before.reprojections):
            moves.append(
                Move(
                    on=moment.facts.occurred_on,
                    trigger=moment.facts.trigger,
                    anchor_on=after.anchor_on,
                    due_from=before.due_on,
                    due_to=after.due_on,
                )
            )
            setter = None
        if before.state == "running" and after.state == "paused":
            paused_in.append(moment.facts.to_state)
        elif before.state == "paused" and after.state == "running":
            setter = after.pauses[-1]
    if setter is not None and setter.resumed_on is None:
        setter = None
    calculation, counted_due = _calculation(clock, setter, cal)
    set_by, set_on = _anchor_setter(loaded, clock.rule.anchor_field)
    stopped = None
    if clock.state == "stopped" and clock.stopped_on is not None and clock.due_on is not None:
        stopped = case_history.standing(clock, clock.stopped_on, cal)
    today = ctx.clock.today()
    return ClockExplanation(
        ref=loaded.ref,
        pseudonym=loaded.pseudonym,
        today=today,
        clock=clock,
        status=clocks.status(clock, today),
        day_zero=definition.day_zero_of(spec),
        anchor_setting=spec.anchor.setting,
        started_by=start_moment.facts.trigger,
        anchor_set_by=set_by,
        anchor_set_on=set_on,
        paused_in=tuple(paused_in),
        moves=tuple(moves),
        resumed_from=setter,
        calculation=calculation,
        counted_due=counted_due,
        stopped=stopped,
        earlier_runs=tuple(
            (r.clock.started_on, r.restarted_on or r.clock.stopped_on) for r in runs[:-1]
        ),
        corrections=_corrected_by(loaded, wanted, cal),
    )


def _corrected_by(
    loaded: CaseHistory, clock_id: str, cal: WorkingDayCalendar
) -> tuple[CorrectedBy, ...]:
    """Each correction, undo or void that changed this clock, with who made it and why."""
    found: list[CorrectedBy] = []
    for seq, shifts in loaded.amendment_shifts(cal).items():
        for shift in shifts:
            if shift.clock != clock_id:
                continue
            row = loaded.events.get(seq, {})
            found.append(
                CorrectedBy(
                    on=dt.date.fromisoformat(str(row["occurred_on"])),
                    seq=seq,
                    trigger=str(row["trigger"]),
                    actor=str(row.get("actor", "")),
                    role=None if row.get("role") is None else str(row["role"]),
                    rationale=None if row.get("rationale") is None else str(row["rationale"]),
                    due_from=shift.due_before,
                    due_to=shift.due_after,
                    state_from=shift.state_before,
                    state_to=shift.state_after,
                )
            )
    return tuple(found)


def _resolve_clock(loaded: CaseHistory, asked: str) -> str:
    ids = [r.id for r in loaded.rules]
    by_label = {r.label.casefold(): r.id for r in loaded.rules}
    wanted = asked if asked in ids else by_label.get(asked.strip().casefold())
    started = [r.id for r in loaded.rules if any(r.id in m.after for m in loaded.moments)]
    waiting = [i for i in ids if i not in started]
    listing = f"its clocks: {', '.join(started) or 'none started yet'}"
    if waiting:
        listing += f" (not started yet: {', '.join(waiting)})"
    if wanted is None:
        close = difflib.get_close_matches(asked, ids, n=1, cutoff=0.75)
        raise NotFound(
            "case {ref} has no clock {asked!r}{hint}; {listing}",
            ref=loaded.ref,
            asked=asked[:40],
            hint=f" (did you mean {close[0]!r}?)" if close else "",
            listing=listing,
        )
    if wanted not in started:
        raise NotFound(
            "clock {clock} has not started on case {ref}; {listing}",
            clock=wanted,
            ref=loaded.ref,
            listing=listing,
        )
    return wanted


def _anchor_setter(
    loaded: CaseHistory, anchor_field: str | None
) -> tuple[str | None, dt.date | None]:
    """The event that last set the anchor field (trigger, date)."""
    if anchor_field is None:
        return None, None
    found: tuple[str | None, dt.date | None] = (None, None)
    for moment in loaded.moments:
        if anchor_field in moment.facts.changed:
            found = (moment.facts.trigger, moment.facts.occurred_on)
    return found


def _calculation(
    clock: clocks.ClockState, setter: clocks.Pause | None, cal: WorkingDayCalendar
) -> tuple[Explanation | None, dt.date | None]:
    """The count behind the current due date: the calendar's explanation for working
    days, else the date reached by plain arithmetic (None without an anchor)."""
    rule = clock.rule
    unit = rule.clock_unit
    if clock.undetermined is not None:
        return None, None  # its dates are outside the calendar: there is nothing to count
    if setter is not None and setter.resumed_on is not None:
        resumed = setter.resumed_on
        ex = unit.explain_resume(resumed, setter.remaining, cal)
        return (ex, None) if ex is not None else (None, unit.resume(resumed, setter.remaining, cal))
    anchor = clock.anchor_on
    if anchor is None:
        return None, None
    ex = unit.explain_due(anchor, rule.budget, cal, direction=rule.direction, day_one=rule.day_one)
    return (ex, None) if ex is not None else (None, clocks.project_due(rule, anchor, cal))
