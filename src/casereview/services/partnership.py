"""The partnership's name: set by an admin (when the installation is created, or later),
read by every report and export header.

The name is an admin event (`partnership_set`, fields `name`), so who named the
partnership, and when, is in the verifiable log like every user change; `audit verify`
accepts one only from someone who held admin then. Nothing else stores it
(`store.partnership` reads the last such event).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from casereview.domain import authority, text
from casereview.errors import Conflict, Input, InvalidInput
from casereview.services.access import require_admin
from casereview.services.context import ServiceContext
from casereview.store import event_log
from casereview.store import partnership as partnership_rows

if TYPE_CHECKING:
    from casereview.store.database import Connection

MAX_NAME = 200
"""The longest name accepted: it heads every report page."""


@dataclass(frozen=True)
class Partnership:
    name: str | None
    changed: bool = False


_OPTION = Input("partnership")


def check_name(name: str, what: Input | str = _OPTION) -> str:
    """The name as it will be recorded (outer spaces trimmed), or InvalidInput naming
    `what` (the input that gave it)."""
    text.check(name, what, multiline=False)
    trimmed = name.strip()
    if not trimmed:
        raise InvalidInput("{what} must not be empty", what=what)
    if len(trimmed) > MAX_NAME:
        raise InvalidInput("{what} must be at most {limit} characters", what=what, limit=MAX_NAME)
    return trimmed


def record(ctx: ServiceContext, conn: Connection, name: str) -> None:
    """Append the `partnership_set` event in the caller's unit of work (the caller has
    checked that the account is an admin)."""
    from casereview.services import keys
    from casereview.services.users import admin_event

    event = admin_event(ctx, authority.PARTNERSHIP_SET, {"name": name})
    event_log.append_event(conn, event, None, keys.write_signer(ctx, conn))


def set_name(ctx: ServiceContext, name: str) -> Partnership:
    """Name (or rename) the partnership: an admin's `partnership_set` event. The same
    name again records nothing (Conflict)."""
    name = check_name(name, "the partnership's name")
    with ctx.db().unit_of_work() as uow:
        require_admin(ctx, uow.conn, "name the partnership")
        if partnership_rows.partnership_name(uow.conn) == name:
            raise Conflict("the partnership is already called {name!r}; nothing changed", name=name)
        record(ctx, uow.conn, name)
        uow.commit()
    return Partnership(name, changed=True)


def current(ctx: ServiceContext) -> Partnership:
    """The partnership's name now (None until an admin names it)."""
    from casereview.services.access import require_reader

    with ctx.db().reading() as conn:
        require_reader(ctx, conn)
        return Partnership(partnership_rows.partnership_name(conn))
