"""Figures for a reporting period, computed from the event log and the working-day calendar.

`build_report` reads every case and its events in one read transaction, replays each case
up to the end of the period (events after it are ignored, so a report for a past year
does not change when later events are recorded), derives its clocks, and hands the lot to
`compute`, which is pure. Every figure is a count (or a median) of events whose date lies
in the period, or of cases in a given position at the end of it; each keeps the cases
behind it so `--detail` can show a reader how it was reached. The definitions are in
docs/report.md, and the ids below are the England workflow's stable vocabulary.

"At period end" means the last day of the period, or today if the period has not ended:
a report for the current year says where things stand now, never where they might be.
"""

from __future__ import annotations

import datetime as dt
import operator
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from casereview import clocks
from casereview.clocks import Calendar, ClockRule, ClockState, EventFacts
from casereview.replay import replay
from casereview.reports.figures import (
    CaseRow,
    Cell,
    Figure,
    Lane,
    Number,
    Period,
    QuarterCount,
    Report,
    TimelineCase,
    months,
    quarters,
    resolve_period,
)
from casereview.services.context import ServiceContext
from casereview.workflow.model import WorkflowDefinition

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

    def last(self, trigger: str) -> EventFacts | None:
        return next((f for f in reversed(self.facts) if f.trigger == trigger), None)

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


def build_report(
    ctx: ServiceContext,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    year: int | None = None,
) -> Report:
    """The figures for a period: explicit dates, a financial year, or (default) the current one."""
    from casereview.store import projections, repository

    today = ctx.clock.today()
    period = resolve_period(today, start=start, end=end, year=year)
    events: dict[int, list[dict[str, Any]]] = defaultdict(list)
    with ctx.db().reading() as conn:
        rows = [dict(r) for r in projections.list_cases(conn)]
        for event in repository.iter_events(conn):
            if event["case_id"] is not None:
                events[int(event["case_id"])].append(event)
    definitions: dict[tuple[str, int, str], tuple[WorkflowDefinition, tuple[ClockRule, ...]]] = {}
    histories: list[CaseHistory] = []
    for row in rows:
        key = (str(row["workflow_id"]), int(row["workflow_version"]), str(row["workflow_hash"]))
        if key not in definitions:
            definition = ctx.registry.get_exact(*key)
            definitions[key] = (definition, tuple(clocks.rules_for(definition)))
        definition, rules = definitions[key]
        replayed = replay(definition, str(row["ref"]), events[int(row["id"])], until=period.end)
        if not replayed.facts:
            continue  # opened after the period
        histories.append(
            CaseHistory(
                ref=replayed.ref,
                pseudonym=replayed.pseudonym,
                facts=tuple(replayed.facts),
                clocks=clocks.derive(rules, replayed.facts, ctx.calendar),
                rules=rules,
                terminal_states=frozenset(s.id for s in definition.states if s.terminal),
            )
        )
    return compute(histories, period, ctx.calendar, today)


# -- the pure part ------------------------------------------------------------------------


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


@dataclass
class _Rows:
    """Detail rows for one figure, before it is sealed into a `Figure`."""

    columns: tuple[str, ...]
    rows: list[tuple[CaseHistory, tuple[Cell, ...]]]

    def cell(self, cells: tuple[Cell, ...], column: str) -> Cell:
        return cells[self.columns.index(column)]

    def where(self, column: str, keep: Callable[[Cell], bool]) -> _Rows:
        """The rows whose `column` passes `keep`."""
        return _Rows(self.columns, [r for r in self.rows if keep(self.cell(r[1], column))])

    def figure(
        self,
        figure_id: str,
        label: str,
        *,
        unit: str = "cases",
        value: Number = None,
        count: bool = True,
        part_of: str | None = None,
    ) -> Figure:
        cases = tuple(CaseRow(c.ref, c.pseudonym, cells) for c, cells in self.rows)
        return Figure(
            id=figure_id,
            label=label,
            value=len(cases) if count and value is None else value,
            unit=unit,
            part_of=part_of,
            columns=self.columns,
            cases=cases,
        )


