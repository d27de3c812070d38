"""Recommendations and actions: what a review recommended, who owes what by when, and
whether it was done. Pure.

A case's plan is recorded by events of two kinds beside its workflow steps: kind "rec"
(a recommendation, or the reason a review made none) and kind "action" (an action added,
updated, extended or completed, and a chair's override of a trigger that waits for open
actions). `replay` folds them into a `Plan`, the one projection every reader uses (the
store keeps it in three case tables; `audit verify` replays it and compares). Who may
record what is the workflow's `[action_plan]` table (`ActionPlanRules`), asked through
`role_for` on the write path and `role_problem` by `audit verify`'s authority replay;
`check_fields` is the one check of what an event holds. Messages name actions and
recommendations by number, never their text.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: `action due` and `due` do not load the workflow model
    from casereview.domain.workflow.model import ActionPlanRules

REC_KIND = "rec"
ACTION_KIND = "action"
PLAN_KINDS = frozenset({REC_KIND, ACTION_KIND})
"""The event kinds of a case's plan (filed under the case, beside kind "case")."""

REC_ADD = "rec_add"
REC_NONE = "rec_none"
ACTION_ADD = "action_add"
ACTION_UPDATE = "action_update"
ACTION_EXTEND = "action_extend"
ACTION_COMPLETE = "action_complete"
PLAN_OVERRIDE = "plan_override"

KIND_OF = {
    REC_ADD: REC_KIND,
    REC_NONE: REC_KIND,
    ACTION_ADD: ACTION_KIND,
    ACTION_UPDATE: ACTION_KIND,
    ACTION_EXTEND: ACTION_KIND,
    ACTION_COMPLETE: ACTION_KIND,
    PLAN_OVERRIDE: ACTION_KIND,
}
"""Each plan event's trigger and its kind."""

STEP_LABELS = {
    REC_ADD: "Recommendation recorded",
    REC_NONE: "No recommendations (reason recorded)",
    ACTION_ADD: "Action added",
    ACTION_UPDATE: "Action updated",
    ACTION_EXTEND: "Action's due date extended",
    ACTION_COMPLETE: "Action completed or closed",
    PLAN_OVERRIDE: "Override: a step may go ahead with actions open",
}
"""Each plan step's label, as a workflow's triggers have theirs."""

NOT_STARTED, IN_PROGRESS = "not_started", "in_progress"
COMPLETED, EVIDENCED, CLOSED_WITHOUT = "completed", "evidenced", "closed_without_completion"
STATUSES = (NOT_STARTED, IN_PROGRESS, COMPLETED, EVIDENCED, CLOSED_WITHOUT)
OPEN_STATUSES = frozenset({NOT_STARTED, IN_PROGRESS})
DONE_STATUSES = frozenset({COMPLETED, EVIDENCED})
UPDATE_STATUSES = frozenset({NOT_STARTED, IN_PROGRESS})
"""The statuses a progress update may set; completion is its own event."""
COMPLETE_STATUSES = frozenset({COMPLETED, EVIDENCED, CLOSED_WITHOUT})

SINGLE, MULTI = "single", "multi"

CLOCK_PREFIX = "action-"
"""An open action's clock id in `due`, the calendar feed and `explain`: `action-4.1`."""


def clock_id(number: str) -> str:
    return f"{CLOCK_PREFIX}{number}"


def action_of_clock(clock: str) -> str | None:
    """The action number a clock id names (`action-4.1` -> `4.1`), or None."""
    if clock.startswith(CLOCK_PREFIX) and len(clock) > len(CLOCK_PREFIX):
        return clock[len(CLOCK_PREFIX) :]
    return None


_TEXT_LIMIT = 4000
_SHORT_LIMIT = 200
_MAX_AGENCIES = 50
_MAX_EVIDENCE = 50

# Who may record each trigger: "approve" (the plan and its changes) or "update" (progress
# and completion, on any agency's behalf or, for `update_own`, the person's own agency).
_APPROVE_TRIGGERS = frozenset({REC_ADD, REC_NONE, ACTION_ADD, ACTION_EXTEND, PLAN_OVERRIDE})


