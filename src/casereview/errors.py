"""The error hierarchy and the exit codes it maps to.

Every failure a person can cause is one of these exceptions. Messages are written for
the person at the terminal: they say what was wrong and what to do, and never contain
case data beyond the reference the person typed. The CLI turns each into one
`Error: …` line and the exit code below (documented in docs/cli.md).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    NOT_FOUND = 3
    REFUSED = 4
    INVALID_WORKFLOW = 5
    CONFLICT = 6
    VERIFICATION_FAILED = 7


class CaseReviewError(Exception):
    """Base of every expected failure; carries its exit code."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(CaseReviewError):
    """A value the person typed cannot be used (bad date, negative count, …)."""

    exit_code = ExitCode.USAGE


class OutOfRange(InvalidInput):
    """A date or count outside what casereview can compute reliably."""


class NotFound(CaseReviewError):
    """A case, user, workflow or clock that does not exist."""

    exit_code = ExitCode.NOT_FOUND


class Refused(CaseReviewError):
    """The request is well-formed but the rules forbid it (state, role, guard, field)."""

    exit_code = ExitCode.REFUSED


class InvalidWorkflow(CaseReviewError):
    """A workflow definition file failed validation; `problems` lists every finding."""

    exit_code = ExitCode.INVALID_WORKFLOW

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class Conflict(CaseReviewError):
    """Someone else changed the case after the person last saw it."""

    exit_code = ExitCode.CONFLICT


class VerificationFailed(CaseReviewError):
    """The audit trail or an export did not verify."""

    exit_code = ExitCode.VERIFICATION_FAILED
