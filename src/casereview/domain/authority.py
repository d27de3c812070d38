"""Who may record what, replayed from the log and checked for every event. Pure.

Users (their display names, roles, agencies, whether they are active) and the workflows
an admin installed are facts in the event log, like cases; the `users` table is their
projection. `replay` reads the events under no case in `seq` order — the user events,
`workflow_install`, the key events — into a `Timeline` that keeps each user's state at
every point of the log, and checks each of them as it goes: its actor was a registered,
active user then (the log's first event, the bootstrap admin adding itself, excepted),
and an admin event's actor held `admin`. A `Checker` then checks every case event
against the finished timeline, in any order: the actor was a registered, active user at
that point; the role recorded was held then by whoever took the decision (the actor, or
the person it was recorded on behalf of) and is one the workflow allows for that step;
recording it on someone else's behalf was allowed; a partner signed off for their own
agency; and a case opened after the log's first `workflow_install` was opened on a
workflow version an admin had installed before (earlier cases are "legacy": counted,
not checked). Each violation is a `chain.Finding` naming the event; messages name
accounts, roles, triggers and case references, never a field's value.

The rules who may record what: docs/audit.md. The write path refuses the same things
(`engine.decide`, `corrections`, the services), so live writes never create findings.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from casereview.domain import identities
from casereview.domain.actions import PLAN_KINDS
from casereview.domain.actions import role_problem as plan_role_problem
from casereview.domain.amendments import FIELD, OCCURRED_ON, changes_of
from casereview.domain.chain import PAYLOAD_ORDER, Finding
from casereview.domain.clocks import CORRECT_TRIGGER, OPEN_TRIGGER, UNDO_TRIGGER, VOID_TRIGGER
from casereview.domain.engine import Person, on_behalf_refusal
from casereview.domain.migration import MIGRATE, MIGRATE_KIND
from casereview.domain.workflow.model import CorrectionRules, WorkflowDefinition

ADMIN = "admin"
"""The role that manages users and installs workflows."""

CHECK = "authority"
"""The finding's check name for every rule of who may record what."""

CASE, ADMIN_KIND, KEY, ACCESS = "case", "admin", "key", "access"
"""Event kinds: a case's step, user management and installation, a user's own key, a
recorded view of personal fields (`services.access`)."""

USER_ADD = "user_add"
USER_CHANGE = "user_change"
USER_GRANT = "user_grant"
USER_REVOKE = "user_revoke"
USER_DEACTIVATE = "user_deactivate"
USER_REACTIVATE = "user_reactivate"
WORKFLOW_INSTALL = "workflow_install"
KEY_ENROL = "key_enrol"
KEY_CONFIRM = "key_confirm"
KEY_REVOKE = "key_revoke"
CALENDAR_FEED_CREATE = "calendar_feed_create"
CALENDAR_FEED_REVOKE = "calendar_feed_revoke"
"""A person makes or revokes their calendar subscription address (fields: `username`,
`feed_id`): events of kind "key", each its owner's own, as a key's enrolment is."""
PARTNERSHIP_SET = "partnership_set"
"""An admin names the partnership (fields: `name`), shown in every report and export."""

USER_TRIGGERS = frozenset(
    {USER_ADD, USER_CHANGE, USER_GRANT, USER_REVOKE, USER_DEACTIVATE, USER_REACTIVATE}
)

WorkflowKey = tuple[str, int, str]
"""(workflow id, version, definition hash): what a case is pinned to."""

# Where the columns are in an event's hashed values (`chain.PAYLOAD_ORDER`), the tuple
# both readers of whole events already hold.
_AT = {name: at for at, name in enumerate(PAYLOAD_ORDER)}
_SEQ, _KIND, _TRIGGER = _AT["seq"], _AT["kind"], _AT["trigger"]
_ACTOR, _ROLE, _BEHALF = _AT["actor"], _AT["role"], _AT["on_behalf_of"]
_REF, _FROM = _AT["case_ref"], _AT["from_state"]
_WORKFLOW, _VERSION, _HASH = _AT["workflow_id"], _AT["workflow_version"], _AT["definition_hash"]

_NONE: tuple[Finding, ...] = ()


# -- who is who, at every point -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserState:
    """A user as the log had them from event `seq` on (until their next user event)."""

    username: str
    display_name: str
    roles: frozenset[str]
    agency: str | None
    active: bool
    seq: int


