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