class PlanError(ValueError):
    """An event's fields do not describe a plan step (the message names what; `field`,
    when known, is the field at fault)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# -- who may record what -------------------------------------------------------------------


def _needs_approval(trigger: str, fields: Mapping[str, Any]) -> bool:
    if trigger in _APPROVE_TRIGGERS:
        return True
    # Closing an action without completing it changes the plan: the chair's decision.
    return trigger == ACTION_COMPLETE and fields.get("status") == CLOSED_WITHOUT


def readers(rules: ActionPlanRules) -> frozenset[str]:
    """Every role that may read a case's plan."""
    return frozenset((*rules.approve, *rules.update_any, *rules.update_own, *rules.read))


def role_problem(
    rules: ActionPlanRules, trigger: str, fields: Mapping[str, Any], role: str, agency: str | None
) -> str | None:
    """Why `role` (held by a person of `agency`) may not record `trigger` with these
    fields, or None. The one rule: the write path and `audit verify` both ask it."""
    if trigger not in KIND_OF:
        return f"{trigger!r} is not a step of an action plan"
    if _needs_approval(trigger, fields):
        if role in rules.approve:
            return None
        return f"{_what(trigger, fields)} needs one of the roles {', '.join(rules.approve)}"
    if role in rules.approve or role in rules.update_any:
        return None
    if role in rules.update_own:
        owner = fields.get("agency")
        if agency is not None and owner == agency:
            return None
        return (
            f"action {fields.get('action')} is owned by {owner!r}; role {role!r} updates only "
            f"its own agency's actions ({agency or 'no agency'})"
        )
    allowed = ", ".join((*rules.approve, *rules.update_any, *rules.update_own))
    return f"{_what(trigger, fields)} needs one of the roles {allowed}"


def role_for(
    rules: ActionPlanRules,
    trigger: str,
    fields: Mapping[str, Any],
    roles: Iterable[str],
    agency: str | None,
) -> tuple[str | None, str]:
    """The role a person holding `roles` records `trigger` in: (role, "") or (None, why
    not). The plan roles are tried in the table's order, the widest first."""
    held = set(roles)
    ordered = (*rules.approve, *rules.update_any, *rules.update_own)
    last = ""
    for role in dict.fromkeys(ordered):
        if role not in held:
            continue
        problem = role_problem(rules, trigger, fields, role, agency)
        if problem is None:
            return role, ""
        last = problem
    if last:
        return None, last
    problem = role_problem(rules, trigger, fields, "", agency)
    return None, problem or f"{_what(trigger, fields)} is not allowed"


def _what(trigger: str, fields: Mapping[str, Any]) -> str:
    names = {
        REC_ADD: "adding a recommendation",
        REC_NONE: "recording that a review made no recommendations",
        ACTION_ADD: "adding an action",
        ACTION_UPDATE: "updating an action",
        ACTION_EXTEND: "extending an action's due date",
        ACTION_COMPLETE: "completing an action",
        PLAN_OVERRIDE: "overriding a step that waits for open actions",
    }
    if trigger == ACTION_COMPLETE and fields.get("status") == CLOSED_WITHOUT:
        return "closing an action without completion"
    return names.get(trigger, trigger)


# -- what an event holds -------------------------------------------------------------------


def _text(fields: Mapping[str, Any], name: str, *, limit: int = _TEXT_LIMIT) -> str:
    value = fields.get(name)
    if type(value) is not str or not value.strip():
        raise PlanError(f"{name} is required", name)
    if len(value) > limit:
        raise PlanError(f"{name} is longer than {limit} characters", name)
    return value


def _optional_text(fields: Mapping[str, Any], name: str, *, limit: int = _TEXT_LIMIT) -> str:
    value = fields.get(name)
    if value is None or value == "":
        return ""
    if type(value) is not str:
        raise PlanError(f"{name} must be text", name)
    if len(value) > limit:
        raise PlanError(f"{name} is longer than {limit} characters", name)
    return value


def _day(fields: Mapping[str, Any], name: str) -> dt.date:
    value = fields.get(name)
    if type(value) is not str:
        raise PlanError(f"{name} is required (YYYY-MM-DD)", name)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PlanError(f"{name} must be a date (YYYY-MM-DD)", name) from None


