"""Signed events: an account that can write the database file appends an event attributed
to another user, with a correct hash chain. Whatever key it signs with (none, its own, a
key it enrolled for the other user, a confirmation it forged), `audit verify` fails and
names the event. Swapping signatures between events, and a revoked key's later events,
are caught too. The forgeries use casereview's own append path, which seals the chain
exactly as a real write does: only the signature is missing or wrong.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from casereview.domain import chain, signing
from casereview.domain.signing import Signer
from casereview.infra import keys as key_files
from casereview.infra.now import FixedClock
from casereview.services import audit, cases, keys, users
from casereview.services.context import ServiceContext
from casereview.store import event_log
from casereview.store.database import Database
from tests.conftest import enrol_keys, events_written_directly

DAY = dt.date(2025, 3, 3)


@dataclass
class Log:
    url: str
    clock: FixedClock

    def ctx(self, account: str) -> ServiceContext:
        return ServiceContext(url=self.url, account=account, clock=self.clock)

    def verify(self, *, full: bool = True) -> list[chain.Finding]:
        ctx = self.ctx("scrut")
        try:
            return audit.verify(ctx, jobs=1, full=full).findings
        finally:
            ctx.close()

    def append(self, record: dict[str, object], signer: Signer | None) -> int:
        """Append `record` as the tamperer: straight into the file (PostgreSQL: the
        tables, as their owner), chain sealed."""
        db = Database.open(self.url)
        try:
            with events_written_directly(), db.unit_of_work() as uow:
                appended = event_log.append_event(uow.conn, record, None, signer)
                uow.commit()
        finally:
            db.dispose()
        return appended.seq


def _event(actor: str, trigger: str, fields: dict[str, object], kind: str = "admin") -> dict:
    return {
        "kind": kind,
        "case_ref": None,
        "trigger": trigger,
        "from_state": None,
        "to_state": None,
        "occurred_on": DAY.isoformat(),
        "recorded_at": chain.format_instant(dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC)),
        "actor": actor,
        "on_behalf_of": None,
        "role": "admin" if kind == "admin" else None,
        "rationale": None,
        "fields": fields,
        "workflow_id": None,
        "workflow_version": None,
        "definition_hash": None,
    }


def _enrolment(username: str, key: Signer) -> dict:
    fields = {
        "username": username,
        "key_id": key.key_id,
        "public_key": signing.encode(key.public_key),
        "algorithm": signing.ALGORITHM,
    }
    return _event(username, signing.KEY_ENROL, fields, kind="key")


@pytest.fixture
def log(database_url: str) -> Iterator[Log]:
    clock = FixedClock(DAY)
    found = Log(database_url, clock)
    admin = found.ctx("admin")
    try:
        users.init(admin)
        users.add_user(admin, "bu", "Bu", ["business_unit"], None)
        users.add_user(admin, "scrut", "Scrut", ["scrutineer"], None)
        users.add_user(admin, "mallory", "Mallory", ["business_unit"], None)
        enrol_keys(database_url, "bu", "scrut", "mallory", clock=clock)
        bu = found.ctx("bu")
        try:
            cases.open_case(bu, "2025-001", aware_on=DAY, fields={"nature": "death"}, on=DAY)
        finally:
            bu.close()
    finally:
        admin.close()
    assert found.verify() == []
    yield found


def _forged_admin_change(actor: str) -> dict:
    """The admin's event giving mallory the chair role: what a tamperer would forge."""
    fields = {
        "username": "mallory",
        "display_name": "Mallory",
        "roles": ["business_unit", "chair"],
        "agency": None,
    }
    return _event(actor, "user_change", fields)


def _signature_findings(found: list[chain.Finding], seq: int) -> list[str]:
    return [f.message for f in found if f.check == "signature" and f.seq == seq]


def test_a_forged_event_without_a_signature_is_named(log: Log) -> None:
    seq = log.append(_forged_admin_change("admin"), None)
    assert _signature_findings(log.verify(), seq) == ["it is not signed"]


def test_a_forged_event_signed_with_the_tamperers_own_key_is_named(log: Log) -> None:
    own = key_files.load_key("mallory")
    assert own is not None
    seq = log.append(_forged_admin_change("admin"), own)
    assert _signature_findings(log.verify(), seq) == [
        f"it is signed with key {own.key_id}, enrolled for another user"
    ]


def test_the_real_key_makes_the_same_event_pass_the_signature_check(log: Log) -> None:
    """The control: with the admin's own key (which only the admin holds) the same
    appended event has no signature finding, so the findings above are the signatures'."""
    seq = log.append(_forged_admin_change("admin"), key_files.load_key("admin"))
    assert _signature_findings(log.verify(), seq) == []


def test_a_key_enrolled_in_someone_elses_name_is_unconfirmed_and_named(log: Log) -> None:
    """Mallory plants an enrolment of a key of hers in the admin's name (properly signed
    by that key) and signs the admin's forged event with it. The key is visible as the
    admin's unconfirmed key, and the event is a finding."""
    planted = Signer.generate()
    log.append(_enrolment("admin", planted), planted)
    seq = log.append(_forged_admin_change("admin"), planted)
    assert _signature_findings(log.verify(), seq) == [
        f"it is signed with key {planted.key_id}, not confirmed by an admin"
    ]
    admin = log.ctx("admin")
    try:
        listed = {k.key_id: k.state for k in keys.list_keys(admin)}
    finally:
        admin.close()
    assert listed[planted.key_id] == "unconfirmed"


