"""Use cases behind the dashboards: what is due, a case's timeline, how a date was reached.

What is due across every case is `services.due`'s question; this module is about one
case at a time.

`timeline` and `explain` are about one case. They read its events, replay them against
the workflow version the case is pinned to and walk `clocks.history`, so what they say
is exactly what the write path computed: each event with the clocks it started,
stopped, paused, resumed or moved; the due dates that passed in between; a bar per
clock run for the plan-versus-actual chart; and, for one clock, every step and every
counted or skipped day behind its due date.

`demo_tour` builds a demonstration database and reads back its dashboard and one
timeline. Everything returned is a frozen record of ISO dates, numbers and sentences;
tables, colours, JSON and CSV belong to `cli.render.dashboard`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casereview.domain import clocks
from casereview.errors import Conflict, InvalidInput, NotFound
from casereview.services.context import ServiceContext
from casereview.services.due import DueList, due_list

if TYPE_CHECKING:
    from casereview.domain.calendar.workdays import Explanation, WorkingDayCalendar
    from casereview.domain.workflow.model import WorkflowDefinition

OPEN_LABEL = "Case opened"


# ------------------------------------------------------------------------------------
# Shared: one case's events, replayed, with the clocks at every event
# ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Loaded:
    ref: str
    pseudonym: str
    state: str
    closed: bool
    definition: WorkflowDefinition
    events: dict[int, dict[str, Any]]  # seq -> event row
    rules: list[clocks.ClockRule]
    moments: list[clocks.Moment]


def _load(ctx: ServiceContext, ref: str) -> _Loaded:
    from casereview.domain.replay import replay
    from casereview.store import dashboard_queries as views

    with ctx.reader() as reader:
        row = views.case_row(reader, ref)
        if row is None:
            raise NotFound(f"no case {ref!r}; see 'casereview case list'")
        definition = ctx.registry.get_exact(
            str(row["workflow_id"]), int(row["workflow_version"]), str(row["workflow_hash"])
        )
        events = views.case_events(reader, int(row["id"]))
    state = replay(definition, ref, events)
    rules = clocks.rules_for(definition)
    return _Loaded(
        ref=ref,
        pseudonym=state.pseudonym,
        state=state.state,
        closed=state.closed,
        definition=definition,
        events={int(e["seq"]): e for e in events},
        rules=rules,
        moments=clocks.history(rules, state.facts, ctx.calendar),
    )


def _unit(rule: clocks.ClockRule) -> str:
    """The unit a clock's remaining budget and margins are counted in."""
    return "working_days" if rule.unit == "working_days" else "calendar_days"


def _amount(n: int, unit: str) -> str:
    word = "working day" if unit == "working_days" else "day"
    return f"{n} {word}" + ("" if n == 1 else "s")


def _margin(clock: clocks.ClockState, on: dt.date, cal: WorkingDayCalendar) -> int | None:
    """Budget left on `on` (negative: how late), in the clock's unit."""
    if clock.due_on is None:
        return None
    if clock.rule.unit == "working_days":
        return cal.count_working_days(on, clock.due_on)
    return (clock.due_on - on).days


def _weekday(d: dt.date) -> str:
    from casereview.domain.calendar.workdays import weekday_name

    return f"{weekday_name(d)[:3]} {d.isoformat()}"


# ------------------------------------------------------------------------------------
# The timeline
# ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockNote:
    """What happened to one clock at one event (or where it stands today)."""

    clock_id: str
    label: str
    change: str  # started | restarted | stopped | paused | resumed | moved | open
    status: str  # the clock's status that day: running, due_soon, overdue, paused, met, missed
    due_on: str | None
    margin: int | None  # stopped/open: budget to spare (negative: late), in `unit`
    unit: str  # working_days | calendar_days
    text: str


@dataclass(frozen=True)
class EventEntry:
    on: str
    seq: int
    trigger: str
    trigger_label: str
    from_state: str | None
    to_state: str | None
    actor: str
    on_behalf_of: str | None
    role: str | None
    rationale: str | None
    fields: dict[str, Any]
    clocks: tuple[ClockNote, ...]
    kind: str = "event"


@dataclass(frozen=True)
class DuePassed:
    on: str
    clock_id: str
    label: str
    due_on: str
    text: str
    kind: str = "due_passed"


