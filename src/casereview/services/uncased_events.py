"""The record of an event that is filed under no case: user management, workflow
installation, the partnership's name, signing keys, and views of personal fields.

Such an event names no case, state or workflow; it is dated today by the service's
clock and attributed to the account at the keyboard, like every other event, and goes
through the one append path (`store.event_log.append_event`)."""

from __future__ import annotations

from casereview.domain import chain
from casereview.services.context import ServiceContext


def uncased_event(
    ctx: ServiceContext,
    kind: str,
    trigger: str,
    fields: dict[str, object],
    *,
    role: str | None,
    actor: str | None = None,
) -> dict[str, object]:
    """The event of `kind`/`trigger` with `fields`, by `actor` (default: the account at
    the keyboard) in `role`, now."""
    return {
        "kind": kind,
        "case_ref": None,
        "trigger": trigger,
        "from_state": None,
        "to_state": None,
        "occurred_on": ctx.clock.today().isoformat(),
        "recorded_at": chain.format_instant(ctx.clock.now()),
        "actor": ctx.account if actor is None else actor,
        "on_behalf_of": None,
        "role": role,
        "rationale": None,
        "fields": fields,
        "workflow_id": None,
        "workflow_version": None,
        "definition_hash": None,
    }
