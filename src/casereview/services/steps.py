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

from casereview.errors import CaseReviewError
from casereview.services.cases import CaseView
from casereview.services.context import ServiceContext


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
    definition = ctx.registry.get(view.workflow, view.workflow_version)
    people = [u for u in users.list_users(ctx) if u.username != me.username]
    forms: list[StepForm] = []
    for option in view.possible:
        trigger = definition.trigger(option.trigger)
        others: list[str] = []
        if not roles & set(option.roles):
            for rule in trigger.on_behalf:
                if not roles & set(rule.by):
                    continue
                others += [
                    u.username
                    for u in people
                    if set(u.roles) & set(rule.for_roles(trigger))
                    and (not rule.same_agency or u.agency == me.agency)
                    and u.username not in others
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
