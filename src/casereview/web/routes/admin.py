"""Admin: users (list, add, give and take roles, deactivate and reactivate), the
agencies the workflows declare, installed workflows (list, install one found on the
server), and checkpoints of the log (make one and download it).

Every page and form here first asks `services.users.require_admin_account`: anyone else
gets 403 and the refusal only, nothing of the page. Each change is the CLI's service
call (`user add|grant|revoke|deactivate|reactivate`, `workflow install ID@N`, `audit
checkpoint`), so the last-admin rule, the checks and the events recorded are the CLI's.
A refusal shows the page again under the GOV.UK error summary; success redirects back
(post/redirect/get). A workflow is installed only from the files the server already
finds (by id and version): a person never names a path on the server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from casereview.errors import CaseReviewError, Input, InvalidInput
from casereview.services.context import ServiceContext
from casereview.web import pages
from casereview.web.handlers import get, post

DONE = {
    "user-added": "The user has been added.",
    "role-given": "The role has been given.",
    "role-taken": "The role has been taken away.",
    "user-deactivated": "The user has been deactivated.",
    "user-reactivated": "The user has been reactivated.",
    "workflow-installed": "The workflow has been installed.",
}
"""What a change did, by the code its redirect carries (`/admin?done=user-added`): the
success banner's words. The address names what was done, never whom (no login name or
other personal data in a URL, which browsers and proxies keep)."""


def _page(
    request: Request,
    ctx: ServiceContext,
    *,
    done: str | None = None,
    status_code: int = 200,
    errors: list[dict[str, str]] | None = None,
    sent: dict[str, Any] | None = None,
) -> Response:
    from casereview.services import users, workflows

    roles, agencies, agency_roles = users.roles_and_agencies(ctx)
    people = users.list_users(ctx, include_inactive=True)
    listing = workflows.listing(ctx)
    return pages.page(
        request,
        ctx,
        "admin.html",
        nav="admin",
        status_code=status_code,
        errors=errors or [],
        done=done,
        sent=sent or {},
        people=people,
        roles=roles,
        agencies=agencies,
        agency_roles=sorted(agency_roles),
        members={a: [p for p in people if p.agency == a and p.active] for a in agencies},
        workflows=listing.workflows,
        problems=listing.problems,
    )


def admin_page(request: Request, ctx: ServiceContext) -> Response:
    from casereview.services import users

    users.require_admin_account(ctx)
    return _page(request, ctx, done=DONE.get(request.query_params.get("done") or ""))


def _text(form: FormData, name: str) -> str | None:
    return str(form.get(name) or "").strip() or None


def _required(form: FormData, name: str) -> str:
    value = _text(form, name)
    if value is None:
        raise InvalidInput("{what} must be given", what=Input(name))
    return value


def _change(
    request: Request,
    ctx: ServiceContext,
    form: FormData,
    act: Callable[[], object],
    anchor: str,
    done: str,
) -> Response:
    """Run `act` (a service call) as an admin; a refusal shows the page with it. Done,
    the page again (post/redirect/get) with the success banner `done` (a key of `DONE`)
    names."""
    from casereview.services import users

    users.require_admin_account(ctx)  # anyone else: 403, before any input is looked at
    try:
        act()
    except CaseReviewError as error:
        return _page(
            request,
            ctx,
            status_code=pages.status_of(error, form=True),
            errors=pages.error_list(error),
            sent={k: str(v) for k, v in form.multi_items() if k != "csrf_token"},
        )
    return RedirectResponse(f"/admin?done={done}#{anchor}", status_code=303)


def add_user(request: Request, ctx: ServiceContext, form: FormData) -> Response:
    """POST: `user add USERNAME --name NAME --role R… [--agency A]`."""
    from casereview.services import users

    def act() -> object:
        return users.add_user(
            ctx,
            _required(form, "username"),
            _required(form, "display_name"),
            [str(r) for r in form.getlist("role") if str(r).strip()],
            _text(form, "agency"),
        )

    return _change(request, ctx, form, act, "users", "user-added")


def grant_role(request: Request, ctx: ServiceContext, form: FormData) -> Response:
    """POST: `user grant USERNAME ROLE [--agency A]`."""
    from casereview.services import users

    def act() -> object:
        return users.grant_role(
            ctx,
            _required(form, "username"),
            _required(form, "grant_role"),
            _text(form, "grant_agency"),
        )

    return _change(request, ctx, form, act, "users", "role-given")


def user_change(request: Request, ctx: ServiceContext, form: FormData) -> Response:
    """POST a user's own buttons: revoke one role, deactivate, reactivate."""
    from casereview.services import users

    username = request.path_params["username"]
    action = str(form.get("action") or "")

    def act() -> object:
        if action == "revoke":
            return users.revoke_role(ctx, username, _required(form, "role"))
        if action == "deactivate":
            return users.deactivate(ctx, username)
        if action == "reactivate":
            return users.reactivate(ctx, username)
        raise InvalidInput("{what} must be revoke, deactivate or reactivate", what=Input("action"))

    done = {"revoke": "role-taken", "deactivate": "user-deactivated"}.get(
        action, "user-reactivated"
    )
    return _change(request, ctx, form, act, f"user-{username}", done)


def install_workflow(request: Request, ctx: ServiceContext, form: FormData) -> Response:
    """POST: `workflow install ID@N`, for a file the server finds."""
    from casereview.services import workflows

    def act() -> object:
        workflow_id = _required(form, "workflow_id")
        version = _required(form, "version")
        if not version.isdigit():
            raise InvalidInput("{what} must be a whole number", what=Input("version"))
        return workflows.install(ctx, f"{workflow_id}@{version}")

    return _change(request, ctx, form, act, "workflows", "workflow-installed")


def make_checkpoint(request: Request, ctx: ServiceContext, form: FormData) -> Response:
    """POST: `audit checkpoint`, sent as a file to keep outside casereview."""
    from casereview.presenters import audit as words
    from casereview.services import audit, users
    from casereview.web.routes.reports import attachment

    users.require_admin_account(ctx)
    taken = audit.checkpoint(ctx)
    return attachment(
        words.checkpoint_text(taken).encode("utf-8"),
        f"checkpoint-{taken.event_count}.json",
        "application/json",
    )


routes = [
    get("/admin", admin_page, "admin"),
    post("/admin/users", add_user, "add_user"),
    post("/admin/roles", grant_role, "grant_role"),
    post("/admin/users/{username}", user_change, "user_change"),
    post("/admin/workflows", install_workflow, "install_workflow"),
    post("/admin/checkpoint", make_checkpoint, "make_checkpoint"),
]
