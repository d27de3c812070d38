"""What every front end shows of an action plan: the JSON shapes of recommendations,
actions and open actions across cases (stable keys, documented in docs/actions.md), and
the words for an action's status and deadline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from casereview.domain import actions as plans
from casereview.domain.clock_status import status_word
from casereview.presenters.words import day
from casereview.services.actions import ActionWhy, DueAction, PlanView, Recorded

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


# -- explain action-N ----------------------------------------------------------------------


def why_status_word(why: ActionWhy) -> str:
    """`overdue`, `due soon`, `on track`, `met`, `missed` or `closed without completion`."""
    if why.status == plans.CLOSED_UNMET:
        return STATUS_WORDS[plans.CLOSED_WITHOUT]
    return status_word(why.status)


def why_heading(why: ActionWhy) -> str:
    a = why.action
    return f"Action {a.action} ({a.agency}) ({plans.clock_id(a.action)})"


def why_facts(why: ActionWhy) -> list[tuple[str, str]]:
    """The action's facts as (name, sentence) rows: recommendation, owner, the day it
    was added, its first and current due dates, its status and completion."""
    a = why.action
    rows = [
        ("Recommendation", a.rec),
        ("Owner", f"{a.agency}: {a.owner}"),
        ("Added", f"{day(dt.date.fromisoformat(a.added_on))}, due {a.original_due_on}"),
    ]
    due = day(dt.date.fromisoformat(a.due_on))
    if a.open:
        due += f"; due soon from {why.warn_from}"
    rows.append(("Due", due))
    rows.append(("Status", STATUS_WORDS.get(a.status, a.status)))
    if a.completed_on:
        done = "Closed" if a.status == plans.CLOSED_WITHOUT else "Completed"
        rows.append((done, a.completed_on + (f": {a.reason}" if a.reason else "")))
    if a.evidence:
        rows.append(("Evidence", ", ".join(a.evidence)))
    return rows


def extension_lines(why: ActionWhy) -> list[str]:
    """Each extension: when, from which date to which, who agreed it, why, who recorded it."""
    lines = []
    due = why.action.original_due_on
    for entry in why.action.history:
        if entry.trigger != plans.ACTION_EXTEND or entry.due_on is None:
            continue
        lines.append(
            f"{entry.on}: {due} → {entry.due_on}, agreed by {entry.agreed_by}: {entry.reason} "
            f"(recorded by {entry.actor} as {entry.role})"
        )
        due = entry.due_on
    return lines


def why_sentence(why: ActionWhy) -> str:
    """Why the action is due when it is, and how it stands today, in one sentence."""
    a = why.action
    count = len(extension_lines(why))
    if count:
        times = "once" if count == 1 else f"{count} times"
        because = (
            f"Due on {a.due_on}: first due on {a.original_due_on}, extended {times} "
            "(each agreed as listed)"
        )
    else:
        because = f"Due on {a.due_on}, the date it was given when it was added on {a.added_on}"
    left = why.working_days_left
    if left is not None and left < 0:
        n = -left
        stands = f"overdue by {n} working day{'s' if n != 1 else ''}"
    elif left is not None:
        stands = f"{left} working day{'s' if left != 1 else ''} left"
    else:
        stands = OUTCOME_WORDS.get(why.outcome, why.outcome)
    sentence = f"{because}; {stands} as of {why.today.isoformat()}."
    if why.closed and a.open:
        sentence += " The case is closed: the action is no longer owed."
    return sentence


OUTCOME_WORDS = {
    plans.MET: "met",
    plans.MET_EXTENDED: "met after an agreed extension",
    plans.MISSED: "missed (completed after its due date)",
    plans.CLOSED_UNMET: "closed without completion",
    plans.OPEN_OVERDUE: "overdue",
    plans.OPEN_ON_TIME: "open",
}


def why_json(why: ActionWhy) -> dict[str, Any]:
    """`explain REF action-N --json` (documented in docs/actions.md)."""
    a = why.action
    return {
        "ref": why.ref,
        "pseudonym": why.pseudonym,
        "clock": plans.clock_id(a.action),
        "kind": "action",
        "workflow": why.workflow,
        "case_closed": why.closed,
        "today": why.today.isoformat(),
        "status": why.status,
        "status_word": why_status_word(why),
        "warn_from": why.warn_from,
        "working_days_left": why.working_days_left,
        "extensions": [
            {
                "on": e.on,
                "due_on": e.due_on,
                "reason": e.reason,
                "agreed_by": e.agreed_by,
                "actor": e.actor,
                "role": e.role,
            }
            for e in a.history
            if e.trigger == plans.ACTION_EXTEND
        ],
        "explanation": why_sentence(why),
        "action": action_json(a, why.today),
    }
