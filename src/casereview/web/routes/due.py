"""What is due (the home page): the due list with the CLI's filters, from
`services.due.due_list`, worded by `presenters.due`; with an agency, also the open
actions that agency owes (`services.actions.actions_due`, the CLI's `action due
--agency`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from casereview.errors import CaseReviewError, Input, InvalidInput
from casereview.presenters import due as words
from casereview.services.context import ServiceContext
from casereview.web import forms, pages
from casereview.web.handlers import get

PAGE = 50
"""Rows shown unless every one is asked for, as the CLI's table."""


def due_page(request: Request, ctx: ServiceContext) -> Response:
    from casereview.services import due, filters

    query = request.query_params
    shown = {
        "within": query.get("within") or "",
        "as_of": forms.date_parts(query, "as-of"),
        "overdue": query.get("overdue") == "yes",
        "workflow": query.get("workflow") or "",
        "all": query.get("all") == "yes",
        "agency": (query.get("agency") or "").strip(),
        "clocks": [c for c in query.getlist("clock") if c.strip()],
    }
    # The clocks the installed workflows declare, by their names: the filter's choices.
    choices = filters.clock_names(ctx)
    try:
        result = due.due_list(
            ctx,
            as_of=forms.date_input(query, "as-of", Input("as_of")),
            within=forms.whole_number(query, "within", Input("within")),
            overdue_only=shown["overdue"] is True,
            workflow=(query.get("workflow") or "").strip() or None,
            clocks=query.getlist("clock"),
            limit=None if shown["all"] is True else PAGE,
        )
    except InvalidInput as error:
        return pages.page(
            request,
            ctx,
            "due.html",
            nav="due",
            status_code=400,
            errors=pages.error_list(error),
            filters=shown,
            clock_choices=choices,
            result=None,
            actions=None,
        )
    except CaseReviewError as error:
        return pages.error_page(request, ctx, error)
    owed = None
    if shown["agency"]:
        from casereview.services import actions

        owed = actions.actions_due(ctx, agency=str(shown["agency"]), limit=PAGE)
    return pages.page(
        request,
        ctx,
        "due.html",
        nav="due",
        result=result,
        heading=words.heading(result),
        summary=words.summary_line(result, pages.spell, dict(choices)),
        filters=shown,
        clock_choices=choices,
        errors=[],
        actions=owed,
    )


routes = [get("/", due_page, "due")]
