"""Signing in. Local mode: the one-time link the server printed starts a session. Shared
mode: /sign-in sends the browser to the identity provider, /sign-in/callback takes it
back, and a verified identity an admin linked to a user starts a session for that user
(one no admin linked sees only "ask your admin"). The page a browser without a session
is sent to says how to get in; signing out ends the session."""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from casereview.web import auth, oidc
from casereview.web.handlers import forbidden, state
from casereview.web.pages import page
from casereview.web.shared import PENDING_COOKIE, SharedSignIn

log = logging.getLogger(__name__)


def _plain_page(request: Request, template: str, status_code: int, **values: Any) -> Response:
    """A page shown before sign-in: no database is read for it."""
    shared = state(request).shared is not None
    return page(request, None, template, status_code=status_code, shared=shared, **values)


def _start_session(request: Request, username: str = "") -> auth.Session:
    web = state(request)
    web.sessions.end(request.cookies.get(auth.COOKIE))
    return web.sessions.start(username)


def _set_session_cookie(request: Request, response: Response, session: auth.Session) -> None:
    response.set_cookie(
        auth.COOKIE,
        session.id,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


async def sign_in(request: Request) -> Response:
    """GET /sign-in?token=…: a right, unused token starts a session (cookie set, the
    token spent, the next link printed on the console); anything else is refused.
    Attempts are limited per client."""
    web = state(request)
    client = request.client.host if request.client else "unknown"
    if not web.sign_ins.allow(client):
        return _plain_page(request, "too_many.html", 429)
    if web.shared is not None:
        return _begin(request, web.shared)
    if not web.links.spend(request.query_params.get("token")):
        return _plain_page(request, "sign_in_refused.html", 403)
    response = RedirectResponse("/", status_code=303)
    _set_session_cookie(request, response, _start_session(request))
    return response


def _begin(request: Request, shared: SharedSignIn) -> Response:
    """Shared mode: off to the provider, the sign-in's secrets kept here under a random
    id that only this browser's cookie names (whatever token the query holds is
    ignored: shared mode has no one-time link)."""
    started = oidc.begin(shared.client, shared.provider)
    response = RedirectResponse(started.url, status_code=303)
    response.set_cookie(
        PENDING_COOKIE,
        shared.pending.keep(started.pending),
        max_age=oidc.PENDING_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/sign-in",
    )
    return response


async def callback(request: Request) -> Response:
    """GET /sign-in/callback (shared mode): the provider's answer. The sign-in this
    browser began (taken once), checked by `oidc.finish`; then the user an admin linked
    to the identity. A session starts only for a linked user; whatever fails, the
    person sees only that it did (the reason goes to the server's log)."""
    web = state(request)
    if web.shared is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    shared = web.shared
    client = request.client.host if request.client else "unknown"
    if not web.sign_ins.allow(client):
        return _plain_page(request, "too_many.html", 429)
    pending = shared.pending.take(request.cookies.get(PENDING_COOKIE))
    params = {k: v for k, v in request.query_params.items()}
    response: Response
    if pending is None:
        response = _plain_page(request, "sign_in_refused.html", 403)
    else:
        response = await run_in_threadpool(_finish, request, shared, pending, params)
    response.delete_cookie(PENDING_COOKIE, path="/sign-in")
    return response


def _finish(
    request: Request, shared: SharedSignIn, pending: oidc.Pending, params: dict[str, str]
) -> Response:
    from casereview.services.identities import NotLinked

    try:
        identity = oidc.finish(
            shared.client, shared.provider, pending, params, ledger=shared.ledger
        )
    except oidc.SignInFailed as failed:
        log.warning("sign-in refused: %s", failed)
        return _plain_page(request, "sign_in_refused.html", 403)
    try:
        username = shared.user_for(identity.issuer, identity.subject)
    except NotLinked as not_linked:
        return _plain_page(request, "ask_your_admin.html", 403, message=str(not_linked))
    session = _start_session(request, username)
    # A page, not a redirect: this request came from the provider's site, and a browser
    # does not send a SameSite=Strict cookie on a redirect that follows it. The page's
    # own refresh is a navigation from this site, which does.
    response = _plain_page(request, "signed_in.html", 200)
    _set_session_cookie(request, response, session)
    return response


async def signed_out(request: Request) -> Response:
    return _plain_page(request, "signed_out.html", 200)


async def sign_out(request: Request) -> Response:
    form = await request.form()
    session = getattr(request.state, "session", None)
    if session is None or not auth.csrf_ok(session, form.get("csrf_token")):
        return forbidden(request)
    state(request).sessions.end(session.id)
    response = RedirectResponse("/signed-out", status_code=303)
    response.delete_cookie(auth.COOKIE, path="/")
    return response


routes = [
    Route("/sign-in", sign_in, methods=["GET"], name="sign_in"),
    Route("/sign-in/callback", callback, methods=["GET"], name="sign_in_callback"),
    Route("/signed-out", signed_out, methods=["GET"], name="signed_out"),
    Route("/sign-out", sign_out, methods=["POST"], name="sign_out"),
]
