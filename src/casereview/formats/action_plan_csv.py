"""Reading an action plan kept in a spreadsheet: the CSV layout of docs/actions.md
("Importing a plan"), parsed into rows of named values, each with its row number. Pure:
the checks of what the values mean are the plan's own (`services.actions`)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

COLUMNS = (
    "rec",
    "recommendation",
    "source",
    "section",
    "agencies",
    "scope",
    "action",
    "text",
    "agency",
    "owner",
    "due_on",
)
"""Every column the layout knows; `rec` is required, the rest as each row needs."""

MAX_ROWS = 5000


class LayoutError(ValueError):
    """The file is not in the layout: the message names the row and column."""


@dataclass(frozen=True)
class Row:
    number: int  # the row in the file, the header being row 1
    values: dict[str, str]  # column -> value, stripped; empty cells left out


def parse(data: bytes) -> list[Row]:
    """The rows of a CSV file in the layout, or `LayoutError` naming row and column."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LayoutError(f"the file is not UTF-8 text (byte {exc.start + 1})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise LayoutError("the file is empty; its first row names the columns")
        names = [h.strip().lower() for h in header]
        for at, name in enumerate(names, start=1):
            if name not in COLUMNS:
                raise LayoutError(
                    f"row 1, column {at}: unknown column {name[:40]!r} "
                    f"(the layout's: {', '.join(COLUMNS)})"
                )
        if len(set(names)) != len(names):
            raise LayoutError("row 1: a column is named twice")
        if "rec" not in names:
            raise LayoutError("row 1: the column 'rec' (the recommendation's number) is required")
        rows: list[Row] = []
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(names):
                raise LayoutError(f"row {number}: {len(cells)} cells, but {len(names)} columns")
            if len(rows) >= MAX_ROWS:
                raise LayoutError(f"more than {MAX_ROWS} rows; split the file")
            values = {n: c.strip() for n, c in zip(names, cells, strict=False) if c.strip()}
            rows.append(Row(number, values))
    except csv.Error as exc:
        raise LayoutError(f"row {reader.line_num}: not CSV ({exc})") from None
    if not rows:
        raise LayoutError("the file has a header but no rows")
    return rows
