"""Who may read, and who may see personal fields.

Every command that shows case data asks `require_reader` first, inside its own read
snapshot, so an account that is not a registered, active casereview user gets one
refusal and reads nothing. It is one lookup of the user row by its key, cheap enough
for the `due` fast path, which reads through the database driver alone. Commands that
read no case data (help, working days, showing or checking a workflow file, creating
the database) never ask.

Fields a workflow marks `personal` (the child's name) are left out of every view. A view
that includes them (`allow_personal`) is for the roles the workflow marks
`sees_personal`, and is itself recorded in the log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from casereview.errors import Refused, Step
from casereview.services.context import ServiceContext
from casereview.services.uncased_events import uncased_event
from casereview.store import access as access_rows

if TYPE_CHECKING:
    from casereview.domain.workflow.model import WorkflowDefinition
    from casereview.store.database import Connection
    from casereview.store.reading import Reader


ACCESS_KIND = "access"
"""The kind of event that records a view of personal fields (case_id and case_ref NULL,
like the admin events: it names its cases in its fields)."""

VIEW_PERSONAL = "view_personal"


@dataclass(frozen=True)
class Viewer:
    """The registered, active user reading, with the roles they hold now."""

    username: str
    roles: frozenset[str]


def require_reader(ctx: ServiceContext, source: Reader | Connection) -> Viewer:
    """The account at the keyboard as a reader, or Refused (exit 4) when it is not a
    registered user or has been deactivated. `source` is the command's own snapshot."""
    row = access_rows.account(source, ctx.account)
    if row is None:
        raise Refused(
            "account {account!r} is not a casereview user and may not read cases; an "
            "admin must add it first ('{next}')",
            account=ctx.account,
            next=Step("add_user", (ctx.account,)),
        )
    if not row["active"]:
        raise Refused(
            "account {account!r} has been deactivated and may no longer read cases",
            account=ctx.account,
        )
    return Viewer(ctx.account, frozenset(json.loads(row["roles"])))


def require_admin(ctx: ServiceContext, conn: Connection, what: str) -> None:
    """Refused (exit 4) unless the account at the keyboard is a registered, active user
    holding the admin role; `what` is what only an admin can do ("manage users"). The
    one admin check of every admin command (users, workflows, the partnership, moving
    cases between versions)."""
    # Imported here: the authority rules load the engine, which a reader's check (the
    # `due` fast path) must not.
    from casereview.domain.authority import ADMIN

    row = access_rows.account(conn, ctx.account)
    if row is None:
        raise Refused(
            "account {account!r} is not a casereview user; an admin must add it first",
            account=ctx.account,
        )
    if not row["active"]:
        raise Refused(
            "account {account!r} is deactivated; an admin must reactivate it",
            account=ctx.account,
        )
    if ADMIN not in json.loads(row["roles"]):
        raise Refused(
            "only an admin can {what}; {account!r} is not an admin",
            what=what,
            account=ctx.account,
        )


ALL_CASES = "all"
"""What a personal view names when it showed every case it read, not one."""


def allow_personal(
    ctx: ServiceContext,
    viewer: Viewer,
    definitions: Iterable[WorkflowDefinition],
    *,
    command: str,
    cases: Sequence[str] | str,
    made_at: str | None = None,
) -> None:
    """Let `viewer` see the personal fields of cases on `definitions`, and record that
    they did; or Refused, and nothing is recorded or shown.

    The viewer must hold, for every workflow involved, a role that workflow marks
    `sees_personal`. The view is an event (kind "access", trigger "view_personal",
    naming the command, the cases and, for a file, its `made_at` as `created_at`)
    appended through the one append path, so it is on the hash chain like every other
    event; it is recorded before anything is shown."""
    workflows = list(definitions)
    if not workflows:
        return  # no case in view, so no personal field either
    allowed = frozenset.intersection(*(d.personal_roles for d in workflows))
    held = sorted(viewer.roles & allowed)
    if not allowed:
        raise Refused("the workflow lets no role see its personal fields")
    if not held:
        who = ", ".join(sorted(allowed))
        raise Refused(
            "personal fields are shown only to {who} (the workflow's roles that may see "
            "them); account {account!r} holds none of them",
            who=who,
            account=viewer.username,
        )
    fields: dict[str, object] = {
        "command": command,
        "cases": cases if isinstance(cases, str) else sorted(cases),
        # A file that holds them (an export) names the instant it was made, so
        # verify-export can find this record of it.
        **({"created_at": made_at} if made_at is not None else {}),
    }
    record = uncased_event(
        ctx, ACCESS_KIND, VIEW_PERSONAL, fields, role=held[0], actor=viewer.username
    )
    from casereview.services import keys
    from casereview.store import event_log  # SQLAlchemy: only when a view is recorded

    with ctx.db().unit_of_work() as uow:
        event_log.append_event(uow.conn, record, None, keys.write_signer(ctx, uow.conn))
        uow.commit()


def recorded_personal_exports(conn: Connection) -> set[str]:
    """The `created_at` of every export with personal fields the log records."""
    return {
        str(fields["created_at"])
        for fields in access_rows.access_fields(conn, ACCESS_KIND, VIEW_PERSONAL)
        if isinstance(fields, dict)
        and fields.get("command") == "log export"
        and "created_at" in fields
    }
