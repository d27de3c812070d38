"""Backups and restores of a SQLite database: each copy checked before it counts.

The files are real SQLite files; a tampered, shortened or damaged backup is made the
way an attacker or a failing disk would make it, and a restore must refuse it without
touching the database it would have replaced.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import stat
from pathlib import Path

import pytest

from casereview.errors import Conflict, InvalidInput, NotFound, Refused, VerificationFailed
from casereview.infra.now import FixedClock
from casereview.services import audit, backup, cases, users
from casereview.services.context import ServiceContext
from casereview.store.errors import StoreError
from tests.conftest import BACKEND, enrol_keys, run_sql, snapshot, unprotected

PEOPLE = {
    "bu": (["business_unit"], None),
    "police": (["partner"], "police"),
    "scrut": (["scrutineer"], None),
}


class Place:
    """A live database file in a folder, and the people who use it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "live.db"
        self.url = f"sqlite:///{self.path}"
        self.clock = FixedClock(dt.date(2025, 3, 3))
        self._contexts: list[ServiceContext] = []

    def as_(self, account: str, url: str | None = None) -> ServiceContext:
        ctx = ServiceContext(url=url or self.url, account=account, clock=self.clock)
        self._contexts.append(ctx)
        return ctx

    def close(self) -> None:
        for ctx in self._contexts:
            ctx.close()


@pytest.fixture
def place(tmp_path: Path):
    p = Place(tmp_path)
    users.init(p.as_("admin"))
    for name, (roles, agency) in PEOPLE.items():
        users.add_user(p.as_("admin"), name, name.title(), roles, agency)
    enrol_keys(p.as_("admin").url, *PEOPLE, clock=p.as_("admin").clock)
    for n in (1, 2):
        cases.open_case(
            p.as_("bu"), f"2025-00{n}", aware_on=dt.date(2025, 3, 3), fields={"nature": "death"}
        )
    yield p
    p.close()


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


def test_a_backup_is_a_verified_copy_with_its_checkpoint_beside_it(place):
    dest = place.folder / "copy.db"
    result = backup.take_backup(place.as_("bu"), dest)
    assert result.report.ok
    assert result.report.cases == 2
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert snapshot(url_of(dest)) == snapshot(place.url)
    saved = json.loads(result.checkpoint_path.read_text())
    assert result.checkpoint_path == place.folder / "copy.db.checkpoint.json"
    assert saved["event_count"] == result.report.events
    assert saved["head_hash"] == result.report.head_hash
    # The copy verifies against its own checkpoint as a scrutineer would check it.
    again = audit.verify(place.as_("scrut", url_of(dest)), checkpoint_file=result.checkpoint_path)
    assert again.ok and again.checkpoint_used
    # Nothing but the backup and its checkpoint is left in the folder.
    assert sorted(p.name for p in place.folder.iterdir() if not p.name.startswith("live.db")) == [
        "copy.db",
        "copy.db.checkpoint.json",
    ]


@pytest.mark.parametrize("account", ["scrut", "police", "stranger"])
def test_only_an_admin_or_the_business_unit_may_take_a_backup(place, account):
    dest = place.folder / "copy.db"
    with pytest.raises(Refused):
        backup.take_backup(place.as_(account), dest)
    assert not dest.exists()
    assert not backup.checkpoint_beside(dest).exists()


def test_a_backup_never_replaces_a_file(place):
    dest = place.folder / "copy.db"
    dest.write_bytes(b"an earlier backup")
    with pytest.raises(Conflict):
        backup.take_backup(place.as_("bu"), dest)
    assert dest.read_bytes() == b"an earlier backup"
    with pytest.raises(NotFound):
        backup.take_backup(place.as_("bu"), place.folder / "no-such-folder" / "copy.db")


def test_an_existing_checkpoint_beside_the_backup_is_not_replaced(place):
    dest = place.folder / "copy.db"
    beside = backup.checkpoint_beside(dest)
    beside.write_text("kept")
    with pytest.raises(Conflict):
        backup.take_backup(place.as_("bu"), dest)
    assert beside.read_text() == "kept"
    assert not dest.exists()


def test_an_interrupted_backup_leaves_no_file_behind(place, monkeypatch):
    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(audit, "verify", fail)
    dest = place.folder / "copy.db"
    with pytest.raises(KeyboardInterrupt):
        backup.take_backup(place.as_("bu"), dest)
    assert sorted(p.name for p in place.folder.iterdir() if not p.name.startswith("live.db")) == []


def test_restore_keeps_the_permissions_of_the_file_it_replaces(place):
    dest = place.folder / "copy.db"
    backup.take_backup(place.as_("bu"), dest)
    place.path.chmod(0o640)
    backup.restore(place.as_("admin"), dest, replace=True)
    assert stat.S_IMODE(place.path.stat().st_mode) == 0o640


