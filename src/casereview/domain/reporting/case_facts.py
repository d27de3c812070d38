"""What one case contributes to the annual report. Pure.

`CaseHistory` is one case replayed to the end of the period, with its clocks derived.
`case_rows` reduces it to the detail rows it adds to each base list (`BASES`: the cases
behind a figure before any "of which" filter), and `timeline_entry` to its line on the
timeline, so that the case's events can be dropped before the next case is read. Every
row here is exactly the one the figure lists for this case with `--detail`; the figure
definitions are in docs/report.md and the figures themselves in `report_tally`.

"At period end" (`as_at`) is the last day of the period, or today if that is sooner.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from casereview.domain import clocks
from casereview.domain.clocks import Calendar, ClockRule, ClockState, EventFacts
from casereview.domain.reporting.figures import Cell, Lane, Period, Quarter, TimelineCase, months

HOLD_STATE = "publication_hold"
ACTION_STATE = "action_monitoring"
PANEL_QUERY = "record_panel_query"
COMMISSION = "commission_lcspr"
OTHER_LEARNING = "record_other_learning"
NATIONAL = "panel_commissions_national_review"

DECISIONS: tuple[tuple[str, str, str], ...] = (
    (COMMISSION, "local_review", "Local review (LCSPR) commissioned"),
    (OTHER_LEARNING, "other_learning", "No local review; other learning instead"),
    (NATIONAL, "national_review", "National review commissioned by the Panel"),
    ("decide_not_to_notify", "not_notified", "Decided not to notify the Panel"),
    ("withdraw", "withdrawn", "Withdrawn (criteria not met)"),
)
PANEL_OUTCOMES = {
    COMMISSION: "local_review",
    OTHER_LEARNING: "other_learning",
    NATIONAL: "national_review",
}
NOTIFY, SUBMIT, PUBLISH, APPROVE_PLAN, CLOSE = (
    "notify",
    "submit_rapid_review",
    "publish",
    "approve_action_plan",
    "close",
)
# Every trigger a figure looks for by name: events with any other trigger that neither
# move the case nor set a case field may be left out of the replay (`report_events`).
REPORT_TRIGGERS = frozenset(
    {NOTIFY, SUBMIT, PUBLISH, APPROVE_PLAN, CLOSE, PANEL_QUERY, *PANEL_OUTCOMES}
    | {trigger for trigger, _, _ in DECISIONS}
)

# The clocks whose "still running at period end" puts a case in a figure whatever its
# state (`notifications.pending_at_end`, `rapid_reviews.open_at_end`).
AT_END_CLOCKS = frozenset({"notification", "rapid_review"})

Cells = tuple[Cell, ...]

# Each base list: its name and detail columns. A figure is a base list, optionally
# filtered on a column ("of which on time"); see `report_tally.FIGURES`.
BASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("opened", ("opened_on", "aware_on")),
    ("closed", ("closed_on", "closed_by")),
    ("open_at_end", ("opened_on", "state_at_end")),
    ("notified", ("aware_on", "due_on", "notified_on", "working_days_late", "on_time")),
    ("pending", ("aware_on", "due_on", "working_days_overdue")),
    (
        "rr_completed",
        ("counted_from", "due_on", "submitted_on", "working_days_late", "on_time", "quarter"),
    ),
    ("rr_open", ("counted_from", "due_on", "state_at_end", "working_days_overdue")),
    *((f"decision:{trigger}", ("decided_on",)) for trigger, _, _ in DECISIONS),
    (
        "responses",
        (
            "outcome_on",
            "outcome",
            "recommendation",
            "panel_position",
            "queries_before",
            "category",
        ),
    ),
    ("queries", ("queried_on",)),
    ("commissioned", ("commissioned_on", "panel_position")),
    ("in_progress", ("commissioned_on", "state_at_end", "due_on")),
    ("on_hold", ("commissioned_on", "held_since", "review_by")),
    ("held_cases", ("held_from", "held_to", "days_in_period")),
    ("hold_spells", ("held_from", "held_to", "days_in_period")),
    (
        "published",
        (
            "commissioned_on",
            "published_on",
            "elapsed_days",
            "held_days",
            "adjusted_days",
            "elapsed_months",
            "adjusted_months",
            "due_on",
            "within_expectation",
        ),
    ),
    ("plan_approved", ("approved_on", "after")),
    ("plan_closed", ("approved_on", "closed_on")),
    ("plan_open", ("approved_on",)),
)
BASE_INDEX = {name: index for index, (name, _) in enumerate(BASES)}


@dataclass(frozen=True)
class CaseHistory:
    """One case as it stood at the end of the period: its events so far and its clocks."""

    ref: str
    pseudonym: str
    facts: tuple[EventFacts, ...]
    clocks: Mapping[str, ClockState]
    rules: tuple[ClockRule, ...]
    terminal_states: frozenset[str]

    @property
    def opened_on(self) -> dt.date:
        return self.facts[0].occurred_on

    @property
    def state_at_end(self) -> str:
        return self.facts[-1].to_state

    @property
    def closed_on(self) -> dt.date | None:
        for fact in self.facts:
            if fact.to_state in self.terminal_states:
                return fact.occurred_on
        return None

    def field(self, name: str) -> Any:
        return self.facts[-1].fields_after.get(name)

    def transitions(self) -> Iterable[tuple[str, EventFacts, int]]:
        """(state before, event, index) for every event after the opening."""
        for index in range(1, len(self.facts)):
            yield self.facts[index - 1].to_state, self.facts[index], index

    def first(self, trigger: str) -> EventFacts | None:
        return next((f for f in self.facts if f.trigger == trigger), None)

    def holds(self) -> list[tuple[dt.date, dt.date | None]]:
        """Spells in the publication-hold state: [entered, left) (left None: still held)."""
        spells: list[tuple[dt.date, dt.date | None]] = []
        entered: dt.date | None = None
        for before, fact, _ in self.transitions():
            if fact.to_state == HOLD_STATE and before != HOLD_STATE:
                entered = fact.occurred_on
            elif before == HOLD_STATE and fact.to_state != HOLD_STATE and entered is not None:
                spells.append((entered, fact.occurred_on))
                entered = None
        if entered is not None:
            spells.append((entered, None))
        return spells


def cannot_count(
    facts: Sequence[EventFacts],
    rules: Sequence[ClockRule],
    terminal_states: frozenset[str],
    period: Period,
) -> bool:
    """True when a replayed case is in no figure and not on the timeline, so its clocks
    need not be derived: every event before the period starts, the case in a terminal
    state (neither on hold nor monitoring actions), and neither at-end clock running.

    Why that suffices, figure by figure: nothing happened in the period, so no "in the
    period" figure has it; it was closed (at its first terminal event) before the period,
    so it is not open, in progress or on the timeline; a hold spell ended before the
    period; and of the at-end figures only the notification and rapid review clocks do
    not ask whether the case is closed. Whether a clock is running depends only on the
    triggers (`clocks.step`: a start trigger starts it, a stop trigger stops a started
    one, pauses and re-projections never stop it), so no calendar arithmetic is needed.
    """
    if not facts or max(f.occurred_on for f in facts) >= period.start:
        return False
    final = facts[-1].to_state
    if final not in terminal_states or final in (HOLD_STATE, ACTION_STATE):
        return False
    running: dict[str, bool] = {}
    for fact in facts:
        for rule in rules:
            if fact.trigger in rule.start_on:
                running[rule.id] = True
            elif running.get(rule.id) and fact.trigger in rule.stop_on:
                running[rule.id] = False
    return not any(running.get(clock_id) for clock_id in AT_END_CLOCKS)


def working_days_late(cal: Calendar, due: dt.date | None, on: dt.date) -> int:
    """Working days after `due` that `on` fell (0 when on or before it).

    A step dated on a weekend or bank holiday counts as taken on the next working day, so
    a Saturday submission after a Friday deadline is one working day late, and a date
    comparison and this count never disagree about whether something was late.
    """
    if due is None or on <= due:
        return 0
    effective = on if cal.is_working_day(on) else cal.add_working_days(on, 1)
    return cal.count_working_days(due, effective)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


class _Sink:
    """Rows of one case in the order the figures list them: (base index, cells)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, Cells]] = []

    def add(self, base: str, cells: Cells) -> None:
        self.rows.append((BASE_INDEX[base], cells))


