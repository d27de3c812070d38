"""A disk cache of validated workflow definitions, so a command need not parse the TOML,
build pydantic's validators or validate the file on every run.

An optimisation only: any missing, damaged, foreign or untrusted entry, or an unwritable
folder, means the file is validated as if there were no cache. An entry is used only for
the exact bytes it was made from and under the code that validated them (`code_key`), and
only definitions without problems are stored. The promises in full: docs/workflows.md
("The disk cache").
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import sys
import time
import zlib
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from casereview.domain.workflow import model

FORMAT = 1
PRUNE_AFTER_DAYS = 30
# What decides whether a file is valid and what its definition is (and this module,
# which decides how an entry is rebuilt): editing any of them makes every entry a miss.
_KEYED_MODULES = ("model.py", "loader.py", "references.py")


def _defining_folder() -> Path:
    """Where the modules that define a valid workflow live (the domain's workflow package)."""
    return Path(model.__file__).parent


_PREFIX = "workflow-"
_SUFFIX = ".pickle"


def code_key() -> str | None:
    """What identifies the code that validates a definition, or None if it cannot be
    told (a module file that cannot be read: then nothing is cached)."""
    import pydantic
    import pydantic_core

    from casereview import __version__

    parts = [
        f"format={FORMAT}",
        f"python={sys.version}",
        f"pydantic={pydantic.VERSION}",
        f"pydantic-core={pydantic_core.__version__}",
        f"casereview={__version__}",
    ]
    from casereview.infra.cache_files import stamps

    files = stamps(_defining_folder(), _KEYED_MODULES)
    own = stamps(Path(__file__).parent, ("cache.py",))
    return None if files is None or own is None else "|".join([*parts, *files, *own])


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
    definition = model.WorkflowDefinition.__new__(model.WorkflowDefinition)
    definition.__setstate__(state)
    definition.model_post_init(None)
    return definition


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
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
        if module_name == __name__ and name in _ALLOWED_HELPERS:
            return _ALLOWED_HELPERS[name]
        if module_name == model.__name__:
            found = getattr(model, name, None)
            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
        raise pickle.UnpicklingError(f"{module_name}.{name} is not allowed in the cache")


# -- reading and writing ----------------------------------------------------------------


def load(content_hash: str, source: str | None) -> model.WorkflowDefinition | None:
    """The cached definition for a file whose sha256 is `content_hash`, attached to
    `source`; None on any miss."""
    from casereview.infra.cache_files import cache_dir, trusted

    directory = cache_dir()
    key = code_key() if directory is not None else None
    if directory is None or key is None:
        return None
    try:
        path = _file(directory, content_hash, key)
        if not trusted(path):  # another account's file could hold a different definition
            return None
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
    if type(definition) is not model.WorkflowDefinition:
        return None
    definition._attach(content_hash, source)
    return definition


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
