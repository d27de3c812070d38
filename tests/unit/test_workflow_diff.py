"""`domain.workflow.diff`: every kind of change, matched by id, in the file's own keys."""

from __future__ import annotations

from pathlib import Path

from casereview.domain.workflow.diff import diff
from casereview.domain.workflow.loader import load_bytes, load_path

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "tests" / "fixtures" / "workflows" / "minimal.toml"


def _edited(*replacements: tuple[str, str]):  # type: ignore[no-untyped-def]
    text = MINIMAL.read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return load_bytes(text.encode(), name="edited.toml")


def test_a_definition_has_no_differences_with_itself():
    result = diff(load_path(MINIMAL), load_path(MINIMAL))
    assert result.changes == ()
    assert (result.before, result.after) == ("minimal v1", "minimal v1")


def test_added_removed_and_changed_items_are_matched_by_id():
    after = _edited(
        ("version = 1", "version = 2"),
        ('title = "Minimal workflow for tests"', 'title = "Minimal, second version"'),
        # A new state, a trigger moved to start from two states, a clock's anchor changed.
        (
            '[[states]]\nid = "done"',
            '[[states]]\nid = "parked"\nlabel = "Parked"\n\n[[states]]\nid = "done"',
        ),
        ('from = ["signoff"]\nto = "done"', 'from = ["signoff", "parked"]\nto = "done"'),
        ('anchor = { event = "start" }', 'anchor = { field = "started_on" }'),
        (
            '[[triggers]]\nid = "note"\nlabel = "Note"\nfrom = ["*"]\n'
            'roles = ["clerk", "decider"]\nrequires = ["note"]\n',
            "",
        ),
    )
    result = diff(load_path(MINIMAL), after)
    assert result.after == "minimal v2"
    found = {(c.section, c.item, c.kind): c for c in result.changes}

    assert ("workflow", None, "changed") in found
    own = found[("workflow", None, "changed")].attributes
    # The version is the identity both sides name, not a change to list.
    assert [(a.name, a.before, a.after) for a in own] == [
        ("title", "Minimal workflow for tests", "Minimal, second version")
    ]
    assert found[("states", "parked", "added")].label == "Parked"
    assert found[("triggers", "note", "removed")].label == "Note"
    finish = found[("triggers", "finish", "changed")].attributes
    assert ("from", ["signoff"], ["signoff", "parked"]) in [
        (a.name, a.before, a.after) for a in finish
    ]
    clock = found[("clocks", "reminder", "changed")]
    reminder = {a.name: (a.before, a.after) for a in clock.attributes}
    # Nested tables are compared key by key, named with dots.
    assert reminder["anchor.event"] == ("start", None)
    assert reminder["anchor.field"] == (None, "started_on")
    assert result.count("added") == 1 and result.count("removed") == 1
    # Nothing else changed: no other state, role, agency or clock is listed.
    assert {(c.section, c.item) for c in result.changes} == {
        ("workflow", None),
        ("states", "parked"),
        ("triggers", "note"),
        ("triggers", "finish"),
        ("clocks", "reminder"),
    }


def test_a_renamed_id_is_one_removal_and_one_addition():
    after = _edited(('id = "reminder"', 'id = "follow_up"'))
    result = diff(load_path(MINIMAL), after)
    assert [(c.section, c.item, c.kind, c.label) for c in result.changes] == [
        ("clocks", "follow_up", "added", "Reminder"),
        ("clocks", "reminder", "removed", "Reminder"),
    ]
