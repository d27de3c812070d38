"""The action-plan rows: the projection of each case's plan events (`domain.actions`).

Three case tables, each written by one function here from a replay of the case's plan
(`replace_recommendations`, `replace_actions`, `replace_plan`), always the whole case's
rows at once; reads: one case's rows (`plan_rows`) and open or due actions across cases
(`actions_due`), through either kind of snapshot (`store.reading.Reader` or a SQLAlchemy
connection).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, fields
from typing import Any

from sqlalchemy import Connection, text

from casereview.domain import actions as plans
from casereview.domain.chain import canonical_json
from casereview.store import dialect, write_functions
from casereview.store.projections import EVERY_CASE, CaseRange, case_id_condition

REC_COLUMNS = (
    "case_id",
    "number",
    "text",
    "source",
    "section",
    "agencies",
    "scope",
    "added_on",
    "seq",
)
ACTION_COLUMNS = (
    "case_id",
    "action",
    "rec",
    "text",
    "agency",
    "owner",
    "due_on",
    "original_due_on",
    "status",
    "added_on",
    "completed_on",
    "reason",
    "evidence",
    "history",
    "seq",
    "open_due",
)
PLAN_COLUMNS = ("case_id", "none_reason", "overrides")


def rec_row(case_id: int, rec: plans.Recommendation) -> tuple[Any, ...]:
    return (
        case_id,
        rec.number,
        rec.text,
        rec.source,
        rec.section,
        canonical_json(list(rec.agencies)),
        rec.scope,
        rec.added_on,
        rec.seq,
    )


def action_row(case_id: int, action: plans.Action, live: bool) -> tuple[Any, ...]:
    """An action's row; `live`: its case is neither closed nor voided."""
    return (
        case_id,
        action.action,
        action.rec,
        action.text,
        action.agency,
        action.owner,
        action.due_on,
        action.original_due_on,
        action.status,
        action.added_on,
        action.completed_on,
        action.reason,
        canonical_json(list(action.evidence)),
        canonical_json([_entry(u) for u in action.history]),
        action.seq,
        action.due_on if live and action.open else None,
    )


def plan_row(case_id: int, plan: plans.Plan) -> tuple[Any, ...] | None:
    """The case's plan row; None when there is nothing beyond its recommendations."""
    if not plan.none_reason and not plan.overrides:
        return None
    return (case_id, plan.none_reason, canonical_json([asdict(o) for o in plan.overrides]))


_UPDATE_FIELDS = tuple(f.name for f in fields(plans.Update))


def _entry(update: plans.Update) -> dict[str, Any]:
    # Field by field rather than `dataclasses.asdict`, which deep-copies every value:
    # `audit verify` builds these for every action of every case, and asdict was a third
    # of its time on logs with action plans (docs/performance.md).
    entry: dict[str, Any] = {}
    for name in _UPDATE_FIELDS:
        value = getattr(update, name)
        if name == "evidence":
            value = list(value)
        if value not in ("", None, []):
            entry[name] = value
    return entry


