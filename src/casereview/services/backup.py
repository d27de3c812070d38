"""Backing up a SQLite database and restoring a backup, each checked before it counts.

A backup is taken with SQLite's online backup API (`store.backup`), so it is one
consistent snapshot even while others are recording. The copy is then checked as a
scrutineer would check the live file: SQLite's integrity check, then `audit verify`
over the copy; a checkpoint of the copy is written beside it, so a later restore can
prove the copy was not shortened or swapped for an older one.

A restore checks first and writes last: the backup is staged beside the target, the
staged copy must pass the integrity check and verify (against its checkpoint when one
is given or sits beside it), and only then is it copied into place. A database that is
replaced is first kept beside itself, so a restore can always be undone. A restore
records no event: the restored file is exactly the copy, and its chain says so.

Backups hold the whole record, personal fields included, so only an admin or the
business unit may take one, and only an admin may restore. PostgreSQL installations
back up with the server's own tools (docs/backup.md).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from casereview.errors import Conflict, InvalidInput, NotFound, Refused, VerificationFailed
from casereview.infra.output import destination
from casereview.services import audit
from casereview.services.context import ServiceContext
from casereview.store import backup as copies
from casereview.store import users as user_rows

BACKUP_ROLES = ("admin", "business_unit")
RESTORE_ROLES = ("admin",)
CHECKPOINT_SUFFIX = ".checkpoint.json"
FILE_MODE = 0o600
"""Backups hold case data: readable by their owner only, like exports."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    checkpoint_path: Path
    report: audit.VerifyReport


@dataclass(frozen=True)
class RestoreResult:
    path: Path
    report: audit.VerifyReport
    kept: Path | None
    """Where the database that was replaced now is (None: there was none)."""


def checkpoint_beside(path: Path) -> Path:
    """Where a backup's checkpoint is written: `NAME.checkpoint.json` beside it."""
    return path.with_name(path.name + CHECKPOINT_SUFFIX)


def _require_role(ctx: ServiceContext, roles: tuple[str, ...], what: str) -> None:
    with ctx.db().reading() as conn:
        me = user_rows.get_user(conn, ctx.account)
    if me is None or not me["active"]:
        raise Refused(f"account {ctx.account!r} is not a casereview user in {what}")
    held = set(json.loads(me["roles"]))
    if not held.intersection(roles):
        raise Refused(
            f"this needs one of the roles {', '.join(roles)} in {what}; {ctx.account!r} "
            f"holds {', '.join(sorted(held)) or 'none'}"
        )


def _context_for(ctx: ServiceContext, path: Path) -> ServiceContext:
    """The same person and clock, working on the file at `path`."""
    return ServiceContext(url=copies.url_of(path), account=ctx.account, clock=ctx.clock)


def _staging_path(beside: Path) -> Path:
    return beside.with_name(f".{beside.name}.partial-{os.getpid()}")


def _discard(path: Path) -> None:
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def _check_copy(
    copy_ctx: ServiceContext, checkpoint_file: Path | None, jobs: int | None
) -> audit.VerifyReport:
    """Check the pages of the copy `copy_ctx` names (a `StoreError` if any is damaged),
    then verify its log."""
    copies.check_integrity(copies.file_to_copy(copy_ctx.url, "a copy"))
    return audit.verify(copy_ctx, checkpoint_file=checkpoint_file, jobs=jobs)


def _place(staged: Path, dest: Path) -> None:
    """Move the finished copy to its name, never over a file that appeared meanwhile."""
    try:
        os.link(staged, dest)
    except FileExistsError:
        raise Conflict(f"{dest} already exists; choose another name for the backup") from None
    except OSError:
        # A filesystem without hard links: the existence check above is the guard.
        staged.replace(dest)
        return
    staged.unlink()


