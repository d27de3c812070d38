"""Reading and writing rows inside a unit of work.

The only code that knows table and column names. Appending an event takes the chain
head (locked: `BEGIN IMMEDIATE` on SQLite, `SELECT … FOR UPDATE` on PostgreSQL),
assigns the next `seq` from it — never from a sequence, whose values are not rolled
back — seals the event and moves the head, all in the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, text

from casereview import audit


@dataclass(frozen=True)
class AppendedEvent:
    seq: int
    entry_hash: str
    payload: str


def chain_head(conn: Connection, *, lock: bool = False) -> tuple[int, str]:
    suffix = " FOR UPDATE" if lock and conn.dialect.name == "postgresql" else ""
    row = conn.execute(text(f"SELECT seq, entry_hash FROM chain_head WHERE id = 1{suffix}")).first()
    if row is None:
        return 0, audit.GENESIS_HASH
    return int(row[0]), str(row[1])


def append_event(conn: Connection, record: Mapping[str, Any], case_id: int | None) -> AppendedEvent:
    """Seal and insert one event after the current head, and advance the head."""
    head_seq, head_hash = chain_head(conn, lock=True)
    full = dict(record)
    full["seq"] = head_seq + 1
    full["prev_hash"] = head_hash
    full["algorithm"] = audit.ALGORITHM
    sealed = audit.seal(full)
    columns = {name: full.get(name) for name in audit.HASHED_COLUMNS}
    columns["fields"] = audit.canonical_json(full.get("fields") or {})
    columns["case_id"] = case_id
    columns["payload"] = sealed.payload
    columns["entry_hash"] = sealed.entry_hash
    names = ", ".join(columns)
    params = ", ".join(f":{name}" for name in columns)
    conn.execute(text(f"INSERT INTO events ({names}) VALUES ({params})"), columns)
    conn.execute(
        text("UPDATE chain_head SET seq = :seq, entry_hash = :hash WHERE id = 1"),
        {"seq": full["seq"], "hash": sealed.entry_hash},
    )
    return AppendedEvent(full["seq"], sealed.entry_hash, sealed.payload)


def iter_events(
    conn: Connection, *, case_id: int | None = None, batch: int = 5000
) -> Iterator[dict[str, Any]]:
    """Events in seq order, fetched in batches so a large log never sits in memory."""
    last = 0
    where = "seq > :last" + (" AND case_id = :case_id" if case_id is not None else "")
    while True:
        rows = (
            conn.execute(
                text(f"SELECT * FROM events WHERE {where} ORDER BY seq LIMIT :batch"),
                {"last": last, "case_id": case_id, "batch": batch},
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield dict(row)
        last = int(rows[-1]["seq"])


def event_hash_at(conn: Connection, seq: int) -> str | None:
    row = conn.execute(text("SELECT entry_hash FROM events WHERE seq = :seq"), {"seq": seq}).first()
    return None if row is None else str(row[0])


def count_events(conn: Connection) -> int:
    return int(conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one())


# Users -----------------------------------------------------------------------------


def get_user(conn: Connection, username: str) -> RowMapping | None:
    return (
        conn.execute(text("SELECT * FROM users WHERE username = :u"), {"u": username})
        .mappings()
        .first()
    )


def list_users(conn: Connection) -> Sequence[RowMapping]:
    return conn.execute(text("SELECT * FROM users ORDER BY username")).mappings().all()


def count_users(conn: Connection) -> int:
    return int(conn.execute(text("SELECT COUNT(*) FROM users")).scalar_one())


def upsert_user(
    conn: Connection,
    *,
    username: str,
    display_name: str,
    roles: Sequence[str],
    agency: str | None,
    active: bool,
    seq: int,
) -> None:
    existing = get_user(conn, username)
    params = {
        "u": username,
        "n": display_name,
        "r": json.dumps(sorted(roles)),
        "a": agency,
        "active": active,
        "seq": seq,
    }
    if existing is None:
        conn.execute(
            text(
                "INSERT INTO users (username, display_name, roles, agency, active, created_seq) "
                "VALUES (:u, :n, :r, :a, :active, :seq)"
            ),
            params,
        )
    else:
        conn.execute(
            text(
                "UPDATE users SET display_name = :n, roles = :r, agency = :a, active = :active "
                "WHERE username = :u"
            ),
            params,
        )
