"""Workflow definitions: the process a case follows, as data.

- `model`: the definition's shape (pydantic, frozen) and the accessors the engine uses.
- `loader`: file → validated definition, every problem as a readable line.
- `references`: cross-reference checks between the tables of one definition.
- `lint`: domain checks on the process graph and the clocks.
- `registry`: installed definitions, identity (id + version + content hash).
- `machine`: a definition compiled into a `transitions` machine (imported on demand).
- `diagram`: Mermaid text.

Importing this package imports pydantic; keep it off the CLI's start-up path (import it
inside command functions).
"""

from casereview.workflow.loader import check_bytes, content_hash, load_bytes, load_path
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
)
from casereview.workflow.registry import InstalledWorkflow, Registry, WorkflowChanged

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