@dataclass
class Timeline:
    """Each user's states in log order, and when each workflow version was installed.

    Built by `replay` from the events under no case; read by `Checker`. Plain data, so
    it can be handed to a worker process.
    """

    seqs: dict[str, list[int]] = field(default_factory=dict)
    states: dict[str, list[UserState]] = field(default_factory=dict)
    installed: dict[WorkflowKey, int] = field(default_factory=dict)
    """Each installed workflow version, and the event that first installed it."""
    first_install: int | None = None
    """The log's first `workflow_install`: cases opened before it are legacy."""
    identity_links: dict[identities.Identity, str] = field(default_factory=dict)
    """Each linked sign-in identity's user, as the identity events have it so far."""

    def user_at(self, username: Any, seq: int) -> UserState | None:
        """`username` as they were just before event `seq`: None if not yet a user."""
        seqs = self.seqs.get(username) if type(username) is str else None
        if seqs is None:
            return None
        at = bisect_left(seqs, seq)
        return self.states[username][at - 1] if at else None

    def latest(self) -> dict[str, UserState]:
        """Every user as they are after the last event: what the `users` table holds."""
        return {name: states[-1] for name, states in self.states.items()}

    def _record(self, state: UserState) -> None:
        self.seqs.setdefault(state.username, []).append(state.seq)
        self.states.setdefault(state.username, []).append(state)

    def _install(self, key: WorkflowKey, seq: int) -> None:
        self.installed.setdefault(key, seq)
        if self.first_install is None:
            self.first_install = seq


# -- what a workflow says about who may record what ------------------------------------


@dataclass(frozen=True)
class WorkflowRules:
    """What the checks need of one workflow definition, looked up once."""

    label: str
    open_roles: frozenset[str]
    trigger_roles: Mapping[str, frozenset[str]]
    definition: WorkflowDefinition
    """The definition itself, for the per-trigger `on_behalf` rules (`engine`)."""
    signing: Mapping[tuple[str, str], str]
    """(state, signing trigger) -> the field naming the agency that signs there."""
    corrections: CorrectionRules

    @classmethod
    def of(cls, definition: WorkflowDefinition) -> WorkflowRules:
        signing: dict[tuple[str, str], str] = {}
        for trigger in definition.triggers:
            if not trigger.signs:
                continue
            for state in definition.moves.sources(trigger):
                # Every round signable in a state names the same agency field (the
                # workflow's references check it), so the state says which field it is.
                rounds = definition.rounds_signable_in(state)
                if rounds:
                    signing[(state, trigger.id)] = rounds[0].agency_field
        return cls(
            label=definition.label,
            open_roles=frozenset(definition.open_roles),
            trigger_roles={t.id: frozenset(t.roles) for t in definition.triggers},
            definition=definition,
            signing=signing,
            corrections=definition.corrections,
        )

    def roles_for(self, trigger: Any, fields: Any) -> frozenset[str] | None:
        """The roles that may record `trigger` with these fields; None when the step is
        not one of the workflow's (replay reports that) or a correction cannot be read."""
        if trigger == OPEN_TRIGGER:
            return self.open_roles
        found = self.trigger_roles.get(trigger)
        if found is not None:
            return found
        rules = self.corrections
        if trigger == UNDO_TRIGGER:
            return frozenset(rules.undo)
        if trigger == VOID_TRIGGER:
            return frozenset(rules.void)
        if trigger != CORRECT_TRIGGER or type(fields) is not dict:
            return None
        try:
            changes = changes_of(fields)
        except ValueError:
            return None  # replay reports a correction it cannot read
        allowed: set[str] | None = None
        for change in changes:
            if change.what == FIELD:
                roles = rules.roles_for_field(str(change.field))
            elif change.what == OCCURRED_ON:
                roles = rules.event_dates
            else:
                roles = rules.rationales
            allowed = set(roles) if allowed is None else allowed & set(roles)
        return frozenset(allowed or ())


def on_behalf_problem(
    rules: WorkflowRules, trigger: str, recorder: UserState, decider: UserState, role: str
) -> str | None:
    """Why `recorder` may not record `trigger` as `decider`'s decision in `role`, or None.

    The workflow's per-trigger `on_behalf` rules decide, through the one function the
    write path asks too (`engine.on_behalf_refusal`), with both people as they were at
    that point. Corrections, undos and voids are not workflow triggers: their roles are
    checked by `roles_for`.
    """
    if trigger not in rules.definition.triggers_by_id:
        return None
    return on_behalf_refusal(
        rules.definition,
        trigger,
        Person(recorder.username, frozenset(recorder.roles), recorder.agency, recorder.active),
        Person(decider.username, frozenset(decider.roles), decider.agency, decider.active),
        role,
    )


