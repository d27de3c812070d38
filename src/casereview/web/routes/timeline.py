"""A case's timeline: its events in order with the clocks each started, stopped or
moved, due dates passed, corrections, and each clock's plan against what happened, from
`services.timeline` worded by `presenters.timeline` (the CLI's `timeline`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from casereview.services.context import ServiceContext
from casereview.web import pages
from casereview.web.handlers import get


def timeline_page(request: Request, ctx: ServiceContext) -> Response:
    from casereview.presenters import timeline as words
    from casereview.services import timeline

    view = words.present(timeline.timeline(ctx, request.path_params["ref"]))
    return pages.page(request, ctx, "timeline.html", nav="cases", view=view)


routes = [get("/timeline/{ref:path}", timeline_page, "timeline")]
