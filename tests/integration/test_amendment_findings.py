"""`audit verify` holds every correction, undo and void to what it amends: a forged one,
appended through the store's own sealing path so that its hashes are right, that does
not fit the case it names is a finding (exit 7 on the command line), and so is an event
recorded on a case after it was voided. A correction made through the service verifies."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from casereview.domain import chain
from casereview.services import audit, cases, corrections
from casereview.store import event_log, projections
from tests.conftest import run_sql

D = dt.date.fromisoformat


@pytest.fixture
def case(world):
    world.on("2025-06-02")
    cases.open_case(world.as_("bu"), "2025-001", aware_on=D("2025-06-02"))
    world.on("2025-06-04")
    cases.advance(world.as_("bu"), "2025-001", "notify", fields={"sin_reference": "S1"})
    assert audit.verify(world.as_("scrut")).ok
    return world


def seq_of(world, trigger: str) -> int:
    rows = run_sql(
        world.url, "SELECT seq FROM events WHERE trigger = :t ORDER BY seq", params={"t": trigger}
    )
    return int(rows[0][0])


def forge(world, trigger: str, fields: dict[str, Any], *, from_state="rapid_review") -> None:
    """Append an amending event with the right hashes but whatever fields it is given,
    without updating the projections (as someone writing to the database could)."""
    ctx = world.as_("bu")
    db = ctx.db()
    with db.unit_of_work() as uow:
        row = projections.get_case(uow.conn, "2025-001")
        assert row is not None
        event_log.append_event(
            uow.conn,
            {
                "kind": "case",
                "case_ref": "2025-001",
                "trigger": trigger,
                "from_state": from_state,
                "to_state": from_state,
                "occurred_on": "2025-06-05",
                "recorded_at": chain.format_instant(ctx.clock.now()),
                "actor": "bu",
                "on_behalf_of": None,
                "role": "business_unit",
                "rationale": "forged",
                "fields": fields,
                "workflow_id": row["workflow_id"],
                "workflow_version": row["workflow_version"],
                "definition_hash": row["workflow_hash"],
            },
            int(row["id"]),
            ctx.own_key(),  # signed by bu's own key: only the replay can tell
        )
        uow.commit()


def messages(world) -> list[str]:
    return [f.message for f in audit.verify(world.as_("scrut")).findings if f.check == "replay"]


def test_a_correction_made_through_the_service_verifies(case):
    case.on("2025-06-05")
    corrections.correct(
        case.as_("bu"), "2025-001", fields={"aware_on": "2025-06-01"}, rationale="typo"
    )
    assert audit.verify(case.as_("scrut")).ok


def test_a_correction_that_misstates_the_value_it_corrects_is_a_finding(case):
    opened = seq_of(case, "open")
    change = {
        "event": opened,
        "what": "field",
        "field": "aware_on",
        "was": "2025-05-30",
        "now": "2025-06-01",
    }
    forge(case, "correct", {"changes": [change]})
    assert any(
        f"says aware_on of event {opened} was '2025-05-30', but it was '2025-06-02'" in m
        for m in messages(case)
    )


def test_a_correction_of_an_event_that_is_not_a_step_of_the_case_is_a_finding(case):
    change = {
        "event": 9999,
        "what": "occurred_on",
        "field": None,
        "was": "2025-06-02",
        "now": "2025-06-01",
    }
    forge(case, "correct", {"changes": [change]})
    assert any("corrects event 9999, which is not a step of the case" in m for m in messages(case))


def test_an_undo_of_anything_but_the_latest_step_is_a_finding(case):
    forge(case, "undo", {"reverses": seq_of(case, "open")})
    assert any("which is not the case's latest step" in m for m in messages(case))


def test_an_event_after_a_void_is_a_finding(case):
    case.on("2025-06-05")
    corrections.void(case.as_("chair"), "2025-001", rationale="duplicate")
    assert audit.verify(case.as_("scrut")).ok  # voided, and still verifying
    forge(case, "correct", {"changes": []})
    assert any("recorded after the case was voided" in m for m in messages(case))