def test_an_enrolled_but_unconfirmed_key_is_named(log: Log) -> None:
    """Mallory enrols a second key for herself (legitimate, visible) and signs events
    with it before any admin confirms it."""
    second = Signer.generate()
    log.append(_enrolment("mallory", second), second)
    seq = log.append(_event("mallory", "user_change", {}), second)
    assert _signature_findings(log.verify(), seq) == [
        f"it is signed with key {second.key_id}, not confirmed by an admin"
    ]


def test_a_forged_confirmation_does_not_confirm(log: Log) -> None:
    """Mallory enrols a key, then forges the admin's confirmation of it, signed with
    her own confirmed key (she has not got the admin's): the confirmation is a finding
    and the key stays unconfirmed."""
    second = Signer.generate()
    log.append(_enrolment("mallory", second), second)
    confirm = {"username": "mallory", "key_id": second.key_id}
    confirm_seq = log.append(
        _event("admin", signing.KEY_CONFIRM, confirm), key_files.load_key("mallory")
    )
    seq = log.append(_event("mallory", "user_change", {}), second)
    found = log.verify()
    assert any(
        "key confirmation that does not count" in m for m in _signature_findings(found, confirm_seq)
    )
    assert _signature_findings(found, seq) == [
        f"it is signed with key {second.key_id}, not confirmed by an admin"
    ]


def test_a_confirmation_by_a_non_admin_does_not_confirm(log: Log) -> None:
    """Mallory confirms her own second key, as herself, signed by her confirmed key."""
    second = Signer.generate()
    log.append(_enrolment("mallory", second), second)
    confirm = {"username": "mallory", "key_id": second.key_id}
    confirm_seq = log.append(
        _event("mallory", signing.KEY_CONFIRM, confirm), key_files.load_key("mallory")
    )
    found = log.verify()
    assert _signature_findings(found, confirm_seq) == [
        "a key confirmation by 'mallory', who is not an admin"
    ]


def test_a_forged_grant_of_admin_does_not_let_its_beneficiary_confirm_keys(log: Log) -> None:
    """Mallory forges the admin's change giving herself admin (signed with her own key,
    a finding), then confirms a second key of hers as an admin would: the confirmation
    does not count either, since the forged grant made nobody an admin."""
    grant = {
        "username": "mallory",
        "display_name": "Mallory",
        "roles": ["admin", "business_unit"],
        "agency": None,
    }
    mallory = key_files.load_key("mallory")
    grant_seq = log.append(_event("admin", "user_change", grant), mallory)
    second = Signer.generate()
    log.append(_enrolment("mallory", second), second)
    confirm = {"username": "mallory", "key_id": second.key_id}
    confirm_seq = log.append(_event("mallory", signing.KEY_CONFIRM, confirm), mallory)
    found = log.verify()
    assert _signature_findings(found, grant_seq)
    assert _signature_findings(found, confirm_seq) == [
        "a key confirmation by 'mallory', who is not an admin"
    ]


def test_swapped_signatures_are_named(log: Log) -> None:
    from tests.conftest import run_sql, unprotected

    rows = run_sql(log.url, "SELECT seq, signature FROM events ORDER BY seq DESC LIMIT 2")
    (last, sig_last), (before, sig_before) = rows
    unprotected(
        log.url,
        f"UPDATE events SET signature = '{sig_before}' WHERE seq = {last}",
        f"UPDATE events SET signature = '{sig_last}' WHERE seq = {before}",
    )
    found = log.verify()
    for seq in (before, last):
        assert [m for m in _signature_findings(found, seq) if "signature is not key" in m]


def test_events_signed_with_a_revoked_key_after_its_revocation_are_named(log: Log) -> None:
    mallory = key_files.load_key("mallory")
    assert mallory is not None
    admin = log.ctx("admin")
    try:
        keys.revoke(admin, "mallory", mallory.key_id)
    finally:
        admin.close()
    assert log.verify() == []  # the revocation is a proper event
    seq = log.append(_event("mallory", "user_change", {}), mallory)
    assert [m for m in _signature_findings(log.verify(), seq) if "revoked at event" in m]


def test_a_user_without_a_confirmed_key_is_refused_with_the_step_to_take(log: Log) -> None:
    """Through casereview itself: a user whose key is not enrolled, then not confirmed,
    is refused with the one command that is missing, and nothing is written."""
    from casereview.cli.messages import wording
    from casereview.errors import ExitCode, Refused
    from tests.conftest import snapshot

    admin = log.ctx("admin")
    newbie = log.ctx("newbie")
    try:
        users.add_user(admin, "newbie", "Newbie", ["business_unit"], None)
        before = snapshot(log.url)
        with pytest.raises(Refused) as refused:
            cases.open_case(newbie, "2025-002", aware_on=DAY, fields={"nature": "death"}, on=DAY)
        assert refused.value.exit_code == ExitCode.REFUSED
        assert wording(refused.value) == (
            "account 'newbie' has no signing key on this machine: run 'casereview key enrol'"
        )
        assert snapshot(log.url) == before
        enrolled = keys.enrol(newbie)
        assert not enrolled.confirmed
        before = snapshot(log.url)
        with pytest.raises(Refused) as refused:
            cases.open_case(newbie, "2025-002", aware_on=DAY, fields={"nature": "death"}, on=DAY)
        assert wording(refused.value) == (
            f"signing key {enrolled.key_id} of 'newbie' is not confirmed yet: an admin must "
            f"run 'casereview key confirm newbie {enrolled.key_id}'"
        )
        assert snapshot(log.url) == before
        keys.confirm(admin, "newbie", enrolled.key_id)
        cases.open_case(newbie, "2025-002", aware_on=DAY, fields={"nature": "death"}, on=DAY)
    finally:
        admin.close()
        newbie.close()
    assert log.verify() == []
