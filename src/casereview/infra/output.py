"""Where an export goes: standard output, or a file written whole or not at all.

A file is written to a temporary name beside the target (created readable by its owner
only: exports hold case data), flushed to disk, then moved into place, so an
interrupted export never leaves half a file behind. An existing file is never replaced
unless the caller says so (`--force`): an export a scrutineer kept is evidence. An
existing file is a `Conflict` (exit 6, as docs/cli.md lists "an existing file").
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from casereview.errors import CaseReviewError, Conflict, InvalidInput


def _exists_message(path: Path) -> str:
    return f"{path} already exists; choose another file name, or add --force to replace it"


def check_target(path: Path, *, force: bool) -> None:
    """Refuse early (before any work) a target that cannot or must not be written."""
    if path.is_dir():
        raise InvalidInput(f"{path} is a directory; give a file name")
    if not path.parent.is_dir():
        raise InvalidInput(f"cannot write {path}: the directory {path.parent} does not exist")
    if path.exists() and not force:
        raise Conflict(_exists_message(path))


@contextlib.contextmanager
def destination(path: Path | None, *, force: bool = False) -> Iterator[BinaryIO]:
    """A binary stream for the export: stdout when `path` is None, else the file."""
    if path is None:
        stream = sys.stdout.buffer
        yield stream
        stream.flush()
        return
    check_target(path, force=force)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise CaseReviewError(f"cannot write {path}: {exc.strerror}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        _move_into_place(tmp, path, force=force)
    except OSError as exc:
        raise CaseReviewError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _move_into_place(tmp: Path, path: Path, *, force: bool) -> None:
    if force:
        tmp.replace(path)
        return
    # A hard link is an atomic "create unless it exists"; fall back to a checked rename
    # on file systems without hard links.
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise Conflict(_exists_message(path)) from None
    except OSError:
        if path.exists():
            raise Conflict(_exists_message(path)) from None
        tmp.replace(path)
