"""Workflow definitions: the process a case follows, as data.

- `model`: the definition's shape (pydantic, frozen) and the accessors the engine uses.
- `loader`: file → validated definition, every problem as a readable line.
- `references`: cross-reference checks between the tables of one definition.
- `lint`: domain checks on the process graph and the clocks.
- `registry`: installed definitions, identity (id + version + content hash).
- `cache`: validated definitions kept on disk between processes.
- `machine`: a definition compiled into a `transitions` machine (imported on demand).
- `diagram`: Mermaid text.

The names below are imported on first use (PEP 562), not with the package: a command
that takes its definitions from the cache never imports the loader (TOML, validation
errors), which `from casereview.workflow import …` here would otherwise pull in. The
model imports pydantic; keep this package off the CLI's start-up path (import it inside
command functions).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

_HOMES = {
    "check_bytes": "loader",
    "load_bytes": "loader",
    "load_path": "loader",
    "InstalledWorkflow": "registry",
    "Registry": "registry",
    "WorkflowChanged": "registry",
}
"""Where each public name lives; every other one is in `model`."""

if TYPE_CHECKING:
    from casereview.workflow.loader import check_bytes, load_bytes, load_path
    from casereview.workflow.model import (
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
    from casereview.workflow.registry import InstalledWorkflow, Registry, WorkflowChanged


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
    "InstalledWorkflow",
    "Registry",
    "Role",
    "Settings",
    "State",
    "Trigger",
    "WorkflowChanged",
    "WorkflowDefinition",
    "WorkflowKey",
    "check_bytes",
    "content_hash",
    "load_bytes",
    "load_path",
]