RulesOf = Callable[[WorkflowKey], WorkflowRules | None]
"""The rules of a pinned workflow version; None when its file cannot be read (replay
reports that for the case)."""


# -- checking events --------------------------------------------------------------------


def _where(values: Sequence[Any]) -> str:
    ref = values[_REF]
    return f"case {ref}: " if type(ref) is str else ""


class Checker:
    """Checks events against a finished `Timeline`, in any order.

    `legacy` counts the cases opened before the log's first `workflow_install` (or in a
    log with none): their workflow's installation is not checked.
    """

    def __init__(self, timeline: Timeline, rules_of: RulesOf) -> None:
        self.timeline = timeline
        self._rules_of = rules_of
        self._rules: dict[Any, WorkflowRules | None] = {}
        self.legacy = 0

    def rules(self, values: Sequence[Any]) -> WorkflowRules | None:
        key = (values[_WORKFLOW], values[_VERSION], values[_HASH])
        try:
            return self._rules[key]
        except KeyError:
            pass
        found = None
        if type(key[0]) is str and type(key[1]) is int and type(key[2]) is str:
            found = self._rules_of(key)
        if len(self._rules) < 1024:  # a tampered log could name many
            self._rules[key] = found
        return found

    def check_filed(self, values: Sequence[Any], fields: Any) -> Sequence[Finding]:
        """An event filed under a case: it must be a case event, and a permitted one
        (or a move between workflow versions, by an admin; or a step of its action plan)."""
        kind = values[_KIND]
        if kind == MIGRATE_KIND:
            return self._check_migrate(values)
        if kind in PLAN_KINDS:
            return self.check_plan(values, fields)
        if kind != CASE:
            return [
                Finding(
                    CHECK,
                    f"{_where(values)}an event of kind {values[_KIND]!r} is filed under a case",
                    int(values[_SEQ]),
                )
            ]
        return self.check_case(values, fields)

    def check_case(self, values: Sequence[Any], fields: Any) -> Sequence[Finding]:
        """One case event: who recorded it, in which role, for whom, on which workflow.

        `values` are its hashed columns in `chain.PAYLOAD_ORDER`; `fields` decoded (or
        the stored text if they are not a JSON object)."""
        seq = int(values[_SEQ])
        timeline = self.timeline
        actor = values[_ACTOR]
        recorder = timeline.user_at(actor, seq)
        trigger = values[_TRIGGER]
        found = self._check_installed(values, seq) if trigger == OPEN_TRIGGER else []
        if recorder is None:
            found.append(
                Finding(
                    CHECK,
                    f"{_where(values)}{trigger} was recorded by {actor!r}, who was not a "
                    "registered user at that point",
                    seq,
                )
            )
            return found
        if not recorder.active:
            found.append(_deactivated(values, actor, seq))
        acting = recorder
        behalf = values[_BEHALF]
        decider = None
        if behalf is not None and behalf != actor:
            decider = timeline.user_at(behalf, seq)
            if decider is None:
                found.append(
                    Finding(
                        CHECK,
                        f"{_where(values)}{trigger} was recorded on behalf of {behalf!r}, "
                        "who was not a registered user at that point",
                        seq,
                    )
                )
                return found
            if not decider.active:
                found.append(_deactivated(values, behalf, seq))
            acting = decider
        role = values[_ROLE]
        if role not in acting.roles:
            found.append(
                Finding(
                    CHECK,
                    f"{_where(values)}{trigger} was recorded in role {role!r}, which "
                    f"{acting.username!r} did not hold at that point",
                    seq,
                )
            )
        rules = self.rules(values)
        if rules is None:
            return found
        allowed = rules.roles_for(trigger, fields)
        if allowed is not None and role not in allowed:
            found.append(
                Finding(
                    CHECK,
                    f"{_where(values)}{rules.label} does not let role {role!r} record {trigger}",
                    seq,
                )
            )
        if decider is not None:
            problem = on_behalf_problem(rules, str(trigger), recorder, decider, str(role))
            if problem is not None:
                found.append(Finding(CHECK, f"{_where(values)}{problem}", seq))
        agency_field = rules.signing.get((values[_FROM], trigger))
        if agency_field is not None and acting.agency is not None:
            signed = fields.get(agency_field) if type(fields) is dict else None
            if signed != acting.agency:
                found.append(
                    Finding(
                        CHECK,
                        f"{_where(values)}{trigger} signs for {signed!r}, but "
                        f"{acting.username!r} signed for {acting.agency!r} at that point",
                        seq,
                    )
                )
        return found or _NONE

    def _check_migrate(self, values: Sequence[Any]) -> Sequence[Finding]:
        """A case moved to another version of its workflow (`domain.migration`): only an
        active admin, recording the admin role, may move it, and only to a version
        installed before the move."""
        seq = int(values[_SEQ])
        problem = _actor_problem(self.timeline, values)
        if problem is not None:
            return [problem]
        state = self.timeline.user_at(values[_ACTOR], seq)
        if state is not None and ADMIN not in state.roles:
            return [
                Finding(
                    CHECK,
                    f"{_where(values)}a move between workflow versions was recorded by "
                    f"{values[_ACTOR]!r}, who did not hold admin at that point",
                    seq,
                )
            ]
        if values[_ROLE] != ADMIN or values[_TRIGGER] != MIGRATE:
            return [
                Finding(
                    CHECK,
                    f"{_where(values)}a move between workflow versions must record trigger "
                    f"{MIGRATE!r} in role {ADMIN!r}",
                    seq,
                )
            ]
        first = self.timeline.first_install
        key = (values[_WORKFLOW], values[_VERSION], values[_HASH])
        installed = self.timeline.installed.get(key)
        if first is not None and (installed is None or installed > seq):
            return [
                Finding(
                    CHECK,
                    f"{_where(values)}moved to workflow {key[0]} v{key[1]}, which no admin "
                    "had installed by then",
                    seq,
                )
            ]
        return _NONE

    def check_plan(self, values: Sequence[Any], fields: Any) -> Sequence[Finding]:
        """A step of a case's action plan (`domain.actions`): by a registered, active
        user, in a role they held then, which the workflow's `[action_plan]` lets record
        that step (a partner's only for their own agency's actions)."""
        seq, actor, trigger, role = (
            int(values[_SEQ]), values[_ACTOR], values[_TRIGGER], values[_ROLE]
        )  # fmt: skip
        recorder = self.timeline.user_at(actor, seq)
        if recorder is None:
            return [
                Finding(
                    CHECK,
                    f"{_where(values)}{trigger} was recorded by {actor!r}, who was not a "
                    "registered user at that point",
                    seq,
                )
            ]
        found: list[Finding] = []
        if not recorder.active:
            found.append(_deactivated(values, actor, seq))
        if values[_BEHALF] is not None:
            found.append(
                Finding(CHECK, f"{_where(values)}{trigger} names someone it was recorded for", seq)
            )
        if role not in recorder.roles:
            found.append(
                Finding(
                    CHECK,
                    f"{_where(values)}{trigger} was recorded in role {role!r}, which "
                    f"{actor!r} did not hold at that point",
                    seq,
                )
            )
        rules = self.rules(values)
        if rules is None:
            return found
        plan_rules = rules.definition.action_plan
        if plan_rules is None:
            found.append(
                Finding(CHECK, f"{_where(values)}{rules.label} declares no action plan", seq)
            )
            return found
        problem = plan_role_problem(
            plan_rules,
            str(trigger),
            fields if type(fields) is dict else {},
            str(role),
            recorder.agency,
        )
        if problem is not None:
            found.append(Finding(CHECK, f"{_where(values)}{problem}", seq))
        return found or _NONE

    def _check_installed(self, values: Sequence[Any], seq: int) -> list[Finding]:
        first = self.timeline.first_install
        if first is None or seq < first:
            self.legacy += 1
            return []
        key = (values[_WORKFLOW], values[_VERSION], values[_HASH])
        installed = self.timeline.installed.get(key)
        if installed is not None and installed < seq:
            return []
        hashed = key[2][:12] if type(key[2]) is str else key[2]
        return [
            Finding(
                CHECK,
                f"{_where(values)}opened on workflow {key[0]} v{key[1]} ({hashed}…), which no "
                "admin had installed by then",
                seq,
            )
        ]


