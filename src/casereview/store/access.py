"""The one read every read command starts with: the account's own user row, by its key,
through whichever kind of snapshot the command holds (the driver-only `Reader` of the
fast read paths, or a SQLAlchemy connection). Imports no SQLAlchemy itself, so `due`
stays on the driver alone."""

from __future__ import annotations

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
