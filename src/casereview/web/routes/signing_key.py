"""Your signing key: the key the server signs your events with (shared mode: the one it
holds for you; local mode: the server account's own), and the form that makes and
enrols one (`services.keys.enrol`, as `casereview key enrol`). A write refused for want
of a key points here; the page then shows the key's id, which an admin checks with the
person by another channel before confirming it."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from casereview.services.context import ServiceContext
from casereview.web import pages
from casereview.web.handlers import get, post

PATH = "/signing-key"


def key_page(request: Request, ctx: ServiceContext) -> Response:
    from casereview.services import keys

    mine = [k for k in keys.list_keys(ctx) if k.username == ctx.account]
    usable = [k for k in mine if k.yours and k.state != "revoked"]
    return pages.page(
        request,
        ctx,
        "signing_key.html",
        keys=mine,
        current=usable[-1] if usable else None,
    )


def enrol_key(request: Request, ctx: ServiceContext, form: FormData) -> Response:
    """POST: make (if need be) and enrol this person's key; the page then shows its id."""
    from casereview.services import keys

    keys.enrol(ctx)
    return RedirectResponse(PATH, status_code=303)


routes = [
    get(PATH, key_page, "signing_key"),
    post(PATH, enrol_key, "enrol_key"),
]
