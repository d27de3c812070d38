"""The report as one CSV table, for spreadsheets.

Every row has a `record` kind (`partnership` first, once an admin has named it, with
the name as its label; `figure`, `quarter`, with `--detail` `case`, and where several
review types are present `type_figure`, with a last `workflow` column); the
columns after `pseudonym` are the union of the figures' detail columns. A figure that is
not applicable is written `n/a`. UTF-8 with a byte-order mark, CRLF line ends, and typed
text through the one formula rule of `formats.cells`. The layout: docs/report.md
("Formats").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from casereview.domain.reporting.figures import NOT_APPLICABLE, Cell, Figure, Report
from casereview.formats.cells import safe_cell
from casereview.formats.report import actions as actions_section

_PIECE = 1 << 16  # characters buffered before a piece is handed to the writer
BOM = "\ufeff"  # so Excel reads the file as UTF-8, as the decision-log CSV does

BASE_COLUMNS = (
    "record",
    "figure",
    "section",
    "label",
    "value",
    "unit",
    "part_of",
    "ref",
    "pseudonym",
)


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _value(figure: Figure) -> str:
    return _cell(figure.value) if figure.applicable else NOT_APPLICABLE


def render(report: Report, *, detail: bool) -> str:
    return "".join(chunks(report, detail=detail))


def chunks(report: Report, *, detail: bool) -> Iterator[str]:
    """The table in pieces of whole rows, so a large one can be written as it is made
    (their concatenation is `render`)."""
    extra: list[str] = []
    if detail:
        for figure in report.figures:
            extra += [c for c in figure.columns if c not in extra]
    # Where several review types are present, their own figures follow everyone's
    # (`type_figure` rows), each naming its workflow in a last column.
    typed = ["workflow"] if report.mixed else []
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.DictWriter(
        buffer, fieldnames=[*BASE_COLUMNS, *extra, *typed], lineterminator="\r\n"
    )
    writer.writeheader()
    if report.partnership:
        # The header's one fact that is no figure: a row of its own, before them.
        writer.writerow({"record": "partnership", "label": safe_cell(report.partnership)})
    for figure in report.figures:
        common = {
            "figure": figure.id,
            "section": figure.section,
            "label": figure.label,
            "unit": figure.unit,
            "part_of": figure.part_of or "",
        }
        writer.writerow({**common, "record": "figure", "value": _value(figure)})
        if not detail:
            continue
        for row in figure.records():
            cells = {k: _cell(v) for k, v in row.items() if k not in ("ref", "pseudonym")}
            writer.writerow(
                {
                    **common,
                    **cells,
                    "record": "case",
                    "ref": safe_cell(str(row["ref"])),
                    "pseudonym": safe_cell(str(row["pseudonym"])),
                }
            )
            if buffer.tell() >= _PIECE:
                yield _take(buffer)
    for q in report.by_quarter:
        for name, value in (("on_time", q.on_time), ("late", q.late)):
            writer.writerow(
                {
                    "record": "quarter",
                    "figure": f"rapid_reviews.{name}",
                    "section": "rapid_reviews",
                    "label": q.quarter.label,
                    "value": str(value) if q.applicable else NOT_APPLICABLE,
                    "unit": "cases",
                }
            )
    for kind in report.review_types if report.mixed else ():
        for group in kind.groups:
            for figure in group.figures:
                writer.writerow(
                    {
                        "record": "type_figure",
                        "figure": figure.id,
                        "section": group.id,
                        "label": safe_cell(f"{kind.label}: {figure.label}"),
                        "value": _value(figure),
                        "unit": figure.unit,
                        "part_of": figure.part_of or "",
                        "workflow": kind.workflow,
                    }
                )
    if report.actions is not None:
        for row in actions_section.table_rows(report.actions):
            row.pop("due_on", None)  # in the label; the workbook has it as a date
            for column in ("label", "ref"):
                if column in row:
                    row[column] = safe_cell(str(row[column]))
            writer.writerow({k: _cell(v) for k, v in row.items()})
    yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    """What the buffer holds, emptying it for the next rows."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
