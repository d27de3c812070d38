"""Writing and reading the projection rows (cases and their clocks)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, text

from casereview.domain.chain import canonical_json
from casereview.domain.clocks import ClockSummary

CLOCK_COLUMNS = (
    "clock_id",
    "label",
    "kind",
    "state",
    "anchor_on",
    "due_on",
    "warn_from",
    "started_on",
    "stopped_on",
    "remaining_days",
    "paused_days",
    "ends_on_due",
)


def get_case(conn: Connection, ref: str) -> RowMapping | None:
    return (
        conn.execute(text("SELECT * FROM cases WHERE ref = :ref"), {"ref": ref}).mappings().first()
    )


def list_cases(
    conn: Connection, *, state: str | None = None, closed: bool | None = None
) -> Sequence[RowMapping]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if state is not None:
        clauses.append("state = :state")
        params["state"] = state
    if closed is not None:
        clauses.append("closed = :closed")
        params["closed"] = closed
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return conn.execute(text(f"SELECT * FROM cases{where} ORDER BY ref"), params).mappings().all()


def pseudonyms_in_use(conn: Connection) -> set[str]:
    return {str(r[0]) for r in conn.execute(text("SELECT pseudonym FROM cases"))}


def insert_case(conn: Connection, values: dict[str, Any]) -> int:
    values = dict(values)
    values["fields"] = canonical_json(values["fields"])
    values["approvals"] = canonical_json(values["approvals"])
    next_id = conn.execute(text("SELECT COALESCE(MAX(id), 0) + 1 FROM cases")).scalar_one()
    values["id"] = int(next_id)
    names = ", ".join(values)
    params = ", ".join(f":{n}" for n in values)
    conn.execute(text(f"INSERT INTO cases ({names}) VALUES ({params})"), values)
    return int(next_id)


def update_case(
    conn: Connection, case_id: int, expected_version: int, values: dict[str, Any]
) -> bool:
    """Update a case row only if nobody else moved it; False if the version moved on."""
    values = dict(values)
    values["fields"] = canonical_json(values["fields"])
    values["approvals"] = canonical_json(values["approvals"])
    sets = ", ".join(f"{n} = :{n}" for n in values)
    result = conn.execute(
        text(f"UPDATE cases SET {sets} WHERE id = :case_id AND version = :expected"),
        {**values, "case_id": case_id, "expected": expected_version},
    )
    return result.rowcount == 1


def replace_clocks(conn: Connection, case_id: int, clocks: Iterable[ClockSummary]) -> None:
    conn.execute(text("DELETE FROM case_clocks WHERE case_id = :id"), {"id": case_id})
    rows = [
        {"case_id": case_id, **{name: getattr(clock, name) for name in CLOCK_COLUMNS}}
        for clock in clocks
    ]
    if rows:
        names = ", ".join(["case_id", *CLOCK_COLUMNS])
        params = ", ".join(f":{n}" for n in ["case_id", *CLOCK_COLUMNS])
        conn.execute(text(f"INSERT INTO case_clocks ({names}) VALUES ({params})"), rows)


def clocks_of(conn: Connection, case_id: int) -> Sequence[RowMapping]:
    return (
        conn.execute(
            text("SELECT * FROM case_clocks WHERE case_id = :id ORDER BY started_on, clock_id"),
            {"id": case_id},
        )
        .mappings()
        .all()
    )


def decode(row: RowMapping, column: str) -> Any:
    return json.loads(row[column])