@dataclass(frozen=True)
class ChartBar:
    """One run of one clock: its planned window against what actually happened."""

    clock_id: str
    label: str
    kind: str
    run: int  # 1 for the first run; a clock that restarts gets a bar per run
    planned_from: str
    planned_to: str | None  # the due date (after any pause moved it)
    actual_from: str
    actual_to: str  # stopped, restarted, or today while open
    open: bool
    status: str  # met | missed | restarted | running | due_soon | overdue | paused
    pauses: tuple[tuple[str, str], ...]  # (paused on, resumed on or actual_to)
    overrun: int  # how far actual_to is past planned_to, in `unit` (0 if not)
    unit: str
    result: str


@dataclass(frozen=True)
class Timeline:
    ref: str
    pseudonym: str
    state: str
    state_label: str
    closed: bool
    today: str
    entries: tuple[EventEntry | DuePassed, ...]
    now: tuple[ClockNote, ...]
    bars: tuple[ChartBar, ...]
    axis_from: str
    axis_to: str
    hidden_fields: tuple[str, ...] = field(default=())


def timeline(ctx: ServiceContext, ref: str) -> Timeline:
    """A case's life in order: events, clock changes and due dates passing; a bar per clock."""
    loaded = _load(ctx, ref)
    today = ctx.clock.today()
    cal = ctx.calendar
    definition = loaded.definition
    personal = definition.personal_field_ids
    entries: list[EventEntry | DuePassed] = []
    reported: set[tuple[str, dt.date, dt.date]] = set()
    hidden: set[str] = set()
    moments = loaded.moments
    for index, moment in enumerate(moments):
        facts = moment.facts
        row = loaded.events.get(facts.seq or -1, {})
        trigger = definition.triggers_by_id.get(facts.trigger)
        fields = dict(_event_fields(row))
        fields.pop("pseudonym", None)
        for name in [n for n in fields if n in personal]:
            hidden.add(name)
            del fields[name]
        entries.append(
            EventEntry(
                on=facts.occurred_on.isoformat(),
                seq=int(facts.seq or 0),
                trigger=facts.trigger,
                trigger_label=trigger.label if trigger is not None else OPEN_LABEL,
                from_state=_opt(row.get("from_state")),
                to_state=_opt(row.get("to_state")),
                actor=str(row.get("actor", "")),
                on_behalf_of=_opt(row.get("on_behalf_of")),
                role=_opt(row.get("role")),
                rationale=_opt(row.get("rationale")),
                fields=fields,
                clocks=tuple(_notes(moment, loaded.rules, cal)),
            )
        )
        end = moments[index + 1].facts.occurred_on if index + 1 < len(moments) else today
        entries.extend(_passed(moment, loaded.rules, end, reported))
    final = moments[-1].after if moments else {}
    still_open = [
        final[r.id]
        for r in loaded.rules
        if r.id in final
        and final[r.id].state != "stopped"
        and not _reminder_over(final[r.id], today)
    ]
    now = tuple(_open_note(c, today, cal) for c in still_open)
    bars = _bars(moments, loaded.rules, today, cal)
    starts = [dt.date.fromisoformat(b.planned_from) for b in bars]
    if moments:
        starts.append(moments[0].facts.occurred_on)
    ends = [today]
    ends += [dt.date.fromisoformat(b.actual_to) for b in bars]
    ends += [dt.date.fromisoformat(b.planned_to) for b in bars if b.planned_to]
    state_def = definition.states_by_id.get(loaded.state)
    return Timeline(
        ref=ref,
        pseudonym=loaded.pseudonym,
        state=loaded.state,
        state_label=state_def.label if state_def is not None else loaded.state,
        closed=loaded.closed,
        today=today.isoformat(),
        entries=tuple(entries),
        now=now,
        bars=tuple(bars),
        axis_from=min(starts, default=today).isoformat(),
        axis_to=max(ends).isoformat(),
        hidden_fields=tuple(sorted(hidden)),
    )


