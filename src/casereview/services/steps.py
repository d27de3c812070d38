"""What a person may record on a case now, and what each step asks for: the steps of
`cases.show_case` (`CaseView.possible`) that one of the person's roles may take, or
that they may key in for someone else (the trigger's `on_behalf`: then with the people
they may name), each with the fields it records (type, choices, whether required),
whether it needs a rationale, and which field is its fact date. A front end draws them as forms; the
engine still decides every step when it is sent (`cases.advance`), so a form offered
here is a convenience, never a permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from casereview.domain import engine
from casereview.errors import CaseReviewError
from casereview.services.cases import CaseView
from casereview.services.context import ServiceContext

if TYPE_CHECKING:
    from casereview.domain.workflow.model import Trigger, WorkflowDefinition
    from casereview.services.users import UserView


@dataclass(frozen=True)
class StepInput:
    """One field a step records."""

    id: str
    label: str
    description: str
    type: str  # date | text | choice | yes_no
    choices: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class StepForm:
    trigger: str
    label: str
    description: str
    to_state: str
    inputs: tuple[StepInput, ...]
    rationale_required: bool
    fact_date: str | None  # the input holding the day the recorded thing happened
    conditions: tuple[str, ...]  # guards, in words, that must hold when it is sent
    for_others: tuple[str, ...] = ()
    """Not the person's own step: the users they may record it on behalf of (one must
    be named). Empty: the person takes it themselves."""


def _pinned(ctx: ServiceContext, view: CaseView) -> WorkflowDefinition:
    """The definition the case pinned (its content hash), as `cases.advance` takes it:
    from a file, or the content the database kept for a workflow no file holds."""
    from casereview.services import cases, refs
    from casereview.store import dashboard_queries as views

    with ctx.reader() as reader:
        row = views.case_row(reader, view.ref)
    if row is None:
        raise refs.no_case(view.ref)
    return cases._definition_for(ctx, row)


def my_steps(ctx: ServiceContext, view: CaseView) -> tuple[StepForm, ...]:
    """The steps of `view` the account at the keyboard holds a role for (none if it is
    not an active user)."""
    from casereview.services import users

    try:
        me = users.get_user(ctx, ctx.account)
    except CaseReviewError:
        return ()
    if not me.active or not view.possible:
        return ()
    roles = set(me.roles)
    definition = _pinned(ctx, view)
    recorder = _person(me)
    people = [_person(u) for u in users.list_users(ctx) if u.username != me.username]
    forms: list[StepForm] = []
    for option in view.possible:
        trigger = definition.trigger(option.trigger)
        others: list[str] = []
        if not roles & set(option.roles):
            # The people the engine would let this person record the step for: its one
            # answer (`engine.on_behalf_refusal`), asked of each, in the role the engine
            # would record for them.
            others = [
                person.username
                for person in people
                if _records_for(definition, trigger, recorder, person)
            ]
            if not others:
                continue
        inputs = []
        for name in trigger.fields:
            spec = definition.fields_by_id[name]
            inputs.append(
                StepInput(
                    id=name,
                    label=spec.label,
                    description=spec.description,
                    type=spec.type,
                    choices=tuple(spec.choices),
                    required=name in trigger.requires,
                )
            )
        forms.append(
            StepForm(
                trigger=trigger.id,
                label=trigger.label,
                description=trigger.description,
                to_state=option.to_state,
                inputs=tuple(inputs),
                rationale_required=trigger.rationale_required,
                fact_date=trigger.fact_date,
                conditions=tuple(n for n in option.needs if isinstance(n, str)),
                for_others=tuple(others),
            )
        )
    return tuple(forms)


def trigger_labels(ctx: ServiceContext, view: CaseView) -> dict[str, str]:
    """Each trigger id of the case's workflow with its label: how a front end names a
    step the engine's messages name by id."""
    definition = ctx.registry.get(view.workflow, view.workflow_version)
    return {t.id: t.label for t in definition.triggers if t.label}


def _person(user: UserView) -> engine.Person:
    return engine.Person(user.username, frozenset(user.roles), user.agency, user.active)


def _records_for(
    definition: WorkflowDefinition,
    trigger: Trigger,
    recorder: engine.Person,
    decider: engine.Person,
) -> bool:
    """Whether `recorder` may record `trigger` on behalf of `decider`, who would be
    recorded in the first of the trigger's roles they hold (as `engine.decide` does)."""
    role = next((r for r in trigger.roles if r in decider.roles), None)
    if role is None:
        return False
    return engine.on_behalf_refusal(definition, trigger.id, recorder, decider, role) is None
