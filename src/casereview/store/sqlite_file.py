"""What an existing SQLite file is, found without changing it, the pragmas every
connection to one gets (the storage rules in docs/storage.md), for both connection
paths, and who may open the file: a new database is created readable and writable by
its owner alone (0600), or by a group too (0660) when `init --group` names one, and the
files SQLite keeps beside it (`-wal`, `-shm`) follow the main file's group and mode
(docs/deployment.md, "One SQLite file on one machine: who may open it")."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from casereview.errors import Input, InvalidInput, NotFound, Refused, Step
from casereview.store.errors import StoreError

BUSY_TIMEOUT_MS = 10_000

PRAGMAS = (
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
)


def sqlite_file_kind(path: Path, *, in_use: bool = True) -> str:
    """What an existing file is: empty, foreign (not SQLite), other-app, or casereview.

    Looks before anything connects for real: a connection switches the file to WAL,
    which would turn an empty or foreign file into something it was not. A file not
    `in_use` (a backup) is read as immutable, so no `-wal` or `-shm` file appears
    beside it.
    """
    try:
        with path.open("rb") as handle:
            header = handle.read(16)
    except IsADirectoryError:
        raise InvalidInput(
            "{path} is a directory, not a database file; give the file's path", path=path
        ) from None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    if not header:
        return "empty"
    if header != b"SQLite format 3\x00":
        return "foreign"
    try:
        mode = "ro" if in_use else "ro&immutable=1"
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True)
        try:
            names = {
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return "foreign"
    if "schema_migrations" in names:
        return "casereview"
    return "other-app" if names else "empty"


def check_sqlite_file(path: Path, *, create: bool = False) -> None:
    """Refuse a file casereview must not open: missing (unless creating), not SQLite,
    another application's, or empty (unless creating). Both connection paths call it."""
    if path.is_dir():
        raise InvalidInput(
            "{path} is a directory, not a database file; give the file's path", path=path
        )
    if not path.exists():
        if create:
            return
        raise NotFound(
            "no casereview database at {path}; run '{init}' to create one",
            path=path,
            init=Step("init"),
        )
    kind = sqlite_file_kind(path)
    if kind == "foreign":
        raise StoreError(f"{path} is not a casereview database (it is not an SQLite file)")
    if kind == "other-app" and create:
        raise StoreError(
            f"{path} already holds another application's data; choose a new file for casereview"
        )
    if kind in ("empty", "other-app") and not create:
        raise NotFound(
            "{path} is not a casereview database (it has no casereview schema); "
            "run '{init}' to create one",
            path=path,
            init=Step("init"),
        )


OWNER_ONLY = 0o600
"""A new database file: its owner reads and writes it, nobody else."""

SHARED = 0o660
"""A database shared with a group (`init --group`): the owner and the group."""

COMPANIONS = ("-wal", "-shm", "-journal")
"""The files SQLite keeps beside a database. SQLite creates them with the main file's
mode; their group is whatever the creating process's is, unless `share_companions`
(or a set-group-id directory) gives them the main file's."""


def group_id(name: str) -> int:
    """The id of the operating-system group `name`, which the caller must belong to
    (Refused otherwise: a database shared with a group one is not in is given away)."""
    try:
        import grp  # POSIX only
    except ImportError:
        raise InvalidInput(
            "{group} shares a database file through a POSIX group, which this system does "
            "not have; on Windows use a PostgreSQL server for a shared installation "
            "(docs/install.md)",
            group=Input("group"),
        ) from None
    try:
        gid = grp.getgrnam(name).gr_gid
    except KeyError:
        raise InvalidInput("there is no group {group!r} on this machine", group=name[:64]) from None
    if gid != os.getegid() and gid not in os.getgroups():
        raise Refused(
            "you are not a member of the group {group!r}; share the database with a group "
            "you belong to",
            group=name,
        )
    return gid


def create_file(path: Path, gid: int | None) -> None:
    """Create the empty database file with its final mode (0600, or 0660 and group
    `gid`) before SQLite opens it: SQLite would create it with the process's umask, and
    gives its `-wal` and `-shm` files the main file's mode."""
    mode = OWNER_ONLY if gid is None else SHARED
    # O_NOFOLLOW and fchmod are POSIX; Windows has neither file modes nor the symlink
    # race they close: the profile folder's permissions protect the file there.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, mode)
    except FileExistsError:
        return  # someone else created it first: check_sqlite_file decides what it is
    except OSError as exc:
        raise StoreError(f"cannot create {path}: {exc.strerror}") from None
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)  # exactly this mode, whatever the umask took away
        if gid is not None:
            os.fchown(fd, -1, gid)
    finally:
        os.close(fd)


def make_directory(path: Path, gid: int | None) -> None:
    """The missing directory a new database goes in: its owner's alone (0700), or with
    `gid` the group's too, set-group-id (2770) so that every file made in it, SQLite's
    `-wal` and `-shm` included, belongs to the group from the start."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if gid is not None:
            os.chown(path, -1, gid)
            path.chmod(0o2770)  # set-group-id: new files there take the group
    except OSError as exc:
        raise StoreError(f"cannot create {path}: {exc.strerror}") from None


def share_with(path: Path, gid: int) -> None:
    """Give an existing database (and its companions) to group `gid`, mode 0660: only
    the file's owner may."""
    for file in (path, *_companions(path)):
        info = file.stat()
        if info.st_gid == gid and stat.S_IMODE(info.st_mode) == SHARED:
            continue
        try:
            os.chown(file, -1, gid)
            file.chmod(SHARED)
        except PermissionError:
            raise Refused("only the owner of {path} can share it with a group", path=file) from None
        except OSError as exc:
            raise StoreError(f"cannot change {file}: {exc.strerror}") from None


def share_companions(path: Path) -> None:
    """After a connection opened `path`: the `-wal`, `-shm` and `-journal` files this
    account owns get the main file's group and mode, so the next member of the group
    can open them. One `stat` when the database is not shared with a group."""
    try:
        main = path.stat()
    except OSError:
        return
    if not main.st_mode & stat.S_IRWXG or not hasattr(os, "geteuid"):
        # Owner only: SQLite already gives the companions the main file's mode. Windows
        # (no geteuid) has no groups on files; its modes only mean read-only or not.
        return
    me = os.geteuid()
    mode = stat.S_IMODE(main.st_mode)
    for file in _companions(path):
        try:
            info = file.lstat()
            if info.st_uid != me or not stat.S_ISREG(info.st_mode):
                continue  # another member's: they fixed it when they created it
            if info.st_gid != main.st_gid:
                os.chown(file, -1, main.st_gid, follow_symlinks=False)
            if stat.S_IMODE(info.st_mode) != mode:
                file.chmod(mode)  # a regular file: no link to follow
        except OSError:
            continue  # gone already (SQLite removes them when the last connection ends)


def _companions(path: Path) -> list[Path]:
    return [p for p in (path.with_name(path.name + s) for s in COMPANIONS) if p.exists()]
