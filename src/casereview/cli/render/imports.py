"""Rendering for `casereview import`: the problem report, the outcome, the progress bar."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict

from rich.table import Table

from casereview.cli.render.console import info, literal, out, print_json_data
from casereview.services.imports import ImportResult, Progress


def result(outcome: ImportResult, as_json: bool) -> None:
    if as_json:
        print_json_data(
            {
                "file": outcome.file,
                "sha256": outcome.sha256,
                "sheet": outcome.sheet,
                "rows": outcome.rows,
                "dry_run": outcome.dry_run,
                "imported": outcome.imported,
                "events": outcome.events,
                "skipped_rows": outcome.skipped_rows,
                "skipped_file": outcome.skipped_file,
                "problems": [asdict(p) for p in outcome.problems],
            }
        )
        return
    if outcome.problems:
        table = Table(title=f"Problems in {outcome.file}", show_lines=False)
        for name in ("sheet", "row", "column", "value", "what is wrong", "what would fix it"):
            table.add_column(name, overflow="fold", no_wrap=name in ("row",))
        for p in outcome.problems:
            table.add_row(
                literal(p.sheet),
                str(p.row),
                literal(p.column),
                literal(p.value),
                literal(p.what),
                literal(p.fix),
            )
        out().print(table)
    shown = f"{outcome.file} (sheet {outcome.sheet!r}, sha256 {outcome.sha256[:12]}…)"
    if outcome.dry_run:
        if not outcome.problems:
            info(f"Dry run: all {outcome.rows} rows of {shown} would import; nothing was written.")
        return
    if outcome.imported or outcome.skipped_rows:
        info(f"Imported {outcome.imported} cases ({outcome.events} events) from {shown}.")
    if outcome.skipped_rows:
        info(
            f"Skipped {len(outcome.skipped_rows)} row(s) with problems: "
            f"{', '.join(map(str, outcome.skipped_rows))}; listed in {outcome.skipped_file}."
        )


@contextmanager
def progress() -> Iterator[Progress]:
    """A bar per phase on a terminal; silent when stderr is not a terminal."""
    if not sys.stderr.isatty():
        yield lambda _what, _done, _total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from casereview.cli.render.console import err

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err(),
        transient=True,
    ) as bar:
        tasks: dict[str, object] = {}

        def update(what: str, done: int, total: int) -> None:
            task = tasks.get(what)
            if task is None:
                task = tasks[what] = bar.add_task(what.capitalize(), total=total)
            bar.update(task, completed=done, total=total)  # type: ignore[arg-type]

        yield update


def template(text: str) -> None:
    sys.stdout.write(text)
