"""A disk cache of validated workflow definitions, so a command need not parse the TOML,
build pydantic's validators or validate the file on every run.

An optimisation only: any missing, damaged, foreign or untrusted entry, or an unwritable
folder, means the file is validated as if there were no cache. Each entry's first line
also names what the file declares (id, version, short label), which `load_header` reads
without unpickling, so a command that only names workflows does not import the model and
pydantic (about 100 ms). An entry is used only for
the exact bytes it was made from and under the code that validated them (`code_key`), and
only definitions without problems are stored. The promises in full: docs/workflows.md
("The disk cache").
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import pickle
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from casereview.domain.workflow import model

FORMAT = 2
PRUNE_AFTER_DAYS = 30
# What decides whether a file is valid and what its definition is (and this module,
# which decides how an entry is rebuilt): editing any of them makes every entry a miss.
_KEYED_MODULES = ("model.py", "loader.py", "references.py")


def _defining_folder() -> Path:
    """Where the modules that define a valid workflow live (the domain's workflow package)."""
    return Path(__file__).resolve().parents[2] / "domain" / "workflow"


@functools.cache
def _library_stamps(
    package: str, names: tuple[str, ...], pattern: str = ""
) -> tuple[str, ...] | None:
    """Stamps of an installed library's files (its version module, its compiled core),
    found without importing it: a new release changes them, as it changes its version.
    Looked up once a process (finding a package walks the import path)."""
    from importlib.util import find_spec

    from casereview.infra.cache_files import stamps

    spec = find_spec(package)
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent
    found = stamps(folder, names)
    extra = sorted(p.name for p in folder.glob(pattern)) if pattern else []
    more = stamps(folder, tuple(extra)) if extra else []
    return None if found is None or more is None else (package, *found, *more)


_PREFIX = "workflow-"
_SUFFIX = ".pickle"


def code_key() -> str | None:
    """What identifies the code that validates a definition, or None if it cannot be
    told (a module file that cannot be read: then nothing is cached). Told from files,
    pydantic's among them, without importing pydantic (see the module doc)."""
    from casereview import __version__
    from casereview.infra.cache_files import stamps

    parts = [f"format={FORMAT}", f"python={sys.version}", f"casereview={__version__}"]
    files = stamps(_defining_folder(), _KEYED_MODULES)
    own = stamps(Path(__file__).parent, ("cache.py",))
    pydantic = _library_stamps("pydantic", ("version.py",))
    core = _library_stamps("pydantic_core", ("__init__.py",), "_pydantic_core*")
    found = [files, own, pydantic, core]
    if any(f is None for f in found):
        return None
    return "|".join([*parts, *(stamp for f in found for stamp in f or ())])


def _file(directory: Path, content_hash: str, key: str) -> Path:
    # One file per file content and code: two environments sharing a cache folder keep
    # their own entries instead of overwriting each other's. crc32 only names the file;
    # the key inside it is compared in full.
    return directory / f"{_PREFIX}{content_hash[:32]}-{zlib.crc32(key.encode()):08x}{_SUFFIX}"


# -- pickling ---------------------------------------------------------------------------


def _mapping(items: dict[str, Any]) -> MappingProxyType[str, Any]:
    """Rebuilds a read-only mapping (`MappingProxyType` cannot be pickled as it is)."""
    return MappingProxyType(items)


def _definition(state: dict[str, Any]) -> model.WorkflowDefinition:
    """Rebuilds a definition from its pydantic state, then its lookup index (derived,
    so not stored), exactly as validation leaves it."""
    from casereview.domain.workflow import model

    definition = model.WorkflowDefinition.__new__(model.WorkflowDefinition)
    definition.__setstate__(state)
    definition.model_post_init(None)
    return definition


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        from casereview.domain.workflow import model

        if type(obj) is MappingProxyType:
            return _mapping, (dict(obj),)
        if type(obj) is model.WorkflowDefinition:
            state = obj.__getstate__()
            # The index is rebuilt on load; hash and source are the loading file's.
            private = {k: v for k, v in state["__pydantic_private__"].items() if k != "_index"}
            private.update(_content_hash="", _source=None)
            return _definition, ({**state, "__pydantic_private__": private},)
        return NotImplemented


_ALLOWED_HELPERS = {"_mapping": _mapping, "_definition": _definition}


class _Unpickler(pickle.Unpickler):
    """Finds only the model classes and this module's two helpers, so a damaged or
    foreign entry cannot make it import or call anything else."""

    def find_class(self, module_name: str, name: str) -> Any:
        from pydantic import BaseModel

        from casereview.domain.workflow import model

        if module_name == __name__ and name in _ALLOWED_HELPERS:
            return _ALLOWED_HELPERS[name]
        if module_name == model.__name__:
            found = getattr(model, name, None)
            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
        raise pickle.UnpicklingError(f"{module_name}.{name} is not allowed in the cache")


# -- reading and writing ----------------------------------------------------------------


def _entry(content_hash: str) -> tuple[Path, str] | None:
    """(the entry's path, the code key) for a file whose sha256 is `content_hash`, or
    None when caching is off, the code cannot be told, or the entry may not be read (it
    belongs to another account, which could put a different definition there). Raises
    OSError if the entry is missing."""
    from casereview.infra.cache_files import cache_dir, trusted

    directory = cache_dir()
    key = code_key() if directory is not None else None
    if directory is None or key is None:
        return None
    path = _file(directory, content_hash, key)
    return (path, key) if trusted(path) else None


def load(content_hash: str, source: str | None) -> model.WorkflowDefinition | None:
    """The cached definition for a file whose sha256 is `content_hash`, attached to
    `source`; None on any miss."""
    try:
        entry = _entry(content_hash)
        if entry is None:
            return None
        path, key = entry
        raw = path.read_bytes()
        header_line, payload = raw.split(b"\n", 1)
        header = json.loads(header_line)
        # The payload's own sha256 is checked before it is unpickled: an entry damaged on
        # disk is a miss, never a wrong definition.
        if (
            not isinstance(header, dict)
            or header.get("key") != key
            or header.get("content_hash") != content_hash
            or header.get("payload_sha256") != hashlib.sha256(payload).hexdigest()
        ):
            return None
        definition = _Unpickler(io.BytesIO(payload)).load()
    except Exception:  # any damage is a miss (module doc); the file is validated instead
        return None
    from casereview.domain.workflow import model

    if type(definition) is not model.WorkflowDefinition:
        return None
    definition._attach(content_hash, source)
    return definition


@dataclass(frozen=True)
class Header:
    """What a valid workflow file declares about itself, as its cache entry recorded."""

    workflow_id: str
    version: int
    short_label: str | None
    content_hash: str


def load_header(content_hash: str) -> Header | None:
    """The id, version and short label of the valid file whose sha256 is
    `content_hash`, from its entry's first line alone (nothing is unpickled, pydantic is
    not imported); None on any miss, as `load`."""
    try:
        entry = _entry(content_hash)
        if entry is None:
            return None
        path, key = entry
        with path.open("rb") as handle:
            header = json.loads(handle.readline())
        if (
            not isinstance(header, dict)
            or header.get("key") != key
            or header.get("content_hash") != content_hash
        ):
            return None
        found = Header(
            str(header["id"]), int(header["version"]), header.get("short_label"), content_hash
        )
    except Exception:  # any damage is a miss, as in `load`
        return None
    if found.short_label is not None and not isinstance(found.short_label, str):
        return None
    return found


def store(definition: model.WorkflowDefinition) -> None:
    """Write the entry for a valid definition whole, or not at all; failures are ignored."""
    from casereview.infra.cache_files import cache_dir, write_whole

    directory = cache_dir()
    key = code_key() if directory is not None else None
    content_hash = definition.content_hash
    if directory is None or key is None or not content_hash:
        return
    try:
        buffer = io.BytesIO()
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(definition)
        payload = buffer.getvalue()
    except Exception:  # a definition that cannot be pickled is simply not cached
        return
    header = {
        "format": FORMAT,
        "key": key,
        "content_hash": content_hash,
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "id": definition.id,
        "version": definition.version,
        "short_label": definition.short_label,
    }
    target = _file(directory, content_hash, key)
    try:
        write_whole(target, json.dumps(header).encode() + b"\n" + payload)
        _prune(directory, target)
    except OSError:
        return


def _prune(directory: Path, keep: Path) -> None:
    """Remove entries not rewritten for a month (old files, old code, old versions)."""
    cutoff = time.time() - PRUNE_AFTER_DAYS * 86400
    for other in directory.glob(f"{_PREFIX}*{_SUFFIX}"):
        try:
            if other != keep and other.stat().st_mtime < cutoff:
                other.unlink()
        except OSError:
            continue
