"""The report's section on recommendations and actions (`domain.reporting.actions`), in
each document format: Markdown lines, an HTML section, JSON data, CSV rows (and the
same rows for the workbook). Each report writer places it with one call, after the
figures; a report whose workflows declare no action plan has no section.

Agencies are the workflow's agency ids; no owner, action text or other personal field
appears. The layout: docs/report.md ("Recommendations and actions").
"""

from __future__ import annotations

import html
from typing import Any

from casereview.domain.reporting.actions import COUNTS, ActionFigures, AgencyCounts

TITLE = "Recommendations and actions"
SECTION = "actions"


def _intro(section: ActionFigures) -> str:
    return (
        f"Recommendations made and actions completed or closed from "
        f"{section.period.start.isoformat()} to {section.period.end.isoformat()}; open "
        f"actions as at {section.as_at.isoformat()}. Workflows: {', '.join(section.workflows)}."
    )


# -- Markdown ------------------------------------------------------------------------------


def markdown_lines(section: ActionFigures, escape: Any) -> list[str]:
    """The section as Markdown lines; `escape` makes typed text inert (the writer's)."""
    lines = [
        "",
        f"## {TITLE}",
        "",
        escape(_intro(section)),
        "",
        "| Figure | Value |",
        "|---|---:|",
        f"| Recommendations made | {section.recommendations} |",
        f"| … of which multi-agency | {section.multi_agency} |",
        "",
        "| Owner agency | " + " | ".join(escape(label) for _, label in COUNTS) + " |",
        "|---|" + "---:|" * len(COUNTS),
    ]
    for agency, counts in (*section.by_agency.items(), ("All agencies", section.total)):
        values = " | ".join(str(counts.value(name)) for name, _ in COUNTS)
        lines.append(f"| {escape(agency)} | {values} |")
    lines += ["", "Oldest open actions:", ""]
    if not section.oldest_open:
        return [*lines, "None."]
    lines += ["| Ref | Action | Agency | Due | Working days overdue |", "|---|---|---|---|---:|"]
    for item in section.oldest_open:
        lines.append(
            f"| {escape(item.ref)} | {escape(item.action)} | {escape(item.agency)} | "
            f"{item.due_on.isoformat()} | {item.working_days_overdue} |"
        )
    return lines


# -- HTML ----------------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def html_section(section: ActionFigures, escape: Any = _e) -> str:
    """The section as one HTML `<section>`, in the report page's table classes."""
    head = "".join(f'<th class="num">{escape(label)}</th>' for _, label in COUNTS)
    rows = []
    for agency, counts in (*section.by_agency.items(), ("All agencies", section.total)):
        cells = "".join(f'<td class="num">{counts.value(name)}</td>' for name, _ in COUNTS)
        rows.append(f"<tr><td>{escape(agency)}</td>{cells}</tr>")
    if section.oldest_open:
        oldest = "".join(
            f"<tr><td>{escape(o.ref)}</td><td>{escape(o.action)}</td>"
            f"<td>{escape(o.agency)}</td><td>{o.due_on.isoformat()}</td>"
            f'<td class="num">{o.working_days_overdue}</td></tr>'
            for o in section.oldest_open
        )
        listed = (
            '<table class="figures" id="oldest-open-actions"><thead><tr><th>Ref</th>'
            "<th>Action</th><th>Agency</th><th>Due</th>"
            '<th class="num">Working days overdue</th></tr></thead>'
            f"<tbody>{oldest}</tbody></table>"
        )
    else:
        listed = '<p class="note">No open actions.</p>'
    return "\n".join(
        [
            f'<section class="figures" id="{SECTION}">',
            f"<h2>{escape(TITLE)}</h2>",
            f'<p class="note">{escape(_intro(section))}</p>',
            '<table class="figures"><thead><tr><th>Figure</th><th class="num">Value</th>'
            "</tr></thead><tbody>",
            f'<tr><td>Recommendations made</td><td class="num">{section.recommendations}</td></tr>',
            f'<tr><td>… of which multi-agency</td><td class="num">{section.multi_agency}</td></tr>',
            "</tbody></table>",
            '<h3>Actions by owner agency</h3><table class="figures" id="actions-by-agency">'
            f"<thead><tr><th>Owner agency</th>{head}</tr></thead>",
            f"<tbody>{''.join(rows)}</tbody></table>",
            "<h3>Oldest open actions</h3>",
            listed,
            "</section>",
        ]
    )


# -- JSON ----------------------------------------------------------------------------------


def _counts(counts: AgencyCounts) -> dict[str, int]:
    return {name: counts.value(name) for name, _ in COUNTS}


def json_data(section: ActionFigures) -> dict[str, Any]:
    """The section as the JSON document's `actions` object."""
    return {
        "as_at": section.as_at.isoformat(),
        "workflows": list(section.workflows),
        "recommendations": section.recommendations,
        "multi_agency": section.multi_agency,
        "total": _counts(section.total),
        "by_agency": {agency: _counts(c) for agency, c in section.by_agency.items()},
        "oldest_open": [
            {
                "ref": o.ref,
                "action": o.action,
                "agency": o.agency,
                "due_on": o.due_on.isoformat(),
                "working_days_overdue": o.working_days_overdue,
            }
            for o in section.oldest_open
        ],
    }


# -- CSV and the workbook ------------------------------------------------------------------


def table_rows(section: ActionFigures) -> list[dict[str, Any]]:
    """The section as rows of the report's CSV layout (values as numbers): `figure`
    rows for the recommendations and the counts over every agency, `agency` rows (the
    agency as label) and `open_action` rows (value: working days overdue; label: the
    action and its due date; `ref`, and `due_on` as a date, which the CSV leaves out).
    """
    common = {"section": SECTION, "part_of": ""}
    rows: list[dict[str, Any]] = [
        {**common, "record": "figure", "figure": "actions.recommendations",
         "label": "Recommendations made", "value": section.recommendations, "unit": "cases"},
        {**common, "record": "figure", "figure": "actions.multi_agency",
         "label": "… of which multi-agency", "value": section.multi_agency, "unit": "cases",
         "part_of": "actions.recommendations"},
    ]  # fmt: skip
    for name, label in COUNTS:
        rows.append({**common, "record": "figure", "figure": f"actions.{name}", "label": label,
                     "value": section.total.value(name), "unit": "actions"})  # fmt: skip
    for agency, counts in section.by_agency.items():
        for name, _ in COUNTS:
            value = counts.value(name)
            rows.append({**common, "record": "agency", "figure": f"actions.{name}",
                         "label": agency, "value": value, "unit": "actions"})  # fmt: skip
    for o in section.oldest_open:
        rows.append({**common, "record": "open_action", "figure": "actions.oldest_open",
                     "label": f"action {o.action} ({o.agency}), due {o.due_on.isoformat()}",
                     "value": o.working_days_overdue, "unit": "working days",
                     "ref": o.ref, "due_on": o.due_on})  # fmt: skip
    return rows
