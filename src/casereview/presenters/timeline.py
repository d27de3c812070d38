"""A case's timeline as people read it: a sentence for every clock change, due date passed
and clock run, and the timeline's stable JSON shape (documented in docs/views.md:
add keys, never rename or drop them).

`present` turns the facts `services.timeline` returns into a `Timeline` of ISO dates,
numbers and sentences; every front end draws that.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from casereview.domain.clock_status import status_word
from casereview.presenters import clocks as clock_words
from casereview.presenters import corrections as correction_words
from casereview.presenters.words import amount, iso
from casereview.services.timeline import (
    Amended,
    Breached,
    CaseTimeline,
    ClockChange,
    ClockRun,
    DueDatePassed,
    TimelineEvent,
)

if TYPE_CHECKING:
    from casereview.domain.reporting.figures import TimelineCase

OPEN_LABEL = "Case opened"
"""The label of the event that opened the case (not one of the workflow's triggers)."""


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
    was: dict[str, Any] = field(default_factory=dict)  # corrected items: the original value
    corrected_by: tuple[int, ...] = ()  # the corrections that changed it
    reversed_by: int | None = None  # undone: the undo's seq


AMENDING_LABELS = {
    "correct": "Correction",
    "undo": "Undo of the latest step",
    "void": "Case voided as opened in error",
}
"""How the timeline names the engine's own amending events."""


@dataclass(frozen=True)
class AmendEntry:
    """A correction, undo or void on the timeline: who, when, why, what, and the clocks
    it moved."""

    on: str
    seq: int
    trigger: str  # correct | undo | void
    trigger_label: str
    actor: str
    role: str | None
    rationale: str | None
    changes: tuple[dict[str, Any], ...]  # `presenters.corrections.change_json` each
    reverses: int | None
    reversed_trigger: str | None
    clocks: tuple[dict[str, Any], ...]  # `presenters.corrections.shift_json` each
    text: str
    kind: str = "amendment"


@dataclass(frozen=True)
class BreachEntry:
    """A step recorded despite a failed check (its override's event): what the check
    was and how it failed."""

    on: str
    seq: int
    trigger: str  # the override
    overrides: str  # the trigger whose check it overrode
    check: str
    detail: str
    text: str
    kind: str = "breach"


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
    entries: tuple[EventEntry | DuePassed | AmendEntry | BreachEntry, ...]
    now: tuple[ClockNote, ...]
    bars: tuple[ChartBar, ...]
    axis_from: str
    axis_to: str
    hidden_fields: tuple[str, ...] = field(default=())
    people: dict[str, str] = field(default_factory=dict)
    """login -> display name of everyone the entries name (`actor`, `on_behalf_of`)."""
    links: tuple[dict[str, Any], ...] = ()
    """The links the case recorded (`other`, `relation`, `on`, `seq`)."""
    linked_from: tuple[dict[str, Any], ...] = ()
    """The links other cases recorded to it."""

    def who(self, login: str) -> str:
        """`Jo Bloggs (jo)`: a person's name with their login, or the login alone."""
        return person(login, self.people)


def person(login: str, people: Mapping[str, str]) -> str:
    """`Jo Bloggs (jo)`: the name people know someone by, with the login the log
    records in brackets; the login alone when no other name is known."""
    name = people.get(login)
    return f"{name} ({login})" if name and name != login else login


def present(facts: CaseTimeline) -> Timeline:
    """The timeline in sentences, dates as ISO text."""
    entries: list[EventEntry | DuePassed | AmendEntry | BreachEntry] = []
    for entry in facts.entries:
        if isinstance(entry, TimelineEvent):
            entries.append(_event(entry))
        elif isinstance(entry, Amended):
            entries.append(_amended(entry))
        elif isinstance(entry, Breached):
            entries.append(_breach(entry))
        else:
            entries.append(_passed(entry))
    return Timeline(
        ref=facts.ref,
        pseudonym=facts.pseudonym,
        state=facts.state,
        state_label=facts.state_label,
        closed=facts.closed,
        today=facts.today.isoformat(),
        entries=tuple(entries),
        now=tuple(_open_note(c) for c in facts.now),
        bars=tuple(_bar(r) for r in facts.runs),
        axis_from=facts.axis_from.isoformat(),
        axis_to=facts.axis_to.isoformat(),
        hidden_fields=facts.hidden_fields,
        people=dict(facts.people),
        links=facts.links,
        linked_from=facts.linked_from,
    )


def timeline_json(view: Timeline) -> dict[str, Any]:
    """The timeline as its documented JSON."""
    data = dataclasses.asdict(view)
    data["entries"] = [{"kind": e.pop("kind"), **e} for e in data["entries"]]
    data["bars"] = [
        {**b, "pauses": [{"from": f, "to": t} for f, t in b["pauses"]]} for b in data["bars"]
    ]
    return data


def _event(event: TimelineEvent) -> EventEntry:
    return EventEntry(
        on=event.on.isoformat(),
        seq=event.seq,
        trigger=event.trigger,
        trigger_label=event.trigger_label if event.trigger_label is not None else OPEN_LABEL,
        from_state=event.from_state,
        to_state=event.to_state,
        actor=event.actor,
        on_behalf_of=event.on_behalf_of,
        role=event.role,
        rationale=event.rationale,
        fields=event.fields,
        clocks=tuple(_note(c) for c in event.changes),
        was=event.was,
        corrected_by=event.corrected_by,
        reversed_by=event.reversed_by,
    )


def _amended(entry: Amended) -> AmendEntry:
    if entry.trigger == "undo":
        text = f"Undid event {entry.reverses} ({entry.reversed_trigger}): it no longer counts"
    elif entry.trigger == "void":
        text = "Voided as opened in error: left out of every list, deadline and figure"
    else:
        text = "; ".join(correction_words.change_words(c) for c in entry.changes)
    return AmendEntry(
        on=entry.on.isoformat(),
        seq=entry.seq,
        trigger=entry.trigger,
        trigger_label=AMENDING_LABELS.get(entry.trigger, entry.trigger),
        actor=entry.actor,
        role=entry.role,
        rationale=entry.rationale,
        changes=tuple(correction_words.change_json(c) for c in entry.changes),
        reverses=entry.reverses,
        reversed_trigger=entry.reversed_trigger,
        clocks=tuple(correction_words.shift_json(s) for s in entry.shifts),
        text=text,
    )


def _note(change: ClockChange) -> ClockNote:
    """A clock change at an event, in one sentence."""
    after, before, rule = change.clock, change.before, change.clock.rule
    unit = clock_words.counting_unit(rule)
    margin = None
    if change.change == "stopped":
        text = clock_words.stopped(after, change.standing)
        margin = change.standing.margin if change.standing is not None else None
    elif change.change in ("started", "restarted"):
        text = f"{rule.label} {change.change}: {clock_words.started(after)}"
        if after.state == "paused":
            text += f"; paused at once (case in {change.case_state})"
    elif change.change == "moved":
        assert before is not None
        old = before.due_on.isoformat() if before.due_on else "no date"
        new = after.due_on.isoformat() if after.due_on else "no date"
        anchor = after.anchor_on.isoformat() if after.anchor_on else "unset"
        text = (
            f"{rule.label} due date moved from {old} to {new} "
            f"({rule.anchor_field} changed to {anchor})"
        )
    elif change.change == "paused":
        left = after.pauses[-1].remaining
        text = f"{rule.label} paused (case in {change.case_state}): {amount(left, unit)} left"
    else:  # resumed
        pause = after.pauses[-1]
        held = (change.on - pause.paused_on).days
        due = after.due_on.isoformat() if after.due_on else "no date"
        text = (
            f"{rule.label} resumed after {amount(held, 'calendar_days')} paused: "
            f"{amount(pause.remaining, unit)} left, now due {due}"
        )
    return ClockNote(
        clock_id=rule.id,
        label=rule.label,
        change=change.change,
        status=change.status,
        due_on=iso(after.due_on),
        margin=margin,
        unit=unit,
        text=text,
    )


def _breach(entry: Breached) -> BreachEntry:
    b = entry.breach
    text = f"Recorded {b.overrides} despite its check ({b.check})" + (
        f": {b.detail}" if b.detail else ""
    )
    return BreachEntry(entry.on.isoformat(), b.seq, b.trigger, b.overrides, b.check, b.detail, text)


def _passed(entry: DueDatePassed) -> DuePassed:
    rule, due = entry.rule, entry.due_on.isoformat()
    if rule.ends_on_due:
        text = f"{rule.label}: its period ended on {due} (a reminder; nothing was due)"
    else:
        text = f"{rule.label}: due date {due} passed with the clock still running"
    return DuePassed(entry.on.isoformat(), rule.id, rule.label, due, text)


def _open_note(change: ClockChange) -> ClockNote:
    """Where an open clock stands today, in one sentence."""
    clock = change.clock
    rule = clock.rule
    unit = clock_words.counting_unit(rule)
    due = iso(clock.due_on)
    margin: int | None = None
    if clock.state == "paused":
        left = clock.remaining if clock.remaining is not None else 0
        since = clock.pauses[-1].paused_on.isoformat()
        text = f"{rule.label}: paused since {since}, {amount(left, unit)} left when it resumes"
    elif clock.due_on is None or change.standing is None:
        text = f"{rule.label}: running, {clock_words.no_due_date(clock)}"
    else:
        margin = change.standing.margin
        assert margin is not None
        where = change.standing.position
        place = f"{where}, " if where is not None else ""
        if change.status == "overdue":
            text = f"{rule.label}: due {due}, {amount(max(-margin, 0), unit)} late"
        else:
            text = f"{rule.label}: {place}due {due}, {amount(margin, unit)} left"
    return ClockNote(rule.id, rule.label, "open", change.status, due, margin, unit, text)


def _bar(run: ClockRun) -> ChartBar:
    c = run.clock
    pauses = tuple(
        (p.paused_on.isoformat(), (p.resumed_on or run.end).isoformat()) for p in c.pauses
    )
    return ChartBar(
        clock_id=c.rule.id,
        label=c.rule.label,
        kind=c.rule.kind,
        run=run.run,
        planned_from=run.start.isoformat(),
        planned_to=iso(c.due_on),
        actual_from=run.start.isoformat(),
        actual_to=run.end.isoformat(),
        open=run.open,
        status=run.status,
        pauses=pauses,
        overrun=run.overrun,
        unit=clock_words.counting_unit(c.rule),
        result=_result(run),
    )


def _result(run: ClockRun) -> str:
    """How a clock run turned out, or how it stands: `missed by 2 working days`."""
    clock, status = run.clock, run.status
    unit = clock_words.counting_unit(clock.rule)
    if status == "restarted":
        return f"restarted {run.end.isoformat()}"
    if status == "paused":
        left = clock.remaining if clock.remaining is not None else 0
        return f"paused, {amount(left, unit)} left"
    if status == "missed":
        return f"missed by {amount(run.overrun, unit)}"
    if status == "overdue":
        return f"overdue by {amount(run.overrun, unit)}"
    margin = run.margin
    if status == "met":
        if clock.rule.ends_on_due or margin is None:
            return "met"
        return "met on the due date" if margin == 0 else f"met, {amount(margin, unit)} to spare"
    if status == "undetermined":
        return status_word(status)
    if margin is None:
        return "running, no due date yet"
    return f"{status_word(status)}, {amount(margin, unit)} left"


def chart_case(view: Timeline) -> TimelineCase:
    """The timeline's clock runs as the plan-versus-actual chart's case (one lane per
    run), for the chart the annual report draws (`formats.report.as_html.lanes_chart`)."""
    import datetime as dt

    from casereview.domain.reporting.figures import Lane, TimelineCase

    def day(text: str | None) -> dt.date | None:
        return dt.date.fromisoformat(text) if text else None

    lanes = tuple(
        Lane(
            clock_id=bar.clock_id,
            label=bar.label if bar.run == 1 else f"{bar.label} (run {bar.run})",
            kind=bar.kind,
            started_on=dt.date.fromisoformat(bar.actual_from),
            due_on=day(bar.planned_to),
            stopped_on=None if bar.open else day(bar.actual_to),
            status=bar.status,
            pauses=tuple((dt.date.fromisoformat(a), day(b)) for a, b in bar.pauses),
        )
        for bar in view.bars
    )
    # The heading names the state by its label (the chart's `state_labels`), closed
    # states included.
    opened = dt.date.fromisoformat(view.axis_from)
    return TimelineCase(view.ref, view.pseudonym, opened, None, view.state, lanes)
