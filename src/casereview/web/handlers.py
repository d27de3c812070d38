"""How a route is declared: `get` and `post` wrap a plain function into a Starlette route
that runs it in a worker thread (the services are synchronous) with a service context
opened for the request and closed after it; `post` first checks the form's CSRF token
against the session's, so no POST handler can forget it (missing or wrong: 403,
nothing written). A `CaseReviewError` a page does not handle itself becomes the error
page, with its status (`pages.status_of`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casereview.errors import CaseReviewError
from casereview.web import auth, pages

if TYPE_CHECKING:
    from casereview.services.context import ServiceContext
    from casereview.web.shared import SharedSignIn

ContextMaker = Callable[[], "ServiceContext"]


@dataclass
class WebState:
    """What the app keeps for its lifetime (`app.state.web`)."""

    contexts: ContextMaker
    sessions: auth.SessionStore
    links: auth.SignInLinks
    sign_ins: auth.RateLimit
    shared: SharedSignIn | None = None  # shared mode: people sign in with OpenID Connect


def state(request: Request) -> WebState:
    web: WebState = request.app.state.web
    return web


def contexts_for(request: Request) -> ContextMaker:
    """What makes the contexts of the person this request acts for, also for work that
    outlives the request (a verification in a thread): in shared mode the signed-in
    person's (a page open without a session gets the server's own, and reads nothing
    with it); in local mode the server's account."""
    web = state(request)
    session = getattr(request.state, "session", None)
    if web.shared is not None and session is not None:
        person, username = web.shared.person, session.username
        return lambda: person(username)
    return web.contexts


@contextmanager
def service_context(request: Request) -> Iterator[ServiceContext]:
    """The request's context (`contexts_for`), closed after it."""
    ctx = contexts_for(request)()
    try:
        yield ctx
    finally:
        ctx.close()


GetHandler = Callable[[Request, "ServiceContext"], Response]
PostHandler = Callable[[Request, "ServiceContext", FormData], Response]


def _call(request: Request, handler: Callable[..., Response], *args: object) -> Response:
    with service_context(request) as ctx:
        try:
            return handler(request, ctx, *args)
        except CaseReviewError as error:
            return pages.error_page(request, ctx, error)


def get(path: str, handler: GetHandler, name: str) -> Route:
    async def endpoint(request: Request) -> Response:
        return await run_in_threadpool(_call, request, handler)

    return Route(path, endpoint, methods=["GET"], name=name)


def forbidden(request: Request) -> Response:
    """A form whose CSRF token is missing or not this session's: 403, nothing done."""
    return pages.page(request, None, "forbidden.html", status_code=403)


def post(path: str, handler: PostHandler, name: str) -> Route:
    async def endpoint(request: Request) -> Response:
        form = await request.form()
        session = getattr(request.state, "session", None)
        if session is None or not auth.csrf_ok(session, form.get("csrf_token")):
            return forbidden(request)
        return await run_in_threadpool(_call, request, handler, form)

    return Route(path, endpoint, methods=["POST"], name=name)
