"""Reports: the annual report (`services.report.build_report`, drawn by the report's own
HTML writer, `formats.report.as_html.body_chunks`, inside the layout), the action plans
of the cases that have one, and a download of every export the CLI writes.

A download is the same service call and the same writer as the CLI's command, into
memory instead of a file, so its bytes are the command's for the same inputs:
`report --format csv|json|md|html|xlsx` (with `--year` and `--workflow`), `log export
--format csv|json|md`, `due --xlsx`, `case list --xlsx`, `calendar export` and `action
plan --format md|csv|html|xlsx`. Each is sent as an attachment with its media type.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from casereview.errors import InvalidInput, NotFound
from casereview.services.context import ServiceContext
from casereview.web import pages
from casereview.web.handlers import get

if TYPE_CHECKING:
    from casereview.domain.reporting.figures import Report

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "xlsx": XLSX,
    "ics": "text/calendar; charset=utf-8",
}
"""The media type of each download's suffix."""

REPORT_FORMATS = ("html", "csv", "json", "md", "xlsx")
PLAN_FORMATS = ("html", "md", "csv", "xlsx")


@dataclass(frozen=True)
class Filters:
    """The report's filters as the page's form gave them (the CLI's --year and
    --workflow): text as typed, for filling the form again and for download links."""

    year: str
    workflow: str

    @classmethod
    def of(cls, query: Mapping[str, str]) -> Filters:
        return cls((query.get("year") or "").strip(), (query.get("workflow") or "").strip())

    def query(self) -> str:
        from urllib.parse import urlencode

        given = {k: v for k, v in (("year", self.year), ("workflow", self.workflow)) if v}
        return ("?" + urlencode(given)) if given else ""


def _report(ctx: ServiceContext, filters: Filters) -> Report:
    from casereview.domain.reporting.figures import parse_financial_year
    from casereview.services.report import build_report

    year = parse_financial_year(filters.year) if filters.year else None
    return build_report(ctx, year=year, workflow=filters.workflow or None)


def reports_page(request: Request, ctx: ServiceContext) -> Response:
    from casereview.formats.report import as_html

    filters = Filters.of(request.query_params)
    try:
        report = _report(ctx, filters)
    except InvalidInput as error:
        return pages.page(
            request,
            ctx,
            "reports.html",
            nav="reports",
            status_code=400,
            errors=pages.error_list(error),
            filters=filters,
            report=None,
        )
    body = "".join(as_html.body_chunks(report, detail=False, inline_style=False))
    return pages.page(
        request,
        ctx,
        "reports.html",
        nav="reports",
        errors=[],
        filters=filters,
        report=report,
        # The report's writer escapes every value it draws (formats/report/as_html.e).
        body=Markup(body),  # noqa: S704
        query=filters.query(),
        report_formats=REPORT_FORMATS,
        log_formats=_log_formats(),
    )


def plans_page(request: Request, ctx: ServiceContext) -> Response:
    """Each case's action plan, as links to its document in every format."""
    from casereview.services import actions

    document = actions.plan_document(ctx)
    return pages.page(
        request,
        ctx,
        "action_plans.html",
        nav="reports",
        document=document,
        plan_formats=PLAN_FORMATS,
    )


def _log_formats() -> tuple[str, ...]:
    from casereview.formats.registry import NAMES

    return NAMES


