"""What one case contributes to the annual report. Pure.

`CaseHistory` is one case replayed to the end of the period with its clocks derived, and
the `ReportPlan` its workflow's `[report]` table gives. `case_rows` reduces it to the rows
it adds to each base list (`BASES`: the cases behind a figure before any "of which"
filter), exactly the rows the detail lists for it, and `timeline_entry` to its timeline
line, so its events can be dropped before the next case is read. "At period end"
(`as_at`) is the period's last day, or today if sooner. Definitions: docs/report.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from casereview.domain import clocks
from casereview.domain.amendments import changes_of, reversed_seq
from casereview.domain.clocks import Calendar, ClockRule, ClockState, EventFacts
from casereview.domain.replay import fields_of, is_amending
from casereview.domain.reporting.figures import Cell, Lane, Period, Quarter, TimelineCase, months
from casereview.domain.signoffs import missing
from casereview.domain.workflow.model import (
    ApprovalRound,
    PanelAgreement,
    ReportActionPlans,
    ReportColumns,
    ReportLocalLearning,
    ReportLocalReviews,
    ReportNationalReviews,
    ReportNotifications,
    ReportPanel,
    ReportPublication,
    ReportRapidReviews,
    ReportTable,
)

DECISIONS: tuple[tuple[str, str], ...] = (
    ("local_review", "Local review (LCSPR) commissioned"),
    ("other_learning", "No local review; other learning instead"),
    ("national_review", "National review commissioned (by the Panel or the Secretary of State)"),
    ("not_notified", "Decided not to notify the Panel"),
    ("withdrawn", "Withdrawn (criteria not met)"),
)
"""Each decision figure (`decisions.<name>`) and its label; the workflow's report table
names the triggers that record each one."""

Cells = tuple[Cell, ...]


class Base(NamedTuple):
    """A base list: its name, its detail columns, and the part of the report table that
    must be given for a workflow to measure it (None: every workflow does)."""

    name: str
    columns: tuple[str, ...]
    needs: str | None = None


# A figure is a base list, optionally filtered on a column ("of which on time"); see
# `tally.FIGURES`.
BASES: tuple[Base, ...] = (
    Base("opened", ("opened_on", "aware_on")),
    Base("closed", ("closed_on", "closed_by")),
    Base("open_at_end", ("opened_on", "state_at_end")),
    Base(
        "notified",
        ("aware_on", "due_on", "notified_on", "working_days_late", "on_time"),
        "notifications",
    ),
    Base("pending", ("aware_on", "due_on", "working_days_overdue"), "notifications"),
    Base(
        "notified_only",
        (
            "aware_on",
            "due_on",
            "notified_on",
            "working_days_late",
            "on_time",
            "category",
            "escalated_on",
        ),
        "notifications.only",
    ),
    Base(
        "rr_completed",
        ("counted_from", "due_on", "submitted_on", "working_days_late", "on_time", "quarter"),
        "rapid_reviews",
    ),
    Base(
        "rr_open",
        ("counted_from", "due_on", "state_at_end", "working_days_overdue"),
        "rapid_reviews",
    ),
    *(Base(f"decision:{name}", ("decided_on",), f"decisions.{name}") for name, _ in DECISIONS),
    Base(
        "responses",
        (
            "outcome_on",
            "outcome",
            "recommendation",
            "panel_position",
            "queries_before",
            "category",
        ),
        "panel",
    ),
    Base("queries", ("queried_on",), "panel"),
    Base("disputed", ("outcome_on", "panel_position", "then"), "panel.disputed"),
    Base("maintained", ("maintained_on", "panel_position", "signed_off_on"), "panel.maintained_by"),
    Base("reconsidered", ("reconsidered_on", "panel_position"), "panel.reconsidered_by"),
    Base("commissioned", ("commissioned_on", "panel_position"), "local_reviews"),
    Base(
        "in_progress",
        (
            "commissioned_on",
            "state_at_end",
            "due_on",
            "days_overdue",
            "elapsed_due_on",
            "past_elapsed",
        ),
        "local_reviews",
    ),
    Base("on_hold", ("commissioned_on", "held_since", "review_by"), "local_reviews"),
    Base("held_cases", ("held_from", "held_to", "days_in_period"), "local_reviews"),
    Base("hold_spells", ("held_from", "held_to", "days_in_period"), "local_reviews"),
    Base(
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
            "elapsed_due_on",
            "within_elapsed",
        ),
        "local_reviews",
    ),
    Base(
        "revised",
        (
            "commissioned_on",
            "due_on",
            "revised_target_on",
            "published_on",
            "state_at_end",
            "within_revised_target",
        ),
        "local_reviews.revised_target",
    ),
    Base("pub_decided", ("decided_on", "form", "group", "reasons_given"), "publication"),
    Base("breaches", ("published_on", "trigger", "overrides"), "publication"),
    Base("national", ("commissioned_on", "commissioned_by", "local_review"), "national_reviews"),
    Base("national_reported", ("reported_on",), "national_reviews.reported_by"),
    Base("ll_started", ("started_on", "review_type"), "local_learning"),
    Base(
        "ll_completed",
        ("started_on", "due_on", "completed_on", "working_days_late", "on_time"),
        "local_learning",
    ),
    Base(
        "ll_open",
        ("started_on", "due_on", "state_at_end", "working_days_overdue"),
        "local_learning",
    ),
    Base("plan_approved", ("approved_on", "after"), "action_plans"),
    Base("plan_closed", ("approved_on", "closed_on"), "action_plans"),
    Base("plan_open", ("approved_on",), "action_plans"),
    Base("amended", ("recorded_on", "change", "event", "by", "role", "why", "what")),
)
BASE_INDEX = {base.name: index for index, base in enumerate(BASES)}


def _given(table: ReportTable, needs: str | None) -> bool:
    """Whether the report table gives the part a base list needs (`decisions.x`: the
    triggers of decision x)."""
    value: Any = table
    for key in needs.split(".") if needs is not None else ():
        if value is None:
            return False
        value = getattr(value, key)
    return value is not None and value != ()


@dataclass(frozen=True)
class ReportPlan:
    """One workflow's `[report]` table as the per-case code reads it (a workflow without
    one measures only the figures every workflow has: the caseload)."""

    table: ReportTable
    bases: frozenset[int]
    """The base lists (indexes into `BASES`) this workflow measures."""
    outcomes: Mapping[str, tuple[str, PanelAgreement]]
    """Trigger -> (outcome name, when it shows the Panel agreeing)."""
    at_end_clocks: frozenset[str]
    """Clocks whose "still running at period end" puts a case in a figure whatever its
    state (`notifications.pending_at_end`, `rapid_reviews.open_at_end`)."""
    kept_states: frozenset[str]
    """States a figure lists a case in at period end even if the state were terminal
    (publication on hold, action monitoring)."""

    @classmethod
    def of(cls, table: ReportTable | None) -> ReportPlan:
        t = table if table is not None else ReportTable()
        outcomes = t.panel.outcomes.items() if t.panel is not None else ()
        at_end = (t.notifications, t.rapid_reviews)
        kept = (
            t.local_reviews.hold_state if t.local_reviews is not None else None,
            t.action_plans.state if t.action_plans is not None else None,
        )
        return cls(
            table=t,
            bases=frozenset(i for i, base in enumerate(BASES) if _given(t, base.needs)),
            outcomes={o.trigger: (name, o.agreed) for name, o in outcomes},
            at_end_clocks=frozenset(part.clock for part in at_end if part is not None),
            kept_states=frozenset(state for state in kept if state is not None),
        )


@dataclass(frozen=True)
class CaseHistory:
    """One case as it stood at the end of the period: its events so far and its clocks."""

    ref: str
    pseudonym: str
    facts: tuple[EventFacts, ...]
    clocks: Mapping[str, ClockState]
    rules: tuple[ClockRule, ...]
    terminal_states: frozenset[str]
    plan: ReportPlan
    signed: Mapping[int, dt.date | None] = field(default_factory=dict)
    """The sign-off rounds opened by an event (a decision the partners maintain), as
    they stood at the period end: the opening event's seq -> the day the last partner
    signed (None: not complete). `rounds_signed` works it out."""

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

    def field(self, name: str | None) -> Any:
        """A case field at the end (None for a column the workflow does not fill)."""
        return None if name is None else self.facts[-1].fields_after.get(name)

    def transitions(self) -> Iterable[tuple[str, EventFacts, int]]:
        """(state before, event, index) for every event after the opening."""
        for index in range(1, len(self.facts)):
            yield self.facts[index - 1].to_state, self.facts[index], index

    def first(self, trigger: str) -> EventFacts | None:
        return next((f for f in self.facts if f.trigger == trigger), None)

    def first_of(self, triggers: Iterable[str]) -> EventFacts | None:
        wanted = frozenset(triggers)
        return next((f for f in self.facts if f.trigger in wanted), None)

    def breaches(self) -> list[EventFacts]:
        """Steps recorded despite a failed check against what happened, by the check's
        override (`EventFacts.overrode` names the trigger whose check it overrode): each
        is the record of one breach (`domain.checks`)."""
        return [f for f in self.facts if f.overrode is not None]

    def holds(self, state: str | None) -> list[tuple[dt.date, dt.date | None]]:
        """Spells on hold, in `state` (publication on hold) or held in its stage (the
        workflow's `[holds]`): [entered, left) (left None: still held)."""
        spells: list[tuple[dt.date, dt.date | None]] = []
        entered: dt.date | None = None
        was = False
        for _, fact, _ in self.transitions():
            now = fact.held or (state is not None and fact.to_state == state)
            if now and not was:
                entered = fact.occurred_on
            elif was and not now and entered is not None:
                spells.append((entered, fact.occurred_on))
                entered = None
            was = now
        if entered is not None:
            spells.append((entered, None))
        return spells


def rounds_signed(
    rounds: Mapping[str, ApprovalRound],
    opened: Mapping[str, Mapping[str, Any]],
    approvals: Mapping[str, Mapping[str, int]],
    facts: Sequence[EventFacts],
) -> dict[int, dt.date | None]:
    """Each opened round's opening event (seq) -> the day its last agency signed, or
    None while one has not (`domain.signoffs`: the rounds of a replay to the period
    end). Opening a round again starts a new one, so only the latest opener has one."""
    signed: dict[int, dt.date | None] = {}
    if not opened:
        return signed  # most cases: no round opened by an event
    days = {f.seq: f.occurred_on for f in facts if f.seq is not None}
    for round_id, info in opened.items():
        rnd = rounds.get(round_id)
        if rnd is None:
            continue
        seqs = approvals.get(round_id, {}).values()
        last = max((days[s] for s in seqs if s in days), default=None)
        signed[int(info.get("seq", 0))] = None if missing(rnd, approvals) else last
    return signed


def cannot_count(
    facts: Sequence[EventFacts],
    rules: Sequence[ClockRule],
    terminal_states: frozenset[str],
    period: Period,
    plan: ReportPlan,
) -> bool:
    """True when a replayed case is in no figure and not on the timeline, so its clocks
    need not be derived: every event before the period starts, the case in a terminal
    state (neither on hold nor monitoring actions), and no at-end clock running.

    Why that suffices, figure by figure: nothing happened in the period, so no "in the
    period" figure has it; it was closed (at its first terminal event) before the period,
    so it is not open, in progress or on the timeline; a hold spell ended before the
    period; and of the at-end figures only the notification and rapid review clocks
    (`plan.at_end_clocks`) do not ask whether the case is closed. Whether a clock is
    running depends only on the triggers (`clocks.step`: a start trigger starts it, a
    stop trigger stops a started one, pauses and re-projections never stop it), so no
    calendar arithmetic is needed.
    """
    if not facts or max(f.occurred_on for f in facts) >= period.start:
        return False
    final = facts[-1].to_state
    if final not in terminal_states or final in plan.kept_states:
        return False
    running: dict[str, bool] = {}
    for fact in facts:
        for rule in rules:
            if fact.trigger in rule.start_on:
                running[rule.id] = True
            elif running.get(rule.id) and fact.trigger in rule.stop_on:
                running[rule.id] = False
    return not any(running.get(clock_id) for clock_id in plan.at_end_clocks)


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
    """Every detail row this case adds, as (index into `BASES`, cells); only to the base
    lists its workflow's report table measures."""
    sink = _Sink()
    table = case.plan.table
    _caseload(sink, case, period, table.columns)
    if table.notifications is not None:
        _notifications(sink, case, period, cal, as_at, table.notifications)
    if table.rapid_reviews is not None:
        _rapid_reviews(sink, case, period, cal, as_at, quarters, table.rapid_reviews)
    _decisions(sink, case, period, table.decisions.named())
    if table.panel is not None:
        _panel(sink, case, period, table.panel, table.columns)
    if table.local_reviews is not None:
        _local_reviews(sink, case, period, as_at, cal, table.local_reviews, table.columns)
    if table.publication is not None:
        _publication(sink, case, period, table.publication, table.local_reviews)
    if table.national_reviews is not None:
        _national_reviews(sink, case, period, table.national_reviews)
    if table.local_learning is not None:
        _local_learning(sink, case, period, as_at, cal, table.local_learning, table.columns)
    if table.action_plans is not None:
        _action_plans(sink, case, period, table.action_plans)
    return sink.rows


def _caseload(sink: _Sink, case: CaseHistory, period: Period, columns: ReportColumns) -> None:
    if period.contains(case.opened_on):
        aware = case.facts[0].fields_after.get(columns.aware_on) if columns.aware_on else None
        sink.add("opened", (_iso(case.opened_on), aware))
    closed_on = case.closed_on
    if period.contains(closed_on):
        sink.add("closed", (_iso(closed_on), _closing_trigger(case)))
    if closed_on is None:
        sink.add("open_at_end", (_iso(case.opened_on), case.state_at_end))


def _closing_trigger(case: CaseHistory) -> str | None:
    return next((f.trigger for f in case.facts if f.to_state in case.terminal_states), None)


def _notifications(
    sink: _Sink,
    case: CaseHistory,
    period: Period,
    cal: Calendar,
    as_at: dt.date,
    ids: ReportNotifications,
) -> None:
    clock = case.clocks.get(ids.clock)
    made = case.first(ids.trigger)
    due = clock.due_on if clock else None
    anchor = clock.anchor_on if clock else None
    # On time or late by the day the notification was made (its fact date where the
    # workflow records one), not the day it was keyed in.
    made_on = made.happened_on if made is not None else None
    if made_on is not None and period.contains(made_on):
        late = working_days_late(cal, due, made_on)
        on_time = None if due is None else late == 0
        sink.add("notified", (_iso(anchor), _iso(due), _iso(made_on), late, on_time))
    if clock is not None and clock.state != "stopped":
        sink.add("pending", (_iso(anchor), _iso(due), working_days_late(cal, due, as_at)))
    # Notified without a rapid review (a looked-after child's death): counted apart, on
    # time by the same clock and the notification's fact date.
    only = case.first_of(ids.only) if ids.only else None
    if only is not None and period.contains(only.happened_on):
        late = working_days_late(cal, due, only.happened_on)
        escalated = case.first(ids.escalated_by) if ids.escalated_by else None
        sink.add(
            "notified_only",
            (
                _iso(anchor),
                _iso(due),
                _iso(only.happened_on),
                late,
                None if due is None else late == 0,
                _field(only, case.plan.table.columns.category),
                _iso(escalated.happened_on if escalated is not None else None),
            ),
        )


def _rapid_reviews(
    sink: _Sink,
    case: CaseHistory,
    period: Period,
    cal: Calendar,
    as_at: dt.date,
    quarters: Sequence[Quarter],
    ids: ReportRapidReviews,
) -> None:
    """First submissions to the Panel in the period (the clock's stop), and open ones."""
    clock = case.clocks.get(ids.clock)
    if clock is None:
        return
    stopped = clock.stopped_on
    if clock.stopped_by == ids.completed_by and stopped is not None and period.contains(stopped):
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


def _decisions(
    sink: _Sink, case: CaseHistory, period: Period, named: Iterable[tuple[str, tuple[str, ...]]]
) -> None:
    for name, triggers in named:
        for fact in case.facts:
            if fact.trigger in triggers and period.contains(fact.happened_on):
                sink.add(f"decision:{name}", (_iso(fact.happened_on),))


def _field(fact: EventFacts, field_id: str | None) -> Any:
    return None if field_id is None else fact.fields_after.get(field_id)


def _panel_category(outcome: EventFacts, queries: int, agreement: PanelAgreement) -> str:
    if queries:
        return "after_query"
    value = outcome.fields_after.get(agreement.field)
    agreed = value in agreement.values or (agreement.or_unset and value in (None, ""))
    return "agreed" if agreed else "panel_decided"


def _panel(
    sink: _Sink, case: CaseHistory, period: Period, ids: ReportPanel, columns: ReportColumns
) -> None:
    outcomes = case.plan.outcomes
    asked = 0
    for fact in case.facts:
        if fact.trigger == ids.query:
            asked += 1
            if period.contains(fact.happened_on):
                sink.add("queries", (_iso(fact.happened_on),))
        elif fact.trigger in outcomes and period.contains(fact.happened_on):
            outcome, agreement = outcomes[fact.trigger]
            sink.add(
                "responses",
                (
                    _iso(fact.happened_on),
                    outcome,
                    _field(fact, columns.recommendation),
                    _field(fact, columns.panel_position),
                    asked,
                    _panel_category(fact, asked, agreement),
                ),
            )
    _panel_disputes(sink, case, period, ids, columns)


def _panel_disputes(
    sink: _Sink, case: CaseHistory, period: Period, ids: ReportPanel, columns: ReportColumns
) -> None:
    """Responses in which the Panel disputed the partners' decision, and what the
    partners did then: maintained it (a new sign-off round) or reconsidered it."""
    disputed = ids.disputed
    answers: dict[str, str] = {}  # trigger -> what the partners did
    if ids.maintained_by is not None:
        answers[ids.maintained_by] = "maintained"
    if ids.reconsidered_by is not None:
        answers[ids.reconsidered_by] = "reconsidered"

    def in_dispute(fact: EventFacts) -> bool:
        return disputed is None or fact.fields_after.get(disputed.field) in disputed.values

    for index, fact in enumerate(case.facts):
        if not period.contains(fact.happened_on):
            continue
        if disputed is not None and fact.trigger in case.plan.outcomes and in_dispute(fact):
            then = next(
                (answers[f.trigger] for f in case.facts[index + 1 :] if f.trigger in answers),
                None,
            )
            sink.add(
                "disputed",
                (_iso(fact.happened_on), fact.fields_after.get(disputed.field), then),
            )
        elif fact.trigger in answers and index and in_dispute(case.facts[index - 1]):
            position = _field(case.facts[index - 1], columns.panel_position)
            if answers[fact.trigger] == "maintained":
                signed = case.signed.get(fact.seq) if fact.seq is not None else None
                sink.add("maintained", (_iso(fact.happened_on), position, _iso(signed)))
            else:
                sink.add("reconsidered", (_iso(fact.happened_on), position))


def _local_reviews(
    sink: _Sink,
    case: CaseHistory,
    period: Period,
    as_at: dt.date,
    cal: Calendar,
    ids: ReportLocalReviews,
    columns: ReportColumns,
) -> None:
    commission = case.first(ids.commissioned_by)
    if commission is None:
        return
    commissioned_on = commission.happened_on
    if period.contains(commissioned_on):
        sink.add(
            "commissioned", (_iso(commissioned_on), _field(commission, columns.panel_position))
        )
    publish = case.first_of(ids.published_by)
    clock = case.clocks.get(ids.clock)
    spells = case.holds(ids.hold_state)
    # A review has ended when published, when the case closed, or when its publication
    # clock stopped another way: a decision not to publish, or a national review that
    # superseded it or folded it in (the workflow's `stop_on` says which events end it).
    ended = clock is not None and clock.state == "stopped"
    revised = _field(case.facts[-1], ids.revised_target)
    revised_on = dt.date.fromisoformat(revised) if isinstance(revised, str) else None
    in_progress = publish is None and case.closed_on is None and not ended
    if in_progress:
        due = due_if_resumed(clock, as_at, cal) if clock else None
        overdue = max(0, (as_at - due).days) if due is not None else 0
        expected = clock.base_due_on if clock is not None else None
        sink.add(
            "in_progress",
            (
                _iso(commissioned_on),
                case.state_at_end,
                _iso(due),
                overdue,
                _iso(expected),
                None if expected is None else as_at > expected,
            ),
        )
        if revised_on is not None:
            sink.add(
                "revised",
                (
                    _iso(commissioned_on),
                    _iso(due),
                    _iso(revised_on),
                    None,
                    case.state_at_end,
                    False if as_at > revised_on else None,
                ),
            )
        held_at_end = case.facts[-1].held or case.state_at_end == ids.hold_state
        if held_at_end and spells:
            sink.add(
                "on_hold",
                (_iso(commissioned_on), _iso(spells[-1][0]), case.field(columns.review_by)),
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
    published_on = publish.happened_on if publish is not None else None
    if published_on is not None and period.contains(published_on):
        elapsed = (published_on - commissioned_on).days
        held = sum(
            Period(commissioned_on, published_on).days_within(start, stop) for start, stop in spells
        )
        met = (
            clock is not None
            and clock.due_on is not None
            and clock.stopped_on is not None
            and clock.stopped_on <= clock.due_on
        )
        # The expectation as first set (before time on hold moved it), for the figure
        # on elapsed time.
        expected = clock.base_due_on if clock is not None else None
        sink.add(
            "published",
            (
                _iso(commissioned_on),
                _iso(published_on),
                elapsed,
                held,
                elapsed - held,
                months(elapsed),
                months(elapsed - held),
                _iso(clock.due_on if clock else None),
                met,
                _iso(expected),
                None if expected is None else published_on <= expected,
            ),
        )
        if revised_on is not None:
            sink.add(
                "revised",
                (
                    _iso(commissioned_on),
                    _iso(clock.due_on if clock else None),
                    _iso(revised_on),
                    _iso(published_on),
                    case.state_at_end,
                    published_on <= revised_on,
                ),
            )


def _publication(
    sink: _Sink,
    case: CaseHistory,
    period: Period,
    ids: ReportPublication,
    local: ReportLocalReviews | None,
) -> None:
    """The partners' publication decision in force at the period end, if taken in the
    period (by its form), and each publication recorded despite a failed check."""
    decision = next((f for f in reversed(case.facts) if f.trigger in ids.decided_by), None)
    if decision is not None and period.contains(decision.happened_on):
        value = decision.fields_after.get(ids.form.field)
        reasons = decision.recorded.get(ids.reasons) if ids.reasons is not None else None
        sink.add(
            "pub_decided",
            (
                _iso(decision.happened_on),
                value if isinstance(value, str) else None,
                ids.form.group_of(value),
                isinstance(reasons, str) and bool(reasons.strip()),
            ),
        )
    published_by = local.published_by if local is not None else ()
    for fact in case.facts:
        if (
            fact.trigger in published_by
            and fact.overrode is not None
            and period.contains(fact.happened_on)
        ):
            sink.add("breaches", (_iso(fact.happened_on), fact.trigger, fact.overrode))


def _national_reviews(
    sink: _Sink, case: CaseHistory, period: Period, ids: ReportNationalReviews
) -> None:
    """National reviews recorded in the period: who commissioned each, and what happened
    to the local review (continued alongside, superseded, merged, or none started)."""
    for fact in case.facts:
        if not period.contains(fact.happened_on):
            continue
        if fact.trigger in ids.commissioned_by or fact.trigger in ids.alongside:
            by = ids.by.group_of(fact.fields_after.get(ids.by.field)) if ids.by else None
            if fact.trigger in ids.alongside:
                local: str | None = "continued"
            elif ids.outcome is not None:
                local = ids.outcome.group_of(fact.fields_after.get(ids.outcome.field))
            else:
                local = None
            sink.add("national", (_iso(fact.happened_on), by, local))
        elif fact.trigger == ids.reported_by:
            sink.add("national_reported", (_iso(fact.happened_on),))


def _local_learning(
    sink: _Sink,
    case: CaseHistory,
    period: Period,
    as_at: dt.date,
    cal: Calendar,
    ids: ReportLocalLearning,
    columns: ReportColumns,
) -> None:
    """Local reviews of incidents not notified: started and completed in the period
    (on time by the review's clock), and under way at its end."""
    clock = case.clocks.get(ids.clock) if ids.clock is not None else None
    due = clock.due_on if clock is not None else None
    started: EventFacts | None = None
    for fact in case.facts:
        if fact.trigger in ids.started_by:
            started = fact
            if period.contains(fact.happened_on):
                sink.add("ll_started", (_iso(fact.happened_on), _field(fact, columns.review_type)))
        elif fact.trigger in ids.completed_by and started is not None:
            done = fact.happened_on
            if period.contains(done):
                late = working_days_late(cal, due, done)
                sink.add(
                    "ll_completed",
                    (
                        _iso(started.happened_on),
                        _iso(due),
                        _iso(done),
                        late,
                        None if due is None else late == 0,
                    ),
                )
            started = None
    if started is not None and case.closed_on is None:
        sink.add(
            "ll_open",
            (
                _iso(started.happened_on),
                _iso(due),
                case.state_at_end,
                working_days_late(cal, due, as_at),
            ),
        )


def _action_plans(sink: _Sink, case: CaseHistory, period: Period, ids: ReportActionPlans) -> None:
    approval: EventFacts | None = None
    for before, fact, _ in case.transitions():
        if fact.trigger == ids.approved_by:
            approval = fact
            if period.contains(fact.happened_on):
                sink.add("plan_approved", (_iso(fact.happened_on), before))
        elif (
            fact.trigger == ids.closed_by
            and before == ids.state
            and period.contains(fact.happened_on)
        ):
            sink.add(
                "plan_closed",
                (_iso(approval.happened_on if approval else None), _iso(fact.happened_on)),
            )
    if case.state_at_end == ids.state:
        sink.add("plan_open", (_iso(approval.happened_on if approval else None),))


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


AMENDED_WORDS = {"correct": "correction", "undo": "undo", "void": "void"}
"""The `change` column of the `amended` base list, by the amending event's trigger."""


def amended_rows(
    events: Sequence[Mapping[str, Any]],
    recorded: Mapping[int, Mapping[str, Any]],
    personal: frozenset[str],
    since: dt.date,
) -> list[tuple[int, Cells]]:
    """The `amended` rows of one case: each correction, undo and void recorded on or
    after `since` (the period's start), with who made it (`recorded`: seq -> its
    `actor`, `role` and `rationale`), why, and what it put right; the values of a
    personal field are left out."""
    base = BASE_INDEX["amended"]
    triggers = {int(row["seq"]): str(row["trigger"]) for row in events}
    rows: list[tuple[int, Cells]] = []
    for row in events:
        trigger = str(row["trigger"])
        if not is_amending(trigger):
            continue
        on = str(row["occurred_on"])
        if on < since.isoformat():
            continue
        seq = int(row["seq"])
        fields = fields_of(row)
        try:
            if trigger == "correct":
                what = "; ".join(
                    c.describe(hide_values=c.field in personal) for c in changes_of(fields)
                )
            elif trigger == "undo":
                undone = reversed_seq(fields)
                what = f"reversed event {undone} ({triggers.get(undone, '?')})"
            else:
                what = "voided as opened in error"
        except ValueError:
            what = "(not readable: see audit verify)"
        who = recorded.get(seq, {})
        cells: Cells = (
            on,
            AMENDED_WORDS[trigger],
            seq,
            _text_or_none(who.get("actor")),
            _text_or_none(who.get("role")),
            _text_or_none(who.get("rationale")),
            what,
        )
        rows.append((base, cells))
    return rows


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
