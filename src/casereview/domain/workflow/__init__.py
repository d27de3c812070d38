"""Workflow definitions: the process a case follows, as data.

- `model`: the definition's shape (pydantic, frozen) and the accessors the engine uses.
- `moves`: where each trigger may fire and where it leads (the definition holds it).
- `loader`: file → validated definition, every problem as a readable line.
- `references`: cross-reference checks between the tables of one definition.
- `lint`: domain checks on the process graph and the clocks.
- `machine`: a `transitions` machine that cross-checks the moves (imported on demand).
- `diagram`: Mermaid text.

The names below are imported on first use (PEP 562), not with the package: a command
that takes its definitions from the cache never imports the loader (TOML, validation
errors), which `from casereview.domain.workflow import …` here would otherwise pull in. The
model imports pydantic; keep this package off the CLI's start-up path (import it inside
command functions).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

_HOMES = {
    "check_bytes": "loader",
    "load_bytes": "loader",
    "load_path": "loader",
}
"""Where each public name lives; every other one is in `model`."""

if TYPE_CHECKING:
    from casereview.domain.workflow.loader import check_bytes, load_bytes, load_path
    from casereview.domain.workflow.model import (
        EVENT_DATE,
        FROM_ANY,
        OPEN,
        Agency,
        Anchor,
        ApprovalCompleteGuard,
        ApprovalRound,
        Clock,
        FieldEqualsGuard,
        FieldInGuard,
        FieldSetGuard,
        FieldSpec,
        Guard,
        Role,
        Settings,
        State,
        Trigger,
        WorkflowDefinition,
        WorkflowKey,
        content_hash,
    )


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_HOMES.get(name, 'model')}"), name)
    globals()[name] = value
    return value


__all__ = [
    "EVENT_DATE",
    "FROM_ANY",
    "OPEN",
    "Agency",
    "Anchor",
    "ApprovalCompleteGuard",
    "ApprovalRound",
    "Clock",
    "FieldEqualsGuard",
    "FieldInGuard",
    "FieldSetGuard",
    "FieldSpec",
    "Guard",
    "Role",
    "Settings",
    "State",
    "Trigger",
    "WorkflowDefinition",
    "WorkflowKey",
    "check_bytes",
    "content_hash",
    "load_bytes",
    "load_path",
]
