"""PostgreSQL's write path: every write an application login makes goes through the
functions of migration 0008 (`store.migrations`), one call per event batch or per
projection write, because those logins hold no INSERT, UPDATE or DELETE right on any
table.

The functions check, inside the database, who may record what and that each event
continues the chain; this module only hands them the rows the rest of the store built,
as JSON. SQLite never comes here: its writes are the plain statements of
`store.event_log` and `store.projections`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, text


def _json(rows: Iterable[Mapping[str, Any]]) -> str:
    # Values are str, int, bool or None; fields and roles arrive as JSON text already.
    return json.dumps(list(rows), separators=(",", ":"))


def lock_head(conn: Connection) -> None:
    """Take the writers' lock (the chain head row) for this transaction."""
    conn.execute(text("SELECT casereview_lock_head()"))


def append(conn: Connection, events: Sequence[Mapping[str, Any]]) -> None:
    """Append sealed events (mappings of every stored column, `case_id` included) in
    one call; the function checks and appends them in order and moves the head."""
    if events:
        conn.execute(
            text("SELECT * FROM casereview_append(CAST(:events AS jsonb))"),
            {"events": _json(events)},
        )


def insert_rows(conn: Connection, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """New rows of a case table (`cases`, `case_clocks`; JSON columns as text). Allowed
    only if the same transaction appends an event to each of their cases before it
    commits."""
    if rows:
        conn.execute(
            text("SELECT casereview_insert_rows(:table, CAST(:rows AS jsonb))"),
            {"table": table, "rows": _json(rows)},
        )


def replace_rows(
    conn: Connection, table: str, case_id: int, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Replace one case's rows of a case table (an event was appended to the case in
    this transaction)."""
    conn.execute(
        text("SELECT casereview_replace_rows(:table, :id, CAST(:rows AS jsonb))"),
        {"table": table, "id": case_id, "rows": _json(rows)},
    )


def update_case(
    conn: Connection, case_id: int, expected_version: int, values: Mapping[str, Any]
) -> bool:
    """Update a case row (an event was appended to it in this transaction) if its
    version is still `expected_version`; False if it moved on."""
    return bool(
        conn.execute(
            text("SELECT casereview_update_case(:id, :expected, CAST(:values AS jsonb))"),
            {"id": case_id, "expected": expected_version, "values": json.dumps(dict(values))},
        ).scalar_one()
    )


def install_workflow(conn: Connection, row: Mapping[str, Any]) -> None:
    """An installed workflow's row (workflow_id, version, title, content); the database
    takes its hash and seq from the `workflow_install` event this transaction appended."""
    conn.execute(
        text("SELECT casereview_install_workflow(CAST(:row AS jsonb))"),
        {"row": json.dumps(dict(row))},
    )
