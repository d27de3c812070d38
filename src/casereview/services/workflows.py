"""Workflow definitions: checking and comparing files (`workflow validate`, `workflow
lint`, `workflow diff`), installing them into the database (`workflow install`, and
`init` for the shipped ones), listing what is installed and found, and which definition
a new case gets.

Checking owns what the domain cannot do by itself: reading the files named, asking the
registry for the files found, and putting validation problems before lint findings
(lint needs a valid definition). Each check result is a `lint.Report` whose problem
lines start with the file or workflow checked.

Installing is an admin's event, `workflow_install` {workflow_id, version,
definition_hash, title}, whose projection (`store.installed_workflows`) also keeps the
file's content, so a case replays from the database wherever its file is missing. A
workflow is usable for new cases only once installed: files found on disk
(`CASEREVIEW_WORKFLOWS`, the shipped folder) are only where an admin installs from. See
docs/workflows.md ("Installing").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casereview.domain import chain
from casereview.domain.workflow.diff import WorkflowDiff, diff
from casereview.domain.workflow.lint import Report, lint_report
from casereview.domain.workflow.loader import check_bytes, load_path
from casereview.domain.workflow.model import WorkflowDefinition, content_hash
from casereview.errors import (
    Conflict,
    Input,
    InvalidInput,
    InvalidWorkflow,
    NotFound,
    Refused,
    Step,
)
from casereview.infra.workflows.registry import Registry, is_file_target, split_version
from casereview.services.access import require_admin
from casereview.services.context import ServiceContext
from casereview.services.users import admin_event

if TYPE_CHECKING:
    from casereview.store.database import Connection, Row


def validate_files(paths: Sequence[Path]) -> list[Report]:
    """Schema and reference problems of each file, named by the path as given."""
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise NotFound(f"no such workflow file: {missing[0]}")
    reports = []
    for path in paths:
        definition, problems = check_bytes(path.read_bytes(), name=str(path), source=str(path))
        key = definition.key if definition is not None and not problems else None
        reports.append(Report(str(path), tuple(problems), key))
    return reports


def lint_path(path: Path | str) -> Report:
    """Every problem with one file: validation problems, else domain findings."""
    try:
        definition = load_path(path, name=str(path))
    except InvalidWorkflow as exc:
        return Report(str(path), tuple(exc.problems or [exc.message]))
    return lint_report(str(path), definition)


def lint_installed(registry: Registry, workflow_ids: Sequence[str] = ()) -> list[Report]:
    """Lint installed workflows: the latest version of each id given, or every installed
    definition (and every installed file that could not be used) when none is given."""
    if not workflow_ids:
        reports = [lint_report(e.file, e.definition) for e in registry.list()]
        return reports + [Report(target, tuple(p)) for target, p in registry.unusable()]
    reports = []
    for workflow_id in workflow_ids:
        try:
            entry = registry.entry(workflow_id)
        except InvalidWorkflow as exc:
            reports.append(Report(workflow_id, tuple(exc.problems or [exc.message])))
            continue
        reports.append(lint_report(entry.file, entry.definition))
    return reports


def lint_targets(targets: Sequence[str], registry: Registry) -> list[Report]:
    """`workflow lint` arguments: files by path, installed workflows by id; none = all
    installed."""
    if not targets:
        return lint_installed(registry)
    reports = []
    for target in targets:
        if is_file_target(target):
            if not Path(target).is_file():
                raise NotFound(f"no such workflow file: {target}")
            reports.append(lint_path(target))
        else:
            reports.extend(lint_installed(registry, [target]))
    return reports


def diff_targets(registry: Registry, before: str, after: str) -> WorkflowDiff:
    """What changed from `before` to `after`: each an installed id (latest version), an
    `id@version`, or a file by path."""
    return diff(registry.resolve(before), registry.resolve(after))


# -- installing ----------------------------------------------------------------------------

INSTALL_TRIGGER = "workflow_install"
"""The admin event that makes a workflow version usable for new cases."""
MAX_WORKFLOW_FILE = 1024 * 1024
"""The largest workflow file `workflow install` reads (the shipped ones are under 30 KB)."""


@dataclass(frozen=True)
class Installed:
    """One installed workflow version, as the projection holds it."""

    workflow_id: str
    version: int
    definition_hash: str
    title: str
    installed_seq: int


@dataclass(frozen=True)
class InstallResult:
    installed: Installed
    file: str


def _installed(row: Row) -> Installed:
    return Installed(
        workflow_id=str(row["workflow_id"]),
        version=int(row["version"]),
        definition_hash=str(row["definition_hash"]),
        title=str(row["title"]),
        installed_seq=int(row["installed_seq"]),
    )


def _read_target(ctx: ServiceContext, target: str, version: int | None) -> tuple[bytes, str]:
    """The bytes to install and the file they came from: a path, or the file found
    for an id (its highest version unless `version` is given)."""
    from casereview.infra.files import read_bounded

    if is_file_target(target):
        path = Path(target)
        if not path.is_file():
            raise NotFound(f"no such workflow file: {target}")
    else:
        workflow_id, pinned = split_version(target)
        if pinned is not None and version is not None and pinned != version:
            raise InvalidInput(
                "{target} names version {pinned} but {option} says {version}; give the "
                "version once",
                target=target,
                pinned=pinned,
                version=version,
                option=Input("version"),
            )
        path = Path(ctx.registry.entry(workflow_id, pinned or version).file)
    data = read_bounded(path, MAX_WORKFLOW_FILE, what="a workflow file")
    return data, str(path)


def _checked(data: bytes, name: str, version: int | None) -> WorkflowDefinition:
    """The definition in `data`, refused (exit 5) unless it is valid and lint-clean:
    the checks of `workflow validate` and `workflow lint`."""
    definition, problems = check_bytes(data, name=name, source=name)
    if definition is None or problems:
        raise InvalidWorkflow(
            "{name} is not valid ({count} problems); run '{step}'",
            problems,
            name=name,
            count=len(problems),
            step=Step("validate_workflow", (name,)),
        )
    findings = lint_report(name, definition)
    if not findings.ok:
        raise InvalidWorkflow(
            "{name} has {count} lint findings; fix them before installing it",
            list(findings.problems),
            name=name,
            count=len(findings.problems),
        )
    if version is not None and definition.version != version:
        raise InvalidInput(
            "{name} is version {found}, not {version}",
            name=name,
            found=definition.version,
            version=version,
        )
    return definition


def record_install(
    ctx: ServiceContext, conn: Connection, definition: WorkflowDefinition, text: str
) -> Installed:
    """Append the install event and its projection row, in the caller's unit of work
    (the caller has checked that the account is an admin)."""
    from casereview.services import keys
    from casereview.store import event_log, installed_workflows

    key = f"workflow {definition.id} v{definition.version}"
    existing = installed_workflows.get_installed(conn, definition.id, definition.version)
    if existing is not None:
        if existing["definition_hash"] == definition.content_hash:
            raise Conflict(f"{key} is already installed (event {existing['installed_seq']})")
        raise Conflict(
            f"{key} is already installed with other content (sha256 "
            f"{str(existing['definition_hash'])[:12]}…, event {existing['installed_seq']}); "
            "give the file a new version number to install it"
        )
    fields: dict[str, object] = {
        "workflow_id": definition.id,
        "version": definition.version,
        "definition_hash": definition.content_hash,
        "title": definition.title,
    }
    signer = keys.write_signer(ctx, conn)
    appended = event_log.append_event(conn, admin_event(ctx, INSTALL_TRIGGER, fields), None, signer)
    installed_workflows.insert_installed(
        conn,
        workflow_id=definition.id,
        version=definition.version,
        definition_hash=definition.content_hash,
        title=definition.title,
        content=text,
        seq=appended.seq,
    )
    return Installed(
        definition.id, definition.version, definition.content_hash, definition.title, appended.seq
    )


def install(ctx: ServiceContext, target: str, version: int | None = None) -> InstallResult:
    """`workflow install`: check a file (a path, or the file found for an id) as
    `workflow validate` and `workflow lint` do, and install it (admin only)."""
    data, name = _read_target(ctx, target, version)
    definition = _checked(data, name, version)
    with ctx.db().unit_of_work() as uow:
        require_admin(ctx, uow.conn, "install workflows")
        installed = record_install(ctx, uow.conn, definition, data.decode("utf-8"))
        uow.commit()
    return InstallResult(installed, name)


def install_shipped(ctx: ServiceContext, conn: Connection) -> list[Installed]:
    """For `init`, in its unit of work: install every workflow shipped with casereview,
    as the admin just registered (files in CASEREVIEW_WORKFLOWS are not looked at)."""
    done = []
    for entry in Registry().list():
        data = Path(entry.file).read_bytes()
        if content_hash(data) != entry.definition.content_hash:
            raise InvalidWorkflow(f"{entry.file} changed while it was being installed")
        done.append(record_install(ctx, conn, entry.definition, data.decode("utf-8")))
    return done


# -- new cases -------------------------------------------------------------------------------


def for_new_case(
    ctx: ServiceContext, workflow: str, conn: Connection | None = None
) -> WorkflowDefinition:
    """The definition a new case on `workflow` gets: the highest installed version of
    an id, or the installed version an `id@version` names (a partnership that has not
    moved to a newer version yet, and tests of an older one).

    A version found on disk but not installed is refused (exit 4): finding a file grants
    nothing. A file of an installed version whose content differs is refused as the
    registry refuses it for existing cases (`WorkflowChanged`)."""
    from casereview.store import installed_workflows

    workflow_id, version = split_version(workflow)
    if conn is None:
        with ctx.db().reading() as reading:
            rows = installed_workflows.versions_of(reading, workflow_id)
            every = installed_workflows.list_installed(reading) if not rows else []
    else:
        rows = installed_workflows.versions_of(conn, workflow_id)
        every = installed_workflows.list_installed(conn) if not rows else []
    chosen = [r for r in rows if version is None or int(r["version"]) == version]
    if not chosen:
        found = ctx.registry.versions(workflow_id)
        if version is None or version in found:
            wanted = [version] if version is not None else found
            if wanted:
                raise Refused(
                    "workflow {workflow} is not installed in this database (found on disk: "
                    "{versions}); an admin can install it with '{install}'",
                    workflow=workflow,
                    versions=", ".join(f"v{v}" for v in wanted),
                    install=Step("install_workflow", (workflow,)),
                )
        if rows:
            raise NotFound(
                "workflow {workflow_id} v{version} is not installed in this database "
                "(installed versions: {versions})",
                workflow_id=workflow_id,
                version=version,
                versions=", ".join(f"v{int(r['version'])}" for r in rows),
            )
        ids = sorted({str(r["workflow_id"]) for r in every})
        raise NotFound(
            "no workflow {workflow!r} is installed in this database (installed: {ids})",
            workflow=workflow_id,
            ids=", ".join(ids) or "none",
        )
    newest = _installed(chosen[-1])
    return ctx.registry.get_exact(newest.workflow_id, newest.version, newest.definition_hash)


# -- listing ---------------------------------------------------------------------------------

STATUSES = ("installed", "installed_no_file", "differs", "in_use_not_installed", "not_installed")
"""`workflow list` statuses (JSON `status`): installed, with a file found; installed,
no file found (the database's copy is used); a file found under an installed (id,
version) with other content (refused); cases are pinned to it but it was never
installed (a database from before installs: an admin installs it); found, not
installed."""


@dataclass(frozen=True)
class ListedWorkflow:
    workflow_id: str
    version: int
    title: str | None
    content_hash: str
    status: str
    file: str | None = None
    directory: str | None = None
    installed_seq: int | None = None


@dataclass(frozen=True)
class Listing:
    workflows: list[ListedWorkflow]
    problems: list[str]
    database: str | None
    """None when there is no database yet (nothing is installed)."""


def listing(ctx: ServiceContext) -> Listing:
    """`workflow list`: installed versions, files found but not installed, and
    versions cases use that were never installed."""
    from casereview.store import installed_workflows, location

    registry = ctx.registry
    files = {(e.definition.id, e.definition.version): e for e in registry.list()}
    rows: list[Installed] = []
    pinned: list[tuple[str, int, str]] = []
    database: str | None = location.describe(ctx.url)
    try:
        db = ctx.db()
    except NotFound:
        database = None
    else:
        with db.reading() as conn:
            rows = [_installed(r) for r in installed_workflows.list_installed(conn)]
            pinned = installed_workflows.pinned_by_cases(conn)
    listed: list[ListedWorkflow] = []
    installed_keys = set()
    for row in rows:
        key = (row.workflow_id, row.version)
        installed_keys.add(key)
        entry = files.get(key)
        # A file claiming this (id, version) that is unusable (broken, or two files that
        # disagree) is refused too: the database's copy is used only where no file claims it.
        status = "differs" if registry.has_file(*key) else "installed_no_file"
        if entry is not None:
            same = entry.definition.content_hash == row.definition_hash
            status = "installed" if same else "differs"
        listed.append(
            ListedWorkflow(
                row.workflow_id,
                row.version,
                row.title,
                row.definition_hash,
                status,
                entry.file if entry is not None else None,
                entry.directory if entry is not None else None,
                row.installed_seq,
            )
        )
    in_use = {(wid, version): digest for wid, version, digest in pinned}
    for key, entry in files.items():
        if key not in installed_keys:
            d = entry.definition
            status = "in_use_not_installed" if key in in_use else "not_installed"
            listed.append(
                ListedWorkflow(
                    d.id, d.version, d.title, d.content_hash, status, entry.file, entry.directory
                )
            )
    for (wid, version), digest in in_use.items():
        if (wid, version) not in installed_keys and (wid, version) not in files:
            listed.append(ListedWorkflow(wid, version, None, digest, "in_use_not_installed"))
    listed.sort(key=lambda w: (w.workflow_id, w.version, STATUSES.index(w.status)))
    return Listing(listed, registry.problems(), database)


# -- verification ----------------------------------------------------------------------------

_INSTALL_KEYS = frozenset({"workflow_id", "version", "definition_hash", "title"})


def verify_installed(conn: Connection, events: Iterable[Mapping[str, Any]]) -> list[chain.Finding]:
    """`audit verify`'s check of the installed workflows: the projection must equal
    what the `workflow_install` events (seq, trigger, fields as stored) produce, each
    (id, version) installed once, and each kept content must hash to its install."""
    from casereview.store import installed_workflows

    found: list[chain.Finding] = []
    expected: dict[tuple[str, int], tuple[str, str, int]] = {}
    for event in events:
        seq = int(event["seq"])
        try:
            fields = json.loads(event["fields"])
        except (ValueError, TypeError):
            fields = None
        if not isinstance(fields, dict) or set(fields) != _INSTALL_KEYS:
            found.append(chain.Finding("replay", "a workflow install event cannot be read", seq))
            continue
        key = (str(fields["workflow_id"]), _int(fields["version"]))
        if key in expected:
            found.append(
                chain.Finding(
                    "replay", f"workflow {key[0]} v{key[1]} is installed a second time", seq
                )
            )
            continue
        expected[key] = (str(fields["definition_hash"]), str(fields["title"]), seq)
    stored = {
        (r.workflow_id, r.version): (r.definition_hash, r.title, r.installed_seq)
        for r in map(_installed, installed_workflows.list_installed(conn))
    }
    for wid, version in sorted(set(expected) | set(stored)):
        if expected.get((wid, version)) != stored.get((wid, version)):
            found.append(
                chain.Finding(
                    "projection",
                    f"installed workflow {wid} v{version} differs from the install events",
                )
            )
    for digest, text in installed_workflows.contents(conn):
        if content_hash(text.encode("utf-8")) != digest:
            found.append(
                chain.Finding(
                    "projection",
                    f"the workflow content kept for sha256 {digest[:12]}… does not match it",
                )
            )
    return found


def _int(value: object) -> int:
    return value if type(value) is int else -1
