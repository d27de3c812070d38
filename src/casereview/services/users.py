"""Use cases about the installation and its people: `init`, `user add|grant|revoke|
deactivate|reactivate|list`.

Users are recorded through events like everything else, so who was given which role,
by whom and when, is part of the verifiable log. Roles change one at a time (`user_grant`,
`user_revoke`), never by replacing a user's roles wholesale, and nothing can leave the
installation without an active admin: the last one can neither lose `admin` nor be
deactivated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from casereview.domain import authority, user_events
from casereview.domain.workflow.references import unknown as unknown_id
from casereview.errors import Conflict, Input, InvalidInput, NotFound, Refused, Step
from casereview.infra import keys as key_files
from casereview.services import keys
from casereview.services.access import require_admin
from casereview.services.context import ServiceContext
from casereview.services.uncased_events import uncased_event
from casereview.store import event_log
from casereview.store import users as user_rows

if TYPE_CHECKING:
    from casereview.store.database import Connection, Row

ADMIN = authority.ADMIN
_USERNAME = re.compile(r"[a-z_][a-z0-9_.-]{0,63}", re.IGNORECASE)


@dataclass(frozen=True)
class UserView:
    username: str
    display_name: str
    roles: tuple[str, ...]
    agency: str | None
    active: bool


@dataclass(frozen=True)
class NextSteps:
    """What a fresh installation needs next, from the default workflow: the role that
    opens cases (for the admin to grant themselves, if they also open cases), every
    other role a person can be given (with the agencies a role that acts for one
    chooses from), and the inputs that opening a case needs."""

    open_role: str
    roles: tuple[str, ...]
    agencies: tuple[str, ...]
    agency_roles: frozenset[str]


@dataclass(frozen=True)
class InitResult:
    location: str
    created: bool
    admin: str
    next_steps: NextSteps | None = None
    partnership: str | None = None


def _known_roles_and_agencies(ctx: ServiceContext) -> tuple[set[str], set[str], set[str]]:
    """Every role and agency a workflow declares, and the roles that act for an agency."""
    roles = {ADMIN}
    agencies: set[str] = set()
    agency_roles: set[str] = set()
    for entry in ctx.registry.list():
        roles.update(r.id for r in entry.definition.roles)
        agency_roles.update(r.id for r in entry.definition.roles if r.has_agency)
        agencies.update(a.id for a in entry.definition.agencies)
    return roles, agencies, agency_roles


def roles_and_agencies(ctx: ServiceContext) -> tuple[list[str], list[str], frozenset[str]]:
    """Every role and agency the workflows declare, sorted, and the roles that act for an
    agency: what an admin chooses from when giving someone a role."""
    roles, agencies, agency_roles = _known_roles_and_agencies(ctx)
    return sorted(roles), sorted(agencies), frozenset(agency_roles)


def admin_event(ctx: ServiceContext, trigger: str, fields: dict[str, object]) -> dict[str, object]:
    """An event by the admin at the keyboard, under no case: user management and
    workflow installation."""
    return uncased_event(ctx, "admin", trigger, fields, role=ADMIN)


def init(
    ctx: ServiceContext,
    display_name: str | None = None,
    group: str | None = None,
    partnership: str | None = None,
) -> InitResult:
    """Create the database if needed and register the current account as admin. With
    `group` (SQLite only), the database file is shared with that operating-system group
    (mode 0660; the caller must belong to it), else it is the caller's alone (0600).
    With `partnership`, the new installation's first admin names the partnership in the
    same transaction (`services.partnership`); an installation already named otherwise
    is refused (Conflict), with the command that renames it."""
    from casereview.services import partnership as partnerships
    from casereview.store import location
    from casereview.store.partnership import partnership_name

    if display_name is not None:
        _check_display_name(display_name)
    if partnership is not None:
        partnership = partnerships.check_name(partnership)
    gid = None
    if group is not None:
        from casereview.store.sqlite_file import group_id

        if location.file_of(ctx.url) is None:
            raise InvalidInput(
                "{group} is for a database file; a database server grants access with "
                "its own roles",
                group=Input("group"),
            )
        gid = group_id(group)

    db = ctx.db(create=True, group=gid)
    with db.unit_of_work() as uow:
        if user_rows.count_users(uow.conn) > 0:
            named = partnership_name(uow.conn)
            if partnership is not None and partnership != named:
                raise Conflict(
                    "{where} is already initialised; nothing changed. An admin names the "
                    "partnership with '{next}'",
                    where=location.describe(ctx.url),
                    next=Step("set_partnership", (partnership,)),
                )
            return InitResult(location.describe(ctx.url), False, ctx.account, None, named)
        if event_log.chain_head(uow.conn)[0] > 0:
            # Only the log's first event may register an admin without one: a log with
            # events but no user rows has lost its projection (see `audit verify`).
            raise Refused(
                "the database holds events but no users; nothing was recorded. "
                "Check it with '{verify}'",
                verify=Step("verify_log"),
            )
        fields: dict[str, object] = {
            "username": ctx.account,
            "display_name": display_name or ctx.account,
            "roles": [ADMIN],
            "agency": None,
        }
        # The bootstrap: the first admin, then their key (confirmed by being first).
        signer, _created = key_files.load_or_create_key(ctx.account, ctx.key_dir)
        appended = event_log.append_event(
            uow.conn, admin_event(ctx, "user_add", fields), None, signer
        )
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
        # The shipped workflows, installed by the first admin (docs/workflows.md), each
        # event signed by the key just enrolled.
        from casereview.services.workflows import install_shipped

        install_shipped(ctx, uow.conn)
        if partnership is not None:
            partnerships.record(ctx, uow.conn, partnership)
        uow.commit()
    return InitResult(location.describe(ctx.url), True, ctx.account, _next_steps(ctx), partnership)


def _next_steps(ctx: ServiceContext) -> NextSteps | None:
    """The next steps for the default workflow (None when it cannot be loaded: `init`
    has done its work all the same)."""
    from casereview.errors import CaseReviewError
    from casereview.infra.workflows import DEFAULT_WORKFLOW

    try:
        definition = ctx.registry.get(DEFAULT_WORKFLOW)
    except CaseReviewError:
        return None
    return NextSteps(
        open_role=definition.open_roles[0],
        roles=tuple(r.id for r in definition.roles if r.id != ADMIN),
        agencies=tuple(a.id for a in definition.agencies),
        agency_roles=frozenset(r.id for r in definition.roles if r.has_agency),
    )


def _check_display_name(display_name: str) -> None:
    if not display_name.strip():
        raise InvalidInput("{name} must not be empty", name=Input("name"))
    if not display_name.isprintable() or len(display_name) > 200:
        raise InvalidInput(
            "{name} must be printable text of at most 200 characters", name=Input("name")
        )


def _check_username(username: str) -> None:
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(
            "username must be an operating-system or database login name "
            "(letters, digits, '_', '.', '-'; at most 64 characters)"
        )


def agency_roles(ctx: ServiceContext) -> frozenset[str]:
    """The roles that act for an agency, in any workflow."""
    return frozenset(_known_roles_and_agencies(ctx)[2])


def require_admin_account(ctx: ServiceContext) -> None:
    """Refused unless the account at the keyboard is an active admin."""
    with ctx.db().reading() as conn:
        require_admin(ctx, conn, "manage users")


def check_role(ctx: ServiceContext, role: str, agency: str | None) -> None:
    """InvalidInput unless `role` can be given with `agency` (see `_check_role`)."""
    _check_role(ctx, role, agency)


def _check_role(ctx: ServiceContext, role: str, agency: str | None) -> None:
    """`role` is one some workflow declares; `agency` is given exactly when the role acts
    for one, and is an agency some workflow declares."""
    known_roles, known_agencies, agency_roles = _known_roles_and_agencies(ctx)
    if role not in known_roles:
        raise InvalidInput(unknown_id("role", role, known_roles))
    if agency is not None and agency not in known_agencies:
        raise InvalidInput(
            f"unknown agency {agency!r}; agencies are: {', '.join(sorted(known_agencies))}"
        )
    if role in agency_roles and agency is None:
        raise InvalidInput(
            "a {role} acts for an agency: give {agency} ({agencies})",
            role=role,
            agency=Input("agency"),
            agencies=", ".join(sorted(known_agencies)),
        )
    if role not in agency_roles and agency is not None:
        raise InvalidInput(
            "{role} acts for no agency: leave out {agency}", role=role, agency=Input("agency")
        )


def check_new_user(
    ctx: ServiceContext,
    username: str,
    display_name: str,
    roles: list[str],
    agency: str | None,
) -> list[str]:
    """InvalidInput unless a user can be added with these details (whether they exist
    already is the database's to say); their roles, sorted and without repeats."""
    _check_username(username)
    _check_display_name(display_name)
    if not roles:
        raise InvalidInput("give at least one {role}", role=Input("role"))
    known_roles, known_agencies, agency_roles = _known_roles_and_agencies(ctx)
    unknown = sorted(set(roles) - known_roles)
    if unknown:
        raise InvalidInput(unknown_id("role", unknown[0], known_roles))
    if agency is not None and agency not in known_agencies:
        raise InvalidInput(
            f"unknown agency {agency!r}; agencies are: {', '.join(sorted(known_agencies))}"
        )
    if agency is None and not agency_roles.isdisjoint(roles):
        role = sorted(agency_roles.intersection(roles))[0]
        raise InvalidInput(
            "a {role} acts for an agency: give {agency}", role=role, agency=Input("agency")
        )
    return sorted(set(roles))


def add_user(
    ctx: ServiceContext,
    username: str,
    display_name: str,
    roles: list[str],
    agency: str | None,
) -> UserView:
    """Add a new user with their first roles. An existing user is refused (Conflict):
    their roles change one at a time, with `grant_role` and `revoke_role`."""
    roles = check_new_user(ctx, username, display_name, roles, agency)
    db = ctx.db()
    with db.unit_of_work() as uow:
        require_admin(ctx, uow.conn, "manage users")
        if user_rows.get_user(uow.conn, username) is not None:
            raise Conflict(
                "user {username!r} already exists; 'user add' never changes an existing "
                "user's roles: use '{grant}' or '{revoke}'",
                username=username,
                grant=Step("grant_role", (username,)),
                revoke=Step("revoke_role", (username,)),
            )
        fields: dict[str, object] = {
            "username": username,
            "display_name": display_name,
            "roles": roles,
            "agency": agency,
        }
        signer = keys.write_signer(ctx, uow.conn)
        appended = event_log.append_event(
            uow.conn, admin_event(ctx, "user_add", fields), None, signer
        )
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


def _existing(conn: Connection, username: str) -> Row:
    row = user_rows.get_user(conn, username)
    if row is None:
        raise NotFound(
            "no user {username!r}; see '{next}'", username=username, next=Step("list_users")
        )
    return row


def _active_admins(conn: Connection) -> set[str]:
    return {
        str(row["username"])
        for row in user_rows.list_users(conn)
        if row["active"] and ADMIN in json.loads(row["roles"])
    }


def _keep_an_admin(conn: Connection, username: str, what: str) -> None:
    """Refuse a change that would leave no active admin: nobody could manage users
    again (grant a role, add a person, reactivate an account)."""
    if _active_admins(conn) == {username}:
        raise Refused(
            f"{username!r} is the last active admin; {what} would leave nobody able to "
            "manage users. Grant admin to another user first"
        )


def _change(
    ctx: ServiceContext,
    username: str,
    trigger: str,
    fields: dict[str, object],
    check: Callable[[Connection, UserView], None],
) -> UserView:
    """One user event by an admin: `check` refuses the change, or the event is
    appended and the user row becomes what the event makes it (`user_events.apply`,
    the rule `audit verify` replays), together or not at all."""
    db = ctx.db()
    with db.unit_of_work() as uow:
        require_admin(ctx, uow.conn, "manage users")
        before = _view(_existing(uow.conn, username))
        check(uow.conn, before)
        after = _view_of(user_events.apply({username: _record(before)}, trigger, fields))
        signer = keys.write_signer(ctx, uow.conn)
        appended = event_log.append_event(uow.conn, admin_event(ctx, trigger, fields), None, signer)
        user_rows.upsert_user(
            uow.conn,
            username=username,
            display_name=after.display_name,
            roles=after.roles,
            agency=after.agency,
            active=after.active,
            seq=appended.seq,
        )
        uow.commit()
    return after


def grant_role(ctx: ServiceContext, username: str, role: str, agency: str | None) -> UserView:
    """Give `username` one more role (with the agency it acts for, when the role acts
    for one): a `user_grant` event."""
    _check_role(ctx, role, agency)

    def check(conn: Connection, user: UserView) -> None:
        if role in user.roles:
            raise Conflict(f"user {username!r} already holds the role {role}; nothing changed")
        held = user.agency
        if agency is not None and held is not None and held != agency:
            _, _, agency_roles = _known_roles_and_agencies(ctx)
            acting = sorted(agency_roles.intersection(user.roles))
            if acting:
                raise Conflict(
                    f"user {username!r} acts for {held} as {', '.join(acting)}; a user acts "
                    "for one agency: revoke that role first"
                )

    fields: dict[str, object] = {"username": username, "role": role, "agency": agency}
    return _change(ctx, username, "user_grant", fields, check)


def revoke_role(ctx: ServiceContext, username: str, role: str) -> UserView:
    """Take one role from `username`: a `user_revoke` event. The last active admin
    keeps `admin`."""

    def check(conn: Connection, user: UserView) -> None:
        if role not in user.roles:
            raise Conflict(
                f"user {username!r} does not hold the role {role}; nothing changed "
                f"(holds: {', '.join(user.roles) or 'no role'})"
            )
        if role == ADMIN and user.active:
            _keep_an_admin(conn, username, "taking admin from them")

    fields: dict[str, object] = {"username": username, "role": role}
    return _change(ctx, username, "user_revoke", fields, check)


def deactivate(ctx: ServiceContext, username: str) -> UserView:
    """Stop `username` recording anything: a `user_deactivate` event. The user, their
    roles and everything they recorded stay in the log. The last active admin cannot
    be deactivated."""

    def check(conn: Connection, user: UserView) -> None:
        if not user.active:
            raise Conflict(f"user {username!r} is already deactivated; nothing changed")
        _keep_an_admin(conn, username, "deactivating them")

    return _change(ctx, username, "user_deactivate", {"username": username}, check)


def reactivate(ctx: ServiceContext, username: str) -> UserView:
    """Let a deactivated user record again, with the roles they held: a
    `user_reactivate` event."""

    def check(conn: Connection, user: UserView) -> None:
        if user.active:
            raise Conflict(f"user {username!r} is active; nothing changed")

    return _change(ctx, username, "user_reactivate", {"username": username}, check)


def list_users(ctx: ServiceContext, *, include_inactive: bool = False) -> list[UserView]:
    """Users in name order: the active ones, or (`include_inactive`) everyone."""
    from casereview.services.access import require_reader

    with ctx.db().reading() as conn:
        require_reader(ctx, conn)
        views = [_view(row) for row in user_rows.list_users(conn)]
    return [v for v in views if v.active or include_inactive]


def get_user(ctx: ServiceContext, username: str) -> UserView:
    with ctx.db().reading() as conn:
        row = user_rows.get_user(conn, username)
    if row is None:
        raise NotFound(
            "no user {username!r}; see '{next}'", username=username, next=Step("list_users")
        )
    return _view(row)


def _record(user: UserView) -> user_events.UserRecord:
    return user_events.UserRecord(
        user.username, user.display_name, user.roles, user.agency, user.active
    )


def _view_of(record: user_events.UserRecord) -> UserView:
    return UserView(
        record.username, record.display_name, record.roles, record.agency, record.active
    )


def _view(row: Row) -> UserView:
    return UserView(
        username=str(row["username"]),
        display_name=str(row["display_name"]),
        roles=tuple(json.loads(row["roles"])),
        agency=row["agency"],
        active=bool(row["active"]),
    )
