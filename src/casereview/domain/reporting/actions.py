"""The annual report's figures on recommendations and actions, for a reporting period.

Pure: each case's plan is replayed from its plan events up to the day the report
describes (`as_at`, the period's end or today), then counted. Within the period:
recommendations made, and actions completed on time, after an agreed extension, late,
or closed without completion (by the day they were completed or closed); at the
period's end: actions open, and of those overdue; each by owner agency. The oldest open
actions name only the case reference, the action's number, its agency and due date,
and how many working days it is overdue. Definitions: docs/report.md ("Recommendations
and actions").

`collect` takes any set of cases' plans, so a report may count them across every
workflow or one workflow at a time.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from casereview.domain import actions as plans
from casereview.domain.clocks import Calendar
from casereview.domain.reporting.case_facts import working_days_late
from casereview.domain.reporting.figures import Period

COUNTS: tuple[tuple[str, str], ...] = (
    ("met", "Completed on time"),
    ("met_after_extension", "Completed after an agreed extension"),
    ("missed", "Completed late"),
    ("closed_without_completion", "Closed without completion"),
    ("open", "Open at period end"),
    ("overdue", "… of which overdue"),
)
"""Each count of actions (its id in JSON and CSV, and its label), in the order every
format lists them."""

OLDEST = 10
"""How many of the oldest open actions the report lists."""


@dataclass(frozen=True)
class AgencyCounts:
    """Actions of one owner agency (or of all of them) by how they stand: count name
    (`COUNTS`) -> number."""

    counts: Mapping[str, int]

    def value(self, name: str) -> int:
        return self.counts.get(name, 0)


@dataclass(frozen=True)
class OpenAction:
    """One open action, without personal fields (no owner, no text)."""

    ref: str
    action: str
    agency: str
    due_on: dt.date
    working_days_overdue: int


@dataclass(frozen=True)
class ActionFigures:
    """The section: recommendations made in the period, actions by owner agency, and
    the oldest open actions at its end."""

    period: Period
    as_at: dt.date
    workflows: tuple[str, ...]  # the workflows (labels) with an action plan whose cases count
    recommendations: int
    multi_agency: int
    total: AgencyCounts
    by_agency: Mapping[str, AgencyCounts]
    oldest_open: tuple[OpenAction, ...]


def plan_as_at(events: Iterable[Mapping[str, object]], as_at: dt.date) -> plans.Plan:
    """A case's plan as its events up to `as_at` (inclusive) left it."""
    day = as_at.isoformat()
    return plans.replay(e for e in events if str(e["occurred_on"]) <= day)


def _standing(action: plans.Action, period: Period, as_at: dt.date) -> tuple[str, ...]:
    """The counts this action adds one to (none when it was done before the period)."""
    if action.open:
        return ("open", "overdue") if action.due_on < as_at.isoformat() else ("open",)
    done = action.completed_on or ""
    if not period.start.isoformat() <= done <= period.end.isoformat():
        return ()
    return (plans.outcome(action, as_at),)


def collect(
    cases: Iterable[tuple[str, plans.Plan]],
    period: Period,
    as_at: dt.date,
    cal: Calendar,
    *,
    workflows: Sequence[str] = (),
    oldest: int = OLDEST,
) -> ActionFigures:
    """The figures of these cases' plans (reference, plan as at `as_at`), read once
    each, keeping only counts and the oldest open actions; `cal` counts the working
    days an open action is overdue (as a late step's are counted)."""
    names = [name for name, _ in COUNTS]
    total = dict.fromkeys(names, 0)
    by_agency: dict[str, dict[str, int]] = {}
    earliest: list[tuple[str, str, str, str]] = []  # (due_on, ref, action, agency)
    recommendations = multi = 0
    start, end = period.start.isoformat(), period.end.isoformat()
    for ref, plan in cases:
        for rec in plan.recommendations.values():
            if start <= rec.added_on <= end:
                recommendations += 1
                multi += rec.scope == plans.MULTI
        for action in plan.actions.values():
            counts = by_agency.setdefault(action.agency, dict.fromkeys(names, 0))
            for name in _standing(action, period, as_at):
                total[name] += 1
                counts[name] += 1
            if action.open:
                earliest.append((action.due_on, ref, action.action, action.agency))
                if len(earliest) > 4 * oldest:
                    earliest = heapq.nsmallest(oldest, earliest)
    oldest_open = []
    for due_on, ref, number, agency in heapq.nsmallest(oldest, earliest):
        due = dt.date.fromisoformat(due_on)
        late = working_days_late(cal, due, as_at)
        oldest_open.append(OpenAction(ref, number, agency, due, late))
    return ActionFigures(
        period=period,
        as_at=as_at,
        workflows=tuple(workflows),
        recommendations=recommendations,
        multi_agency=multi,
        total=AgencyCounts(total),
        by_agency={g: AgencyCounts(by_agency[g]) for g in sorted(by_agency)},
        oldest_open=tuple(oldest_open),
    )
