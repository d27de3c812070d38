"""Writing `.xlsx` workbooks people open in Excel or LibreOffice (xlsxwriter).

Every sheet is a table: a frozen, bold header row with an autofilter, columns as wide as
their contents (within limits), dates as real dates (shown `d mmm yyyy`, so no reader
takes 03/04 the wrong way round), whole numbers as numbers, and every other value as a
text cell, never a formula (`strings_to_formulas` is off and text is written as
strings; control characters are shown as escapes, `formats.text.visible`). A sheet may
name a status column: its rows are coloured red when overdue and amber when due soon.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from casereview.formats.text import visible

MIN_WIDTH, MAX_WIDTH = 8, 60
STATUS_COLOURS = {"overdue": "#F4C7C3", "due_soon": "#FCE8B2"}
"""Fill colours of rows whose status column holds these words."""


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str = "text"  # text | date | number


@dataclass(frozen=True)
class Table:
    name: str  # the sheet's name (at most 31 characters)
    columns: Sequence[Column]
    rows: Sequence[Mapping[str, Any]]
    status_key: str | None = None
    hidden: bool = False
    notes: Sequence[str] = field(default_factory=tuple)  # lines above the table


def workbook(tables: Sequence[Table]) -> bytes:
    """The workbook holding `tables`, one sheet each, as bytes."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    header = book.add_format({"bold": True, "bg_color": "#DDDDDD", "border": 1})
    day = book.add_format({"num_format": "d mmm yyyy"})
    fills = {word: book.add_format({"bg_color": colour}) for word, colour in STATUS_COLOURS.items()}
    for table in tables:
        sheet = book.add_worksheet(table.name[:31])
        top = len(table.notes)
        for at, line in enumerate(table.notes):
            sheet.write_string(at, 0, visible(line))
        widths = [max(MIN_WIDTH, len(c.title) + 2) for c in table.columns]
        for column, spec in enumerate(table.columns):
            sheet.write_string(top, column, spec.title, header)
        for offset, row in enumerate(table.rows, start=1):
            for column, spec in enumerate(table.columns):
                shown = _write(sheet, top + offset, column, spec, row.get(spec.key), day)
                widths[column] = max(widths[column], min(MAX_WIDTH, shown + 2))
        for column, width in enumerate(widths):
            sheet.set_column(column, column, width)
        last_row = top + max(len(table.rows), 1)
        last_col = max(len(table.columns) - 1, 0)
        sheet.freeze_panes(top + 1, 0)
        sheet.autofilter(top, 0, last_row, last_col)
        keys = [c.key for c in table.columns]
        if table.status_key in keys and table.rows:
            letter = _letter(keys.index(str(table.status_key)))
            for word, fill in fills.items():
                sheet.conditional_format(
                    top + 1,
                    0,
                    last_row,
                    last_col,
                    {
                        "type": "formula",
                        "criteria": f'=${letter}{top + 2}="{word}"',
                        "format": fill,
                    },
                )
        if table.hidden:
            sheet.hide()
    book.close()
    return buffer.getvalue()


def _write(sheet: Any, row: int, column: int, spec: Column, value: Any, day: Any) -> int:
    """Write one cell; the width it needs."""
    if value is None or value == "":
        return 0
    if spec.kind == "date":
        when = _as_date(value)
        if when is not None:
            sheet.write_datetime(row, column, dt.datetime(when.year, when.month, when.day), day)
            return 11
    if spec.kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        sheet.write_number(row, column, value)
        return len(str(value))
    text = ("yes" if value else "no") if isinstance(value, bool) else visible(str(value))
    sheet.write_string(row, column, text)
    return len(text)


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
