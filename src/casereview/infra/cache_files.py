"""Files of casereview's disk caches (the holiday expansion, validated workflow definitions).

What the caches share: the folder (`$CASEREVIEW_CACHE_DIR`, where an empty value turns
caching off, else the user cache directory), which files may be read (owned by this
account and writable by no other), the file stamps a key records, and writing whole
through a temporary file renamed into place. What each cache holds, and when an entry is
stale, is its own module's business (`holiday_cache`, `workflows.cache`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

CACHE_ENV = "CASEREVIEW_CACHE_DIR"


def cache_dir() -> Path | None:
    """Where cache files live, or None when caching is turned off."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return Path(configured).expanduser() if configured.strip() else None
    from platformdirs import user_cache_path

    return user_cache_path("casereview", appauthor=False)


def trusted(path: Path) -> bool:
    """Whether a cache file may be read: it belongs to this account and no other account
    can write it (on systems without owners, any file). Raises OSError if missing."""
    st = path.stat()
    if not hasattr(os, "getuid"):
        return True
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def stamps(folder: Path, names: tuple[str, ...]) -> list[str] | None:
    """`name:size:mtime_ns` of each file in `folder`: what a cache key records of the
    files whose change must invalidate an entry; None if one cannot be read."""
    found = []
    for name in names:
        try:
            st = (folder / name).stat()
        except OSError:
            return None
        found.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    return found


def write_whole(target: Path, data: bytes) -> None:
    """Write a cache file whole or not at all: a temporary file beside it (created
    readable and writable by this account only), renamed into place. Raises OSError."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
