"""Authority is part of verification: each forgery of who recorded what, made by someone
with write access to the database, is reported by `audit verify` with the event's seq.

Every forged event here is correctly hashed (sealed with casereview's own chain) and
its case's rows are rebuilt with casereview's own replay, so the chain and the
projections agree with the forged log: only the authority checks can tell. Before
them, each of these verified OK. Runs on SQLite, and on PostgreSQL when the suite is
pointed at a server.
"""

from __future__ import annotations

import json

import pytest

from casereview.errors import Refused
from casereview.services import cases
from tests.conftest import register_cli_account
from tests.security.authority_support import (
    TODAY,
    World,
    authority_findings,
    build,
    checks,
    roles_json,
)

SCR_FIELDS = {"notified_on": TODAY.isoformat()}


@pytest.fixture
def world(database_url, monkeypatch):
    # These checks are about logs from before `init` installed the shipped workflows:
    # a log whose cases are legacy until an admin's first installation event.
    from casereview.services import workflows as workflow_service

    monkeypatch.setattr(workflow_service, "install_shipped", lambda ctx, conn: [])
    monkeypatch.setattr(
        workflow_service,
        "for_new_case",
        lambda ctx, workflow_id, conn=None: ctx.registry.resolve(workflow_id),
    )
    for world in build(database_url):
        # The CLI's reads need its account registered: a scrutineer, as the one who verifies.
        register_cli_account(world.url, "ada", today=TODAY)
        yield world


