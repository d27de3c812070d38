"""The dashboard's question: what is due, across every case.

`due_list` reads the clock projection alone (`store.dashboard_queries`): counts from one
aggregate over the clock index and the rows shown from index-ordered page queries, then
working-day arithmetic per row shown. No events, no replay, no workflow definition and
no state machine, so its cost follows the rows shown, not the number of cases, and it
imports nothing the timeline and the explanation need. It returns facts (ISO dates,
numbers, ids, workflow labels); `presenters.due` words them.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from casereview.domain import clocks, dates
from casereview.errors import Input, InvalidInput, OutOfRange
from casereview.services.access import require_reader
from casereview.services.context import ServiceContext

if TYPE_CHECKING:
    from casereview.domain.calendar.workdays import WorkingDayCalendar
    from casereview.store.dashboard_queries import OpenClockRow

_ANY = 2**62
"""More rows than any database holds: a `limit` above it is no limit at all."""

SOON_WORKING_DAYS = 5
"""The summary line counts clocks due within this many working days of the as-of date."""

PROCESS_NEAR_WORKING_DAYS = 10
"""A parallel process's key date (a trial, an inquest) is listed from this many working
days before it (or within `within`, when given), until the day itself."""


@dataclass(frozen=True, slots=True)
class DueItem:
    """One open clock on the dashboard."""

    ref: str
    pseudonym: str
    case_state: str
    clock_id: str
    label: str
    kind: str
    state: str  # running | paused
    status: str  # overdue | due_soon | running | paused
    anchor_on: str | None
    started_on: str | None
    due_on: str | None  # None while paused (the stored date is the one before the pause)
    working_days_left: int | None  # count_working_days(as_of, due_on); negative when overdue
    remaining_days: int | None  # paused only: budget left, in the clock's counting unit
    workflow: str = ""  # the case's workflow id


@dataclass(frozen=True)
class DueSummary:
    """Counts over every open clock, whatever filter or limit chose the rows shown."""

    open: int
    overdue: int
    due_soon: int  # status due_soon: inside the clock's own warning window
    due_next_5: int  # due from as-of to 5 working days after it, not overdue
    paused: int
    matching: int  # clocks the filter chose, before the limit
    shown: int  # rows returned: at most the limit


@dataclass(frozen=True)
class DueList:
    as_of: str
    within: int | None
    overdue_only: bool
    limit: int | None
    summary: DueSummary
    items: tuple[DueItem, ...]
    workflow: str | None = None  # the workflow filter, as given
    clocks: tuple[str, ...] = ()  # the clock filter: only these clock ids (none: every one)
    workflow_labels: tuple[tuple[str, str], ...] = ()
    """(id, short label) of each workflow among the rows shown, when there are several:
    the rows then say which review each belongs to."""

    def workflow_label(self, workflow_id: str) -> str:
        return dict(self.workflow_labels).get(workflow_id, workflow_id)


def due_list(
    ctx: ServiceContext,
    *,
    as_of: dt.date | None = None,
    within: int | None = None,
    overdue_only: bool = False,
    limit: int | None = None,
    workflow: str | None = None,
    clocks: Sequence[str] = (),
) -> DueList:
    """Open clocks across all cases, soonest first, with counts over all of them.

    `within`: only clocks due within that many working days of `as_of`, plus every
    overdue one. `overdue_only`: only overdue clocks. Paused clocks have no due date and
    are shown only without a filter. `limit`: at most that many rows, the most urgent
    (None: every one). The summary always counts every open clock, and how many the
    filter chose before the limit. `workflow` (an installed id, or `id@version`): only
    that review type's cases, and the counts over them. `clocks` (ids some installed
    workflow declares): only clocks with one of those ids, and the counts over them;
    open actions and parallel processes' dates, which are not a workflow's clocks, are
    then left out.

    Reads the projection only, through the driver alone (`ctx.reader()`).
    """
    from casereview.store import dashboard_queries as views

    if within is not None and within < 0:
        raise InvalidInput(
            "{within} must be 0 or more working days, got {value}",
            within=Input("within"),
            value=within,
        )
    if within is not None and overdue_only:
        raise InvalidInput(
            "{within} and {overdue} cannot be combined",
            within=Input("within"),
            overdue=Input("overdue"),
        )
    if limit is not None and limit < 1:
        raise InvalidInput(
            "{limit} must be 1 or more, got {value}", limit=Input("limit"), value=limit
        )
    if as_of is not None:
        dates.supported(as_of, Input("as_of"))
    only = None
    if workflow is not None:
        from casereview.services import filters

        only = filters.workflow(ctx, workflow)
    chosen: tuple[str, ...] = ()
    if clocks:
        from casereview.services import filters

        chosen = filters.clocks(ctx, clocks)
    day = as_of or ctx.clock.today()
    cal = ctx.calendar
    # count_working_days(day, due) <= n exactly when due < the (n+1)th working day after.
    next_before = cal.add_working_days(day, SOON_WORKING_DAYS + 1)
    within_before = cal.add_working_days(day, within + 1) if within is not None else None
    due_before = day if overdue_only else within_before
    # Parallel processes' key dates are listed from `day` up to this day (excluded).
    window = within if within is not None else PROCESS_NEAR_WORKING_DAYS
    process_before = cal.add_working_days(day, window + 1)
    # A limit beyond any number of rows is no limit; the database's integers stop at
    # 2**63 - 1, so a larger one is not handed to it.
    most = None if limit and limit > _ANY else limit
    with ctx.reader() as reader:
        require_reader(ctx, reader)
        extra = None
        near: list[Any] = []
        if day < ctx.clock.today():
            # A past day: the clocks as they stood then, replayed (`services.due_history`).
            from casereview.services import due_history

            then = due_history.open_clocks_on(ctx, reader, day)
            if only is not None:
                then = [r for r in then if _on(only, r.workflow_id, r.workflow_version)]
            if chosen:
                then = [r for r in then if r.clock_id in chosen]
            counts = due_history.counts(
                then, day, next_before=next_before, within_before=within_before
            )
            rows = due_history.ordered(then, due_before=due_before, limit=most)
        else:
            counts = views.open_clock_counts(
                reader,
                day,
                next_before=next_before,
                within_before=within_before,
                workflow=only,
                clocks=chosen,
            )
            rows = list(
                views.open_clocks(
                    reader, day, due_before=due_before, limit=most, workflow=only, clocks=chosen
                )
            )
            # Open actions (docs/actions.md) are deadlines too, among the dated clocks.
            if not chosen:
                extra = _actions_due(
                    reader, day, next_before, within_before, due_before, most, only
                )
            # Like actions, parallel processes' dates are listed for today onwards: a
            # past day's list is the statutory clocks as they stood then.
            if counts.with_processes and not overdue_only and not chosen:
                near = [
                    case
                    for case in views.open_processes(reader, day, process_before)
                    if only is None
                    or _on(only, str(case["workflow_id"]), int(case["workflow_version"]))
                ]
    if extra is not None:
        action_counts, action_rows = extra
        rows = _merged(rows, action_rows, most)
        counts = views.OpenClockCounts(
            open=counts.open + action_counts["open"],
            paused=counts.paused,
            overdue=counts.overdue + action_counts["overdue"],
            due_soon=counts.due_soon + action_counts["due_soon"],
            due_next=counts.due_next + action_counts["due_next"],
            within=counts.within + action_counts["within"],
            with_processes=counts.with_processes,
        )
    items = tuple(_due_item(row, day, cal) for row in rows)
    if near:
        items = _with_process_dates(items, near, day, process_before, cal, limit)
        if limit is not None:
            items = items[:limit]
    matching = (
        counts.overdue if overdue_only else counts.within if within is not None else counts.open
    )
    summary = DueSummary(
        open=counts.open,
        overdue=counts.overdue,
        due_soon=counts.due_soon,
        due_next_5=counts.due_next,
        paused=counts.paused,
        matching=matching,
        shown=len(items),
    )
    present = sorted({i.workflow for i in items if i.workflow})
    labels: tuple[tuple[str, str], ...] = ()
    if len(present) > 1:
        # Only then are the definitions read: the workflow files' short labels.
        from casereview.services import filters

        known = filters.short_labels(ctx)
        labels = tuple((w, known.get(w, w)) for w in present)
    return DueList(
        day.isoformat(), within, overdue_only, limit, summary, items, workflow, chosen, labels
    )


def _on(only: tuple[str, int | None], workflow_id: str, version: int | None) -> bool:
    """Whether a case on `workflow_id` v`version` is one the workflow filter keeps."""
    return workflow_id == only[0] and only[1] in (None, version)


def _actions_due(
    reader: Any,
    day: dt.date,
    next_before: dt.date,
    within_before: dt.date | None,
    due_before: dt.date | None,
    limit: int | None,
    only: tuple[str, int | None] | None,
) -> tuple[dict[str, int], list[OpenClockRow]] | None:
    """Open actions as `due` counts and rows (clock id `action-N`, kind `action`, warned
    28 days ahead); None when no action is open."""
    from casereview.store import actions_due as plan_rows
    from casereview.store.dashboard_queries import OpenClockRow

    counts = plan_rows.open_action_counts(
        reader,
        day.isoformat(),
        warn_until=(day + dt.timedelta(days=plan_rows.WARNING_DAYS)).isoformat(),
        next_before=next_before.isoformat(),
        within_before=within_before.isoformat() if within_before else "",
        workflow=only,
    )
    if not counts["open"]:
        return None
    found = plan_rows.open_action_rows(
        reader, before=due_before.isoformat() if due_before else None, limit=limit, workflow=only
    )
    rows = []
    # As the clock rows (`dashboard_queries._row`): one string for each repeated value.
    one = sys.intern
    for r in found:
        due = dt.date.fromisoformat(str(r["due_on"]))
        added_on = one(str(r["added_on"]))
        rows.append(
            OpenClockRow(
                ref=str(r["ref"]),
                pseudonym=str(r["pseudonym"]),
                case_state=one(str(r["case_state"])),
                clock_id=one(f"action-{r['action']}"),
                label=one(f"Action {r['action']} ({r['agency']})"),
                kind="action",
                state="running",
                anchor_on=added_on,
                due_on=one(str(r["due_on"])),
                warn_from=one((due - dt.timedelta(days=plan_rows.WARNING_DAYS)).isoformat()),
                started_on=added_on,
                remaining_days=None,
                paused_days=0,
                ends_on_due=False,
                workflow_id=one(str(r["workflow_id"])),
            )
        )
    return counts, rows


def _merged(
    clocks_shown: Sequence[OpenClockRow], actions: Sequence[OpenClockRow], limit: int | None
) -> list[OpenClockRow]:
    """Clock rows (dated ones first, soonest first) and action rows merged by due date,
    at most `limit`: the actions go among the dated clocks, before undated and paused
    ones."""
    dated = [r for r in clocks_shown if r.state == "running" and r.due_on is not None]
    rest = list(clocks_shown[len(dated) :])
    merged = sorted([*dated, *actions], key=lambda r: (r.due_on or "", r.ref, r.clock_id))
    found = merged + rest
    return found if limit is None else found[:limit]


def _due_item(row: OpenClockRow, day: dt.date, cal: WorkingDayCalendar) -> DueItem:
    due = _date(row.due_on)
    if row.state == "paused":
        status, left, due_text = "paused", None, None
    else:
        status = clocks.status_of_running(due, _date(row.warn_from), row.ends_on_due, day)
        if due is None and row.due_on:
            status = "undetermined"  # a stored due date that is not a date
        left = _working_days(cal, day, due)
        due_text = row.due_on
    return DueItem(
        ref=row.ref,
        pseudonym=row.pseudonym,
        case_state=row.case_state,
        clock_id=row.clock_id,
        label=row.label,
        kind=row.kind,
        state=row.state,
        status=status,
        anchor_on=row.anchor_on,
        started_on=row.started_on,
        due_on=due_text,
        working_days_left=left,
        remaining_days=row.remaining_days if row.state == "paused" else None,
        workflow=row.workflow_id,
    )


def _with_process_dates(
    items: tuple[DueItem, ...],
    cases: list[dict[str, object]],
    day: dt.date,
    before: dt.date,
    cal: WorkingDayCalendar,
    limit: int | None = None,
) -> tuple[DueItem, ...]:
    """The clock rows with every near key date of a parallel process that is not
    concluded (from `day`, before `before`), as rows of kind `process`, soonest first
    among the dated rows; the first `limit` of them when a limit is given (only those
    are built: a national database has thousands of near process dates)."""
    from casereview.domain import processes

    near: list[tuple[str, str, str, processes.KeyDate, dict[str, object]]] = []
    for case in cases:
        try:
            records = json.loads(str(case["processes"]))
        except ValueError:
            continue  # `audit verify` reports a projection that is not JSON
        for key in processes.key_dates(records if isinstance(records, list) else []):
            if day <= key.on < before:
                clock_id = f"process_{key.number}_{key.date_field}"
                near.append((key.on.isoformat(), str(case["ref"]), clock_id, key, case))
    if not near:
        return items
    if limit is not None:
        near = heapq.nsmallest(limit, near, key=lambda n: n[:3])
    found = [
        DueItem(
            ref=ref,
            pseudonym=str(case["pseudonym"]),
            case_state=str(case["case_state"]),
            clock_id=clock_id,
            label=f"{key.type} (parallel process {key.number}): {key.date_field}",
            kind="process",
            state="running",
            status="due_soon",
            anchor_on=None,
            started_on=None,
            due_on=on,
            working_days_left=_working_days(cal, day, key.on),
            remaining_days=None,
            workflow=str(case["workflow_id"]),
        )
        for on, ref, clock_id, key, case in near
    ]
    dated = [i for i in items if i.due_on is not None and i.state != "paused"]
    rest = [i for i in items if i.due_on is None or i.state == "paused"]
    merged = sorted([*dated, *found], key=lambda i: (str(i.due_on), i.ref, i.clock_id))
    return (*merged, *rest)


def _date(text: str | None) -> dt.date | None:
    """A stored date; None for one that is not a date (`audit verify` reports it: one
    stored value must not stop the list)."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _working_days(cal: WorkingDayCalendar, day: dt.date, due: dt.date | None) -> int | None:
    """Working days from `day` to `due`; None when `due` is outside the calendar's range
    (a stored value from before dates were checked: shown as it is, without a count)."""
    if due is None:
        return None
    try:
        return cal.count_working_days(day, due)
    except OutOfRange:
        return None
