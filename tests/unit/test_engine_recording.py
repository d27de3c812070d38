"""Who may record a decision for someone else (each trigger's `on_behalf` rules), and
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
ENGLAND = ROOT / "workflows" / "england-lcspr@1.toml"
MINIMAL = ROOT / "tests" / "fixtures" / "workflows" / "minimal.toml"
ON = dt.date(2026, 3, 2)


def _minimal(trigger: str = "", rules: str = "") -> WorkflowDefinition:
    """The minimal fixture with `on_behalf = [rules]` on `trigger` (none when empty)."""
    text = MINIMAL.read_text()
    if trigger:
        head = f'[[triggers]]\nid = "{trigger}"\n'
        assert head in text
        text = text.replace(head, head + f"on_behalf = [{rules}]\n")
    return load_bytes(text.encode(), name="minimal.toml")


def _decide(definition, state, trigger, recorder, decider, fields=None, rationale="why"):
    snapshot = engine.CaseSnapshot("A-1", state, {}, {}, 2)
    request = engine.Request(trigger, ON, fields or {}, rationale)
    return engine.decide(definition, snapshot, request, recorder, decider)


def test_the_business_unit_records_the_chairs_decision():
    england = load_path(ENGLAND)
    bu = engine.Person("bu", frozenset({"business_unit"}))
    chair = engine.Person("chair", frozenset({"chair"}))
    decision = _decide(england, "screening", "decide_not_to_notify", bu, chair)
    assert decision.role == "chair"


def test_a_recorder_no_rule_names_is_refused_with_what_the_file_allows():
    england = load_path(ENGLAND)
    partner = engine.Person("la", frozenset({"partner"}), "local_authority")
    chair = engine.Person("chair", frozenset({"chair"}))
    with pytest.raises(Refused) as refused:
        _decide(england, "screening", "decide_not_to_notify", partner, chair)
    assert refused.value.message == (
        "'la' (partner for local_authority) may not record decide_not_to_notify on behalf "
        "of 'chair' (chair): for someone else, decide_not_to_notify is recorded by a "
        "business unit or chair for a chair"
    )


def test_for_defaults_to_the_triggers_roles():
    minimal = _minimal("decide", '{ by = ["decider"] }')
    one = engine.Person("one", frozenset({"decider"}))
    other = engine.Person("other", frozenset({"decider"}))
    decision = _decide(minimal, "deciding", "decide", one, other, {"outcome": "accept"})
    assert decision.role == "decider"


def test_without_rules_nobody_records_for_someone_else():
    clerk = engine.Person("c", frozenset({"clerk"}))
    other = engine.Person("o", frozenset({"clerk"}))
    with pytest.raises(Refused) as none:
        _decide(_minimal(), "received", "start", clerk, other)
    assert none.value.message == (
        "'c' (clerk) may not record start on behalf of 'o' (clerk): start is recorded "
        "only by the person who decides it"
    )


def test_same_agency_rules_hold_a_signer_to_their_own_agency():
    minimal = _minimal("sign", '{ by = ["signer"], same_agency = true }')
    police = engine.Person("p", frozenset({"signer"}), "police")
    colleague = engine.Person("q", frozenset({"signer"}), "police")
    council = engine.Person("c", frozenset({"signer"}), "council")
    allowed = engine.on_behalf_refusal(minimal, "sign", police, colleague, "signer")
    assert allowed is None
    refused = engine.on_behalf_refusal(minimal, "sign", police, council, "signer")
    assert refused == (
        "'p' (signer for police) may not record sign on behalf of 'c' (signer for council): "
        "for someone else, sign is recorded by a signer for a signer of their own agency"
    )


def test_on_behalf_refusal_checks_the_recorded_role():
    """The pure answer a replay of the log asks: the role an event records must be one
    the trigger allows and the decision-maker holds."""
    england = load_path(ENGLAND)
    bu = engine.Person("bu", frozenset({"business_unit"}))
    chair = engine.Person("chair", frozenset({"chair"}))
    assert engine.on_behalf_refusal(england, "close", bu, chair, "chair") is None
    assert "does not hold business_unit" in (
        engine.on_behalf_refusal(england, "close", bu, chair, "business_unit") or ""
    )
    assert "not a trigger" in (engine.on_behalf_refusal(england, "nope", bu, chair, "chair") or "")


def test_a_recorder_who_may_record_for_others_is_told_how():
    england = load_path(ENGLAND)
    bu = engine.Person("bu", frozenset({"business_unit"}))
    snapshot = engine.CaseSnapshot("A-1", "screening", {}, {}, 2)
    request = engine.Request("decide_not_to_notify", ON, {}, "why")
    with pytest.raises(Refused) as refused:
        engine.decide(england, snapshot, request, bu)
    assert wording(refused.value) == (
        "decide_not_to_notify needs one of the roles chair; 'bu' holds business_unit; "
        "for someone else, decide_not_to_notify is recorded by a business unit or chair "
        "for a chair, naming them with --on-behalf-of"
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
    assert "'{x}' (partner for police) may not record" in wording(refused.value)
