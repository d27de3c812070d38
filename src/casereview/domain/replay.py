"""Rebuilding a case from its events: the only replay. Pure.

`replay` folds `apply_event` over a case's events. `ReplayRules` holds what that asks
of a definition, and `ReplayRules.fields_kept` is the one rule for which of an event's
fields its case keeps: the decision-log builder and the annual report's event filter use
it rather than keeping their own. The write path and `audit verify` share this code, so
the projection a write stores is by construction what a replay of the log produces;
verify re-runs it and compares. Replay does not re-check roles (people's roles change
over time; the log records the role used), but it does check that every event is a
legal move of the workflow (its table of moves) and reports any that is not.

Corrections, undos and voids (`domain.amendments`) are applied here too, so every reader
of a case sees its record put right: replay keeps the case's history as corrected (a
corrected step as a copy with the right values, an undone step taken out) and, after
each correction or undo, rebuilds the case from it; the facts clocks read are those of
the corrected history, so due dates follow corrected dates. What each amendment did is
kept (`Replayed.amendments`, `reversed`, `corrected`) for the views that show it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from casereview.domain import links, processes, signoffs
from casereview.domain.actions import PLAN_KINDS
from casereview.domain.amendments import FIELD, OCCURRED_ON, Change, changes_of, reversed_seq
from casereview.domain.clocks import (
    AMENDING_TRIGGERS,
    CORRECT_TRIGGER,
    OPEN_TRIGGER,
    UNDO_TRIGGER,
    VOID_TRIGGER,
    EventFacts,
)
from casereview.domain.facts import fact_on
from casereview.domain.holds import held_after
from casereview.domain.holds import refusal as hold_refusal
from casereview.domain.imports import SOURCE_FIELD
from casereview.domain.migration import FROM_VERSION, MIGRATE, hold_of, hold_start
from casereview.domain.workflow.derived import PerDefinition
from casereview.domain.workflow.model import DaysApartGuard, Holds, WorkflowDefinition

PSEUDONYM = "pseudonym"
"""The opening field a case keeps apart from its other fields."""

_NOTHING: frozenset[str] = frozenset()
# Kept apart too: where an imported case came from is its events', not a field.
_PSEUDONYMS = frozenset({PSEUDONYM, SOURCE_FIELD})


@dataclass(frozen=True)
class Amendment:
    """A correction, undo or void as replay applied it, with the case's facts (its
    corrected history, as clocks read it) just before and just after: the clocks it
    moved are `clocks.derive` of each."""

    seq: int
    trigger: str  # correct | undo | void
    occurred_on: str  # the day it was recorded
    changes: tuple[Change, ...]  # a correction's changes
    reverses: int | None  # the step an undo reversed
    facts_before: tuple[EventFacts, ...]
    facts_after: tuple[EventFacts, ...]


@dataclass
class Replayed:
    ref: str
    state: str = ""
    pseudonym: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    approvals: dict[str, dict[str, int]] = field(default_factory=dict)
    open_rounds: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The case's opened sign-off rounds (`domain.signoffs`): round -> the `seq`, `on`
    and `trigger` of the event that opened its current round."""
    processes: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The case's parallel processes (the workflow's `[processes]`), by number."""
    links: list[dict[str, Any]] = field(default_factory=list)
    """The links this case recorded to others (the workflow's `[links]`), in order."""
    version: int = 0
    opened_on: str = ""
    last_event_on: str = ""
    last_seq: int = 0
    facts: list[EventFacts] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    history: list[Mapping[str, Any]] = field(default_factory=list)
    """The case's steps as corrected, in order: each event row as replay applies it (a
    corrected one as a copy with the right values), less the steps undone."""
    amendments: list[Amendment] = field(default_factory=list)
    reversed: dict[int, int] = field(default_factory=dict)  # step seq -> its undo's seq
    corrected: dict[int, list[int]] = field(default_factory=dict)  # seq -> corrections' seqs
    rationales: dict[int, str] = field(default_factory=dict)  # seq -> corrected rationale
    voided: int | None = None  # the seq of the void, if the case was opened in error
    voided_on: str = ""
    hold: dict[str, Any] | None = None
    """The hold on the case (the workflow's `[holds]`), None when it is not held:
    `since` (the day it was held), `review_by`, `trigger` and `seq` of the hold, and
    `fields` (what the hold, or its latest review, recorded)."""

    @property
    def closed(self) -> bool:
        return self._terminal

    _terminal: bool = False
    _until: dt.date | None = None
    _stopped: bool = False  # a step dated after `_until` ended the fold
    _amending_problems: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Effect:
    """What a trigger does to the case beyond its move, whichever state it fires in."""

    to: str | None  # None: the case stays where it is
    rounds: bool  # it clears, opens or signs a sign-off round (`domain.signoffs`)


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

    __slots__ = (
        "case_fields",
        "content_hash",
        "definition",
        "effects",
        "fact_fields",
        "holds",
        "links",
        "migrations",
        "moves",
        "overrides",
        "processes",
        "rounds",
        "staying",
        "terminal",
    )

    def __init__(self, definition: WorkflowDefinition) -> None:
        self.moves = definition.moves
        self.definition = definition
        self.content_hash = definition.content_hash
        # Earlier version -> its state map, for cases moved from it (`domain.migration`).
        self.migrations = {m.from_version: m for m in definition.migrations}
        self.rounds = signoffs.rules_of(definition)
        touching = self.rounds.signs.union(self.rounds.opens, self.rounds.clears)
        self.effects = {
            t.id: _Effect(to=t.to, rounds=t.id in touching) for t in definition.triggers
        }
        # Triggers that leave the case in whatever state it is in.
        self.staying = frozenset(t.id for t in definition.triggers if t.to is None)
        self.terminal = {s.id: s.terminal for s in definition.states}
        # Trigger -> the field holding its fact date (`domain.facts`).
        self.fact_fields = {t.id: t.fact_date for t in definition.triggers if t.fact_date}
        self.holds = definition.holds
        self.processes = definition.processes
        self.links = definition.links
        # Override trigger -> the trigger whose check it overrides (`domain.checks`).
        self.overrides = {
            guard.override: t.id
            for t in definition.triggers
            for guard in t.guards
            if isinstance(guard, DaysApartGuard) and guard.override is not None
        }
        # Fields with scope "case": the ones a later event sets on its case.
        self.case_fields = frozenset(f.id for f in definition.fields if f.scope == "case")

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


rules_of = PerDefinition(ReplayRules)
"""The replay rules of a definition, built once for each of the last few."""


def fields_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """The event's fields, read-only: its stored text decoded, or the mapping given
    (`audit verify` decodes each event's fields once and hands over the dict; a
    corrected step holds its corrected fields as a dict)."""
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
    known_by: dt.date | None = None,
) -> Replayed:
    """Apply a case's events in order: its steps as corrected, up to the first dated
    after `until` (when given); corrections, undos and voids recorded on or before
    `known_by` (when given; every one otherwise).

    Showing a case as at a past day gives both the same day (the case as it stood, and as it was
    believed to stand, that day); the annual report cuts the steps at the period's end
    and applies every correction known now.
    """
    case = Replayed(ref=ref, _until=until)
    rules = rules_of(definition)
    for row in events:
        _take(rules, case, row, known_by)
    return case


