"""Workflow files on disk: where definitions are found, and the definition a case is
pinned to.

Definitions come from the package's own `workflows` directory and from each directory in
`CASEREVIEW_WORKFLOWS`. Finding a file grants nothing: a workflow is usable for new
cases only once an admin has installed it into the database (`services.workflows`).
One (id, version) means one content: two files that disagree are refused, and a case's
pinned definition whose file changed raises `WorkflowChanged`. Where no file holds a
pinned definition, the content the database kept at its install is used (`stored`, given
by the service context; its sha256 must be the pinned hash). Valid definitions come from
`cache` when it has them. See docs/workflows.md ("Identity and versions", "Installing").
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING

from casereview.domain.workflow.identity import content_hash
from casereview.errors import Input, InvalidInput, InvalidWorkflow, NotFound, Step
from casereview.infra.workflows import cache

if TYPE_CHECKING:
    # Annotations only: finding files and their cached headers (`short_labels`) does not
    # import the model and pydantic; loading a definition does.
    from casereview.domain.workflow.model import WorkflowDefinition, WorkflowKey

ENV_VAR = "CASEREVIEW_WORKFLOWS"
SHIPPED = "(shipped)"


def is_file_target(target: str) -> bool:
    """Whether a command-line target names a file (a path or `*.toml`) rather than an id."""
    return target.endswith(".toml") or "/" in target or os.sep in target


def split_version(target: str) -> tuple[str, int | None]:
    """`england-lcspr@2` as ("england-lcspr", 2); a plain id has no version."""
    workflow_id, at, version = target.partition("@")
    if not at:
        return target, None
    if not version.isascii() or not version.isdigit() or int(version) < 1 or len(version) > 6:
        raise InvalidInput(
            "{target} is not a workflow version: write the id, '@' and a version number "
            "(e.g. england-lcspr@1)",
            target=target,
        )
    return workflow_id, int(version)


class WorkflowChanged(InvalidWorkflow):
    """A pinned definition's file now has different content under the same version."""


@dataclass(frozen=True)
class InstalledWorkflow:
    """One readable, valid definition and where it was found."""

    definition: WorkflowDefinition
    file: str
    directory: str
    """The directory it came from, or `(shipped)` for the package's own workflows."""

    @property
    def key(self) -> WorkflowKey:
        return self.definition.key


@dataclass(frozen=True)
class _Broken:
    file: str
    wid: str | None
    version: int | None
    error: InvalidWorkflow


def shipped_directory() -> Traversable:
    """The package's own workflow directory (a symlink to the repo's `workflows/` in a
    source checkout, real package data in a wheel)."""
    return resources.files("casereview").joinpath("workflows")


def _toml_files(directory: Traversable, label: str) -> Iterator[tuple[str, str, bytes]]:
    files = sorted(
        (f for f in directory.iterdir() if f.name.endswith(".toml") and f.is_file()),
        key=lambda f: f.name,
    )
    for file in files:
        yield str(file), label, file.read_bytes()


