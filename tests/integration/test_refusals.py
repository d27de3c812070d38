"""Every kind of refusal names the problem, uses its exit code, and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from casereview.errors import Conflict, ExitCode, InvalidInput, NotFound, Refused
from casereview.services import cases, users

D = dt.date.fromisoformat


@pytest.fixture
def opened(world):
    world.on("2025-06-02")
    cases.open_case(world.as_("bu"), "2025-001", aware_on=D("2025-06-02"))
    return world


def attempt(world, who, trigger, *, day="2025-06-05", **kwargs):
    world.on(day)
    return cases.advance(world.as_(who), "2025-001", trigger, **kwargs)


REFUSALS = [
    # (description, who, trigger, kwargs, exception, message fragment)
    ("unknown trigger", "bu", "teleport", {}, NotFound, "no trigger 'teleport'"),
    ("not possible from state", "bu", "submit_rapid_review", {}, Refused, "possible now: notify"),
    (
        "role not held",
        "chair",
        "notify",
        {"fields": {"sin_reference": "S1"}},
        Refused,
        "needs one of the roles business_unit",
    ),
    (
        "scrutineer changes nothing",
        "scrut",
        "add_note",
        {"fields": {"note": "x"}},
        Refused,
        "'scrut' holds scrutineer",
    ),
    ("required field missing", "bu", "notify", {}, Refused, "needs sin_reference=…"),
    (
        "field not taken by trigger",
        "bu",
        "notify",
        {"fields": {"sin_reference": "S1", "url": "x"}},
        Refused,
        "does not record 'url'",
    ),
    (
        "unknown field",
        "bu",
        "add_note",
        {"fields": {"note": "x", "colour": "red"}},
        Refused,
        "does not record 'colour'",
    ),
    ("rationale missing", "chair", "decide_not_to_notify", {}, Refused, "needs a rationale"),
    (
        "future date",
        "bu",
        "notify",
        {"fields": {"sin_reference": "S1"}, "on": D("2025-06-06")},
        Refused,
        "in the future",
    ),
    (
        "before latest event",
        "bu",
        "notify",
        {"fields": {"sin_reference": "S1"}, "on": D("2025-06-01")},
        Refused,
        "before the case's latest",
    ),
    (
        "bad date value",
        "bu",
        "notify",
        {"fields": {"sin_reference": "S1", "notified_on": "2025-02-30"}},
        Refused,
        "ISO date",
    ),
    (
        "stale expected state",
        "bu",
        "notify",
        {"fields": {"sin_reference": "S1"}, "expect_state": "rapid_review"},
        Conflict,
        "someone else moved it first",
    ),
    (
        "unknown decider",
        "bu",
        "decide_not_to_notify",
        {"rationale": "r", "on_behalf_of": "nobody"},
        NotFound,
        "no user 'nobody'",
    ),
    (
        "decider lacks role",
        "bu",
        "decide_not_to_notify",
        {"rationale": "r", "on_behalf_of": "la"},
        Refused,
        "needs one of the roles chair",
    ),
    (
        "recorder not business unit",
        "la",
        "decide_not_to_notify",
        {"rationale": "r", "on_behalf_of": "chair"},
        Refused,
        "may not record decide_not_to_notify on behalf of 'chair'",
    ),
    (
        "unknown account",
        "mallory",
        "notify",
        {"fields": {"sin_reference": "S1"}},
        Refused,
        "not a casereview user",
    ),
]


@pytest.mark.parametrize(
    ("who", "trigger", "kwargs", "exc", "fragment"),
    [r[1:] for r in REFUSALS],
    ids=[r[0] for r in REFUSALS],
)
def test_refusal_names_the_problem_and_changes_nothing(
    opened, snapshot_db, who, trigger, kwargs, exc, fragment
):
    before = snapshot_db(opened)
    with pytest.raises(exc) as info:
        attempt(opened, who, trigger, **kwargs)
    assert fragment in info.value.message
    assert snapshot_db(opened) == before


def test_exit_codes_of_refusal_kinds():
    assert Refused.exit_code == ExitCode.REFUSED == 4
    assert Conflict.exit_code == 6
    assert NotFound.exit_code == 3
    assert InvalidInput.exit_code == 2


def _to_signoff(world):
    attempt(world, "bu", "notify", fields={"sin_reference": "S1"})
    attempt(world, "chair", "propose_decision", rationale="r", fields={"recommendation": "lcspr"})


def test_incomplete_signoff_names_the_missing_agencies(opened, snapshot_db):
    _to_signoff(opened)
    attempt(opened, "police", "sign_off")
    before = snapshot_db(opened)
    with pytest.raises(Refused) as info:
        attempt(opened, "bu", "submit_rapid_review")
    assert "still waiting for local_authority, icb" in info.value.message
    assert snapshot_db(opened) == before


def test_an_agency_signs_once_per_round_and_only_for_itself(opened, snapshot_db):
    _to_signoff(opened)
    attempt(opened, "la", "sign_off")
    before = snapshot_db(opened)
    with pytest.raises(Refused, match="already signed off"):
        attempt(opened, "la", "sign_off")
    with pytest.raises(Refused, match="signs off for police, not icb"):
        attempt(opened, "police", "sign_off", fields={"agency": "icb"})
    assert snapshot_db(opened) == before


def test_bad_choice_value_lists_the_choices(opened, snapshot_db):
    attempt(opened, "bu", "notify", fields={"sin_reference": "S1"})
    before = snapshot_db(opened)
    with pytest.raises(Refused, match="must be one of: lcspr, no_lcspr, national_review"):
        attempt(
            opened, "chair", "propose_decision", rationale="r", fields={"recommendation": "maybe"}
        )
    assert snapshot_db(opened) == before


def test_revise_clears_the_round(opened):
    _to_signoff(opened)
    attempt(opened, "la", "sign_off")
    attempt(opened, "chair", "revise", rationale="new information from police")
    attempt(opened, "chair", "propose_decision", rationale="r", fields={"recommendation": "lcspr"})
    shown = cases.show_case(opened.as_("bu"), "2025-001")
    assert all(not signed for signed in shown.approvals.values())
    attempt(opened, "la", "sign_off")  # allowed again after the round was cleared


def test_business_unit_records_a_decision_on_behalf_of_the_chair(opened):
    result = attempt(
        opened, "bu", "decide_not_to_notify", rationale="criteria not met", on_behalf_of="chair"
    )
    assert result.to_state == "closed"
    from casereview.store import event_log

    with opened.as_("bu").db().reading() as conn:
        last = list(event_log.iter_events(conn))[-1]
    assert (last["actor"], last["on_behalf_of"], last["role"]) == ("bu", "chair", "chair")


def test_other_learning_guard_needs_no_lcspr_recommendation(opened, snapshot_db):
    _to_signoff(opened)
    for who in ("la", "police", "icb"):
        attempt(opened, who, "sign_off")
    attempt(opened, "bu", "submit_rapid_review")
    before = snapshot_db(opened)
    with pytest.raises(Refused, match="recommendation must be 'no_lcspr'"):
        attempt(
            opened,
            "chair",
            "record_other_learning",
            rationale="r",
            fields={"learning_activity": "event"},
        )
    assert snapshot_db(opened) == before


def test_duplicate_case_and_pseudonym_are_conflicts(opened, snapshot_db):
    before = snapshot_db(opened)
    with pytest.raises(Conflict, match="already exists"):
        cases.open_case(opened.as_("bu"), "2025-001", aware_on=D("2025-06-01"))
    with pytest.raises(Conflict, match="already used"):
        cases.open_case(opened.as_("bu"), "2025-002", aware_on=D("2025-06-01"), pseudonym="Child A")
    with pytest.raises(Refused, match="roles business_unit"):
        cases.open_case(opened.as_("chair"), "2025-003", aware_on=D("2025-06-01"))
    with pytest.raises(InvalidInput, match="case reference"):
        cases.open_case(opened.as_("bu"), "../etc", aware_on=D("2025-06-01"))
    assert snapshot_db(opened) == before


def test_only_admins_manage_users(world, snapshot_db):
    before = snapshot_db(world)
    with pytest.raises(Refused, match="only an admin"):
        users.add_user(world.as_("bu"), "eve", "Eve", ["chair"], None)
    with pytest.raises(InvalidInput, match="unknown role"):
        users.add_user(world.as_("admin"), "eve", "Eve", ["overlord"], None)
    with pytest.raises(InvalidInput, match="give agency"):
        users.add_user(world.as_("admin"), "eve", "Eve", ["partner"], None)
    assert snapshot_db(world) == before
