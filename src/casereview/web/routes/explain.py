"""Why a due date is what it is: a clock's anchor, rule, every day counted or skipped,
pauses and re-projections (`services.explain`, worded by `presenters.explain`); for an
action (`action-N`), its due date and extensions (`services.actions.explain_action`).
The CLI's `explain`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from casereview.services.context import ServiceContext
from casereview.web import pages
from casereview.web.handlers import get


def explain_page(request: Request, ctx: ServiceContext) -> Response:
    from casereview.domain.actions import action_of_clock

    ref, clock = request.path_params["ref"], request.path_params["clock"]
    number = action_of_clock(clock)
    if number is not None:
        from casereview.presenters import actions as action_words
        from casereview.services import actions

        why = actions.explain_action(ctx, ref, number)
        return pages.page(
            request,
            ctx,
            "explain_action.html",
            nav="due",
            why=why,
            heading=action_words.why_heading(why),
            status_text=action_words.why_status_word(why),
            facts=action_words.why_facts(why),
            sentence=action_words.why_sentence(why),
            extensions=action_words.extension_lines(why),
        )
    from casereview.presenters import explain as words
    from casereview.presenters.workdays import day_rows
    from casereview.services import explain

    view = words.present(explain.explain(ctx, ref, clock))
    calculation = view.calculation
    return pages.page(
        request,
        ctx,
        "explain.html",
        nav="due",
        view=view,
        facts=words.facts_table(view),
        days=day_rows(calculation) if calculation is not None else [],
        summary=calculation.summary() if calculation is not None else None,
        pauses=[words.pause_line(p) for p in view.pauses],
        moves=[words.move_line(m, view.anchor_field) for m in view.moves],
        earlier=words.earlier_runs_line(view) if view.earlier_runs else None,
    )


routes = [get("/explain/{clock}/{ref:path}", explain_page, "explain")]
