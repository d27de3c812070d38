"""What the annual report reads: every case with its events, one case at a time.

Two queries, both in case-id order and streamed, are merged so that only one case's
events are in memory; each reads only the columns the report needs (replay's, less the
reference and definition hash it does not use: no payload, no hashes, no rationale).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, text

_CASES = "SELECT id, ref, workflow_id, workflow_version, workflow_hash FROM cases ORDER BY id"
# Ordered by the index (case_id, seq): one case's events arrive together, in log order.
_EVENTS = (
    "SELECT case_id, seq, trigger, from_state, to_state, occurred_on, fields FROM events "
    "WHERE case_id IS NOT NULL ORDER BY case_id, seq"
)
_ROWS_AT_ONCE = 2000


def _stream(conn: Connection, sql: str) -> Iterator[dict[str, Any]]:
    """Every row of `sql` as a dict, holding at most `_ROWS_AT_ONCE` rows.

    As `store.repository` streams whole tables: pysqlite's cursor is lazy and read with
    `yield_per`; PostgreSQL needs a server-side cursor (`stream_results`) and explicit
    partition sizes, or psycopg gathers every row client-side.
    """
    if conn.dialect.name == "sqlite":
        result = conn.execute(text(sql).execution_options(yield_per=_ROWS_AT_ONCE))
        partitions = result.partitions()
    else:
        options = {"stream_results": True, "max_row_buffer": _ROWS_AT_ONCE}
        result = conn.execute(text(sql).execution_options(**options))
        partitions = result.partitions(_ROWS_AT_ONCE)
    keys = list(result.keys())
    for partition in partitions:
        for row in partition:
            yield dict(zip(keys, row, strict=True))


def cases_with_events(conn: Connection) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(case row, its events in seq order) for every case, in case-id order.

    A case with no events gets an empty list (replay gives it no facts); events filed
    under an id with no case row are passed over, as the report always did: it counts
    cases.
    """
    events = _stream(conn, _EVENTS)
    pending = next(events, None)
    for row in _stream(conn, _CASES):
        case_id = int(row["id"])
        while pending is not None and int(pending["case_id"]) < case_id:
            pending = next(events, None)
        group: list[dict[str, Any]] = []
        while pending is not None and int(pending["case_id"]) == case_id:
            group.append(pending)
            pending = next(events, None)
        yield row, group