def _deactivated(values: Sequence[Any], username: Any, seq: int) -> Finding:
    return Finding(
        CHECK,
        f"{_where(values)}{values[_TRIGGER]} names {username!r}, whose account was "
        "deactivated at that point",
        seq,
    )


# -- the replay of the events under no case ---------------------------------------------


def replay(
    events: Iterable[tuple[Sequence[Any], Any]], rules_of: RulesOf
) -> tuple[Timeline, list[Finding], Checker]:
    """Replay the events under no case, in `seq` order, into a `Timeline`.

    Each event is given as (its hashed values in `chain.PAYLOAD_ORDER`, its fields
    decoded or as stored). User and installation events are checked against the
    timeline so far and, when they were made by someone allowed to, applied; key events
    are checked; a case event found under no case is checked like any other. Returns
    (the timeline, the findings about these events, a `Checker` over the timeline).
    """
    timeline = Timeline()
    checker = Checker(timeline, rules_of)
    found: list[Finding] = []
    for values, raw_fields in events:
        kind = values[_KIND]
        if kind == CASE:
            fields = _decoded(raw_fields)
            found.extend(checker.check_case(values, raw_fields if fields is None else fields))
        elif kind == ADMIN_KIND:
            found.extend(_admin_event(timeline, values, raw_fields))
        elif kind == KEY:
            found.extend(_key_event(timeline, values, raw_fields))
        elif kind == ACCESS:
            found.extend(_access_event(timeline, values))
        else:
            found.append(Finding(CHECK, f"an event of unknown kind {kind!r}", int(values[_SEQ])))
    return timeline, found, checker


