"""Signing keys held by a server for the people signed in to it (#22, item 4, shared mode).

Each person's key is held encrypted (AES-256-GCM under a key-encryption key in a file
only the server's account may read, the username as associated data), enrolled and
confirmed like any other key, used only for its own person, and every signature it
makes is a line of the use log.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from casereview.errors import ExitCode, Refused
from casereview.infra.keys import KeyFileError
from casereview.infra.now import FixedClock
from casereview.infra.server_keys import (
    FOLDER_ENV,
    KEK_FILE_ENV,
    USE_LOG,
    ServerKeyError,
    ServerKeys,
)
from casereview.services import audit, cases, keys, users
from casereview.services.context import ServiceContext
from tests.conftest import run_sql

TODAY = dt.date(2026, 3, 2)


def _kek_file(path: Path, mode: int = 0o600) -> Path:
    path.write_text(os.urandom(32).hex() + "\n")
    path.chmod(mode)
    return path


@dataclass
class Setup:
    url: str
    admin: str
    folder: Path
    kek: Path

    def held(self, kek: Path | None = None) -> ServerKeys:
        os.environ[KEK_FILE_ENV] = str(kek or self.kek)
        return ServerKeys.from_environment(self.folder)

    def ctx(self, name: str, kek: Path | None = None) -> ServiceContext:
        return ServiceContext(
            url=self.url, account=name, clock=FixedClock(TODAY), server_keys=self.held(kek)
        )

    def events(self) -> list[tuple[int, str, str, str | None]]:
        rows = run_sql(self.url, "SELECT seq, entry_hash, actor, key_id FROM events ORDER BY seq")
        return [(int(s), str(h), str(a), k) for s, h, a, k in rows]

    def log(self) -> list[dict[str, object]]:
        path = self.folder / USE_LOG
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def setup(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    monkeypatch.setenv(KEK_FILE_ENV, "")
    owner = ServiceContext.from_options(database_url)
    owner.clock = FixedClock(TODAY)
    try:
        users.init(owner)
        users.add_user(owner, "alice", "Alice", ["business_unit"], None)
        users.add_user(owner, "bob", "Bob", ["business_unit"], None)
    finally:
        owner.close()
    folder = tmp_path / "held"
    yield Setup(database_url, owner.account, folder, _kek_file(tmp_path / "kek"))


def _enrolled(setup: Setup, name: str) -> str:
    """`name` enrols a key the server holds, and the admin confirms it (as for any key)."""
    me = setup.ctx(name)
    result = keys.enrol(me)
    me.close()
    admin = ServiceContext(url=setup.url, account=setup.admin, clock=FixedClock(TODAY))
    keys.confirm(admin, name, result.key_id)
    admin.close()
    return result.key_id


def test_a_held_key_is_enrolled_confirmed_and_signs_with_a_log_line_per_event(setup):
    kid = _enrolled(setup, "alice")
    file = setup.folder / "alice.key.enc"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(setup.folder.stat().st_mode) == 0o700
    assert b"PRIVATE KEY" not in file.read_bytes()

    alice = setup.ctx("alice")
    cases.open_case(alice, "K-001", aware_on=dt.date(2026, 2, 23), fields={"nature": "death"})
    cases.advance(alice, "K-001", "add_note", fields={"note": "chronology"})
    alice.close()

    signed_by_alice = [(s, h) for s, h, actor, k in setup.events() if actor == "alice"]
    assert all(k == kid for _s, _h, actor, k in setup.events() if actor == "alice")
    assert len(signed_by_alice) >= 3  # the enrolment, the opening, the note
    lines = setup.log()
    assert [(line["seq"], line["entry_hash"]) for line in lines] == signed_by_alice
    assert {(line["username"], line["key_id"]) for line in lines} == {("alice", kid)}
    assert all(str(line["at"]).endswith("Z") for line in lines)
    assert stat.S_IMODE((setup.folder / USE_LOG).stat().st_mode) == 0o600
    # The events signed with a held key verify like any other.
    admin = ServiceContext(url=setup.url, account=setup.admin, clock=FixedClock(TODAY))
    assert audit.verify(admin).ok
    admin.close()


def test_a_held_key_is_used_only_for_its_own_person(setup):
    _enrolled(setup, "alice")
    # Bob holds no key: Alice's is not his, and nothing is written.
    before = setup.events()
    bob = setup.ctx("bob")
    with pytest.raises(Refused, match="'bob' has no signing key"):
        cases.open_case(bob, "K-002", aware_on=dt.date(2026, 2, 23), fields={"nature": "death"})
    assert setup.events() == before
    # Alice's file under Bob's name does not decrypt: the username is bound into it.
    (setup.folder / "alice.key.enc").rename(setup.folder / "bob.key.enc")
    with pytest.raises(ServerKeyError, match="does not decrypt for 'bob'"):
        cases.open_case(bob, "K-002", aware_on=dt.date(2026, 2, 23), fields={"nature": "death"})
    assert setup.events() == before
    assert not any(line["username"] == "bob" for line in setup.log())


def test_a_wrong_key_encryption_key_is_refused_with_one_clear_error(setup, tmp_path):
    _enrolled(setup, "alice")
    before, lines = setup.events(), len(setup.log())
    other = setup.ctx("alice", kek=_kek_file(tmp_path / "other-kek"))
    with pytest.raises(ServerKeyError) as refused:
        cases.open_case(other, "K-003", aware_on=dt.date(2026, 2, 23), fields={"nature": "death"})
    assert refused.value.exit_code == ExitCode.REFUSED
    assert "\n" not in str(refused.value)
    assert "encrypted under another key-encryption key" in str(refused.value)
    assert setup.events() == before and len(setup.log()) == lines


@pytest.mark.parametrize("where", [-1, -20, 40, 30])
def test_a_tampered_key_file_is_refused(setup, where):
    _enrolled(setup, "alice")
    file = setup.folder / "alice.key.enc"
    data = bytearray(file.read_bytes())
    data[where] ^= 0x01
    file.write_bytes(bytes(data))
    before = setup.events()
    with pytest.raises(ServerKeyError, match=r"altered|another key-encryption key"):
        cases.open_case(
            setup.ctx("alice"), "K-004", aware_on=dt.date(2026, 2, 23), fields={"nature": "death"}
        )
    assert setup.events() == before


def test_the_key_encryption_key_file_must_be_the_server_accounts_alone(setup, tmp_path):
    with pytest.raises(KeyFileError, match="no key-encryption key"):
        ServerKeys.from_environment(setup.folder)
    loose = _kek_file(tmp_path / "loose", mode=0o640)
    with pytest.raises(KeyFileError, match="can be read or written by other accounts"):
        setup.held(loose)
    if os.geteuid() == 0:
        foreign = _kek_file(tmp_path / "foreign")
        os.chown(foreign, 65534, 65534)
        with pytest.raises(KeyFileError, match="belongs to another account"):
            setup.held(foreign)
    short = tmp_path / "short"
    short.write_text("abcd\n")
    short.chmod(0o600)
    with pytest.raises(KeyFileError, match="64 hexadecimal characters"):
        setup.held(short)
    link = tmp_path / "link"
    link.symlink_to(setup.kek)
    with pytest.raises(KeyFileError, match="symbolic link"):
        setup.held(link)


def test_held_key_files_the_folder_and_the_log_must_be_private(setup, monkeypatch):
    _enrolled(setup, "alice")
    file = setup.folder / "alice.key.enc"
    alice = setup.ctx("alice")
    for path, loose, fixed in ((setup.folder, 0o750, 0o700), (file, 0o640, 0o600)):
        path.chmod(loose)
        with pytest.raises(KeyFileError, match="other accounts"):
            alice.own_key()
        path.chmod(fixed)
    log = setup.folder / USE_LOG
    log.chmod(0o644)
    before = setup.events()
    with pytest.raises(KeyFileError, match="other accounts"):
        cases.open_case(alice, "K-005", aware_on=dt.date(2026, 2, 23), fields={"nature": "death"})
    assert setup.events() == before
    # The folder may also come from the environment.
    monkeypatch.setenv(FOLDER_ENV, str(setup.folder))
    monkeypatch.setenv(KEK_FILE_ENV, str(setup.kek))
    assert ServerKeys.from_environment().folder == setup.folder
