"""Holds as an overlay (`[holds]`): a held case stays in its stage, the clocks the
workflow names pause, only the hold's own triggers and the allowed ones are possible,
and the hold's review clock is due on its `review_by`. The loader checks the table."""

from __future__ import annotations

import pytest

from casereview.domain import clocks, engine
from casereview.domain.workflow.lint import lint_definition
from casereview.domain.workflow.loader import check_bytes
from casereview.errors import Refused
from tests.unit.engine_cases import CAL, ENGINE_FIXTURES, D, MemoryCase, overlays

TEXT = (ENGINE_FIXTURES / "overlays.toml").read_text()
HOLD = {"hold_reason": "trial", "review_by": "2026-04-10"}


def _problems(text: str) -> list[str]:
    _, problems = check_bytes(text.encode(), name="overlays.toml")
    return problems


def _reviewing() -> MemoryCase:
    # Notified on Monday 9 March: the review clock is due 10 working days later, 23 March.
    case = MemoryCase(overlays(), "2026-03-02", {"aware_on": "2026-03-02"})
    case.step("notify", "2026-03-09")
    return case


def test_the_fixture_declares_holds_and_lints_clean():
    definition = overlays()
    assert definition.holds is not None
    assert definition.holds.states == ("reviewing", "submitted")
    assert _problems(TEXT) == []
    assert lint_definition(definition) == []


def test_a_held_case_stays_in_its_stage_and_its_named_clocks_pause():
    case = _reviewing()
    assert case.clocks()["review"].due_on == D("2026-03-23")
    decision = case.step("hold", "2026-03-13", HOLD)
    assert decision.from_state == decision.to_state == "reviewing"
    replayed = case.replayed
    assert replayed.state == "reviewing"
    assert replayed.hold == {
        "since": "2026-03-13",
        "review_by": "2026-04-10",
        "trigger": "hold",
        "seq": 3,
        "fields": {"hold_reason": "trial"},
    }
    derived = case.clocks()
    review = derived["review"]
    assert review.state == "paused"
    assert review.remaining == CAL.count_working_days(D("2026-03-13"), D("2026-03-23"))
    hold_review = derived["hold_review"]
    assert (hold_review.state, hold_review.due_on) == ("running", D("2026-04-10"))
    assert clocks.status(hold_review, D("2026-04-11")) == "overdue"


def test_while_held_only_the_hold_triggers_and_the_allowed_ones_are_possible():
    case = _reviewing()
    case.step("hold", "2026-03-13", HOLD)
    with pytest.raises(Refused) as refused:
        case.step("submit", "2026-03-16", {"submitted_on": "2026-03-16"})
    assert refused.value.message == (
        "submit is not possible while case C-1 is held (since 2026-03-13, to be reviewed by "
        "2026-04-10); possible while held: review_hold, lift_hold, note"
    )
    with pytest.raises(Refused) as refused:
        case.step("hold", "2026-03-16", HOLD)
    assert refused.value.message.startswith("case C-1 is already held (since 2026-03-13")
    case.step("note", "2026-03-16", {"note": "trial listed for April"})
    state = case.replayed
    possible = [t.id for t in engine.possible_triggers(case.definition, state.state, state.hold)]
    assert possible == ["review_hold", "lift_hold", "note"]
    assert case.replayed.hold is not None


def test_a_review_moves_the_review_date_and_a_lift_resumes_the_clocks():
    case = _reviewing()
    case.step("hold", "2026-03-13", HOLD)
    case.step("review_hold", "2026-04-09", {"review_by": "2026-05-08"})
    assert case.replayed.hold is not None
    assert case.replayed.hold["review_by"] == "2026-05-08"
    assert case.replayed.hold["since"] == "2026-03-13"
    assert case.clocks()["hold_review"].due_on == D("2026-05-08")
    remaining = case.clocks()["review"].remaining
    assert remaining is not None
    case.step("lift_hold", "2026-04-20")
    assert case.replayed.hold is None
    derived = case.clocks()
    assert derived["review"].state == "running"
    assert derived["review"].due_on == CAL.add_working_days(D("2026-04-20"), remaining)
    assert derived["hold_review"].state == "stopped"
    assert derived["hold_review"].stopped_on == D("2026-04-20")
    # The case goes on in its stage.
    case.step("submit", "2026-04-21", {"submitted_on": "2026-04-21"})
    assert case.replayed.state == "submitted"


def test_a_case_that_is_not_held_cannot_be_reviewed_or_lifted():
    case = _reviewing()
    with pytest.raises(Refused) as refused:
        case.step("lift_hold", "2026-03-13")
    assert refused.value.message == "lift_hold needs a held case; case C-1 is not held"
    state = case.replayed
    possible = [t.id for t in engine.possible_triggers(case.definition, state.state, state.hold)]
    assert "lift_hold" not in possible and "hold" in possible


