"""`casereview serve`: the web interface, acting as the account that started it, or with
`--shared` for the people who sign in to it with the partnership's identity provider
(docs/web.md, docs/deployment.md). Parses the options, makes one call into
`casereview.web`; the web packages are imported only here, so no other command pays for
them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from casereview.cli import options
from casereview.cli.options import DbOption

if TYPE_CHECKING:
    from casereview.services.context import ServiceContext
    from casereview.web.shared import SharedSignIn


def serve(
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on. The default, 127.0.0.1, lets only this machine in.",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
    shared: Annotated[
        bool,
        typer.Option(
            "--shared",
            help="Serve a shared installation: people sign in with the partnership's "
            "identity provider (OpenID Connect) and each records as themselves, signing "
            "with the key the server holds for them. No sign-in link is printed.",
        ),
    ] = False,
    settings: Annotated[
        Path | None,
        typer.Option(
            "--settings",
            help="With --shared: a TOML file of its settings (issuer, client_id, "
            "client_secret_file, redirect_uri, key_encryption_key_file, server_key_dir, "
            "partnership_name); each CASEREVIEW_… variable of docs/deployment.md wins over "
            "the file.",
            dir_okay=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Serve the web interface, acting as your account: open the sign-in link it prints
    (each link works once; the next is printed when one is used). With --shared, for
    the people who sign in with the identity provider. Stop with Ctrl+C."""
    from casereview.services.context import ServiceContext
    from casereview.services.server_contexts import ServerContexts
    from casereview.web import app

    if settings is not None and not shared:
        raise typer.BadParameter("--settings goes with --shared", param_hint="--settings")
    base = options.context(db)
    if not shared:
        # The database, the workflow files and the bank holidays are opened and read
        # once, not on every request: each request's context shares them.
        contexts = ServerContexts(base.url, base.account, key_dir=base.key_dir)
        base.close()
        typer.echo(f"Serving casereview as {contexts.account} on http://{host}:{port}", err=True)
        try:
            app.serve(contexts, host=host, port=port)
        finally:
            contexts.close()
        return
    # The workflow files and the bank holidays are read once, not on every request:
    # each request's context shares them (a definition no file holds any more is read
    # from the database through `base`, which lives as long as the server).
    registry, calendar = base.registry, base.calendar

    def context() -> ServiceContext:
        return ServiceContext(
            url=base.url, account=base.account, _registry=registry, _calendar=calendar
        )

    try:
        sign_in, close = _shared(base, settings)
        try:
            typer.echo(
                f"Serving casereview on http://{host}:{port} for the people who sign in "
                f"with {sign_in.client.issuer}",
                err=True,
            )
            app.serve(context, host=host, port=port, shared=sign_in)
        finally:
            close()
    finally:
        base.close()


def _shared(base: ServiceContext, path: Path | None) -> tuple[SharedSignIn, Callable[[], None]]:
    """Everything shared mode needs, checked before the server listens: the settings,
    the client secret and the key-encryption key (each a file of this account's alone),
    the provider's discovery document, and the database opened once for everyone."""
    import dataclasses
    import os

    from casereview.infra.keys import key_dir
    from casereview.infra.server_keys import ServerKeys, read_kek, read_secret
    from casereview.services import identities
    from casereview.services.context import ServiceContext, open_shared
    from casereview.web import oidc
    from casereview.web.settings import load
    from casereview.web.shared import SharedSignIn

    conf = load(path, os.environ)
    secret = read_secret(conf.client_secret_file, "client secret")
    keys = ServerKeys(
        conf.server_key_dir or key_dir() / "server", read_kek(conf.key_encryption_key_file)
    )
    provider = oidc.discover(conf.issuer)
    client = oidc.Client(conf.issuer, conf.client_id, secret, conf.redirect_uri)
    database = open_shared(base.url)
    registry, calendar = base.registry, base.calendar

    def person(username: str) -> ServiceContext:
        ctx = ServiceContext.for_person(database, username, server_keys=keys)
        return dataclasses.replace(ctx, _registry=registry, _calendar=calendar)

    def user_for(issuer: str, subject: str) -> str:
        return identities.user_for(database, issuer, subject)

    sign_in = SharedSignIn(
        client, provider, user_for, person, partnership_name=conf.partnership_name
    )
    return sign_in, database.dispose


def register(root: typer.Typer) -> None:
    """Add the `serve` command to the root app."""
    root.command("serve")(serve)
