"""Linking a case to another (siblings, the same incident, a thematic review covering
both): the workflow's `[links]` table names the trigger that records it, so a link is an
ordinary case step (`services.cases.advance` checks the roles, the fields and that the
other case exists, and writes the one event)."""

from __future__ import annotations

import datetime as dt

from casereview.errors import Refused
from casereview.services import cases, refs
from casereview.services.context import ServiceContext


def link_case(
    ctx: ServiceContext,
    ref: str,
    other: str,
    relation: str,
    *,
    on: dt.date | None = None,
    rationale: str | None = None,
) -> cases.AdvanceResult:
    """Record that case `ref` is linked to case `other` as `relation`."""
    from casereview.store import dashboard_queries as views

    with ctx.reader() as reader:
        row = views.case_row(reader, ref)
    if row is None:
        raise refs.no_case(ref)
    definition = cases._definition_for(ctx, row)
    table = definition.links
    if table is None:
        raise Refused(f"workflow {definition.label} records no links between cases")
    return cases.advance(
        ctx,
        ref,
        table.link[0],
        on=on,
        rationale=rationale,
        fields={table.other: other, table.relation: relation},
    )
