"""Mermaid output, checked structurally against the grammar subset it promises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from casereview.domain.workflow.diagram import mermaid
from casereview.domain.workflow.loader import load_bytes, load_path

ROOT = Path(__file__).resolve().parents[2]
FILES = [
    *sorted((ROOT / "workflows").glob("*.toml")),
    ROOT / "tests" / "fixtures" / "workflows" / "minimal.toml",
]

ID = r"[a-z][a-z0-9_]*"
STATE_LINE = re.compile(rf'    state "([^"\n]*)" as ({ID})')
START_LINE = re.compile(rf"    \[\*\] --> ({ID})")
EDGE_LINE = re.compile(rf"    ({ID}) --> ({ID}) : ({ID})")
END_LINE = re.compile(rf"    ({ID}) --> \[\*\]")


def _parse(text: str) -> dict[str, list[tuple[str, ...]]]:
    lines = text.splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert text.endswith("\n")
    parsed: dict[str, list[tuple[str, ...]]] = {"state": [], "start": [], "edge": [], "end": []}
    for line in lines[1:]:
        for kind, pattern in (
            ("state", STATE_LINE),
            ("start", START_LINE),
            ("edge", EDGE_LINE),
            ("end", END_LINE),
        ):
            match = pattern.fullmatch(line)
            if match:
                parsed[kind].append(match.groups())
                break
        else:
            pytest.fail(f"line outside the emitted grammar: {line!r}")
    return parsed


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_diagram_has_every_state_and_every_move(path):
    definition = load_path(path)
    parsed = _parse(mermaid(definition))
    assert [sid for _, sid in parsed["state"]] == [s.id for s in definition.states]
    assert [label for label, _ in parsed["state"]] == [s.label for s in definition.states]
    assert parsed["start"] == [(definition.initial_state,)]
    expected_edges = [
        (source, t.to or source, t.id)
        for t in definition.triggers
        for source in definition.sources_of(t)
    ]
    assert parsed["edge"] == expected_edges
    assert {trigger for _, _, trigger in parsed["edge"]} == set(definition.triggers_by_id)
    assert parsed["end"] == [(s.id,) for s in definition.states if s.terminal]
    # Every edge joins declared states.
    declared = set(definition.states_by_id)
    assert all(a in declared and b in declared for a, b, _ in parsed["edge"])


def test_self_loops_are_drawn():
    definition = load_path(ROOT / "workflows" / "england-lcspr@1.toml")
    edges = _parse(mermaid(definition))["edge"]
    assert ("final_signoff", "final_signoff", "sign_off") in edges
    assert ("screening", "screening", "add_note") in edges
    assert not any(a == "closed" for a, _, _ in edges)


def test_labels_cannot_break_the_diagram():
    text = (ROOT / "tests" / "fixtures" / "workflows" / "minimal.toml").read_text()
    text = text.replace('label = "Received"', 'label = "Said \\"hi\\" #1; ok"')
    parsed = _parse(mermaid(load_bytes(text.encode(), name="x.toml")))
    assert parsed["state"][0] == ("Said 'hi' 1, ok", "received")