def _evidence(fields: Mapping[str, Any]) -> tuple[str, ...]:
    value = fields.get("evidence", [])
    if type(value) is not list or not all(type(v) is str and v.strip() for v in value):
        raise PlanError("evidence is a list of references (a path, a URL or a document id)")
    if len(value) > _MAX_EVIDENCE:
        raise PlanError(f"at most {_MAX_EVIDENCE} evidence references at a time")
    for ref in value:
        if len(ref) > _SHORT_LIMIT * 2:
            raise PlanError(f"an evidence reference is at most {_SHORT_LIMIT * 2} characters")
    return tuple(value)


def _number(fields: Mapping[str, Any], name: str) -> str:
    value = _text(fields, name, limit=20)
    if not all(c.isalnum() or c in ".-_/" for c in value):
        raise PlanError(
            f"{name} is letters, digits, '.', '-', '_' or '/' (got {value[:20]!r})", name
        )
    return value


def check_fields(
    trigger: str,
    fields: Mapping[str, Any],
    agencies: Sequence[str],
    rationale: str | None = None,
) -> None:
    """Raise `PlanError` unless `fields` are a well-formed `trigger` event (alone, without
    the plan it applies to: `apply` checks the rest). `agencies` are the workflow's."""
    if trigger == REC_ADD:
        _number(fields, "number")
        _text(fields, "text")
        _text(fields, "source", limit=_SHORT_LIMIT)
        _optional_text(fields, "section", limit=_SHORT_LIMIT)
        named = fields.get("agencies")
        if type(named) is not list or not named or not all(type(a) is str for a in named):
            raise PlanError(
                "agencies: name at least one agency the recommendation is for", "agencies"
            )
        if len(named) > _MAX_AGENCIES or len(set(named)) != len(named):
            raise PlanError("agencies: each agency once", "agencies")
        for agency in named:
            _known_agency(agency, agencies, "agencies")
        scope = fields.get("scope")
        if scope not in (SINGLE, MULTI):
            raise PlanError("scope is 'single' or 'multi'", "scope")
        if scope == SINGLE and len(named) != 1:
            raise PlanError("a single-agency recommendation names exactly one agency", "scope")
    elif trigger == REC_NONE:
        _text(fields, "reason")
    elif trigger == ACTION_ADD:
        _number(fields, "action")
        _number(fields, "rec")
        _text(fields, "text")
        _known_agency(_text(fields, "agency", limit=_SHORT_LIMIT), agencies)
        _text(fields, "owner", limit=_SHORT_LIMIT)
        _day(fields, "due_on")
    elif trigger == ACTION_UPDATE:
        _number(fields, "action")
        _text(fields, "agency", limit=_SHORT_LIMIT)
        status = fields.get("status")
        if status is not None and status not in UPDATE_STATUSES:
            raise PlanError(
                "an update sets status not_started or in_progress; completing an action "
                "is its own step"
            )
        note = _optional_text(fields, "note")
        if not note and not _evidence(fields) and status is None:
            raise PlanError("an update records a note, evidence or a status")
    elif trigger == ACTION_EXTEND:
        _number(fields, "action")
        _text(fields, "agency", limit=_SHORT_LIMIT)
        _day(fields, "due_on")
        _text(fields, "reason")
        _text(fields, "agreed_by", limit=_SHORT_LIMIT)
    elif trigger == ACTION_COMPLETE:
        _number(fields, "action")
        _text(fields, "agency", limit=_SHORT_LIMIT)
        status = fields.get("status")
        if status not in COMPLETE_STATUSES:
            raise PlanError("status is completed, evidenced or closed_without_completion")
        evidence = _evidence(fields)
        _optional_text(fields, "note")
        if status == EVIDENCED and not evidence:
            raise PlanError("an evidenced action names at least one evidence reference")
        if status == CLOSED_WITHOUT:
            _text(fields, "reason")
    elif trigger == PLAN_OVERRIDE:
        _text(fields, "trigger", limit=_SHORT_LIMIT)
        if not (rationale or "").strip():
            raise PlanError("an override needs a rationale")
    else:
        raise PlanError(f"{trigger!r} is not a step of an action plan")
    if "evidence" in fields and trigger not in (ACTION_UPDATE, ACTION_COMPLETE):
        raise PlanError(f"{trigger} records no evidence")