def _is_true(value: Cell) -> bool:
    return value is True


def _is_false(value: Cell) -> bool:
    return value is False


def _positive(value: Cell) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _numbers(rows: _Rows, column: str) -> list[int]:
    return [int(str(rows.cell(cells, column))) for _, cells in rows.rows]


def _median(values: Sequence[int]) -> int | float | None:
    if not values:
        return None
    middle = statistics.median(values)
    return int(middle) if float(middle).is_integer() else float(middle)


def compute(cases: Sequence[CaseHistory], period: Period, cal: Calendar, today: dt.date) -> Report:
    """Every figure for `period` from cases replayed up to its end."""
    as_at = min(period.end, today)
    ordered = sorted(cases, key=lambda c: (c.opened_on, c.ref))
    completed = _rapid_reviews_completed(ordered, period, cal)
    figures = [
        *_caseload(ordered, period),
        *_notifications(ordered, period, cal, as_at),
        *_rapid_reviews(ordered, completed, cal, as_at),
        *_decisions(ordered, period),
        *_panel(ordered, period),
        *_local_reviews(ordered, period, as_at, cal),
        *_action_plans(ordered, period),
    ]
    by_quarter = []
    for quarter in quarters(period):
        inside = completed.where("quarter", partial(operator.eq, quarter.label))
        on_time = len(inside.where("on_time", _is_true).rows)
        late = len(inside.where("on_time", _is_false).rows)
        by_quarter.append(QuarterCount(quarter, on_time, late))
    return Report(
        period=period,
        generated_on=today,
        figures=tuple(figures),
        by_quarter=tuple(by_quarter),
        timeline=_timeline(ordered, period, as_at, cal),
    )


def _caseload(cases: Sequence[CaseHistory], period: Period) -> list[Figure]:
    opened = _Rows(
        ("opened_on", "aware_on"),
        [
            (c, (_iso(c.opened_on), c.facts[0].fields_after.get("aware_on")))
            for c in cases
            if period.contains(c.opened_on)
        ],
    )
    still_open = _Rows(
        ("opened_on", "state_at_end"),
        [(c, (_iso(c.opened_on), c.state_at_end)) for c in cases if c.closed_on is None],
    )
    closed = _Rows(
        ("closed_on", "closed_by"),
        [
            (c, (_iso(c.closed_on), _closing_trigger(c)))
            for c in cases
            if period.contains(c.closed_on)
        ],
    )
    return [
        opened.figure("caseload.opened", "Cases opened (incidents referred)"),
        closed.figure("caseload.closed", "Cases closed"),
        still_open.figure("caseload.open_at_end", "Cases open at period end"),
    ]


def _closing_trigger(case: CaseHistory) -> str | None:
    return next((f.trigger for f in case.facts if f.to_state in case.terminal_states), None)


def _notifications(
    cases: Sequence[CaseHistory], period: Period, cal: Calendar, as_at: dt.date
) -> list[Figure]:
    made = _Rows(("aware_on", "due_on", "notified_on", "working_days_late", "on_time"), [])
    pending = _Rows(("aware_on", "due_on", "working_days_overdue"), [])
    for case in cases:
        clock = case.clocks.get("notification")
        notify = case.first("notify")
        due = clock.due_on if clock else None
        anchor = clock.anchor_on if clock else None
        if notify is not None and period.contains(notify.occurred_on):
            late = working_days_late(cal, due, notify.occurred_on)
            on_time = None if due is None else late == 0
            made.rows.append(
                (case, (_iso(anchor), _iso(due), _iso(notify.occurred_on), late, on_time))
            )
        if clock is not None and clock.state != "stopped":
            pending.rows.append(
                (case, (_iso(anchor), _iso(due), working_days_late(cal, due, as_at)))
            )
    return [
        made.figure("notifications.made", "Notifications made to the Panel"),
        made.where("on_time", _is_true).figure(
            "notifications.on_time",
            "Notified within 5 working days of awareness",
            part_of="notifications.made",
        ),
        made.where("on_time", _is_false).figure(
            "notifications.late", "Notified late", part_of="notifications.made"
        ),
        pending.figure(
            "notifications.pending_at_end", "Awaiting a notification decision at period end"
        ),
        pending.where("working_days_overdue", _positive).figure(
            "notifications.overdue_at_end",
            "… of which past the 5-working-day deadline",
            part_of="notifications.pending_at_end",
        ),
    ]


