"""Signing in (local mode): the one-time link the server printed starts a session; the
page a browser without a session is sent to says how to get in; signing out ends it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from casereview.web import auth
from casereview.web.handlers import forbidden, state
from casereview.web.pages import page


def _plain_page(request: Request, template: str, status_code: int) -> Response:
    """A page shown before sign-in: no database is read for it."""
    return page(request, None, template, status_code=status_code)


async def sign_in(request: Request) -> Response:
    """GET /sign-in?token=…: a right, unused token starts a session (cookie set, the
    token spent, the next link printed on the console); anything else is refused.
    Attempts are limited per client."""
    web = state(request)
    client = request.client.host if request.client else "unknown"
    if not web.sign_ins.allow(client):
        return _plain_page(request, "too_many.html", 429)
    if not web.links.spend(request.query_params.get("token")):
        return _plain_page(request, "sign_in_refused.html", 403)
    old = request.cookies.get(auth.COOKIE)
    web.sessions.end(old)
    session = web.sessions.start()
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        auth.COOKIE,
        session.id,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
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
    Route("/signed-out", signed_out, methods=["GET"], name="signed_out"),
    Route("/sign-out", sign_out, methods=["POST"], name="sign_out"),
]
