"""Sign-off rounds (`domain.signoffs`): a round a trigger opens, signed by each agency once,
waited for by a guard, replaced by a new round of the same name; a state round as before.
The loader and lint check the tables."""

from __future__ import annotations

import pytest

from casereview.domain import engine, signoffs
from casereview.domain.corrections import impossible
from casereview.domain.workflow.lint import lint_definition
from casereview.domain.workflow.loader import check_bytes, load_path
from casereview.errors import Refused
from tests.unit.engine_cases import ENGINE_FIXTURES, D, MemoryCase

TEXT = (ENGINE_FIXTURES / "rounds.toml").read_text()
CLERK = engine.Person("clerk", frozenset({"clerk"}))
CHAIR = engine.Person("chair", frozenset({"chair"}))
AGENCIES = ("council", "police", "health")


def _partner(agency: str) -> engine.Person:
    return engine.Person(f"p-{agency}", frozenset({"partner"}), agency)


def _problems(text: str) -> list[str]:
    _, problems = check_bytes(text.encode(), name="rounds.toml")
    return problems


def _at_panel() -> MemoryCase:
    """A case whose decision every agency signed, sent to the Panel, which disagreed."""
    case = MemoryCase(
        load_path(ENGINE_FIXTURES / "rounds.toml"), "2026-03-02", {"aware_on": "2026-03-02"}
    )
    case.step("submit", "2026-03-02", who=CLERK)
    for agency in AGENCIES:
        case.step("sign_off", "2026-03-03", {"agency": agency}, who=_partner(agency))
    case.step("send", "2026-03-04", who=CLERK)
    case.step("record_panel_response", "2026-03-05", {"panel_position": "disagreed"}, who=CLERK)
    return case


def test_the_fixture_loads_and_lints_clean():
    assert _problems(TEXT) == []
    definition = load_path(ENGINE_FIXTURES / "rounds.toml")
    assert lint_definition(definition) == []
    maintained = definition.approval_round("maintained")
    assert maintained.opened and maintained.opened_by == ("maintain_decision",)
    assert (
        definition.round_collected_in("awaiting_panel") is None
    )  # opened rounds are not state rounds
    assert [r.id for r in definition.rounds_signable_in("awaiting_panel")] == ["maintained"]


def test_a_guard_on_a_round_not_yet_opened_says_so():
    case = _at_panel()
    with pytest.raises(Refused) as refused:
        case.step("conclude", "2026-03-06", who=CHAIR)
    assert str(refused.value) == (
        "conclude refused: Maintained decision sign-off has not been opened "
        "(opened by maintain_decision)"
    )
    with pytest.raises(Refused) as nothing:
        case.step("sign_off", "2026-03-06", {"agency": "police"}, who=_partner("police"))
    assert (
        str(nothing.value) == "there is no sign-off round open while the case is in awaiting_panel"
    )


def test_an_opened_round_is_signed_by_each_agency_once_and_then_lets_the_step_through():
    case = _at_panel()
    case.step("maintain_decision", "2026-03-06", who=CHAIR)
    replayed = case.replayed
    assert replayed.open_rounds == {
        "maintained": {"seq": 8, "on": "2026-03-06", "trigger": "maintain_decision"}
    }
    assert "maintained" not in replayed.approvals
    case.step("sign_off", "2026-03-09", {"agency": "police"}, who=_partner("police"))
    with pytest.raises(Refused) as again:
        case.step("sign_off", "2026-03-09", {"agency": "police"}, who=_partner("police"))
    assert (
        str(again.value)
        == "police has already signed off this round of Maintained decision sign-off"
    )
    with pytest.raises(Refused) as waiting:
        case.step("conclude", "2026-03-09", who=CHAIR)
    assert str(waiting.value) == (
        "conclude refused: Maintained decision sign-off is not complete: still waiting for "
        "council, health"
    )
    shown = signoffs.rounds_shown(
        case.definition, "awaiting_panel", case.replayed.approvals, case.replayed.open_rounds
    )
    assert [(r.round, r.signed, r.waiting_for, r.opened_on) for r in shown] == [
        ("decision", AGENCIES, (), None),
        ("maintained", ("police",), ("council", "health"), "2026-03-06"),
    ]
    for agency in ("council", "health"):
        case.step("sign_off", "2026-03-10", {"agency": agency}, who=_partner(agency))
    # Complete: a further sign-off has nothing to sign.
    with pytest.raises(Refused):
        case.step("sign_off", "2026-03-10", {"agency": "police"}, who=_partner("police"))
    done = case.step("conclude", "2026-03-11", who=CHAIR)
    assert done.to_state == "done"
    assert case.replayed.approvals["maintained"] == {"police": 9, "council": 10, "health": 11}