def _safe(text: str) -> str:
    """`text` as part of a file name: letters, digits, dots and dashes only."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-") or "all"


def attachment(data: bytes, filename: str, media_type: str) -> Response:
    """`data` as a download called `filename`."""
    return Response(
        data,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def _report_file(ctx: ServiceContext, query: Mapping[str, str], fmt: str) -> tuple[bytes, str]:
    from casereview.formats.report import as_csv, as_html, as_json, as_markdown

    report = _report(ctx, Filters.of(query))
    if fmt == "xlsx":
        from casereview.formats import xlsx_report

        data = xlsx_report.workbook(report, detail=False)
    else:
        writers: dict[str, Callable[..., Iterable[str]]] = {
            "md": as_markdown.chunks,
            "csv": as_csv.chunks,
            "json": as_json.chunks,
            "html": as_html.chunks,
        }
        data = "".join(writers[fmt](report, detail=False)).encode("utf-8")
    return data, f"report-{_safe(report.period.label)}.{fmt}"


def _log_file(ctx: ServiceContext, query: Mapping[str, str], fmt: str) -> tuple[bytes, str]:
    from casereview.services import exports

    request = exports.LogExportRequest(
        format=fmt,
        case=(query.get("case") or "").strip() or None,
        workflow=(query.get("workflow") or "").strip() or None,
    )
    sink = io.BytesIO()
    # One process: a page's request does not start workers (the bytes are the same).
    exports.export_log(ctx, request, sink, jobs=1)
    return sink.getvalue(), f"decision-log.{fmt}"


def _due_file(ctx: ServiceContext, query: Mapping[str, str]) -> bytes:
    from casereview.formats import xlsx
    from casereview.presenters.due import due_table
    from casereview.services import due

    every = due.due_list(ctx, workflow=(query.get("workflow") or "").strip() or None, limit=None)
    return xlsx.workbook([due_table(every)])


def _cases_file(ctx: ServiceContext, query: Mapping[str, str]) -> bytes:
    from casereview.formats import xlsx
    from casereview.services import imports_tracker

    tables = imports_tracker.tracker_tables(
        ctx, workflow=(query.get("workflow") or "").strip() or None
    )
    return xlsx.workbook(tables)


def _calendar_file(ctx: ServiceContext, query: Mapping[str, str]) -> bytes:
    from casereview.services import exports

    sink = io.BytesIO()
    exports.export_calendar(ctx, sink, workflow=(query.get("workflow") or "").strip() or None)
    return sink.getvalue()


def _plan_file(ctx: ServiceContext, query: Mapping[str, str], fmt: str) -> tuple[bytes, str]:
    from casereview.services import actions

    ref = (query.get("ref") or "").strip() or None
    document = actions.plan_document(ctx, ref)
    if fmt == "xlsx":
        from casereview.formats import action_plan_xlsx

        data = action_plan_xlsx.workbook(document)
    else:
        from casereview.formats.action_plan import WRITERS

        data = WRITERS[fmt](document).encode("utf-8")
    return data, f"action-plan-{_safe(ref or 'all')}.{fmt}"


def download(request: Request, ctx: ServiceContext) -> Response:
    """One export, named by its file name (`report.csv`, `decision-log.json`,
    `due.xlsx`, `cases.xlsx`, `calendar.ics`, `action-plan.html`, ...), filtered by the
    query (`year`, `workflow`, `case`, `ref`) as the CLI's options filter it."""
    name = request.path_params["name"]
    query = request.query_params
    stem, _, fmt = name.rpartition(".")
    if stem == "report" and fmt in REPORT_FORMATS:
        data, filename = _report_file(ctx, query, fmt)
    elif stem == "decision-log" and fmt in _log_formats():
        data, filename = _log_file(ctx, query, fmt)
    elif name == "due.xlsx":
        data, filename = _due_file(ctx, query), name
    elif name == "cases.xlsx":
        data, filename = _cases_file(ctx, query), name
    elif name == "calendar.ics":
        data, filename = _calendar_file(ctx, query), name
    elif stem == "action-plan" and fmt in PLAN_FORMATS:
        data, filename = _plan_file(ctx, query, fmt)
    else:
        raise NotFound("no download called {name!r}", name=name[:40])
    return attachment(data, filename, MEDIA_TYPES[fmt])


routes = [
    get("/reports", reports_page, "reports"),
    get("/reports/action-plans", plans_page, "action_plans"),
    get("/reports/download/{name}", download, "download"),
]
