"""The web application: `create_app` builds it from a maker of service contexts (the
server's own account and clock; tests pass one with a `FixedClock`).

Two pieces of middleware wrap every route: `SecurityHeaders` (the Content-Security-
Policy and its companions on every response, `Cache-Control: no-store` on every page)
and `SignedIn` (a request without a live session is sent to the page that says how to
sign in; only `PUBLIC` paths are open). The routes are one module per noun under
`web/routes/`, each listing its `routes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import HTTPConnection
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casereview.web import auth
from casereview.web.handlers import ContextMaker, WebState
from casereview.web.shared import SharedSignIn

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)

SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}

STATIC = Path(__file__).parent / "static"
"""The vendored govuk-frontend build and the app's own stylesheet, served at /static."""

PUBLIC = (
    "/sign-in",
    "/sign-in/callback",
    "/signed-out",
    "/static/",
    "/accessibility",
    "/calendar/",
)
"""Paths open without a session (a prefix ending in / opens everything under it)."""

NOT_PUBLIC_WHEN_SHARED = ("/calendar/",)
"""Open in local mode only: a shared server serves no calendar feed without a session
(a feed acts for its owner, and a shared server acts only for a person signed in)."""


class SecurityHeaders:
    """Adds `SECURITY_HEADERS` to every response, and `Cache-Control: no-store` to every
    response outside /static (pages hold case data; the static files hold none)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if not static:
                    headers["cache-control"] = "no-store"
                if scope.get("scheme") == "https":
                    headers["strict-transport-security"] = "max-age=31536000"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _public(path: str, *, shared: bool = False) -> bool:
    opened = [p for p in PUBLIC if not (shared and p in NOT_PUBLIC_WHEN_SHARED)]
    return any(path.startswith(p) if p.endswith("/") else path == p for p in opened)


class SignedIn:
    """Finds the request's session from its cookie (`request.state.session`); without
    one, a page request is redirected to /signed-out and anything else refused, unless
    its path is public. A cookie naming no live session (forged, expired, from before a
    restart) is cleared."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        web: WebState = connection.app.state.web
        offered = connection.cookies.get(auth.COOKIE)
        session = web.sessions.get(offered)
        scope.setdefault("state", {})["session"] = session
        if session is None and not _public(connection.url.path, shared=web.shared is not None):
            response: Response
            if scope["method"] in ("GET", "HEAD"):
                response = RedirectResponse("/signed-out", status_code=303)
            else:
                response = Response("Sign in first.", status_code=403, media_type="text/plain")
            if offered:
                response.delete_cookie(auth.COOKIE, path="/")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _routes() -> list[BaseRoute]:
    from casereview.web.routes import (
        accessibility,
        admin,
        calendar,
        cases,
        due,
        explain,
        reports,
        scrutiny,
        sign_in,
        signing_key,
        timeline,
    )

    routes: list[BaseRoute] = []
    for module in (
        sign_in,
        due,
        cases,
        timeline,
        explain,
        reports,
        scrutiny,
        admin,
        calendar,
        accessibility,
        signing_key,
    ):
        routes += module.routes
    routes.append(Mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static"))
    return routes


def create_app(
    contexts: ContextMaker,
    *,
    links: auth.SignInLinks | None = None,
    sessions: auth.SessionStore | None = None,
    sign_ins: auth.RateLimit | None = None,
    hosts: Sequence[str] = ("*",),
    shared: SharedSignIn | None = None,
    debug: bool = False,
) -> Starlette:
    """The app over the services: `contexts` makes the service context of one request
    (called per request; the caller decides account, database and clock). `hosts`: the
    names a request's Host header may give (anything else is refused with 400, so a web
    page elsewhere that points its own name at 127.0.0.1 cannot reach the app).
    `shared`: shared mode (people sign in with OpenID Connect, each request acts for
    its session's person through `shared.person`; `contexts` then serves only the
    pages open without a session, and the one-time link of local mode is off)."""
    app = Starlette(
        debug=debug,
        routes=_routes(),
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts)),
            Middleware(SignedIn),
        ],
    )
    app.state.web = WebState(
        contexts=contexts,
        sessions=sessions or auth.SessionStore(),
        links=links or auth.SignInLinks(),
        sign_ins=sign_ins or auth.RateLimit(),
        shared=shared,
    )
    return app


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def hosts_for(host: str) -> tuple[str, ...]:
    """The Host headers a server listening on `host` accepts: on a loopback address
    only the loopback names (DNS rebinding), on a named address that name, on a
    wildcard address any (a reverse proxy in front is then expected to check)."""
    if host in LOOPBACK:
        return (*LOOPBACK, "[::1]")
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - naming the wildcard, not binding it
        return ("*",)
    return (host, f"[{host}]") if ":" in host else (host,)


def shared_hosts_for(host: str, redirect_uri: str) -> tuple[str, ...]:
    """A shared server's Host headers: `hosts_for(host)` and the redirect URI's host
    name (the public name a reverse proxy in front passes on)."""
    from urllib.parse import urlsplit

    hosts = hosts_for(host)
    public = urlsplit(redirect_uri).hostname
    return hosts if "*" in hosts or not public or public in hosts else (*hosts, public)


def serve(
    contexts: ContextMaker, *, host: str, port: int, shared: SharedSignIn | None = None
) -> None:
    """Run the app under uvicorn until interrupted. The socket is bound first, so the
    sign-in link, printed on the console (stderr) once it is, always reaches a server
    that listens; the next link is printed after each use. In shared mode (`shared`)
    no link is printed: people sign in with the identity provider, and the host name
    of the redirect URI is accepted too (the name a reverse proxy passes on)."""
    import socket
    import sys

    import uvicorn

    from casereview.errors import CaseReviewError, Input

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(128)  # connections wait in the backlog until uvicorn accepts them
    except OSError as error:
        listener.close()
        raise CaseReviewError(
            "cannot listen on {host} port {port} ({reason}); choose another {option}",
            host=host,
            port=port,
            reason=error.strerror or "refused",
            option=Input("port"),
        ) from None
    base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def announce(token: str) -> None:
        print(f"Sign in at: {base}/sign-in?token={token}", file=sys.stderr, flush=True)

    if shared is None:
        app = create_app(contexts, links=auth.SignInLinks(announce), hosts=hosts_for(host))
    else:
        hosts = shared_hosts_for(host, shared.client.redirect_uri)
        app = create_app(contexts, hosts=hosts, shared=shared)
    # No access log: its lines would hold case references and the sign-in token.
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[listener])
