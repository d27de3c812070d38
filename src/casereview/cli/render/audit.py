"""Rendering for `audit …`: verification reports, checkpoints, progress."""

from __future__ import annotations

from pathlib import Path

from casereview.cli.render.console import info, literal, out, print_json_data
from casereview.cli.render.status import progress as progress  # re-exported for the CLI
from casereview.domain.chain import Checkpoint
from casereview.presenters import audit as words
from casereview.services.audit import VerifyReport


def verification(report: VerifyReport, as_json: bool) -> None:
    if as_json:
        print_json_data(
            {
                "ok": report.ok,
                "events": report.events,
                "cases": report.cases,
                "users": report.users,
                "legacy_cases": report.legacy_cases,
                "head_hash": report.head_hash,
                "checkpoint_used": report.checkpoint_used,
                "signatures": {
                    "unsigned_history": report.signatures.unsigned_history,
                    "checked": report.signatures.checked,
                    "already_checked_through": report.signatures.already_checked_through,
                    "full": report.signatures.full,
                },
                "findings": [
                    {"check": f.check, "seq": f.seq, "message": f.message} for f in report.findings
                ],
            }
        )
        return
    console = out()
    for finding in report.findings:
        console.print(literal(words.finding_line(finding)), style="red")
    if report.ok:
        console.print(words.verdict(report), style="green")
        if not report.checkpoint_used:
            info(words.no_checkpoint("see 'casereview audit checkpoint'"))
    else:
        console.print(words.verdict(report), style="bold red")
    legacy = words.legacy_note(report)
    if legacy:
        info(legacy)


def checkpoint_text(cp: Checkpoint) -> str:
    return words.checkpoint_text(cp)


def checkpoint_written(cp: Checkpoint, output: Path | None) -> None:
    if output is not None:
        info(
            f"Checkpoint of {cp.event_count} events written to {output}. "
            "Keep it outside casereview."
        )
