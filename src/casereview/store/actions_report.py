"""What the annual report's figures on recommendations and actions read: the plan events
of every case (not voided) that holds a recommendation, one case at a time.

One query, in the events' (case_id, seq) index order and streamed: each case's plan
events arrive together, with its reference and pinned workflow; only the columns the
plan's replay reads (`domain.actions.apply`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

from casereview.domain import actions as plans
from casereview.store.dialect import stream_dicts

_KINDS = ", ".join(f"'{kind}'" for kind in sorted(plans.PLAN_KINDS))
_EVENTS = (
    "SELECT e.case_id, c.ref, c.workflow_id, c.workflow_version, c.workflow_hash, "
    "e.seq, e.kind, e.trigger, e.occurred_on, e.fields, e.actor, e.role, e.rationale "
    "FROM events e JOIN cases c ON c.id = e.case_id "
    "WHERE c.voided_seq IS NULL "
    "AND e.case_id IN (SELECT DISTINCT case_id FROM case_recommendations) "
    f"AND e.kind IN ({_KINDS}) ORDER BY e.case_id, e.seq"
)
_WORKFLOWS = (
    "SELECT DISTINCT workflow_id, workflow_version, workflow_hash FROM cases "
    "WHERE voided_seq IS NULL"
)


def plan_events(conn: Connection) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(case: `ref` and its workflow's id, version and hash; its plan events in log
    order) for every case with a recommendation, in case-id order."""
    case: dict[str, Any] | None = None
    group: list[dict[str, Any]] = []
    for row in stream_dicts(conn, _EVENTS):
        if case is None or case["case_id"] != row["case_id"]:
            if case is not None:
                yield case, group
            case = {k: row[k] for k in ("case_id", "ref", "workflow_id", "workflow_version",
                                        "workflow_hash")}  # fmt: skip
            group = []
        group.append(row)
    if case is not None:
        yield case, group


def case_workflows(conn: Connection) -> list[tuple[str, int, str]]:
    """The pinned workflow (id, version, hash) of every case not voided, each once."""
    return [
        (str(r["workflow_id"]), int(r["workflow_version"]), str(r["workflow_hash"]))
        for r in stream_dicts(conn, _WORKFLOWS)
    ]