def _rapid_reviews_completed(cases: Sequence[CaseHistory], period: Period, cal: Calendar) -> _Rows:
    """First submissions to the Panel in the period: the rapid review clock's stop."""
    quarter_of = {q.label: q for q in quarters(period)}
    rows = _Rows(
        ("counted_from", "due_on", "submitted_on", "working_days_late", "on_time", "quarter"), []
    )
    for case in cases:
        clock = case.clocks.get("rapid_review")
        if clock is None or clock.stopped_by != "submit_rapid_review" or clock.stopped_on is None:
            continue
        if not period.contains(clock.stopped_on):
            continue
        late = working_days_late(cal, clock.due_on, clock.stopped_on)
        quarter = next(
            (k for k, q in quarter_of.items() if q.start <= clock.stopped_on <= q.end), None
        )
        rows.rows.append(
            (
                case,
                (
                    _iso(clock.anchor_on),
                    _iso(clock.due_on),
                    _iso(clock.stopped_on),
                    late,
                    None if clock.due_on is None else late == 0,
                    quarter,
                ),
            )
        )
    return rows


def _rapid_reviews(
    cases: Sequence[CaseHistory], completed: _Rows, cal: Calendar, as_at: dt.date
) -> list[Figure]:
    late = completed.where("on_time", _is_false)
    days = _numbers(late, "working_days_late")
    worst = max(days, default=None)
    open_rows = _Rows(("counted_from", "due_on", "state_at_end", "working_days_overdue"), [])
    for case in cases:
        clock = case.clocks.get("rapid_review")
        if clock is not None and clock.state != "stopped":
            open_rows.rows.append(
                (
                    case,
                    (
                        _iso(clock.anchor_on),
                        _iso(clock.due_on),
                        case.state_at_end,
                        working_days_late(cal, clock.due_on, as_at),
                    ),
                )
            )
    return [
        completed.figure("rapid_reviews.completed", "Rapid reviews completed (sent to the Panel)"),
        completed.where("on_time", _is_true).figure(
            "rapid_reviews.on_time",
            "Sent within 15 working days",
            part_of="rapid_reviews.completed",
        ),
        late.figure("rapid_reviews.late", "Sent late", part_of="rapid_reviews.completed"),
        late.figure(
            "rapid_reviews.median_days_late",
            "Median lateness of those sent late",
            unit="working days",
            value=_median(days),
            count=False,
        ),
        late.where("working_days_late", lambda v: v == worst).figure(
            "rapid_reviews.worst_days_late",
            "Longest lateness",
            unit="working days",
            value=worst,
            count=False,
        ),
        open_rows.figure("rapid_reviews.open_at_end", "Rapid reviews under way at period end"),
        open_rows.where("working_days_overdue", _positive).figure(
            "rapid_reviews.overdue_at_end",
            "… of which past the 15-working-day expectation",
            part_of="rapid_reviews.open_at_end",
        ),
    ]


def _decisions(cases: Sequence[CaseHistory], period: Period) -> list[Figure]:
    found: list[Figure] = []
    for trigger, name, label in DECISIONS:
        rows = _Rows(("decided_on",), [])
        for case in cases:
            for fact in case.facts:
                if fact.trigger == trigger and period.contains(fact.occurred_on):
                    rows.rows.append((case, (_iso(fact.occurred_on),)))
        found.append(rows.figure(f"decisions.{name}", label))
    return found


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


