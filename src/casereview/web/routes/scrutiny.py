"""Scrutiny: verify the audit trail (`services.audit.verify`, the CLI's `audit verify`),
download the decision log, verify an export someone uploads
(`services.exports.verify_export` against this database, the CLI's `log verify-export
--db`), and the corrections made after the fact (the annual report's list of them,
`services.report.build_report`).

A verification reads the whole log, so a POST starts it in a thread of this process and
redirects to its page, which shows how many events have been checked of how many and
reloads itself every 2 seconds until the findings are in (a `Refresh` header and a
`<meta http-equiv="refresh">`: no script). A verification belongs to the session that
started it; the server keeps the last `KEPT` of them in memory. It runs in one process
(`jobs=1`): the server does not start worker processes.

An upload is refused before it is read when it is larger than `UPLOAD_LIMIT` (413), and
its CSRF token is checked before the file is looked at.
"""

from __future__ import annotations

import secrets
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from casereview.errors import CaseReviewError, InvalidInput
from casereview.services.context import ServiceContext
from casereview.web import auth, handlers, pages
from casereview.web.handlers import get, post

if TYPE_CHECKING:
    from casereview.domain.reporting.figures import Figure
    from casereview.services.audit import VerifyReport
    from casereview.services.exports import ExportVerification

REFRESH_SECONDS = 2
KEPT = 20
"""Verifications kept in memory (the oldest finished one is forgotten first)."""

UPLOAD_LIMIT = 64 * 1024 * 1024
"""The largest export the page accepts (64 MiB); a larger one is verified with the CLI's
`log verify-export`, which reads up to 1 GiB."""

FORM_OVERHEAD = 64 * 1024
"""What a form adds around its file (boundaries, headers, the CSRF token), at most."""


@dataclass
class Verification:
    """One run of `audit verify`: who started it (a session id), how far it has got."""

    id: str
    owner: str
    total: int
    checked: int = 0
    report: VerifyReport | None = None
    error: str | None = None
    done: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def advance(self, events: int) -> None:
        with self._lock:
            self.checked = min(self.total, self.checked + events)


class Verifications:
    """The verifications this server has started, by id."""

    def __init__(self) -> None:
        self._runs: OrderedDict[str, Verification] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, owner: str, total: int) -> Verification:
        run = Verification(secrets.token_urlsafe(16), owner, total)
        with self._lock:
            self._runs[run.id] = run
            while len(self._runs) > KEPT:
                oldest = next((k for k, r in self._runs.items() if r.done), None)
                if oldest is None:
                    break
                del self._runs[oldest]
        return run

    def get(self, run_id: str, owner: str) -> Verification | None:
        """The run with this id if `owner` started it (None otherwise)."""
        with self._lock:
            run = self._runs.get(run_id)
        return run if run is not None and run.owner == owner else None

    def count(self) -> int:
        with self._lock:
            return len(self._runs)


_made = threading.Lock()


def verifications_of(app: Any) -> Verifications:
    """The Starlette app's verifications (made on first use)."""
    with _made:
        runs = getattr(app.state, "verifications", None)
        if runs is None:
            runs = Verifications()
            app.state.verifications = runs
    return runs


def verifications(request: Request) -> Verifications:
    return verifications_of(request.app)


# -- the page ---------------------------------------------------------------------------


def _corrections(ctx: ServiceContext, year: str) -> tuple[Figure, str]:
    """The report's figure of corrections, undos and voids, with its period's label."""
    from casereview.domain.reporting.figures import parse_financial_year
    from casereview.services.report import build_report

    report = build_report(ctx, year=parse_financial_year(year) if year else None)
    figure = next(f for f in report.section("corrections") if f.id == "corrections.recorded")
    return figure, report.period.label


def scrutiny_page(request: Request, ctx: ServiceContext) -> Response:
    from casereview.domain.reporting.figures import display
    from casereview.formats.registry import NAMES

    year = (request.query_params.get("year") or "").strip()
    errors: list[dict[str, str]] = []
    try:
        figure, period = _corrections(ctx, year)
    except InvalidInput as error:
        errors = pages.error_list(error)
        figure, period = _corrections(ctx, "")
    return pages.page(
        request,
        ctx,
        "scrutiny.html",
        nav="scrutiny",
        status_code=400 if errors else 200,
        errors=errors,
        year=year,
        period=period,
        figure=figure,
        columns=[c.replace("_", " ") for c in figure.columns],
        rows=[[str(display(v)) for v in record.values()] for record in figure.records()],
        log_formats=NAMES,
    )


# -- verifying the audit trail -------------------------------------------------------------


def _run(contexts: handlers.ContextMaker, run: Verification) -> None:
    from casereview.services import audit

    ctx = contexts()
    try:
        run.report = audit.verify(ctx, progress=run.advance, jobs=1)
    except CaseReviewError as error:
        run.error = pages.wording(error)
    except Exception:  # shown as a failure on the page, never as a traceback
        run.error = "The verification stopped before it finished; run 'casereview audit verify'."
    finally:
        ctx.close()
        run.done = True


