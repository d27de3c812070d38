"""Two rules England v2 needed, checked by the loader: a hold may name the registered
parallel process it waits for instead of a reason (`[holds]` `process` and `reason`),
and an `approval_complete` guard with `if_opened` waits for a round only once a trigger
has opened it. Their behaviour through the command line: tests/cli/test_england_v2_cli.py."""

from __future__ import annotations

from casereview.domain.workflow.loader import check_bytes, load_bytes
from casereview.domain.workflow.model import ApprovalCompleteGuard
from tests.unit.engine_cases import ENGINE_FIXTURES

OVERLAYS = (ENGINE_FIXTURES / "overlays.toml").read_text()
ROUNDS = (ENGINE_FIXTURES / "rounds.toml").read_text()


def _problems(text: str, name: str) -> list[str]:
    _, problems = check_bytes(text.encode(), name=name)
    return problems


def test_a_hold_naming_its_process_needs_a_process_table_and_a_process_number_field():
    text = OVERLAYS.replace(
        'review_clock = "hold_review"\n',
        'review_clock = "hold_review"\nprocess = "hold_reason"\nreason = "hold_reasn"\n',
    )
    assert _problems(text, "o.toml") == [
        "o.toml: table 'holds': 'process' 'hold_reason' must be a text field with scope = "
        "'event' (the number of a parallel process on the case)",
        "o.toml: table 'holds': 'process' names the parallel process a hold waits for, but "
        "the workflow has no [processes] table",
        "o.toml: table 'holds': 'reason' names an unknown field 'hold_reasn' (did you mean "
        "'hold_reason'?)",
    ]


def test_every_hold_trigger_records_the_process_field():
    text = OVERLAYS.replace(
        'review_clock = "hold_review"\n', 'review_clock = "hold_review"\nprocess = "note"\n'
    )
    problems = _problems(text, "o.toml")
    assert (
        "o.toml: trigger 'hold': it is a 'hold' trigger of table 'holds', so it must record "
        "'note' (in 'requires' or 'optional')"
    ) in problems


def test_if_opened_is_for_rounds_a_trigger_opens():
    opened = ROUNDS.replace(
        'guards = [{ kind = "approval_complete", round = "maintained" }]',
        'guards = [{ kind = "approval_complete", round = "maintained", if_opened = true }]',
    )
    definition = load_bytes(opened.encode(), name="r.toml")
    guards = [g for t in definition.triggers for g in t.guards]
    assert any(isinstance(g, ApprovalCompleteGuard) and g.if_opened for g in guards)
    state_round = ROUNDS.replace(
        'guards = [{ kind = "approval_complete", round = "decision" }]',
        'guards = [{ kind = "approval_complete", round = "decision", if_opened = true }]',
    )
    problems = _problems(state_round, "r.toml")
    assert len(problems) == 1
    assert problems[0].endswith(
        "'if_opened' needs a round that a trigger opens; 'decision' has no 'opened_by'"
    )