def _panel(cases: Sequence[CaseHistory], period: Period) -> list[Figure]:
    responses = _Rows(
        (
            "outcome_on",
            "outcome",
            "recommendation",
            "panel_position",
            "queries_before",
            "category",
        ),
        [],
    )
    queries = _Rows(("queried_on",), [])
    for case in cases:
        asked = 0
        for fact in case.facts:
            if fact.trigger == PANEL_QUERY:
                asked += 1
                if period.contains(fact.occurred_on):
                    queries.rows.append((case, (_iso(fact.occurred_on),)))
            elif fact.trigger in PANEL_OUTCOMES and period.contains(fact.occurred_on):
                responses.rows.append(
                    (
                        case,
                        (
                            _iso(fact.occurred_on),
                            PANEL_OUTCOMES[fact.trigger],
                            fact.fields_after.get("recommendation"),
                            fact.fields_after.get("panel_position"),
                            asked,
                            _panel_category(fact, asked),
                        ),
                    )
                )
    return [
        responses.figure("panel.responses", "Panel outcomes recorded"),
        responses.where("category", lambda v: v == "agreed").figure(
            "panel.agreed_first_response",
            "Panel agreed at its first response",
            part_of="panel.responses",
        ),
        responses.where("category", lambda v: v == "after_query").figure(
            "panel.after_query", "Settled after a Panel query", part_of="panel.responses"
        ),
        responses.where("category", lambda v: v == "panel_decided").figure(
            "panel.panel_decided",
            "Panel took a different view without a query",
            part_of="panel.responses",
        ),
        queries.figure("panel.queries", "Panel queries received", unit="queries"),
    ]


