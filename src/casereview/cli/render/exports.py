"""Rendering for `log export`, `log verify-export` and `calendar export`.

The export itself is written by the service to the stream the command opened; this
module says what happened (on stderr, so stdout stays the export's) and shows
verification reports.
"""

from __future__ import annotations

from pathlib import Path

from casereview.cli.render.console import info, literal, out, print_json_data, warning
from casereview.cli.render.status import progress as progress  # re-exported for the CLI
from casereview.presenters import audit as audit_words
from casereview.services.exports import (
    CalendarExportResult,
    ExportVerification,
    LogExportResult,
)


def log_exported(result: LogExportResult, output: Path | None) -> None:
    meta = result.meta
    where = f" to {output}" if output is not None else ""
    info(
        f"Exported {_count(meta.event_count, 'event')} from {_count(meta.case_count, 'case')} "
        f"({meta.format}){where}; "
        f"log head event {meta.chain_head_seq}; digest {result.digest}."
    )
    for gone in result.left_out:
        w = gone.workflow
        warning(
            f"{_count(gone.cases, 'case')} on workflow {w.id} v{w.version} (sha256 "
            f"{w.content_hash[:12]}…) left out: {gone.reason}. 'casereview audit verify' "
            "reports each of them."
        )
    if meta.include_personal:
        named = ", ".join(meta.personal_fields) or "none defined"
        warning(f"this export includes personal data ({named}); store and share it accordingly.")


def export_verification(report: ExportVerification, as_json: bool) -> None:
    if as_json:
        meta = report.meta
        print_json_data(
            {
                "ok": report.ok,
                "file": report.file,
                "format": report.format,
                "rows": report.rows,
                "claimed_digest": report.claimed_digest,
                "actual_digest": report.actual_digest,
                "database_checked": report.database_checked,
                "meta": meta.to_json() if meta is not None else None,
                "findings": [
                    {"check": f.check, "seq": f.seq, "message": f.message} for f in report.findings
                ],
                "more_findings": report.more_findings,
                "notes": report.notes,
            }
        )
        return
    console = out()
    for finding in report.findings:
        console.print(literal(audit_words.finding_line(finding)), style="red", soft_wrap=True)
    more = audit_words.more_findings(report)
    if more:
        console.print(more, style="red", soft_wrap=True)
    for note in report.notes:
        info(f"Note: {note}")
    verdict = audit_words.export_verdict(report, report.file)
    if not report.ok:
        console.print(literal(verdict), style="bold red", soft_wrap=True)
        return
    console.print(literal(verdict), style="green", soft_wrap=True)
    if report.database_checked:
        console.print(audit_words.MATCHES_LOG, soft_wrap=True)
    else:
        info(
            "Checked against its own digest only: it has not changed since it was written "
            "(or was rewritten along with its digest). Give --db to check it against the log."
        )


def calendar_exported(result: CalendarExportResult, output: Path | None) -> None:
    where = f" to {output}" if output is not None else ""
    if result.closed_case is not None:
        info(f"Case {result.closed_case} is closed: it has no open deadlines.")
    paused = (
        f"; {_count(result.paused_left_out, 'paused clock')} left out"
        if result.paused_left_out
        else ""
    )
    info(
        f"Wrote {_count(result.deadlines, 'deadline')} in {_count(result.cases, 'case')}"
        f"{where}{paused}."
    )
    if result.unreadable_left_out:
        info(
            f"{_count(result.unreadable_left_out, 'clock')} left out: the stored due date "
            "is not a date; 'casereview audit verify' reports where."
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
