"""What changed between two workflow definitions.

A diff is a flat list of changes, each in one section of the file (the workflow's own
keys, settings, roles, agencies, fields, states, triggers, approval rounds, clocks, the
report table, the corrections table). Items of a list section are matched by id, so a
renamed id shows as one removal and one addition: ids are the stable vocabulary, and a
rename is exactly what a reader must notice. Values are compared in the file's own keys
(`from`, not the model's attribute name), as the definition's JSON dump gives them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from casereview.domain.workflow.model import WorkflowDefinition

ChangeKind = Literal["added", "removed", "changed"]

LIST_SECTIONS = (
    "roles",
    "agencies",
    "fields",
    "states",
    "triggers",
    "approval_rounds",
    "clocks",
)
"""The sections whose items have ids, in the order a diff lists them."""

TABLE_SECTIONS = ("settings", "report", "corrections")
"""The sections that are one table each, compared key by key."""

WORKFLOW_SECTION = "workflow"
"""The definition's own keys (title, initial state, opening roles, sources, …)."""

_IDENTITY = ("id", "version")


@dataclass(frozen=True)
class AttributeChange:
    """One key whose value differs; `name` is dotted for a nested key (`anchor.field`)."""

    name: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    section: str
    item: str | None
    """The id of the item within a list section; None for a table or the workflow."""
    kind: ChangeKind
    label: str = ""
    """The item's label, for an added or removed item."""
    attributes: tuple[AttributeChange, ...] = ()
    """What differs, for a changed item or table."""


@dataclass(frozen=True)
class WorkflowDiff:
    before: str
    after: str
    """The two definitions as messages name them (`england-lcspr v1`)."""
    changes: tuple[Change, ...]

    def count(self, kind: ChangeKind) -> int:
        return sum(1 for c in self.changes if c.kind == kind)


def diff(before: WorkflowDefinition, after: WorkflowDefinition) -> WorkflowDiff:
    """Every difference between `before` and `after`, section by section."""
    old = before.model_dump(mode="json", by_alias=True)
    new = after.model_dump(mode="json", by_alias=True)
    changes: list[Change] = []
    own = _attributes(
        {k: v for k, v in old.items() if _is_own_key(k)},
        {k: v for k, v in new.items() if _is_own_key(k)},
    )
    if own:
        changes.append(Change(WORKFLOW_SECTION, None, "changed", attributes=own))
    for section in LIST_SECTIONS:
        changes.extend(_list_changes(section, old.get(section) or [], new.get(section) or []))
    for section in TABLE_SECTIONS:
        changes.extend(_table_changes(section, old.get(section), new.get(section)))
    return WorkflowDiff(before.label, after.label, tuple(changes))


def _is_own_key(key: str) -> bool:
    return key not in LIST_SECTIONS and key not in TABLE_SECTIONS


def _list_changes(
    section: str, before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> Iterator[Change]:
    old = {item["id"]: item for item in before}
    new = {item["id"]: item for item in after}
    # Kept items in the new file's order, then removals in the old file's order: a
    # reader follows the new version and sees what it lost at the end of the section.
    for item_id, item in new.items():
        if item_id not in old:
            yield Change(section, item_id, "added", label=str(item.get("label", "")))
            continue
        attributes = _attributes(old[item_id], item)
        if attributes:
            yield Change(section, item_id, "changed", attributes=attributes)
    for item_id, item in old.items():
        if item_id not in new:
            yield Change(section, item_id, "removed", label=str(item.get("label", "")))


def _table_changes(section: str, before: Any, after: Any) -> Iterator[Change]:
    if before == after:
        return
    if before is None:
        yield Change(section, None, "added")
    elif after is None:
        yield Change(section, None, "removed")
    else:
        yield Change(section, None, "changed", attributes=_attributes(before, after))


def _attributes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[AttributeChange, ...]:
    old, new = dict(_flatten(before)), dict(_flatten(after))
    names = [n for n in new if n not in _IDENTITY] + [n for n in old if n not in new]
    return tuple(
        AttributeChange(name, old.get(name), new.get(name))
        for name in names
        if name not in _IDENTITY and old.get(name) != new.get(name)
    )


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested tables as dotted keys, so a change deep in a clock's anchor names itself;
    lists stay whole (a trigger's `from` list is one value)."""
    for key, value in table.items():
        if isinstance(value, Mapping) and value:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
