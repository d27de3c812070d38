"""A case's action plan is part of verification: plan events recorded as the workflow's
`[action_plan]` allows verify; a correctly hashed plan event forged in someone's name,
in a role the table does not allow, or by a partner for another agency, is reported by
`audit verify` with its seq; a stored plan row changed behind casereview's back is a
projection finding."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from casereview.domain import actions as plans
from casereview.errors import Refused
from casereview.infra.now import FixedClock
from casereview.services import actions, cases, users
from casereview.services import workflows as workflow_service
from tests.conftest import enrol_keys
from tests.security.authority_support import World, authority_findings, checks
from tests.security.conftest import raw

ACTIONS = Path(__file__).resolve().parents[1] / "fixtures" / "workflows" / "actions"
TODAY = dt.date(2026, 3, 2)
PEOPLE = {
    "bu": (["business_unit"], None),
    "chair": (["chair"], None),
    "bola": (["partner"], "police"),
    "lee": (["partner"], "local_authority"),
    "scrut": (["scrutineer"], None),
}


@pytest.fixture
def world(database_url, monkeypatch):
    monkeypatch.setenv("CASEREVIEW_WORKFLOWS", str(ACTIONS))
    world = World(database_url, clock=FixedClock(TODAY))
    try:
        admin = world.as_("ada")
        users.init(admin)
        workflow_service.install(admin, "plan")
        for name, (roles, agency) in PEOPLE.items():
            users.add_user(admin, name, name.title(), roles, agency)
        enrol_keys(database_url, *PEOPLE, admin="ada", clock=world.clock)
        cases.open_case(world.as_("bu"), "P-1", aware_on=TODAY, workflow="plan")
        chair = world.as_("chair")
        actions.record(
            chair,
            "P-1",
            plans.REC_ADD,
            {"number": "1", "text": "t", "source": "s", "agencies": ["police",
             "local_authority"], "scope": "multi"},
        )  # fmt: skip
        for number, agency in (("1.1", "police"), ("1.2", "local_authority")):
            actions.record(
                chair,
                "P-1",
                plans.ACTION_ADD,
                {"action": number, "rec": "1", "text": "t", "agency": agency, "owner": "o",
                 "due_on": "2026-06-30"},
            )  # fmt: skip
        actions.record(world.as_("bola"), "P-1", plans.ACTION_UPDATE, {"action": "1.1",
                       "note": "begun", "status": "in_progress"})  # fmt: skip
        yield world
    finally:
        world.close()


def _forge(world: World, trigger: str, fields: dict, **columns) -> int:
    record = world.case_event("P-1", trigger, kind=plans.KIND_OF[trigger], fields=fields, **columns)
    seq = world.insert(record)
    _rebuild_plan(world)
    return seq


def _rebuild_plan(world: World) -> None:
    """The plan's rows as casereview's own replay makes them from the forged log."""
    from casereview.store import actions as plan_rows
    from casereview.store import projections

    ctx = world.forger()
    with ctx.db().unit_of_work() as uow:
        case_id = int(projections.get_case(uow.conn, "P-1")["id"])
        world.rows_may_change(uow.conn, case_id)
        plan = plans.replay(actions._plan_events(uow.conn, case_id))
        plan_rows.store_plan(uow.conn, case_id, plan, live=True)
        uow.commit()


def test_a_plan_recorded_as_the_workflow_allows_verifies(world):
    report = world.verify()
    assert report.ok, report.findings


def test_the_write_path_refuses_a_partner_on_another_agencys_action(world):
    with pytest.raises(Refused, match="owned by 'local_authority'"):
        actions.record(world.as_("bola"), "P-1", plans.ACTION_UPDATE,
                       {"action": "1.2", "note": "x"})  # fmt: skip


def test_a_partner_updating_another_agencys_action_is_reported(world):
    seq = _forge(
        world, plans.ACTION_UPDATE, {"action": "1.2", "agency": "local_authority",
        "note": "forged"}, actor="bola", role="partner",
    )  # fmt: skip
    report = world.verify()
    assert checks(report) == [("authority", seq)]
    assert "owned by 'local_authority'" in authority_findings(report)[0][1]


def test_a_plan_step_in_a_role_the_table_does_not_allow_is_reported(world):
    seq = _forge(
        world, plans.ACTION_EXTEND, {"action": "1.1", "agency": "police",
        "due_on": "2026-09-30", "reason": "r", "agreed_by": "me"}, actor="bu",
        role="business_unit",
    )  # fmt: skip
    report = world.verify()
    assert checks(report) == [("authority", seq)]
    assert "needs one of the roles chair" in authority_findings(report)[0][1]


def test_a_plan_step_in_a_role_the_actor_did_not_hold_is_reported(world):
    seq = _forge(
        world, plans.PLAN_OVERRIDE, {"trigger": "close"}, actor="scrut", role="chair",
        rationale="forged",
    )  # fmt: skip
    report = world.verify()
    assert checks(report) == [("authority", seq)]
    assert "'scrut' did not hold" in authority_findings(report)[0][1]


def test_a_plan_event_under_no_case_is_reported(world):
    record = world.case_event("P-1", plans.ACTION_UPDATE, kind="action", actor="chair",
                              role="chair", fields={"action": "1.1", "agency": "police",
                              "note": "x"})  # fmt: skip
    record["case_ref"] = None
    seq = world.insert(record)
    report = world.verify()
    assert ("authority", seq) in checks(report)


def test_a_stored_action_changed_behind_casereviews_back_is_reported(world):
    raw(world.url, "UPDATE case_actions SET status = 'evidenced' WHERE action = '1.2'")
    report = world.verify()
    assert checks(report) == [("projection", None)]
    assert "stored action plan (actions) differs" in report.findings[0].message


def test_a_stored_action_removed_is_reported(world):
    raw(world.url, "DELETE FROM case_actions WHERE action = '1.1'")
    report = world.verify()
    assert [f.check for f in report.findings] == ["projection"]


def test_a_close_written_around_the_open_actions_is_reported(world):
    """The write path refuses close while an action is open; one inserted anyway (by
    the chair, correctly hashed, the case's rows rebuilt) is a replay finding."""
    cases.advance(world.as_("chair"), "P-1", "approve_action_plan")
    with pytest.raises(Refused, match="waits while actions are open"):
        cases.advance(world.as_("chair"), "P-1", "close")
    seq = world.insert(
        world.case_event("P-1", "close", to_state="closed", actor="chair", role="chair")
    )
    report = world.verify()
    assert checks(report) == [("replay", seq)]
    replay = [f.message for f in report.findings if f.check == "replay"]
    assert "close waits while actions are open (1.1, 1.2)" in replay[0]


def test_a_close_after_the_chairs_override_verifies(world):
    cases.advance(world.as_("chair"), "P-1", "approve_action_plan")
    actions.record(world.as_("chair"), "P-1", plans.PLAN_OVERRIDE, {"trigger": "close"},
                   rationale="carried into the business plan")  # fmt: skip
    cases.advance(world.as_("chair"), "P-1", "close")
    report = world.verify()
    assert report.ok, report.findings
