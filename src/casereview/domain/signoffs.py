"""Sign-off rounds: which round a sign-off signs, and what one event does to a case's rounds.

A workflow's `[[approval_rounds]]` are of two kinds. A *state round* (`collect_in` only) is
open whenever the case is in one of its states: the rapid review's sign-off. An *opened
round* (`opened_by`) is opened by an event (a decision the partners must sign: maintaining
a decision the Panel disputed, what to publish), names the agencies that must sign, and a
later trigger's `approval_complete` guard may require it complete; opening it again
starts a new round of the same name and discards the old one's sign-offs.

A case keeps `approvals` (round -> agency -> seq of the sign-off) and `opened` (round ->
`{"seq", "on", "trigger"}` of the event that opened the current round of an opened kind).
A sign-off signs the latest opened round that is not yet complete and may be signed in the
case's state, else the state's round. `step` is the one fold of these rules: replay, the
engine's check of a correction's history, and the engine's decision all follow it.

Pure: a definition and a case's rounds in, the rounds after one event out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from casereview.domain.workflow.derived import PerDefinition
from casereview.domain.workflow.model import ApprovalRound, WorkflowDefinition

Approvals = dict[str, dict[str, int]]
Opened = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class RoundRules:
    """What the rounds ask of one definition, looked up once (replay runs per event)."""

    rounds: Mapping[str, ApprovalRound]
    state_rounds: Mapping[str, ApprovalRound]  # state -> its state round
    opens: Mapping[str, tuple[str, ...]]  # trigger -> rounds it opens
    clears: Mapping[str, tuple[str, ...]]  # trigger -> rounds it discards
    signs: frozenset[str]  # triggers that sign
    any_opened: bool  # the workflow has rounds that triggers open

    @classmethod
    def of(cls, definition: WorkflowDefinition) -> RoundRules:
        state_rounds: dict[str, ApprovalRound] = {}
        for state in definition.states:
            found = definition.round_collected_in(state.id)
            if found is not None:
                state_rounds[state.id] = found
        return cls(
            rounds=definition.approval_rounds_by_id,
            state_rounds=state_rounds,
            opens={
                t.id: tuple(r.id for r in definition.rounds_opened_by(t.id))
                for t in definition.triggers
                if definition.rounds_opened_by(t.id)
            },
            clears={
                t.id: tuple(r.id for r in definition.rounds_cleared_by(t.id))
                for t in definition.triggers
                if definition.rounds_cleared_by(t.id)
            },
            signs=frozenset(t.id for t in definition.triggers if t.signs),
            any_opened=any(r.opened for r in definition.approval_rounds),
        )


rules_of = PerDefinition(RoundRules.of)
"""The round rules of a definition, built once for each of the last few."""


def missing(rnd: ApprovalRound, approvals: Mapping[str, Mapping[str, int]]) -> list[str]:
    """The agencies of `rnd` that have not signed its current round, in the file's order."""
    signed = approvals.get(rnd.id, {})
    return [a for a in rnd.agencies if a not in signed]


def signing_round(
    rules: RoundRules,
    state: str,
    approvals: Mapping[str, Mapping[str, int]],
    opened: Mapping[str, Mapping[str, Any]],
) -> ApprovalRound | None:
    """The round a sign-off in `state` signs: the latest opened round still waiting for
    someone that may be signed there, else the state's round (None: nothing to sign)."""
    best: ApprovalRound | None = None
    best_seq = -1
    for round_id, info in opened.items():
        rnd = rules.rounds.get(round_id)
        if rnd is None or not rnd.signable_in(state) or not missing(rnd, approvals):
            continue
        seq = int(info.get("seq", 0))
        if seq > best_seq:
            best, best_seq = rnd, seq
    if best is not None:
        return best
    return rules.state_rounds.get(state)


def not_complete(
    rnd: ApprovalRound,
    approvals: Mapping[str, Mapping[str, int]],
    opened: Mapping[str, Mapping[str, Any]],
) -> str | None:
    """Why `rnd` is not complete, in words (None when every agency signed it)."""
    if rnd.opened and rnd.id not in opened:
        return f"{rnd.label} has not been opened (opened by {', '.join(rnd.opened_by)})"
    waiting = missing(rnd, approvals)
    if waiting:
        return f"{rnd.label} is not complete: still waiting for {', '.join(waiting)}"
    return None


def step(
    rules: RoundRules,
    approvals: Approvals,
    opened: Opened,
    *,
    trigger: str,
    state: str,
    seq: int,
    on: str,
    fields: Mapping[str, Any],
) -> tuple[ApprovalRound, str] | None:
    """Apply one event to a case's rounds, in place: the rounds it clears are discarded,
    those it opens start anew, and a sign-off (fired in `state`) records its agency.
    Returns the round signed and the agency (None when the event signs nothing, or names
    no agency). Whether the agency may sign is the engine's check; replay follows the log.
    """
    for round_id in rules.clears.get(trigger, ()):
        approvals.pop(round_id, None)
        opened.pop(round_id, None)
    for round_id in rules.opens.get(trigger, ()):
        approvals.pop(round_id, None)
        opened[round_id] = {"seq": seq, "on": on, "trigger": trigger}
    if trigger not in rules.signs:
        return None
    rnd = signing_round(rules, state, approvals, opened)
    agency = fields.get(rnd.agency_field) if rnd is not None else None
    if rnd is None or not isinstance(agency, str):
        return None
    approvals.setdefault(rnd.id, {})[agency] = seq
    return rnd, agency


@dataclass(frozen=True)
class RoundView:
    """One round as a case shows it: who has signed and who has not."""

    round: str
    label: str
    signed: tuple[str, ...]
    waiting_for: tuple[str, ...]
    opened_on: str | None  # an opened round: the day it was opened
    opened_by: str | None  # ... and the trigger that opened it


def rounds_shown(
    definition: WorkflowDefinition,
    state: str,
    approvals: Mapping[str, Mapping[str, int]],
    opened: Mapping[str, Mapping[str, Any]],
) -> tuple[RoundView, ...]:
    """The rounds a case shows, in the file's order: every opened round, the state's
    round, and any round holding sign-offs."""
    shown = []
    for rnd in definition.approval_rounds:
        info = opened.get(rnd.id)
        if (
            info is None
            and rnd.id not in approvals
            and not (not rnd.opened and state in rnd.collect_in)
        ):
            continue
        signed = approvals.get(rnd.id, {})
        shown.append(
            RoundView(
                round=rnd.id,
                label=rnd.label,
                signed=tuple(a for a in rnd.agencies if a in signed)
                + tuple(sorted(a for a in signed if a not in rnd.agencies)),
                waiting_for=tuple(missing(rnd, approvals)),
                opened_on=None if info is None else str(info.get("on")),
                opened_by=None if info is None else str(info.get("trigger")),
            )
        )
    return tuple(shown)
