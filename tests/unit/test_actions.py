"""The action-plan rules, pure: what each step holds, who may record it, how a plan
replays, when a trigger waits for it, and how an action stands against its deadline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from casereview.domain import actions as plans
from casereview.domain.workflow.loader import load_path
from casereview.errors import InvalidWorkflow

PLAN_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "workflows" / "actions" / "plan.toml"
RULES = load_path(PLAN_FILE).action_plan
assert RULES is not None
AGENCIES = ("local_authority", "police", "icb")


def _row(seq: int, step: str, on: str = "2026-01-05", **fields) -> dict:
    return {"seq": seq, "kind": plans.KIND_OF[step], "trigger": step, "occurred_on": on,
            "fields": fields, "actor": "someone", "role": "chair", "rationale": "why"}  # fmt: skip


def _plan(*extra: dict) -> plans.Plan:
    rows = [
        _row(1, plans.REC_ADD, number="1", text="t", source="s", agencies=["police", "icb"],
             scope="multi"),
        _row(2, plans.ACTION_ADD, action="1.1", rec="1", text="t", agency="police", owner="o",
             due_on="2026-06-30"),
        *extra,
    ]  # fmt: skip
    return plans.replay(rows)


def test_who_may_record_each_step():
    update = {"action": "1.1", "agency": "police"}
    assert plans.role_problem(RULES, plans.ACTION_UPDATE, update, "partner", "police") is None
    assert "owned by 'police'" in str(
        plans.role_problem(RULES, plans.ACTION_UPDATE, update, "partner", "icb")
    )
    assert plans.role_problem(RULES, plans.ACTION_UPDATE, update, "business_unit", None) is None
    assert plans.role_problem(RULES, plans.ACTION_UPDATE, update, "scrutineer", None)
    closing = {**update, "status": plans.CLOSED_WITHOUT, "reason": "r"}
    assert plans.role_problem(RULES, plans.ACTION_COMPLETE, closing, "business_unit", None)
    assert plans.role_problem(RULES, plans.ACTION_COMPLETE, closing, "chair", None) is None
    for trigger in (plans.REC_ADD, plans.ACTION_ADD, plans.ACTION_EXTEND, plans.PLAN_OVERRIDE):
        assert plans.role_problem(RULES, trigger, update, "business_unit", None)
    assert plans.role_for(RULES, plans.ACTION_UPDATE, update, ["partner", "chair"], "icb") == (
        "chair",
        "",
    )
    assert plans.readers(RULES) == {"chair", "business_unit", "partner", "scrutineer"}


@pytest.mark.parametrize(
    ("trigger", "fields"),
    [
        (plans.REC_ADD, {"number": "1", "text": "t", "source": "s", "agencies": [],
                         "scope": "single"}),
        (plans.REC_ADD, {"number": "1 2", "text": "t", "source": "s", "agencies": ["icb"],
                         "scope": "single"}),
        (plans.ACTION_ADD, {"action": "1.1", "rec": "1", "text": "t", "agency": "icb",
                            "owner": "o", "due_on": "30/06/2026"}),
        (plans.ACTION_UPDATE, {"action": "1.1", "agency": "icb"}),
        (plans.ACTION_UPDATE, {"action": "1.1", "agency": "icb", "status": "completed"}),
        (plans.ACTION_COMPLETE, {"action": "1.1", "agency": "icb", "status": "evidenced"}),
        (plans.ACTION_COMPLETE, {"action": "1.1", "agency": "icb",
                                 "status": plans.CLOSED_WITHOUT}),
        (plans.ACTION_EXTEND, {"action": "1.1", "agency": "icb", "due_on": "2026-07-01"}),
        (plans.PLAN_OVERRIDE, {"trigger": "close"}),
    ],
)  # fmt: skip
def test_malformed_steps_are_refused(trigger, fields):
    with pytest.raises(plans.PlanError):
        plans.check_fields(trigger, fields, AGENCIES)


def test_a_plan_replays_and_refuses_steps_that_do_not_fit():
    plan = _plan(
        _row(3, plans.ACTION_UPDATE, action="1.1", agency="police", status="in_progress",
             note="n", evidence=["doc-1"]),
        _row(4, plans.ACTION_EXTEND, action="1.1", agency="police", due_on="2026-05-01",
             reason="r", agreed_by="c"),  # earlier than its due date: a problem
        _row(5, plans.ACTION_ADD, action="2.1", rec="2", text="t", agency="police", owner="o",
             due_on="2026-06-30"),  # no recommendation 2
        _row(6, plans.ACTION_COMPLETE, action="1.1", agency="police", status="evidenced",
             evidence=["doc-2"]),
        _row(7, plans.ACTION_UPDATE, action="1.1", agency="police", note="after"),  # done
        {"seq": 8, "kind": "case", "trigger": "close", "occurred_on": "2026-01-05",
         "fields": {}},
    )  # fmt: skip
    assert [seq for seq, _ in plan.problems] == [4, 5, 7]
    action = plan.actions["1.1"]
    assert action.status == plans.EVIDENCED
    assert action.evidence == ["doc-1", "doc-2"]
    assert action.due_on == "2026-06-30"
    assert [u.trigger for u in action.history] == ["action_add", "action_update",
                                                   "action_complete"]  # fmt: skip


def test_a_trigger_waits_for_open_actions_until_an_override_after_the_latest_step():
    plan = _plan()
    refused = plans.gate_refusal(RULES, plan, "close", last_step_seq=2)
    assert refused is not None and "(1.1)" in refused
    overridden = _plan(_row(5, plans.PLAN_OVERRIDE, trigger="close"))
    assert plans.gate_refusal(RULES, overridden, "close", last_step_seq=4) is None
    # An override older than the case's latest step answered an earlier decision.
    assert plans.gate_refusal(RULES, overridden, "close", last_step_seq=6) is not None
    other = _plan(_row(5, plans.PLAN_OVERRIDE, trigger="approve_action_plan"))
    assert plans.gate_refusal(RULES, other, "close", last_step_seq=4) is not None


def test_the_plan_must_exist_before_its_approval():
    empty = plans.replay([])
    assert plans.gate_refusal(RULES, empty, "approve_action_plan", 0) is not None
    assert plans.gate_refusal(RULES, _plan(), "approve_action_plan", 0) is None
    none = plans.replay([_row(1, plans.REC_NONE, reason="nothing to learn")])
    assert plans.gate_refusal(RULES, none, "approve_action_plan", 0) is None


@pytest.mark.parametrize(
    ("steps", "today", "outcome", "rag"),
    [
        ([], "2026-03-01", plans.OPEN_ON_TIME, "green"),
        ([], "2026-06-10", plans.OPEN_ON_TIME, "amber"),
        ([], "2026-07-01", plans.OPEN_OVERDUE, "red"),
        ([("2026-06-30", None)], "2027-01-01", plans.MET, "complete"),
        ([("2026-07-01", None)], "2027-01-01", plans.MISSED, "red"),
        ([("2026-06-01", "2026-09-30"), ("2026-08-01", None)], "2027-01-01",
         plans.MET_EXTENDED, "complete"),
        ([("2026-06-01", "2026-09-30"), ("2026-10-01", None)], "2027-01-01", plans.MISSED,
         "red"),
    ],
)  # fmt: skip
def test_an_action_against_its_deadline(steps, today, outcome, rag):
    rows = []
    for at, (on, extended_to) in enumerate(steps, start=3):
        if extended_to:
            rows.append(_row(at, plans.ACTION_EXTEND, on, action="1.1", agency="police",
                             due_on=extended_to, reason="r", agreed_by="c"))  # fmt: skip
        else:
            rows.append(_row(at, plans.ACTION_COMPLETE, on, action="1.1", agency="police",
                             status="completed"))  # fmt: skip
    action = _plan(*rows).actions["1.1"]
    day = dt.date.fromisoformat(today)
    assert plans.outcome(action, day) == outcome
    assert plans.rag(action, day) == rag


def test_an_action_plan_table_naming_unknown_roles_or_triggers_is_invalid(tmp_path):
    text = (
        PLAN_FILE.read_text()
        .replace('refuse_while_open = ["close"]', 'refuse_while_open = ["clsoe"]')
        .replace('read = ["scrutineer"]', 'read = ["auditor"]')
    )
    bad = tmp_path / "plan.toml"
    bad.write_text(text)
    with pytest.raises(InvalidWorkflow) as caught:
        load_path(bad)
    problems = "\n".join(caught.value.problems)
    assert "unknown trigger 'clsoe'" in problems
    assert "unknown role 'auditor'" in problems