def _known_agency(agency: str, agencies: Sequence[str], field: str = "agency") -> None:
    if agencies and agency not in agencies:
        raise PlanError(f"unknown agency {agency!r} (the workflow's: {', '.join(agencies)})", field)


# -- the plan, replayed --------------------------------------------------------------------


@dataclass
class Recommendation:
    number: str
    text: str
    source: str
    section: str
    agencies: tuple[str, ...]
    scope: str
    added_on: str
    seq: int


@dataclass(frozen=True)
class Update:
    """One attributable entry of an action's history: added, updated, extended, done."""

    seq: int
    on: str
    trigger: str
    actor: str
    role: str
    status: str
    note: str = ""
    evidence: tuple[str, ...] = ()
    due_on: str | None = None  # an extension's new due date
    reason: str = ""
    agreed_by: str = ""


@dataclass
class Action:
    action: str
    rec: str
    text: str
    agency: str
    owner: str
    due_on: str
    original_due_on: str
    status: str
    added_on: str
    seq: int
    completed_on: str | None = None
    reason: str = ""
    evidence: list[str] = field(default_factory=list)
    history: list[Update] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def extended(self) -> bool:
        return self.due_on != self.original_due_on

    @property
    def latest_note(self) -> str:
        for entry in reversed(self.history):
            if entry.note:
                return entry.note
        return ""


@dataclass(frozen=True)
class Override:
    seq: int
    on: str
    trigger: str
    actor: str
    rationale: str


@dataclass
class Plan:
    """A case's recommendations and actions as its events left them."""

    recommendations: dict[str, Recommendation] = field(default_factory=dict)
    actions: dict[str, Action] = field(default_factory=dict)
    none_reason: str = ""
    overrides: list[Override] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def open_actions(self) -> list[Action]:
        return [a for a in self.actions.values() if a.open]


def fields_of(row: Mapping[str, Any]) -> dict[str, Any]:
    value = row["fields"]
    if type(value) is dict:
        return value
    loaded = json.loads(value) if isinstance(value, str) else dict(value)
    return loaded if isinstance(loaded, dict) else {}


def replay(events: Iterable[Mapping[str, Any]]) -> Plan:
    """Fold a case's events (any kinds, log order) into its plan: steps of other kinds
    are skipped; a step that does not apply is a problem and changes nothing."""
    plan = Plan()
    for row in events:
        kind = row.get("kind") or KIND_OF.get(str(row["trigger"]))
        if kind not in PLAN_KINDS:
            continue
        try:
            apply(plan, row)
        except PlanError as exc:
            plan.problems.append((int(row["seq"]), str(exc)))
    return plan


