"""Rendering for `case migrate`: each case's move, old and new state, and how each of
its clocks changes."""

from __future__ import annotations

import dataclasses

from rich import box
from rich.table import Table

from casereview.cli.render.console import info, literal, out, print_json_data
from casereview.domain.clocks import ClockSummary
from casereview.services.migrate import MigrationResult


def _clock(summary: ClockSummary | None) -> str:
    if summary is None:
        return "-"
    if summary.state == "stopped":
        return f"stopped {summary.stopped_on}"
    return f"{summary.state}, due {summary.due_on or '?'}"


def migrated(result: MigrationResult, as_json: bool) -> None:
    if as_json:
        print_json_data(
            {
                "workflow_id": result.workflow_id,
                "version": result.version,
                "dry_run": result.dry_run,
                "cases": [dataclasses.asdict(m) for m in result.moves],
            }
        )
        return
    target = f"{result.workflow_id} v{result.version}"
    table = Table("case", "from", "to", "clock", "before", "after", box=box.SIMPLE_HEAD)
    for move in result.moves:
        to = move.to_state + (" (held)" if move.held else "")
        first = True
        changed = [c for c in move.clocks if c.changed] or list(move.clocks[:1])
        for change in changed:
            table.add_row(
                literal(move.ref) if first else "",
                f"v{move.from_version} {move.from_state}" if first else "",
                f"v{move.to_version} {to}" if first else "",
                change.clock_id,
                _clock(change.before),
                _clock(change.after),
            )
            first = False
        if first:
            table.add_row(
                literal(move.ref),
                f"v{move.from_version} {move.from_state}",
                f"v{move.to_version} {to}",
                "",
                "",
                "",
            )
    if result.moves:
        out().print(table)
    count = len(result.moves)
    cases = f"{count} case{'s' if count != 1 else ''}"
    if result.dry_run:
        info(f"Dry run: {cases} would move to {target}; nothing was changed.")
    else:
        info(f"Moved {cases} to {target}.")