def _event_fields(row: Mapping[str, Any]) -> Mapping[str, Any]:
    import json

    value = row.get("fields")
    if isinstance(value, str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return dict(value) if isinstance(value, Mapping) else {}


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def _describe_start(clock: clocks.ClockState) -> str:
    rule = clock.rule
    if clock.due_on is None:
        return f"no due date until {clock.missing_anchor} is set"
    anchor = ""
    if rule.anchor_field and clock.anchor_on and rule.budget:
        anchor = f" {clock.anchor_on.isoformat()}"
    return f"due {clock.due_on.isoformat()} ({rule.describe()}{anchor})"


def _position(clock: clocks.ClockState, on: dt.date, cal: WorkingDayCalendar) -> str | None:
    """ "working day 16 of 15", when counting from the anchor means something on `on`."""
    if not clock.rule.budget or clock.anchor_on is None or clock.anchor_on > on:
        return None
    where = clocks.position(clock, on, cal)
    return None if where is None else str(where)


def _stop_text(clock: clocks.ClockState, cal: WorkingDayCalendar) -> tuple[str, int | None]:
    assert clock.stopped_on is not None
    label, by, on = clock.rule.label, clock.stopped_by, clock.stopped_on
    if clock.due_on is None:
        return f"{label} stopped by {by} on {on.isoformat()}", None
    margin = _margin(clock, on, cal)
    assert margin is not None
    where = _position(clock, on, cal)
    place = f"on {where}" if where is not None else f"on {on.isoformat()}"
    unit = _unit(clock.rule)
    if on == clock.due_on:
        outcome = "met on the due date"
    elif on < clock.due_on:
        outcome = f"met with {_amount(margin, unit)} to spare"
    elif margin < 0:
        outcome = f"{_amount(-margin, unit)} late"
    else:
        outcome = "late (after the due date, on a non-working day)"
    return f"{label} stopped by {by} {place}: {outcome}", margin


def _notes(
    moment: clocks.Moment, rules: Sequence[clocks.ClockRule], cal: WorkingDayCalendar
) -> list[ClockNote]:
    facts = moment.facts
    day = facts.occurred_on
    started = {c.rule.id for c in moment.started()}
    stopped = {c.rule.id for c in moment.stopped()}
    notes: list[ClockNote] = []
    for rule in rules:
        after = moment.after.get(rule.id)
        before = moment.before.get(rule.id)
        if after is None or after is before:
            continue
        unit = _unit(rule)

        if rule.id in stopped:
            text, margin = _stop_text(after, cal)
            notes.append(_note(after, day, "stopped", text, margin))
            continue
        if rule.id in started:
            restarted = before is not None and before.state != "stopped"
            change = "restarted" if restarted else "started"
            text = f"{rule.label} {change}: {_describe_start(after)}"
            if after.state == "paused":
                text += f"; paused at once (case in {facts.to_state})"
            notes.append(_note(after, day, change, text, None))
            continue
        if before is None:
            continue
        if len(after.reprojections) > len(before.reprojections):
            old = before.due_on.isoformat() if before.due_on else "no date"
            new = after.due_on.isoformat() if after.due_on else "no date"
            anchor = after.anchor_on.isoformat() if after.anchor_on else "unset"
            notes.append(
                _note(
                    after,
                    day,
                    "moved",
                    f"{rule.label} due date moved from {old} to {new} "
                    f"({rule.anchor_field} changed to {anchor})",
                )
            )
        if before.state == "running" and after.state == "paused":
            left = after.pauses[-1].remaining
            notes.append(
                _note(
                    after,
                    day,
                    "paused",
                    f"{rule.label} paused (case in {facts.to_state}): {_amount(left, unit)} left",
                )
            )
        elif before.state == "paused" and after.state == "running":
            pause = after.pauses[-1]
            held = (day - pause.paused_on).days
            due = after.due_on.isoformat() if after.due_on else "no date"
            notes.append(
                _note(
                    after,
                    day,
                    "resumed",
                    f"{rule.label} resumed after {_amount(held, 'calendar_days')} paused: "
                    f"{_amount(pause.remaining, unit)} left, now due {due}",
                )
            )
    return notes


def _note(
    clock: clocks.ClockState, day: dt.date, change: str, text: str, margin: int | None = None
) -> ClockNote:
    return ClockNote(
        clock_id=clock.rule.id,
        label=clock.rule.label,
        change=change,
        status=clocks.status(clock, day),
        due_on=clock.due_on.isoformat() if clock.due_on else None,
        margin=margin,
        unit=_unit(clock.rule),
        text=text,
    )


def _reminder_over(clock: clocks.ClockState, today: dt.date) -> bool:
    return clock.rule.ends_on_due and clock.due_on is not None and today > clock.due_on


def _passed(
    moment: clocks.Moment,
    rules: Sequence[clocks.ClockRule],
    end: dt.date,
    reported: set[tuple[str, dt.date, dt.date]],
) -> list[DuePassed]:
    """Due dates that passed, with the clock still running, before the next event
    (or before today); the clocks cannot change between events."""
    start = moment.facts.occurred_on
    found: list[tuple[dt.date, int, DuePassed]] = []
    for order, rule in enumerate(rules):
        clock = moment.after.get(rule.id)
        if clock is None or clock.state != "running" or clock.due_on is None:
            continue
        if clock.due_on >= end:
            continue
        key = (rule.id, clock.started_on, clock.due_on)
        if key in reported:
            continue
        reported.add(key)
        on = max(clock.due_on, start)
        due = clock.due_on.isoformat()
        if rule.ends_on_due:
            text = f"{rule.label}: its period ended on {due} (a reminder; nothing was due)"
        else:
            text = f"{rule.label}: due date {due} passed with the clock still running"
        found.append((on, order, DuePassed(on.isoformat(), rule.id, rule.label, due, text)))
    return [entry for _, _, entry in sorted(found, key=lambda t: (t[0], t[1]))]


def _open_note(clock: clocks.ClockState, today: dt.date, cal: WorkingDayCalendar) -> ClockNote:
    rule = clock.rule
    unit = _unit(rule)
    status = clocks.status(clock, today)
    due = clock.due_on.isoformat() if clock.due_on else None
    margin: int | None = None
    if clock.state == "paused":
        left = clock.remaining if clock.remaining is not None else 0
        since = clock.pauses[-1].paused_on.isoformat()
        text = f"{rule.label}: paused since {since}, {_amount(left, unit)} left when it resumes"
    elif clock.due_on is None:
        text = f"{rule.label}: running, no due date until {clock.missing_anchor} is set"
    else:
        margin = _margin(clock, today, cal)
        assert margin is not None
        where = _position(clock, today, cal)
        place = f"{where}, " if where is not None else ""
        if status == "overdue":
            text = f"{rule.label}: due {due}, {_amount(max(-margin, 0), unit)} late"
        else:
            text = f"{rule.label}: {place}due {due}, {_amount(margin, unit)} left"
    return ClockNote(rule.id, rule.label, "open", status, due, margin, unit, text)


@dataclass
class _Run:
    clock: clocks.ClockState
    run: int
    restarted_on: dt.date | None = None


def _runs(moments: Sequence[clocks.Moment], rules: Sequence[clocks.ClockRule]) -> list[_Run]:
    """Each run of each clock, in the order the runs started."""
    runs: list[_Run] = []
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
                    previous = runs[current[rule.id]]
                    if previous.clock.state != "stopped":
                        previous.restarted_on = moment.facts.occurred_on
                counts[rule.id] = counts.get(rule.id, 0) + 1
                current[rule.id] = len(runs)
                runs.append(_Run(clock, counts[rule.id]))
            elif rule.id in current:
                runs[current[rule.id]].clock = clock
    return runs


def _bars(
    moments: Sequence[clocks.Moment],
    rules: Sequence[clocks.ClockRule],
    today: dt.date,
    cal: WorkingDayCalendar,
) -> list[ChartBar]:
    bars: list[ChartBar] = []
    for run in _runs(moments, rules):
        c = run.clock
        unit = _unit(c.rule)
        start = min(c.anchor_on, c.started_on) if c.anchor_on else c.started_on
        is_open = False
        if run.restarted_on is not None:
            end, status = run.restarted_on, "restarted"
        elif c.state == "stopped" and c.stopped_on is not None:
            end, status = c.stopped_on, clocks.status(c, today)
        elif _reminder_over(c, today) and c.due_on is not None:
            end, status = c.due_on, "met"
        else:
            end, status, is_open = today, clocks.status(c, today), True
        # Time on hold is not overrun: a paused clock's due date is suspended.
        counted_to = c.pauses[-1].paused_on if c.state == "paused" and is_open else end
        overrun = 0
        if c.due_on is not None and counted_to > c.due_on and not c.rule.ends_on_due:
            late = _margin(c, counted_to, cal)
            overrun = max(-(late or 0), 1)
        pauses = tuple(
            (p.paused_on.isoformat(), (p.resumed_on or end).isoformat()) for p in c.pauses
        )
        bars.append(
            ChartBar(
                clock_id=c.rule.id,
                label=c.rule.label,
                kind=c.rule.kind,
                run=run.run,
                planned_from=start.isoformat(),
                planned_to=c.due_on.isoformat() if c.due_on else None,
                actual_from=start.isoformat(),
                actual_to=end.isoformat(),
                open=is_open,
                status=status,
                pauses=pauses,
                overrun=overrun,
                unit=unit,
                result=_result(c, status, end, overrun, cal),
            )
        )
    return bars


def _result(
    clock: clocks.ClockState, status: str, end: dt.date, overrun: int, cal: WorkingDayCalendar
) -> str:
    unit = _unit(clock.rule)
    if status == "restarted":
        return f"restarted {end.isoformat()}"
    if status == "paused":
        left = clock.remaining if clock.remaining is not None else 0
        return f"paused, {_amount(left, unit)} left"
    if status == "missed":
        return f"missed by {_amount(overrun, unit)}"
    if status == "overdue":
        return f"overdue by {_amount(overrun, unit)}"
    margin = _margin(clock, end, cal)
    if status == "met":
        if clock.rule.ends_on_due or margin is None:
            return "met"
        return "met on the due date" if margin == 0 else f"met, {_amount(margin, unit)} to spare"
    if margin is None:
        return "running, no due date yet"
    word = "due soon" if status == "due_soon" else "on track"
    return f"{word}, {_amount(margin, unit)} left"


# ------------------------------------------------------------------------------------
# Explaining one clock's due date
# ------------------------------------------------------------------------------------


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


def explain(ctx: ServiceContext, ref: str, clock_id: str) -> DueExplanation:
    """How a clock's due date was reached: anchor, rule, day-0 rule, every counted and
    skipped day, pauses and re-projections. `clock_id` may also be the clock's label."""
    loaded = _load(ctx, ref)
    today = ctx.clock.today()
    cal = ctx.calendar
    definition = loaded.definition
    wanted = _resolve_clock(loaded, clock_id)
    runs = [r for r in _runs(loaded.moments, loaded.rules) if r.clock.rule.id == wanted]
    run = runs[-1]
    clock = run.clock
    rule = clock.rule
    spec = definition.clocks_by_id[wanted]
    unit = _unit(rule)

    # Walk this run's moments: which event started it, pauses, moves, the last step
    # that set the due date.
    start_index = max(
        i for i, m in enumerate(loaded.moments) if any(c.rule.id == wanted for c in m.started())
    )
    start_moment = loaded.moments[start_index]
    paused_in: list[str | None] = []
    moves: list[MoveStep] = []
    setter: clocks.Pause | None = None
    if clock.pauses and start_moment.after[wanted].state == "paused":
        paused_in.append(start_moment.facts.to_state)
    for moment in loaded.moments[start_index + 1 :]:
        before, after = moment.before.get(wanted), moment.after.get(wanted)
        if before is None or after is None or before is after:
            continue
        if len(after.reprojections) > len(before.reprojections):
            moves.append(
                MoveStep(
                    on=moment.facts.occurred_on.isoformat(),
                    trigger=moment.facts.trigger,
                    anchor_on=after.anchor_on.isoformat() if after.anchor_on else "",
                    due_from=before.due_on.isoformat() if before.due_on else None,
                    due_to=after.due_on.isoformat() if after.due_on else None,
                )
            )
            setter = None
        if before.state == "running" and after.state == "paused":
            paused_in.append(moment.facts.to_state)
        elif before.state == "paused" and after.state == "running":
            setter = after.pauses[-1]
    pauses = tuple(
        PauseStep(
            paused_on=p.paused_on.isoformat(),
            paused_in=paused_in[i] if i < len(paused_in) else None,
            resumed_on=p.resumed_on.isoformat() if p.resumed_on else None,
            remaining=p.remaining,
            unit=unit,
        )
        for i, p in enumerate(clock.pauses)
    )

    calculation, calc_text, notes = _calculation(clock, setter, cal)
    if clock.state == "paused":
        notes.append(
            f"Paused since {clock.pauses[-1].paused_on.isoformat()}: the due date above no "
            f"longer applies; when the clock resumes, the {_amount(clock.remaining or 0, unit)} "
            "left are counted from the day it resumes."
        )
    set_by, set_on = _anchor_setter(loaded, rule.anchor_field)
    outcome = None
    if clock.state == "stopped" and clock.stopped_on is not None:
        outcome = _stop_text(clock, cal)[0]
    earlier = tuple(
        (r.clock.started_on.isoformat(), _iso(r.restarted_on or r.clock.stopped_on))
        for r in runs[:-1]
    )
    warnings = calculation.warnings if calculation is not None else ()
    return DueExplanation(
        ref=loaded.ref,
        pseudonym=loaded.pseudonym,
        today=today.isoformat(),
        clock_id=wanted,
        label=rule.label,
        kind=rule.kind,
        state=clock.state,
        status=clocks.status(clock, today),
        rule=rule.describe(),
        budget=rule.budget,
        unit=rule.unit,
        direction=rule.direction,
        day_zero=definition.day_zero_of(spec),
        day_zero_text=_day_zero_text(rule),
        anchor_field=rule.anchor_field,
        anchor_setting=spec.anchor.setting,
        anchor_event=start_moment.facts.trigger if rule.anchor_field is None else None,
        anchor_on=clock.anchor_on.isoformat() if clock.anchor_on else None,
        anchor_set_by=set_by,
        anchor_set_on=set_on,
        started_on=clock.started_on.isoformat(),
        started_by=start_moment.facts.trigger,
        base_due_on=clock.base_due_on.isoformat() if clock.base_due_on else None,
        due_on=clock.due_on.isoformat() if clock.due_on else None,
        warn_from=clock.warn_from.isoformat() if clock.warn_from else None,
        stopped_on=clock.stopped_on.isoformat() if clock.stopped_on else None,
        stopped_by=clock.stopped_by,
        outcome=outcome,
        calculation_text=calc_text,
        calculation=calculation,
        pauses=pauses,
        moves=tuple(moves),
        earlier_runs=earlier,
        notes=tuple(notes),
        warnings=warnings,
    )


def _resolve_clock(loaded: _Loaded, asked: str) -> str:
    ids = [r.id for r in loaded.rules]
    by_label = {r.label.casefold(): r.id for r in loaded.rules}
    wanted = asked if asked in ids else by_label.get(asked.strip().casefold())
    started = [r.id for r in loaded.rules if any(r.id in m.after for m in loaded.moments)]
    waiting = [i for i in ids if i not in started]
    listing = f"its clocks: {', '.join(started) or 'none started yet'}"
    if waiting:
        listing += f" (not started yet: {', '.join(waiting)})"
    if wanted is None:
        raise NotFound(f"case {loaded.ref} has no clock {asked[:40]!r}; {listing}")
    if wanted not in started:
        raise NotFound(f"clock {wanted} has not started on case {loaded.ref}; {listing}")
    return wanted


def _anchor_setter(loaded: _Loaded, anchor_field: str | None) -> tuple[str | None, str | None]:
    """The event that last set the anchor field (trigger, date)."""
    if anchor_field is None:
        return None, None
    found: tuple[str | None, str | None] = (None, None)
    for moment in loaded.moments:
        if anchor_field in moment.facts.changed:
            found = (moment.facts.trigger, moment.facts.occurred_on.isoformat())
    return found


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _day_zero_text(rule: clocks.ClockRule) -> str:
    if rule.unit != "working_days":
        if rule.unit in ("months", "years"):
            return (
                "Calendar months: the same day of the month, or that month's last day when it "
                "is shorter; weekends and bank holidays do not move the date."
            )
        return "Calendar days: weekends and bank holidays do not move the date."
    if rule.direction == "before":
        return (
            "Counted back from the anchor, which is not counted: the due date is the "
            f"{_ordinal(rule.budget)} working day before it."
        )
    if rule.day_one:
        return (
            "The anchor is day 1 when it is a working day (workflow setting "
            "day_zero = anchor_is_day_1); an anchor on a non-working day is not counted."
        )
    return (
        "The anchor is day 0, whether or not it is a working day (workflow setting "
        f"day_zero = anchor_is_day_0); the due date is the {_ordinal(rule.budget)} working "
        "day after it."
    )


def _calculation(
    clock: clocks.ClockState, setter: clocks.Pause | None, cal: WorkingDayCalendar
) -> tuple[Explanation | None, str, list[str]]:
    rule = clock.rule
    notes: list[str] = []
    if setter is not None and setter.resumed_on is not None:
        resumed = setter.resumed_on
        if rule.unit != "working_days":
            due = resumed + dt.timedelta(days=setter.remaining)
            return (
                None,
                f"Resumed on {_weekday(resumed)} with {_amount(setter.remaining, 'calendar_days')} "
                f"left (kept when it paused on {setter.paused_on.isoformat()}): "
                f"{_weekday(resumed)} + {setter.remaining} days is {_weekday(due)}.",
                notes,
            )
        ex = (
            cal.explain_add(resumed, setter.remaining)
            if setter.remaining >= 0
            else cal.explain_before(resumed, -setter.remaining)
        )
        text = (
            f"Resumed on {_weekday(resumed)} with {_amount(setter.remaining, 'working_days')} "
            f"left (kept when it paused on {setter.paused_on.isoformat()}): {ex.summary()}."
        )
        return ex, text, notes
    anchor = clock.anchor_on
    if anchor is None:
        return None, f"No due date yet: {clock.missing_anchor} is not set.", notes
    if clock.due_on is not None and clock.base_due_on is not None:
        shift = (clock.due_on - clock.base_due_on).days
        if shift and clock.state != "paused":
            notes.append(
                f"Earlier pauses added {_amount(shift, 'calendar_days')}: due "
                f"{clock.base_due_on.isoformat()} + {shift} days = {clock.due_on.isoformat()}."
            )
    if rule.unit == "working_days":
        ex = (
            cal.explain_add(anchor, rule.budget, start_is_day_one=rule.day_one)
            if rule.direction == "after"
            else cal.explain_before(anchor, rule.budget)
        )
        return ex, f"{ex.summary()}.", notes
    due = clocks.project_due(rule, anchor, cal)
    if rule.budget == 0:
        return (
            None,
            f"Due on {rule.anchor_field or 'the start date'} itself: {_weekday(due)}.",
            notes,
        )
    unit = rule.unit.replace("_", " ").removesuffix("s")
    return (
        None,
        f"{rule.budget} {unit}{'' if rule.budget == 1 else 's'} {rule.direction} "
        f"{_weekday(anchor)} is {_weekday(due)}.",
        notes,
    )


# ------------------------------------------------------------------------------------
# The demonstration
# ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoTour:
    location: str
    cases: int
    events: int
    due: DueList
    timeline: Timeline


def demo_path() -> Path:
    """The demo database: `demo.db` in the user data directory, replaced on every run."""
    from platformdirs import user_data_path

    return user_data_path("casereview", appauthor=False) / "demo.db"


SQLITE_PREFIX = "sqlite:///"

TIMELINE_STATES = ("publication_hold", "published", "action_monitoring")
"""The demo shows the timeline of the first case found in one of these states."""


def demo_tour(ctx: ServiceContext, *, replace: bool) -> DemoTour:
    """Seed the demonstration cases into a new SQLite file at the context's database
    (dated from the context's today, recorded as the context's account) and read back
    the dashboard and one timeline. An existing file is removed first only when
    `replace` is true; otherwise it is refused, so a real database is never touched."""
    from casereview.services import cases, demo

    if not ctx.url.startswith(SQLITE_PREFIX):
        raise InvalidInput("the demo builds a SQLite file; give --db PATH")
    path = Path(ctx.url.removeprefix(SQLITE_PREFIX))
    if path.exists() and not replace:
        raise Conflict(
            f"{path} already exists; the demo never writes into an existing file: "
            "choose a new file for --db, or leave --db out to use the demo database"
        )
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    ctx.close()
    seeded = demo.seed(ctx.url, ctx.account, ctx.clock.today())
    due = due_list(ctx)
    chosen = seeded.refs[0]
    listed = {item.ref: item.state for item in cases.list_cases(ctx)}
    for state in TIMELINE_STATES:
        match = [ref for ref in seeded.refs if listed.get(ref) == state]
        if match:
            chosen = match[0]
            break
    return DemoTour(seeded.location, seeded.cases, seeded.events, due, timeline(ctx, chosen))