def start_verification(request: Request, ctx: ServiceContext, form: FormData) -> Response:
    """POST: start `audit verify` in the background and show its progress."""
    from casereview.services import audit

    total = audit.checkpoint(ctx).event_count  # also refuses someone who may not read
    session = request.state.session
    run = verifications(request).add(session.id, total)
    worker = threading.Thread(target=_run, args=(handlers.contexts_for(request), run), daemon=True)
    worker.start()
    return RedirectResponse(f"/scrutiny/verify/{run.id}", status_code=303)


def verification_page(request: Request, ctx: ServiceContext) -> Response:
    from casereview.presenters import audit as words

    session = request.state.session
    run = verifications(request).get(request.path_params["run"], session.id)
    if run is None:
        return pages.page(
            request,
            ctx,
            "error.html",
            status_code=404,
            message="No verification of yours has this address: start one from the scrutiny page.",
        )
    # `done` first: the worker sets it after the report, so a run read as done has its
    # report (read the other way round, a run finishing in between showed no verdict).
    done = run.done
    report = run.report if done else None
    response = pages.page(
        request,
        ctx,
        "verification.html",
        nav="scrutiny",
        run=run,
        done=done,
        refresh=None if done else REFRESH_SECONDS,
        verdict=words.verdict(report) if report is not None else None,
        findings=[words.finding_line(f) for f in report.findings] if report else [],
        notes=_notes(report) if report is not None else [],
    )
    if not done:
        response.headers["refresh"] = str(REFRESH_SECONDS)
    return response


def _notes(report: VerifyReport) -> list[str]:
    from casereview.presenters import audit as words

    notes = []
    if report.ok and not report.checkpoint_used:
        notes.append(words.no_checkpoint("an admin makes one on the Admin page, under Checkpoints"))
    legacy = words.legacy_note(report)
    if legacy:
        notes.append(legacy)
    return notes


# -- verifying an export -------------------------------------------------------------------


def _verify_file(request: Request, ctx: ServiceContext, data: bytes, name: str) -> Response:
    from casereview.presenters import audit as words
    from casereview.services import exports

    with tempfile.TemporaryDirectory(prefix="casereview-upload-") as folder:
        path = Path(folder) / "export"
        path.write_bytes(data)
        report: ExportVerification = exports.verify_export(path, ctx)
    return pages.page(
        request,
        ctx,
        "export_verification.html",
        nav="scrutiny",
        status_code=200,
        ok=report.ok,
        verdict=words.export_verdict(report, name),
        findings=[words.finding_line(f) for f in report.findings],
        more=words.more_findings(report),
        notes=report.notes,
        matches=words.MATCHES_LOG if report.ok and report.database_checked else None,
    )


def _refused(request: Request, status_code: int, message: str) -> Response:
    with handlers.service_context(request) as ctx:
        return pages.page(
            request,
            ctx,
            "scrutiny_refused.html",
            nav="scrutiny",
            status_code=status_code,
            errors=[{"text": message, "href": "#export"}],
        )


def _checked_upload(request: Request, data: bytes, name: str) -> Response:
    with handlers.service_context(request) as ctx:
        try:
            return _verify_file(request, ctx, data, name)
        except CaseReviewError as error:
            return pages.page(
                request,
                ctx,
                "scrutiny_refused.html",
                nav="scrutiny",
                status_code=pages.status_of(error, form=True),
                errors=[{"text": pages.wording(error), "href": "#export"}],
            )


async def upload_export(request: Request) -> Response:
    """POST a decision-log export (multipart, at most `UPLOAD_LIMIT`) to verify it."""
    length = request.headers.get("content-length") or ""
    if not length.isdigit() or int(length) > UPLOAD_LIMIT + FORM_OVERHEAD:
        too_big = f"The file must be smaller than {UPLOAD_LIMIT // (1024 * 1024)} MB"
        return await run_in_threadpool(_refused, request, 413, too_big)
    form = await request.form(max_files=1, max_fields=4)
    try:
        session: Any = getattr(request.state, "session", None)
        if session is None or not auth.csrf_ok(session, form.get("csrf_token")):
            return handlers.forbidden(request)
        upload = form.get("export")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await run_in_threadpool(_refused, request, 400, "Select an export file")
        data = await upload.read(UPLOAD_LIMIT + 1)
        if len(data) > UPLOAD_LIMIT:
            too_big = f"The file must be smaller than {UPLOAD_LIMIT // (1024 * 1024)} MB"
            return await run_in_threadpool(_refused, request, 413, too_big)
        name = PurePath(upload.filename.replace("\\", "/")).name[:100] or "the file"
        return await run_in_threadpool(_checked_upload, request, data, name)
    finally:
        await form.close()


routes = [
    get("/scrutiny", scrutiny_page, "scrutiny"),
    post("/scrutiny/verify", start_verification, "start_verification"),
    get("/scrutiny/verify/{run}", verification_page, "verification"),
    Route("/scrutiny/export", upload_export, methods=["POST"], name="upload_export"),
]
