"""Replaying what is stored, when something stored may not be readable.

Every date is checked on input, so a value that is not a date at all can only be in a
log written around casereview. A reader of one case (`case show`, `timeline`,
`explain`) then answers with one clear error naming the case; a reader of the whole
log (the report) leaves that case out and goes on; `audit verify` reports where.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from casereview.domain.replay import Replayed, replay
from casereview.domain.workflow.model import WorkflowDefinition
from casereview.errors import CaseReviewError, Step


class UnreadableCase(CaseReviewError):
    """A case whose stored events cannot be replayed (exit 1)."""


def replay_stored(
    definition: WorkflowDefinition,
    ref: str,
    events: Iterable[Mapping[str, Any]],
    *,
    until: dt.date | None = None,
    known_by: dt.date | None = None,
) -> Replayed:
    """`replay`, or UnreadableCase if a stored value cannot be read."""
    try:
        return replay(definition, ref, events, until=until, known_by=known_by)
    except (ValueError, TypeError, KeyError) as exc:
        raise UnreadableCase(
            "case {ref}: a value stored in its log cannot be read ({kind}); "
            "'{verify}' reports where",
            ref=ref,
            kind=type(exc).__name__,
            verify=Step("verify_log"),
        ) from None
