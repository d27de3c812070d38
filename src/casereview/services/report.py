"""Figures for a reporting period, computed from the event log and the working-day calendar.

`build_report` reads the cases and their events in one read transaction, one case at a
time (`store.report_source`), replays each case up to the end of the period (events after
it are ignored, so a report for a past year does not change when later events are
recorded; notes, sign-offs and the like that change nothing a figure reads are left out,
`domain.reporting.events`), derives its clocks, and reduces it to the rows it adds to the
figures (`domain.reporting.case_facts`) before reading the next; `domain.reporting.tally`
keeps those rows packed and adds up the figures. Memory therefore grows with the cases
behind the figures, not with the log. Which triggers, states and clocks each figure
counts comes from the `[report]` table of each case's workflow; the definitions are in
docs/report.md.

"At period end" means the last day of the period, or today if the period has not ended:
a report for the current year says where things stand now, never where they might be.
"""

from __future__ import annotations

import datetime as dt

from casereview.domain import clocks
from casereview.domain.clocks import ClockRule
from casereview.domain.reporting.case_facts import (
    CaseHistory,
    ReportPlan,
    cannot_count,
    case_rows,
    timeline_entry,
    working_days_late,
)
from casereview.domain.reporting.events import ReplayedEvents
from casereview.domain.reporting.figures import Report, resolve_period
from casereview.domain.reporting.tally import Tally
from casereview.domain.workflow.model import WorkflowDefinition
from casereview.services.context import ServiceContext
from casereview.services.stored import UnreadableCase, replay_stored
from casereview.store.report_source import cases_with_events

__all__ = ["build_report", "working_days_late"]

_Workflow = tuple[
    WorkflowDefinition, tuple[ClockRule, ...], frozenset[str], ReplayedEvents, ReportPlan
]


def build_report(
    ctx: ServiceContext,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    year: int | None = None,
) -> Report:
    """The figures for a period: explicit dates, a financial year, or (default) the current one."""
    today = ctx.clock.today()
    period = resolve_period(today, start=start, end=end, year=year)
    as_at = min(period.end, today)
    cal = ctx.calendar
    tally = Tally(period)
    workflows: dict[tuple[str, int, str], _Workflow] = {}
    with ctx.db().reading() as conn:
        for row, events in cases_with_events(conn):
            key = (str(row["workflow_id"]), int(row["workflow_version"]), str(row["workflow_hash"]))
            if key not in workflows:
                definition = ctx.registry.get_exact(*key)
                rules = tuple(clocks.rules_for(definition))
                workflows[key] = (
                    definition,
                    rules,
                    frozenset(s.id for s in definition.states if s.terminal),
                    ReplayedEvents(definition, rules),
                    ReportPlan.of(definition.report),
                )
                tally.measures(workflows[key][4])
            definition, rules, terminal, needed, plan = workflows[key]
            # Up to the first event after the period (a case opened later has none),
            # less the notes and sign-offs that change nothing the figures read.
            try:
                kept = needed.needed(events, period.end)
                replayed = replay_stored(definition, str(row["ref"]), kept, until=period.end)
            except (UnreadableCase, ValueError):
                continue  # one unreadable case must not stop the report; verify reports it
            if not replayed.facts or cannot_count(replayed.facts, rules, terminal, period, plan):
                continue
            case = CaseHistory(
                ref=replayed.ref,
                pseudonym=replayed.pseudonym,
                facts=tuple(replayed.facts),
                clocks=clocks.derive(rules, replayed.facts, cal),
                rules=rules,
                terminal_states=terminal,
                plan=plan,
            )
            tally.add(
                case.ref,
                case.pseudonym,
                case.opened_on,
                case_rows(case, period, as_at, cal, tally.quarters),
                timeline_entry(case, period, as_at, cal),
            )
    return tally.report(today)
