"""The audit trail's verification and an export's verification as people read them:
the verdict, its summary and each finding's line, shared by `audit verify` and `log
verify-export` on the command line and the web's scrutiny page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from casereview.presenters.words import plural

if TYPE_CHECKING:
    from casereview.domain.chain import Checkpoint
    from casereview.domain.chain import Finding as ChainFinding
    from casereview.formats.decision_log.integrity import Finding as ExportFinding
    from casereview.services.audit import VerifyReport
    from casereview.services.exports import ExportVerification


def no_checkpoint(how: str) -> str:
    """What a verification without a checkpoint cannot see; `how` says where a front
    end makes one."""
    return (
        f"Without a checkpoint, a shortened log or a restored older copy cannot be detected; {how}."
    )


MATCHES_LOG = "Every row matches the log, and no row of the log is missing."


def finding_line(finding: ChainFinding | ExportFinding) -> str:
    """`FAIL [chain] …`: one finding as both checks list it."""
    return f"FAIL [{finding.check}] {finding}"


def summary(report: VerifyReport) -> str:
    """What was checked: events, cases, users, the head, signatures."""
    text = (
        f"{plural(report.events, 'event')}, {plural(report.cases, 'case')}, "
        f"{plural(report.users, 'user')}; head {report.head_hash[:16]}…"
    )
    signed = report.signatures
    text += f"; {plural(signed.checked, 'signature')} checked"
    if signed.already_checked_through:
        text += f" (events to {signed.already_checked_through} were checked before)"
    if signed.unsigned_history:
        text += f"; {plural(signed.unsigned_history, 'event')} of unsigned history"
    return text


def verdict(report: VerifyReport) -> str:
    """`OK: the audit trail verifies. …` or `FAILED: 2 finding(s). …`."""
    if report.ok:
        scope = " against the checkpoint" if report.checkpoint_used else ""
        return f"OK: the audit trail verifies{scope}. {summary(report)}"
    return f"FAILED: {len(report.findings)} finding(s). {summary(report)}"


def legacy_note(report: VerifyReport) -> str | None:
    """The note on cases opened before any installation, if there are any."""
    if not report.legacy_cases:
        return None
    return (
        f"{report.legacy_cases} case(s) were opened before any workflow was installed "
        "in the log: which workflow they were opened on is not checked against an installation."
    )


def export_what(report: ExportVerification) -> str:
    """`csv export of 120 events, made … at log event 130`."""
    meta = report.meta
    what = f"{report.format} export of {report.rows} events" if report.format else "file"
    if meta is not None:
        what += f", made {meta.created_at} at log event {meta.chain_head_seq}"
    return what


def export_verdict(report: ExportVerification, name: str) -> str:
    """`OK: FILE (…) is intact.` or `FAILED: FILE (…) does not verify.`"""
    if not report.ok:
        return f"FAILED: {name} ({export_what(report)}) does not verify."
    return f"OK: {name} ({export_what(report)}) is intact."


def more_findings(report: ExportVerification) -> str | None:
    return f"… and {report.more_findings} more findings" if report.more_findings else None


def checkpoint_text(checkpoint: Checkpoint) -> str:
    """A checkpoint's file, as `audit checkpoint` writes it and the web downloads it."""
    return checkpoint.to_json() + "\n"
