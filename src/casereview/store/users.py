"""The user rows: who may record what, the projection of the user events."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import Connection, RowMapping, text

from casereview.store import dialect


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
    if dialect.is_postgres(conn):
        # The database's write function has applied the user event already (no
        # application login may write a user row itself).
        return
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


def display_names_at(conn: Connection, up_to_seq: int) -> dict[str, str]:
    """Each user's display name as the log had it after event `up_to_seq`: the last
    `user_add` or `user_change` naming them (the only events that give a name). Read
    from the events, not the rows, so an export made at that point shows the names it
    showed then."""
    rows = conn.execute(
        text(
            "SELECT fields FROM events WHERE case_id IS NULL AND kind = 'admin' "
            "AND trigger IN ('user_add', 'user_change') AND seq <= :upto ORDER BY seq"
        ),
        {"upto": up_to_seq},
    )
    names: dict[str, str] = {}
    for (fields,) in rows:
        try:
            data = json.loads(str(fields))
        except ValueError:
            continue  # unreadable: `audit verify` reports the event
        if not isinstance(data, dict):
            continue
        username, name = data.get("username"), data.get("display_name")
        if isinstance(username, str) and isinstance(name, str):
            names[username] = name
    return names