def _replace(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    case_id: int,
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """One case's rows of an action-plan table, replaced (on PostgreSQL through the
    write function, which lets only a case just appended to change)."""
    if dialect.is_postgres(conn):
        mapped = [dict(zip(columns, row, strict=True)) for row in rows]
        write_functions.replace_rows(conn, table, case_id, mapped)
        return
    conn.execute(text(f"DELETE FROM {table} WHERE case_id = :id"), {"id": case_id})
    dialect.insert_rows(conn, table, columns, rows)


def replace_recommendations(conn: Connection, case_id: int, plan: plans.Plan) -> None:
    """The one writer of `case_recommendations`: the case's rows, replaced."""
    rows = [rec_row(case_id, r) for r in plan.recommendations.values()]
    _replace(conn, "case_recommendations", REC_COLUMNS, case_id, rows)


def replace_actions(conn: Connection, case_id: int, plan: plans.Plan, live: bool) -> None:
    """The one writer of `case_actions`: the case's rows, replaced."""
    rows = [action_row(case_id, a, live) for a in plan.actions.values()]
    _replace(conn, "case_actions", ACTION_COLUMNS, case_id, rows)


def replace_plan(conn: Connection, case_id: int, plan: plans.Plan) -> None:
    """The one writer of `case_action_plans`: the case's row, replaced (or removed)."""
    row = plan_row(case_id, plan)
    _replace(conn, "case_action_plans", PLAN_COLUMNS, case_id, [row] if row is not None else [])


def store_plan(conn: Connection, case_id: int, plan: plans.Plan, *, live: bool) -> None:
    """Write the three projections of one case's plan; `live`: the case is neither
    closed nor voided (its open actions are still owed)."""
    replace_recommendations(conn, case_id, plan)
    replace_actions(conn, case_id, plan, live)
    replace_plan(conn, case_id, plan)


# -- reading -------------------------------------------------------------------------------


class _Rows:
    """Rows as dicts from a `store.reading.Reader` or a SQLAlchemy connection."""

    def __init__(self, source: Any) -> None:
        self._source = source

    def rows(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        if isinstance(self._source, Connection):
            return [dict(r) for r in self._source.execute(text(sql), dict(params)).mappings()]
        found: list[dict[str, Any]] = self._source.rows(sql, params)
        return found


def plan_rows(source: Any, case_id: int) -> dict[str, list[dict[str, Any]]]:
    """One case's stored plan: its rows of each table, in a stable order."""
    rows = _Rows(source)
    where = {"id": case_id}
    return {
        "recommendations": rows.rows(
            "SELECT * FROM case_recommendations WHERE case_id = :id ORDER BY seq", where
        ),
        "actions": rows.rows("SELECT * FROM case_actions WHERE case_id = :id ORDER BY seq", where),
        "plan": rows.rows("SELECT * FROM case_action_plans WHERE case_id = :id", where),
    }


def expected_rows(
    case_id: int, plan: plans.Plan, *, live: bool
) -> dict[str, list[tuple[Any, ...]]]:
    """What `plan_rows` should hold for `plan`, as tuples of each table's columns."""
    row = plan_row(case_id, plan)
    return {
        "recommendations": [rec_row(case_id, r) for r in plan.recommendations.values()],
        "actions": [action_row(case_id, a, live) for a in plan.actions.values()],
        "plan": [] if row is None else [row],
    }


COLUMNS = {"recommendations": REC_COLUMNS, "actions": ACTION_COLUMNS, "plan": PLAN_COLUMNS}


_TABLES = {
    "recommendations": "case_recommendations",
    "actions": "case_actions",
    "plan": "case_action_plans",
}


def iter_rows(
    conn: Connection, table: str, cases: CaseRange = EVERY_CASE
) -> Iterator[dict[str, Any]]:
    """The rows of one plan table (`COLUMNS`' key) for the case ids in `cases`, ordered
    by case id (its primary key), streamed: what `audit verify` compares."""
    name = _TABLES[table]
    return dialect.stream_dicts(
        conn,
        f"SELECT * FROM {name} WHERE {case_id_condition('case_id', cases)} ORDER BY case_id",
    )


def as_tuples(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> list[tuple[Any, ...]]:
    return [tuple(r[c] for c in columns) for r in rows]


def cases_with_plans(source: Any) -> list[dict[str, Any]]:
    """The rows of every case (not voided) with a recommendation, by reference."""
    return _Rows(source).rows(
        "SELECT * FROM cases WHERE voided_seq IS NULL AND id IN "
        "(SELECT DISTINCT case_id FROM case_recommendations) ORDER BY ref",
        {},
    )


def open_actions_of(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    """One case's actions still owed, in the order they were added."""
    return _Rows(conn).rows(
        "SELECT * FROM case_actions WHERE case_id = :id AND open_due IS NOT NULL ORDER BY seq",
        {"id": case_id},
    )
