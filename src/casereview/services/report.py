"""Figures for a reporting period, computed from the event log and the working-day calendar.

`build_report` reads the cases one at a time in one read transaction
(`store.report_source`), replays each to the end of the period (less the events no figure
needs, `domain.reporting.events`), derives its clocks, reduces it to the rows it adds to
the figures (`domain.reporting.case_facts`) and drops it before the next, while
`domain.reporting.tally` adds up the figures: memory grows with the cases behind the
figures, not with the log. How figures are counted: docs/report.md.

A correction, undo or void puts the record right whenever it is made, so a report for a
past year uses the corrected facts; a voided case is in no figure.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from casereview.domain import clocks
from casereview.domain.clocks import ClockRule
from casereview.domain.replay import is_amending
from casereview.domain.reporting.case_facts import (
    CaseHistory,
    Cells,
    ReportPlan,
    amended_rows,
    cannot_count,
    case_rows,
    rounds_signed,
    timeline_entry,
    working_days_late,
)
from casereview.domain.reporting.events import ReplayedEvents
from casereview.domain.reporting.figures import (
    LinkedReview,
    Period,
    Report,
    ReviewType,
    resolve_period,
)
from casereview.domain.reporting.sections import review_type
from casereview.domain.reporting.tally import Tally
from casereview.domain.workflow.model import WorkflowDefinition
from casereview.errors import CaseReviewError
from casereview.services.access import require_reader
from casereview.services.actions_report import action_figures
from casereview.services.context import ServiceContext
from casereview.services.stored import UnreadableCase, replay_stored
from casereview.store import access as access_rows
from casereview.store.partnership import partnership_name
from casereview.store.report_source import cases_with_events, recorded_by

if TYPE_CHECKING:
    from casereview.store.database import Connection

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
    workflow: str | None = None,
) -> Report:
    """The figures for a period: explicit dates, a financial year, or (default) the
    current one; of one review type's cases with `workflow` (an installed id or `id@N`)."""
    from casereview.services import filters

    only = filters.workflow(ctx, workflow) if workflow is not None else None
    today = ctx.clock.today()
    period = resolve_period(today, start=start, end=end, year=year)
    as_at = min(period.end, today)
    cal = ctx.calendar
    tally = Tally(period)
    # Each review type (workflow id, every version) is also tallied on its own: its
    # section of the report (`domain.reporting.sections`).
    by_type: dict[str, Tally] = {}
    kinds: dict[str, tuple[str, str]] = {}  # case ref -> (workflow id, pseudonym)
    links: list[tuple[str, Mapping[str, Any]]] = []  # (ref, a link it recorded)
    workflows: dict[tuple[str, int, str], _Workflow | None] = {}
    state_labels: dict[str, str] = {}
    with ctx.db().reading() as conn:
        require_reader(ctx, conn)
        for row, events in cases_with_events(conn):
            key = (str(row["workflow_id"]), int(row["workflow_version"]), str(row["workflow_hash"]))
            if only is not None and (key[0] != only[0] or only[1] not in (None, key[1])):
                continue
            if key not in workflows:
                try:
                    definition = ctx.registry.get_exact(*key)
                except CaseReviewError:
                    # A workflow missing here must not stop the report: its cases are
                    # left out, as an unreadable case is (`audit verify` reports them).
                    workflows[key] = None
                    continue
                rules = tuple(clocks.rules_for(definition))
                plan = ReportPlan.of(definition.report)
                for state in definition.states:
                    state_labels.setdefault(state.id, state.label)
                workflows[key] = (
                    definition,
                    rules,
                    frozenset(s.id for s in definition.states if s.terminal),
                    ReplayedEvents(definition, rules),
                    plan,
                )
                tally.measures(plan)
                by_type.setdefault(key[0], Tally(period, sharing=tally)).measures(plan)
            pinned = workflows[key]
            if pinned is None:
                continue
            definition, rules, terminal, needed, plan = pinned
            # Up to the first event after the period (a case opened later has none),
            # less the notes and sign-offs that change nothing the figures read.
            try:
                kept = needed.needed(events, period.end)
                replayed = replay_stored(definition, str(row["ref"]), kept, until=period.end)
                amended = _amended(conn, events, definition, period) if replayed.amendments else []
            except (UnreadableCase, ValueError):
                continue  # one unreadable case must not stop the report; verify reports it
            if replayed.voided is not None or not replayed.facts:
                # Opened in error (in no figure, whenever it was voided), or not open
                # yet: only what was put right after the fact is listed.
                if amended:
                    opened = replayed.opened_on
                    on = dt.date.fromisoformat(opened) if opened else period.end
                    for into in (tally, by_type[key[0]]):
                        into.add(str(row["ref"]), replayed.pseudonym, on, amended, None)
                continue
            if cannot_count(replayed.facts, rules, terminal, period, plan):
                continue
            case = CaseHistory(
                ref=replayed.ref,
                pseudonym=replayed.pseudonym,
                facts=tuple(replayed.facts),
                clocks=clocks.derive(rules, replayed.facts, cal),
                rules=rules,
                terminal_states=terminal,
                plan=plan,
                signed=rounds_signed(
                    definition.approval_rounds_by_id,
                    replayed.open_rounds,
                    replayed.approvals,
                    replayed.facts,
                ),
            )
            rows = [*case_rows(case, period, as_at, cal, tally.quarters), *amended]
            line = timeline_entry(case, period, as_at, cal)
            # Packed once, kept by both tallies: the case's bytes are held once.
            packed = tally.pack(case.ref, case.pseudonym, rows, line)
            for into in (tally, by_type[key[0]]):
                into.add(case.ref, case.pseudonym, case.opened_on, rows, line, packed)
            kinds[case.ref] = (key[0], case.pseudonym)
            # The links it recorded by the period's end (kept on the case row: the
            # replay above leaves out the events no figure reads).
            recorded = json.loads(str(row["links"])) if row.get("links") else []
            links.extend(
                (case.ref, link)
                for link in recorded
                if isinstance(link, dict) and str(link.get("on", "")) <= period.end.isoformat()
            )
        named = partnership_name(conn)
        planned = action_figures(ctx, conn, period, as_at)
    return dataclasses.replace(
        tally.report(today),
        partnership=named,
        state_labels=state_labels,
        actions=planned,
        review_types=_review_types(ctx, by_type, kinds, links, today),
    )


