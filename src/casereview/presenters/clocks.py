"""Sentences about one clock that the timeline and the explanation share: how a run
started and how it stopped against its due date."""

from __future__ import annotations

from typing import TYPE_CHECKING

from casereview.presenters.words import amount

if TYPE_CHECKING:
    from casereview.domain.clocks import ClockRule, ClockState
    from casereview.services.case_history import Standing


def counting_unit(rule: ClockRule) -> str:
    """The unit a clock's remaining budget and margins are counted in."""
    return rule.clock_unit.counted_in


def no_due_date(clock: ClockState) -> str:
    """Why a started clock has no due date: its anchor is not set yet, or its dates are
    outside the supported calendar (a value stored before dates were checked)."""
    if clock.undetermined is not None:
        return f"no due date: {clock.undetermined}"
    return f"no due date until {clock.missing_anchor} is set"


def started(clock: ClockState) -> str:
    """`due 2025-06-30 (15 working days after notified_on 2025-06-09)`."""
    rule = clock.rule
    if clock.due_on is None:
        return no_due_date(clock)
    anchor = ""
    if rule.anchor_field and clock.anchor_on and rule.budget:
        anchor = f" {clock.anchor_on.isoformat()}"
    return f"due {clock.due_on.isoformat()} ({rule.describe()}{anchor})"


def stopped(clock: ClockState, standing: Standing | None) -> str:
    """`<label> stopped by <trigger> on working day 17 of 15: 2 working days late`;
    `standing` is where the clock stood on its stop day (None without a due date)."""
    label, by, on = clock.rule.label, clock.stopped_by, clock.stopped_on
    assert on is not None
    if clock.due_on is None or standing is None or standing.margin is None:
        return f"{label} stopped by {by} on {on.isoformat()}"
    margin = standing.margin
    where = standing.position
    place = f"on {where}" if where is not None else f"on {on.isoformat()}"
    unit = counting_unit(clock.rule)
    if on == clock.due_on:
        outcome = "met on the due date"
    elif on < clock.due_on:
        outcome = f"met with {amount(margin, unit)} to spare"
    elif margin < 0:
        outcome = f"{amount(-margin, unit)} late"
    else:
        outcome = "late (after the due date, on a non-working day)"
    return f"{label} stopped by {by} {place}: {outcome}"
