"""Reading a tracker: the cells of one sheet of an `.xlsx`, `.ods` or `.csv` file, and
reading a date from a cell.

`read_sheet` gives the sheet's rows as the spreadsheet numbers them (row 1 first, blank
rows kept), each cell as the spreadsheet holds it: text, a number, a date, or "" for an
empty cell (a merged cell's value is in its first cell only). Workbooks are read with
python-calamine (one reader for both `.xlsx` and `.ods`, several times faster than
openpyxl at tens of thousands of rows: docs/performance.md); CSV with the standard
library.

`read_date` is the one rule for which spellings of a date a sheet may hold: a real date
cell, ISO `2025-04-03`, a day and a month name (`3 April 2025`, `3-Apr-25`), or numbers
in the order the sheet declares (`dd/mm/yyyy` or `mm/dd/yyyy`; `/`, `.` or `-` between
them; two-digit years are 20yy). A numeric date that could be read both ways is never
guessed: without a declaration it is refused, and so is one only the undeclared order
can read.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SUFFIXES = (".xlsx", ".ods", ".csv")
"""The kinds of file a tracker may be."""

DAY_FIRST, MONTH_FIRST = "dd/mm/yyyy", "mm/dd/yyyy"
DATE_FORMATS = (DAY_FIRST, MONTH_FIRST)
"""The numeric date orders a sheet may declare (ISO and named months need none)."""

Cell = str | float | int | bool | dt.date | dt.datetime | dt.timedelta | dt.time


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: list[list[Any]]  # rows[0] is the spreadsheet's row 1


class SheetError(ValueError):
    """The file cannot be read as a tracker (the message says why)."""


def read_sheet(data: bytes, suffix: str, sheet: str | None = None) -> Sheet:
    """The named sheet (default: the first) of a workbook or CSV file's `data`."""
    suffix = suffix.lower()
    if suffix == ".csv":
        return Sheet(sheet or "csv", _csv_rows(data))
    if suffix not in SUFFIXES:
        raise SheetError(f"a tracker is an {', '.join(SUFFIXES)} file, not {suffix or 'this'}")
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = list(book.sheet_names)
        if not names:
            raise SheetError("the workbook has no sheets")
        name = names[0] if sheet is None else _find_sheet(names, sheet)
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except SheetError:
        raise
    except Exception as exc:  # calamine raises its own errors for damaged files
        raise SheetError(f"the file cannot be read as {suffix}: {type(exc).__name__}") from None
    return Sheet(name, [list(row) for row in rows])


def _find_sheet(names: Sequence[str], wanted: str) -> str:
    for name in names:
        if name.strip().casefold() == wanted.strip().casefold():
            return name
    raise SheetError(f"no sheet {wanted!r}; the workbook has {', '.join(map(repr, names))}")


def _csv_rows(data: bytes) -> list[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")  # Excel's "CSV" on Windows
        except UnicodeDecodeError:
            raise SheetError("the CSV file is neither UTF-8 nor Windows-1252 text") from None
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""))]


def cell_text(value: Any) -> str:
    """A cell as text: whole numbers without `.0`, dates as ISO, text with its spaces
    collapsed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(str(value).split())


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?")
_NUMERIC = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})")
_NAMED = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[\s/-]+([A-Za-z]+)\.?,?[\s/-]+(\d{4}|\d{2})")
_NAMED_US = re.compile(r"([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")


class DateProblem(ValueError):
    """Why a cell is not a date (`what`), and what would fix it (`fix`)."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(what)
        self.what = what
        self.fix = fix


def read_date(value: Any, declared: Sequence[str]) -> dt.date:
    """The date a cell holds; DateProblem if it holds none, or one that could be read
    two ways. `declared` is the mapping's `date_formats` (empty: none declared, and
    numeric dates are read day first only when no other reading is possible)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise DateProblem(
            f"{cell_text(value)} is a number, not a date",
            "enter a date, or format the cell as a date",
        )
    text = cell_text(value)
    found = _ISO.fullmatch(text)
    if found:
        return _date(int(found[1]), int(found[2]), int(found[3]), text)
    found = _NAMED.fullmatch(text)
    if found and found[2].lower() in _MONTHS:
        return _date(_year(found[3]), _MONTHS[found[2].lower()], int(found[1]), text)
    found = _NAMED_US.fullmatch(text)
    if found and found[1].lower() in _MONTHS:
        return _date(_year(found[3]), _MONTHS[found[1].lower()], int(found[2]), text)
    found = _NUMERIC.fullmatch(text)
    if not found:
        raise DateProblem(
            f"{text!r} is not a date",
            "write it as dd/mm/yyyy (or as the sheet's declared date_formats), or as 2025-04-03",
        )
    first, second, year = int(found[1]), int(found[3]), _year(found[4])
    readings: dict[str, dt.date] = {}
    for order, (day, month) in ((DAY_FIRST, (first, second)), (MONTH_FIRST, (second, first))):
        try:
            readings[order] = dt.date(year, month, day)
        except ValueError:
            continue
    if not readings:
        raise DateProblem(f"{text!r} is not a real calendar date", "correct the date")
    allowed = [order for order in (declared or (DAY_FIRST,)) if order in readings]
    distinct = {readings[order] for order in allowed}
    if not declared and len(set(readings.values())) > 1:
        raise DateProblem(
            f"{text!r} could be {readings[DAY_FIRST].isoformat()} (dd/mm) or "
            f"{readings[MONTH_FIRST].isoformat()} (mm/dd), and the mapping declares no "
            "date format",
            'declare date_formats = ["dd/mm/yyyy"] (or ["mm/dd/yyyy"]) under [sheet] '
            "in the mapping",
        )
    if len(distinct) > 1:
        raise DateProblem(
            f"{text!r} could be read as either of the declared formats ({', '.join(allowed)})",
            "declare one numeric date format, or write the date as 2025-04-03",
        )
    if not distinct:
        only = next(iter(readings))
        raise DateProblem(
            f"{text!r} is not a date in {' or '.join(declared or (DAY_FIRST,))} "
            f"(it reads only as {only})",
            "correct the date, or declare the format the sheet uses in date_formats",
        )
    return distinct.pop()


def _year(text: str) -> int:
    return 2000 + int(text) if len(text) == 2 else int(text)


def _date(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise DateProblem(f"{text!r} is not a real calendar date", "correct the date") from None
