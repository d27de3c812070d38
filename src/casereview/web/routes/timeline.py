"""A case's timeline: its events in order with the clocks each started, stopped or
moved, due dates passed, corrections, and each clock's plan against what happened, from
`services.timeline` worded by `presenters.timeline` (the CLI's `timeline`)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from casereview.services.context import ServiceContext
from casereview.web import pages
from casereview.web.handlers import get

if TYPE_CHECKING:
    from casereview.presenters.timeline import Timeline


def timeline_page(request: Request, ctx: ServiceContext) -> Response:
    from casereview.presenters import timeline as words
    from casereview.services import timeline

    view = words.present(timeline.timeline(ctx, request.path_params["ref"]))
    return pages.page(request, ctx, "timeline.html", nav="cases", view=view, chart=_chart(view))


def _chart(view: Timeline) -> Markup | None:
    """The plan-versus-actual chart the annual report draws, for this case's clocks."""
    from casereview.formats.report.as_html import lanes_chart
    from casereview.presenters.timeline import chart_case

    if not view.bars:
        return None
    start = dt.date.fromisoformat(view.axis_from)
    stop = dt.date.fromisoformat(view.axis_to) + dt.timedelta(days=1)
    today = dt.date.fromisoformat(view.today)
    svg = lanes_chart(
        start,
        stop,
        today,
        [chart_case(view)],
        {view.state: view.state_label},
        part=1,
        title=f"Case {view.ref}: each clock planned against what happened",
        show_today=start <= today < stop,
    )
    return Markup(svg)  # noqa: S704 - the report's writer escapes every value it draws


routes = [get("/timeline/{ref:path}", timeline_page, "timeline")]
