"""Reading a file a person names, never more of it than a limit.

A checkpoint or an export named on the command line may be anything: a directory, a
device that never ends (`/dev/zero`), a FIFO, a file of many gigabytes. `read_bounded`
reads at most the limit given (a regular file larger than it is refused before any of it
is read), and can stop after the first block when that already shows the file is not
what was asked for, so nothing a person names can fill the memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from casereview.errors import CaseReviewError, InvalidInput, NotFound

FIRST_BLOCK = 64 * 1024
"""How much is read before `looks_right` is asked whether to read on."""


def describe_size(n: int) -> str:
    """`1 GiB`, `64 KiB`, `10 bytes`: a limit as people read it."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def read_bounded(
    path: Path,
    limit: int,
    *,
    what: str,
    looks_right: Callable[[bytes], bool] | None = None,
) -> bytes:
    """The bytes of `path`, at most `limit` of them; InvalidInput if it holds more.

    `what` names the file in messages, with its article ("a checkpoint", "an export").
    `looks_right`, when given, sees the first block: if it says no, that block is
    returned without reading further (the caller reports what the file is not)."""
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if path.is_file() and info.st_size > limit:
                raise _too_large(path, limit, what)
            first = handle.read(min(FIRST_BLOCK, limit + 1))
            if looks_right is not None and not looks_right(first):
                return first
            chunks = [first]
            total = len(first)
            while total <= limit:
                chunk = handle.read(min(1024 * 1024, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
    except FileNotFoundError:
        raise NotFound(f"no such file: {path}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a directory, not {what} file") from None
    except OSError as exc:
        raise CaseReviewError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError:  # a NUL character: no file has such a name
        raise InvalidInput(f"{path!r} is not a file name") from None
    if total > limit:
        raise _too_large(path, limit, what)
    return b"".join(chunks)


def _too_large(path: Path, limit: int, what: str) -> InvalidInput:
    return InvalidInput(
        f"{path} holds more than {describe_size(limit)}, the most casereview reads of {what} file"
    )
