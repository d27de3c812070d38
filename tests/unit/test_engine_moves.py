"""`engine.decide` remembers the static part of each (state, trigger) it has decided.

The remembered moves must never change an answer: every (state, trigger) pair of every
shipped workflow (and the minimal fixture) is decided once with nothing remembered and
once after every other pair has been decided in a shuffled order, for several people and
requests, and the two outcomes (the decision, or the exception's type and words) must be
identical. Refusals that name the case are never remembered with another case's name.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest

from casereview.domain import engine
from casereview.domain.workflow.derived import PerDefinition
from casereview.domain.workflow.loader import load_path
from casereview.domain.workflow.model import WorkflowDefinition
from casereview.errors import CaseReviewError

ROOT = Path(__file__).resolve().parents[2]
FILES = [
    *sorted((ROOT / "workflows").glob("*.toml")),
    ROOT / "tests/fixtures/workflows/minimal.toml",
]
ON = dt.date(2026, 3, 2)


def _people(definition: WorkflowDefinition) -> list[engine.Person]:
    roles = frozenset(r.id for r in definition.roles)
    agency = definition.agencies[0].id if definition.agencies else None
    return [
        engine.Person("everyone", roles),
        engine.Person("partner", frozenset({"partner"}), agency),
        engine.Person("nobody", frozenset()),
    ]


def _requests(definition: WorkflowDefinition, trigger_id: str) -> list[engine.Request]:
    trigger = definition.trigger(trigger_id)
    full = {}
    for name in trigger.requires:
        spec = definition.field(name)
        full[name] = (
            "2026-02-27"
            if spec.type == "date"
            else spec.choices[0]
            if spec.type == "choice"
            else "yes"
            if spec.type == "yes_no"
            else "some text"
        )
    return [
        engine.Request(trigger_id, ON),
        engine.Request(trigger_id, ON, full, "Agreed by the partners."),
        engine.Request(trigger_id, ON, {"not_a_field": "x"}),
    ]


def _outcome(
    definition: WorkflowDefinition,
    state: str,
    request: engine.Request,
    person: engine.Person,
    ref: str,
) -> Any:
    snapshot = engine.CaseSnapshot(ref=ref, state=state, fields={}, approvals={}, version=3)
    try:
        return engine.decide(definition, snapshot, request, person)
    except CaseReviewError as exc:
        return (type(exc).__name__, exc.message)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_remembered_moves_give_the_same_answers(path, monkeypatch):
    definition = load_path(path)
    pairs = [(s.id, t.id) for s in definition.states for t in definition.triggers]
    pairs.append((definition.states[0].id, "no_such_trigger"))
    people = _people(definition)

    def requests(trigger_id: str) -> list[engine.Request]:
        if trigger_id == "no_such_trigger":
            return [engine.Request(trigger_id, ON)]
        return _requests(definition, trigger_id)

    fresh = {}
    for state, trigger_id in pairs:
        for r, request in enumerate(requests(trigger_id)):
            for p, person in enumerate(people):
                # Nothing kept: each answer is worked out afresh.
                monkeypatch.setattr(engine, "_moves_of", PerDefinition(lambda _: {}))
                fresh[state, trigger_id, r, p] = _outcome(
                    definition, state, request, person, f"FRESH-{state}"
                )
    assert any(isinstance(v, engine.Decision) for v in fresh.values())
    assert any(isinstance(v, tuple) and "not possible" in v[1] for v in fresh.values())

    monkeypatch.setattr(engine, "_moves_of", PerDefinition(lambda _: {}))
    shuffled = list(pairs)
    random.Random(4).shuffle(shuffled)
    for state, trigger_id in shuffled:  # remember every possible move first
        for request in requests(trigger_id):
            _outcome(definition, state, request, people[0], "WARM")
    for state, trigger_id in pairs:
        for r, request in enumerate(requests(trigger_id)):
            for p, person in enumerate(people):
                again = _outcome(definition, state, request, person, f"FRESH-{state}")
                assert again == fresh[state, trigger_id, r, p], (state, trigger_id, r, p)


def test_a_refusal_names_its_own_case_after_other_cases_were_decided():
    definition = load_path(FILES[-1])  # minimal: "reopen" fires only in signoff
    everyone = _people(definition)[0]
    done = engine.decide(
        definition,
        engine.CaseSnapshot("A-1", "signoff", {}, {"decision": {"council": 4}}, 1),
        engine.Request("reopen", ON),
        everyone,
    )
    assert done.to_state == "deciding"
    assert done.approvals_after == {}  # the round it clears
    with pytest.raises(CaseReviewError) as refused:
        engine.decide(
            definition,
            engine.CaseSnapshot("B-2", "received", {}, {}, 1),
            engine.Request("reopen", ON),
            everyone,
        )
    assert "case B-2 is in received" in refused.value.message


def test_moves_belong_to_their_definition():
    """Two definitions decided in turn: a trigger of one is unknown to the other."""
    minimal = load_path(FILES[-1])
    england = load_path(ROOT / "workflows" / "england-lcspr@1.toml")
    everyone = _people(minimal)[0]
    snapshot = engine.CaseSnapshot("A-1", "signoff", {}, {}, 1)
    for _ in range(2):
        assert engine.decide(minimal, snapshot, engine.Request("reopen", ON), everyone)
        with pytest.raises(CaseReviewError, match="has no trigger 'reopen'"):
            engine.decide(
                england,
                engine.CaseSnapshot("A-1", "screening", {}, {}, 1),
                engine.Request("reopen", ON),
                everyone,
            )


def test_derived_rules_are_kept_for_interleaved_definitions():
    """A pass that meets several definitions in turn builds each one's rules once."""
    from casereview.domain.workflow import derived

    built: list[str] = []
    cache = derived.PerDefinition(lambda d: built.append(d.id) or d.id)
    definitions = [load_path(p) for p in sorted((ROOT / "workflows").glob("*.toml"))][:3]
    for _ in range(5):
        for definition in definitions:
            assert cache(definition) == definition.id
    assert built == [d.id for d in definitions]
