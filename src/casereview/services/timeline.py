"""A case's life in order: its events, what each did to the clocks, the due dates that
passed in between, and each clock run's plan against what happened.

Everything returned is a fact: dates, numbers, ids, workflow labels and the clock
states themselves. The sentences a person reads are `presenters.timeline`'s.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from casereview.domain import actions as plans
from casereview.domain import checks, clocks
from casereview.domain import links as case_links
from casereview.domain.amendments import OCCURRED_ON, RATIONALE, Change
from casereview.domain.corrections import ClockShift
from casereview.services import case_history
from casereview.services.access import allow_personal
from casereview.services.case_history import Standing
from casereview.services.context import ServiceContext
from casereview.store import access as access_rows
from casereview.store import dashboard_queries as views

if TYPE_CHECKING:
    from casereview.domain.calendar.workdays import WorkingDayCalendar


@dataclass(frozen=True)
class ClockChange:
    """What one event did to one clock or, with `change` "open", where an open clock
    stands today."""

    change: str  # started | restarted | stopped | paused | resumed | moved | open
    clock: clocks.ClockState  # after the event
    before: clocks.ClockState | None  # just before the event
    on: dt.date
    status: str  # the clock's status that day: running, due_soon, overdue, paused, met, missed
    case_state: str  # the case's state after the event (the state that paused a clock)
    standing: Standing | None  # stopped: on the stop day; open and not paused: today


@dataclass(frozen=True)
class TimelineEvent:
    on: dt.date
    seq: int
    trigger: str
    trigger_label: str | None  # None: not one of the workflow's triggers (the opening)
    from_state: str | None
    to_state: str | None
    actor: str
    on_behalf_of: str | None
    role: str | None
    rationale: str | None
    fields: dict[str, Any]
    changes: tuple[ClockChange, ...]
    # What corrections changed on this event: the values as first recorded (field id,
    # `occurred_on` or `rationale` -> the original), and the corrections' seqs. The
    # event itself shows the corrected values.
    was: dict[str, Any] = field(default_factory=dict)
    corrected_by: tuple[int, ...] = ()
    reversed_by: int | None = None  # an undone step: the undo's seq (it changes nothing)


@dataclass(frozen=True)
class Amended:
    """A correction, undo or void: who made it, when, why, what it put right, and the
    clocks it moved."""

    on: dt.date
    seq: int
    trigger: str  # correct | undo | void
    actor: str
    role: str | None
    rationale: str | None
    changes: tuple[Change, ...]  # a correction's (personal values left out)
    reverses: int | None  # an undo's step
    reversed_trigger: str | None
    shifts: tuple[ClockShift, ...]


@dataclass(frozen=True)
class Breached:
    """A step recorded despite a failed check against what happened, by the check's
    override (`domain.checks`): it follows the step's own entry."""

    on: dt.date
    breach: checks.Breach


@dataclass(frozen=True)
class DueDatePassed:
    """A due date that passed with its clock still running, before the next event."""

    on: dt.date
    rule: clocks.ClockRule
    due_on: dt.date


@dataclass(frozen=True)
class ClockRun:
    """One run of one clock: its planned window against what actually happened."""

    clock: clocks.ClockState  # at the end of the run, or now
    run: int  # 1 for the first run; a clock that restarts has a run per start
    start: dt.date  # the anchor or the start, whichever is earlier
    end: dt.date  # stopped, restarted, the reminder's date, or today while open
    open: bool
    status: str  # met | missed | restarted | running | due_soon | overdue | paused
    overrun: int  # how far the run went past the due date, in the counting unit (0 if not)
    margin: int | None  # budget left on `end` (negative: late), in the counting unit


@dataclass(frozen=True)
class CaseTimeline:
    ref: str
    pseudonym: str
    state: str
    state_label: str
    closed: bool
    today: dt.date
    entries: tuple[TimelineEvent | DueDatePassed | Amended | Breached, ...]
    now: tuple[ClockChange, ...]  # the clocks still open today
    runs: tuple[ClockRun, ...]
    axis_from: dt.date
    axis_to: dt.date
    hidden_fields: tuple[str, ...] = field(default=())
    people: dict[str, str] = field(default_factory=dict)
    """login -> display name of everyone the entries name, as the users table has them."""
    links: tuple[dict[str, Any], ...] = ()
    """The links this case recorded (`other`, `relation`, `on`, `seq`), as `case show`."""
    linked_from: tuple[dict[str, Any], ...] = ()
    """The links other cases recorded to this one, as they stand now."""


