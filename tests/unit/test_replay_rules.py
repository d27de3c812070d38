"""Replay's rules: which of an event's fields its case keeps (the one rule the decision
log and the report's event filter also ask), and moves checked against the table."""

from __future__ import annotations

import json
from pathlib import Path

from casereview.domain.clocks import OPEN_TRIGGER
from casereview.domain.replay import ReplayRules, pseudonym_given, replay, rules_of
from casereview.domain.workflow.loader import load_path

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = load_path(ROOT / "tests" / "fixtures" / "workflows" / "minimal.toml")


def _event(seq, trigger, from_state, to_state, fields, on="2026-03-02"):
    return {
        "seq": seq,
        "trigger": trigger,
        "from_state": from_state,
        "to_state": to_state,
        "occurred_on": on,
        "fields": json.dumps(fields),
    }


def test_fields_kept_at_the_opening_and_after():
    rules = ReplayRules(MINIMAL)
    assert rules.case_fields == {f.id for f in MINIMAL.fields if f.scope == "case"}
    opening = {"pseudonym": "Child A", "received_on": "2026-03-02", "note": "x"}
    assert rules.fields_kept(OPEN_TRIGGER, opening) == {"received_on", "note"}
    later = {"outcome": "accept", "note": "event-scoped", "agency": "police"}
    assert rules.fields_kept("decide", later) == later.keys() & rules.case_fields
    assert "note" not in rules.fields_kept("decide", later)
    assert rules.fields_kept("decide", {}) == frozenset()
    assert rules.fields_kept(OPEN_TRIGGER, {}) == frozenset()
    assert pseudonym_given(opening) == "Child A"
    assert pseudonym_given({}) == ""


def test_replay_keeps_exactly_the_fields_the_rule_names():
    events = [
        _event(1, OPEN_TRIGGER, None, "received", {"pseudonym": "P", "received_on": "2026-03-02"}),
        _event(2, "start", "received", "deciding", {"started_on": "2026-03-02"}),
        _event(3, "note", "deciding", "deciding", {"note": "kept on the event only"}),
        _event(4, "decide", "deciding", "signoff", {"outcome": "accept"}),
    ]
    case = replay(MINIMAL, "A-1", events)
    rules = rules_of(MINIMAL)
    assert case.problems == []
    assert case.pseudonym == "P" and "pseudonym" not in case.fields
    for fact, row in zip(case.facts, events, strict=True):
        assert fact.changed == rules.fields_kept(row["trigger"], json.loads(row["fields"]))
    assert case.fields == {
        "received_on": "2026-03-02",
        "started_on": "2026-03-02",
        "outcome": "accept",
    }


def test_a_move_outside_the_table_is_a_problem_and_still_applied():
    events = [
        _event(1, OPEN_TRIGGER, None, "received", {"received_on": "2026-03-02"}),
        _event(2, "decide", "received", "signoff", {"outcome": "accept"}),
        _event(3, "fly", "signoff", "signoff", {}),
    ]
    case = replay(MINIMAL, "A-1", events)
    assert case.problems == [
        (2, "decide is not possible from received"),
        (3, "unknown trigger 'fly'"),
    ]
    assert case.state == "signoff" and case.version == 2