def apply_event(definition: WorkflowDefinition, case: Replayed, row: Mapping[str, Any]) -> None:
    """Apply one more event to a replayed case, in place.

    `replay` is a fold of this function; the bulk importer calls it event by event so
    that the snapshot it decides each step against is the one a full replay would give.
    """
    _take(rules_of(definition), case, row, None)


def is_amending(trigger: str) -> bool:
    """Whether `trigger` is one of the engine's correction, undo or void events."""
    return trigger in AMENDING_TRIGGERS


def _take(
    rules: ReplayRules, case: Replayed, row: Mapping[str, Any], known_by: dt.date | None
) -> None:
    if row.get("kind", "case") in PLAN_KINDS:
        return  # a record beside the case's steps (its action plan): not a step
    trigger = str(row["trigger"])
    if trigger in AMENDING_TRIGGERS:
        if known_by is not None and dt.date.fromisoformat(str(row["occurred_on"])) > known_by:
            return
        case.version += 1
        case.last_seq = int(row["seq"])
        _amend(rules, case, row, trigger)
        return
    if trigger != OPEN_TRIGGER and trigger not in rules.effects and not _earlier(rules, row):
        # Not a step of this workflow: a finding, and nothing else (kept across refolds).
        _amending_problem(case, int(row["seq"]), f"unknown trigger {trigger!r}")
        return
    until = case._until
    dated_after = until is not None and dt.date.fromisoformat(str(row["occurred_on"])) > until
    if not dated_after:
        case.version += 1
        case.last_seq = int(row["seq"])
    if case.voided is not None:
        _amending_problem(case, int(row["seq"]), "recorded after the case was voided")
    case.history.append(row)
    if case._stopped:
        return
    if dated_after:
        case._stopped = True
        return
    _apply(rules, case, row, trigger)


