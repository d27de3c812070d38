"""Each broken definition in tests/fixtures/workflows gets its own specific message.

Every fixture is tests/fixtures/workflows/minimal.toml with one defect. Its first line
says what is wrong and its second line, `# expect: …`, holds (part of) the one message
the defect must produce: `broken/` files must fail validation with it, `lint/` files
must validate and then get it from lint. No other fixture may produce that message.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from casereview.domain.workflow.lint import lint_definition
from casereview.domain.workflow.loader import check_bytes, load_path
from casereview.errors import ExitCode, InvalidWorkflow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "workflows"
BROKEN = sorted((FIXTURES / "broken").glob("*.toml"))
LINT = sorted((FIXTURES / "lint").glob("*.toml"))
ALL = BROKEN + LINT


def expected(path: Path) -> str:
    line = path.read_text().splitlines()[1]
    assert line.startswith("# expect: "), f"{path.name} has no '# expect:' line"
    return line.removeprefix("# expect: ")


@cache
def messages(path: Path) -> tuple[str, ...]:
    """Everything validate and lint say about a fixture."""
    definition, problems = check_bytes(path.read_bytes(), name=path.name)
    if problems or definition is None:
        return tuple(problems)
    return tuple(f"{path.name}: {f}" for f in lint_definition(definition))


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_there_are_enough_kinds_of_broken_definition():
    assert len(BROKEN) >= 20
    assert len(LINT) >= 10


@pytest.mark.parametrize("path", BROKEN, ids=_id)
def test_broken_fixture_fails_validation_with_its_message(path):
    _, problems = check_bytes(path.read_bytes(), name=path.name)
    assert problems, "a broken fixture must not validate"
    assert any(expected(path) in p for p in problems), problems
    for problem in problems:
        assert problem.startswith(f"{path.name}: ")
        # pydantic's own wording never reaches the user.
        for leaked in ("Input should", "validation error", "For further information", "[type="):
            assert leaked not in problem
    with pytest.raises(InvalidWorkflow) as caught:
        load_path(path)
    assert caught.value.exit_code == ExitCode.INVALID_WORKFLOW
    assert caught.value.problems == problems
    assert f"{path.name} is not a valid workflow definition" in caught.value.message


@pytest.mark.parametrize("path", LINT, ids=_id)
def test_lint_fixture_validates_but_lint_finds_its_message(path):
    definition = load_path(path)  # the schema and references are fine ...
    findings = lint_definition(definition)  # ... the process is not
    assert any(expected(path) in f for f in findings), findings


@pytest.mark.parametrize("path", ALL, ids=_id)
def test_no_other_fixture_produces_the_same_message(path):
    fragment = expected(path)
    others = [
        _id(other) for other in ALL if other != path and any(fragment in m for m in messages(other))
    ]
    assert others == []


def test_the_base_fixture_is_clean():
    assert messages(FIXTURES / "minimal.toml") == ()
