"""The one read every read command starts with: the account's own user row, by its key,
through whichever kind of snapshot the command holds (the driver-only `Reader` of the
fast read paths, or a SQLAlchemy connection). Imports no SQLAlchemy itself, so `due`
stays on the driver alone. And the recorded views of personal fields, which
verify-export looks up."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from casereview.store.reading import AlchemyReader, SqliteReader

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from casereview.store.reading import Reader

_ACCOUNT = "SELECT username, roles, agency, active FROM users WHERE username = :u"


def account(source: Reader | Connection, username: str) -> dict[str, Any] | None:
    """The user row (username, roles, agency, active) of `username`, or None."""
    if isinstance(source, SqliteReader | AlchemyReader):
        return source.first(_ACCOUNT, {"u": username})
    return AlchemyReader(cast("Connection", source)).first(_ACCOUNT, {"u": username})


def display_names(source: Reader | Connection, usernames: Iterable[str]) -> dict[str, str]:
    """The display names the users table holds for these logins (those it knows), through
    either kind of snapshot (a timeline reads on the driver alone)."""
    wanted = sorted(set(usernames))
    if not wanted:
        return {}
    reader = (
        source
        if isinstance(source, SqliteReader | AlchemyReader)
        else AlchemyReader(cast("Connection", source))
    )
    marks = ", ".join(f":u{i}" for i in range(len(wanted)))
    rows = reader.rows(
        f"SELECT username, display_name FROM users WHERE username IN ({marks})",
        {f"u{i}": name for i, name in enumerate(wanted)},
    )
    return {str(row["username"]): str(row["display_name"]) for row in rows}


_ACCESS = (
    "SELECT fields FROM events WHERE case_id IS NULL AND kind = :kind AND trigger = :trigger "
    "ORDER BY seq"
)


def access_fields(conn: Connection, kind: str, trigger: str) -> list[object]:
    """The fields of every event of `kind` and `trigger` under no case (read through
    the index on case_id, which holds those few), parsed; unreadable ones as None."""
    found: list[object] = []
    for row in AlchemyReader(conn).rows(_ACCESS, {"kind": kind, "trigger": trigger}):
        try:
            found.append(json.loads(row["fields"]))
        except (TypeError, ValueError):
            found.append(None)
    return found