def _local_reviews(
    cases: Sequence[CaseHistory], period: Period, as_at: dt.date, cal: Calendar
) -> list[Figure]:
    commissioned = _Rows(("commissioned_on", "panel_position"), [])
    in_progress = _Rows(("commissioned_on", "state_at_end", "due_on"), [])
    on_hold = _Rows(("commissioned_on", "held_since", "review_by"), [])
    held_cases = _Rows(("held_from", "held_to", "days_in_period"), [])
    hold_spells = _Rows(("held_from", "held_to", "days_in_period"), [])
    published = _Rows(
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
        [],
    )
    to_date = Period(period.start, as_at) if as_at >= period.start else None
    for case in cases:
        commission = case.first(COMMISSION)
        if commission is None:
            continue
        if period.contains(commission.occurred_on):
            commissioned.rows.append(
                (
                    case,
                    (_iso(commission.occurred_on), commission.fields_after.get("panel_position")),
                )
            )
        publish = case.first("publish")
        clock = case.clocks.get("lcspr_publication")
        spells = case.holds()
        if publish is None and case.closed_on is None:
            in_progress.rows.append(
                (
                    case,
                    (
                        _iso(commission.occurred_on),
                        case.state_at_end,
                        _iso(_due_if_resumed(clock, as_at, cal) if clock else None),
                    ),
                )
            )
            if case.state_at_end == HOLD_STATE and spells:
                on_hold.rows.append(
                    (
                        case,
                        (
                            _iso(commission.occurred_on),
                            _iso(spells[-1][0]),
                            case.field("review_by"),
                        ),
                    )
                )
        overlapping = [
            (start, stop, to_date.days_within(start, stop))
            for start, stop in spells
            if to_date is not None and to_date.days_within(start, stop) > 0
        ]
        for start, stop, days in overlapping:
            hold_spells.rows.append((case, (_iso(start), _iso(stop), days)))
        if overlapping:
            held_cases.rows.append(
                (
                    case,
                    (
                        _iso(overlapping[0][0]),
                        _iso(overlapping[-1][1]),
                        sum(days for _, _, days in overlapping),
                    ),
                )
            )
        if publish is not None and period.contains(publish.occurred_on):
            elapsed = (publish.occurred_on - commission.occurred_on).days
            held = sum(
                Period(commission.occurred_on, publish.occurred_on).days_within(start, stop)
                for start, stop in spells
            )
            met = (
                clock is not None
                and clock.due_on is not None
                and clock.stopped_on is not None
                and clock.stopped_on <= clock.due_on
            )
            published.rows.append(
                (
                    case,
                    (
                        _iso(commission.occurred_on),
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
            )
    elapsed_days = _numbers(published, "elapsed_days")
    adjusted_days = _numbers(published, "adjusted_days")
    median_elapsed, median_adjusted = _median(elapsed_days), _median(adjusted_days)
    return [
        commissioned.figure("local_reviews.commissioned", "Local reviews commissioned"),
        in_progress.figure(
            "local_reviews.in_progress_at_end", "Local reviews in progress at period end"
        ),
        on_hold.figure(
            "local_reviews.on_hold_at_end",
            "… of which publication on hold",
            part_of="local_reviews.in_progress_at_end",
        ),
        held_cases.figure(
            "local_reviews.held_in_period", "Local reviews on hold during the period"
        ),
        hold_spells.figure(
            "local_reviews.hold_days",
            "Total time on hold in the period",
            unit="days",
            value=sum(_numbers(hold_spells, "days_in_period")),
            count=False,
        ),
        published.figure("local_reviews.published", "Local reviews published"),
        published.where("within_expectation", _is_true).figure(
            "local_reviews.published_within_expectation",
            "Published within 6 months of commissioning (hold-adjusted)",
            part_of="local_reviews.published",
        ),
        published.figure(
            "local_reviews.median_months_elapsed",
            "Median time from commissioning to publication",
            unit="months",
            value=None if median_elapsed is None else months(median_elapsed),
            count=False,
        ),
        published.figure(
            "local_reviews.median_months_adjusted",
            "… less time on hold",
            unit="months",
            value=None if median_adjusted is None else months(median_adjusted),
            count=False,
        ),
    ]


def _action_plans(cases: Sequence[CaseHistory], period: Period) -> list[Figure]:
    approved = _Rows(("approved_on", "after"), [])
    closed = _Rows(("approved_on", "closed_on"), [])
    still_open = _Rows(("approved_on",), [])
    for case in cases:
        approval: EventFacts | None = None
        for before, fact, _ in case.transitions():
            if fact.trigger == "approve_action_plan":
                approval = fact
                if period.contains(fact.occurred_on):
                    approved.rows.append((case, (_iso(fact.occurred_on), before)))
            elif (
                fact.trigger == "close"
                and before == ACTION_STATE
                and period.contains(fact.occurred_on)
            ):
                closed.rows.append(
                    (
                        case,
                        (_iso(approval.occurred_on if approval else None), _iso(fact.occurred_on)),
                    )
                )
        if case.state_at_end == ACTION_STATE:
            still_open.rows.append((case, (_iso(approval.occurred_on if approval else None),)))
    return [
        approved.figure("action_plans.approved", "Action plans approved"),
        closed.figure("action_plans.closed", "Action plans closed (actions complete)"),
        still_open.figure("action_plans.open_at_end", "Action plans being monitored at period end"),
    ]


def _due_if_resumed(clock: ClockState, as_at: dt.date, cal: Calendar) -> dt.date | None:
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


def _timeline(
    cases: Sequence[CaseHistory], period: Period, as_at: dt.date, cal: Calendar
) -> tuple[TimelineCase, ...]:
    """Every case open at some time in the period, with the clocks that touch it."""
    found: list[TimelineCase] = []
    for case in cases:
        closed_on = case.closed_on
        if case.opened_on > period.end or (closed_on is not None and closed_on < period.start):
            continue
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
                    due_on=_due_if_resumed(clock, as_at, cal),
                    stopped_on=clock.stopped_on,
                    status=clocks.status(clock, as_at),
                    pauses=tuple((p.paused_on, p.resumed_on) for p in clock.pauses),
                )
            )
        found.append(
            TimelineCase(
                ref=case.ref,
                pseudonym=case.pseudonym,
                opened_on=case.opened_on,
                closed_on=closed_on,
                state_at_end=case.state_at_end,
                lanes=tuple(lanes),
            )
        )
    return tuple(found)
