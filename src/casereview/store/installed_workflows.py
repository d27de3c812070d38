"""The installed workflows: the projection of the `workflow_install` events, one row per
(workflow id, version), with the installed file's content.

The content is kept so that a case replays from the database alone, whatever files a
machine has; it is trusted only as far as its sha256 equals the `definition_hash` the
install event recorded (the chain covers the event, not this row), which the readers
and `audit verify` check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, text

from casereview.store import dialect, write_functions

_COLUMNS = "workflow_id, version, definition_hash, title, installed_seq"


def list_installed(conn: Connection) -> Sequence[RowMapping]:
    """Every installed (workflow, version), without content, by id then version."""
    return (
        conn.execute(
            text(f"SELECT {_COLUMNS} FROM installed_workflows ORDER BY workflow_id, version")
        )
        .mappings()
        .all()
    )


def versions_of(conn: Connection, workflow_id: str) -> Sequence[RowMapping]:
    """The installed versions of one workflow, lowest first, without content."""
    return (
        conn.execute(
            text(
                f"SELECT {_COLUMNS} FROM installed_workflows WHERE workflow_id = :w "
                "ORDER BY version"
            ),
            {"w": workflow_id},
        )
        .mappings()
        .all()
    )


def get_installed(conn: Connection, workflow_id: str, version: int) -> RowMapping | None:
    return (
        conn.execute(
            text(
                f"SELECT {_COLUMNS} FROM installed_workflows "
                "WHERE workflow_id = :w AND version = :v"
            ),
            {"w": workflow_id, "v": version},
        )
        .mappings()
        .first()
    )


def contents(conn: Connection) -> list[tuple[str, str]]:
    """(definition_hash, content) of every row, for `audit verify`."""
    rows = conn.execute(text("SELECT definition_hash, content FROM installed_workflows"))
    return [(str(r[0]), str(r[1])) for r in rows]


def insert_installed(
    conn: Connection,
    *,
    workflow_id: str,
    version: int,
    definition_hash: str,
    title: str,
    content: str,
    seq: int,
) -> None:
    params: dict[str, Any] = {
        "w": workflow_id,
        "v": version,
        "h": definition_hash,
        "t": title,
        "c": content,
        "s": seq,
    }
    if dialect.is_postgres(conn):
        # The database checks the row against the install event already appended.
        write_functions.install_workflow(
            conn,
            {"workflow_id": workflow_id, "version": version, "title": title, "content": content},
        )
        return
    conn.execute(
        text(
            "INSERT INTO installed_workflows "
            "(workflow_id, version, definition_hash, title, content, installed_seq) "
            "VALUES (:w, :v, :h, :t, :c, :s)"
        ),
        params,
    )


def pinned_by_cases(conn: Connection) -> list[tuple[str, int, str]]:
    """Every (workflow id, version, hash) a case is pinned to."""
    rows = conn.execute(
        text(
            "SELECT DISTINCT workflow_id, workflow_version, workflow_hash FROM cases "
            "ORDER BY workflow_id, workflow_version, workflow_hash"
        )
    )
    return [(str(r[0]), int(r[1]), str(r[2])) for r in rows]
