"""`casereview serve`: the web interface on this machine, acting as the account that
started it (docs/web.md). Parses the options, makes one call into `casereview.web`; the
web packages are imported only here, so no other command pays for them."""

from __future__ import annotations

from typing import Annotated

import typer

from casereview.cli import options
from casereview.cli.options import DbOption


def serve(
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on. The default, 127.0.0.1, lets only this machine in.",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
    db: DbOption = None,
) -> None:
    """Serve the web interface, acting as your account: open the sign-in link it prints
    (each link works once; the next is printed when one is used). Stop with Ctrl+C."""
    from casereview.services.server_contexts import ServerContexts
    from casereview.web import app

    base = options.context(db)
    # The database, the workflow files and the bank holidays are opened and read once,
    # not on every request: each request's context shares them.
    contexts = ServerContexts(base.url, base.account, key_dir=base.key_dir)
    base.close()
    typer.echo(f"Serving casereview as {contexts.account} on http://{host}:{port}", err=True)
    try:
        app.serve(contexts, host=host, port=port)
    finally:
        contexts.close()


def register(root: typer.Typer) -> None:
    """Add the `serve` command to the root app."""
    root.command("serve")(serve)
