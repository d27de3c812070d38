"""One case's events replayed against its pinned workflow, with its clocks at every event.

`timeline` and `explain` both start here, so what they say is exactly what the write
path computed: `load` reads the case's events, replays them (corrections applied, undone
steps left out) and walks `clocks.history` over the corrected history; `runs` splits
each clock's life into runs (a clock that restarts has one per start); `standing` says
where a clock stood against its due date on a day, in the clock's own counting unit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from casereview.domain import clocks
from casereview.errors import OutOfRange
from casereview.services import refs
from casereview.services.access import Viewer, require_reader
from casereview.services.context import ServiceContext

if TYPE_CHECKING:
    from casereview.domain.calendar.workdays import WorkingDayCalendar
    from casereview.domain.corrections import ClockShift
    from casereview.domain.replay import Replayed
    from casereview.domain.workflow.model import WorkflowDefinition


@dataclass(frozen=True)
class CaseHistory:
    ref: str
    pseudonym: str
    state: str
    closed: bool
    definition: WorkflowDefinition
    events: dict[int, dict[str, Any]]  # seq -> event row
    rules: list[clocks.ClockRule]
    moments: list[clocks.Moment]  # the steps of the corrected history
    replayed: Replayed  # with what each correction, undo and void did
    viewer: Viewer | None = None  # who is reading it (`services.access`)

    def amendment_shifts(self, cal: WorkingDayCalendar) -> dict[int, tuple[ClockShift, ...]]:
        """For each correction, undo and void (by seq), the clocks it moved."""
        from casereview.domain.corrections import clock_shifts

        return {a.seq: clock_shifts(self.rules, a, cal) for a in self.replayed.amendments}


def load(ctx: ServiceContext, ref: str) -> CaseHistory:
    """The case's events, replayed, with every clock before and after each event."""
    from casereview.services.stored import replay_stored
    from casereview.store import dashboard_queries as views

    with ctx.reader() as reader:
        viewer = require_reader(ctx, reader)
        row = refs.choose(ref, views.case_row(reader, ref), lambda p: views.cases_named(reader, p))
        ref = str(row["ref"])
        definition = ctx.registry.get_exact(
            str(row["workflow_id"]), int(row["workflow_version"]), str(row["workflow_hash"])
        )
        events = views.case_events(reader, int(row["id"]))
    state = replay_stored(definition, ref, events)
    rules = clocks.rules_for(definition)
    return CaseHistory(
        ref=ref,
        pseudonym=state.pseudonym,
        state=state.state,
        closed=state.closed,
        definition=definition,
        events={int(e["seq"]): e for e in events},
        rules=rules,
        moments=clocks.history(rules, state.facts, ctx.calendar),
        replayed=state,
        viewer=viewer,
    )


@dataclass(frozen=True)
class Standing:
    """Where a clock stood against its due date on one day."""

    on: dt.date
    margin: int | None  # budget left on `on` (negative: how late), in the counting unit
    position: clocks.Position | None  # the count from the anchor, where it means something


def margin(clock: clocks.ClockState, on: dt.date, cal: WorkingDayCalendar) -> int | None:
    """Budget left on `on` (negative: how late), in the clock's unit."""
    if clock.due_on is None:
        return None
    try:
        return clock.rule.clock_unit.remaining(on, clock.due_on, cal)
    except OutOfRange:  # `on` is a stored date outside the calendar: no count to give
        return None


def standing(clock: clocks.ClockState, on: dt.date, cal: WorkingDayCalendar) -> Standing:
    """The clock's margin on `on`, and its position ("working day 16 of 15") when
    counting from the anchor means something on that day."""
    rule = clock.rule
    where = None
    if rule.budget and clock.anchor_on is not None and clock.anchor_on <= on:
        where = clocks.position(clock, on, cal)
    return Standing(on, margin(clock, on, cal), where)


def reminder_over(clock: clocks.ClockState, today: dt.date) -> bool:
    """A reminder clock (one that ends when due) whose date has passed."""
    return clock.rule.ends_on_due and clock.due_on is not None and today > clock.due_on


@dataclass
class Run:
    """One run of one clock: its state at the end of the run (or now)."""

    clock: clocks.ClockState
    run: int  # 1 for the first run
    restarted_on: dt.date | None = None


def runs(moments: Sequence[clocks.Moment], rules: Sequence[clocks.ClockRule]) -> list[Run]:
    """Each run of each clock, in the order the runs started."""
    found: list[Run] = []
    current: dict[str, int] = {}
    counts: dict[str, int] = {}
    for moment in moments:
        started = {c.rule.id for c in moment.started()}
        for rule in rules:
            clock = moment.after.get(rule.id)
            if clock is None:
                continue
            if rule.id in started:
                if rule.id in current:
                    previous = found[current[rule.id]]
                    if previous.clock.state != "stopped":
                        previous.restarted_on = moment.facts.occurred_on
                counts[rule.id] = counts.get(rule.id, 0) + 1
                current[rule.id] = len(found)
                found.append(Run(clock, counts[rule.id]))
            elif rule.id in current:
                found[current[rule.id]].clock = clock
    return found
