"""Where a trigger may fire: the one answer to "can trigger T be done while a case is in
state S, and where does it take the case?".

A definition's `from` lists (`*`: every non-terminal state) and `to` (none: the case
stays where it is) become one table of moves, built once per definition and held by it
(`WorkflowDefinition.moves`). Everything that asks the question asks this table: the
definition's accessors, the engine (whose refusal `Moves.require` words), replay (which
reports a move outside it as a problem) and the compiled `transitions` machine, built
from the same sources and kept as a cross-check on every move the engine decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from casereview.errors import NotFound, Refused

if TYPE_CHECKING:  # the model builds the table; importing it here would be a cycle
    from casereview.domain.workflow.model import State, Trigger


def sources_of(trigger: Trigger, open_states: tuple[str, ...]) -> tuple[str, ...]:
    """The states `trigger` can fire from: its `from` list, with `*` read as every state
    in `open_states` (the non-terminal ones). The reference check, which works on a
    definition's parts before there is a definition, asks this too."""
    return open_states if trigger.from_any else trigger.from_


@dataclass(frozen=True, slots=True)
class Move:
    """`trigger` fired while a case is in `source`: it takes the case to `to_state`."""

    trigger: Trigger
    source: str
    to_state: str


class Moves:
    """Every move one definition allows, by (state, trigger id). Read-only once built."""

    __slots__ = ("_by_state", "_table", "_triggers", "open_states", "workflow_id")

    def __init__(
        self, workflow_id: str, states: Iterable[State], triggers: Iterable[Trigger]
    ) -> None:
        states = tuple(states)
        triggers = tuple(triggers)
        self.workflow_id = workflow_id
        self.open_states: tuple[str, ...] = tuple(s.id for s in states if not s.terminal)
        """Every non-terminal state, in file order: what `from = ["*"]` means."""
        by_state: dict[str, list[Trigger]] = {s.id: [] for s in states}
        for trigger in triggers:
            for state in self.sources(trigger):
                # A state the file does not declare is the reference check's to report.
                if state in by_state:
                    by_state[state].append(trigger)
        self._by_state = {state: tuple(found) for state, found in by_state.items()}
        # By id, the last of a repeated id (as the definition's lookups; the loader
        # refuses a file that repeats one).
        self._triggers = {t.id: t for t in triggers}
        self._table = {
            (state, trigger.id): Move(trigger, state, trigger.destination_from(state))
            for trigger in self._triggers.values()
            for state in self.sources(trigger)
            if state in by_state
        }

    def __eq__(self, other: object) -> bool:
        # Equal tables for equal definitions (a definition read back from the cache
        # compares equal to the one validated, private state included).
        if not isinstance(other, Moves):
            return NotImplemented
        return (self.workflow_id, self._by_state, self._table) == (
            other.workflow_id,
            other._by_state,
            other._table,
        )

    def sources(self, trigger: Trigger) -> tuple[str, ...]:
        """The states `trigger` can fire from, with `*` expanded."""
        return sources_of(trigger, self.open_states)

    def get(self, state: str, trigger_id: str) -> Move | None:
        """The move `trigger_id` makes in `state`, or None if it cannot fire there (or
        either is unknown)."""
        return self._table.get((state, trigger_id))

    def triggers_from(self, state: str) -> tuple[Trigger, ...]:
        """Triggers that can fire in `state`, in file order (none for an unknown state);
        guards, roles and fields are not considered."""
        return self._by_state.get(state, ())

    def require(self, state: str, trigger_id: str, ref: str) -> Move:
        """The move `trigger_id` makes for case `ref` in `state`, or the refusal: an
        unknown trigger is not found, a known one outside its states is refused, and both
        say what is possible now."""
        found = self._table.get((state, trigger_id))
        if found is not None:
            return found
        possible = ", ".join(t.id for t in self.triggers_from(state)) or "none"
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            raise NotFound(
                f"workflow {self.workflow_id} has no trigger {trigger_id!r}; "
                f"possible now from {state}: {possible}"
            )
        raise Refused(
            "{trigger} is not possible while case {ref} is in {state}; possible now: {possible}",
            trigger=trigger.id,
            ref=ref,
            state=state,
            possible=possible,
        )
