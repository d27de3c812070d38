"""A disk cache of the `holidays` package's expansion of England's bank holidays.

The expansion depends only on the installed package, so `bank_holidays` keeps it here
between processes. An optimisation only: any missing, damaged or untrusted entry, or an
unwritable folder, means the holidays are expanded as if there were no cache. An entry
is used only while its key matches the installed package; overrides files are never
cached. The promises in full: docs/calendar.md ("The disk cache").
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from importlib.util import find_spec
from pathlib import Path

from casereview.infra.cache_files import CACHE_ENV, cache_dir, stamps, trusted, write_whole

__all__ = ["CACHE_ENV", "cache_dir", "load", "package_key", "store"]

FORMAT = 1
_RULES = ("__init__.py", "countries/united_kingdom.py")

Entry = tuple[dt.date, str]


def package_key() -> str | None:
    """What identifies the installed `holidays` package, without importing it."""
    try:
        spec = find_spec("holidays")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).parent
    files = stamps(root, _RULES)
    return None if files is None else "|".join([str(root), *files])


def _install_root(provenance_key: str) -> str:
    """The package folder a key was made for (the key's first part; split at the
    first rules file, so a folder name holding "|" stays whole)."""
    return provenance_key.split(f"|{_RULES[0]}:", 1)[0]


def _file(directory: Path, first_year: int, last_year: int, provenance_key: str) -> Path:
    # One file per installation of `holidays`: two environments sharing a user cache
    # folder (a project's venv and a pipx install, say) would otherwise overwrite each
    # other's entry on every run, each a cache miss for the other. An upgrade in place
    # keeps the same root, so it replaces its own file.
    # crc32, not a cryptographic hash: a collision only costs a cache miss (the key
    # inside the file is checked), and zlib is loaded already where hashlib is not.
    root = zlib.crc32(_install_root(provenance_key).encode("utf-8", "surrogatepass"))
    return directory / f"holidays-eng-{first_year}-{last_year}-{root:08x}.json"


PRUNE_AFTER_DAYS = 30
"""Entries of a missing installation are removed only once this old: a cache folder
shared between machines (a network home) holds entries of folders that exist only on
the other machine, and each may cost that machine one rebuild a month, not one a run."""


def _prune(directory: Path, keep: Path) -> None:
    """Remove old entries whose installation folder is gone (an uninstalled one)."""
    cutoff = dt.datetime.now().timestamp() - PRUNE_AFTER_DAYS * 86400
    for other in directory.glob("holidays-eng-*.json"):
        if other == keep:
            continue
        try:
            if other.stat().st_mtime > cutoff:
                continue
            key = json.loads(other.read_text(encoding="utf-8"))["key"]
            if isinstance(key, str) and not Path(_install_root(key)).exists():
                other.unlink()
        except (OSError, ValueError, KeyError, TypeError):
            continue


def load(first_year: int, last_year: int, provenance_key: str) -> tuple[str, list[Entry]] | None:
    """The cached (library version, [(date, name)]) for this key, or None on any miss."""
    directory = cache_dir()
    if directory is None:
        return None
    try:
        path = _file(directory, first_year, last_year, provenance_key)
        if not trusted(path):
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("key") != provenance_key:
            return None
        version = data["version"]
        entries = [(dt.date.fromisoformat(day), name) for day, name in data["holidays"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(version, str) or not all(isinstance(name, str) for _, name in entries):
        return None
    return version, entries


def store(
    first_year: int, last_year: int, provenance_key: str, version: str, entries: list[Entry]
) -> None:
    """Write the entry whole, or not at all; failures are ignored (see the module doc)."""
    directory = cache_dir()
    if directory is None:
        return
    payload = {
        "format": FORMAT,
        "key": provenance_key,
        "version": version,
        "holidays": [[day.isoformat(), name] for day, name in entries],
    }
    target = _file(directory, first_year, last_year, provenance_key)
    try:
        write_whole(target, json.dumps(payload).encode("utf-8"))
        _prune(directory, target)
    except OSError:
        return
