"""What every front end shows of an action plan: the JSON shapes of recommendations,
actions and open actions across cases (stable keys, documented in docs/actions.md), and
the words for an action's status and deadline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from casereview.domain import actions as plans
from casereview.services.actions import DueAction, PlanView, Recorded

STATUS_WORDS = {
    plans.NOT_STARTED: "not started",
    plans.IN_PROGRESS: "in progress",
    plans.COMPLETED: "completed",
    plans.EVIDENCED: "evidenced",
    plans.CLOSED_WITHOUT: "closed without completion",
}


def recorded_json(result: Recorded) -> dict[str, Any]:
    return asdict(result)


def recorded_line(result: Recorded) -> str:
    return (
        f"Recorded {result.trigger} on case {result.ref} on {result.occurred_on} "
        f"(event {result.seq}, as {result.role})."
    )


def rec_json(rec: plans.Recommendation, plan: plans.Plan, today: dt.date) -> dict[str, Any]:
    return {
        "number": rec.number,
        "text": rec.text,
        "source": rec.source,
        "section": rec.section,
        "agencies": list(rec.agencies),
        "scope": rec.scope,
        "added_on": rec.added_on,
        "actions": [action_json(a, today) for a in plan.actions.values() if a.rec == rec.number],
    }


def action_json(action: plans.Action, today: dt.date) -> dict[str, Any]:
    return {
        "action": action.action,
        "rec": action.rec,
        "text": action.text,
        "agency": action.agency,
        "owner": action.owner,
        "due_on": action.due_on,
        "original_due_on": action.original_due_on,
        "status": action.status,
        "outcome": plans.outcome(action, today),
        "rag": plans.rag(action, today),
        "progress": plans.PROGRESS[action.status],
        "added_on": action.added_on,
        "completed_on": action.completed_on,
        "reason": action.reason,
        "evidence": list(action.evidence),
        "latest_note": action.latest_note,
        "history": [
            {k: v for k, v in asdict(u).items() if v not in ("", None, ())} for u in action.history
        ],
    }


def plan_json(view: PlanView) -> dict[str, Any]:
    today = dt.date.fromisoformat(view.as_of)
    plan = view.plan
    return {
        "ref": view.ref,
        "workflow": view.workflow,
        "state": view.state,
        "closed": view.closed,
        "as_of": view.as_of,
        "none_reason": plan.none_reason,
        "recommendations": [rec_json(r, plan, today) for r in plan.recommendations.values()],
        "overrides": [asdict(o) for o in plan.overrides],
        "problems": [{"seq": seq, "problem": p} for seq, p in plan.problems],
    }


def due_json(rows: Sequence[DueAction]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]


def deadline_words(action: plans.Action, today: dt.date) -> str:
    """`due 2027-03-31 (extended from 2026-12-31)`, the deadline as a person reads it."""
    words = f"due {action.due_on}"
    if action.extended:
        words += f" (extended from {action.original_due_on})"
    return words
