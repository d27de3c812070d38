"""Who may open a SQLite database file: a new database and the `-wal` and `-shm` files
SQLite keeps beside it are their owner's alone (0600), whatever the umask, or the
owner's and one group's (0660) with `init --group GROUP`; a group the caller is not in
is refused. Exports and checkpoints are written 0600.

The tests that need a second account (another uid reading, or being kept out) start
casereview as that account, which only root can do; elsewhere they are skipped.
"""

from __future__ import annotations

import grp
import os
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from casereview.infra.now import FixedClock
from casereview.services import cases, users
from casereview.services.context import ServiceContext
from tests.conftest import Cli, CliResult
from tests.security.conftest import TODAY, days_ago

pytestmark = pytest.mark.sqlite_only

AS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as a second account")
OTHER_UID = 65534  # nobody


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def shared_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory every account may enter (pytest's own are root's alone)."""
    import tempfile

    where = Path(tempfile.mkdtemp(prefix="casereview-perm-"))
    where.chmod(0o777)
    yield where
    import shutil

    shutil.rmtree(where, ignore_errors=True)


def my_group() -> str:
    return grp.getgrgid(os.getegid()).gr_name


def write_once(db: Path) -> None:
    """One write through casereview, keeping a connection open so the -wal and -shm
    files still exist when the test looks."""
    me = ServiceContext(url=f"sqlite:///{db}", account=_account(), clock=FixedClock(TODAY))
    try:
        cases.open_case(me, "P-1", aware_on=days_ago(3), fields={"nature": "death"})
    finally:
        me.close()


def _account() -> str:
    from casereview.infra.identity import os_account

    return os_account()


def companions(db: Path) -> list[Path]:
    return [db.with_name(db.name + s) for s in ("-wal", "-shm")]


def _init(cli: Cli, db: Path, *extra: str) -> None:
    result = cli("init", "--db", str(db), *extra)
    assert result.exit_code == 0, result.stderr
    me = ServiceContext(url=f"sqlite:///{db}", account=_account(), clock=FixedClock(TODAY))
    try:
        for role in ("business_unit", "chair"):
            users.grant_role(me, _account(), role, None)
    finally:
        me.close()


@pytest.mark.usefixtures("umask_022")
def test_a_new_database_and_its_wal_and_shm_are_the_owners_alone(cli: Cli, tmp_path: Path) -> None:
    db = tmp_path / "new" / "casereview.db"
    _init(cli, db)
    assert mode(db) == 0o600
    assert mode(db.parent) == 0o700  # the directory init made for it
    conn = sqlite3.connect(db)  # holds the -wal and -shm open while casereview writes
    try:
        conn.execute("SELECT COUNT(*) FROM events").fetchone()
        write_once(db)
        for file in companions(db):
            assert file.exists(), file
            assert mode(file) == 0o600, file
    finally:
        conn.close()


def test_a_shared_database_and_its_wal_and_shm_carry_the_group(cli: Cli, tmp_path: Path) -> None:
    db = tmp_path / "casereview.db"
    _init(cli, db, "--group", my_group())
    assert mode(db) == 0o660
    assert db.stat().st_gid == os.getegid()
    conn = sqlite3.connect(db)
    try:
        conn.execute("SELECT COUNT(*) FROM events").fetchone()
        write_once(db)
        for file in companions(db):
            assert mode(file) == 0o660, file
            assert file.stat().st_gid == os.getegid(), file
    finally:
        conn.close()


def test_init_group_on_an_existing_database_shares_it(cli: Cli, tmp_path: Path) -> None:
    db = tmp_path / "casereview.db"
    _init(cli, db)
    assert mode(db) == 0o600
    result = cli("init", "--db", str(db), "--group", my_group())
    assert result.exit_code == 0, result.stderr
    assert mode(db) == 0o660


def test_a_group_the_caller_is_not_in_is_refused_and_nothing_is_created(
    cli: Cli, tmp_path: Path
) -> None:
    mine = set(os.getgroups()) | {os.getegid()}
    other = next((g for g in grp.getgrall() if g.gr_gid not in mine), None)
    if other is None:
        pytest.skip("this account is in every group")
    db = tmp_path / "casereview.db"
    result = cli("init", "--db", str(db), "--group", other.gr_name)
    assert result.exit_code == 4, result.stderr
    assert result.stderr.startswith("Error: you are not a member of the group")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not db.exists()


def test_an_unknown_group_is_bad_input(cli: Cli, tmp_path: Path) -> None:
    db = tmp_path / "casereview.db"
    result = cli("init", "--db", str(db), "--group", "no-such-group-here")
    assert result.exit_code == 2, result.stderr
    assert "there is no group 'no-such-group-here'" in result.stderr
    assert not db.exists()


def test_a_group_is_for_a_database_file_not_a_server() -> None:
    from casereview.errors import InvalidInput

    # Refused before any connection: no server needs to be there.
    server = ServiceContext(url="postgresql://nobody@127.0.0.1:1/none", account="nobody")
    with pytest.raises(InvalidInput) as refused:
        users.init(server, None, my_group())
    assert refused.value.exit_code == 2
    assert "is for a database file" in str(refused.value)


@pytest.mark.usefixtures("umask_022")
def test_exports_and_checkpoints_are_written_0600(cli: Cli, tmp_path: Path) -> None:
    db = tmp_path / "casereview.db"
    _init(cli, db)
    write_once(db)
    log = tmp_path / "log.json"
    assert cli("log", "export", "--db", str(db), "--output", str(log)).exit_code == 0
    assert mode(log) == 0o600
    ics = tmp_path / "feed.ics"
    assert cli("calendar", "export", "--db", str(db), "--output", str(ics)).exit_code == 0
    assert mode(ics) == 0o600
    report = tmp_path / "report.html"
    result = cli("report", "--db", str(db), "--output", str(report))
    assert result.exit_code == 0, result.stderr
    assert mode(report) == 0o600
    point = tmp_path / "checkpoint.json"
    result = cli("audit", "checkpoint", "--db", str(db), "--output", str(point))
    assert result.exit_code == 0, result.stderr
    assert mode(point) == 0o600
    # Replacing a file that was readable by others leaves it 0600 too.
    log.chmod(0o644)
    assert cli("log", "export", "--db", str(db), "--output", str(log), "--force").exit_code == 0
    assert mode(log) == 0o600


# -- a second account ---------------------------------------------------------------------
#
# The interpreter lives where only root may look, so the second account cannot start it;
# instead the test process takes the second account's effective user and groups for the
# one command (file access is decided by those), and gives them back after. The command
# is run once as root first, so that every module it imports is loaded already.


@contextmanager
def acting_as(uid: int, groups: list[int]) -> Iterator[None]:
    saved = os.getgroups()
    os.setgroups(groups)
    os.setegid(uid)
    os.seteuid(uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
        os.setgroups(saved)


def spare_group() -> int:
    """An existing group other than root's and the second account's own, to share with."""
    for group in grp.getgrall():
        if group.gr_gid not in (0, OTHER_UID, os.getegid()):
            return group.gr_gid
    pytest.skip("no group on this machine to share a database with")


def as_other(cli: Cli, args: list[str], *, groups: list[int] | None = None) -> CliResult:
    """casereview run with the file access of uid 65534 (nobody) in `groups`."""
    cli(*args)  # load every module it needs
    with acting_as(OTHER_UID, groups or []):
        return cli(*args)


@AS_ROOT
def test_another_account_cannot_read_an_owner_only_database(cli: Cli, shared_dir: Path) -> None:
    db = shared_dir / "casereview.db"
    _init(cli, db)
    write_once(db)
    result = as_other(cli, ["case", "list", "--db", str(db)])
    assert result.exit_code == 1, result.stderr
    assert result.stderr.startswith("Error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "P-1" not in result.stdout


@AS_ROOT
def test_a_member_of_the_group_reads_and_leaves_wal_and_shm_usable_by_the_group(
    cli: Cli, shared_dir: Path
) -> None:
    gid = spare_group()  # a group this test gives the second account
    db = shared_dir / "casereview.db"
    _init(cli, db, "--group", my_group())
    os.chown(db, -1, gid)  # as if created with --group src by a member of it
    write_once(db)
    for file in companions(db):
        assert not file.exists()  # the last connection removed them
    from casereview.store.database import Database

    with acting_as(OTHER_UID, [gid]):
        opened = Database.open(f"sqlite:///{db}")
        try:
            with opened.reading():
                seen = {file.name[-4:]: file.stat() for file in companions(db)}
        finally:
            opened.dispose()
    for suffix in ("-wal", "-shm"):
        # Created by the second account, whose own group is not the database's.
        assert seen[suffix].st_uid == OTHER_UID
        assert seen[suffix].st_gid == gid
        assert stat.S_IMODE(seen[suffix].st_mode) == 0o660
    listed = as_other(cli, ["case", "list", "--db", str(db)], groups=[gid])
    assert listed.exit_code == 0, listed.stderr
    assert "P-1" in listed.stdout


@AS_ROOT
def test_read_only_access_to_the_file_is_not_enough_but_a_copy_of_ones_own_is(
    cli: Cli, shared_dir: Path
) -> None:
    """What docs/deployment.md says a reader who must not write the file needs."""
    gid = spare_group()
    area = shared_dir / "area"
    db = area / "casereview.db"
    _init(cli, db)
    write_once(db)
    os.chown(area, -1, gid)
    area.chmod(0o750)  # the group may look in the folder, not make files in it
    os.chown(db, -1, gid)
    db.chmod(0o640)  # and read the database file, not write it
    refused = as_other(cli, ["case", "list", "--db", str(db)], groups=[gid])
    assert refused.exit_code == 1, refused.stderr
    assert refused.stderr.startswith("Error: ")
    assert len(refused.stderr.strip().splitlines()) == 1
    # A consistent copy made by the owner with SQLite's backup, handed over read-only;
    # the reader copies it to a file of their own and reads that.
    handed = area / "handover.db"
    source = sqlite3.connect(db)
    target = sqlite3.connect(handed)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    os.chown(handed, -1, gid)
    handed.chmod(0o640)
    home = shared_dir / "reader"
    home.mkdir()
    os.chown(home, OTHER_UID, OTHER_UID)
    copied = subprocess.run(
        ["cp", str(handed), str(home / "copy.db")],
        user=OTHER_UID,
        group=OTHER_UID,
        extra_groups=[gid],
        capture_output=True,
        check=False,
    )
    assert copied.returncode == 0, copied.stderr
    listed = as_other(cli, ["case", "list", "--db", str(home / "copy.db")])
    assert listed.exit_code == 0, listed.stderr
    assert "P-1" in listed.stdout
