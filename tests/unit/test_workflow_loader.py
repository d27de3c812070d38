"""Validation: every broken definition gets its own readable message naming the file,
the table and the id, and every problem of a file is reported in one pass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from casereview.domain.workflow.loader import check_bytes, load_bytes, load_path
from casereview.errors import NotFound

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "workflows"
MINIMAL = FIXTURES / "minimal.toml"


def _problems(name: str) -> list[str]:
    path = FIXTURES / "broken" / f"{name}.toml"
    return check_bytes(path.read_bytes(), name=path.name)[1]


def test_minimal_fixture_is_valid():
    definition, problems = check_bytes(MINIMAL.read_bytes(), name="minimal.toml")
    assert problems == []
    assert definition is not None and definition.id == "minimal"


def test_toml_syntax_error_names_line_and_column():
    (problem,) = _problems("toml_syntax")
    match = re.fullmatch(
        r"toml_syntax\.toml: line (\d+), column (\d+): not valid TOML: .+", problem
    )
    assert match is not None
    lines = (FIXTURES / "broken" / "toml_syntax.toml").read_text().splitlines()
    broken = next(
        n for n, line in enumerate(lines, 1) if line.startswith("choices = [") and "]" not in line
    )
    # tomllib notices the unclosed list at the next token: the first non-blank line after it.
    reported = int(match[1])
    assert broken < reported
    assert all(not line.strip() for line in lines[broken : reported - 1])
    assert lines[reported - 1].strip()


def test_toml_error_at_end_of_file():
    _, problems = check_bytes(b'id = "x"\nlist = [1,\n', name="end.toml")
    assert problems == ["end.toml: line 3 (end of file): not valid TOML: invalid value"]


def test_file_that_is_not_utf8():
    _, problems = check_bytes(b'id = "x"\ntitle = "\xff"\n', name="latin.toml")
    assert problems == ["latin.toml: line 2: the file is not UTF-8 text (byte 19)"]


def test_all_problems_are_collected_in_one_pass():
    text = MINIMAL.read_text()
    text = text.replace('to = "deciding"\nroles = ["clerk"]', 'to = "deciding"\nrole = ["clerk"]')
    text = text.replace('to = "signoff"', 'to = "nowhere"')
    text = text.replace("budget = 5", "budget = -5")
    text = text.replace(
        'agencies = ["council", "police"]\ncollect_in', 'agencies = ["nhs"]\ncollect_in'
    )
    _, problems = check_bytes(text.encode(), name="many.toml")
    joined = "\n".join(problems)
    assert "trigger 'start': unknown key 'role'" in joined
    assert "trigger 'decide': 'to' names an unknown state 'nowhere'" in joined
    assert "clock 'intake': key 'budget': must be at least 0, got -5" in joined
    assert "approval round 'decision': 'agencies' names an unknown agency 'nhs'" in joined
    assert len(problems) == len(set(problems))


def test_a_broken_table_does_not_make_references_to_it_unknown():
    # The state table has a bad key, but it is still declared: triggers naming it are fine.
    text = MINIMAL.read_text().replace(
        'id = "deciding"\nlabel = "Deciding"', 'id = "deciding"\nlabel = "Deciding"\ncolour = "red"'
    )
    _, problems = check_bytes(text.encode(), name="x.toml")
    assert problems == [
        "x.toml: state 'deciding': unknown key 'colour' (allowed: id, label, description, terminal)"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('title = "Minimal workflow for tests"', 'title = ""', "key 'title': must not be empty"),
        ("version = 1", "version = 1\ncolour = 1", "unknown key 'colour' (allowed: id, version,"),
        ('day_zero = "anchor_is_day_0"', "day_zero = 0", "key 'settings.day_zero': must be one of"),
        (
            'allowed = ["received_on", "started_on"]',
            'allowed = ["received_on", "started_on"]\nzz = 1',
            "table 'settings.anchors.decision_anchor': unknown key 'zz'",
        ),
        (
            'anchor = { field = "received_on" }',
            'anchor = { fiel = "received_on" }',
            "clock 'intake': table 'anchor': unknown key 'fiel' (did you mean 'field'?",
        ),
        (
            '{ kind = "field_set", field = "started_on" }',
            '{ kind = "field_set", field = "started_on", value = 1 }',
            "trigger 'finish': guard 4 (field_set): unknown key 'value' (allowed: kind, field)",
        ),
        (
            '{ kind = "field_set", field = "started_on" }',
            '{ field = "started_on" }',
            "trigger 'finish': guard 4: missing key 'kind' (allowed kinds:",
        ),
        (
            'from = ["*"]',
            'from = ["*", "done"]',
            "trigger 'note': key 'from': '*' (every non-terminal state) must be the only entry",
        ),
        (
            'defaults = { started_on = "$event_date" }',
            'defaults = { started_on = "$event_date", Bad = 1 }',
            "trigger 'start': key 'defaults': 'Bad' is not a valid id",
        ),
        (
            "value = false",
            "value = 3",
            "guard 3 (field_equals): key 'value': must be text or true/false, got integer 3",
        ),
        (
            "value = false",
            'value = "no"',
            "'value' must be true or false ('urgent' is a yes_no field)",
        ),
        (
            'field = "urgent", value = false',
            'field = "note", value = "x"',
            "guards test what is kept on the case; 'note' is an event field",
        ),
        (
            'optional = ["urgent"]',
            'optional = ["urgent", "started_on"]',
            "trigger 'start': field 'started_on' is listed in both 'requires' and 'optional'",
        ),
        (
            'stop_on = ["start"]',
            'stop_on = ["open"]',
            "clock 'intake': 'stop_on' cannot list 'open'",
        ),
        (
            'id = "agency"\nlabel = "Agency"\ntype = "choice"\nchoices = ["council", "police"]',
            'id = "agency"\nlabel = "Agency"\ntype = "text"',
            "approval round 'decision': agency_field 'agency' must be a choice field",
        ),
        (
            'choices = ["council", "police"]',
            'choices = ["council", "police", "fire"]',
            "field 'agency': choice 'fire' is not a declared agency",
        ),
        (
            '[[states]]\nid = "received"\nlabel = "Received"',
            'states_note = 1\n[[states]]\nid = "received"\nlabel = "Received"',
            "unknown key 'states_note'",
        ),
        (
            'field = "received_on"\nallowed = ["received_on", "started_on"]',
            'field = "outcome"\nallowed = ["received_on", "started_on"]',
            "settings anchor 'decision_anchor': 'field' must name a date field",
        ),
    ],
)
def test_more_messages(old, new, expected):
    text = MINIMAL.read_text()
    assert old in text
    _, problems = check_bytes(text.replace(old, new, 1).encode(), name="m.toml")
    assert any(expected in p for p in problems), problems


def test_section_that_is_not_a_list_of_tables():
    text = MINIMAL.read_text().replace('[[roles]]\nid = "clerk"\nlabel = "Clerk"\n', "")
    text = 'roles = "clerk"\n' + text.replace("[[roles]]", "[[roles_x]]")
    _, problems = check_bytes(text.encode(), name="r.toml")
    assert "r.toml: key 'roles': must be a list [ … ], got text 'clerk'" in problems


def test_load_path_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFound, match="no such workflow file"):
        load_path(tmp_path / "absent.toml")
    with pytest.raises(NotFound, match="is a directory"):
        load_path(tmp_path)


def test_load_bytes_returns_a_definition_with_identity():
    definition = load_bytes(MINIMAL.read_bytes(), name="minimal.toml", source="somewhere")
    assert definition.source == "somewhere"
    assert len(definition.content_hash) == 64
