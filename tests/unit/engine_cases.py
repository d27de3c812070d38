"""A case kept in memory for engine tests: each step decided by `engine.decide` against
the case as `replay` rebuilds it, recorded as an event row, and the clocks derived from
the replayed facts (the write path's order, without a database)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from casereview.domain import clocks, engine
from casereview.domain.replay import Replayed, replay
from casereview.domain.workflow.loader import load_path
from casereview.domain.workflow.model import WorkflowDefinition
from casereview.infra.bank_holidays import default_calendar

D = dt.date.fromisoformat
CAL = default_calendar()
ENGINE_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "workflows" / "engine"
EVERYONE = engine.Person("all", frozenset({"clerk", "chair", "signer"}))


def overlays() -> WorkflowDefinition:
    return load_path(ENGINE_FIXTURES / "overlays.toml")


class MemoryCase:
    def __init__(
        self,
        definition: WorkflowDefinition,
        opened_on: str,
        fields: Mapping[str, Any] | None = None,
        ref: str = "C-1",
    ) -> None:
        self.definition = definition
        self.ref = ref
        self.rows: list[dict[str, Any]] = [
            {
                "seq": 1,
                "trigger": clocks.OPEN_TRIGGER,
                "from_state": None,
                "to_state": definition.initial_state,
                "occurred_on": opened_on,
                "fields": {"pseudonym": "Child A", **(fields or {})},
            }
        ]

    @property
    def replayed(self) -> Replayed:
        return replay(self.definition, self.ref, self.rows)

    def step(
        self,
        trigger: str,
        on: str,
        fields: Mapping[str, str] | None = None,
        *,
        who: engine.Person = EVERYONE,
        rationale: str | None = "because",
    ) -> engine.Decision:
        state = self.replayed
        assert not state.problems, state.problems
        snapshot = engine.CaseSnapshot(
            ref=self.ref,
            state=state.state,
            fields=state.fields,
            approvals=state.approvals,
            version=state.version,
            history=tuple(state.facts),
            hold=state.hold,
            open_rounds=state.open_rounds,
        )
        decision = engine.decide(
            self.definition,
            snapshot,
            engine.Request(trigger, D(on), dict(fields or {}), rationale),
            who,
        )
        self.rows.append(
            {
                "seq": self.rows[-1]["seq"] + 1,
                "trigger": decision.trigger,
                "from_state": decision.from_state,
                "to_state": decision.to_state,
                "occurred_on": on,
                "fields": dict(decision.changes),
            }
        )
        return decision

    def clocks(self) -> dict[str, clocks.ClockState]:
        state = self.replayed
        assert not state.problems, state.problems
        return clocks.derive(clocks.rules_for(self.definition), state.facts, CAL)