def _amending_problem(case: Replayed, seq: int, problem: str) -> None:
    """A problem found with an amending event (kept apart: a refold recomputes the rest)."""
    case._amending_problems.append((seq, problem))
    case.problems.append((seq, problem))


def _refold(rules: ReplayRules, case: Replayed) -> None:
    """Rebuild the case from its corrected history (after a correction or an undo)."""
    case.state = ""
    case.pseudonym = ""
    case.fields = {}
    case.approvals = {}
    case.open_rounds = {}
    case.processes = {}
    case.links = []
    case.opened_on = ""
    case.last_event_on = ""
    case.facts = []
    case.hold = None
    case.problems = list(case._amending_problems)
    case._terminal = False
    case._stopped = False
    until = case._until
    for row in case.history:
        if until is not None and dt.date.fromisoformat(str(row["occurred_on"])) > until:
            case._stopped = True
            break
        _apply(rules, case, row, str(row["trigger"]))


def _step_at(case: Replayed, seq: int) -> int | None:
    """Where the step numbered `seq` is in the corrected history (None: not a step)."""
    for index, row in enumerate(case.history):
        if int(row["seq"]) == seq:
            return index
    return None


def _amend(rules: ReplayRules, case: Replayed, row: Mapping[str, Any], trigger: str) -> None:
    """Apply a correction, an undo or a void, and note what it did."""
    seq = int(row["seq"])
    on = str(row["occurred_on"])
    if case.voided is not None:
        _amending_problem(case, seq, "recorded after the case was voided")
        return
    if row["from_state"] != case.state:
        _amending_problem(
            case, seq, f"recorded from {row['from_state']} but the case was in {case.state}"
        )
    before = tuple(case.facts)
    changes: tuple[Change, ...] = ()
    reverses = None
    fields = fields_of(row)
    if trigger == CORRECT_TRIGGER:
        try:
            changes = changes_of(fields)
        except ValueError as exc:
            _amending_problem(case, seq, str(exc))
            return
        for change in changes:
            _correct(case, seq, change)
        _refold(rules, case)
    elif trigger == UNDO_TRIGGER:
        try:
            reverses = reversed_seq(fields)
        except ValueError as exc:
            _amending_problem(case, seq, str(exc))
            return
        last = case.history[-1] if case.history else None
        if last is None or last["trigger"] == OPEN_TRIGGER or int(last["seq"]) != reverses:
            _amending_problem(
                case, seq, f"reverses event {reverses}, which is not the case's latest step"
            )
            return
        case.history.pop()
        case.reversed[reverses] = seq
        _refold(rules, case)
    else:
        case.voided = seq
        case.voided_on = on
        _void_fact(case)
    if row["to_state"] != case.state:
        _amending_problem(
            case, seq, f"recorded to {row['to_state']} but the case is in {case.state}"
        )
    case.amendments.append(
        Amendment(seq, trigger, on, changes, reverses, before, tuple(case.facts))
    )


