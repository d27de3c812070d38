"""The table of moves: the one answer to where a trigger may fire, and its refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from casereview.domain.workflow.loader import load_path
from casereview.domain.workflow.moves import Moves
from casereview.errors import NotFound, Refused

ROOT = Path(__file__).resolve().parents[2]
FILES = [
    *sorted((ROOT / "workflows").glob("*.toml")),
    ROOT / "tests" / "fixtures" / "workflows" / "minimal.toml",
]
ENGLAND = ROOT / "workflows" / "england-lcspr@1.toml"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_table_reads_the_files_from_and_to(path):
    definition = load_path(path)
    moves = definition.moves
    terminal = {s.id for s in definition.states if s.terminal}
    for state in definition.states:
        for trigger in definition.triggers:
            fires = (
                state.id not in terminal if trigger.from_ == ("*",) else state.id in trigger.from_
            )
            move = moves.get(state.id, trigger.id)
            if not fires:
                assert move is None, (state.id, trigger.id)
                continue
            assert move is not None, (state.id, trigger.id)
            assert (move.trigger, move.source) == (trigger, state.id)
            assert move.to_state == (trigger.to or state.id)
        assert moves.triggers_from(state.id) == tuple(
            t for t in definition.triggers if moves.get(state.id, t.id) is not None
        )


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_definitions_accessors_ask_the_table(path):
    definition = load_path(path)
    moves = definition.moves
    assert definition.open_state_ids == moves.open_states
    for trigger in definition.triggers:
        assert definition.sources_of(trigger) == moves.sources(trigger)
        assert definition.sources_of(trigger.id) == moves.sources(trigger)
    for state in definition.states:
        assert definition.triggers_from(state.id) == moves.triggers_from(state.id)
        for trigger in definition.triggers:
            move = moves.get(state.id, trigger.id)
            assert definition.destination(state.id, trigger.id) == (move and move.to_state)


def test_require_gives_the_move_or_says_what_is_possible_now():
    moves = load_path(ENGLAND).moves
    assert moves.require("screening", "notify", "2026-014").to_state == "rapid_review"
    assert moves.require("screening", "add_note", "2026-014").to_state == "screening"
    with pytest.raises(Refused) as refused:
        moves.require("screening", "publish", "2026-014")
    assert refused.value.message == (
        "publish is not possible while case 2026-014 is in screening; "
        "possible now: notify, decide_not_to_notify, add_note"
    )
    with pytest.raises(Refused, match=r"possible now: none$"):
        moves.require("closed", "add_note", "2026-014")
    with pytest.raises(NotFound) as unknown:
        moves.require("screening", "fly", "2026-014")
    assert unknown.value.message == (
        "workflow england-lcspr has no trigger 'fly'; "
        "possible now from screening: notify, decide_not_to_notify, add_note"
    )


def test_an_unknown_state_allows_nothing():
    moves = load_path(ENGLAND).moves
    assert moves.triggers_from("limbo") == ()
    assert moves.get("limbo", "add_note") is None
    with pytest.raises(Refused, match=r"possible now: none$"):
        moves.require("limbo", "add_note", "A-1")


def test_tables_of_equal_definitions_are_equal():
    definition = load_path(ENGLAND)
    again = Moves(definition.id, definition.states, definition.triggers)
    assert again == definition.moves and again is not definition.moves
    other = load_path(FILES[-1]).moves
    assert other != definition.moves