def case_rows(
    case: CaseHistory,
    period: Period,
    as_at: dt.date,
    cal: Calendar,
    quarters: Sequence[Quarter],
) -> list[tuple[int, Cells]]:
    """Every detail row this case adds, as (index into `BASES`, cells)."""
    sink = _Sink()
    _caseload(sink, case, period)
    _notifications(sink, case, period, cal, as_at)
    _rapid_reviews(sink, case, period, cal, as_at, quarters)
    _decisions(sink, case, period)
    _panel(sink, case, period)
    _local_reviews(sink, case, period, as_at, cal)
    _action_plans(sink, case, period)
    return sink.rows


def _caseload(sink: _Sink, case: CaseHistory, period: Period) -> None:
    if period.contains(case.opened_on):
        sink.add("opened", (_iso(case.opened_on), case.facts[0].fields_after.get("aware_on")))
    closed_on = case.closed_on
    if period.contains(closed_on):
        sink.add("closed", (_iso(closed_on), _closing_trigger(case)))
    if closed_on is None:
        sink.add("open_at_end", (_iso(case.opened_on), case.state_at_end))


def _closing_trigger(case: CaseHistory) -> str | None:
    return next((f.trigger for f in case.facts if f.to_state in case.terminal_states), None)


def _notifications(
    sink: _Sink, case: CaseHistory, period: Period, cal: Calendar, as_at: dt.date
) -> None:
    clock = case.clocks.get("notification")
    notify = case.first(NOTIFY)
    due = clock.due_on if clock else None
    anchor = clock.anchor_on if clock else None
    if notify is not None and period.contains(notify.occurred_on):
        late = working_days_late(cal, due, notify.occurred_on)
        on_time = None if due is None else late == 0
        sink.add("notified", (_iso(anchor), _iso(due), _iso(notify.occurred_on), late, on_time))
    if clock is not None and clock.state != "stopped":
        sink.add("pending", (_iso(anchor), _iso(due), working_days_late(cal, due, as_at)))


