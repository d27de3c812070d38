"""Parallel processes on a case (a trial, an inquest, a national review): registering one,
updating one, listing them.

A process is recorded by the workflow's own triggers (its `[processes]` table names
them), so registering and updating are ordinary case steps: `services.cases.advance`
checks the roles and fields and writes the one event. This module maps what a person
gives (the type, the reference, key dates) onto the fields the workflow names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from casereview.domain.workflow.model import Processes, WorkflowDefinition
from casereview.errors import Input, Refused
from casereview.services import cases, refs
from casereview.services.context import ServiceContext


@dataclass(frozen=True)
class ProcessRecorded:
    """A process registered or updated: the step that recorded it and the process now."""

    ref: str
    number: str
    seq: int
    trigger: str
    process: dict[str, Any]


def _table(ctx: ServiceContext, ref: str) -> tuple[WorkflowDefinition, Processes]:
    from casereview.store import dashboard_queries as views

    with ctx.reader() as reader:
        row = views.case_row(reader, ref)
    if row is None:
        raise refs.no_case(ref)
    definition = cases._definition_for(ctx, row)
    if definition.processes is None:
        raise Refused(f"workflow {definition.label} records no parallel processes")
    return definition, definition.processes


def _fields(
    table: Processes,
    *,
    process_type: str | None,
    reference: str | None,
    lead: str | None,
    status: str | None,
    dates: Mapping[str, str],
) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, field_id, value in (
        ("type", table.type, process_type),
        ("reference", table.reference, reference),
        ("lead", table.lead, lead),
        ("status", table.status, status),
    ):
        if value is None:
            continue
        if field_id is None:
            raise Refused(
                "this workflow's parallel processes record no {name}",
                name=Input(name),
            )
        fields[field_id] = value
    for date_field, value in dates.items():
        if date_field not in table.dates:
            known = ", ".join(table.dates) or "none"
            raise Refused(
                f"{date_field!r} is not a key date of a parallel process (key dates: {known})"
            )
        fields[date_field] = value
    return fields


def add_process(
    ctx: ServiceContext,
    ref: str,
    *,
    process_type: str,
    reference: str | None = None,
    lead: str | None = None,
    status: str | None = None,
    dates: Mapping[str, str] | None = None,
    on: dt.date | None = None,
    rationale: str | None = None,
) -> ProcessRecorded:
    """Register a parallel process on case `ref` with the workflow's register trigger."""
    _, table = _table(ctx, ref)
    fields = _fields(
        table,
        process_type=process_type,
        reference=reference,
        lead=lead,
        status=status,
        dates=dates or {},
    )
    result = cases.advance(ctx, ref, table.add[0], on=on, rationale=rationale, fields=fields)
    found = list_processes(ctx, ref)
    return ProcessRecorded(ref, str(found[-1]["number"]), result.seq, result.trigger, found[-1])


def update_process(
    ctx: ServiceContext,
    ref: str,
    number: str,
    *,
    process_type: str | None = None,
    reference: str | None = None,
    lead: str | None = None,
    status: str | None = None,
    dates: Mapping[str, str] | None = None,
    on: dt.date | None = None,
    rationale: str | None = None,
) -> ProcessRecorded:
    """Change parallel process `number` of case `ref` with the workflow's update trigger."""
    _, table = _table(ctx, ref)
    fields = _fields(
        table,
        process_type=process_type,
        reference=reference,
        lead=lead,
        status=status,
        dates=dates or {},
    )
    fields[table.number] = number
    result = cases.advance(ctx, ref, table.update[0], on=on, rationale=rationale, fields=fields)
    found = {str(p["number"]): p for p in list_processes(ctx, ref)}
    return ProcessRecorded(ref, number, result.seq, result.trigger, found[number])


def list_processes(ctx: ServiceContext, ref: str) -> list[dict[str, Any]]:
    """The case's parallel processes in number order (what `case show` lists)."""
    return [dict(p) for p in cases.show_case(ctx, ref).processes]
