"""Parallel processes: a criminal trial, an inquest, a national review, recorded on a case
as the workflow's `[processes]` table describes.

A process is a record on its case, not a state: an `add` trigger registers one (numbered
1, 2, … on the case: the engine writes the number into the event), an `update` trigger
names one by number and changes what it records (its dates, status, reference). Replay
keeps every process of a case (`Replayed.processes`); the case row keeps them too, for
`due`, which lists a key date of a process that is not concluded when it is near.

Pure: the definition's table, the case's processes and an event's fields in; the
processes after the event, or a refusal, out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Only named in annotations: `due` reads the process dates of every case without
    # loading the workflow model (pydantic, about 100 ms of its start).
    from casereview.domain.workflow.model import Processes

Records = dict[str, dict[str, Any]]
"""A case's processes: number -> the process (`apply`'s record)."""


def refusal(
    table: Processes,
    processes: Mapping[str, Mapping[str, Any]],
    trigger_id: str,
    given: Mapping[str, Any],
    ref: str,
) -> str | None:
    """Why `trigger_id`, given these fields, may not record a process on case `ref`
    (None: it may, or it records none)."""
    if trigger_id in table.add and table.number in given:
        return f"{table.number} is given by casereview when a process is registered"
    if trigger_id in table.update:
        number = given.get(table.number)
        if number is not None and number not in processes:
            known = ", ".join(sorted(processes, key=_order)) or "none"
            return f"case {ref} has no parallel process {number!r} (its processes: {known})"
    return None


def _order(number: str) -> tuple[int, str]:
    return (int(number), "") if number.isdigit() else (0, number)


def next_number(processes: Mapping[str, Any]) -> str:
    """The number the next process registered on the case gets."""
    return str(len(processes) + 1)


def apply(
    table: Processes,
    processes: Records,
    *,
    trigger: str,
    seq: int,
    on: str,
    fields: Mapping[str, Any],
) -> str | None:
    """Record what one event does to the case's processes, in place. Returns a problem
    (a registration without its number, an update of a process the case lacks) for
    replay to report; None otherwise."""
    register = trigger in table.add
    if not register and trigger not in table.update:
        return None
    number = fields.get(table.number)
    if not isinstance(number, str):
        return f"{trigger} names no process ({table.number})"
    if register:
        if number in processes:
            return f"{trigger} registers process {number}, which the case already has"
        processes[number] = {
            "number": number,
            "type": fields.get(table.type),
            "reference": fields.get(table.reference) if table.reference else None,
            "lead": fields.get(table.lead) if table.lead else None,
            "status": fields.get(table.status) if table.status else None,
            "dates": {d: fields[d] for d in table.dates if d in fields},
            "concluded": table.status is not None and fields.get(table.status) in table.concluded,
            "registered_on": on,
            "registered_seq": seq,
            "updated_on": on,
            "updated_seq": seq,
        }
        return None
    found = processes.get(number)
    if found is None:
        return f"{trigger} updates process {number}, which the case does not have"
    changed = dict(found)
    for key, field_id in (
        ("type", table.type),
        ("reference", table.reference),
        ("lead", table.lead),
        ("status", table.status),
    ):
        if field_id is not None and field_id in fields:
            changed[key] = fields[field_id]
    changed["dates"] = {**found["dates"], **{d: fields[d] for d in table.dates if d in fields}}
    changed["concluded"] = changed.get("status") in table.concluded
    changed["updated_on"] = on
    changed["updated_seq"] = seq
    processes[number] = changed
    return None


def listed(processes: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The processes in number order, as the case row and views keep them."""
    return [dict(processes[n]) for n in sorted(processes, key=_order)]


@dataclass(frozen=True)
class KeyDate:
    """A key date of a process that is not concluded: for `due`."""

    number: str
    type: str
    date_field: str
    on: dt.date


def key_dates(processes: list[Mapping[str, Any]]) -> list[KeyDate]:
    """Every key date of the processes that are not concluded, in date order."""
    found = []
    for process in processes:
        if process.get("concluded"):
            continue
        for date_field, value in dict(process.get("dates") or {}).items():
            try:
                on = dt.date.fromisoformat(str(value))
            except ValueError:
                continue
            found.append(KeyDate(str(process["number"]), str(process["type"]), date_field, on))
    return sorted(found, key=lambda k: (k.on, k.number, k.date_field))