def take_backup(ctx: ServiceContext, dest: Path, *, jobs: int | None = None) -> BackupResult:
    """Copy the database to `dest`, check the copy, and write its checkpoint beside it.

    A copy that fails SQLite's integrity check is removed (a `StoreError`). A copy that
    is intact but whose log does not verify is kept, with its findings in the result:
    it is a faithful copy of a log that itself does not verify, and still the best
    copy there is.
    """
    source = copies.file_to_copy(ctx.url, "backup")
    checkpoint_path = checkpoint_beside(dest)
    for existing in (dest, checkpoint_path):
        if existing.exists() or existing.is_symlink():
            raise Conflict(
                f"{existing} already exists; a backup never replaces a file, choose another name"
            )
    if not dest.parent.is_dir():
        raise NotFound(f"no folder {dest.parent} to write the backup in")
    # Opening the live file first migrates it if needed, so the copy is current.
    _require_role(ctx, BACKUP_ROLES, "this database")
    staged = _staging_path(dest)
    copy_ctx = _context_for(ctx, staged)
    try:
        copies.copy_database(source, staged)
        staged.chmod(FILE_MODE)
        report = _check_copy(copy_ctx, None, jobs)
        taken = audit.checkpoint(copy_ctx)
        copy_ctx.close()
        _place(staged, dest)
    finally:
        copy_ctx.close()
        _discard(staged)
    with destination(checkpoint_path) as sink:
        sink.write((taken.to_json() + "\n").encode("utf-8"))
    return BackupResult(dest, checkpoint_path, report)


def restore(
    ctx: ServiceContext,
    backup_file: Path,
    *,
    replace: bool = False,
    checkpoint_file: Path | None = None,
    jobs: int | None = None,
) -> RestoreResult:
    """Put the backup at `backup_file` in place as the database `ctx` names, once it
    passes SQLite's integrity check and `audit verify` (against `checkpoint_file`, or
    the checkpoint beside the backup when there is one)."""
    target = copies.file_to_copy(ctx.url, "restore")
    if backup_file.resolve() == target.resolve():
        raise InvalidInput("the backup and the database to restore are the same file")
    if not backup_file.is_file():
        raise NotFound(f"no backup at {backup_file}")
    if not copies.is_casereview_backup(backup_file):
        raise InvalidInput(f"{backup_file} is not a casereview database, so not a backup of one")
    exists = target.exists()
    if exists:
        if not replace:
            raise Conflict(
                f"{target} already holds a database; give another database to restore "
                "into, or replace it (the current one is kept beside it)"
            )
        # Opening it refuses a file that is not a casereview database.
        _require_role(ctx, RESTORE_ROLES, "the database being replaced")
    elif not target.parent.is_dir():
        raise NotFound(f"no folder {target.parent} to restore the database in")
    if checkpoint_file is None and checkpoint_beside(backup_file).is_file():
        checkpoint_file = checkpoint_beside(backup_file)
    staged = _staging_path(target)
    copy_ctx = _context_for(ctx, staged)
    kept: Path | None = None
    try:
        copies.copy_database(backup_file, staged, source_in_use=False)
        staged.chmod(FILE_MODE)
        report = _check_copy(copy_ctx, checkpoint_file, jobs)
        if not report.ok:
            raise VerificationFailed(
                f"the backup does not verify ({len(report.findings)} finding(s), the first: "
                f"{report.findings[0]}); nothing was restored"
            )
        _require_role(copy_ctx, RESTORE_ROLES, "the backup")
        copy_ctx.close()
        if exists:
            ctx.close()
            kept = target.with_name(
                f"{target.name}.before-restore-{ctx.clock.now().strftime('%Y%m%dT%H%M%S')}"
            )
            if kept.exists():
                raise Conflict(f"{kept} already exists; try again in a second")
            copies.copy_database(target, kept)
            kept.chmod(FILE_MODE)
            copies.copy_database(staged, target)
        else:
            _place(staged, target)
    finally:
        copy_ctx.close()
        _discard(staged)
    return RestoreResult(target, report, kept)
