"""The compiled transitions machine agrees with the definition, move for move."""

from __future__ import annotations

from pathlib import Path

import pytest
from transitions import MachineError

from casereview.domain.workflow.loader import load_bytes, load_path
from casereview.domain.workflow.machine import compile_workflow
from casereview.domain.workflow.model import WorkflowDefinition
from casereview.errors import NotFound

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "workflows").glob("*.toml"))
FILES = [*SHIPPED, ROOT / "tests" / "fixtures" / "workflows" / "minimal.toml"]


def _expected(definition: WorkflowDefinition, state: str, trigger_id: str) -> str | None:
    """The destination read straight from the file's tables, independently of the model's
    helpers: `from` lists (with '*' meaning every non-terminal state) and `to`."""
    trigger = next(t for t in definition.triggers if t.id == trigger_id)
    terminal = {s.id for s in definition.states if s.terminal}
    fires = state not in terminal if trigger.from_ == ("*",) else state in trigger.from_
    if not fires:
        return None
    return trigger.to or state


class _Model:
    """A throwaway object for the machine to move (the code never runs the machine)."""

    state: str


def _fired(compiled, state: str, trigger: str) -> str | None:
    """The state `transitions` itself moves a model to, or None if it refuses."""
    model = _Model()
    compiled.machine.add_model(model, initial=state)
    try:
        model.trigger(trigger)
    except MachineError:
        return None
    finally:
        compiled.machine.remove_model(model)
    return model.state


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_machine_destinations_agree_with_the_definition(path):
    definition = load_path(path)
    compiled = compile_workflow(definition)
    checked = 0
    for state in definition.states:
        for trigger in definition.triggers:
            expected = _expected(definition, state.id, trigger.id)
            assert compiled.destination(state.id, trigger.id) == expected, (state.id, trigger.id)
            assert definition.destination(state.id, trigger.id) == expected
            move = definition.moves.get(state.id, trigger.id)
            assert (move.to_state if move else None) == expected
            assert _fired(compiled, state.id, trigger.id) == expected
            checked += 1
    assert checked == len(definition.states) * len(definition.triggers)
    assert compiled.machine.models == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_machine_triggers_from_matches_the_definition(path):
    definition = load_path(path)
    compiled = compile_workflow(definition)
    for state in definition.states:
        assert compiled.triggers_from(state.id) == tuple(
            t.id for t in definition.triggers_from(state.id)
        )


def test_no_auto_transitions_and_no_callbacks():
    compiled = compile_workflow(load_path(SHIPPED[0]))
    machine = compiled.machine
    assert machine.auto_transitions is False
    for state in machine.states:
        assert not any(name.startswith("to_") for name in machine.get_triggers(state))
    for event in machine.events.values():
        for transitions in event.transitions.values():
            for transition in transitions:
                assert transition.before == transition.after == []
                assert transition.prepare == transition.conditions == []
    assert machine.models == []


def test_destination_names_an_unknown_state_or_trigger():
    compiled = compile_workflow(load_path(ROOT / "workflows" / "england-lcspr@1.toml"))
    with pytest.raises(NotFound, match="no trigger 'fly'"):
        compiled.destination("screening", "fly")
    with pytest.raises(NotFound, match="no state 'limbo'"):
        compiled.destination("limbo", "notify")


def test_one_machine_per_definition_version():
    path = ROOT / "workflows" / "england-lcspr@1.toml"
    first = compile_workflow(load_path(path))
    again = compile_workflow(load_path(path))  # a new object with the same key
    assert again is first
    v2 = load_bytes(path.read_bytes().replace(b"version = 1", b"version = 2", 1), name="v2.toml")
    assert compile_workflow(v2) is not first
    assert compile_workflow(v2).key == v2.key


def test_in_memory_definitions_are_not_cached():
    data = load_path(ROOT / "workflows" / "england-lcspr@1.toml").model_dump(by_alias=True)
    built = WorkflowDefinition.model_validate(data)
    assert built.content_hash == ""
    assert compile_workflow(built) is not compile_workflow(built)


def test_remembered_destinations_still_refuse_unknown_names():
    compiled = compile_workflow(load_path(ROOT / "workflows" / "england-lcspr@1.toml"))
    assert compiled.destination("screening", "notify") == "rapid_review"
    assert compiled.destination("screening", "notify") == "rapid_review"  # remembered
    assert compiled.destination("closed", "add_note") is None
    assert compiled.destination("closed", "add_note") is None
    for _ in range(2):
        with pytest.raises(NotFound):
            compiled.destination("limbo", "notify")
        with pytest.raises(NotFound):
            compiled.destination("screening", "nope")
