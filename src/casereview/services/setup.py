"""`setup`: a new installation's first hour in one command. The database, its admin (the
account at the keyboard), the partnership's name, the admin's own working roles and the
first people with their roles and agencies.

Nothing here records anything itself: each step is the service that does it on its own
(`users.init`, `partnership.set_name`, `users.grant_role`, `users.add_user`), so the log
holds the same events as the commands typed one by one, and `audit verify` checks them
the same way. Everything asked for is checked before the first step is taken (`plan`),
so a mistake in the fifth person leaves nothing half done; a person who already exists
exactly as asked is left as they are and said to be, one who exists otherwise is
refused (Conflict), never silently changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from casereview.errors import CaseReviewError, Conflict, Input, InvalidInput, Step
from casereview.services import partnership as partnerships
from casereview.services import users
from casereview.services.context import ServiceContext


@dataclass(frozen=True)
class Person:
    """Someone to add: their login, display name, roles and the agency they act for."""

    username: str
    display_name: str
    roles: tuple[str, ...]
    agency: str | None = None


@dataclass(frozen=True)
class Choice:
    """A role or an agency as the questions offer it."""

    id: str
    label: str
    description: str = ""
    has_agency: bool = False


@dataclass(frozen=True)
class Choices:
    """What the questions offer, from the default workflow: every role a person can be
    given and the agencies a role that acts for one chooses from, the role that opens
    cases; and what is already recorded (the partnership's name; the people, by login)."""

    roles: tuple[Choice, ...]
    agencies: tuple[Choice, ...]
    open_role: str | None
    partnership: str | None
    people: dict[str, users.UserView]
    admin: str
    location: str
    created: bool

    @property
    def agency_roles(self) -> frozenset[str]:
        return frozenset(r.id for r in self.roles if r.has_agency)


@dataclass
class SetupResult:
    location: str
    admin: str
    created: bool
    partnership: str | None = None
    partnership_changed: bool = False
    granted: list[str] = field(default_factory=list)
    added: list[users.UserView] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def start(ctx: ServiceContext, group: str | None = None) -> Choices:
    """Create the database if needed, with the account at the keyboard as its admin
    (`users.init`), and say what the questions may offer. An existing installation is
    set up further only by an admin (Refused otherwise)."""
    from casereview.infra.workflows import DEFAULT_WORKFLOW

    made = users.init(ctx, None, group)
    users.require_admin_account(ctx)
    try:
        definition = ctx.registry.get(DEFAULT_WORKFLOW)
    except CaseReviewError:
        definition = None  # the questions offer no role; the service checks each anyway
    roles: tuple[Choice, ...] = ()
    agencies: tuple[Choice, ...] = ()
    open_role = None
    if definition is not None:
        roles = tuple(
            Choice(r.id, r.label, r.description, r.has_agency)
            for r in definition.roles
            if r.id != users.ADMIN
        )
        agencies = tuple(Choice(a.id, a.label, a.description) for a in definition.agencies)
        open_role = definition.open_roles[0]
    known = {u.username: u for u in users.list_users(ctx, include_inactive=True)}
    return Choices(
        roles=roles,
        agencies=agencies,
        open_role=open_role,
        partnership=partnerships.current(ctx).name,
        people=known,
        admin=ctx.account,
        location=made.location,
        created=made.created,
    )


def check_person(ctx: ServiceContext, choices: Choices, person: Person) -> bool:
    """Whether `person` is new (True) or already recorded exactly so (False); InvalidInput
    for a login, name, role or agency that cannot be recorded, Conflict for someone
    recorded otherwise."""
    users.check_new_user(
        ctx, person.username, person.display_name, list(person.roles), person.agency
    )
    known = choices.people.get(person.username)
    if known is None:
        return True
    if (
        known.active
        and known.display_name == person.display_name
        and set(known.roles) == set(person.roles)
        and known.agency == person.agency
    ):
        return False
    raise Conflict(
        "user {username!r} already exists with other details; setup never changes an "
        "existing user: use '{grant}' or '{revoke}'",
        username=person.username,
        grant=Step("grant_role", (person.username,)),
        revoke=Step("revoke_role", (person.username,)),
    )


def run(
    ctx: ServiceContext,
    *,
    partnership: str | None = None,
    my_roles: tuple[str, ...] = (),
    my_agency: str | None = None,
    people: tuple[Person, ...] = (),
    group: str | None = None,
) -> SetupResult:
    """Set the installation up as asked: everything is checked first, then each step is
    recorded by its own service, in order (the name, the admin's roles, each person)."""
    if partnership is not None:
        partnership = partnerships.check_name(partnership)
    logins = [p.username for p in people]
    repeated = sorted({u for u in logins if logins.count(u) > 1})
    if repeated:
        raise InvalidInput(
            "{person} names {login!r} more than once", person=Input("person"), login=repeated[0]
        )
    if ctx.account in logins:
        raise InvalidInput(
            "{person} names {login!r}, the admin running setup: give your own roles with {me}",
            person=Input("person"),
            login=ctx.account,
            me=Input("my_role"),
        )
    # What can be checked without the database first: a mistake in a script's flags
    # must not leave a new database behind.
    for p in people:
        users.check_new_user(ctx, p.username, p.display_name, list(p.roles), p.agency)
    agency_roles = users.agency_roles(ctx)
    for role in dict.fromkeys(my_roles):
        users.check_role(ctx, role, my_agency if role in agency_roles else None)
    if my_agency is not None and agency_roles.isdisjoint(my_roles):
        raise InvalidInput(
            "{agency} is for a {role} that acts for an agency; none of yours does",
            agency=Input("my_agency"),
            role=Input("my_role"),
        )
    choices = start(ctx, group)
    new = [p for p in people if check_person(ctx, choices, p)]
    mine = choices.people[ctx.account]
    grants = [r for r in dict.fromkeys(my_roles) if r not in mine.roles]
    result = SetupResult(choices.location, ctx.account, choices.created)
    result.partnership = choices.partnership
    if partnership is not None and partnership != choices.partnership:
        result.partnership = partnerships.set_name(ctx, partnership).name
        result.partnership_changed = True
    for role in grants:
        users.grant_role(ctx, ctx.account, role, my_agency if role in agency_roles else None)
        result.granted.append(role)
    for person in people:
        if person in new:
            result.added.append(
                users.add_user(
                    ctx, person.username, person.display_name, list(person.roles), person.agency
                )
            )
        else:
            result.unchanged.append(person.username)
    return result