class Registry:
    """The workflows installed for this process. Scans lazily, once, on first use."""

    def __init__(
        self,
        directories: Iterable[Path | str] = (),
        *,
        include_shipped: bool = True,
        stored: Callable[[str], str | None] | None = None,
    ) -> None:
        self._directories = [Path(d) for d in directories]
        self._include_shipped = include_shipped
        # The content the database kept for a definition hash, where a pinned
        # definition's file is missing (None: files only).
        self.stored = stored
        self._from_store: dict[str, WorkflowDefinition] = {}
        self._scanned = False
        self._entries: dict[tuple[str, int], InstalledWorkflow] = {}
        self._conflicts: dict[tuple[str, int], list[str]] = {}
        self._broken: list[_Broken] = []
        self._missing_dirs: list[str] = []

    def sources(self) -> tuple[list[Path], bool]:
        """(directories, include_shipped): what builds an equal registry elsewhere, e.g.
        in a worker process (`Registry(*sources[:1], include_shipped=sources[1])`)."""
        return list(self._directories), self._include_shipped

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Registry:
        """Shipped workflows plus every directory in `CASEREVIEW_WORKFLOWS`."""
        env = os.environ if environ is None else environ
        dirs = [d for d in env.get(ENV_VAR, "").split(os.pathsep) if d.strip()]
        return cls(dirs)

    # -- scanning -----------------------------------------------------------------------

    def _scan(self) -> None:
        if self._scanned:
            return
        self._scanned = True
        for location, label, data in self._files(note_missing=True):
            self._scan_file(location, label, data)

    def _files(self, *, note_missing: bool = False) -> Iterator[tuple[str, str, bytes]]:
        """(location, directory label, bytes) of every workflow file, shipped first, each
        directory's files by name."""
        if self._include_shipped:
            shipped = shipped_directory()
            if shipped.is_dir():
                yield from _toml_files(shipped, SHIPPED)
        for directory in self._directories:
            if not directory.is_dir():
                if note_missing:
                    self._missing_dirs.append(
                        f"{ENV_VAR} names {directory}, which is not a directory; it was skipped"
                    )
                continue
            yield from _toml_files(directory, str(directory))

    def _scan_file(self, location: str, label: str, data: bytes) -> None:
        cached = cache.load(content_hash(data), location)
        if cached is not None:
            self._add(InstalledWorkflow(cached, location, label))
            return
        # The loader (TOML, validation, readable errors) is imported only on a miss.
        from casereview.domain.workflow.loader import check_bytes, read_header

        # Problems name the full path: the person has to find the file to fix it.
        definition, problems = check_bytes(data, name=location, source=location)
        if definition is not None and not problems:
            cache.store(definition)
        if definition is None or problems:
            wid, version = read_header(data)
            count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
            error = InvalidWorkflow(
                "workflow file {location} is not valid ({count}); run '{step}'",
                problems,
                location=location,
                count=count,
                step=Step("validate_workflow", (str(location),)),
            )
            self._broken.append(_Broken(location, wid, version, error))
            return
        self._add(InstalledWorkflow(definition, location, label))

    def _add(self, entry: InstalledWorkflow) -> None:
        ident = (entry.definition.id, entry.definition.version)
        if ident in self._conflicts:
            self._conflicts[ident].append(entry.file)
            return
        existing = self._entries.get(ident)
        if existing is None:
            self._entries[ident] = entry
            return
        if existing.definition.content_hash == entry.definition.content_hash:
            return  # the same file installed twice: harmless, the first one is used
        del self._entries[ident]
        self._conflicts[ident] = [existing.file, entry.file]

    def _conflict_message(self, ident: tuple[str, int]) -> str:
        wid, version = ident
        *first, last = self._conflicts[ident]
        files = f"{', '.join(first)} and {last}"
        return (
            f"workflow {wid} v{version} is defined twice with different content ({files}); "
            "remove one, or give one of them a new version number"
        )

    # -- queries ------------------------------------------------------------------------

    def short_labels(self) -> dict[str, str]:
        """Each workflow id's short label ("SAR"), from its latest valid, unambiguous
        version that declares one; the id itself where none does. Read from the cache's
        headers alone where every file has one (no definition is loaded, so pydantic is
        not imported); otherwise from the definitions."""
        heads = None if self._scanned else self._headers()
        if heads is None:
            heads = [
                (e.definition.id, e.definition.version, e.definition.short_label)
                for e in self.list()
            ]
        found: dict[str, str] = {}
        for wid, _version, short in sorted(heads, key=lambda h: (h[0], h[1])):
            found[wid] = short or found.get(wid, wid)
        return found

    def _headers(self) -> builtins.list[tuple[str, int, str | None]] | None:
        """(id, version, short label) of every valid, unambiguous file, as `_scan` would
        keep them, from the cache's headers; None if a file has no header (a file not
        yet validated under this code, or an invalid one: the full scan says which)."""
        kept: dict[tuple[str, int], cache.Header | None] = {}
        for _location, _label, data in self._files():
            head = cache.load_header(content_hash(data))
            if head is None:
                return None
            ident = (head.workflow_id, head.version)
            if ident in kept:
                earlier = kept[ident]
                if earlier is not None and earlier.content_hash != head.content_hash:
                    kept[ident] = None  # two contents for one version: neither is used
                continue
            kept[ident] = head
        return [(h.workflow_id, h.version, h.short_label) for h in kept.values() if h]

    def list(self) -> builtins.list[InstalledWorkflow]:
        """Every valid, unambiguous installed definition, by id then version."""
        self._scan()
        return [self._entries[k] for k in sorted(self._entries)]

    def unusable(self) -> builtins.list[tuple[str, builtins.list[str]]]:
        """What could not be used, as (file or workflow, its problems): invalid files,
        conflicting versions, and directories in CASEREVIEW_WORKFLOWS that do not exist."""
        self._scan()
        found = [(b.file, b.error.problems) for b in self._broken]
        found += [
            (f"{w} v{v}", [self._conflict_message((w, v))]) for w, v in sorted(self._conflicts)
        ]
        found += [(ENV_VAR, [message]) for message in self._missing_dirs]
        return found

    def problems(self) -> builtins.list[str]:
        """Every problem of `unusable()`, one line each."""
        return [p for _, problems in self.unusable() for p in problems]

    def versions(self, workflow_id: str) -> builtins.list[int]:
        self._scan()
        return sorted(v for (wid, v) in self._entries if wid == workflow_id)

    def _refuse_if_unusable(self, workflow_id: str, version: int | None) -> None:
        for wid, v in self._conflicts:
            if wid == workflow_id and version in (None, v):
                raise InvalidWorkflow(
                    self._conflict_message((wid, v)), [self._conflict_message((wid, v))]
                )
        for broken in self._broken:
            if broken.wid == workflow_id and version in (None, broken.version):
                raise broken.error

    def entry(self, workflow_id: str, version: int | None = None) -> InstalledWorkflow:
        """The installed definition `workflow_id` (highest version unless given)."""
        self._scan()
        versions = self.versions(workflow_id)
        if version is None:
            # A broken or conflicting file might be the newest version: refuse rather
            # than silently start new cases on an older one.
            self._refuse_if_unusable(workflow_id, None)
            if versions:
                return self._entries[(workflow_id, versions[-1])]
        else:
            found = self._entries.get((workflow_id, version))
            if found is not None:
                return found
            self._refuse_if_unusable(workflow_id, version)
        installed = sorted({wid for wid, _ in self._entries})
        if versions:
            raise NotFound(
                f"no file of workflow {workflow_id} v{version} was found "
                f"(versions found: {', '.join(str(v) for v in versions)})"
            )
        raise NotFound(
            f"no workflow file for {workflow_id!r} was found "
            f"(found: {', '.join(installed) or 'none'})"
        )

    def get(self, workflow_id: str, version: int | None = None) -> WorkflowDefinition:
        """The definition for a new case (latest version) or for an explicit version."""
        return self.entry(workflow_id, version).definition

    def resolve(self, target: str, version: int | None = None) -> WorkflowDefinition:
        """A command-line target: a workflow file by path, or an installed id, with a
        version as `id@2` or given apart as `version`."""
        if not is_file_target(target):
            workflow_id, pinned = split_version(target)
            if pinned is not None and version is not None and pinned != version:
                raise InvalidInput(
                    "{target} names version {pinned} but {option} says {version}; "
                    "give the version once",
                    target=target,
                    pinned=pinned,
                    version=version,
                    option=Input("version"),
                )
            return self.get(workflow_id, pinned if pinned is not None else version)
        from casereview.domain.workflow.loader import load_path

        definition = load_path(target)
        if version is not None and definition.version != version:
            raise InvalidInput(
                "{target} is version {found}, not {version}; drop {option} to use the file "
                "as it is",
                target=target,
                found=definition.version,
                version=version,
                option=Input("version"),
            )
        return definition

    def has_file(self, workflow_id: str, version: int) -> bool:
        """Whether a file found on disk claims this (id, version), valid or not."""
        self._scan()
        return (
            (workflow_id, version) in self._entries
            or (workflow_id, version) in self._conflicts
            or any(b.wid == workflow_id and b.version == version for b in self._broken)
        )

    def get_exact(self, workflow_id: str, version: int, content_hash: str) -> WorkflowDefinition:
        """The definition a case pinned: from its file, or where no file claims that
        version, from the content the database kept; refuses if the file's content has
        changed, and if neither holds it."""
        if not self.has_file(workflow_id, version):
            return self._kept(workflow_id, version, content_hash)
        definition = self.get(workflow_id, version)
        if definition.content_hash != content_hash:
            next_version = max(self.versions(workflow_id)) + 1
            message = (
                f"workflow {workflow_id} v{version} changed on disk without a new version "
                f"number; restore it or install it as version {next_version}"
            )
            raise WorkflowChanged(
                message,
                [
                    f"{definition.source}: sha256 is {definition.content_hash[:12]}…, "
                    f"the case was started on {content_hash[:12]}…"
                ],
            )
        return definition

    def _kept(self, workflow_id: str, version: int, content_hash_: str) -> WorkflowDefinition:
        """The pinned definition from the content the database kept at its install."""
        found = self._from_store.get(content_hash_)
        if found is not None:
            return found
        missing = NotFound(
            f"workflow {workflow_id} v{version} (sha256 {content_hash_[:12]}…) is neither "
            "installed in this database nor in a workflow file found here"
        )
        text = self.stored(content_hash_) if self.stored is not None else None
        if text is None:
            raise missing
        data = text.encode("utf-8")
        name = f"{workflow_id} v{version} (kept in the database)"
        if content_hash(data) != content_hash_:
            raise InvalidWorkflow(
                f"the copy of workflow {workflow_id} v{version} kept in the database does not "
                "match the hash it was installed with",
                [
                    f"{name}: sha256 is {content_hash(data)[:12]}…, "
                    f"installed as {content_hash_[:12]}…"
                ],
            )
        definition = cache.load(content_hash_, None)
        if definition is None:
            from casereview.domain.workflow.loader import check_bytes

            definition, problems = check_bytes(data, name=name)
            if definition is None or problems:
                raise InvalidWorkflow(
                    f"the copy of workflow {workflow_id} v{version} kept in the database is not "
                    "valid",
                    problems,
                )
            cache.store(definition)
        if (definition.id, definition.version) != (workflow_id, version):
            raise missing
        self._from_store[content_hash_] = definition
        return definition