def _correct(case: Replayed, seq: int, change: Change) -> None:
    """Put one change into the corrected history (the caller refolds)."""
    index = _step_at(case, change.event)
    if index is None:
        _amending_problem(
            case, seq, f"corrects event {change.event}, which is not a step of the case"
        )
        return
    step = case.history[index]
    if change.what == FIELD:
        assert change.field is not None  # `changes_of` checked it
        recorded = fields_of(step)
        if recorded.get(change.field) != change.was:
            _amending_problem(
                case,
                seq,
                f"says {change.field} of event {change.event} was {change.was!r}, "
                f"but it was {recorded.get(change.field)!r}",
            )
        case.history[index] = {**step, "fields": {**recorded, change.field: change.now}}
    elif change.what == OCCURRED_ON:
        if str(step["occurred_on"]) != change.was:
            _amending_problem(
                case,
                seq,
                f"says event {change.event} was dated {change.was!r}, "
                f"but it was dated {step['occurred_on']!r}",
            )
        try:
            dt.date.fromisoformat(str(change.now))
        except ValueError:
            _amending_problem(case, seq, f"dates event {change.event} {change.now!r}")
            return
        case.history[index] = {**step, "occurred_on": str(change.now)}
    else:
        case.rationales[change.event] = str(change.now)
    by = case.corrected.setdefault(change.event, [])
    if seq not in by:
        by.append(seq)


def _void_fact(case: Replayed) -> None:
    """The void as the clocks read it: the end of every clock."""
    assert case.voided is not None
    case.facts.append(
        EventFacts(
            trigger=VOID_TRIGGER,
            occurred_on=dt.date.fromisoformat(case.voided_on),
            to_state=case.state,
            fields_after=dict(case.fields),
            changed=_NOTHING,
            seq=case.voided,
        )
    )


def _earlier(rules: ReplayRules, row: Mapping[str, Any]) -> bool:
    """Whether `row` is a move between versions, or a step recorded under an earlier
    version of this workflow that this one has a state map from (`domain.migration`)."""
    if row["trigger"] == MIGRATE:
        return True
    digest = row.get("definition_hash")
    return (
        bool(rules.migrations)
        and digest is not None
        and digest != rules.content_hash
        and row.get("workflow_version") in rules.migrations
    )


def _apply(rules: ReplayRules, case: Replayed, row: Mapping[str, Any], trigger_id: str) -> None:
    """One step of the case's history applied to the case (found rules in hand)."""
    occurred_text = str(row["occurred_on"])
    occurred = dt.date.fromisoformat(occurred_text)
    seq = int(row["seq"])
    changes = fields_of(row)
    if trigger_id != OPEN_TRIGGER and _earlier(rules, row):
        _apply_across(rules, case, row, trigger_id, changes)
        return
    kept = rules.fields_kept(trigger_id, changes)
    if trigger_id == OPEN_TRIGGER:
        if case.opened_on:
            case.problems.append((seq, "the case is opened twice"))
        case.state = str(row["to_state"])
        if _earlier(rules, row):  # opened under an earlier version: its mapped state
            case.state = rules.migrations[row["workflow_version"]].states.get(
                case.state, case.state
            )
        case.pseudonym = pseudonym_given(changes)
        case.fields = {k: v for k, v in changes.items() if k in kept}
        case.opened_on = occurred_text
    else:
        effect = rules.effects[trigger_id]  # `_take` keeps unknown triggers out
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
        if effect.rounds:
            signoffs.step(
                rules.rounds,
                case.approvals,
                case.open_rounds,
                trigger=trigger_id,
                state=state,
                seq=seq,
                on=occurred_text,
                fields=changes,
            )
        if rules.processes is not None:
            problem = processes.apply(
                rules.processes,
                case.processes,
                trigger=trigger_id,
                seq=seq,
                on=occurred_text,
                fields=changes,
            )
            if problem is not None:
                case.problems.append((seq, problem))
        if rules.links is not None:
            links.apply(
                rules.links,
                case.links,
                trigger=trigger_id,
                seq=seq,
                on=occurred_text,
                fields=changes,
            )
        if kept:
            case.fields.update({k: v for k, v in changes.items() if k in kept})
        case.state = expected_to
        if rules.holds is not None:
            _hold_step(rules.holds, case, seq, trigger_id, occurred_text, changes)
    case.last_event_on = occurred_text
    case._terminal = rules.terminal.get(case.state, False)
    case.facts.append(
        EventFacts(
            trigger=trigger_id,
            occurred_on=occurred,
            to_state=case.state,
            fields_after=dict(case.fields),
            changed=kept,
            seq=seq,
            fact_on=fact_on(rules.fact_fields.get(trigger_id), changes),
            held=case.hold is not None,
            overrode=rules.overrides.get(trigger_id),
            recorded=changes,
        )
    )


