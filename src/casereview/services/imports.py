"""`casereview import`: a tracker's rows in as cases with their history, all or nothing.

`import_cases` reads the sheet (`formats.spreadsheet`) and the mapping
(`formats.spreadsheet_mapping`), turns each row into a case script and finds every
problem the sheet alone shows (`services.imports_rows`), then runs every script
through the workflow's own checks on the bulk write path (`bulk.check_and_write`: the
same opening checks, `engine.decide`, replay and clocks as `case open` and `case
advance`). Nothing is written unless every row passes; with `skip_bad_rows` the rows
with problems are left out, and listed in a CSV file beside the input. Every event
records the source file's SHA-256 and the row (`domain.imports`). A case whose
reference is already in the database is a problem of its row: importing the same file
twice adds nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from casereview.errors import CaseReviewError, Input, InvalidInput, Refused
from casereview.formats import spreadsheet, spreadsheet_mapping
from casereview.formats.cells import safe_cell
from casereview.infra import files, output
from casereview.infra.workflows import default_workflow
from casereview.services import bulk, imports_rows, imports_tracker
from casereview.services.context import ServiceContext
from casereview.services.imports_rows import Problem

MAX_TRACKER = 256 * 1024 * 1024
"""The largest tracker file read (a 10,000-row workbook is a few MiB)."""

MAX_MAPPING = 1024 * 1024

Progress = Callable[[str, int, int], None]
"""Called with what is being done ("reading", "checking", "writing"), done and total."""


@dataclass(frozen=True)
class ImportResult:
    file: str
    sha256: str
    sheet: str
    rows: int  # rows holding a case
    problems: list[Problem]
    imported: int  # cases written (0 on a dry run or a refusal)
    events: int
    dry_run: bool
    skipped_rows: list[int]
    skipped_file: str | None  # where the skipped rows' problems were written


def template(ctx: ServiceContext, workflow: str | None) -> str:
    """A commented mapping for `workflow` (default: the default workflow)."""
    from casereview.infra.workflows.registry import split_version

    definition = ctx.registry.get(*split_version(workflow or default_workflow()))
    return spreadsheet_mapping.template(definition)


def skipped_path(tracker: Path) -> Path:
    """Where the problems of the rows left out (`skip_bad_rows`) are written."""
    return tracker.with_name(tracker.name + ".skipped.csv")


def import_cases(
    ctx: ServiceContext,
    tracker: Path,
    mapping_file: Path | None,
    *,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import every row of `tracker` as a case, or nothing (see the module docstring).

    A refused import returns its problems (`imported` 0); a mapping or file that cannot
    be used at all raises. Without a mapping the file must be one `case list` wrote
    (`services.imports_tracker`)."""
    suffix = tracker.suffix.lower()
    if suffix not in spreadsheet.SUFFIXES:
        raise InvalidInput(
            f"{tracker.name} is not a tracker file: casereview reads "
            f"{', '.join(spreadsheet.SUFFIXES)}"
        )
    data = files.read_bounded(tracker, MAX_TRACKER, what="a tracker")
    sha256 = hashlib.sha256(data).hexdigest()
    if progress is not None:
        progress("reading", 0, 1)
    if mapping_file is None:
        converted = _own_layout(ctx, tracker, data, sha256)
    else:
        converted = _mapped(ctx, tracker, mapping_file, data, sha256)
    sheet_name = converted.sheet
    if progress is not None:
        progress("reading", 1, 1)
    problems = list(converted.problems)
    scripts = converted.scripts

    def checking(done: int) -> None:
        if progress is not None:
            progress("checking", done, len(scripts))

    checked = bulk.check_and_write(
        ctx, [s.script for s in scripts], write=not dry_run and not problems, progress=checking
    )
    refused_at = set()
    for index, step, error in checked.refused:
        refused_at.add(index)
        problems.append(imports_rows.refusal_problem(scripts[index], sheet_name, step, error))
    problems.sort(key=lambda p: p.row)
    bad_rows = sorted({p.row for p in problems})
    written = checked.written
    skipped: list[int] = []
    skipped_file: str | None = None
    if problems and skip_bad_rows and not dry_run:
        good = [s for i, s in enumerate(scripts) if i not in refused_at]
        if good:
            again = bulk.check_and_write(ctx, [s.script for s in good], write=True)
            if again.refused:  # someone else wrote the same cases meanwhile
                first = again.refused[0]
                raise (
                    imports_rows.unwrap(first[2])
                    .prefixed(f"row {good[first[0]].row}: ")
                    .suffixed("; nothing was imported")
                )
            written = again.written
        skipped = bad_rows
        path = skipped_path(tracker)
        with output.destination(path, force=True) as stream:
            stream.write(problems_csv(problems).encode("utf-8"))
        skipped_file = str(path)
    return ImportResult(
        file=tracker.name,
        sha256=sha256,
        sheet=sheet_name,
        rows=converted.rows,
        problems=problems,
        imported=written.cases if written else 0,
        events=written.events if written else 0,
        dry_run=dry_run,
        skipped_rows=skipped,
        skipped_file=skipped_file,
    )


