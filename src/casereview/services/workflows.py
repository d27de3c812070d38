"""Checking and comparing workflow files and installed workflows: `workflow validate`,
`workflow lint` and `workflow diff`.

This module owns what the domain cannot do by itself: reading the files named, asking
the registry for installed definitions, and putting validation problems before lint
findings (lint needs a valid definition, so it runs once those are fixed). The checks
themselves are the domain's (`domain.workflow.loader`, `references`, `lint`). Each
result is a `lint.Report` whose problem lines start with the file or workflow checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from casereview.domain.workflow.diff import WorkflowDiff, diff
from casereview.domain.workflow.lint import Report, lint_report
from casereview.domain.workflow.loader import check_bytes, load_path
from casereview.errors import InvalidWorkflow, NotFound
from casereview.infra.workflows.registry import Registry, is_file_target


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
