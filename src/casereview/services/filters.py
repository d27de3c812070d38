"""Checking the ids people type as filters (a state, clock, trigger or role to list by)
against the workflows casereview knows, before anything is read or written.

A filter that matches no id any workflow declares would silently list nothing; instead it
is refused (exit 2) with the nearest id ("did you mean 'closed'?") or the ids there are.
"""

from __future__ import annotations

from typing import Literal

from casereview.domain.workflow.references import unknown
from casereview.errors import InvalidInput
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
        raise InvalidInput(unknown(kind, value, ids))