def _apply_across(
    rules: ReplayRules,
    case: Replayed,
    row: Mapping[str, Any],
    trigger_id: str,
    changes: Mapping[str, Any],
) -> None:
    """A move between versions, or a step recorded under an earlier version read
    through this version's state map (see `domain.migration`)."""
    occurred_text = str(row["occurred_on"])
    seq = int(row["seq"])
    kept: frozenset[str] = _NOTHING
    if trigger_id == MIGRATE:
        came_from = rules.migrations.get(changes.get(FROM_VERSION))  # type: ignore[arg-type]
        if came_from is None:
            case.problems.append((seq, f"{rules.definition.label} has no map from that version"))
        elif came_from.states.get(str(row["from_state"])) != case.state:
            case.problems.append(
                (seq, f"recorded from {row['from_state']} but the case was in {case.state}")
            )
        case.state = str(row["to_state"])
        case.hold = hold_of(rules.definition, changes, seq, case.fields)
        fact_trigger = hold_start(rules.definition) if case.hold is not None else MIGRATE
    else:
        m = rules.migrations[row["workflow_version"]]
        to_state = m.states.get(str(row["to_state"]))
        if to_state is None:
            case.problems.append(
                (seq, f"{row['to_state']} has no place in {rules.definition.label}")
            )
            to_state = case.state
        effect = rules.effects.get(trigger_id)
        if effect is not None and effect.rounds:
            signoffs.step(
                rules.rounds,
                case.approvals,
                case.open_rounds,
                trigger=trigger_id,
                state=case.state,
                seq=seq,
                on=occurred_text,
                fields=changes,
            )
        kept = rules.fields_kept(trigger_id, changes)
        if kept:
            case.fields.update({k: v for k, v in changes.items() if k in kept})
        case.state = to_state
        fact_trigger = trigger_id
        held_before = str(row["to_state"]) in m.held
    case.last_event_on = occurred_text
    case._terminal = rules.terminal.get(case.state, False)
    case.facts.append(
        EventFacts(
            trigger=fact_trigger,
            occurred_on=dt.date.fromisoformat(occurred_text),
            to_state=case.state,
            fields_after=dict(case.fields),
            changed=kept,
            seq=seq,
            fact_on=None,
            held=case.hold is not None if trigger_id == MIGRATE else held_before,
            recorded=changes,
        )
    )


def _hold_step(
    holds: Holds,
    case: Replayed,
    seq: int,
    trigger_id: str,
    occurred: str,
    changes: Mapping[str, Any],
) -> None:
    """What one step did to the case's hold (`domain.holds`). The engine refuses a step
    the hold does not allow; one found here was written around it (a problem)."""
    held = case.hold
    refused = hold_refusal(holds, held, trigger_id, case.ref)
    if refused is not None:
        case.problems.append((seq, refused))
    if not held_after(holds, held is not None, trigger_id, case.state):
        case.hold = None
        return
    recorded = {k: v for k, v in changes.items() if k != holds.review_by}
    if trigger_id in holds.hold or held is None:
        case.hold = {
            "since": occurred,
            "review_by": changes.get(holds.review_by),
            "trigger": trigger_id,
            "seq": seq,
            "fields": recorded,
        }
    elif trigger_id in holds.review:
        case.hold = {
            **held,
            "review_by": changes.get(holds.review_by, held.get("review_by")),
            "fields": {**held.get("fields", {}), **recorded},
        }
