"""Who must act on a clock, and what a reminder digest holds. Pure.

A running clock is stopped by one of its `stop_on` triggers; the people who must act are
those who may record such a trigger from the case's current state (the trigger's
`roles`). When the only such triggers close the case (a withdrawal), the work is the
step that moves the case on to where the clock's own stop can be recorded, so those
steps count too. Where that trigger waits on an approval round that is still collecting (an
`approval_complete` guard), the ones to act first are the agencies whose sign-off is
missing: the round's signing trigger, for each of those agencies (and a step that would
close the case instead, a withdrawal, is then left out). The rule reads the
workflow definition only, so it holds for every workflow file and names none.

`Digest` is what one recipient is sent (`services.digest` builds it, `formats.email`
words it): case references, pseudonyms, clock labels and dates, never a case field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from casereview.domain.workflow.model import ApprovalCompleteGuard, WorkflowDefinition


@dataclass(frozen=True, order=True)
class Duty:
    """A step someone holding `role` may record (for `agency`, when it is a sign-off
    still missing for that agency)."""

    trigger: str
    trigger_label: str
    role: str
    agency: str | None = None


def duties(
    definition: WorkflowDefinition,
    state: str,
    approvals: Mapping[str, Any],
    clock_id: str,
) -> tuple[Duty, ...]:
    """Who must act for clock `clock_id` of a case in `state` whose approval rounds
    hold `approvals` (round id -> {agency: seq of its sign-off}). Empty when the clock
    is unknown or nothing that stops it can fire from `state`."""
    clock = definition.clocks_by_id.get(clock_id)
    if clock is None:
        return ()
    found: set[Duty] = set()
    available = {t.id: t for t in definition.triggers_from(state)}
    stops = [available[t] for t in clock.stoppers if t in available]
    if all(definition.is_terminal(t.destination_from(state)) for t in stops):
        # Only ways out of the case stop it here (a withdrawal): the work is the step
        # that takes the case to where the clock's own stop can be recorded.
        stops += [
            t
            for t in available.values()
            if t.destination_from(state) != state
            and not definition.is_terminal(t.destination_from(state))
            and any(
                definition.moves.get(t.destination_from(state), s) is not None
                for s in clock.stop_on
            )
        ]
    missing_for = {t.id: _missing_sign_offs(definition, state, approvals, t.guards) for t in stops}
    if any(
        missing_for[t.id] for t in stops if not definition.is_terminal(t.destination_from(state))
    ):
        # The step that carries the case on waits on sign-offs: those are the work. A way
        # out of the case that would also stop the clock (a withdrawal) is a decision
        # open to the chair, not what the clock waits for.
        stops = [t for t in stops if not definition.is_terminal(t.destination_from(state))]
    for trigger in stops:
        missing = missing_for[trigger.id]
        if missing:
            for signer in (t for t in available.values() if t.signs):
                found.update(
                    Duty(signer.id, signer.label, role, agency)
                    for role in signer.roles
                    for agency in missing
                )
        else:
            found.update(Duty(trigger.id, trigger.label, role) for role in trigger.roles)
    return tuple(sorted(found))


def _missing_sign_offs(
    definition: WorkflowDefinition, state: str, approvals: Mapping[str, Any], guards: Iterable[Any]
) -> tuple[str, ...]:
    """The agencies yet to sign a round that a guard waits on and that collects in
    `state` (a round collected elsewhere is not for anyone to sign now)."""
    missing: list[str] = []
    for guard in guards:
        if not isinstance(guard, ApprovalCompleteGuard):
            continue
        round_ = definition.approval_rounds_by_id.get(guard.round)
        if round_ is None or state not in round_.collect_in:
            continue
        signed = approvals.get(guard.round) or {}
        missing.extend(a for a in round_.agencies if a not in signed and a not in missing)
    return tuple(missing)


@dataclass(frozen=True)
class Person:
    """A user as the digest sees them: an active user's roles and agency."""

    username: str
    roles: frozenset[str]
    agency: str | None


def is_for_person(duty: Duty, person: Person) -> bool:
    """The person holds the duty's role (and acts for its agency, when it names one)."""
    return duty.role in person.roles and (duty.agency is None or duty.agency == person.agency)


def is_for_agency(duty: Duty, agency: str, people: Iterable[Person]) -> bool:
    """A duty of the agency: a sign-off missing for it, or a step one of its people
    (a user acting for it) may record."""
    if duty.agency is not None:
        return duty.agency == agency
    return any(p.agency == agency and duty.role in p.roles for p in people)


@dataclass(frozen=True)
class DigestItem:
    """One clock a recipient must act on, and the steps that would stop it."""

    ref: str
    pseudonym: str
    workflow: str  # the workflow's title
    clock_label: str
    status: str  # overdue | due_soon | running (clock_status words them)
    due_on: str
    working_days_left: int | None  # negative when overdue
    steps: tuple[Duty, ...]

    @property
    def overdue(self) -> bool:
        return self.status == "overdue"


@dataclass(frozen=True)
class Recipient:
    """Who a digest goes to: a user (`kind` "person", `key` the username) or an
    agency's lead (`kind` "agency", `key` the agency id)."""

    kind: str
    key: str
    label: str  # the user's display name, or the agency's label
    address: str | None  # None: no address in the settings (a dry run still shows it)


@dataclass(frozen=True)
class Digest:
    recipient: Recipient
    as_of: str
    within: int
    items: tuple[DigestItem, ...]

    @property
    def overdue(self) -> tuple[DigestItem, ...]:
        return tuple(i for i in self.items if i.overdue)

    @property
    def upcoming(self) -> tuple[DigestItem, ...]:
        return tuple(i for i in self.items if not i.overdue)
