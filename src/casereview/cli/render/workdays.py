"""Output of `casereview workdays …`: plain dates, JSON documents and the explain table.

Results go to stdout, horizon warnings to stderr as `Warning: …` lines (and into the JSON
`warnings` list, so scripts see them too). The JSON shapes are `presenters.workdays`'s.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from rich.table import Table

from casereview.cli.render import console
from casereview.domain.calendar.workdays import Explanation, weekday_name
from casereview.presenters.workdays import counted_json, day_rows, explanation_json, shifted_json


def shifted(operation: Literal["add", "before"], ex: Explanation, *, as_json: bool) -> None:
    """`add` / `before`: the resulting date alone, or a small JSON document."""
    _warn(ex.warnings)
    if not as_json:
        console.print_line(ex.result.isoformat())
        return
    console.print_json_data(shifted_json(operation, ex))


def counted(
    start: dt.date,
    end: dt.date,
    total: int,
    known_through: int,
    warnings: tuple[str, ...],
    *,
    as_json: bool,
) -> None:
    """`count`: the number of working days in (start, end]."""
    _warn(warnings)
    if not as_json:
        console.print_line(str(total))
        return
    console.print_json_data(counted_json(start, end, total, known_through, warnings))


def explained(ex: Explanation, *, as_json: bool) -> None:
    """`explain`: a day-by-day table and a summary sentence, or the same as JSON."""
    _warn(ex.warnings)
    if as_json:
        console.print_json_data(explanation_json(ex))
        return
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    table.add_column("Date")
    table.add_column("Day")
    table.add_column("Count", justify="right")
    table.add_column("Note")

    for day, count, note in day_rows(ex):
        table.add_row(day.isoformat(), weekday_name(day)[:3], count, console.literal(note))

    console.out().print(table)
    console.say(f"{ex.summary()}. Counted {len(ex.counted)}, skipped {len(ex.skipped)}.")


def _warn(warnings: tuple[str, ...]) -> None:
    for message in warnings:
        console.warning(message)
