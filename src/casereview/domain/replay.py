"""Rebuilding a case from its events: the only replay. Pure.

`replay` folds `apply_event` over a case's events. `ReplayRules` holds what that asks
of a definition, and `ReplayRules.fields_kept` is the one rule for which of an event's
fields its case keeps: the decision-log builder and the annual report's event filter use
it rather than keeping their own. The write path and `audit verify` share this code, so
the projection a write stores is by construction what a replay of the log produces;
verify re-runs it and compares. Replay does not re-check roles (people's roles change
over time; the log records the role used), but it does check that every event is a
legal move of the workflow (its table of moves) and reports any that is not.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from casereview.domain.clocks import OPEN_TRIGGER, EventFacts
from casereview.domain.workflow.model import WorkflowDefinition

PSEUDONYM = "pseudonym"
"""The opening field a case keeps apart from its other fields."""

_NOTHING: frozenset[str] = frozenset()
_PSEUDONYMS = frozenset({PSEUDONYM})


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


@dataclass(frozen=True, slots=True)
class _Effect:
    """What a trigger does to the case beyond its move, whichever state it fires in."""

    to: str | None  # None: the case stays where it is
    clears: tuple[str, ...]  # approval rounds whose sign-offs this trigger discards
    signs: bool


class ReplayRules:
    """What replay asks of one definition, as plain lookups built once.

    Replay runs for every event `audit verify` reads and every case `show`/`timeline`
    opens, so it reads plain dicts rather than the definition's pydantic properties on
    each event. Whether a move is legal is the
    definition's table of moves; the rest is built from the definition's own methods
    (`rounds_cleared_by`, `round_collected_in`, field scopes), so the answers are the
    same. `fields_kept` is the one rule for which of an event's fields its case keeps:
    the decision-log builder and the report's event filter ask it too.
    """

    __slots__ = ("case_fields", "effects", "moves", "signing", "staying", "terminal")

    def __init__(self, definition: WorkflowDefinition) -> None:
        self.moves = definition.moves
        self.effects = {
            t.id: _Effect(
                to=t.to,
                clears=tuple(r.id for r in definition.rounds_cleared_by(t.id)),
                signs=t.signs,
            )
            for t in definition.triggers
        }
        # Triggers that leave the case in whatever state it is in.
        self.staying = frozenset(t.id for t in definition.triggers if t.to is None)
        self.terminal = {s.id: s.terminal for s in definition.states}
        # Fields with scope "case": the ones a later event sets on its case.
        self.case_fields = frozenset(f.id for f in definition.fields if f.scope == "case")
        self.signing: dict[str, tuple[str, str]] = {}  # state -> (round, its agency field)
        for state in definition.states:
            found = definition.round_collected_in(state.id)
            if found is not None:
                self.signing[state.id] = (found.id, found.agency_field)

    def fields_kept(self, trigger: str, changes: Mapping[str, Any]) -> frozenset[str]:
        """The ids of an event's fields that its case keeps: at the opening every one but
        the pseudonym (which the case keeps apart), later those of scope "case"."""
        if not changes:
            return _NOTHING
        if trigger == OPEN_TRIGGER:
            return frozenset(changes).difference(_PSEUDONYMS)
        return self.case_fields.intersection(changes)


def pseudonym_given(changes: Mapping[str, Any]) -> str:
    """The pseudonym an opening event gives its case ("" if none)."""
    return str(changes.get(PSEUDONYM, ""))


# The last definition replayed and its rules: a process replays case after case of the
# same few definitions, and holding one keeps nothing alive that is not in use.
_last: tuple[WorkflowDefinition, ReplayRules] | None = None


def rules_of(definition: WorkflowDefinition) -> ReplayRules:
    """The replay rules of `definition` (the last one asked for is kept)."""
    global _last
    cached = _last
    if cached is not None and cached[0] is definition:
        return cached[1]
    rules = ReplayRules(definition)
    _last = (definition, rules)
    return rules


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
    rules = rules_of(definition)
    for row in events:
        if until is not None and dt.date.fromisoformat(str(row["occurred_on"])) > until:
            break
        _apply(rules, case, row)
    return case


def apply_event(definition: WorkflowDefinition, case: Replayed, row: Mapping[str, Any]) -> None:
    """Apply one more event to a replayed case, in place.

    `replay` is a fold of this function; the bulk importer calls it event by event so
    that the snapshot it decides each step against is the one a full replay would give.
    """
    _apply(rules_of(definition), case, row)


def _apply(rules: ReplayRules, case: Replayed, row: Mapping[str, Any]) -> None:
    """`apply_event` with the definition's rules already found (once per case)."""
    occurred_text = str(row["occurred_on"])
    occurred = dt.date.fromisoformat(occurred_text)
    seq = int(row["seq"])
    changes = _fields_of(row)
    trigger_id = str(row["trigger"])
    kept = rules.fields_kept(trigger_id, changes)
    if trigger_id == OPEN_TRIGGER:
        if case.version:
            case.problems.append((seq, "the case is opened twice"))
        case.state = str(row["to_state"])
        case.pseudonym = pseudonym_given(changes)
        case.fields = {k: v for k, v in changes.items() if k in kept}
        case.opened_on = occurred_text
    else:
        effect = rules.effects.get(trigger_id)
        if effect is None:
            case.problems.append((seq, f"unknown trigger {trigger_id!r}"))
            return
        state = case.state
        if row["from_state"] != state:
            case.problems.append(
                (seq, f"recorded from {row['from_state']} but the case was in {state}")
            )
        move = rules.moves.get(state, trigger_id)
        if move is not None:
            expected_to = move.to_state
        else:
            case.problems.append((seq, f"{trigger_id} is not possible from {state}"))
            expected_to = effect.to if effect.to is not None else state
        if row["to_state"] != expected_to:
            case.problems.append(
                (seq, f"recorded to {row['to_state']} but {trigger_id} leads to {expected_to}")
            )
        for cleared in effect.clears:
            case.approvals.pop(cleared, None)
        if effect.signs:
            signing = rules.signing.get(state)
            agency = changes.get(signing[1]) if signing else None
            if signing is not None and isinstance(agency, str):
                case.approvals.setdefault(signing[0], {})[agency] = seq
        if kept:
            case.fields.update({k: v for k, v in changes.items() if k in kept})
        case.state = expected_to
    case.version += 1
    case.last_event_on = occurred_text
    case.last_seq = seq
    case._terminal = rules.terminal.get(case.state, False)
    case.facts.append(
        EventFacts(
            trigger=trigger_id,
            occurred_on=occurred,
            to_state=case.state,
            fields_after=dict(case.fields),
            changed=kept,
            seq=seq,
        )
    )