def _rapid_reviews(
    sink: _Sink,
    case: CaseHistory,
    period: Period,
    cal: Calendar,
    as_at: dt.date,
    quarters: Sequence[Quarter],
) -> None:
    """First submissions to the Panel in the period (the clock's stop), and open ones."""
    clock = case.clocks.get("rapid_review")
    if clock is None:
        return
    stopped = clock.stopped_on
    if clock.stopped_by == SUBMIT and stopped is not None and period.contains(stopped):
        late = working_days_late(cal, clock.due_on, stopped)
        quarter = next((q.label for q in quarters if q.start <= stopped <= q.end), None)
        sink.add(
            "rr_completed",
            (
                _iso(clock.anchor_on),
                _iso(clock.due_on),
                _iso(stopped),
                late,
                None if clock.due_on is None else late == 0,
                quarter,
            ),
        )
    if clock.state != "stopped":
        sink.add(
            "rr_open",
            (
                _iso(clock.anchor_on),
                _iso(clock.due_on),
                case.state_at_end,
                working_days_late(cal, clock.due_on, as_at),
            ),
        )


def _decisions(sink: _Sink, case: CaseHistory, period: Period) -> None:
    for trigger, _, _ in DECISIONS:
        for fact in case.facts:
            if fact.trigger == trigger and period.contains(fact.occurred_on):
                sink.add(f"decision:{trigger}", (_iso(fact.occurred_on),))


def _panel_category(outcome: EventFacts, queries: int) -> str:
    if queries:
        return "after_query"
    position = outcome.fields_after.get("panel_position")
    if outcome.trigger == COMMISSION:
        agreed = position == "agreed"
    elif outcome.trigger == OTHER_LEARNING:
        agreed = position in (None, "", "agreed")
    else:
        agreed = outcome.fields_after.get("recommendation") == "national_review"
    return "agreed" if agreed else "panel_decided"


def _panel(sink: _Sink, case: CaseHistory, period: Period) -> None:
    asked = 0
    for fact in case.facts:
        if fact.trigger == PANEL_QUERY:
            asked += 1
            if period.contains(fact.occurred_on):
                sink.add("queries", (_iso(fact.occurred_on),))
        elif fact.trigger in PANEL_OUTCOMES and period.contains(fact.occurred_on):
            sink.add(
                "responses",
                (
                    _iso(fact.occurred_on),
                    PANEL_OUTCOMES[fact.trigger],
                    fact.fields_after.get("recommendation"),
                    fact.fields_after.get("panel_position"),
                    asked,
                    _panel_category(fact, asked),
                ),
            )


