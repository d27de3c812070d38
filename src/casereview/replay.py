"""Rebuilding a case from its events. Pure.

The write path and `audit verify` share this code, so the projection a write stores is
by construction what a replay of the log produces; verify re-runs it and compares.
Replay does not re-check roles (people's roles change over time; the log records the
role used), but it does check that every event is a legal move of the workflow.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from casereview.clocks import OPEN_TRIGGER, EventFacts
from casereview.engine import case_scoped
from casereview.workflow.model import WorkflowDefinition


@dataclass
class Replayed:
    ref: str
    state: str = ""
    pseudonym: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    approvals: dict[str, dict[str, int]] = field(default_factory=dict)
    version: int = 0
    opened_on: str = ""
    last_event_on: str = ""
    last_seq: int = 0
    facts: list[EventFacts] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self._terminal

    _terminal: bool = False


def _fields_of(row: Mapping[str, Any]) -> dict[str, Any]:
    value = row["fields"]
    if isinstance(value, str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return dict(value)


def replay(
    definition: WorkflowDefinition,
    ref: str,
    events: Iterable[Mapping[str, Any]],
    *,
    until: dt.date | None = None,
) -> Replayed:
    """Apply a case's events in order (optionally only those on or before `until`)."""
    case = Replayed(ref=ref)
    for row in events:
        occurred = dt.date.fromisoformat(str(row["occurred_on"]))
        if until is not None and occurred > until:
            break
        seq = int(row["seq"])
        changes = _fields_of(row)
        trigger_id = str(row["trigger"])
        if trigger_id == OPEN_TRIGGER:
            if case.version:
                case.problems.append((seq, "the case is opened twice"))
            case.state = str(row["to_state"])
            case.pseudonym = str(changes.get("pseudonym", ""))
            case.fields = {k: v for k, v in changes.items() if k != "pseudonym"}
            case.opened_on = str(row["occurred_on"])
            changed = frozenset(case.fields)
        else:
            trigger = definition.triggers_by_id.get(trigger_id)
            if trigger is None:
                case.problems.append((seq, f"unknown trigger {trigger_id!r}"))
                continue
            if row["from_state"] != case.state:
                case.problems.append(
                    (seq, f"recorded from {row['from_state']} but the case was in {case.state}")
                )
            if case.state not in definition.sources_of(trigger):
                case.problems.append((seq, f"{trigger_id} is not possible from {case.state}"))
            expected_to = trigger.destination_from(case.state)
            if row["to_state"] != expected_to:
                case.problems.append(
                    (seq, f"recorded to {row['to_state']} but {trigger_id} leads to {expected_to}")
                )
            for cleared in definition.rounds_cleared_by(trigger_id):
                case.approvals.pop(cleared.id, None)
            if trigger.signs:
                signing = definition.round_collected_in(case.state)
                agency = changes.get(signing.agency_field) if signing else None
                if signing is not None and isinstance(agency, str):
                    case.approvals.setdefault(signing.id, {})[agency] = seq
            kept = case_scoped(definition, changes)
            case.fields.update(kept)
            case.state = expected_to
            changed = frozenset(kept)
        case.version += 1
        case.last_event_on = str(row["occurred_on"])
        case.last_seq = seq
        known = definition.states_by_id.get(case.state)
        case._terminal = known.terminal if known is not None else False
        case.facts.append(
            EventFacts(
                trigger=trigger_id,
                occurred_on=occurred,
                to_state=case.state,
                fields_after=dict(case.fields),
                changed=changed,
                seq=seq,
            )
        )
    return case
