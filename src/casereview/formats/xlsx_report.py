"""The annual report as an `.xlsx` workbook (`report --format xlsx`).

A "Figures" sheet with the rows of the report's CSV (each figure, then the rapid
reviews on time and late per quarter, then, where several review types are present,
each type's own figures) with values as numbers; with `--detail`, a
"Cases" sheet listing the cases behind each figure, dates as dates. Written by
`formats.xlsx`, so the header is frozen and filtered and text is never a formula. The
CSV layout it follows: docs/report.md ("Formats").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from casereview.domain.reporting.figures import NOT_APPLICABLE, Report
from casereview.formats import xlsx
from casereview.formats.report import actions as actions_section

_FIGURE_COLUMNS = (
    xlsx.Column("record", "record"),
    xlsx.Column("figure", "figure"),
    xlsx.Column("section", "section"),
    xlsx.Column("label", "label"),
    xlsx.Column("value", "value", "number"),
    xlsx.Column("unit", "unit"),
    xlsx.Column("part_of", "part of"),
)

_ACTION_COLUMNS = (
    *_FIGURE_COLUMNS[:4],
    xlsx.Column("value", "value", "number"),
    xlsx.Column("unit", "unit"),
    xlsx.Column("ref", "ref"),
    xlsx.Column("due_on", "due", "date"),
)


def workbook(report: Report, *, detail: bool) -> bytes:
    """The report's workbook."""
    figures: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []
    extra: list[str] = []
    for figure in report.figures:
        figures.append(
            {
                "record": "figure",
                "figure": figure.id,
                "section": figure.section,
                "label": figure.label,
                "value": figure.value if figure.applicable else NOT_APPLICABLE,
                "unit": figure.unit,
                "part_of": figure.part_of or "",
            }
        )
        if detail:
            extra += [c for c in figure.columns if c not in extra]
            for row in figure.records():
                cases.append({"figure": figure.id, **row})
    for q in report.by_quarter:
        for name, value in (("on_time", q.on_time), ("late", q.late)):
            figures.append(
                {
                    "record": "quarter",
                    "figure": f"rapid_reviews.{name}",
                    "section": "rapid_reviews",
                    "label": q.quarter.label,
                    "value": value if q.applicable else NOT_APPLICABLE,
                    "unit": "cases",
                }
            )
    figure_columns: tuple[xlsx.Column, ...] = _FIGURE_COLUMNS
    if report.mixed:
        # Each review type's own figures, after everyone's, marked with its workflow.
        figure_columns = (*_FIGURE_COLUMNS, xlsx.Column("workflow", "workflow"))
        for review in report.review_types:
            for group in review.groups:
                for figure in group.figures:
                    figures.append(
                        {
                            "record": "type_figure",
                            "figure": figure.id,
                            "section": group.id,
                            "label": f"{review.label}: {figure.label}",
                            "value": figure.value if figure.applicable else NOT_APPLICABLE,
                            "unit": figure.unit,
                            "part_of": figure.part_of or "",
                            "workflow": review.workflow,
                        }
                    )
    tables = [
        xlsx.Table(
            "Figures",
            figure_columns,
            figures,
            notes=(f"casereview report: {report.period.label}",),
        )
    ]
    if detail:
        columns = [
            xlsx.Column("figure", "figure"),
            xlsx.Column("ref", "ref"),
            xlsx.Column("pseudonym", "pseudonym"),
        ]
        for name in extra:
            if name in ("ref", "pseudonym"):
                continue
            sample = next((r.get(name) for r in cases if r.get(name) not in (None, "")), None)
            kind = "date" if _is_date(sample) else "number" if _is_number(sample) else "text"
            columns.append(xlsx.Column(name, name.replace("_", " "), kind))
        tables.append(xlsx.Table("Cases", columns, cases))
    if report.actions is not None:
        tables.append(
            xlsx.Table(
                "Actions",
                _ACTION_COLUMNS,
                actions_section.table_rows(report.actions),
                notes=(f"Recommendations and actions: {report.period.label}",),
            )
        )
    return xlsx.workbook(tables)


def _is_date(value: Any) -> bool:
    if isinstance(value, dt.date):
        return True
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
