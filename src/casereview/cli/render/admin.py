"""Rendering for `init` and `user …`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.table import Table

from casereview.cli import shell
from casereview.cli.render.console import info, literal, out, print_json_data
from casereview.domain.identities import Identity
from casereview.services.identities import LinkView
from casereview.services.partnership import Partnership
from casereview.services.users import InitResult, NextSteps, UserView

PLACEHOLDERS = ("LOGIN", "FULL NAME", "NAME", "REF", "YYYY-MM-DD")
"""What the printed next steps leave to the person (`init`): every other word in them
is true of this installation (`FULL NAME` is filled in before `NAME`)."""


def initialised(result: InitResult, db: str | None) -> None:
    if not result.created:
        info(f"{result.location} is already initialised; nothing changed.")
        return
    info(f"Created {result.location} and registered {result.admin} as admin.")
    if result.partnership is not None:
        info(f"The partnership is {result.partnership}: its name heads every report and export.")
    if result.next_steps is not None:
        info(
            next_steps(
                result.admin,
                result.next_steps,
                result.location if db else None,
                named=result.partnership is not None,
            )
        )


def partnership(found: Partnership, *, as_json: bool = False) -> None:
    if as_json:
        print_json_data({"name": found.name})
        return
    if found.name is None:
        info(
            "The partnership has no name yet; an admin names it with "
            "'casereview partnership set \"NAME\"'."
        )
        return
    if found.changed:
        info(f"The partnership is now called {found.name}.")
        return
    out().print(literal(found.name))


def next_steps(admin: str, steps: NextSteps, db: str | None, *, named: bool = True) -> str:
    """The commands a new installation runs next, in order; lines starting with `#`
    say why (the whole text can be pasted into a shell once the placeholders are
    filled in). `db` is the database named at `init` (shown without its password), or
    None when the environment names it for every command."""
    hidden = db is not None and "***" in db
    where = f" --db {shell.quote(db)}" if db and not hidden else ""

    def command(*words: str) -> str:
        return "  casereview " + " ".join(words) + where

    opener = steps.open_role
    lines = [f"Next steps ({', '.join(PLACEHOLDERS)} are yours to fill in):"]
    if hidden:
        # The URL's password is never printed: the person names the database the way
        # they did for `init`, once, for every command below.
        lines.append("  # 0. Set CASEREVIEW_DATABASE_URL to the database URL (with its password).")
    if not named:
        lines += [
            "  # Name the partnership (it heads every report and export):",
            command("partnership", "set", '"NAME"'),
        ]
    lines += [
        "  # (Or let 'casereview setup' ask for all of this, explaining each question.)",
        f"  # 1. To open cases and record steps yourself, add the {opener} role to your",
        "  #    own account (you keep admin):",
        command("user", "grant", shell.quote(admin), opener),
        "  # 2. Add each person once, with their role; later changes are",
        "  #    'casereview user grant LOGIN ROLE' and 'casereview user revoke LOGIN ROLE':",
    ]
    for role in steps.roles:
        words = ["user", "add", "LOGIN", "--name", '"FULL NAME"', "--role", role]
        if role in steps.agency_roles and steps.agencies:
            words += ["--agency", steps.agencies[0]]
        lines.append(command(*words))
    if steps.agency_roles and len(steps.agencies) > 1:
        lines.append(f"  #    (--agency is one of: {', '.join(steps.agencies)})")
    lines += [
        f"  # 3. Open the first case (as a user with the {opener} role):",
        command("case", "open", "REF", "--aware-on", "YYYY-MM-DD"),
    ]
    return "\n".join(lines)


def user_saved(user: UserView, what: str) -> None:
    agency = f" for {user.agency}" if user.agency else ""
    state = "" if user.active else " (deactivated)"
    roles = ", ".join(user.roles) or "no role"
    info(f"{what}: user {user.username} now holds {roles}{agency}{state}.")


def identity_saved(link: LinkView) -> None:
    done = "Linked" if link.linked else "Unlinked"
    way = "to" if link.linked else "from"
    info(f"{done} the sign-in identity {link.subject} of {link.issuer} {way} {link.username}.")


def users(
    rows: Sequence[UserView],
    as_json: bool,
    identities: Mapping[str, Sequence[Identity]] | None = None,
) -> None:
    if as_json:
        linked = identities or {}
        print_json_data(
            [
                {
                    "username": u.username,
                    "display_name": u.display_name,
                    "roles": list(u.roles),
                    "agency": u.agency,
                    "active": u.active,
                    "identities": [
                        {"issuer": i.issuer, "subject": i.subject}
                        for i in linked.get(u.username, ())
                    ],
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
