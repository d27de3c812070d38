"""The annual report's figures on recommendations and actions (`domain.reporting.actions`).

Called by the report service inside its read transaction: reads each case's plan
events (`store.actions_report`), replays the plan as at the report's day and counts it,
for the cases of every workflow that declares an action plan (its `[action_plan]`
table). No workflow read has one: no section (None), as a figure no workflow measures
is "not applicable".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

from casereview.domain.reporting.actions import ActionFigures, collect, plan_as_at
from casereview.errors import CaseReviewError
from casereview.services.context import ServiceContext
from casereview.store import actions_report as source

if TYPE_CHECKING:
    from casereview.domain.actions import Plan
    from casereview.domain.reporting.figures import Period
    from casereview.store.database import Connection


def action_figures(
    ctx: ServiceContext, conn: Connection, period: Period, as_at: dt.date
) -> ActionFigures | None:
    """The section for `period`, as at `as_at`, or None when no case's workflow has an
    action plan."""
    planned: dict[tuple[str, int, str], bool] = {}
    labels: set[str] = set()
    for key in source.case_workflows(conn):
        try:
            definition = ctx.registry.get_exact(*key)
        except CaseReviewError:
            continue  # left out, as the report leaves out its cases
        planned[key] = definition.action_plan is not None
        if planned[key]:
            labels.add(definition.label)
    if not labels:
        return None

    def replayed() -> Iterator[tuple[str, Plan]]:
        for case, events in source.plan_events(conn):
            key = (str(case["workflow_id"]), int(case["workflow_version"]),
                   str(case["workflow_hash"]))  # fmt: skip
            if planned.get(key):
                yield str(case["ref"]), plan_as_at(events, as_at)

    return collect(replayed(), period, as_at, ctx.calendar, workflows=sorted(labels))
