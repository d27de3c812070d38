"""Signing keys on disk and on the command line: a key file is the recorder's alone
(0600 in a 0700 folder, created on first use), anything another account could read or
that is not this account's own is refused; `key enrol|confirm|list|revoke` and `init`
do what docs/audit.md says."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from casereview.errors import Refused
from casereview.infra import keys as key_files

pytestmark = pytest.mark.sqlite_only  # the CLI's own account; files on this machine


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_key_is_created_private_on_first_use(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    signer, created = key_files.load_or_create_key("alice", folder)
    assert created
    assert _mode(folder) == 0o700
    assert _mode(folder / "alice.key") == 0o600
    again, created_again = key_files.load_or_create_key("alice", folder)
    assert not created_again and again == signer


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_others_can_read_or_write_is_refused(tmp_path: Path, mode: int) -> None:
    folder = tmp_path / "keys"
    key_files.create_key("alice", folder)
    (folder / "alice.key").chmod(mode)
    with pytest.raises(Refused, match="can be read or written by other accounts"):
        key_files.load_key("alice", folder)


def test_a_key_folder_others_can_enter_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    key_files.create_key("alice", folder)
    folder.chmod(0o755)
    with pytest.raises(Refused, match="folder"):
        key_files.load_key("alice", folder)


def test_a_key_file_that_is_a_link_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    key_files.create_key("bob", folder)
    (folder / "alice.key").symlink_to(folder / "bob.key")
    with pytest.raises(Refused, match="symbolic link"):
        key_files.load_key("alice", folder)


@pytest.mark.skipif(os.getuid() != 0, reason="changing a file's owner needs root")
def test_a_key_file_owned_by_another_account_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    key_files.create_key("alice", folder)
    os.chown(folder / "alice.key", 12345, 12345)
    with pytest.raises(Refused, match="belongs to another account"):
        key_files.load_key("alice", folder)


def test_a_key_file_that_holds_no_key_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    key_files.create_key("alice", folder)
    (folder / "alice.key").write_bytes(b"not a key")
    with pytest.raises(Refused, match="does not hold an Ed25519 key"):
        key_files.load_key("alice", folder)


def test_init_enrols_the_first_admin_and_the_log_verifies(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "c.db")
    assert cli("init", "--db", db).exit_code == 0
    listed = cli("key", "list", "--db", db, "--json")
    assert listed.exit_code == 0, listed.stderr
    (key,) = json.loads(listed.stdout)
    assert key["state"] == "confirmed" and key["confirmed_by"] is None and key["yours"]
    assert key["enrolled_seq"] == 2  # after the admin's user_add
    key_file = Path(os.environ["CASEREVIEW_KEY_DIR"]) / f"{key['username']}.key"
    assert _mode(key_file) == 0o600
    verified = cli("audit", "verify", "--db", db, "--json")
    assert verified.exit_code == 0, verified.stdout
    signatures = json.loads(verified.stdout)["signatures"]
    # Checked: the key's enrolment, then the six shipped workflow versions' installations.
    assert signatures["unsigned_history"] == 1 and signatures["checked"] == 1 + 6


def test_enrol_confirm_revoke_and_replace(database_url: str) -> None:
    import datetime as dt

    from casereview.cli.messages import wording
    from casereview.errors import Conflict
    from casereview.infra.now import FixedClock
    from casereview.services import audit, cases, keys, users
    from casereview.services.context import ServiceContext

    clock = FixedClock(dt.date(2025, 5, 1))
    admin = ServiceContext(url=database_url, account="admin", clock=clock)
    sam = ServiceContext(url=database_url, account="sam", clock=clock)
    try:
        users.init(admin)
        users.add_user(admin, "sam", "Sam", ["business_unit"], None)
        first = keys.enrol(sam)
        assert first.created and not first.confirmed
        with pytest.raises(Conflict) as again:
            keys.enrol(sam)
        assert wording(again.value).endswith("run 'casereview key enrol --replace'")
        with pytest.raises(Refused, match="only an admin can confirm keys"):
            keys.confirm(sam, "sam", first.key_id)
        keys.confirm(admin, "sam", first.key_id)
        users_view = {k.key_id: k for k in keys.list_keys(sam)}
        assert users_view[first.key_id].state == "confirmed"
        assert users_view[first.key_id].confirmed_by == "admin"
        keys.revoke(sam, None, None)  # your own key, from this machine
        assert {k.key_id: k.state for k in keys.list_keys(admin)}[first.key_id] == "revoked"
        with pytest.raises(Refused) as refused:
            cases.open_case(sam, "2025-001", aware_on=clock.today(), fields={"nature": "death"})
        assert "has no signing key on this machine" in wording(refused.value)
        second = keys.enrol(sam)
        assert second.created and second.key_id != first.key_id
        keys.confirm(admin, "sam", second.key_id)
        assert audit.verify(admin, jobs=1).ok
    finally:
        admin.close()
        sam.close()


def test_a_log_written_before_signatures_gets_its_first_key_from_an_admin(
    database_url: str,
) -> None:
    """A log whose events carry no signatures (as every log did before): its events are
    unsigned history, a non-admin cannot become its first key, an admin can."""
    import datetime as dt

    from casereview.infra.now import FixedClock
    from casereview.services import audit, keys
    from casereview.services.context import ServiceContext
    from casereview.services.users import admin_event
    from casereview.store import event_log
    from casereview.store import users as user_rows

    clock = FixedClock(dt.date(2025, 5, 1))
    admin = ServiceContext(url=database_url, account="admin", clock=clock)
    sam = ServiceContext(url=database_url, account="sam", clock=clock)
    try:
        with admin.db(create=True).unit_of_work() as uow:
            for name, roles in (("admin", ["admin"]), ("sam", ["business_unit"])):
                fields = {"username": name, "display_name": name, "roles": roles, "agency": None}
                appended = event_log.append_event(
                    uow.conn, admin_event(admin, "user_add", fields), None, None
                )
                user_rows.upsert_user(
                    uow.conn,
                    username=name,
                    display_name=name,
                    roles=roles,
                    agency=None,
                    active=True,
                    seq=appended.seq,
                )
            uow.commit()
        report = audit.verify(admin, jobs=1)
        assert report.ok and report.signatures.unsigned_history == 2
        with pytest.raises(Refused, match="first signing key of this log must be an admin's"):
            keys.enrol(sam)
        assert keys.enrol(admin).confirmed
        report = audit.verify(admin, jobs=1, full=True)
        assert report.ok and report.signatures.unsigned_history == 2
        assert report.signatures.checked == 1
    finally:
        admin.close()
        sam.close()
