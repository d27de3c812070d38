"""The accessibility statement (templates/accessibility.html): open to everyone, signed
in or not, as the accessibility regulations expect of a public-sector service. A person
signed in sees it in the full layout; anyone else sees it without a person or sections."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casereview.web.handlers import get
from casereview.web.pages import page

if TYPE_CHECKING:
    from casereview.services.context import ServiceContext


def statement(request: Request, ctx: ServiceContext) -> Response:
    signed_in = getattr(request.state, "session", None) is not None
    return page(request, ctx if signed_in else None, "accessibility.html")


routes: list[Route] = [get("/accessibility", statement, "accessibility")]
