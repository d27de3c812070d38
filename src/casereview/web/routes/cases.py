"""Cases: the list (and search by reference or pseudonym), a case's page with the steps
the signed-in person may take as forms, taking a step, and opening a case.

A step's form posts to the case's own address; the handler makes the same call as
`casereview case advance` (`services.cases.advance`), naming the state and version the
person saw, so a case someone else moved meanwhile is refused (409) rather than moved
twice. A refusal shows the form again, filled in, under the GOV.UK error summary (400,
as the CLI's exit 4; 409 for a conflict, as its exit 6); success redirects to the
case (post/redirect/get).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from casereview.errors import CaseReviewError, Input, InvalidInput
from casereview.services.context import ServiceContext
from casereview.web import forms, pages
from casereview.web.handlers import get, post

PAGE = 50
"""Cases listed on one page."""


def case_list(request: Request, ctx: ServiceContext) -> Response:
    from casereview.services import cases, find

    query = request.query_params
    text = (query.get("q") or "").strip()
    try:
        number = max(1, int(query.get("page") or 1))
    except ValueError:
        number = 1
    if text:
        found = find.find_cases(ctx, text)
        rows: list[Any] = list(found.cases)
    else:
        rows = list(cases.list_cases(ctx))
    pages_total = max(1, -(-len(rows) // PAGE))
    number = min(number, pages_total)
    return pages.page(
        request,
        ctx,
        "cases.html",
        nav="cases",
        q=text,
        searched=bool(text),
        rows=rows[(number - 1) * PAGE : number * PAGE],
        typed=any(getattr(r, "type", "") for r in rows),  # cases of several review types
        total=len(rows),
        page_number=number,
        pages_total=pages_total,
    )


def _case_page(
    request: Request,
    ctx: ServiceContext,
    ref: str,
    *,
    status_code: int = 200,
    refusal: CaseReviewError | None = None,
    sent: Mapping[str, Any] | None = None,
) -> Response:
    """The case page; with `refusal`, the answer to the form of the step `sent` names:
    its error summary (steps named by their labels) and the form kept as sent."""
    from casereview.services import actions, cases, steps

    view = cases.show_case(ctx, ref)
    errors: list[dict[str, str]] = []
    if refusal is not None:
        trigger = str((sent or {}).get("trigger") or "")
        # Each step's form names its inputs' ids after its trigger.
        errors = [
            {**item, "href": f"#{trigger}--{item['href'][1:]}"} if "href" in item else item
            for item in pages.error_list(refusal, steps.trigger_labels(ctx, view))
        ]
    try:
        plan = actions.show_plan(ctx, view.ref)
    except CaseReviewError:
        plan = None  # no action plan in this workflow, or not one this person reads
    return pages.page(
        request,
        ctx,
        "case.html",
        nav="cases",
        status_code=status_code,
        view=view,
        plan=plan,
        steps=steps.my_steps(ctx, view),
        errors=errors,
        field_errors=pages.field_errors(errors),
        sent=sent or {},
        date_parts=forms.date_parts,
    )


def case_page(request: Request, ctx: ServiceContext) -> Response:
    return _case_page(request, ctx, request.path_params["ref"])


def _step_values(form: FormData) -> dict[str, str]:
    """The fields a step's form sent: `field-ID` boxes, and dates as three boxes."""
    values: dict[str, str] = {}
    dates = {key[: -len("-day")] for key in form if key.endswith("-day")}
    for key in form:
        if not key.startswith("field-") or key.endswith(("-day", "-month", "-year")):
            continue
        text = str(form.get(key) or "").strip()
        if text:
            values[key[len("field-") :]] = text
    for prefix in dates:
        if not prefix.startswith("field-"):
            continue
        name = prefix[len("field-") :]
        day = forms.date_input(form, prefix, Input("field", name))
        if day is not None:
            values[name] = day.isoformat()
    return values


def take_step(request: Request, ctx: ServiceContext, form: FormData) -> Response:
    """POST a step's form: `services.cases.advance`, as `casereview case advance`."""
    from casereview.services import cases

    ref = request.path_params["ref"]
    trigger = str(form.get("trigger") or "")
    try:
        on = forms.date_input(form, "on", Input("on"))
        version_text = str(form.get("expect_version") or "")
        result = cases.advance(
            ctx,
            ref,
            trigger,
            on=on,
            rationale=str(form.get("rationale") or "") or None,
            fields=_step_values(form),
            on_behalf_of=str(form.get("on_behalf_of") or "") or None,
            expect_state=str(form.get("expect_state") or "") or None,
            expect_version=int(version_text) if version_text.isdigit() else None,
        )
    except CaseReviewError as error:
        return _case_page(
            request,
            ctx,
            ref,
            status_code=pages.status_of(error, form=True),
            refusal=error,
            sent={k: str(v) for k, v in form.items()},
        )
    return RedirectResponse(pages.link("cases", result.ref) + f"#event-{result.seq}", 303)


def open_form(request: Request, ctx: ServiceContext) -> Response:
    return pages.page(
        request,
        ctx,
        "open_case.html",
        nav="cases",
        errors=[],
        field_errors={},
        sent={},
        date_parts=forms.date_parts,
    )


def open_case(request: Request, ctx: ServiceContext, form: FormData) -> Response:
    """POST the opening form: `services.cases.open_case`, as `casereview case open`."""
    from casereview.services import cases

    try:
        ref = str(form.get("ref") or "").strip()
        if not ref:
            raise InvalidInput("{ref} must not be empty", ref=Input("ref"))
        aware_on = forms.date_input(form, "aware-on", Input("aware_on"))
        if aware_on is None:
            raise InvalidInput("{aware_on} must be given", aware_on=Input("aware_on"))
        view = cases.open_case(
            ctx,
            ref,
            aware_on=aware_on,
            pseudonym=str(form.get("pseudonym") or "").strip() or None,
            workflow=str(form.get("workflow") or "").strip() or None,
            on=forms.date_input(form, "on", Input("on")),
        )
    except CaseReviewError as error:
        return pages.page(
            request,
            ctx,
            "open_case.html",
            nav="cases",
            status_code=pages.status_of(error, form=True),
            errors=pages.error_list(error),
            field_errors=pages.field_errors(pages.error_list(error)),
            sent={k: str(v) for k, v in form.items()},
            date_parts=forms.date_parts,
        )
    return RedirectResponse(pages.link("cases", view.ref), 303)


routes = [
    get("/cases", case_list, "cases"),
    get("/open", open_form, "open_form"),
    post("/open", open_case, "open_case"),
    get("/cases/{ref:path}", case_page, "case"),
    post("/cases/{ref:path}", take_step, "take_step"),
]
