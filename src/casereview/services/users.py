"""Use cases about the installation and its people: `init`, `user add`, `user list`.

Users are recorded through events like everything else, so who was given which role,
by whom and when, is part of the verifiable log.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from casereview.domain import chain
from casereview.errors import Conflict, Input, InvalidInput, NotFound, Refused, Step
from casereview.infra import keys as key_files
from casereview.services import keys
from casereview.services.context import ServiceContext
from casereview.store import event_log
from casereview.store import users as user_rows

if TYPE_CHECKING:
    from casereview.store.database import Connection, Row

ADMIN = "admin"
_USERNAME = re.compile(r"[a-z_][a-z0-9_.-]{0,63}", re.IGNORECASE)


@dataclass(frozen=True)
class UserView:
    username: str
    display_name: str
    roles: tuple[str, ...]
    agency: str | None
    active: bool


@dataclass(frozen=True)
class InitResult:
    location: str
    created: bool
    admin: str


def _known_roles_and_agencies(ctx: ServiceContext) -> tuple[set[str], set[str]]:
    roles = {ADMIN}
    agencies: set[str] = set()
    for entry in ctx.registry.list():
        roles.update(r.id for r in entry.definition.roles)
        agencies.update(a.id for a in entry.definition.agencies)
    return roles, agencies


def _admin_event(ctx: ServiceContext, trigger: str, fields: dict[str, object]) -> dict[str, object]:
    return {
        "kind": "admin",
        "case_ref": None,
        "trigger": trigger,
        "from_state": None,
        "to_state": None,
        "occurred_on": ctx.clock.today().isoformat(),
        "recorded_at": chain.format_instant(ctx.clock.now()),
        "actor": ctx.account,
        "on_behalf_of": None,
        "role": ADMIN,
        "rationale": None,
        "fields": fields,
        "workflow_id": None,
        "workflow_version": None,
        "definition_hash": None,
    }


def init(ctx: ServiceContext, display_name: str | None = None) -> InitResult:
    """Create the database if needed and register the current account as admin."""
    from casereview.store import location

    if display_name is not None:
        _check_display_name(display_name)

    db = ctx.db(create=True)
    with db.unit_of_work() as uow:
        if user_rows.count_users(uow.conn) > 0:
            return InitResult(location.describe(ctx.url), False, ctx.account)
        fields: dict[str, object] = {
            "username": ctx.account,
            "display_name": display_name or ctx.account,
            "roles": [ADMIN],
            "agency": None,
        }
        # The bootstrap: the first admin, then their key (confirmed by being first).
        signer, _created = key_files.load_or_create_key(ctx.account, ctx.key_dir)
        record = _admin_event(ctx, "user_add", fields)
        appended = event_log.append_event(uow.conn, record, None, signer)
        user_rows.upsert_user(
            uow.conn,
            username=ctx.account,
            display_name=str(fields["display_name"]),
            roles=[ADMIN],
            agency=None,
            active=True,
            seq=appended.seq,
        )
        keys.enrol_in(ctx, uow.conn)
        uow.commit()
    return InitResult(location.describe(ctx.url), True, ctx.account)


def _require_admin(ctx: ServiceContext, conn: Connection) -> None:
    me = user_rows.get_user(conn, ctx.account)
    if me is None or not me["active"]:
        raise Refused(
            f"account {ctx.account!r} is not a casereview user; an admin must add it first"
        )
    if ADMIN not in json.loads(me["roles"]):
        raise Refused(f"only an admin can manage users; {ctx.account!r} is not an admin")


def _check_display_name(display_name: str) -> None:
    if not display_name.strip():
        raise InvalidInput("{name} must not be empty", name=Input("name"))
    if not display_name.isprintable() or len(display_name) > 200:
        raise InvalidInput(
            "{name} must be printable text of at most 200 characters", name=Input("name")
        )


def add_user(
    ctx: ServiceContext,
    username: str,
    display_name: str,
    roles: list[str],
    agency: str | None,
) -> UserView:
    """Add a user, or change an existing user's name, roles and agency."""
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(
            "username must be an operating-system or database login name "
            "(letters, digits, '_', '.', '-'; at most 64 characters)"
        )
    _check_display_name(display_name)
    if not roles:
        raise InvalidInput("give at least one {role}", role=Input("role"))
    known_roles, known_agencies = _known_roles_and_agencies(ctx)
    unknown = sorted(set(roles) - known_roles)
    if unknown:
        raise InvalidInput(
            f"unknown role {unknown[0]!r}; roles are: {', '.join(sorted(known_roles))}"
        )
    if agency is not None and agency not in known_agencies:
        raise InvalidInput(
            f"unknown agency {agency!r}; agencies are: {', '.join(sorted(known_agencies))}"
        )
    if "partner" in roles and agency is None:
        raise InvalidInput(
            "a partner signs off for an agency: give {agency}", agency=Input("agency")
        )
    roles = sorted(set(roles))
    db = ctx.db()
    with db.unit_of_work() as uow:
        _require_admin(ctx, uow.conn)
        existing = user_rows.get_user(uow.conn, username)
        trigger = "user_add" if existing is None else "user_change"
        if existing is not None and (
            existing["display_name"] == display_name
            and json.loads(existing["roles"]) == roles
            and existing["agency"] == agency
            and existing["active"]
        ):
            raise Conflict(f"user {username!r} already exists with exactly these details")
        fields: dict[str, object] = {
            "username": username,
            "display_name": display_name,
            "roles": roles,
            "agency": agency,
        }
        signer = keys.write_signer(ctx, uow.conn)
        record = _admin_event(ctx, trigger, fields)
        appended = event_log.append_event(uow.conn, record, None, signer)
        user_rows.upsert_user(
            uow.conn,
            username=username,
            display_name=display_name,
            roles=roles,
            agency=agency,
            active=True,
            seq=appended.seq,
        )
        uow.commit()
    return UserView(username, display_name, tuple(roles), agency, True)


def list_users(ctx: ServiceContext) -> list[UserView]:
    with ctx.db().reading() as conn:
        return [_view(row) for row in user_rows.list_users(conn)]


def get_user(ctx: ServiceContext, username: str) -> UserView:
    with ctx.db().reading() as conn:
        row = user_rows.get_user(conn, username)
    if row is None:
        raise NotFound(
            "no user {username!r}; see '{next}'", username=username, next=Step("list_users")
        )
    return _view(row)


def _view(row: Row) -> UserView:
    return UserView(
        username=str(row["username"]),
        display_name=str(row["display_name"]),
        roles=tuple(json.loads(row["roles"])),
        agency=row["agency"],
        active=bool(row["active"]),
    )
