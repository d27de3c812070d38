"""The report as a JSON document, for scripts.

Keys are a public contract (docs/report.md): add keys, never rename or drop them. Dates
are ISO `YYYY-MM-DD`; a figure with nothing to measure has `"value": null`. The cases
behind each figure, and the timeline (which names cases), appear only with `--detail`.
"""

from __future__ import annotations

import json
from typing import Any

from casereview.reports.figures import Report

FORMAT = "casereview-report"
FORMAT_VERSION = 1


def to_data(report: Report, *, detail: bool) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for figure in report.figures:
        entry: dict[str, Any] = {
            "section": figure.section,
            "label": figure.label,
            "value": figure.value,
            "unit": figure.unit,
            "part_of": figure.part_of,
        }
        if detail:
            entry["cases"] = list(figure.records())
        figures[figure.id] = entry
    data: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "period": {
            "from": report.period.start.isoformat(),
            "to": report.period.end.isoformat(),
            "label": report.period.label,
            "financial_year": report.period.financial_year,
        },
        "generated_on": report.generated_on.isoformat(),
        "as_at": report.as_at.isoformat(),
        "complete": report.complete,
        "detail": detail,
        "figures": figures,
        "rapid_reviews_by_quarter": [
            {
                "quarter": q.quarter.label,
                "from": q.quarter.start.isoformat(),
                "to": q.quarter.end.isoformat(),
                "partial": q.quarter.partial,
                "on_time": q.on_time,
                "late": q.late,
            }
            for q in report.by_quarter
        ],
    }
    if detail:
        data["timeline"] = [
            {
                "ref": case.ref,
                "pseudonym": case.pseudonym,
                "opened_on": case.opened_on.isoformat(),
                "closed_on": case.closed_on.isoformat() if case.closed_on else None,
                "state_at_end": case.state_at_end,
                "clocks": [
                    {
                        "clock": lane.clock_id,
                        "label": lane.label,
                        "kind": lane.kind,
                        "started_on": lane.started_on.isoformat(),
                        "due_on": lane.due_on.isoformat() if lane.due_on else None,
                        "stopped_on": lane.stopped_on.isoformat() if lane.stopped_on else None,
                        "status": lane.status,
                        "pauses": [
                            {
                                "from": start.isoformat(),
                                "to": stop.isoformat() if stop else None,
                            }
                            for start, stop in lane.pauses
                        ],
                    }
                    for lane in case.lanes
                ],
            }
            for case in report.timeline
        ]
    return data


def render(report: Report, *, detail: bool) -> str:
    return json.dumps(to_data(report, detail=detail), indent=2, ensure_ascii=False) + "\n"
