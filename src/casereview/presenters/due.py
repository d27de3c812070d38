"""The due list as people and scripts read it: its heading, its summary sentence, and the
stable record of each open clock (the keys of its JSON and the CSV header, documented
in docs/views.md: add keys, never rename or drop them).

Imports nothing heavy: the dashboard is the command that runs most often.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from casereview.errors import Input, Speller
from casereview.presenters.words import day, plural

if TYPE_CHECKING:
    from collections.abc import Mapping

    from casereview.formats.xlsx import Table
    from casereview.services.due import DueItem, DueList

DUE_COLUMNS = (
    "ref",
    "pseudonym",
    "case_state",
    "clock_id",
    "label",
    "kind",
    "state",
    "status",
    "anchor_on",
    "started_on",
    "due_on",
    "working_days_left",
    "remaining_days",
    "workflow",
)
"""The keys of each open clock's record, in this order."""


def heading(result: DueList) -> str:
    """`Open clocks on Mon 2026-11-23`."""
    return f"Open clocks on {day(dt.date.fromisoformat(result.as_of))}"


def summary_line(
    result: DueList, spell: Speller, clock_names: Mapping[str, str] | None = None
) -> str:
    """The counts over every open clock, whatever the rows shown; `spell` writes the
    input that shows every row as the front end offers it. "Due soon" is the status's
    one meaning (`domain.clock_status`): inside the clock's own warning window, so the
    summary counts exactly the rows whose status says so. A clock filter is named by
    `clock_names` (id to label) where given, else by its ids."""
    s = result.summary
    line = (
        f"{s.overdue} overdue, {s.due_soon} due soon, "
        f"{s.paused} paused ({plural(s.open, 'open clock')}"
    )
    if result.workflow is not None:
        line += f" of {result.workflow} cases"
    if result.clocks and clock_names:
        line += f": {', '.join(clock_names.get(c, c) for c in result.clocks)}"
    elif result.clocks:
        line += f" with clock id{'s' if len(result.clocks) > 1 else ''} {', '.join(result.clocks)}"
    if s.shown < s.matching:
        show_all = spell(Input("all"))
        line += f"; the {s.shown} most urgent of {s.matching} shown, {show_all} for every one"
    elif s.matching != s.open:
        line += f"; {s.matching} shown"
    line += "). Left: working days from the as-of date to the due date."
    return line


def due_json(result: DueList) -> dict[str, Any]:
    """The documented JSON of the due list."""
    return {
        "as_of": result.as_of,
        "within": result.within,
        "overdue_only": result.overdue_only,
        "limit": result.limit,
        "summary": dataclasses.asdict(result.summary),
        "clocks": [clock_record(item) for item in result.items],
        "workflow": result.workflow,
        "clock": list(result.clocks) or None,
    }


def clock_record(item: DueItem) -> dict[str, Any]:
    """One open clock, keyed by `DUE_COLUMNS`."""
    values = dataclasses.asdict(item)
    return {key: values[key] for key in DUE_COLUMNS}


_DUE_KINDS = {
    "anchor_on": "date",
    "started_on": "date",
    "due_on": "date",
    "working_days_left": "number",
    "remaining_days": "number",
}


def due_table(result: DueList) -> Table:
    """The open clocks as `due --csv` lists them, as a workbook's sheet with real dates
    and status colours (`due --xlsx`, and the web's download)."""
    from casereview.formats import xlsx

    columns = [
        xlsx.Column(key, key.replace("_", " "), _DUE_KINDS.get(key, "text")) for key in DUE_COLUMNS
    ]
    rows = [clock_record(item) for item in result.items]
    return xlsx.Table("Due", columns, rows, status_key="status", notes=(heading(result),))