def _decoded(fields: Any) -> dict[str, Any] | None:
    if type(fields) is str:
        try:
            fields = json.loads(fields)
        except ValueError:
            return None
    return fields if type(fields) is dict else None


def _unreadable(seq: int) -> Finding:
    return Finding("replay", "a user event cannot be read", seq)


def _is_bootstrap(values: Sequence[Any], fields: Mapping[str, Any]) -> bool:
    """The log's first event: an account adding itself as the only admin."""
    return (
        int(values[_SEQ]) == 1
        and values[_TRIGGER] == USER_ADD
        and values[_ROLE] == ADMIN
        and fields.get("username") == values[_ACTOR]
        and fields.get("roles") == [ADMIN]
    )


def _actor_problem(timeline: Timeline, values: Sequence[Any]) -> Finding | None:
    """The actor of an event under no case must be a registered, active user then."""
    seq, actor, trigger = int(values[_SEQ]), values[_ACTOR], values[_TRIGGER]
    state = timeline.user_at(actor, seq)
    if state is None:
        return Finding(
            CHECK,
            f"{trigger} was recorded by {actor!r}, who was not a registered user at that point",
            seq,
        )
    if not state.active:
        return _deactivated(values, actor, seq)
    return None


def _admin_event(timeline: Timeline, values: Sequence[Any], raw_fields: Any) -> Sequence[Finding]:
    seq, trigger, actor = int(values[_SEQ]), values[_TRIGGER], values[_ACTOR]
    fields = _decoded(raw_fields)
    if fields is None:
        return [_unreadable(seq)]
    if _is_bootstrap(values, fields):
        return _apply(timeline, values, fields)
    if trigger == KEY_REVOKE and fields.get("username") == actor:
        problem = _actor_problem(timeline, values)  # a user may retire their own key
        return _NONE if problem is None else [problem]
    problem = _actor_problem(timeline, values)
    if problem is None:
        state = timeline.user_at(actor, seq)
        if state is not None and ADMIN not in state.roles:
            problem = Finding(
                CHECK,
                f"{trigger} is an admin event, but {actor!r} did not hold admin at that point",
                seq,
            )
        elif values[_ROLE] != ADMIN:
            problem = Finding(
                CHECK, f"{trigger} is an admin event but records role {values[_ROLE]!r}", seq
            )
    if problem is not None:
        return [problem]  # not applied: nobody allowed to made it
    return _apply(timeline, values, fields)


def _access_event(timeline: Timeline, values: Sequence[Any]) -> Sequence[Finding]:
    """A recorded view of personal fields: by an active user, in a role they held then
    (which roles may ask is the workflow's `sees_personal`, checked when it was asked)."""
    problem = _actor_problem(timeline, values)
    if problem is not None:
        return [problem]
    seq, actor, role = int(values[_SEQ]), values[_ACTOR], values[_ROLE]
    state = timeline.user_at(actor, seq)
    if state is not None and role not in state.roles:
        return [
            Finding(
                CHECK,
                f"a view of personal fields recorded in role {role!r}, which {actor!r} did "
                "not hold at that point",
                seq,
            )
        ]
    return _NONE


