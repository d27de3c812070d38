"""Calendar subscription addresses (`calendar_feeds`): one row per address a person
made, by the sha256 of its secret token, until and after it is revoked.

On PostgreSQL the rows are written by `casereview_calendar_feed(jsonb)` (migration
0017), which takes the owner and the event's seq from the database itself."""

from __future__ import annotations

import json

from sqlalchemy import Connection, RowMapping, text

from casereview.store import dialect


def _through_function(conn: Connection, row: dict[str, str]) -> None:
    conn.execute(
        text("SELECT casereview_calendar_feed(CAST(:row AS jsonb))"), {"row": json.dumps(row)}
    )


def add(conn: Connection, *, feed_id: str, username: str, token_hash: str, seq: int) -> None:
    """The new address `feed_id` of `username`, made by event `seq`."""
    if dialect.is_postgres(conn):
        row = {"trigger": "calendar_feed_create", "feed_id": feed_id, "token_hash": token_hash}
        _through_function(conn, row)
        return
    conn.execute(
        text(
            "INSERT INTO calendar_feeds (feed_id, username, token_hash, created_seq) "
            "VALUES (:f, :u, :h, :s)"
        ),
        {"f": feed_id, "u": username, "h": token_hash, "s": seq},
    )


def revoke(conn: Connection, feed_id: str, seq: int) -> None:
    """Address `feed_id` revoked by event `seq`."""
    if dialect.is_postgres(conn):
        _through_function(conn, {"trigger": "calendar_feed_revoke", "feed_id": feed_id})
        return
    conn.execute(
        text("UPDATE calendar_feeds SET revoked_seq = :s WHERE feed_id = :f"),
        {"s": seq, "f": feed_id},
    )


def live_of(conn: Connection, username: str) -> RowMapping | None:
    """The person's address that is not revoked, if any."""
    return (
        conn.execute(
            text(
                "SELECT feed_id, username, created_seq FROM calendar_feeds "
                "WHERE username = :u AND revoked_seq IS NULL ORDER BY created_seq DESC"
            ),
            {"u": username},
        )
        .mappings()
        .first()
    )


def live_by_hash(conn: Connection, token_hash: str) -> RowMapping | None:
    """The address whose token has this hash, unless it was revoked."""
    return (
        conn.execute(
            text(
                "SELECT feed_id, username, created_seq FROM calendar_feeds "
                "WHERE token_hash = :h AND revoked_seq IS NULL"
            ),
            {"h": token_hash},
        )
        .mappings()
        .first()
    )
