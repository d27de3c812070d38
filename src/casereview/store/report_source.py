"""What the annual report reads: every case with its events, one case at a time.

Two queries, both in case-id order and streamed, are merged so that only one case's
events are in memory; each reads only the columns the report needs (replay's, less the
reference and definition hash it does not use: no payload, no hashes, no rationale).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, text

from casereview.store.dialect import stream_dicts

_CASES = (
    "SELECT id, ref, workflow_id, workflow_version, workflow_hash, links FROM cases ORDER BY id"
)
# Ordered by the index (case_id, seq): one case's events arrive together, in log order.
_EVENTS = (
    "SELECT case_id, seq, trigger, from_state, to_state, occurred_on, fields, "
    "workflow_version, definition_hash FROM events "
    "WHERE case_id IS NOT NULL ORDER BY case_id, seq"
)


def cases_with_events(conn: Connection) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(case row, its events in seq order) for every case, in case-id order.

    A case with no events gets an empty list (replay gives it no facts); events filed
    under an id with no case row are passed over, as the report always did: it counts
    cases.
    """
    events = stream_dicts(conn, _EVENTS)
    pending = next(events, None)
    for row in stream_dicts(conn, _CASES):
        case_id = int(row["id"])
        while pending is not None and int(pending["case_id"]) < case_id:
            pending = next(events, None)
        group: list[dict[str, Any]] = []
        while pending is not None and int(pending["case_id"]) == case_id:
            group.append(pending)
            pending = next(events, None)
        yield row, group


def recorded_by(conn: Connection, seqs: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Who recorded each of these events, in which role and why (seq -> `actor`, `role`,
    `rationale`): the report's list of corrections, undos and voids asks for its few
    events by primary key rather than reading every event's rationale."""
    if not seqs:
        return {}
    marks = ", ".join(f":s{i}" for i in range(len(seqs)))
    rows = conn.execute(
        text(f"SELECT seq, actor, role, rationale FROM events WHERE seq IN ({marks})"),
        {f"s{i}": int(seq) for i, seq in enumerate(seqs)},
    ).mappings()
    return {int(row["seq"]): dict(row) for row in rows}