def _review_types(
    ctx: ServiceContext,
    by_type: Mapping[str, Tally],
    kinds: Mapping[str, tuple[str, str]],
    links: Sequence[tuple[str, Mapping[str, Any]]],
    today: dt.date,
) -> tuple[ReviewType, ...]:
    """Each review type with a case in the period: its own figures, headed as its
    workflow's latest installed version says, and its cases' links to other counted
    cases (shown on both)."""
    from casereview.services import filters

    labels = filters.short_labels(ctx)
    linked: dict[str, list[LinkedReview]] = {}
    for ref, link in links:
        other = str(link.get("other", ""))
        if other not in kinds or other == ref:
            continue  # the other case is in no figure of the period
        relation = str(link.get("relation", ""))
        (here, mine), (there, theirs) = kinds[ref], kinds[other]
        linked.setdefault(here, []).append(
            LinkedReview(ref, mine, relation, other, labels.get(there, there), True)
        )
        linked.setdefault(there, []).append(
            LinkedReview(other, theirs, relation, ref, labels.get(here, here), False)
        )
    found = []
    for workflow_id, counted in by_type.items():
        if not counted.kept:
            continue
        try:
            latest = ctx.registry.get(workflow_id)
        except CaseReviewError:
            title, titles = workflow_id, {}
        else:
            table = latest.report
            title, titles = latest.title, (dict(table.titles) if table is not None else {})
        found.append(
            review_type(
                workflow_id,
                labels.get(workflow_id, workflow_id),
                title,
                counted.report(today),
                titles,
                linked.get(workflow_id, ()),
            )
        )
    return tuple(sorted(found, key=lambda t: (t.label, t.workflow)))


def _amended(
    conn: Connection,
    events: Sequence[Mapping[str, Any]],
    definition: WorkflowDefinition,
    period: Period,
) -> list[tuple[int, Cells]]:
    """The case's corrections, undos and voids recorded since the period began, with
    who made each and why."""
    seqs = [int(e["seq"]) for e in events if is_amending(str(e["trigger"]))]
    recorded = recorded_by(conn, seqs)
    names = access_rows.display_names(conn, [str(r["actor"]) for r in recorded.values()])
    for who in recorded.values():
        # People by name, with the login the log records in brackets: `Jo Bloggs (jo)`.
        login = str(who["actor"])
        name = names.get(login)
        if name and name != login:
            who["actor"] = f"{name} ({login})"
    return amended_rows(events, recorded, definition.personal_field_ids, period.start)
