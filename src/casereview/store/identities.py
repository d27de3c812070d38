"""Sign-in identities linked to users, read from the log (`domain.identities`).

No table holds them: like the partnership's name, the mapping is the admin events
`identity_link` and `identity_unlink` under no case, few, found through
`ix_events_case_id`. The sign-in lookup (`linked_user`) runs before anyone has signed
in: on PostgreSQL, as the server login switched to `casereview_server`, through the one
function that role may call (migration 0016), which answers that question and nothing
else.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from casereview.domain import identities
from casereview.store.migrations import SERVER_ROLE

if TYPE_CHECKING:
    from casereview.store.database import Database


def identity_events(conn: Connection) -> list[tuple[str, dict[str, Any]]]:
    """(trigger, fields) of every identity event, in seq order (unreadable fields: {})."""
    rows = conn.execute(
        text(
            "SELECT trigger, fields FROM events WHERE case_id IS NULL AND kind = 'admin' "
            "AND trigger IN (:link, :unlink) ORDER BY seq"
        ),
        {"link": identities.IDENTITY_LINK, "unlink": identities.IDENTITY_UNLINK},
    )
    found = []
    for trigger, fields in rows:
        try:
            data = json.loads(str(fields))
        except ValueError:
            data = {}
        found.append((str(trigger), data if isinstance(data, dict) else {}))
    return found


def linked_user(db: Database, issuer: str, subject: str) -> str | None:
    """The active user the log last linked (issuer, subject) to, or None."""
    if db.is_postgres:
        with db.acting(SERVER_ROLE).reading() as conn:
            found = conn.execute(
                text("SELECT casereview_identity(:issuer, :subject)"),
                {"issuer": issuer, "subject": subject},
            ).scalar_one()
        return None if found is None else str(found)
    with db.reading() as conn:
        last = None
        for trigger, fields in identity_events(conn):
            if fields.get("issuer") == issuer and fields.get("subject") == subject:
                last = (trigger, fields.get("username"))
        if last is None or last[0] != identities.IDENTITY_LINK or not isinstance(last[1], str):
            return None
        row = conn.execute(
            text("SELECT active FROM users WHERE username = :u"), {"u": last[1]}
        ).first()
        return last[1] if row is not None and bool(row[0]) else None
