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

from casereview.domain.clocks import OPEN_TRIGGER, EventFacts
from casereview.domain.workflow.model import WorkflowDefinition


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


@dataclass(frozen=True)
class _Move:
    sources: frozenset[str]  # `from`, with "*" expanded to every non-terminal state
    to: str | None  # None: the case stays where it is
    clears: tuple[str, ...]  # approval rounds whose sign-offs this trigger discards
    signs: bool


@dataclass(frozen=True)
class _Index:
    """What replay asks of a definition, as plain dicts.

    Replay runs for every event `audit verify` reads and every case `show`/`timeline`
    opens; reading these through the definition's pydantic properties on each event
    cost more than the rest of replay together. Built from the same definition methods
    (`sources_of`, `rounds_cleared_by`, `round_collected_in`, field scopes), so the
    answers are the same.
    """

    moves: dict[str, _Move]
    terminal: dict[str, bool]
    case_fields: frozenset[str]  # fields with scope "case": what `engine.case_scoped` keeps
    signing: dict[str, tuple[str, str]]  # state -> (approval round, its agency field)


def _build_index(definition: WorkflowDefinition) -> _Index:
    moves = {
        t.id: _Move(
            sources=frozenset(definition.sources_of(t)),
            to=t.to,
            clears=tuple(r.id for r in definition.rounds_cleared_by(t.id)),
            signs=t.signs,
        )
        for t in definition.triggers
    }
    signing = {}
    for state in definition.states:
        found = definition.round_collected_in(state.id)
        if found is not None:
            signing[state.id] = (found.id, found.agency_field)
    return _Index(
        moves=moves,
        terminal={s.id: s.terminal for s in definition.states},
        case_fields=frozenset(f.id for f in definition.fields if f.scope == "case"),
        signing=signing,
    )


# The last definition replayed and its index: a process replays case after case of
# the same few definitions, and holding one keeps nothing alive that is not in use.
_last: tuple[WorkflowDefinition, _Index] | None = None


def _index_of(definition: WorkflowDefinition) -> _Index:
    global _last
    cached = _last
    if cached is not None and cached[0] is definition:
        return cached[1]
    index = _build_index(definition)
    _last = (definition, index)
    return index


def _fields_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """The event's fields, read-only: its stored text decoded, or the mapping given
    (`audit verify` decodes each event's fields once and hands over the dict)."""
    value = row["fields"]
    if type(value) is dict:
        return value  # only read here, never kept or changed: no copy needed
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
    index = _index_of(definition)
    for row in events:
        if until is not None and dt.date.fromisoformat(str(row["occurred_on"])) > until:
            break
        _apply(index, case, row)
    return case


def apply_event(definition: WorkflowDefinition, case: Replayed, row: Mapping[str, Any]) -> None:
    """Apply one more event to a replayed case, in place.

    `replay` is a fold of this function; the bulk importer calls it event by event so
    that the snapshot it decides each step against is the one a full replay would give.
    """
    _apply(_index_of(definition), case, row)


def _apply(index: _Index, case: Replayed, row: Mapping[str, Any]) -> None:
    """`apply_event` with the definition's index already found (once per case)."""
    occurred_text = str(row["occurred_on"])
    occurred = dt.date.fromisoformat(occurred_text)
    seq = int(row["seq"])
    changes = _fields_of(row)
    trigger_id = str(row["trigger"])
    if trigger_id == OPEN_TRIGGER:
        if case.version:
            case.problems.append((seq, "the case is opened twice"))
        case.state = str(row["to_state"])
        case.pseudonym = str(changes.get("pseudonym", ""))
        case.fields = {k: v for k, v in changes.items() if k != "pseudonym"}
        case.opened_on = occurred_text
        changed = frozenset(case.fields)
    else:
        move = index.moves.get(trigger_id)
        if move is None:
            case.problems.append((seq, f"unknown trigger {trigger_id!r}"))
            return
        state = case.state
        if row["from_state"] != state:
            case.problems.append(
                (seq, f"recorded from {row['from_state']} but the case was in {state}")
            )
        if state not in move.sources:
            case.problems.append((seq, f"{trigger_id} is not possible from {state}"))
        expected_to = move.to if move.to is not None else state
        if row["to_state"] != expected_to:
            case.problems.append(
                (seq, f"recorded to {row['to_state']} but {trigger_id} leads to {expected_to}")
            )
        for cleared in move.clears:
            case.approvals.pop(cleared, None)
        if move.signs:
            signing = index.signing.get(state)
            agency = changes.get(signing[1]) if signing else None
            if signing is not None and isinstance(agency, str):
                case.approvals.setdefault(signing[0], {})[agency] = seq
        if changes:
            case_fields = index.case_fields
            kept = {k: v for k, v in changes.items() if k in case_fields}
            case.fields.update(kept)
            changed = frozenset(kept)
        else:
            changed = _NOTHING
        case.state = expected_to
    case.version += 1
    case.last_event_on = occurred_text
    case.last_seq = seq
    case._terminal = index.terminal.get(case.state, False)
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


_NOTHING: frozenset[str] = frozenset()