def test_the_world_verifies_and_its_cases_are_legacy(world, cli):
    report = world.verify()
    assert report.ok, report.findings
    assert report.users == 7  # six people and the account the CLI runs as
    assert report.legacy_cases == 2  # opened in a log with no workflow installation
    result = cli("audit", "verify", "--db", world.url, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["legacy_cases"] == 2
    said = cli("audit", "verify", "--db", world.url)
    assert "2 case(s) were opened before any workflow was installed" in said.stderr + said.stdout


def test_a_role_added_to_the_users_row_for_one_step_is_reported(world, cli):
    """Edit the users row to add chair, record a chair-only decision, put the row back:
    the log now holds a chair decision by a partner, and the users table looks as
    before."""
    before = world.user_row("bola")
    world.set_user_row("bola", (roles_json("chair", "partner"), *before[1:]))
    done = cases.advance(
        world.as_("bola"), "A-002", "decide_not_to_notify", rationale="no criteria met"
    )
    world.set_user_row("bola", before)

    report = world.verify()
    assert checks(report) == [("authority", done.seq)]
    ((_, message),) = authority_findings(report)
    assert "role 'chair'" in message and "'bola' did not hold" in message
    assert "case A-002" in message
    result = cli("audit", "verify", "--db", world.url)
    assert result.exit_code == 7
    assert f"event {done.seq}: case A-002: decide_not_to_notify was recorded in role" in (
        result.stdout
    )


def test_a_directly_inserted_event_in_another_persons_name_is_reported(world):
    """INSERT a correctly hashed chair decision with actor 'bola' and role 'chair'."""
    forged = world.case_event(
        "A-002",
        "decide_not_to_notify",
        to_state="closed",
        actor="bola",
        role="chair",
        rationale="no criteria met",
    )
    seq = world.insert(forged)
    report = world.verify()
    assert checks(report) == [("authority", seq)]
    assert "'bola' did not hold" in authority_findings(report)[0][1]


def test_a_scrutineer_note_is_reported(world):
    """The scrutineer holds `scrutineer`, but add_note does not allow that role."""
    seq = world.insert(
        world.case_event(
            "A-002", "add_note", actor="scrut", role="scrutineer", fields={"note": "mine"}
        )
    )
    report = world.verify()
    assert checks(report) == [("authority", seq)]
    assert "does not let role 'scrutineer' record add_note" in authority_findings(report)[0][1]


def test_an_event_by_someone_who_is_not_a_user_is_reported(world):
    seq = world.insert(
        world.case_event("A-002", "add_note", actor="mallory", fields={"note": "hello"})
    )
    report = world.verify()
    assert checks(report) == [("authority", seq)]
    assert "'mallory', who was not a registered user" in authority_findings(report)[0][1]


def test_an_admin_change_made_by_a_partner_is_reported(world):
    """A partner records a user_change giving themselves chair, and the row to match."""
    forged = world.admin_event(
        "user_change",
        {
            "username": "bola",
            "display_name": "Bola",
            "roles": ["chair", "partner"],
            "agency": "police",
        },
        actor="bola",
    )
    seq = world.insert(forged)
    world.set_user_row("bola", (roles_json("chair", "partner"), "police", True))
    report = world.verify()
    found = authority_findings(report)
    assert found == [
        (seq, "user_change is an admin event, but 'bola' did not hold admin at that point")
    ]
    # The change is not applied: the row that follows it is not what the log produces.
    assert ("projection", None) in checks(report)


def test_an_event_after_the_actor_was_deactivated_is_reported(world):
    deactivated = world.deactivate("lee")
    assert world.verify().ok  # the deactivation itself is a sound user event
    before = world.user_row("lee")
    world.set_user_row("lee", (before[0], before[1], True))
    done = cases.advance(world.as_("lee"), "A-001", "sign_off")
    world.set_user_row("lee", before)
    assert done.seq > deactivated

    report = world.verify()
    assert checks(report) == [("authority", done.seq)]
    assert "'lee', whose account was deactivated" in authority_findings(report)[0][1]


def test_the_users_row_of_a_deactivated_user_must_say_so(world):
    world.deactivate("lee")
    before = world.user_row("lee")
    world.set_user_row("lee", (before[0], before[1], True))
    report = world.verify()
    assert checks(report) == [("projection", None)]
    assert "user lee differs" in report.findings[0].message


def test_a_case_opened_on_a_workflow_never_installed_is_reported(world, monkeypatch):
    world.install("england-lcspr@1")
    bu = world.as_("bu")
    opened = cases.open_case(bu, "A-003", aware_on=TODAY, fields={"nature": "death"})
    assert world.verify().ok
    # The write path refuses a workflow no admin installed …
    with pytest.raises(Refused, match="not installed"):
        cases.open_case(bu, "A-004", aware_on=TODAY, workflow="scr-transitional", fields=SCR_FIELDS)
    # … so the forger writes around that check.
    monkeypatch.setattr(cases, "check_installed", lambda conn, definition: None)
    cases.open_case(bu, "A-004", aware_on=TODAY, workflow="scr-transitional", fields=SCR_FIELDS)
    (seq,) = (s for s, ref in _openings(world) if ref == "A-004")

    report = world.verify()
    assert checks(report) == [("authority", seq)]
    message = authority_findings(report)[0][1]
    assert "case A-004: opened on workflow scr-transitional" in message
    assert "no admin had installed" in message
    assert report.legacy_cases == 2  # A-003 was checked and is fine
    assert opened.ref == "A-003"


def test_an_installation_by_someone_who_is_not_an_admin_installs_nothing(world, monkeypatch):
    world.install("england-lcspr@1")
    definition = world.as_("bu").registry.get("scr-transitional")
    forged = world.admin_event(
        "workflow_install",
        {
            "workflow_id": definition.id,
            "version": definition.version,
            "definition_hash": definition.content_hash,
            "title": definition.title,
        },
        actor="bu",
    )
    install = world.insert(forged)
    cases.open_case(
        world.as_("bu"),
        "A-004",
        aware_on=TODAY,
        workflow="scr-transitional",
        fields=SCR_FIELDS,
    )
    (opening,) = (s for s, ref in _openings(world) if ref == "A-004")
    assert [seq for seq, _ in authority_findings(world.verify())] == [install, opening]


def test_a_partner_signing_for_another_agency_is_reported(world):
    seq = world.insert(
        world.case_event(
            "A-001",
            "sign_off",
            actor="bola",
            role="partner",
            fields={"agency": "local_authority"},
        )
    )
    report = world.verify()
    assert checks(report) == [("authority", seq)]
    assert (
        "sign_off signs for 'local_authority', but 'bola' signed for 'police'"
        in authority_findings(report)[0][1]
    )


def test_a_sign_off_recorded_on_behalf_by_someone_not_allowed_is_reported(world):
    """The chair may neither record on someone's behalf nor sign off themselves."""
    seq = world.insert(
        world.case_event(
            "A-001",
            "sign_off",
            actor="chair",
            on_behalf_of="lee",
            role="partner",
            fields={"agency": "local_authority"},
        )
    )
    report = world.verify()
    assert checks(report) == [("authority", seq)]
    assert (
        "'chair' (chair) may not record sign_off on behalf of 'lee'"
        in authority_findings(report)[0][1]
    )


def test_a_void_in_a_role_the_corrections_table_does_not_allow_is_reported(world):
    """A partner holds `partner`, but the workflow's [corrections] table lets no
    partner void a case."""
    seq = world.insert(
        world.case_event(
            "A-002",
            "void",
            to_state="voided",
            actor="bola",
            role="partner",
            rationale="opened in error",
        )
    )
    report = world.verify()
    assert ("authority", seq) in checks(report)
    assert any(
        s == seq and "does not let role 'partner' record void" in m
        for s, m in authority_findings(report)
    )


@pytest.mark.parametrize("deactivated", [False, True], ids=["not-a-user", "deactivated"])
def test_a_step_recorded_on_behalf_of_someone_who_could_not_take_it_is_reported(world, deactivated):
    if deactivated:
        world.deactivate("lee")
    seq = world.insert(
        world.case_event(
            "A-001",
            "sign_off",
            actor="bu",
            on_behalf_of="lee" if deactivated else "mallory",
            role="partner",
            fields={"agency": "local_authority"},
        )
    )
    report = world.verify()
    assert checks(report) == [("authority", seq)]
    expected = "whose account was deactivated" if deactivated else "not a registered user"
    assert expected in authority_findings(report)[0][1]


def test_granted_and_revoked_roles_are_replayed_from_their_events(world):
    """`user_grant` and `user_revoke` (the users commands' events) change who holds a
    role from their seq on: a chair decision between them verifies, one after the
    revocation is reported."""
    world.insert(
        world.admin_event("user_grant", {"username": "bu", "role": "chair", "agency": None})
    )
    world.set_user_row("bu", (roles_json("business_unit", "chair"), None, True))
    cases.advance(world.as_("bu"), "A-002", "add_note", fields={"note": "before"})
    forged = world.case_event("A-002", "add_note", actor="bu", role="chair", fields={"note": "x"})
    allowed = world.insert(forged)
    world.insert(world.admin_event("user_revoke", {"username": "bu", "role": "chair"}))
    world.set_user_row("bu", (roles_json("business_unit"), None, True))
    refused = world.insert(forged)
    report = world.verify()
    assert checks(report) == [("authority", refused)]
    assert allowed < refused
    assert "'bu' did not hold" in authority_findings(report)[0][1]


def test_sign_offs_recorded_on_behalf_as_the_workflow_allows_verify(world):
    bu = world.as_("bu")
    for partner in ("lee", "bola"):
        cases.advance(bu, "A-001", "sign_off", on_behalf_of=partner)
    assert world.verify().ok


def test_the_findings_are_the_same_in_worker_processes(world):
    world.insert(world.case_event("A-002", "add_note", actor="mallory", fields={"note": "x"}))
    world.insert(
        world.case_event(
            "A-001", "add_note", actor="scrut", role="scrutineer", fields={"note": "y"}
        )
    )
    one = world.verify(jobs=1)
    assert len(authority_findings(one)) == 2
    assert world.verify(jobs=2).findings == one.findings


def _openings(world: World) -> list[tuple[int, str]]:
    from tests.security.conftest import raw

    return [
        (int(seq), str(ref))
        for seq, ref in raw(
            world.url, "SELECT seq, case_ref FROM events WHERE trigger = 'open' ORDER BY seq"
        )
    ]