def timeline(ctx: ServiceContext, ref: str, *, include_personal: bool = False) -> CaseTimeline:
    """A case's life in order: events, clock changes and due dates passing; each clock
    run. Personal fields are left out (named in `hidden_fields`) unless
    `include_personal`, which only a role the workflow allows may ask for, and which is
    recorded (`services.access`)."""
    loaded = case_history.load(ctx, ref)
    ref = loaded.ref  # a pseudonym names the case; every view names its reference
    today = ctx.clock.today()
    cal = ctx.calendar
    definition = loaded.definition
    personal = definition.personal_field_ids
    if include_personal and loaded.viewer is not None:
        allow_personal(ctx, loaded.viewer, [definition], command="timeline", cases=[ref])
        personal = frozenset()
    entries: list[TimelineEvent | DueDatePassed | Amended | Breached] = []
    reported: set[tuple[str, dt.date, dt.date]] = set()
    hidden: set[str] = set()
    moments = loaded.moments
    replayed = loaded.replayed
    steps = {int(step["seq"]): step for step in replayed.history}
    breached = {b.seq: b for b in checks.breaches(definition, replayed.history, cal)}
    for index, moment in enumerate(moments):
        facts = moment.facts
        if facts.trigger == clocks.VOID_TRIGGER:
            continue  # the void's own entry says what it did
        row = loaded.events.get(facts.seq or -1, {})
        trigger = definition.triggers_by_id.get(facts.trigger)
        step = steps.get(facts.seq or -1, row)
        fields = _shown_fields(_event_fields(step), personal, hidden)
        was = _was(row, step, replayed.rationales.get(facts.seq or -1), personal)
        entries.append(
            TimelineEvent(
                on=facts.occurred_on,
                seq=int(facts.seq or 0),
                trigger=facts.trigger,
                trigger_label=trigger.label if trigger is not None else None,
                from_state=_opt(row.get("from_state")),
                to_state=_opt(row.get("to_state")),
                actor=str(row.get("actor", "")),
                on_behalf_of=_opt(row.get("on_behalf_of")),
                role=_opt(row.get("role")),
                rationale=_opt(replayed.rationales.get(facts.seq or -1, row.get("rationale"))),
                fields=fields,
                changes=tuple(_changes(moment, loaded.rules, cal)),
                was=was,
                corrected_by=tuple(replayed.corrected.get(facts.seq or -1, ())),
            )
        )
        if facts.seq in breached:
            entries.append(Breached(facts.occurred_on, breached[facts.seq]))
        following = moments[index + 1] if index + 1 < len(moments) else None
        end = following.facts.occurred_on if following is not None else today
        entries.extend(_passed(moment, loaded.rules, end, reported, following))
    entries = _with_amendments(entries, loaded, cal, personal, hidden)
    entries = _with_plan_steps(entries, loaded)
    final = moments[-1].after if moments else {}
    still_open = [
        final[r.id]
        for r in loaded.rules
        if r.id in final
        and final[r.id].state != "stopped"
        and not case_history.reminder_over(final[r.id], today)
    ]
    now = tuple(_open(c, loaded.state, today, cal) for c in still_open)
    runs = _runs(moments, loaded.rules, today, cal)
    starts = [r.start for r in runs]
    if moments:
        starts.append(moments[0].facts.occurred_on)
    ends = [today]
    ends += [r.end for r in runs]
    ends += [r.clock.due_on for r in runs if r.clock.due_on]
    state_def = definition.states_by_id.get(loaded.state)
    logins: set[str] = set()
    for entry in entries:
        if isinstance(entry, TimelineEvent | Amended):
            logins.add(entry.actor)
        if isinstance(entry, TimelineEvent) and entry.on_behalf_of:
            logins.add(entry.on_behalf_of)
    with ctx.reader() as reader:
        people = access_rows.display_names(reader, logins)
        linking = views.cases_with_links(reader)
    return CaseTimeline(
        ref=ref,
        pseudonym=loaded.pseudonym,
        state=loaded.state,
        state_label=state_def.label if state_def is not None else loaded.state,
        closed=loaded.closed,
        today=today,
        entries=tuple(entries),
        now=now,
        runs=tuple(runs),
        axis_from=min(starts, default=today),
        axis_to=max(ends),
        hidden_fields=tuple(sorted(hidden)),
        people=people,
        links=tuple(replayed.links),
        linked_from=tuple(
            case_links.naming(ref, [(str(r["ref"]), json.loads(r["links"])) for r in linking])
        ),
    )


