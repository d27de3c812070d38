"""`casereview key enrol|confirm|list|revoke`: the signing keys events are signed with."""

from __future__ import annotations

from typing import Annotated

import typer

from casereview.cli.options import DbOption, JsonOption, context

app = typer.Typer(
    no_args_is_help=True,
    help="Signing keys: every event is signed by its recorder's own key (enrol, confirm, "
    "list, revoke).",
)


@app.command("enrol")
def key_enrol(
    db: DbOption = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="Put the current key aside and enrol a new one (after a revoke)."
        ),
    ] = False,
) -> None:
    """Enrol your signing key (created on first use); an admin then confirms it."""
    from casereview.cli.render import keys as render
    from casereview.services import keys

    render.enrolled(keys.enrol(context(db), replace=replace))


@app.command("confirm")
def key_confirm(
    username: Annotated[str, typer.Argument(help="The key's owner.")],
    key_id: Annotated[str, typer.Argument(help="The key id `casereview key list` shows.")],
    db: DbOption = None,
) -> None:
    """Confirm a user's enrolled key (admin only; signed with your own confirmed key)."""
    from casereview.cli.render import keys as render
    from casereview.services import keys

    render.changed(keys.confirm(context(db), username, key_id), "Confirmed")


@app.command("revoke")
def key_revoke(
    username: Annotated[
        str | None, typer.Argument(help="The key's owner (default: you; others: admin only).")
    ] = None,
    key_id: Annotated[
        str | None, typer.Argument(help="The key id (default: your key on this machine).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Revoke a key: events signed with it after this are findings of `audit verify`."""
    from casereview.cli.render import keys as render
    from casereview.services import keys

    render.changed(keys.revoke(context(db), username, key_id), "Revoked")


@app.command("list")
def key_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List every enrolled key with its owner and state."""
    from casereview.cli.render import keys as render
    from casereview.services import keys

    render.key_list(keys.list_keys(context(db)), as_json)
