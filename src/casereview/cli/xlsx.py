"""The `--xlsx FILE` options: tables the commands already show, written as a workbook
(`formats.xlsx`) whole or not at all (`infra.output`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from casereview.formats import xlsx
from casereview.infra import output
from casereview.presenters import due as due_words

if TYPE_CHECKING:
    from casereview.services.due import DueList

_DUE_KINDS = {
    "anchor_on": "date",
    "started_on": "date",
    "due_on": "date",
    "working_days_left": "number",
    "remaining_days": "number",
}


def write(path: Path, tables: Sequence[xlsx.Table]) -> None:
    """Write the workbook to `path` (a file that exists is replaced only whole)."""
    data = xlsx.workbook(tables)
    with output.destination(path, force=True) as stream:
        stream.write(data)


def due_table(result: DueList) -> xlsx.Table:
    """The open clocks as `due --csv` lists them, with real dates and status colours."""
    columns = [
        xlsx.Column(key, key.replace("_", " "), _DUE_KINDS.get(key, "text"))
        for key in due_words.DUE_COLUMNS
    ]
    rows = [due_words.clock_record(item) for item in result.items]
    return xlsx.Table("Due", columns, rows, status_key="status", notes=(due_words.heading(result),))
