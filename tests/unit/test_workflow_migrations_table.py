"""The `[[migrations]]` table of a workflow file: the state map `case migrate` follows,
checked when the file is loaded, and England v2's map from version 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from casereview.domain.workflow.loader import check_bytes
from casereview.infra.workflows.registry import Registry

ENGINE = Path(__file__).resolve().parents[1] / "fixtures" / "workflows" / "engine"


def _with(table: str) -> bytes:
    text = (ENGINE / "overlays.toml").read_text(encoding="utf-8")
    return text.replace("version = 1", "version = 2", 1).encode() + table.encode()


def test_england_v2_maps_every_v1_state_to_a_v2_state():
    registry = Registry()
    v1, v2 = registry.get("england-lcspr", 1), registry.get("england-lcspr", 2)
    state_map = v2.migration_from(1)
    assert state_map is not None
    assert set(state_map.states) == {s.id for s in v1.states}
    assert set(state_map.states.values()) <= {s.id for s in v2.states}
    # Every v1 id that keeps its meaning keeps its name; only the retired hold state moves.
    moved = {old: new for old, new in state_map.states.items() if old != new}
    assert moved == {"publication_hold": "final_signoff"}
    assert state_map.held == ("publication_hold",) == state_map.resume
    assert v2.migration_from(2) is None


def test_a_valid_map_loads():
    definition, problems = check_bytes(
        _with(
            "\n[[migrations]]\nfrom_version = 1\n"
            'states = { received = "received", reviewing = "reviewing", '
            'submitted = "submitted", done = "done" }\n'
            'held = ["submitted"]\n'
        ),
        name="t",
    )
    assert problems == []
    assert definition is not None and definition.migration_from(1) is not None


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (
            'states = { received = "nowhere" }\n',
            "unknown state 'nowhere'",
        ),
        (
            'states = { received = "received" }\nheld = ["gone"]\n',
            "'held' names 'gone', which 'states' does not map",
        ),
        (
            'states = { received = "received" }\nheld = ["received"]\n',
            "'received' arrives held in 'received', where a case cannot be held",
        ),
        (
            'states = { submitted = "submitted" }\nresume = ["submitted"]\n',
            "'resume' names 'submitted', which is not in 'held'",
        ),
    ],
)
def test_a_bad_map_is_a_validation_problem(table, problem):
    _, problems = check_bytes(_with("\n[[migrations]]\nfrom_version = 1\n" + table), name="t")
    assert any(problem in p and "migration from version 1" in p for p in problems), problems


def test_a_version_mapped_twice_is_a_problem():
    table = '\n[[migrations]]\nfrom_version = 1\nstates = { received = "received" }\n'
    _, problems = check_bytes(_with(table + table), name="t")
    assert any("migration from version 1: is given twice" in p for p in problems), problems
