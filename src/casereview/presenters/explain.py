"""How a due date was reached, as people read it: the counting rule in words, the
calculation in a sentence, notes on pauses, the outcome, one line per pause and move,
and the explanation's stable JSON shape (documented in docs/views.md: add keys,
never rename or drop them).

`present` turns the facts `services.explain` returns into a `DueExplanation` of ISO
dates, numbers and sentences; every front end draws that.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from casereview.domain.calendar.workdays import Explanation
from casereview.domain.clocks import OPEN_TRIGGER, ClockRule
from casereview.presenters import clocks as clock_words
from casereview.presenters.words import amount, day, iso
from casereview.presenters.workdays import explanation_json as calculation_json
from casereview.services.explain import ClockExplanation, CorrectedBy


@dataclass(frozen=True)
class PauseStep:
    paused_on: str
    paused_in: str | None  # the state that paused the clock
    resumed_on: str | None
    remaining: int
    unit: str


@dataclass(frozen=True)
class MoveStep:
    on: str
    trigger: str
    anchor_on: str
    due_from: str | None
    due_to: str | None


@dataclass(frozen=True)
class CorrectionStep:
    """A correction, undo or void that moved the due date or changed the clock."""

    on: str
    seq: int
    trigger: str
    actor: str
    role: str | None
    rationale: str | None
    due_from: str | None
    due_to: str | None
    text: str


@dataclass(frozen=True)
class DueExplanation:
    ref: str
    pseudonym: str
    today: str
    clock_id: str
    label: str
    kind: str
    state: str  # running | paused | stopped
    status: str
    rule: str
    budget: int
    unit: str  # the rule's unit: working_days | calendar_days | months | years
    direction: str
    day_zero: str  # anchor_is_day_0 | anchor_is_day_1
    day_zero_text: str
    anchor_field: str | None
    anchor_setting: str | None
    anchor_event: str | None  # the trigger whose date is the anchor (event anchors)
    anchor_on: str | None
    anchor_set_by: str | None  # the event that last set the anchor field
    anchor_set_on: str | None
    started_on: str
    started_by: str
    base_due_on: str | None
    due_on: str | None
    warn_from: str | None
    stopped_on: str | None
    stopped_by: str | None
    outcome: str | None
    calculation_text: str
    calculation: Explanation | None  # the working-day count behind the current due date
    pauses: tuple[PauseStep, ...]
    moves: tuple[MoveStep, ...]
    earlier_runs: tuple[tuple[str, str | None], ...]  # (started on, ended on)
    notes: tuple[str, ...]
    warnings: tuple[str, ...]
    corrections: tuple[CorrectionStep, ...] = ()


_AMENDED = {"correct": "a correction", "undo": "an undo", "void": "the void of the case"}


def correction_line(step: CorrectedBy) -> str:
    """`Due date moved from 2026-10-09 to 2026-12-09 on 2026-12-07 by a correction
    (event 12) by bu as business_unit: “October typed for December”`."""
    if step.due_from != step.due_to:
        what = f"Due date moved from {iso(step.due_from) or 'none'} to {iso(step.due_to) or 'none'}"
    else:
        what = f"Clock {step.state_from or 'not started'} → {step.state_to or 'not started'}"
    who = f"{step.actor} as {step.role}" if step.role else step.actor
    why = f": “{step.rationale}”" if step.rationale else ""
    by = _AMENDED.get(step.trigger, step.trigger)
    return f"{what} on {step.on.isoformat()} by {by} (event {step.seq}) by {who}{why}"


def present(facts: ClockExplanation) -> DueExplanation:
    """The explanation in sentences, dates as ISO text."""
    clock = facts.clock
    rule = clock.rule
    unit = clock_words.counting_unit(rule)
    calc_text, notes = _calculation_text(facts)
    if clock.state == "paused":
        notes.append(
            f"Paused since {clock.pauses[-1].paused_on.isoformat()}: the due date above no "
            f"longer applies; when the clock resumes, the {amount(clock.remaining or 0, unit)} "
            "left are counted from the day it resumes."
        )
    outcome = None
    if clock.state == "stopped" and clock.stopped_on is not None:
        outcome = clock_words.stopped(clock, facts.stopped)
    pauses = tuple(
        PauseStep(
            paused_on=p.paused_on.isoformat(),
            paused_in=facts.paused_in[i] if i < len(facts.paused_in) else None,
            resumed_on=iso(p.resumed_on),
            remaining=p.remaining,
            unit=unit,
        )
        for i, p in enumerate(clock.pauses)
    )
    moves = tuple(
        MoveStep(
            on=m.on.isoformat(),
            trigger=m.trigger,
            anchor_on=m.anchor_on.isoformat() if m.anchor_on else "",
            due_from=iso(m.due_from),
            due_to=iso(m.due_to),
        )
        for m in facts.moves
    )
    calculation = facts.calculation
    return DueExplanation(
        ref=facts.ref,
        pseudonym=facts.pseudonym,
        today=facts.today.isoformat(),
        clock_id=rule.id,
        label=rule.label,
        kind=rule.kind,
        state=clock.state,
        status=facts.status,
        rule=rule.describe(),
        budget=rule.budget,
        unit=rule.unit,
        direction=rule.direction,
        day_zero=facts.day_zero,
        day_zero_text=_day_zero_text(rule),
        anchor_field=rule.anchor_field,
        anchor_setting=facts.anchor_setting,
        anchor_event=facts.started_by if rule.anchor_field is None else None,
        anchor_on=iso(clock.anchor_on),
        anchor_set_by=facts.anchor_set_by,
        anchor_set_on=iso(facts.anchor_set_on),
        started_on=clock.started_on.isoformat(),
        started_by=facts.started_by,
        base_due_on=iso(clock.base_due_on),
        due_on=iso(clock.due_on),
        warn_from=iso(clock.warn_from),
        stopped_on=iso(clock.stopped_on),
        stopped_by=clock.stopped_by,
        outcome=outcome,
        calculation_text=calc_text,
        calculation=calculation,
        pauses=pauses,
        moves=moves,
        earlier_runs=tuple((s.isoformat(), iso(e)) for s, e in facts.earlier_runs),
        notes=tuple(notes),
        warnings=calculation.warnings if calculation is not None else (),
        corrections=tuple(
            CorrectionStep(
                on=c.on.isoformat(),
                seq=c.seq,
                trigger=c.trigger,
                actor=c.actor,
                role=c.role,
                rationale=c.rationale,
                due_from=iso(c.due_from),
                due_to=iso(c.due_to),
                text=correction_line(c),
            )
            for c in facts.corrections
        ),
    )


def explanation_json(view: DueExplanation) -> dict[str, Any]:
    """The explanation as its documented JSON."""
    data = dataclasses.asdict(view)
    data["calculation"] = calculation_json(view.calculation) if view.calculation else None
    data["earlier_runs"] = [{"started_on": s, "ended_on": e} for s, e in view.earlier_runs]
    return data


def facts_table(view: DueExplanation) -> list[tuple[str, str]]:
    """The explanation's facts as (name, sentence) rows: rule, counting, anchor, start,
    due date and stop."""
    rows: list[tuple[str, str]] = [("Rule", view.rule), ("Counting", view.day_zero_text)]
    if view.anchor_field:
        when = _weekday(view.anchor_on) if view.anchor_on else "unset"
        anchor = f"{view.anchor_field} = {when}"
        if view.anchor_setting:
            anchor += f" (chosen by the workflow setting {view.anchor_setting})"
        if view.anchor_set_by == OPEN_TRIGGER:
            anchor += f"; set when the case was opened on {view.anchor_set_on}"
        elif view.anchor_set_by:
            anchor += f"; set by {view.anchor_set_by} on {view.anchor_set_on}"
    else:
        when = _weekday(view.anchor_on) if view.anchor_on else "?"
        anchor = f"the date of {view.anchor_event}, {when}"
    rows.append(("Anchor", anchor))
    started_by = "opening the case" if view.started_by == OPEN_TRIGGER else view.started_by
    rows.append(("Started", f"{view.started_on} by {started_by}"))
    if view.due_on:
        due = _weekday(view.due_on)
        if view.base_due_on and view.base_due_on != view.due_on:
            due += f" (from the anchor alone: {view.base_due_on})"
        if view.warn_from and view.warn_from != view.due_on:
            due += f"; due soon from {view.warn_from}"
        rows.append(("Due", due))
    if view.stopped_on:
        rows.append(("Stopped", f"{view.stopped_on} by {view.stopped_by}"))
    return rows


def pause_line(pause: PauseStep) -> str:
    """`paused 2025-09-10 (case in publication_hold), resumed 2025-10-06; 120 days left
    carried over`."""
    where = f" (case in {pause.paused_in})" if pause.paused_in else ""
    until = f"resumed {pause.resumed_on}" if pause.resumed_on else "not resumed yet"
    left = amount(pause.remaining, pause.unit)
    return f"paused {pause.paused_on}{where}, {until}; {left} left carried over"


def move_line(move: MoveStep, anchor_field: str | None) -> str:
    """`2025-12-02 reschedule_publication: planned_publication_on became 2026-01-14; due
    2025-12-22 → 2026-01-05`."""
    return (
        f"{move.on} {move.trigger}: {anchor_field} became {move.anchor_on}; "
        f"due {move.due_from or 'none'} → {move.due_to or 'none'}"
    )


def earlier_runs_line(view: DueExplanation) -> str:
    runs = ", ".join(f"{start} to {end or 'open'}" for start, end in view.earlier_runs)
    return f"Earlier runs of this clock (before it restarted): {runs}."


def _weekday(text: str) -> str:
    return day(dt.date.fromisoformat(text))


def _day_zero_text(rule: ClockRule) -> str:
    return rule.clock_unit.how_counted(rule.budget, direction=rule.direction, day_one=rule.day_one)


def _calculation_text(facts: ClockExplanation) -> tuple[str, list[str]]:
    """The calculation in one sentence, and notes on what earlier pauses added."""
    clock = facts.clock
    rule = clock.rule
    notes: list[str] = []
    setter = facts.resumed_from
    if setter is not None and setter.resumed_on is not None:
        resumed = setter.resumed_on
        if facts.calculation is None:
            assert facts.counted_due is not None
            return (
                f"Resumed on {day(resumed)} with {rule.clock_unit.days(setter.remaining)} "
                f"left (kept when it paused on {setter.paused_on.isoformat()}): "
                f"{day(resumed)} + {setter.remaining} days is {day(facts.counted_due)}.",
                notes,
            )
        assert facts.calculation is not None
        return (
            f"Resumed on {day(resumed)} with {rule.clock_unit.days(setter.remaining)} "
            f"left (kept when it paused on {setter.paused_on.isoformat()}): "
            f"{facts.calculation.summary()}.",
            notes,
        )
    anchor = clock.anchor_on
    if clock.undetermined is not None:
        return f"No due date: {clock.undetermined}.", notes
    if anchor is None:
        return f"No due date yet: {clock.missing_anchor} is not set.", notes
    if clock.due_on is not None and clock.base_due_on is not None:
        shift = (clock.due_on - clock.base_due_on).days
        if shift and clock.state != "paused":
            notes.append(
                f"Earlier pauses added {amount(shift, 'calendar_days')}: due "
                f"{clock.base_due_on.isoformat()} + {shift} days = {clock.due_on.isoformat()}."
            )
    if facts.calculation is not None:
        return f"{facts.calculation.summary()}.", notes
    assert facts.counted_due is not None
    due = facts.counted_due
    if rule.budget == 0:
        return f"Due on {rule.anchor_field or 'the start date'} itself: {day(due)}.", notes
    return (
        f"{rule.clock_unit.amount(rule.budget)} {rule.direction} {day(anchor)} is {day(due)}.",
        notes,
    )
