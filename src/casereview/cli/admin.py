"""`casereview init` and `casereview user add|grant|revoke|deactivate|reactivate|link|
unlink|list`: the installation and its people."""

from __future__ import annotations

from typing import Annotated

import typer

from casereview.cli.options import DbOption, JsonOption, context

user_app = typer.Typer(
    no_args_is_help=True,
    help="People and their roles: add, grant, revoke, deactivate, reactivate, link, unlink, list.",
)

UsernameArgument = Annotated[
    str, typer.Argument(help="Operating-system (or database) login name.", show_default=False)
]
AgencyOption = Annotated[
    str | None,
    typer.Option("--agency", help="Agency a partner signs for: local_authority|police|icb."),
]


def init(
    db: DbOption = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Your display name (default: account name).")
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(
            "--group",
            metavar="GROUP",
            help="Share the SQLite file with this operating-system group (mode 0660; you "
            "must belong to it). Without it the file is yours alone (0600).",
        ),
    ] = None,
    partnership: Annotated[
        str | None,
        typer.Option(
            "--partnership",
            metavar="NAME",
            help="The safeguarding partnership's name, e.g. \"Northshire Safeguarding "
            'Children Partnership": heads every report and export (recorded in the log; '
            "change it later with 'casereview partnership set').",
        ),
    ] = None,
) -> None:
    """Create the database and register your operating-system account as admin; on a
    new installation, print the commands to run next."""
    from casereview.cli.render import admin as render
    from casereview.services import users

    render.initialised(users.init(context(db), name, group, partnership), db)


partnership_app = typer.Typer(
    no_args_is_help=True,
    help="The partnership's name, shown in every report and export: show, set.",
)


@partnership_app.command("set")
def partnership_set(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="The partnership's name.", show_default=False)
    ],
    db: DbOption = None,
) -> None:
    """Name or rename the partnership (admin only); recorded in the log. Reports and
    exports made afterwards carry the new name."""
    from casereview.cli.render import admin as render
    from casereview.services import partnership

    render.partnership(partnership.set_name(context(db), name))


@partnership_app.command("show")
def partnership_show(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Print the partnership's name (nothing named yet: a hint to name it)."""
    from casereview.cli.render import admin as render
    from casereview.services import partnership

    render.partnership(partnership.current(context(db)), as_json=as_json)


@user_app.command("add")
def user_add(
    username: UsernameArgument,
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    role: Annotated[
        list[str],
        typer.Option("--role", help="Role id (repeat for several): business_unit, chair, …"),
    ],
    agency: AgencyOption = None,
    db: DbOption = None,
) -> None:
    """Add a new user with their roles (admin only). An existing user is refused: change
    their roles with 'user grant' and 'user revoke'."""
    from casereview.cli.render import admin as render
    from casereview.services import users

    render.user_saved(users.add_user(context(db), username, name, role, agency), "Added")


@user_app.command("grant")
def user_grant(
    username: UsernameArgument,
    role: Annotated[str, typer.Argument(help="Role id to give: business_unit, chair, …")],
    agency: AgencyOption = None,
    db: DbOption = None,
) -> None:
    """Give a user one more role (admin only); a partner's role needs --agency."""
    from casereview.cli.render import admin as render
    from casereview.services import users

    render.user_saved(users.grant_role(context(db), username, role, agency), "Granted")


@user_app.command("revoke")
def user_revoke(
    username: UsernameArgument,
    role: Annotated[str, typer.Argument(help="Role id to take away.")],
    db: DbOption = None,
) -> None:
    """Take one role from a user (admin only). The last active admin keeps admin."""
    from casereview.cli.render import admin as render
    from casereview.services import users

    render.user_saved(users.revoke_role(context(db), username, role), "Revoked")


@user_app.command("deactivate")
def user_deactivate(username: UsernameArgument, db: DbOption = None) -> None:
    """Stop a user recording anything (admin only); their history stays in the log. The
    last active admin cannot be deactivated."""
    from casereview.cli.render import admin as render
    from casereview.services import users

    render.user_saved(users.deactivate(context(db), username), "Deactivated")


@user_app.command("reactivate")
def user_reactivate(username: UsernameArgument, db: DbOption = None) -> None:
    """Let a deactivated user record again, with the roles they held (admin only)."""
    from casereview.cli.render import admin as render
    from casereview.services import users

    render.user_saved(users.reactivate(context(db), username), "Reactivated")


IssuerOption = Annotated[
    str,
    typer.Option(
        "--issuer",
        metavar="URL",
        help="The identity provider's issuer URL, as its ID tokens give it (iss).",
    ),
]
SubjectOption = Annotated[
    str,
    typer.Option(
        "--subject",
        metavar="SUB",
        help="The provider's id for the person (the ID token's sub; not an email address).",
    ),
]


@user_app.command("link")
def user_link(
    username: UsernameArgument, issuer: IssuerOption, subject: SubjectOption, db: DbOption = None
) -> None:
    """Let a user sign in to the web interface with an identity provider's account: link
    the verified identity (issuer, subject) to them (admin only)."""
    from casereview.cli.render import admin as render
    from casereview.services import identities

    render.identity_saved(identities.link(context(db), username, issuer, subject))


@user_app.command("unlink")
def user_unlink(
    username: UsernameArgument, issuer: IssuerOption, subject: SubjectOption, db: DbOption = None
) -> None:
    """Remove a user's link to a sign-in identity (admin only): that identity signs in
    as nobody from then on."""
    from casereview.cli.render import admin as render
    from casereview.services import identities

    render.identity_saved(identities.unlink(context(db), username, issuer, subject))


@user_app.command("list")
def user_list(
    db: DbOption = None,
    as_json: JsonOption = False,
    everyone: Annotated[bool, typer.Option("--all", help="Include deactivated users.")] = False,
) -> None:
    """List active users with their roles and agency (--all: deactivated users too);
    with --json, each user's linked sign-in identities too."""
    from casereview.cli.render import admin as render
    from casereview.services import identities, users

    ctx = context(db)
    rows = users.list_users(ctx, include_inactive=everyone)
    render.users(rows, as_json, identities.linked(ctx) if as_json else None)
