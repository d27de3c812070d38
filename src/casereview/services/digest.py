"""`casereview digest`: each person's (and each agency lead's) reminders, by email.

The clocks are `due`'s (`services.due`, the clock projection): every clock overdue or
due within N working days of the as-of date. Who must act on each is the workflow's
answer (`domain.digest.duties`): whoever may record a step that stops it from the
case's state, or, while a sign-off round it waits on is collecting, the agencies yet to
sign. Each active user holding such a role gets their items; each agency with a lead
address in the settings gets its people's. The settings and the sending are
`infra.mail`'s, the words `formats.email`'s. Nothing is recorded: a digest only reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from casereview.domain import digest as rules
from casereview.errors import CaseReviewError, Input, InvalidInput
from casereview.infra import mail
from casereview.services.context import ServiceContext

if TYPE_CHECKING:
    from casereview.domain.workflow.model import WorkflowDefinition
    from casereview.services.due import DueItem
    from casereview.store.digest_queries import CaseRow

DEFAULT_WITHIN = 5
"""Working days ahead a digest looks when neither the command nor the settings say."""

_SHOWN = frozenset({"overdue", "due_soon", "running"})


@dataclass(frozen=True)
class DigestRun:
    as_of: str
    within: int
    digests: tuple[rules.Digest, ...]  # one per recipient with something due
    unknown_people: tuple[str, ...]  # usernames in the settings who are no active user
    unknown_agencies: tuple[str, ...]  # agency ids in the settings no workflow declares
    unassigned: int  # clocks in the window nobody can act on now (or unreadable workflow)
    dry_run: bool
    sent: int = 0
    failures: tuple[mail.Failure, ...] = ()

    @property
    def unaddressed(self) -> tuple[rules.Digest, ...]:
        """Digests for people without an address in the settings: never sent."""
        return tuple(d for d in self.digests if d.recipient.address is None)


def digest(
    ctx: ServiceContext,
    *,
    config: Path | None = None,
    as_of: dt.date | None = None,
    within: int | None = None,
    dry_run: bool = False,
) -> DigestRun:
    """Build every recipient's digest and, unless `dry_run`, mail the addressed ones.

    `config`: the settings file (else `infra.mail.default_config_path`); a dry run
    works without one. `within`: working days ahead (else the settings' `digest.within`,
    else 5)."""
    from casereview.formats import email
    from casereview.services.due import due_list
    from casereview.store import digest_queries

    if within is not None and within < 0:
        raise InvalidInput("{within} must be 0 or more working days", within=Input("within"))
    settings = mail.load_settings(config, required=not dry_run)
    if not dry_run and settings.smtp is None:
        raise InvalidInput(
            f"{settings.path} has no [smtp] table; it is needed to send (see docs/digest.md)"
        )
    days = next(n for n in (within, settings.within, DEFAULT_WITHIN) if n is not None)
    listed = due_list(ctx, as_of=as_of, within=days)
    with ctx.reader() as reader:
        cases = digest_queries.cases(reader, {i.ref for i in listed.items})
        users = digest_queries.active_users(reader)

    known_agencies: set[str] = set()
    for entry in ctx.registry.list():
        known_agencies.update(a.id for a in entry.definition.agencies)
    people = [rules.Person(u.username, frozenset(u.roles), u.agency) for u in users]
    names = {u.username: u.display_name for u in users}

    items: list[tuple[rules.DigestItem, tuple[rules.Duty, ...]]] = []
    unassigned = 0
    definitions: dict[tuple[str, int, str], WorkflowDefinition | None] = {}
    for due_item in listed.items:
        built = _item(ctx, due_item, cases.get(due_item.ref), definitions)
        if built is None:
            unassigned += 1
        else:
            items.append(built)

    digests: list[rules.Digest] = []
    for person in people:
        mine = _select(items, partial(_for_person, person=person))
        if mine:
            recipient = rules.Recipient(
                "person",
                person.username,
                names[person.username],
                settings.people.get(person.username),
            )
            digests.append(rules.Digest(recipient, listed.as_of, days, mine))
    labels = _agency_labels(ctx)
    for agency, address in sorted(settings.agency_leads.items()):
        theirs = _select(items, partial(_for_agency, agency=agency, people=people))
        if theirs and agency in known_agencies:
            recipient = rules.Recipient("agency", agency, labels.get(agency, agency), address)
            digests.append(rules.Digest(recipient, listed.as_of, days, theirs))

    run = DigestRun(
        as_of=listed.as_of,
        within=days,
        digests=tuple(digests),
        unknown_people=tuple(sorted(set(settings.people) - set(names))),
        unknown_agencies=tuple(sorted(set(settings.agency_leads) - known_agencies)),
        unassigned=unassigned,
        dry_run=dry_run,
    )
    if dry_run:
        return run
    assert settings.smtp is not None  # checked above
    smtp = settings.smtp
    messages = [
        (d.recipient.key, email.message(d, smtp.sender, settings.subject))
        for d in run.digests
        if d.recipient.address is not None
    ]
    # No password is asked for when nobody is to be mailed.
    failures = mail.send(smtp, mail.password(smtp) if messages else None, messages)
    return replace(run, sent=len(messages) - len(failures), failures=tuple(failures))


def _for_person(duty: rules.Duty, *, person: rules.Person) -> bool:
    return rules.is_for_person(duty, person)


def _for_agency(duty: rules.Duty, *, agency: str, people: Sequence[rules.Person]) -> bool:
    return rules.is_for_agency(duty, agency, people)


def _item(
    ctx: ServiceContext,
    due_item: DueItem,
    case: CaseRow | None,
    definitions: dict[tuple[str, int, str], WorkflowDefinition | None],
) -> tuple[rules.DigestItem, tuple[rules.Duty, ...]] | None:
    """The digest line for one clock and who must act on it; None when nobody can now
    (or the case's workflow cannot be read: `audit verify` and `workflow check` say why)."""
    if case is None or due_item.status not in _SHOWN or due_item.due_on is None:
        return None
    key = (case.workflow_id, case.workflow_version, case.workflow_hash)
    if key not in definitions:
        try:
            definitions[key] = ctx.registry.get_exact(*key)
        except CaseReviewError:
            definitions[key] = None
    definition = definitions[key]
    if definition is None:
        return None
    duties = rules.duties(definition, case.state, case.approvals, due_item.clock_id)
    if not duties:
        return None
    item = rules.DigestItem(
        ref=due_item.ref,
        pseudonym=due_item.pseudonym,
        workflow=definition.title,
        clock_label=due_item.label,
        status=due_item.status,
        due_on=due_item.due_on,
        working_days_left=due_item.working_days_left,
        steps=duties,
    )
    return item, duties


def _select(
    items: Sequence[tuple[rules.DigestItem, tuple[rules.Duty, ...]]],
    wanted: Callable[[rules.Duty], bool],
) -> tuple[rules.DigestItem, ...]:
    """The items with a duty `wanted` accepts, each showing only those duties."""
    chosen: list[rules.DigestItem] = []
    for item, duties in items:
        mine = tuple(d for d in duties if wanted(d))
        if mine:
            chosen.append(replace(item, steps=mine))
    return tuple(chosen)


def _agency_labels(ctx: ServiceContext) -> dict[str, str]:
    labels: dict[str, str] = {}
    for entry in ctx.registry.list():
        for agency in entry.definition.agencies:
            labels.setdefault(agency.id, agency.label)
    return labels