def _local_reviews(
    sink: _Sink, case: CaseHistory, period: Period, as_at: dt.date, cal: Calendar
) -> None:
    commission = case.first(COMMISSION)
    if commission is None:
        return
    commissioned_on = commission.occurred_on
    if period.contains(commissioned_on):
        sink.add(
            "commissioned", (_iso(commissioned_on), commission.fields_after.get("panel_position"))
        )
    publish = case.first(PUBLISH)
    clock = case.clocks.get("lcspr_publication")
    spells = case.holds()
    if publish is None and case.closed_on is None:
        sink.add(
            "in_progress",
            (
                _iso(commissioned_on),
                case.state_at_end,
                _iso(due_if_resumed(clock, as_at, cal) if clock else None),
            ),
        )
        if case.state_at_end == HOLD_STATE and spells:
            sink.add(
                "on_hold",
                (_iso(commissioned_on), _iso(spells[-1][0]), case.field("review_by")),
            )
    to_date = Period(period.start, as_at) if as_at >= period.start else None
    overlapping = [
        (start, stop, to_date.days_within(start, stop))
        for start, stop in spells
        if to_date is not None and to_date.days_within(start, stop) > 0
    ]
    for start, stop, days in overlapping:
        sink.add("hold_spells", (_iso(start), _iso(stop), days))
    if overlapping:
        sink.add(
            "held_cases",
            (
                _iso(overlapping[0][0]),
                _iso(overlapping[-1][1]),
                sum(days for _, _, days in overlapping),
            ),
        )
    if publish is not None and period.contains(publish.occurred_on):
        elapsed = (publish.occurred_on - commissioned_on).days
        held = sum(
            Period(commissioned_on, publish.occurred_on).days_within(start, stop)
            for start, stop in spells
        )
        met = (
            clock is not None
            and clock.due_on is not None
            and clock.stopped_on is not None
            and clock.stopped_on <= clock.due_on
        )
        sink.add(
            "published",
            (
                _iso(commissioned_on),
                _iso(publish.occurred_on),
                elapsed,
                held,
                elapsed - held,
                months(elapsed),
                months(elapsed - held),
                _iso(clock.due_on if clock else None),
                met,
            ),
        )


def _action_plans(sink: _Sink, case: CaseHistory, period: Period) -> None:
    approval: EventFacts | None = None
    for before, fact, _ in case.transitions():
        if fact.trigger == APPROVE_PLAN:
            approval = fact
            if period.contains(fact.occurred_on):
                sink.add("plan_approved", (_iso(fact.occurred_on), before))
        elif (
            fact.trigger == "close" and before == ACTION_STATE and period.contains(fact.occurred_on)
        ):
            sink.add(
                "plan_closed",
                (_iso(approval.occurred_on if approval else None), _iso(fact.occurred_on)),
            )
    if case.state_at_end == ACTION_STATE:
        sink.add("plan_open", (_iso(approval.occurred_on if approval else None),))


def due_if_resumed(clock: ClockState, as_at: dt.date, cal: Calendar) -> dt.date | None:
    """A paused clock's due date if the pause ended on `as_at` (else its due date).

    While paused, a clock keeps what was left of its budget rather than a date; the
    timeline draws the window it would have if the pause ended at the period's end, so
    time on hold is never drawn as lateness.
    """
    if clock.state != "paused" or not clock.pauses:
        return clock.due_on
    remaining = clock.pauses[-1].remaining
    if clock.rule.unit == "working_days" and remaining >= 0:
        return cal.add_working_days(as_at, remaining)
    if clock.rule.unit == "working_days":
        return cal.subtract_working_days(as_at, -remaining)
    return as_at + dt.timedelta(days=remaining)


def timeline_entry(
    case: CaseHistory, period: Period, as_at: dt.date, cal: Calendar
) -> TimelineCase | None:
    """The case's line on the timeline with the clocks that touch the period, or None
    when it was not open at any time in the period."""
    closed_on = case.closed_on
    if case.opened_on > period.end or (closed_on is not None and closed_on < period.start):
        return None
    lanes: list[Lane] = []
    for rule in case.rules:
        clock = case.clocks.get(rule.id)
        if clock is None or rule.ends_on_due:
            continue
        ends = [d for d in (clock.due_on, clock.stopped_on or as_at) if d is not None]
        if clock.started_on > period.end or max(ends) < period.start:
            continue
        lanes.append(
            Lane(
                clock_id=rule.id,
                label=rule.label,
                kind=rule.kind,
                started_on=clock.started_on,
                due_on=due_if_resumed(clock, as_at, cal),
                stopped_on=clock.stopped_on,
                status=clocks.status(clock, as_at),
                pauses=tuple((p.paused_on, p.resumed_on) for p in clock.pauses),
            )
        )
    return TimelineCase(
        ref=case.ref,
        pseudonym=case.pseudonym,
        opened_on=case.opened_on,
        closed_on=closed_on,
        state_at_end=case.state_at_end,
        lanes=tuple(lanes),
    )
