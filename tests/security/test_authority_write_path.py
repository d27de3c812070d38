"""The write path refuses what `audit verify` would report about authority, so a live
write never creates a finding: a deactivated user records nothing (not even a case
opening, which it could before), nobody records on a deactivated user's behalf, a case
is opened only on an installed workflow once the log holds an installation, and `init`
registers an admin only as the log's first event; changing a deactivated user's
details does not reactivate them. Each refusal writes nothing.
"""

from __future__ import annotations

import pytest

from casereview.errors import Refused
from casereview.services import cases, corrections, users
from tests.conftest import snapshot
from tests.security.authority_support import TODAY, build
from tests.security.conftest import raw


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
    yield from build(database_url)


def _refused(world, call, match):
    before = snapshot(world.url)
    with pytest.raises(Refused, match=match):
        call()
    assert snapshot(world.url) == before


def test_a_deactivated_user_records_nothing(world):
    # Another admin first: the last active admin cannot be deactivated.
    users.grant_role(world.as_("ada"), "scrut", "admin", None)
    for name in ("bu", "chair"):
        world.deactivate(name)
    users.deactivate(world.as_("scrut"), "ada")
    bu = world.as_("bu")
    deactivated = "'bu' is deactivated"
    _refused(
        world,
        lambda: cases.open_case(bu, "A-009", aware_on=TODAY, fields={"nature": "death"}),
        deactivated,
    )
    _refused(
        world, lambda: cases.advance(bu, "A-002", "add_note", fields={"note": "x"}), deactivated
    )
    _refused(
        world,
        lambda: corrections.void(world.as_("chair"), "A-002", rationale="opened in error"),
        "'chair' is deactivated",
    )
    _refused(
        world,
        lambda: users.add_user(world.as_("ada"), "newcomer", "New", ["chair"], None),
        "'ada' is deactivated",
    )
    assert world.verify().ok


def test_nobody_records_on_a_deactivated_users_behalf(world):
    world.deactivate("lee")
    bu = world.as_("bu")
    _refused(
        world,
        lambda: cases.advance(bu, "A-001", "sign_off", on_behalf_of="lee"),
        "'lee' is deactivated",
    )


def test_a_case_is_opened_only_on_an_installed_workflow_once_there_is_one(world):
    bu = world.as_("bu")
    world.install("scr-transitional")
    _refused(
        world,
        lambda: cases.open_case(bu, "A-009", aware_on=TODAY, fields={"nature": "death"}),
        "england-lcspr v1 is not installed",
    )
    world.install("england-lcspr@1")
    cases.open_case(bu, "A-009", aware_on=TODAY, fields={"nature": "death"})
    report = world.verify()
    assert report.ok, report.findings
    assert report.legacy_cases == 2


def test_changing_a_deactivated_user_leaves_them_deactivated(world):
    """A user change is not a reactivation: the row stays as verify replays it."""
    world.deactivate("lee")
    changed = users.grant_role(world.as_("ada"), "lee", "scrutineer", None)
    assert changed.active is False
    assert world.user_row("lee")[2] in (False, 0)
    report = world.verify()
    assert report.ok, report.findings


def test_init_registers_an_admin_only_as_the_first_event(world):
    """A log whose user rows are gone is not a fresh installation: `init` there would
    record an admin that no admin added."""
    raw(world.url, "DELETE FROM users")
    _refused(world, lambda: users.init(world.as_("mallory")), "holds events but no users")