def test_a_backup_of_a_log_that_does_not_verify_is_kept_and_says_so(place):
    unprotected(place.url, "UPDATE events SET rationale = 'rewritten' WHERE seq = 3")
    dest = place.folder / "copy.db"
    result = backup.take_backup(place.as_("bu"), dest)
    assert not result.report.ok
    assert dest.exists() and result.checkpoint_path.exists()


def test_restore_into_a_new_file_gives_the_backup_back(place):
    dest = place.folder / "copy.db"
    backup.take_backup(place.as_("bu"), dest)
    target = place.folder / "restored.db"
    result = backup.restore(place.as_("admin", url_of(target)), dest)
    assert result.report.ok and result.report.checkpoint_used
    assert result.kept is None
    assert snapshot(url_of(target)) == snapshot(url_of(dest))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    # Checking the backup left nothing beside it.
    assert not Path(f"{dest}-wal").exists() and not Path(f"{dest}-shm").exists()


def test_restore_over_a_database_keeps_the_one_it_replaces(place):
    dest = place.folder / "copy.db"
    backup.take_backup(place.as_("bu"), dest)
    before_backup = snapshot(place.url)
    cases.open_case(
        place.as_("bu"), "2025-003", aware_on=dt.date(2025, 3, 3), fields={"nature": "death"}
    )
    latest = snapshot(place.url)
    with pytest.raises(Conflict):
        backup.restore(place.as_("admin"), dest)
    assert snapshot(place.url) == latest
    result = backup.restore(place.as_("admin"), dest, replace=True)
    assert snapshot(place.url) == before_backup
    assert result.kept is not None and result.kept.parent == place.folder
    assert snapshot(url_of(result.kept)) == latest
    assert audit.verify(place.as_("scrut")).ok


def test_a_tampered_backup_is_refused_and_nothing_changes(place):
    dest = place.folder / "copy.db"
    backup.take_backup(place.as_("bu"), dest)
    unprotected(url_of(dest), "UPDATE events SET rationale = 'rewritten' WHERE seq = 3")
    before = snapshot(place.url)
    with pytest.raises(VerificationFailed):
        backup.restore(place.as_("admin"), dest, replace=True)
    assert snapshot(place.url) == before
    target = place.folder / "restored.db"
    with pytest.raises(VerificationFailed):
        backup.restore(place.as_("admin", url_of(target)), dest)
    assert not target.exists()
    assert sorted(p.name for p in place.folder.iterdir() if "restore" in p.name) == []


def test_an_older_backup_under_a_newer_checkpoint_is_refused(place):
    older = place.folder / "older.db"
    backup.take_backup(place.as_("bu"), older)
    cases.open_case(
        place.as_("bu"), "2025-003", aware_on=dt.date(2025, 3, 3), fields={"nature": "death"}
    )
    newer = place.folder / "newer.db"
    backup.take_backup(place.as_("bu"), newer)
    # Someone swaps the newer backup for the older one, keeping the newer checkpoint.
    newer.unlink()
    older.rename(newer)
    target = place.folder / "restored.db"
    with pytest.raises(VerificationFailed):
        backup.restore(place.as_("admin", url_of(target)), newer)
    assert not target.exists()


def _with_an_action_plan(place: Place, monkeypatch) -> None:
    """A case with a recommendation, an action and an override, so that every table
    holds a row: an empty table's page has nothing to damage."""
    from casereview.services import actions, calendar_feeds
    from casereview.services import workflows as workflow_service
    from tests.actions_support import ACTIONS_DIR

    monkeypatch.setenv("CASEREVIEW_WORKFLOWS", str(ACTIONS_DIR))
    workflow_service.install(place.as_("admin"), "plan")
    users.add_user(place.as_("admin"), "chair", "Chair", ["chair"], None)
    users.add_user(place.as_("admin"), "unit", "Unit", ["business_unit"], None)
    enrol_keys(place.as_("admin").url, "chair", "unit", clock=place.clock)
    cases.open_case(place.as_("unit"), "P-1", aware_on=place.clock.today(), workflow="plan")
    chair = place.as_("chair")
    actions.record(chair, "P-1", "rec_add", {"number": "1", "text": "t", "source": "s",
                   "agencies": ["police"], "scope": "single"})  # fmt: skip
    actions.record(chair, "P-1", "action_add", {"action": "1.1", "rec": "1", "text": "t",
                   "agency": "police", "owner": "o", "due_on": "2025-06-30"})  # fmt: skip
    actions.record(chair, "P-1", "plan_override", {"trigger": "close"}, rationale="r")
    calendar_feeds.create(chair)  # a calendar subscription address


