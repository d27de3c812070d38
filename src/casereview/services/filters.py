"""Checking the ids people type as filters (a state, clock, trigger or role to list by,
or a workflow, with or without `@version`) against the workflows casereview knows,
before anything is read or written.

A filter that matches no id any workflow declares would silently list nothing; instead it
is refused (exit 2) with the nearest id ("did you mean 'closed'?") or the ids there are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from casereview.errors import Input, InvalidInput
from casereview.services.context import ServiceContext

Kind = Literal["state", "clock", "trigger", "role"]


def known(ctx: ServiceContext, kind: Kind) -> set[str]:
    """Every id of `kind` some workflow declares."""
    ids: set[str] = set()
    if kind == "role":
        # Imported here: the users service writes (SQLAlchemy), which the reads that
        # check a state or clock filter must not load.
        from casereview.services.users import ADMIN

        ids.add(ADMIN)
    for entry in ctx.registry.list():
        definition = entry.definition
        if kind == "state":
            ids.update(s.id for s in definition.states)
        elif kind == "clock":
            ids.update(c.id for c in definition.clocks)
        elif kind == "trigger":
            ids.update(t.id for t in definition.triggers)
        else:
            ids.update(r.id for r in definition.roles)
    if kind == "trigger":
        # Steps every case's log holds whatever its workflow: opening, and amendments.
        from casereview.domain.clocks import AMENDING_TRIGGERS, OPEN_TRIGGER

        ids.update((OPEN_TRIGGER, *AMENDING_TRIGGERS))
    return ids


def check(ctx: ServiceContext, kind: Kind, value: str) -> None:
    """Refuse (InvalidInput, exit 2) a `value` no workflow declares as a `kind`."""
    ids = known(ctx, kind)
    if value not in ids:
        from casereview.domain.workflow.references import unknown

        raise InvalidInput(unknown(kind, value, ids))


WorkflowFilter = tuple[str, int | None]
"""An installed workflow's id and, when asked for, one of its versions."""


def workflow(ctx: ServiceContext, value: str) -> WorkflowFilter:
    """The installed workflow `value` names (an id, or `id@N` for one version), refused
    (InvalidInput, exit 2) with the nearest id, or the versions there are, if none is."""
    from casereview.infra.workflows.registry import split_version

    workflow_id, version = split_version(value)
    installed = {entry.definition.id for entry in ctx.registry.list()}
    if workflow_id not in installed:
        from casereview.domain.workflow.references import unknown

        raise InvalidInput(unknown("workflow", workflow_id, installed))
    versions = ctx.registry.versions(workflow_id)
    if version is not None and version not in versions:
        raise InvalidInput(
            "workflow {workflow} has no version {version} installed (versions: {versions})",
            workflow=workflow_id,
            version=version,
            versions=", ".join(str(v) for v in versions),
        )
    return workflow_id, version


def short_labels(ctx: ServiceContext) -> dict[str, str]:
    """Each installed workflow id's short label ("SAR"), from its latest version that
    declares one; the id itself where none does."""
    return ctx.registry.short_labels()


def clocks(ctx: ServiceContext, values: Iterable[str]) -> tuple[str, ...]:
    """The clock ids `values` names, each one some installed workflow declares, in the
    order given and once each; refused (InvalidInput, exit 2) naming every clock id the
    installed workflows declare when one is not among them."""
    chosen = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
    if not chosen:
        return ()
    ids = known(ctx, "clock")
    for value in chosen:
        if value not in ids:
            raise InvalidInput(
                "{clock}: unknown clock {value!r}; the installed workflows' clocks are {ids}",
                clock=Input("clock"),
                value=value,
                ids=", ".join(sorted(ids)),
            )
    return chosen


def clock_names(ctx: ServiceContext) -> tuple[tuple[str, str], ...]:
    """Every clock id the installed workflows declare, with its label (the labels of
    one id in several workflows joined when they differ), sorted by label: what a
    clock filter offers."""
    labels: dict[str, list[str]] = {}
    for entry in ctx.registry.list():
        for clock in entry.definition.clocks:
            seen = labels.setdefault(clock.id, [])
            if clock.label not in seen:
                seen.append(clock.label)
    return tuple(
        sorted(((i, " / ".join(ls)) for i, ls in labels.items()), key=lambda p: (p[1], p[0]))
    )
