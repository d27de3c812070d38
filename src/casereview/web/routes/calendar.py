"""The personal calendar subscription address: make one (its secret URL shown once),
revoke it, and the feed itself at `/calendar/<token>.ics`, fetched without a session by
a calendar program (`services.calendar_feeds`; the feed is `calendar export`'s).

The feed's path is public (`web.app.PUBLIC`), so the token is the only thing that opens
it: an unknown or revoked token gets 404, the same as a path that never existed. The
token never reaches a log here (the server keeps no access log) and the page that shows
it is not cached (`Cache-Control: no-store` on every page).
"""

from __future__ import annotations

import io

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from casereview.errors import NotFound
from casereview.services.context import ServiceContext
from casereview.web import pages
from casereview.web.handlers import get, post

PREFIX = "/calendar/"


def _url(request: Request, token: str) -> str:
    return str(request.base_url).rstrip("/") + f"{PREFIX}{token}.ics"


def calendar_page(request: Request, ctx: ServiceContext) -> Response:
    from casereview.services import calendar_feeds

    return pages.page(
        request, ctx, "calendar.html", nav="reports", feed=calendar_feeds.current(ctx), url=None
    )


def create_feed(request: Request, ctx: ServiceContext, form: FormData) -> Response:
    """POST: a new address (the old one stops working); its URL is shown this once."""
    from casereview.services import calendar_feeds

    made = calendar_feeds.create(ctx)
    return pages.page(
        request,
        ctx,
        "calendar.html",
        nav="reports",
        feed=calendar_feeds.current(ctx),
        url=_url(request, made.token),
    )


def revoke_feed(request: Request, ctx: ServiceContext, form: FormData) -> Response:
    from casereview.services import calendar_feeds

    calendar_feeds.revoke(ctx)
    return RedirectResponse("/calendar", status_code=303)


def feed(request: Request, ctx: ServiceContext) -> Response:
    """GET /calendar/<token>.ics, without a session."""
    from casereview.services import calendar_feeds

    name = request.path_params["name"]
    sink = io.BytesIO()
    try:
        if not name.endswith(".ics"):
            raise NotFound("no such calendar feed")
        calendar_feeds.write_feed(ctx, name[: -len(".ics")], sink)
    except NotFound:
        # Plain, without the layout: a stranger's guess learns nothing of the server.
        return Response("Not found\n", status_code=404, media_type="text/plain")
    return Response(sink.getvalue(), media_type="text/calendar; charset=utf-8")


routes = [
    get("/calendar", calendar_page, "calendar"),
    post("/calendar", create_feed, "create_feed"),
    post("/calendar/revoke", revoke_feed, "revoke_feed"),
    get("/calendar/{name}", feed, "calendar_feed"),
]
