"""Workflow definitions: the process a case follows, as data.

`model` (the definition's shape and the engine's accessors), `moves` (where each trigger
may fire), `loader` (file to validated definition, every problem as a line), `references`
(checks between tables), `lint` (checks on the process graph and the clocks), `machine`
(a `transitions` cross-check, imported on demand) and `diagram` (Mermaid text). Keep this
package off the CLI's start-up path: import it inside command functions.
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


# The names are imported on first use (PEP 562), not with the package: a command that
# takes its definitions from the cache never imports the loader (TOML, validation
# errors), which importing them here would pull in.
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