def _key_event(timeline: Timeline, values: Sequence[Any], raw_fields: Any) -> Sequence[Finding]:
    seq, trigger, actor = int(values[_SEQ]), values[_TRIGGER], values[_ACTOR]
    if trigger not in (KEY_ENROL, CALENDAR_FEED_CREATE, CALENDAR_FEED_REVOKE):
        return [Finding(CHECK, f"a key event of unknown kind {trigger!r}", seq)]
    fields = _decoded(raw_fields)
    if fields is None:
        return [Finding("replay", "a key event cannot be read", seq)]
    problem = _actor_problem(timeline, values)
    if problem is not None:
        return [problem]
    if fields.get("username") != actor and trigger == KEY_ENROL:
        return [Finding(CHECK, f"{actor!r} enrolled a key for someone else", seq)]
    if fields.get("username") != actor:
        return [Finding(CHECK, f"{actor!r} recorded {trigger} for someone else", seq)]
    return _NONE


def _names(value: Any) -> bool:
    return type(value) is str and bool(value)


def _identity_event(
    timeline: Timeline, seq: int, trigger: str, fields: Mapping[str, Any]
) -> list[Finding]:
    """A sign-in identity linked to (or unlinked from) a user who existed then, fitting
    the mapping as it stood."""
    try:
        username, _identity = identities.read(fields)
        if timeline.user_at(username, seq) is None:
            return [Finding("replay", f"{trigger} names {username!r}, who is not a user", seq)]
        problem = identities.apply(timeline.identity_links, trigger, fields)
    except ValueError:
        return [Finding("replay", "an identity event cannot be read", seq)]
    return [] if problem is None else [Finding("replay", f"{trigger}: {problem}", seq)]


def _apply(timeline: Timeline, values: Sequence[Any], fields: Mapping[str, Any]) -> list[Finding]:
    """What a permitted admin event does to the timeline (findings if it cannot be
    read or names a user who does not exist)."""
    seq, trigger = int(values[_SEQ]), values[_TRIGGER]
    if trigger in (KEY_CONFIRM, KEY_REVOKE):
        return []  # keys: the signatures' checks
    if trigger == WORKFLOW_INSTALL:
        key = (fields.get("workflow_id"), fields.get("version"), fields.get("definition_hash"))
        if not (_names(key[0]) and type(key[1]) is int and _names(key[2])):
            return [Finding("replay", "a workflow installation cannot be read", seq)]
        timeline._install((str(key[0]), int(key[1]), str(key[2])), seq)
        return []
    if trigger == PARTNERSHIP_SET:
        name = fields.get("name")
        if not _names(name):
            return [Finding("replay", "a partnership name cannot be read", seq)]
        return []
    if trigger in identities.IDENTITY_TRIGGERS:
        return _identity_event(timeline, seq, trigger, fields)
    if trigger not in USER_TRIGGERS:
        return [Finding(CHECK, f"an admin event of unknown kind {trigger!r}", seq)]
    username = fields.get("username")
    if type(username) is not str or not username:
        return [_unreadable(seq)]
    before = timeline.user_at(username, seq)
    if trigger in (USER_ADD, USER_CHANGE):
        name, roles, agency = fields.get("display_name"), fields.get("roles"), fields.get("agency")
        if (
            type(name) is not str
            or type(roles) is not list
            or not all(type(r) is str for r in roles)
            or not (agency is None or type(agency) is str)
        ):
            return [_unreadable(seq)]
        active = True if before is None else before.active
        timeline._record(UserState(username, name, frozenset(roles), agency, active, seq))
        if before is None and trigger == USER_CHANGE:
            return [Finding("replay", f"{trigger} names {username!r}, who is not a user", seq)]
        return []
    if before is None:
        return [Finding("replay", f"{trigger} names {username!r}, who is not a user", seq)]
    roles, agency, active = before.roles, before.agency, before.active
    if trigger in (USER_GRANT, USER_REVOKE):
        role = fields.get("role")
        given = fields.get("agency")
        if not _names(role) or not (given is None or type(given) is str):
            return [_unreadable(seq)]
        if trigger == USER_GRANT:
            roles = roles | {role}
            agency = given if given is not None else agency
        else:
            roles = roles - {role}
    else:
        active = trigger == USER_REACTIVATE
    timeline._record(UserState(username, before.display_name, roles, agency, active, seq))
    return []