def _mapped(
    ctx: ServiceContext, tracker: Path, mapping_file: Path, data: bytes, sha256: str
) -> imports_rows.Converted:
    from casereview.services.workflows import for_new_case
    from casereview.store import users as user_rows

    mapping_text = files.read_bounded(mapping_file, MAX_MAPPING, what="a mapping")
    try:
        mapping = spreadsheet_mapping.parse(mapping_text.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput(f"{mapping_file} is not UTF-8 text") from None
    try:
        # A CSV file is one sheet: the problem report names it by the file's name.
        named = tracker.name if tracker.suffix.lower() == ".csv" else mapping.sheet
        sheet = spreadsheet.read_sheet(data, tracker.suffix, named)
    except spreadsheet.SheetError as exc:
        raise InvalidInput(f"{tracker.name}: {exc}") from None
    definition = for_new_case(ctx, mapping.workflow or default_workflow())
    with ctx.db().reading() as conn:
        me = user_rows.get_user(conn, ctx.account)
    if me is None:
        raise Refused(f"account {ctx.account!r} is not a casereview user")
    return imports_rows.convert(
        sheet,
        mapping,
        definition,
        sha256=sha256,
        importer_roles=frozenset(json.loads(me["roles"])),
        today=ctx.clock.today(),
    )


def _own_layout(
    ctx: ServiceContext, tracker: Path, data: bytes, sha256: str
) -> imports_rows.Converted:
    """A workbook the case list workbook wrote, read without a mapping."""
    history = None
    if tracker.suffix.lower() != ".csv":
        try:
            history = spreadsheet.read_sheet(data, tracker.suffix, imports_tracker.HISTORY_SHEET)
        except spreadsheet.SheetError:
            history = None
    if history is None or not imports_tracker.is_own_layout(history):
        raise InvalidInput(
            "{file} is not a workbook casereview wrote (it has no History sheet as "
            "'case list' writes it); give {mapping} to say which column holds what",
            file=tracker.name,
            mapping=Input("mapping"),
        )
    own = imports_tracker.scripts_from_history(history, sha256, ctx.account)
    return imports_rows.Converted(own.scripts, own.problems, own.rows, history.name)


PROBLEM_COLUMNS = ("sheet", "row", "column", "value", "problem", "fix")


def problems_csv(problems: list[Problem]) -> str:
    """The problem report as CSV (formula-safe cells)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(PROBLEM_COLUMNS)
    for p in problems:
        writer.writerow(
            [
                safe_cell(p.sheet),
                p.row,
                safe_cell(p.column),
                safe_cell(p.value),
                safe_cell(p.what),
                safe_cell(p.fix),
            ]
        )
    return buffer.getvalue()


def refused_error(result: ImportResult) -> CaseReviewError:
    """The refusal of an import with problems."""
    return Refused(
        "{count} problem(s) in {rows} row(s) of {file}; nothing was imported. Fix them (or "
        "leave those rows out with {skip}) and import again",
        count=len(result.problems),
        rows=len({p.row for p in result.problems}),
        file=result.file,
        skip=Input("skip_bad_rows"),
    )
