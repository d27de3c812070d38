"""The action plan as an `.xlsx` workbook (`action plan --format xlsx`).

An "Actions" sheet with the CSV's columns (one row per action: case, recommendation,
source, action, owner agency and owner, due and first due dates, status, outcome, RAG,
progress, completion date, evidence, latest update) plus `deadline` (`overdue`,
`due_soon`, `on_track`, `done`, `closed`), which colours an open action's row red when
overdue and amber when due within 28 days; and a "Summary" sheet with the document's
figures, overall and by owner agency. Written by `formats.xlsx`: dates are dates, the
header is frozen and filtered, columns are sized, and text is never a formula.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from casereview.domain import actions as plans
from casereview.formats import xlsx
from casereview.formats.action_plan import OUTCOME, STATUS

DUE_SOON_DAYS = 28
"""An open action is "due soon" this many days before its due date (as in `due`)."""

_ACTION_COLUMNS = (
    xlsx.Column("case", "case"),
    xlsx.Column("rec", "rec"),
    xlsx.Column("recommendation", "recommendation"),
    xlsx.Column("source", "source"),
    xlsx.Column("action", "action"),
    xlsx.Column("text", "text"),
    xlsx.Column("agency", "agency"),
    xlsx.Column("owner", "owner"),
    xlsx.Column("due_on", "due on", "date"),
    xlsx.Column("original_due_on", "first due on", "date"),
    xlsx.Column("deadline", "deadline"),
    xlsx.Column("status", "status"),
    xlsx.Column("outcome", "outcome"),
    xlsx.Column("rag", "RAG"),
    xlsx.Column("progress", "progress %", "number"),
    xlsx.Column("completed_on", "completed on", "date"),
    xlsx.Column("evidence", "evidence"),
    xlsx.Column("latest_update", "latest update"),
)
_SUMMARY_COLUMNS = (
    xlsx.Column("agency", "owner agency"),
    xlsx.Column("actions", "actions", "number"),
    *(xlsx.Column(o, OUTCOME[o], "number") for o in plans.OUTCOMES),
)


def deadline(action: plans.Action, today: dt.date) -> str:
    """How an action's row is coloured: an open one by its due date, else done or closed."""
    if action.status == plans.CLOSED_WITHOUT:
        return "closed"
    if not action.open:
        return "done"
    due = dt.date.fromisoformat(action.due_on)
    if due < today:
        return "overdue"
    return "due_soon" if (due - today).days <= DUE_SOON_DAYS else "on_track"


def workbook(doc: plans.Document) -> bytes:
    """The document's workbook."""
    today = doc.today
    rows: list[dict[str, Any]] = []
    for case in doc.cases:
        plan = case.plan
        for a in plan.actions.values():
            rec = plan.recommendations.get(a.rec)
            rows.append(
                {
                    "case": case.ref,
                    "rec": a.rec,
                    "recommendation": rec.text if rec else "",
                    "source": rec.source if rec else "",
                    "action": a.action,
                    "text": a.text,
                    "agency": a.agency,
                    "owner": a.owner,
                    "due_on": a.due_on,
                    "original_due_on": a.original_due_on,
                    "deadline": deadline(a, today),
                    "status": STATUS.get(a.status, a.status),
                    "outcome": OUTCOME[plans.outcome(a, today)],
                    "rag": plans.rag(a, today),
                    "progress": plans.PROGRESS[a.status],
                    "completed_on": a.completed_on or "",
                    "evidence": "; ".join(a.evidence),
                    "latest_update": a.latest_note,
                }
            )
    figures = doc.figures
    summary: list[dict[str, Any]] = [
        {"agency": agency, "actions": counts.actions, **counts.by_outcome}
        for agency, counts in (*figures.by_agency.items(), ("all agencies", figures.total))
    ]
    notes = (
        f"{doc.title}: as at {doc.as_of}. {doc.scope}",
        f"Recommendations: {figures.recommendations} ({figures.multi_agency} multi-agency).",
    )
    return xlsx.workbook(
        [
            xlsx.Table("Actions", _ACTION_COLUMNS, rows, status_key="deadline", notes=notes[:1]),
            xlsx.Table("Summary", _SUMMARY_COLUMNS, summary, notes=notes),
        ]
    )