def _with_plan_steps(
    entries: list[TimelineEvent | DueDatePassed | Amended | Breached],
    loaded: case_history.CaseHistory,
) -> list[TimelineEvent | DueDatePassed | Amended | Breached]:
    """The steps of the case's action plan (`domain.actions`) put in among its entries,
    each on its day after what happened before it; they move no clock. Lists
    (agencies, evidence) are shown joined by "; "."""
    for seq, row in sorted(loaded.events.items()):
        if row.get("kind") not in plans.PLAN_KINDS:
            continue
        trigger = str(row["trigger"])
        on = dt.date.fromisoformat(str(row["occurred_on"]))
        fields = {
            k: "; ".join(str(v) for v in value) if isinstance(value, list) else value
            for k, value in _event_fields(row).items()
        }
        step = TimelineEvent(
            on=on,
            seq=seq,
            trigger=trigger,
            trigger_label=plans.STEP_LABELS.get(trigger, trigger),
            from_state=_opt(row.get("from_state")),
            to_state=_opt(row.get("to_state")),
            actor=str(row.get("actor", "")),
            on_behalf_of=_opt(row.get("on_behalf_of")),
            role=_opt(row.get("role")),
            rationale=_opt(row.get("rationale")),
            fields=fields,
            changes=(),
        )
        at = len(entries)
        for index, entry in enumerate(entries):
            later_step = isinstance(entry, TimelineEvent) and entry.on == on and entry.seq > seq
            if entry.on > on or later_step:
                at = index
                break
        entries.insert(at, step)
    return entries


def _shown_fields(
    recorded: Mapping[str, Any], personal: frozenset[str], hidden: set[str]
) -> dict[str, Any]:
    """An event's fields as the timeline shows them: no pseudonym, no personal fields
    (their names are added to `hidden`)."""
    fields = dict(recorded)
    fields.pop("pseudonym", None)
    for name in [n for n in fields if n in personal]:
        hidden.add(name)
        del fields[name]
    return fields


def _was(
    row: Mapping[str, Any],
    step: Mapping[str, Any],
    rationale: str | None,
    personal: frozenset[str],
) -> dict[str, Any]:
    """What corrections changed on an event: each item's value as first recorded."""
    if step is row and rationale is None:
        return {}
    logged, now = _event_fields(row), _event_fields(step)
    was = {
        name: logged.get(name)
        for name in sorted(set(logged) | set(now))
        if logged.get(name) != now.get(name) and name not in personal
    }
    if str(row.get("occurred_on")) != str(step.get("occurred_on")):
        was[OCCURRED_ON] = _opt(row.get("occurred_on"))
    if rationale is not None and rationale != row.get("rationale"):
        was[RATIONALE] = _opt(row.get("rationale"))
    return was


def _with_amendments(
    entries: list[TimelineEvent | DueDatePassed | Amended | Breached],
    loaded: case_history.CaseHistory,
    cal: WorkingDayCalendar,
    personal: frozenset[str],
    hidden: set[str],
) -> list[TimelineEvent | DueDatePassed | Amended | Breached]:
    """The entries with every correction, undo and void, and every undone step (marked
    reversed, changing nothing), each placed after the entries of its day."""
    replayed = loaded.replayed
    if not replayed.amendments:
        return entries
    definition = loaded.definition
    shifts = loaded.amendment_shifts(cal)
    extra: list[TimelineEvent | Amended] = []
    for seq, undo_seq in replayed.reversed.items():
        row = loaded.events.get(seq, {})
        trigger = definition.triggers_by_id.get(str(row.get("trigger")))
        extra.append(
            TimelineEvent(
                on=dt.date.fromisoformat(str(row["occurred_on"])),
                seq=seq,
                trigger=str(row.get("trigger")),
                trigger_label=trigger.label if trigger is not None else None,
                from_state=_opt(row.get("from_state")),
                to_state=_opt(row.get("to_state")),
                actor=str(row.get("actor", "")),
                on_behalf_of=_opt(row.get("on_behalf_of")),
                role=_opt(row.get("role")),
                rationale=_opt(row.get("rationale")),
                fields=_shown_fields(_event_fields(row), personal, hidden),
                changes=(),
                reversed_by=undo_seq,
            )
        )
    for amendment in replayed.amendments:
        row = loaded.events.get(amendment.seq, {})
        reversed_trigger = None
        if amendment.reverses is not None:
            reversed_trigger = _opt(loaded.events.get(amendment.reverses, {}).get("trigger"))
        extra.append(
            Amended(
                on=dt.date.fromisoformat(amendment.occurred_on),
                seq=amendment.seq,
                trigger=amendment.trigger,
                actor=str(row.get("actor", "")),
                role=_opt(row.get("role")),
                rationale=_opt(row.get("rationale")),
                changes=tuple(_hide(c, personal, hidden) for c in amendment.changes),
                reverses=amendment.reverses,
                reversed_trigger=reversed_trigger,
                shifts=shifts.get(amendment.seq, ()),
            )
        )
    merged = list(entries)
    for item in sorted(extra, key=lambda e: (e.on, e.seq)):
        at = len(merged)
        while at and merged[at - 1].on > item.on:
            at -= 1
        merged.insert(at, item)
    return merged


def _hide(change: Change, personal: frozenset[str], hidden: set[str]) -> Change:
    """A correction's change with the values of a personal field left out."""
    if change.field is None or change.field not in personal:
        return change
    hidden.add(change.field)
    return Change(change.event, change.what, change.field, None, None)


