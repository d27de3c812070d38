"""Rendering for `init` and `user …`."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from casereview.cli.render.console import info, literal, out, print_json_data
from casereview.services.users import InitResult, UserView


def initialised(result: InitResult) -> None:
    if result.created:
        info(f"Created {result.location} and registered {result.admin} as admin.")
    else:
        info(f"{result.location} is already initialised; nothing changed.")


def user_added(user: UserView) -> None:
    agency = f" for {user.agency}" if user.agency else ""
    info(f"Saved user {user.username}: {', '.join(user.roles)}{agency}.")


def users(rows: Sequence[UserView], as_json: bool) -> None:
    if as_json:
        print_json_data(
            [
                {
                    "username": u.username,
                    "display_name": u.display_name,
                    "roles": list(u.roles),
                    "agency": u.agency,
                    "active": u.active,
                }
                for u in rows
            ]
        )
        return
    table = Table("username", "name", "roles", "agency", "active")
    for u in rows:
        table.add_row(
            literal(u.username),
            literal(u.display_name),
            ", ".join(u.roles),
            u.agency or "",
            "yes" if u.active else "no",
        )
    out().print(table)
