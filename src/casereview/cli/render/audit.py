"""Rendering for `audit …`: verification reports, checkpoints, progress."""

from __future__ import annotations

from pathlib import Path

from casereview.cli.render.console import info, literal, out, print_json_data
from casereview.cli.render.status import progress as progress  # re-exported for the CLI
from casereview.domain.chain import Checkpoint
from casereview.presenters.words import plural
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
        console.print(literal(f"FAIL [{finding.check}] {finding}"), style="red")
    summary = (
        f"{plural(report.events, 'event')}, {plural(report.cases, 'case')}, "
        f"{plural(report.users, 'user')}; head {report.head_hash[:16]}…"
    )
    signed = report.signatures
    summary += f"; {plural(signed.checked, 'signature')} checked"
    if signed.already_checked_through:
        summary += f" (events to {signed.already_checked_through} were checked before)"
    if signed.unsigned_history:
        summary += f"; {plural(signed.unsigned_history, 'event')} of unsigned history"
    if report.ok:
        scope = " against the checkpoint" if report.checkpoint_used else ""
        console.print(f"OK: the audit trail verifies{scope}. {summary}", style="green")
        if not report.checkpoint_used:
            info(
                "Without a checkpoint, a shortened log or a restored older copy cannot be "
                "detected; see 'casereview audit checkpoint'."
            )
    else:
        console.print(f"FAILED: {len(report.findings)} finding(s). {summary}", style="bold red")
    if report.legacy_cases:
        info(
            f"{report.legacy_cases} case(s) were opened before any workflow was installed "
            "in the log: which workflow they were opened on is not checked against an installation."
        )


def checkpoint_text(cp: Checkpoint) -> str:
    return cp.to_json() + "\n"


def checkpoint_written(cp: Checkpoint, output: Path | None) -> None:
    if output is not None:
        info(
            f"Checkpoint of {cp.event_count} events written to {output}. "
            "Keep it outside casereview."
        )