def test_a_backup_damaged_on_any_page_is_refused(place, monkeypatch):
    _with_an_action_plan(place, monkeypatch)
    dest = place.folder / "copy.db"
    backup.take_backup(place.as_("bu"), dest)
    good = dest.read_bytes()
    page = sqlite3.connect(dest).execute("PRAGMA page_size").fetchone()[0]
    pages = len(good) // page
    assert pages > 5
    target = place.folder / "restored.db"
    for number in range(1, pages):  # every page but the header's
        damaged = bytearray(good)
        damaged[number * page + 100 : (number + 1) * page] = b"\xff" * (page - 100)
        dest.write_bytes(bytes(damaged))
        with pytest.raises((StoreError, InvalidInput)) as caught:
            backup.restore(place.as_("admin", url_of(target)), dest)
        assert "\n" not in str(caught.value)
        assert not target.exists(), number
    assert [p.name for p in place.folder.iterdir() if p.name.startswith(".")] == []


def test_only_an_admin_may_restore(place):
    dest = place.folder / "copy.db"
    backup.take_backup(place.as_("bu"), dest)
    target = place.folder / "restored.db"
    with pytest.raises(Refused):
        backup.restore(place.as_("bu", url_of(target)), dest)
    assert not target.exists()
    before = snapshot(place.url)
    with pytest.raises(Refused):
        backup.restore(place.as_("bu"), dest, replace=True)
    assert snapshot(place.url) == before


def test_restore_refuses_what_is_not_a_backup(place):
    junk = place.folder / "junk.db"
    junk.write_bytes(b"not a database")
    target = place.folder / "restored.db"
    with pytest.raises(InvalidInput):
        backup.restore(place.as_("admin", url_of(target)), junk)
    with pytest.raises(NotFound):
        backup.restore(place.as_("admin", url_of(target)), place.folder / "missing.db")
    other = place.folder / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(InvalidInput):
        backup.restore(place.as_("admin", url_of(target)), other)
    assert not target.exists()


@pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL only")
def test_postgresql_is_backed_up_with_the_servers_tools(database_url, tmp_path):
    admin = ServiceContext(url=database_url, account="admin", clock=FixedClock(dt.date(2025, 3, 3)))
    users.init(admin)
    before = run_sql(database_url, "SELECT COUNT(*) FROM events")
    with pytest.raises(Refused, match="pg_dump"):
        backup.take_backup(admin, tmp_path / "copy.db")
    with pytest.raises(Refused, match="pg_dump"):
        backup.restore(admin, tmp_path / "copy.db")
    assert not (tmp_path / "copy.db").exists()
    assert run_sql(database_url, "SELECT COUNT(*) FROM events") == before
    admin.close()


@pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL only")
def test_the_documented_postgresql_backup_and_restore_verify(database_url, tmp_path):
    """docs/backup.md: checkpoint first, then pg_dump; pg_restore into a new database,
    then audit verify against the checkpoint before using it."""
    import shutil
    import subprocess
    import uuid

    from sqlalchemy.engine import make_url

    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump and pg_restore are not installed")
    clock = FixedClock(dt.date(2025, 3, 3))
    admin = ServiceContext(url=database_url, account="admin", clock=clock)
    users.init(admin)
    users.add_user(admin, "bu", "Bu", ["business_unit"], None)
    enrol_keys(database_url, "bu", clock=clock)
    bu = ServiceContext(url=database_url, account="bu", clock=clock)
    cases.open_case(bu, "2025-001", aware_on=dt.date(2025, 3, 3), fields={"nature": "death"})
    checkpoint_file = tmp_path / "casereview.checkpoint.json"
    checkpoint_file.write_text(audit.checkpoint(admin).to_json())
    libpq = make_url(database_url).set(drivername="postgresql")
    dump = tmp_path / "casereview.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={dump}", libpq.render_as_string(False)],
        check=True,
    )
    name = f"cr_{uuid.uuid4().hex[:16]}"
    run_sql(database_url, f"CREATE DATABASE {name}")
    restored = libpq.set(database=name)
    subprocess.run(
        ["pg_restore", f"--dbname={restored.render_as_string(False)}", str(dump)], check=True
    )
    restored_url = make_url(database_url).set(database=name).render_as_string(False)
    scrut = ServiceContext(url=restored_url, account="admin", clock=clock)
    try:
        report = audit.verify(scrut, checkpoint_file=checkpoint_file)
        assert report.ok and report.checkpoint_used and report.cases == 1
    finally:
        scrut.close()
        admin.close()
        bu.close()
        run_sql(database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
