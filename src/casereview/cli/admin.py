"""`casereview init` and `casereview user add|list`: the installation and its people."""

from __future__ import annotations

from typing import Annotated

import typer

from casereview.cli.options import DbOption, JsonOption, context

user_app = typer.Typer(no_args_is_help=True, help="People and their roles: add, list.")


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
) -> None:
    """Create the database and register your operating-system account as admin."""
    from casereview.cli.render import admin as render
    from casereview.services import users

    render.initialised(users.init(context(db), name, group))


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Operating-system (or database) login name.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    role: Annotated[
        list[str],
        typer.Option("--role", help="Role id (repeat for several): business_unit, chair, …"),
    ],
    agency: Annotated[
        str | None,
        typer.Option("--agency", help="Agency a partner signs for: local_authority|police|icb."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Add a user, or change an existing user's name, roles and agency (admin only)."""
    from casereview.cli.render import admin as render
    from casereview.services import users

    render.user_added(users.add_user(context(db), username, name, role, agency))


@user_app.command("list")
def user_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List users with their roles and agency."""
    from casereview.cli.render import admin as render
    from casereview.services import users

    render.users(users.list_users(context(db)), as_json)