def _event_fields(row: Mapping[str, Any]) -> Mapping[str, Any]:
    value = row.get("fields")
    if isinstance(value, str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return dict(value) if isinstance(value, Mapping) else {}


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def _changes(
    moment: clocks.Moment, rules: Sequence[clocks.ClockRule], cal: WorkingDayCalendar
) -> list[ClockChange]:
    facts = moment.facts
    day = facts.occurred_on
    started = {c.rule.id for c in moment.started()}
    stopped = {c.rule.id for c in moment.stopped()}
    changes: list[ClockChange] = []

    def change(
        kind: str, after: clocks.ClockState, before: clocks.ClockState | None
    ) -> ClockChange:
        where = None
        if kind == "stopped" and after.due_on is not None and after.stopped_on is not None:
            where = case_history.standing(after, after.stopped_on, cal)
        status = clocks.status(after, day)
        return ClockChange(kind, after, before, day, status, facts.to_state, where)

    for rule in rules:
        after = moment.after.get(rule.id)
        before = moment.before.get(rule.id)
        if after is None or after is before:
            continue
        if rule.id in stopped:
            changes.append(change("stopped", after, before))
            continue
        if rule.id in started:
            restarted = before is not None and before.state != "stopped"
            changes.append(change("restarted" if restarted else "started", after, before))
            continue
        if before is None:
            continue
        if len(after.reprojections) > len(before.reprojections):
            changes.append(change("moved", after, before))
        if before.state == "running" and after.state == "paused":
            changes.append(change("paused", after, before))
        elif before.state == "paused" and after.state == "running":
            changes.append(change("resumed", after, before))
    return changes


def _passed(
    moment: clocks.Moment,
    rules: Sequence[clocks.ClockRule],
    end: dt.date,
    reported: set[tuple[str, dt.date, dt.date]],
    following: clocks.Moment | None = None,
) -> list[DueDatePassed]:
    """Due dates that passed, with the clock still running, before the next event
    (or before today); the clocks cannot change between events. A clock the next event
    stops ran until its stop, which is the event's fact date when it records one (a
    notification sent on time and keyed in late passed no due date)."""
    start = moment.facts.occurred_on
    stops = {c.rule.id: c.stopped_on for c in following.stopped()} if following else {}
    found: list[tuple[dt.date, int, DueDatePassed]] = []
    for order, rule in enumerate(rules):
        clock = moment.after.get(rule.id)
        if clock is None or clock.state != "running" or clock.due_on is None:
            continue
        stopped_on = stops.get(rule.id)
        if clock.due_on >= (end if stopped_on is None else min(end, stopped_on)):
            continue
        key = (rule.id, clock.started_on, clock.due_on)
        if key in reported:
            continue
        reported.add(key)
        on = max(clock.due_on, start)
        found.append((on, order, DueDatePassed(on, rule, clock.due_on)))
    return [entry for _, _, entry in sorted(found, key=lambda t: (t[0], t[1]))]


def _open(
    clock: clocks.ClockState, case_state: str, today: dt.date, cal: WorkingDayCalendar
) -> ClockChange:
    where = None
    if clock.state != "paused" and clock.due_on is not None:
        where = case_history.standing(clock, today, cal)
    status = clocks.status(clock, today)
    return ClockChange("open", clock, None, today, status, case_state, where)


def _runs(
    moments: Sequence[clocks.Moment],
    rules: Sequence[clocks.ClockRule],
    today: dt.date,
    cal: WorkingDayCalendar,
) -> list[ClockRun]:
    found: list[ClockRun] = []
    for run in case_history.runs(moments, rules):
        c = run.clock
        start = min(c.anchor_on, c.started_on) if c.anchor_on else c.started_on
        is_open = False
        if run.restarted_on is not None:
            end, status = run.restarted_on, "restarted"
        elif c.state == "stopped" and c.stopped_on is not None:
            end, status = c.stopped_on, clocks.status(c, today)
        elif case_history.reminder_over(c, today) and c.due_on is not None:
            end, status = c.due_on, "met"
        else:
            end, status, is_open = today, clocks.status(c, today), True
        # Time on hold is not overrun: a paused clock's due date is suspended.
        counted_to = c.pauses[-1].paused_on if c.state == "paused" and is_open else end
        overrun = 0
        if c.due_on is not None and counted_to > c.due_on and not c.rule.ends_on_due:
            late = case_history.margin(c, counted_to, cal)
            overrun = max(-(late or 0), 1)
        margin = None
        if status in ("met", "running", "due_soon"):
            margin = case_history.margin(c, end, cal)
        found.append(ClockRun(c, run.run, start, end, is_open, status, overrun, margin))
    return found
