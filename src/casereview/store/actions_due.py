"""Open actions for `due`, read through the driver alone: the same `store.reading.Reader`
snapshot as the clock rows (`store.dashboard_queries`), so `due` imports neither
SQLAlchemy nor the workflow model. The action rows are the projection `store.actions`
writes (`docs/actions.md`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from casereview.store.reading import Reader

WARNING_DAYS = 28
"""An open action is "due soon" (in its warning window) from this many days before its
due date: the calendar feed and `due` both count with it."""

_OWED = "a.open_due IS NOT NULL"
"""An action still owed: open, its case neither closed nor voided (`store.actions`)."""

_DUE_COUNTS = f"""
SELECT COUNT(*) AS open,
       COALESCE(SUM(CASE WHEN a.open_due < :as_of THEN 1 ELSE 0 END), 0) AS overdue,
       COALESCE(SUM(CASE WHEN a.open_due >= :as_of AND a.open_due <= :warn_until
                         THEN 1 ELSE 0 END), 0) AS due_soon,
       COALESCE(SUM(CASE WHEN a.open_due >= :as_of AND a.open_due < :next_before
                         THEN 1 ELSE 0 END), 0) AS due_next,
       COALESCE(SUM(CASE WHEN a.open_due < :within_before THEN 1 ELSE 0 END), 0) AS within
FROM case_actions AS a WHERE {_OWED}"""
"""Counted from the index on `open_due` alone."""

_OF_WORKFLOW = (
    " AND a.case_id IN (SELECT c.id FROM cases c WHERE c.workflow_id = :workflow_id{version})"
)
"""Only the actions of cases on one workflow (and version): open actions are few beside
clocks, so each is checked against its case row."""


def _of_workflow(workflow: tuple[str, int | None] | None) -> tuple[str, dict[str, Any]]:
    if workflow is None:
        return "", {}
    workflow_id, version = workflow
    if version is None:
        return _OF_WORKFLOW.format(version=""), {"workflow_id": workflow_id}
    return (
        _OF_WORKFLOW.format(version=" AND c.workflow_version = :workflow_version"),
        {"workflow_id": workflow_id, "workflow_version": version},
    )


_DUE_ROWS = f"""
SELECT c.ref, c.pseudonym, c.state AS case_state, c.workflow_id, a.action, a.agency, a.due_on,
       a.original_due_on, a.added_on
FROM case_actions AS a JOIN cases AS c ON c.id = a.case_id
WHERE {_OWED}"""


def open_action_counts(
    source: Reader,
    as_of: str,
    *,
    warn_until: str,
    next_before: str,
    within_before: str,
    workflow: tuple[str, int | None] | None = None,
) -> dict[str, int]:
    """Open actions counted as `due` counts open clocks (dates as ISO text; an empty
    `within_before` counts nothing there), of one workflow's cases when given."""
    only, params = _of_workflow(workflow)
    found = source.rows(
        _DUE_COUNTS + only,
        {"as_of": as_of, "warn_until": warn_until, "next_before": next_before,
         "within_before": within_before, **params},
    )  # fmt: skip
    return {k: int(v) for k, v in found[0].items()}


def open_action_rows(
    source: Reader,
    *,
    before: str | None,
    limit: int | None,
    workflow: tuple[str, int | None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Open actions soonest due first (due before `before` when given; of one
    workflow's cases when given), at most `limit`, one at a time."""
    only, params = _of_workflow(workflow)
    sql = _DUE_ROWS + only
    if before is not None:
        sql += " AND a.open_due < :before"
        params["before"] = before
    sql += " ORDER BY a.open_due, c.ref, a.action"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return source.each(sql, params)


_DUE = """
SELECT c.ref, c.pseudonym, c.workflow_id, a.action, a.rec, a.text, a.agency, a.owner,
       a.due_on, a.original_due_on, a.status, a.added_on, a.completed_on
FROM case_actions a JOIN cases c ON c.id = a.case_id
WHERE a.open_due IS NOT NULL
"""


def actions_due(
    source: Reader, *, agency: str | None, before: str | None, limit: int
) -> list[dict[str, Any]]:
    """Open actions across every case, soonest due first (by agency when given; due on
    or before `before` when given), at most `limit`."""
    sql = _DUE
    params: dict[str, Any] = {"limit": limit}
    if agency is not None:
        sql += " AND a.agency = :agency"
        params["agency"] = agency
    if before is not None:
        sql += " AND a.open_due <= :before"
        params["before"] = before
    sql += " ORDER BY a.open_due, c.ref, a.action LIMIT :limit"
    return source.rows(sql, params)
