"""The one read every read command starts with: the account's own user row, by its key,
through whichever kind of snapshot the command holds (the driver-only `Reader` of the
fast read paths, or a SQLAlchemy connection). Imports no SQLAlchemy itself, so `due`
stays on the driver alone. And the recorded views of personal fields, which
verify-export looks up."""

from __future__ import annotations

import json
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