def test_opening_the_round_again_discards_the_earlier_sign_offs():
    case = _at_panel()
    case.step("maintain_decision", "2026-03-06", who=CHAIR)
    for agency in ("police", "council"):
        case.step("sign_off", "2026-03-09", {"agency": agency}, who=_partner(agency))
    decision = case.step("maintain_decision", "2026-03-10", who=CHAIR)
    assert "maintained" not in decision.approvals_after
    replayed = case.replayed
    assert replayed.open_rounds["maintained"]["on"] == "2026-03-10"
    assert "maintained" not in replayed.approvals
    # Police sign the new round again; the old signatures no longer count.
    case.step("sign_off", "2026-03-11", {"agency": "police"}, who=_partner("police"))
    assert case.replayed.approvals["maintained"] == {"police": 12}
    with pytest.raises(Refused, match="still waiting for council, health"):
        case.step("conclude", "2026-03-11", who=CHAIR)


def test_the_state_round_is_signed_as_before():
    case = MemoryCase(
        load_path(ENGINE_FIXTURES / "rounds.toml"), "2026-03-02", {"aware_on": "2026-03-02"}
    )
    case.step("submit", "2026-03-02", who=CLERK)
    with pytest.raises(
        Refused,
        match="Decision sign-off is not complete: still waiting for council, police, health",
    ):
        case.step("send", "2026-03-02", who=CLERK)
    case.step("sign_off", "2026-03-03", {"agency": "health"}, who=_partner("health"))
    with pytest.raises(Refused, match="signs off for health, not police"):
        case.step("sign_off", "2026-03-03", {"agency": "police"}, who=_partner("health"))
    assert case.replayed.approvals == {"decision": {"health": 3}}
    assert case.replayed.open_rounds == {}


def test_a_correction_that_would_sign_twice_is_found_impossible():
    case = _at_panel()
    case.step("maintain_decision", "2026-03-06", who=CHAIR)
    case.step("sign_off", "2026-03-09", {"agency": "police"}, who=_partner("police"))
    case.step("sign_off", "2026-03-09", {"agency": "health"}, who=_partner("health"))
    replayed = case.replayed
    assert impossible(case.definition, replayed, 0, D("2026-03-20")) is None
    # The health sign-off said police: a second police sign-off of the same round.
    replayed.history[-1] = {**replayed.history[-1], "fields": {"agency": "police"}}
    assert impossible(case.definition, replayed, 0, D("2026-03-20")) == (
        "event 10 would sign Maintained decision sign-off for police again"
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'opened_by = ["maintain_decision"]',
            'opened_by = ["maintain_decison"]',
            "rounds.toml: approval round 'maintained': 'opened_by' names an unknown trigger "
            "'maintain_decison' (did you mean 'maintain_decision'?)",
        ),
        (
            'opened_by = ["maintain_decision"]\ncollect_in = ["awaiting_panel"]',
            "",
            "rounds.toml: approval round 'maintained': a round needs 'collect_in' (the states "
            "it is signed in) or 'opened_by' (the triggers that open it), or both",
        ),
    ],
)
def test_the_loader_names_a_bad_round(old, new, expected):
    assert old in TEXT
    assert any(expected in p for p in _problems(TEXT.replace(old, new))), _problems(
        TEXT.replace(old, new)
    )


def test_lint_finds_an_opened_round_nothing_waits_for():
    text = TEXT.replace('guards = [{ kind = "approval_complete", round = "maintained" }]', "")
    definition, problems = check_bytes(text.encode(), name="rounds.toml")
    assert problems == [] and definition is not None
    assert lint_definition(definition) == [
        "approval round 'maintained' is opened by 'maintain_decision', but no trigger's "
        "guard requires it complete, so its sign-offs would change nothing"
    ]


def test_lint_finds_an_opened_round_no_later_state_collects():
    text = TEXT.replace(
        'opened_by = ["maintain_decision"]\ncollect_in = ["awaiting_panel"]',
        'opened_by = ["maintain_decision"]\ncollect_in = ["signoff"]',
    ).replace('from = ["signoff", "awaiting_panel"]', 'from = ["signoff"]')
    definition, problems = check_bytes(text.encode(), name="rounds.toml")
    assert problems == [] and definition is not None
    assert (
        "approval round 'maintained' is opened by trigger 'maintain_decision', but no state "
        "a case can reach after it collects the round ('signoff')"
    ) in lint_definition(definition)
