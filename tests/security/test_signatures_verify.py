"""Re-verification of signatures is incremental from a trusted point: the record a clean
`audit verify` leaves in the verifying account's private folder. The next verification
checks only newer signatures, refuses a record the log no longer agrees with, and
`--full` checks everything again. Through the command line: a user without a confirmed
key is refused in one line (exit 4, nothing written), and `key` commands answer.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from casereview.infra import identity
from casereview.infra import keys as key_files
from casereview.infra.now import FixedClock
from casereview.services import audit, cases, users
from casereview.services.context import ServiceContext
from tests.conftest import enrol_keys, run_sql, snapshot, unprotected

DAY = dt.date(2025, 3, 3)


@pytest.fixture
def url(database_url: str) -> Iterator[str]:
    clock = FixedClock(DAY)
    admin = ServiceContext(url=database_url, account="admin", clock=clock)
    try:
        users.init(admin)
        users.add_user(admin, "bu", "Bu", ["business_unit"], None)
        users.add_user(admin, "scrut", "Scrut", ["scrutineer"], None)
        enrol_keys(database_url, "bu", "scrut", clock=clock)
        bu = ServiceContext(url=database_url, account="bu", clock=clock)
        try:
            for ref in ("V-1", "V-2"):
                cases.open_case(bu, ref, aware_on=DAY, fields={"nature": "death"}, on=DAY)
        finally:
            bu.close()
    finally:
        admin.close()
    yield database_url


def _verify(url: str, *, full: bool = False) -> audit.VerifyReport:
    ctx = ServiceContext(url=url, account="scrut", clock=FixedClock(DAY))
    try:
        return audit.verify(ctx, jobs=1, full=full)
    finally:
        ctx.close()


def _head(url: str) -> int:
    return int(run_sql(url, "SELECT MAX(seq) FROM events")[0][0])


def test_a_second_verification_checks_only_the_newer_signatures(url: str) -> None:
    first = _verify(url)
    assert first.ok
    head = _head(url)
    assert first.signatures.checked == head - 1  # all but the admin's user_add (unsigned)
    assert first.signatures.already_checked_through == 0
    bu = ServiceContext(url=url, account="bu", clock=FixedClock(DAY))
    try:
        cases.open_case(bu, "V-3", aware_on=DAY, fields={"nature": "death"}, on=DAY)
    finally:
        bu.close()
    second = _verify(url)
    assert second.ok
    assert second.signatures.already_checked_through == head
    assert second.signatures.checked == 1
    full = _verify(url, full=True)
    assert full.ok and full.signatures.checked == head and full.signatures.full


def test_the_record_is_private_to_the_verifying_account(url: str) -> None:
    assert _verify(url).ok
    log_id = run_sql(url, "SELECT entry_hash FROM events WHERE seq = 1")[0][0]
    record = Path(os.environ["CASEREVIEW_KEY_DIR"]) / "verified" / f"{log_id}.json"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    assert stat.S_IMODE(record.parent.stat().st_mode) == 0o700
    assert json.loads(record.read_text())["seq"] == _head(url)
    record.chmod(0o644)
    with pytest.raises(key_files.KeyFileError, match="can be read or written by other"):
        _verify(url)


def test_a_verification_with_findings_leaves_no_record(url: str) -> None:
    before = _head(url)
    unprotected(url, f"UPDATE events SET signature = NULL WHERE seq = {before}")
    report = _verify(url)
    assert [f.seq for f in report.findings if f.check == "signature"] == [before]
    assert not (Path(os.environ["CASEREVIEW_KEY_DIR"]) / "verified").exists()


def test_a_log_that_no_longer_agrees_with_the_record_is_checked_in_full(url: str) -> None:
    """Another log begun with the same first event, or an older copy restored: the event
    the record names does not have the hash it had, so nothing is taken from the record."""
    assert _verify(url).ok
    log_id = run_sql(url, "SELECT entry_hash FROM events WHERE seq = 1")[0][0]
    record = Path(os.environ["CASEREVIEW_KEY_DIR"]) / "verified" / f"{log_id}.json"
    data = json.loads(record.read_text())
    record.write_text(json.dumps({**data, "entry_hash": "0" * 64}))
    unprotected(url, "UPDATE events SET signature = NULL WHERE seq = 3")
    again = _verify(url)
    assert again.signatures.already_checked_through == 0
    assert again.signatures.checked == _head(url) - 1
    assert [f.seq for f in again.findings if f.check == "signature"] == [3]


def test_an_old_signature_changed_after_verification_is_found_by_a_full_check(url: str) -> None:
    """What incremental verification trusts, said by a test: an event's content cannot
    change under the chain, but its signature (outside the chain) is re-checked only by
    `--full`."""
    assert _verify(url).ok
    sig = run_sql(url, "SELECT signature FROM events WHERE seq = 3")[0][0]
    unprotected(url, f"UPDATE events SET signature = '{sig}' WHERE seq = 4")
    assert _verify(url).ok
    full = _verify(url, full=True)
    assert [f.seq for f in full.findings if f.check == "signature"] == [4]


@pytest.mark.sqlite_only
def test_the_command_line_refuses_a_write_without_a_confirmed_key(cli, url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    admin = ServiceContext(url=url, account="admin", clock=FixedClock(DAY))
    try:
        users.add_user(admin, "newbie", "Newbie", ["business_unit"], None)
    finally:
        admin.close()
    monkeypatch.setattr(identity, "os_account", lambda: "newbie")
    before = snapshot(url)
    opened = cli("case", "open", "V-9", "--aware-on", DAY.isoformat(), "--db", url)
    assert opened.exit_code == 4
    assert opened.stderr == (
        "Error: account 'newbie' has no signing key on this machine: run 'casereview key enrol'\n"
    )
    assert snapshot(url) == before
    enrolled = cli("key", "enrol", "--db", url)
    assert enrolled.exit_code == 0, enrolled.stderr
    (key,) = [k for k in json.loads(cli("key", "list", "--json", "--db", url).stdout) if k["yours"]]
    assert key["state"] == "unconfirmed" and key["username"] == "newbie"
    assert f"casereview key confirm newbie {key['key_id']}" in enrolled.stderr
    before = snapshot(url)
    opened = cli("case", "open", "V-9", "--aware-on", DAY.isoformat(), "--db", url)
    assert opened.exit_code == 4
    assert opened.stderr.count("\n") == 1 and "key confirm newbie" in opened.stderr
    assert snapshot(url) == before
    monkeypatch.setattr(identity, "os_account", lambda: "admin")
    assert cli("key", "confirm", "newbie", key["key_id"], "--db", url).exit_code == 0
    monkeypatch.setattr(identity, "os_account", lambda: "newbie")
    opened = cli("case", "open", "V-9", "--aware-on", DAY.isoformat(), "--db", url)
    assert opened.exit_code == 0, opened.stderr
