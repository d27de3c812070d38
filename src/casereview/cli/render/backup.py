"""Rendering for `backup` and `restore`: what was written where, and what the check found."""

from __future__ import annotations

from casereview.cli.render.console import info, literal, out, print_json_data
from casereview.services.audit import VerifyReport
from casereview.services.backup import BackupResult, RestoreResult


def _report_json(report: VerifyReport) -> dict[str, object]:
    return {
        "ok": report.ok,
        "events": report.events,
        "cases": report.cases,
        "users": report.users,
        "head_hash": report.head_hash,
        "checkpoint_used": report.checkpoint_used,
        "findings": [
            {"check": f.check, "seq": f.seq, "message": f.message} for f in report.findings
        ],
    }


def _summary(report: VerifyReport) -> str:
    return (
        f"{report.events} events, {report.cases} cases, {report.users} users; "
        f"head {report.head_hash[:16]}…"
    )


def backup_taken(result: BackupResult, as_json: bool) -> None:
    if as_json:
        print_json_data(
            {
                "backup": str(result.path),
                "checkpoint": str(result.checkpoint_path),
                "verification": _report_json(result.report),
            }
        )
        return
    console = out()
    for finding in result.report.findings:
        console.print(literal(f"FAIL [{finding.check}] {finding}"), style="red")
    if result.report.ok:
        console.print(
            literal(f"Backed up to {result.path}: the copy verifies. {_summary(result.report)}"),
            style="green",
        )
    else:
        console.print(
            literal(
                f"Backed up to {result.path}, but the copy does not verify: "
                f"{len(result.report.findings)} finding(s), as in the database it was taken "
                f"from. {_summary(result.report)}"
            ),
            style="bold red",
        )
    info(
        f"Its checkpoint is {result.checkpoint_path}; keep both together, and a copy of "
        "the checkpoint somewhere else."
    )


def restored(result: RestoreResult, as_json: bool) -> None:
    if as_json:
        print_json_data(
            {
                "restored": str(result.path),
                "kept": None if result.kept is None else str(result.kept),
                "verification": _report_json(result.report),
            }
        )
        return
    scope = " against its checkpoint" if result.report.checkpoint_used else ""
    out().print(
        literal(f"Restored {result.path}: the backup verifies{scope}. {_summary(result.report)}"),
        style="green",
    )
    if result.kept is not None:
        info(f"The database it replaced is kept at {result.kept}.")
    if not result.report.checkpoint_used:
        info(
            "Without a checkpoint, a shortened or older copy cannot be detected; backups "
            "write one beside themselves."
        )