def test_a_case_cannot_be_held_outside_the_states_the_workflow_lists():
    case = MemoryCase(overlays(), "2026-03-02", {"aware_on": "2026-03-02"})
    with pytest.raises(Refused) as refused:
        case.step("hold", "2026-03-03", HOLD)
    assert "hold is not possible while case C-1 is in received" in refused.value.message


def test_replay_reports_a_step_a_held_case_could_not_take():
    case = _reviewing()
    case.step("hold", "2026-03-13", HOLD)
    case.rows.append(
        {
            "seq": case.rows[-1]["seq"] + 1,
            "trigger": "submit",
            "from_state": "reviewing",
            "to_state": "submitted",
            "occurred_on": "2026-03-16",
            "fields": {"submitted_on": "2026-03-16"},
        }
    )
    problems = case.replayed.problems
    assert problems and "submit is not possible while case C-1 is held" in problems[0][1]


def test_a_workflow_without_holds_behaves_as_before():
    from casereview.infra.workflows.registry import Registry

    definition = Registry.from_environment().get("england-lcspr", 1)
    assert definition.holds is None
    assert not any(r.paused_while_held or r.hold_review for r in clocks.rules_for(definition))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'states = ["reviewing", "submitted"]\nhold = ["hold"]',
            'states = ["reviewing", "sumbitted"]\nhold = ["hold"]',
            "overlays.toml: table 'holds': 'states' names an unknown state 'sumbitted' "
            "(did you mean 'submitted'?)",
        ),
        (
            'requires = ["hold_reason", "review_by"]',
            'requires = ["hold_reason"]\noptional = ["review_by"]',
            "overlays.toml: trigger 'hold': it is a 'hold' trigger of table 'holds', so it "
            "must list 'review_by' in 'requires': every hold has a date to be reviewed by",
        ),
        (
            'label = "Lift the hold"\nfrom = ["reviewing", "submitted"]',
            'label = "Lift the hold"\nfrom = ["reviewing", "submitted"]\nto = "received"',
            "overlays.toml: trigger 'lift_hold': it is a 'lift' trigger of table 'holds', so "
            "the case stays in its stage: remove 'to' ('received')",
        ),
        (
            'label = "Hold"\nfrom = ["reviewing", "submitted"]',
            'label = "Hold"\nfrom = ["received", "reviewing", "submitted"]',
            "overlays.toml: trigger 'hold': it is a 'hold' trigger of table 'holds', but fires "
            "from received, where a case cannot be held ('holds.states')",
        ),
        (
            'start_on = ["hold", "review_hold"]',
            'start_on = ["hold"]',
            "overlays.toml: clock 'hold_review': it is the review clock of table 'holds', so "
            "every hold and review starts it; add review_hold to 'start_on'",
        ),
        (
            'review_clock = "hold_review"',
            'review_clock = "review"',
            "overlays.toml: clock 'review': it is the review clock of table 'holds', so it must "
            "be anchored on 'review_by': anchor = { field = 'review_by' }",
        ),
        (
            'pause = ["review"]',
            'pause = ["reveiw"]',
            "overlays.toml: table 'holds': 'pause' names an unknown clock 'reveiw' "
            "(did you mean 'review'?)",
        ),
    ],
)
def test_the_loader_names_the_file_and_table_of_a_bad_holds_table(old, new, expected):
    assert old in TEXT
    assert expected in _problems(TEXT.replace(old, new))


def test_lint_finds_a_trigger_allowed_while_held_that_no_held_case_could_fire():
    text = TEXT.replace('allowed = ["note"]', 'allowed = ["note", "notify"]')
    definition, problems = check_bytes(text.encode(), name="overlays.toml")
    assert problems == [] and definition is not None
    assert lint_definition(definition) == [
        "table 'holds': 'allowed' names trigger 'notify', which fires from none of the "
        "states a case can be held in ('reviewing', 'submitted'), so it is never possible "
        "while held"
    ]


def test_the_report_counts_a_hold_in_its_stage_as_time_on_hold():
    from casereview.domain.reporting.case_facts import CaseHistory, ReportPlan

    case = _reviewing()
    case.step("hold", "2026-03-13", HOLD)
    case.step("lift_hold", "2026-04-20")
    case.step("hold", "2026-04-21", HOLD)
    history = CaseHistory(
        ref="C-1",
        pseudonym="Child A",
        facts=tuple(case.replayed.facts),
        clocks={},
        rules=(),
        terminal_states=frozenset({"done"}),
        plan=ReportPlan.of(None),
    )
    assert history.holds(None) == [
        (D("2026-03-13"), D("2026-04-20")),
        (D("2026-04-21"), None),
    ]
