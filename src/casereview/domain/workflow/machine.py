"""A definition compiled into a `transitions` state machine: the cross-check on moves.

Where a trigger may fire is decided by the definition's table of moves (`moves`); the
machine is built from the same sources and answers the same question its own way, and
the engine refuses a move the two disagree about. One `Machine` per definition version
(cached by id + version + content hash), built with `auto_transitions=False` so the only
moves are the file's triggers, with no model and no callbacks: it is asked, never run
(`transitions` does not undo a state change when a callback fails).
"""

from __future__ import annotations

import threading
from typing import Any

from transitions import Machine

from casereview.domain.workflow.model import WorkflowDefinition, WorkflowKey


class CompiledWorkflow:
    """A definition and its machine. Read-only after construction."""

    def __init__(self, definition: WorkflowDefinition) -> None:
        self.definition = definition
        moves: list[dict[str, Any]] = []
        for trigger in definition.triggers:
            moves.append(
                {
                    "trigger": trigger.id,
                    "source": list(definition.moves.sources(trigger)),
                    # "=" is transitions' reflexive destination: stay in the source state.
                    "dest": trigger.to if trigger.to is not None else "=",
                }
            )
        self.machine: Any = Machine(
            model=None,
            states=[s.id for s in definition.states],
            transitions=moves,
            initial=definition.initial_state,
            auto_transitions=False,
            ignore_invalid_triggers=False,
            send_event=False,
        )

        # Answers of `destination`, by (state, trigger). The machine never changes after
        # construction, so each answer is fixed; asking `transitions` is slow next to a
        # dict lookup, and the write path asks once per event.
        self._destinations: dict[tuple[str, str], str | None] = {}

    @property
    def key(self) -> WorkflowKey:
        return self.definition.key

    def destination(self, state: str, trigger: str) -> str | None:
        """Where `trigger` takes a case in `state`, or None if it cannot fire there."""
        key = (state, trigger)
        try:
            return self._destinations[key]
        except KeyError:
            pass
        # Only known states and triggers are remembered: unknown ones raise NotFound here.
        self.definition.state(state)
        self.definition.trigger(trigger)
        found = self.machine.get_transitions(trigger=trigger, source=state)
        answer = str(found[0].dest) if found else None
        self._destinations[key] = answer
        return answer

    def triggers_from(self, state: str) -> tuple[str, ...]:
        """Trigger ids the machine accepts in `state` (definition order)."""
        self.definition.state(state)
        accepted = set(self.machine.get_triggers(state))
        return tuple(t.id for t in self.definition.triggers if t.id in accepted)


_cache: dict[WorkflowKey, CompiledWorkflow] = {}
_lock = threading.Lock()


def compile_workflow(definition: WorkflowDefinition) -> CompiledWorkflow:
    """The compiled machine for `definition`, built once per id + version + hash.

    A definition built in memory (no content hash) is compiled afresh each time, since
    its key does not identify its content.
    """
    if not definition.content_hash:
        return CompiledWorkflow(definition)
    with _lock:
        compiled = _cache.get(definition.key)
        if compiled is None:
            compiled = CompiledWorkflow(definition)
            _cache[definition.key] = compiled
        return compiled
