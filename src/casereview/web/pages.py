"""Rendering a page: the Jinja environment (this package's templates and the
govuk-frontend-jinja macros), the context every page gets (`page`), and how the web
spells the inputs and next steps that error messages name (`spell`).

Every page template extends `layout.html` and fills its `title` and `content` blocks.
`page()` is the one place that puts `partnership_name`, `user`, `nav`, `csrf_token` and
`request` in a template's context: a new page passes only what it shows.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup
from starlette.responses import HTMLResponse

from casereview.errors import (
    CaseReviewError,
    Conflict,
    Input,
    InvalidInput,
    NotFound,
    Refused,
    Step,
)
from casereview.presenters.words import day, long_day

if TYPE_CHECKING:
    from collections.abc import Mapping

    from starlette.requests import Request

    from casereview.services.context import ServiceContext

environment = jinja2.Environment(
    loader=jinja2.ChoiceLoader(
        [
            jinja2.PackageLoader("casereview.web", "templates"),
            jinja2.PrefixLoader(
                {"govuk_frontend_jinja": jinja2.PackageLoader("govuk_frontend_jinja")}
            ),
        ]
    ),
    autoescape=True,
    undefined=jinja2.ChainableUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class User:
    """Who is signed in, as the layout shows it."""

    username: str
    display_name: str
    roles: tuple[str, ...]


def current_user(ctx: ServiceContext) -> User | None:
    """The account the server acts as, if it is a registered user (None if not: the
    page itself then shows the service's refusal)."""
    from casereview.services import users

    try:
        view = users.get_user(ctx, ctx.account)
    except CaseReviewError:
        return None
    return User(view.username, view.display_name, view.roles)


def partnership_name(ctx: ServiceContext) -> str | None:
    from casereview.services import partnership

    try:
        return partnership.current(ctx).name
    except CaseReviewError:
        return None


def _configured(request: Request) -> str | None:
    """The partnership's name a shared server was configured with (for the pages shown
    before sign-in, which read no database)."""
    shared = getattr(getattr(request.app.state, "web", None), "shared", None)
    return getattr(shared, "partnership_name", None)


def page(
    request: Request,
    ctx: ServiceContext | None,
    template: str,
    *,
    nav: str | None = None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """`template` rendered with what every page gets and `values`; `ctx` None for the
    pages shown before sign-in (no user, no partnership name from the database).
    `nav` is the layout's section the page belongs to: due, cases, reports, scrutiny or
    admin."""
    session = getattr(request.state, "session", None)
    context = {
        "request": request,
        "partnership_name": partnership_name(ctx) if ctx is not None else _configured(request),
        "user": current_user(ctx) if ctx is not None else None,
        "nav": nav,
        "csrf_token": session.csrf_token if session is not None else "",
        **values,
    }
    body = environment.get_template(template).render(context)
    return HTMLResponse(body, status_code=status_code)


_INPUTS = {
    "within": "Due within (working days)",
    "overdue": "Overdue only",
    "all": "Show every clock",
    "as_of": "As of",
    "limit": "Show at most",
    "on": "Date it happened",
    "rationale": "Why",
    "pseudonym": "Pseudonym",
    "aware_on": "Date the local authority became aware",
    "workflow": "Review type",
    "clock": "Clocks",
    "ref": "Case reference",
    "on_behalf_of": "On behalf of",
}

_STEPS = {
    "show_case": "the case page",
    "list_cases": "the cases page",
    "grant_role": "“Give a user a role” on the admin page",
    "revoke_role": "“Take away” beside the role on the admin page",
    "list_users": "the admin page",
    "key_enrol": "Set up your signing key (on /signing-key)",
}


def spell(term: Input | Step) -> str:
    """An input as its form field's label; a step in words (the CLI's command for a
    step the web has no page for yet)."""
    if isinstance(term, Input):
        if term.name == "field":
            return f"“{term.key}”"
        return f"“{_INPUTS.get(term.name, term.name.replace('_', ' '))}”"
    return _STEPS.get(
        term.action, f"‘casereview {' '.join((*term.action.split('_'), *term.args))}’"
    )


def wording(error: CaseReviewError) -> str:
    """The error's message as a web page shows it."""
    return error.spelled(spell)


def status_of(error: CaseReviewError, *, form: bool = False) -> int:
    """The HTTP status of a failure: 404 not found, 409 conflict, 400 a bad value; a
    refusal is 400 on a form (the engine refused what was asked, as the CLI's exit 4)
    and 403 on a page the account may not read."""
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Conflict):
        return 409
    if isinstance(error, Refused):
        return 400 if form else 403
    if isinstance(error, InvalidInput):
        return 400
    return 400 if form else 500


def error_page(
    request: Request, ctx: ServiceContext | None, error: CaseReviewError
) -> HTMLResponse:
    return page(
        request,
        ctx,
        "error.html",
        status_code=status_of(error),
        message=wording(error),
    )


def _anchor(term: Input) -> str:
    return f"#field-{term.key}" if term.name == "field" else f"#{term.name.replace('_', '-')}"


def error_list(
    error: CaseReviewError, triggers: Mapping[str, str] | None = None
) -> list[dict[str, str]]:
    """The GOV.UK error summary's list for one error: its message, linked to the first
    form field it names. With `triggers` (id to label), a step the message names by
    its id (its `trigger` parameter) is named by its label, as the page's forms are."""
    item = {"text": wording(_labelled(error, triggers or {}))}
    for value in error.params.values():
        terms = value if isinstance(value, tuple) else (value,)
        named = next((t for t in terms if isinstance(t, Input)), None)
        if named is not None:
            item["href"] = _anchor(named)
            break
    return [item]


def _labelled(error: CaseReviewError, triggers: Mapping[str, str]) -> CaseReviewError:
    """`error` with its `trigger` parameter, an id `triggers` holds, as its label."""
    named = error.params.get("trigger")
    if not isinstance(named, str) or named not in triggers:
        return error
    labelled = copy.copy(error)
    labelled.params = {**error.params, "trigger": f"“{triggers[named]}”"}
    return labelled


def field_errors(errors: list[dict[str, str]]) -> dict[str, str]:
    """The message shown beside each form field an error names, by the field's id."""
    return {e["href"][1:]: e["text"] for e in errors if "href" in e}


def link(*parts: str) -> str:
    """A path from its parts, each quoted (a case reference may hold '/')."""
    from urllib.parse import quote

    return "/" + "/".join(quote(p, safe="/") for p in parts)


environment.globals["link"] = link


TAG_COLOUR = {
    "overdue": "govuk-tag--red",
    "missed": "govuk-tag--red",
    "due_soon": "govuk-tag--yellow",
    "paused": "govuk-tag--grey",
    "running": "govuk-tag--blue",
    "met": "govuk-tag--green",
    "undetermined": "govuk-tag--orange",
}
"""The GOV.UK tag colour of each clock status (its words: `domain.clock_status`)."""


def _status_word(status: str | None) -> str:
    from casereview.domain.clock_status import status_word

    return status_word(status) if status else ""


environment.globals["status_word"] = _status_word
environment.globals["weekday_and_date"] = day


def _date_element(value: str | dt.date | None) -> Markup | str:
    """A date for a page: GOV.UK's long form inside `<time datetime="ISO">`, so people
    read `Mon 7 December 2026` and a machine still reads the ISO date; "—" for none."""
    if not value:
        return "—"
    on = value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
    return Markup('<time datetime="{}">{}</time>').format(on.isoformat(), long_day(on))


environment.filters["date"] = _date_element
environment.globals["status_colour"] = lambda status: TAG_COLOUR.get(
    status or "", "govuk-tag--grey"
)
