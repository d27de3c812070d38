"""Where an export goes: standard output, or a file written whole or not at all.

A file is written to a temporary name beside the target (created readable by its owner
only: exports hold case data), flushed to disk, then moved into place, so an
interrupted export never leaves half a file behind. An existing file is never replaced
unless the caller says so (`--force`): an export a scrutineer kept is evidence. An
existing file is a `Conflict` (exit 6, as docs/cli.md lists "an existing file").

What a path names decides how it is written (`plan`), and nothing but a regular file is
ever replaced:

- a new name in an existing directory: a new file;
- an existing regular file: replaced with `--force`, else refused;
- a symbolic link: followed; the file it points to is written as above (the link stays
  a link), and a link to nothing is refused;
- a character device (`/dev/null`, a terminal), a FIFO (a named pipe, or the
  `/dev/fd/N` of a shell's process substitution): written through, as a stream, since
  replacing it would break every program that uses it; a FIFO nobody is reading from is
  refused rather than waited on;
- a directory, a block device (a disk), a socket, or anything else: refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from casereview.errors import CaseReviewError, Conflict, InvalidInput


def _exists_message(path: Path) -> str:
    return f"{path} already exists; choose another file name, or add --force to replace it"


@dataclass(frozen=True)
class Target:
    """How an output path is written: `file` (created, or replaced when `replaces`) at
    `path`, the real path when a link was followed; or `stream`, written through."""

    path: Path
    kind: Literal["file", "stream"]
    replaces: bool = False


def plan(path: Path, *, force: bool) -> Target:
    """How `path` would be written, or the refusal (decided without writing anything)."""
    try:
        info = path.stat()  # follows links: what the writing would reach
    except FileNotFoundError:
        if path.is_symlink():
            raise InvalidInput(
                f"{path} is a symbolic link to something that does not exist; "
                "give the file's real path"
            ) from None
        if not path.parent.is_dir():
            raise InvalidInput(
                f"cannot write {path}: the directory {path.parent} does not exist"
            ) from None
        return Target(path, "file")
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None
    except ValueError:  # a NUL character: no file has such a name
        raise InvalidInput(f"{str(path)!r} is not a file name") from None
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise InvalidInput(f"{path} is a directory; give a file name")
    if stat.S_ISREG(mode):
        if not force:
            raise Conflict(_exists_message(path))
        return Target(Path(os.path.realpath(path)), "file", replaces=True)
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return Target(path, "stream")
    what = "a block device (a disk)" if stat.S_ISBLK(mode) else "not a file"
    raise InvalidInput(f"{path} is {what}; casereview writes only files and streams")


def check_target(path: Path, *, force: bool) -> None:
    """Refuse early (before any work) a target that cannot or must not be written."""
    plan(path, force=force)


@contextlib.contextmanager
def destination(path: Path | None, *, force: bool = False) -> Iterator[BinaryIO]:
    """A binary stream for the export: stdout when `path` is None, else the file (or
    the device or pipe it names, `plan`)."""
    if path is None:
        stream = sys.stdout.buffer
        yield stream
        stream.flush()
        return
    target = plan(path, force=force)
    if target.kind == "stream":
        with _stream(path) as stream:
            yield stream
        return
    real = target.path
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    except OSError as exc:
        raise CaseReviewError(f"cannot write {path}: {exc.strerror}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        _move_into_place(tmp, real, replace=target.replaces, shown=path)
    except OSError as exc:
        raise CaseReviewError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def _stream(path: Path) -> Iterator[BinaryIO]:
    """A device or a FIFO, opened for writing as it is: never created, truncated or
    replaced. A FIFO with no reader is refused at once rather than waited on."""
    # O_NONBLOCK (POSIX) is what refuses a FIFO without a reader; Windows has neither
    # the flag nor FIFOs in the file system, and opens `NUL` or `CON` as it is.
    nonblock = getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, os.O_WRONLY | nonblock | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a FIFO nobody has open for reading
            raise CaseReviewError(
                f"nothing is reading from {path}; start the reader first"
            ) from None
        raise CaseReviewError(f"cannot write {path}: {exc.strerror}") from None
    if nonblock:
        os.set_blocking(fd, True)  # from here on, writes wait for the reader as usual
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
    except OSError as exc:
        raise CaseReviewError(f"cannot write {path}: {exc.strerror}") from None


def _move_into_place(tmp: Path, path: Path, *, replace: bool, shown: Path) -> None:
    if replace:
        tmp.replace(path)
        return
    # A hard link is an atomic "create unless it exists"; fall back to a checked rename
    # on file systems without hard links.
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise Conflict(_exists_message(shown)) from None
    except OSError:
        if path.exists():
            raise Conflict(_exists_message(shown)) from None
        tmp.replace(path)
