"""Who may record a decision for someone else (the workflow's `records_on_behalf`), and
the inputs the engine's refusals name as data rather than as command-line options."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from casereview.cli.messages import wording
from casereview.domain import engine
from casereview.domain.workflow.loader import load_bytes, load_path
from casereview.domain.workflow.model import WorkflowDefinition
from casereview.errors import Input, Refused

ROOT = Path(__file__).resolve().parents[2]
ENGLAND = ROOT / "workflows" / "england-lcspr.toml"
MINIMAL = ROOT / "tests" / "fixtures" / "workflows" / "minimal.toml"
ON = dt.date(2026, 3, 2)


def _minimal(marked: tuple[str, ...]) -> WorkflowDefinition:
    """The minimal fixture with `records_on_behalf = true` on the roles `marked`."""
    text = MINIMAL.read_text()
    for role in marked:
        head = f'id = "{role}"\nlabel = "{role.capitalize()}"\n'
        assert head in text
        text = text.replace(head, head + "records_on_behalf = true\n")
    return load_bytes(text.encode(), name="minimal.toml")


def _decide(definition, state, trigger, recorder, decider, fields=None, rationale="why"):
    snapshot = engine.CaseSnapshot("A-1", state, {}, {}, 2)
    request = engine.Request(trigger, ON, fields or {}, rationale)
    return engine.decide(definition, snapshot, request, recorder, decider)


def test_shipped_workflows_mark_the_business_unit():
    for path in sorted((ROOT / "workflows").glob("*.toml")):
        definition = load_path(path)
        marked = [r.id for r in definition.roles if r.records_on_behalf]
        assert marked == ["business_unit"], path.name


def test_a_marked_role_records_for_the_decision_maker():
    england = load_path(ENGLAND)
    bu = engine.Person("bu", frozenset({"business_unit"}))
    chair = engine.Person("chair", frozenset({"chair"}))
    decision = _decide(england, "screening", "decide_not_to_notify", bu, chair)
    assert decision.role == "chair"


def test_an_unmarked_recorder_is_refused_with_the_roles_of_the_file():
    england = load_path(ENGLAND)
    partner = engine.Person("la", frozenset({"partner"}), "local_authority")
    chair = engine.Person("chair", frozenset({"chair"}))
    with pytest.raises(Refused) as refused:
        _decide(england, "screening", "decide_not_to_notify", partner, chair)
    assert refused.value.message == (
        "only the business unit can record a decision on someone else's behalf; "
        "'la' is not in the business unit"
    )
    assert refused.value.params["roles"] == "business unit"


def test_holding_the_triggers_role_is_enough_without_a_mark():
    minimal = _minimal(())
    both = engine.Person("both", frozenset({"decider"}))
    other = engine.Person("other", frozenset({"decider"}))
    decision = _decide(minimal, "deciding", "decide", both, other, {"outcome": "accept"})
    assert decision.role == "decider"


def test_refusals_name_every_marked_role_or_say_there_is_none():
    clerk = engine.Person("c", frozenset({"clerk"}))  # `start` is the clerk's
    nobody = engine.Person("n", frozenset())
    decider = engine.Person("d", frozenset({"decider"}))
    signer = engine.Person("s", frozenset({"signer"}), "police")
    with pytest.raises(Refused) as two:
        _decide(_minimal(("decider", "signer")), "received", "start", nobody, clerk)
    assert two.value.message == (
        "only the decider or signer can record a decision on someone else's behalf; "
        "'n' is not in the decider or signer"
    )
    assert _decide(_minimal(("signer",)), "received", "start", signer, clerk).role == "clerk"
    with pytest.raises(Refused) as none:
        _decide(_minimal(()), "received", "start", decider, clerk)
    assert none.value.message == (
        "workflow minimal v1 lets no role record a decision on someone else's behalf, "
        "and 'd' does not hold a role start needs"
    )


def test_missing_inputs_are_named_as_inputs_and_spelled_by_the_cli():
    england = load_path(ENGLAND)
    everyone = engine.Person("all", frozenset(r.id for r in england.roles))
    with pytest.raises(Refused) as fields:
        _decide(england, "screening", "notify", everyone, None)
    assert fields.value.params["fields"] == (Input("field", "sin_reference"),)
    assert fields.value.message == "notify needs sin_reference=…"
    assert wording(fields.value) == "notify needs --set sin_reference=…"

    with pytest.raises(Refused) as rationale:
        _decide(england, "screening", "decide_not_to_notify", everyone, None, rationale=None)
    assert rationale.value.params["rationale"] == Input("rationale")
    assert wording(rationale.value) == (
        "decide_not_to_notify needs a --rationale explaining the decision"
    )

    minimal = load_path(MINIMAL)
    no_agency = engine.Person("s", frozenset({"signer"}))
    with pytest.raises(Refused) as agency:
        _decide(minimal, "signoff", "sign", no_agency, None)
    assert agency.value.params["field"] == Input("field", "agency")
    assert wording(agency.value) == "sign needs --set agency=… (the agency signing off)"

    with pytest.raises(Refused) as own:
        engine.opening_fields(england, {"ref": "X"})
    assert wording(own.value) == "ref is given as its own option, not with --set"


def test_braces_in_what_the_person_typed_do_not_break_a_message():
    england = load_path(ENGLAND)
    partner = engine.Person("{x}", frozenset({"partner"}), "police")
    chair = engine.Person("chair", frozenset({"chair"}))
    with pytest.raises(Refused) as refused:
        _decide(england, "screening", "decide_not_to_notify", partner, chair)
    assert "'{x}' is not in the business unit" in wording(refused.value)