def apply(plan: Plan, row: Mapping[str, Any]) -> None:
    """Apply one plan event to `plan` in place, or raise `PlanError` (nothing changed)
    when it does not fit the plan as it stands."""
    trigger = str(row["trigger"])
    fields = fields_of(row)
    seq, on = int(row["seq"]), str(row["occurred_on"])
    actor, role = str(row.get("actor") or ""), str(row.get("role") or "")
    if trigger == REC_ADD:
        number = str(fields.get("number"))
        if number in plan.recommendations:
            raise PlanError(f"recommendation {number} is already recorded", "number")
        plan.recommendations[number] = Recommendation(
            number=number,
            text=str(fields.get("text", "")),
            source=str(fields.get("source", "")),
            section=str(fields.get("section") or ""),
            agencies=tuple(fields.get("agencies") or ()),
            scope=str(fields.get("scope", "")),
            added_on=on,
            seq=seq,
        )
        return
    if trigger == REC_NONE:
        if plan.recommendations:
            raise PlanError("the review has recommendations; a reason for none does not apply")
        plan.none_reason = str(fields.get("reason", ""))
        return
    if trigger == PLAN_OVERRIDE:
        plan.overrides.append(
            Override(seq, on, str(fields.get("trigger")), actor, str(row.get("rationale") or ""))
        )
        return
    number = str(fields.get("action"))
    if trigger == ACTION_ADD:
        if number in plan.actions:
            raise PlanError(f"action {number} is already recorded", "action")
        rec = str(fields.get("rec"))
        found = plan.recommendations.get(rec)
        if found is None:
            raise PlanError(
                f"action {number} is under recommendation {rec}, which is not recorded", "rec"
            )
        agency = str(fields.get("agency"))
        if agency not in found.agencies:
            raise PlanError(
                f"action {number} is owned by {agency!r}, but recommendation {rec} is "
                f"addressed to {', '.join(found.agencies)}",
                "agency",
            )
        due = str(fields.get("due_on"))
        action = Action(
            action=number,
            rec=rec,
            text=str(fields.get("text", "")),
            agency=agency,
            owner=str(fields.get("owner", "")),
            due_on=due,
            original_due_on=due,
            status=NOT_STARTED,
            added_on=on,
            seq=seq,
        )
        action.history.append(Update(seq, on, trigger, actor, role, NOT_STARTED, due_on=due))
        plan.actions[number] = action
        return
    found_action = plan.actions.get(number)
    if found_action is None:
        raise PlanError(f"there is no action {number}")
    action = found_action
    if fields.get("agency") != action.agency:
        raise PlanError(
            f"action {number} is owned by {action.agency!r}, not {fields.get('agency')!r}"
        )
    if not action.open:
        raise PlanError(f"action {number} is already {action.status}")
    note = str(fields.get("note") or "")
    evidence = tuple(fields.get("evidence") or ())
    if trigger == ACTION_UPDATE:
        status = str(fields.get("status") or action.status)
        action.status = status
        action.evidence.extend(e for e in evidence if e not in action.evidence)
        action.history.append(Update(seq, on, trigger, actor, role, status, note, evidence))
    elif trigger == ACTION_EXTEND:
        due = str(fields.get("due_on"))
        if due <= action.due_on:
            raise PlanError(f"an extension of action {number} moves its due date later")
        action.due_on = due
        action.history.append(
            Update(
                seq,
                on,
                trigger,
                actor,
                role,
                action.status,
                due_on=due,
                reason=str(fields.get("reason", "")),
                agreed_by=str(fields.get("agreed_by", "")),
            )
        )
    elif trigger == ACTION_COMPLETE:
        status = str(fields.get("status"))
        action.status = status
        action.completed_on = on
        action.reason = str(fields.get("reason") or "")
        action.evidence.extend(e for e in evidence if e not in action.evidence)
        action.history.append(
            Update(seq, on, trigger, actor, role, status, note, evidence, reason=action.reason)
        )
    else:
        raise PlanError(f"{trigger!r} is not a step of an action plan")


# -- triggers that wait for the plan -------------------------------------------------------


def gate_refusal(
    rules: ActionPlanRules | None, plan: Plan, trigger: str, last_step_seq: int
) -> str | None:
    """Why `trigger` may not fire on a case with this plan, or None.

    A trigger in `refuse_while_open` waits while any action is open, unless an override
    for it was recorded after the case's latest step (`last_step_seq`): an override
    answers one decision, not every later one. A trigger in `require_plan` needs a
    recommendation with an action, or a recorded reason for none."""
    if rules is None:
        return None
    if trigger in rules.require_plan and not plan.none_reason:
        with_actions = {a.rec for a in plan.actions.values()}
        if not with_actions:
            return (
                f"{trigger} needs at least one recommendation with an action, or a recorded "
                "reason why the review made none"
            )
    if trigger in rules.refuse_while_open:
        still_open = plan.open_actions
        if still_open and not any(
            o.trigger == trigger and o.seq > last_step_seq for o in plan.overrides
        ):
            named = ", ".join(a.action for a in still_open[:5])
            more = f" and {len(still_open) - 5} more" if len(still_open) > 5 else ""
            return (
                f"{trigger} waits while actions are open ({named}{more}); complete or close "
                "them, or have the chair record an override with a rationale"
            )
    return None


# -- deadlines -----------------------------------------------------------------------------


MET, MET_EXTENDED, MISSED, OPEN_OVERDUE, OPEN_ON_TIME, CLOSED_UNMET = (
    "met",
    "met_after_extension",
    "missed",
    "overdue",
    "open",
    "closed_without_completion",
)


