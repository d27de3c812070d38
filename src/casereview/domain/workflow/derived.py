"""What a process derives from a workflow definition once and looks up event after event
(the replay rules, the engine's moves, the sign-off rounds), kept per definition.

A process meets a few definitions, interleaved: a report or a verify pass reads cases in
order, so England v1, v2 and a partnership's own rules alternate; keeping only the last
one rebuilt the rules at nearly every case. The last few are kept, by identity (a
definition is immutable; an equal one built in memory by a test is another), and the
oldest is dropped, so a long-lived process keeps only the ones in use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from casereview.domain.workflow.model import WorkflowDefinition

T = TypeVar("T")

KEPT = 16
"""How many definitions' derived values each cache keeps."""


class PerDefinition(Generic[T]):
    """`build(definition)`, computed once for each of the last `KEPT` definitions."""

    def __init__(self, build: Callable[[WorkflowDefinition], T]) -> None:
        self._build = build
        self._kept: dict[int, tuple[WorkflowDefinition, T]] = {}

    def __call__(self, definition: WorkflowDefinition) -> T:
        found = self._kept.get(id(definition))
        # The identity check: an id can be reused once its definition is gone.
        if found is not None and found[0] is definition:
            return found[1]
        value = self._build(definition)
        if len(self._kept) >= KEPT:
            del self._kept[next(iter(self._kept))]  # the oldest
        self._kept[id(definition)] = (definition, value)
        return value