def outcome(action: Action, today: dt.date) -> str:
    """How an action stands against its deadline: met (done by the due date it was first
    given), met after an agreed extension, missed (done late), overdue (open, past its
    due date), open, or closed without completion."""
    if action.status == CLOSED_WITHOUT:
        return CLOSED_UNMET
    if action.status in DONE_STATUSES:
        done = action.completed_on or ""
        if done <= action.original_due_on:
            return MET
        if done <= action.due_on:
            return MET_EXTENDED
        return MISSED
    return OPEN_OVERDUE if action.due_on < today.isoformat() else OPEN_ON_TIME


def rag(action: Action, today: dt.date, *, amber_days: int = 28) -> str:
    """Red, amber or green (or "complete"/"closed") for a board's action-plan table:
    red when overdue or done late, amber when due within `amber_days`, green otherwise."""
    result = outcome(action, today)
    if result in (MET, MET_EXTENDED):
        return "complete"
    if result == CLOSED_UNMET:
        return "closed"
    if result in (MISSED, OPEN_OVERDUE):
        return "red"
    due = dt.date.fromisoformat(action.due_on)
    return "amber" if (due - today).days <= amber_days else "green"


PROGRESS = {NOT_STARTED: 0, IN_PROGRESS: 50, COMPLETED: 90, EVIDENCED: 100, CLOSED_WITHOUT: 100}
"""How far along each status is, in percent, for the progress bars."""


# -- figures for the board and the annual report -------------------------------------------


OUTCOMES = (MET, MET_EXTENDED, MISSED, CLOSED_UNMET, OPEN_OVERDUE, OPEN_ON_TIME)
"""Every outcome, in the order figures list them."""


@dataclass(frozen=True)
class Counts:
    """Actions by outcome (`outcome`), and how many there are."""

    actions: int
    by_outcome: Mapping[str, int]

    @property
    def completed(self) -> int:
        return sum(self.by_outcome.get(o, 0) for o in (MET, MET_EXTENDED, MISSED))

    @property
    def open(self) -> int:
        return self.by_outcome.get(OPEN_OVERDUE, 0) + self.by_outcome.get(OPEN_ON_TIME, 0)


def count(actions: Iterable[Action], today: dt.date) -> Counts:
    tallied = dict.fromkeys(OUTCOMES, 0)
    total = 0
    for action in actions:
        total += 1
        tallied[outcome(action, today)] += 1
    return Counts(total, tallied)


@dataclass(frozen=True)
class Figures:
    """What an action-plan document and the annual report count: recommendations made,
    actions by outcome overall and by owner agency, the oldest open actions (longest
    overdue first, then soonest due) and completions month by month."""

    recommendations: int
    multi_agency: int
    total: Counts
    by_agency: Mapping[str, Counts]
    oldest_open: tuple[tuple[str, Action], ...]
    completions: tuple[tuple[str, int], ...]  # (YYYY-MM, actions completed that month)


def figures(plans: Sequence[tuple[str, Plan]], today: dt.date, *, oldest: int = 10) -> Figures:
    """The figures of several cases' plans (case reference, plan), as at `today`."""
    every = [(ref, a) for ref, plan in plans for a in plan.actions.values()]
    agencies = sorted({a.agency for _, a in every})
    open_ones = sorted(
        ((ref, a) for ref, a in every if a.open), key=lambda item: (item[1].due_on, item[0])
    )
    months: dict[str, int] = {}
    for _, action in every:
        if action.status in DONE_STATUSES and action.completed_on:
            month = action.completed_on[:7]
            months[month] = months.get(month, 0) + 1
    recs = [r for _, plan in plans for r in plan.recommendations.values()]
    return Figures(
        recommendations=len(recs),
        multi_agency=sum(1 for r in recs if r.scope == MULTI),
        total=count((a for _, a in every), today),
        by_agency={g: count((a for _, a in every if a.agency == g), today) for g in agencies},
        oldest_open=tuple(open_ones[:oldest]),
        completions=tuple(sorted(months.items())),
    )


@dataclass(frozen=True)
class CasePlan:
    ref: str
    workflow: str
    state: str
    plan: Plan


@dataclass(frozen=True)
class Document:
    """An action plan as a document: one case's, or several cases' for a period."""

    title: str
    as_of: str
    scope: str  # a sentence saying what the document covers
    cases: tuple[CasePlan, ...]
    figures: Figures

    @property
    def today(self) -> dt.date:
        return dt.date.fromisoformat(self.as_of)
