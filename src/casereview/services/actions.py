"""Use cases about a case's recommendations and actions: record each plan step (one
event, or nothing), read a case's plan, list open actions across cases, and the check a
workflow step makes against the plan (`gate`).

A plan step follows the write path of every other event: one unit of work; the case row
and its pinned workflow; who may record it (the workflow's `[action_plan]`, through
`domain.actions.role_for`); the step checked alone and against the plan as replayed
(`domain.actions`); one event appended; the case's plan projection rebuilt from its
events (`store.actions`); commit.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from casereview.domain import actions as plans
from casereview.domain import chain, dates
from casereview.domain import text as free_text
from casereview.errors import Input, InvalidInput, NotFound, OutOfRange, Refused, Step
from casereview.services.access import require_reader
from casereview.services.context import ServiceContext

if TYPE_CHECKING:
    from casereview.domain.signing import Signer
    from casereview.domain.workflow.model import ActionPlanRules, WorkflowDefinition
    from casereview.store.database import Connection, Row

_MULTILINE = frozenset({"text", "note", "reason"})
"""Fields whose text may hold line breaks (the rest are one line)."""


@dataclass(frozen=True)
class Recorded:
    """A plan step as recorded."""

    ref: str
    seq: int
    trigger: str
    occurred_on: str
    role: str
    entry_hash: str


def _rules(definition: WorkflowDefinition) -> ActionPlanRules:
    rules = definition.action_plan
    if rules is None:
        raise Refused(
            f"workflow {definition.label} declares no action plan (its [action_plan] "
            "table): it records no recommendations or actions"
        )
    return rules


def _write_signer(ctx: ServiceContext, conn: Connection) -> Signer:
    # Imported here: the key ring brings the store's SQLAlchemy modules, which the
    # reading commands (`action due` beside `due`) do without.
    from casereview.services import keys

    return keys.write_signer(ctx, conn)


def _no_case(ref: str) -> NotFound:
    return NotFound("no case {ref!r}; see '{next}'", ref=ref, next=Step("list_cases"))


def _definition(ctx: ServiceContext, row: Mapping[str, Any] | Row) -> WorkflowDefinition:
    return ctx.registry.get_exact(
        str(row["workflow_id"]), int(row["workflow_version"]), str(row["workflow_hash"])
    )


def _check_text(fields: Mapping[str, Any]) -> None:
    for name, value in fields.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, str):
                free_text.check(item, Input(name), multiline=name in _MULTILINE)


def _plan_events(conn: Connection, case_id: int) -> list[Mapping[str, Any]]:
    from casereview.store import event_log

    return [
        e for e in event_log.iter_events(conn, case_id=case_id) if e["kind"] in plans.PLAN_KINDS
    ]


def record(
    ctx: ServiceContext,
    ref: str,
    trigger: str,
    fields: Mapping[str, Any],
    *,
    on: dt.date | None = None,
    rationale: str | None = None,
) -> Recorded:
    """Record one plan step (`domain.actions`: `rec_add`, `action_update`, …) on case
    `ref`: exactly one event, or nothing at all."""
    occurred_on = on or ctx.clock.today()
    with ctx.db().unit_of_work() as uow:
        session = _Session(ctx, uow.conn, ref)
        recorded = session.record(trigger, fields, occurred_on, rationale)
        session.store()
        uow.commit()
    return recorded


class _Session:
    """Plan steps recorded on one case in one unit of work: the case, its workflow and
    its plan as the steps so far left it, so that each step is checked against the one
    before (a batch from an import is checked exactly as steps typed one by one)."""

    def __init__(
        self,
        ctx: ServiceContext,
        conn: Connection,
        ref: str,
        signer: Signer | None = None,
        *,
        together: bool = False,
    ) -> None:
        from casereview.store import projections
        from casereview.store import users as user_rows

        row = projections.get_case(conn, ref)
        if row is None:
            raise _no_case(ref)
        if row["voided_seq"] is not None:
            raise Refused(f"case {ref} was voided as opened in error; nothing more is recorded")
        if row["closed"]:
            raise Refused(f"case {ref} is closed; its action plan is no longer changed")
        self.ctx, self.conn, self.ref, self.row = ctx, conn, ref, row
        self.definition = _definition(ctx, row)
        self.rules = _rules(self.definition)
        events = _plan_events(conn, int(row["id"]))
        self.plan = plans.replay(events)
        self.latest = max([str(row["last_event_on"]), *(str(e["occurred_on"]) for e in events)])
        self.me = user_rows.get_user(conn, ctx.account)
        self.signer = signer  # read from the key ring at the first step when not given
        # `together`: the steps are appended in one go by `store` (each is still sealed
        # and signed on its own), so a batch pays for the chain head once per case.
        self.pending: list[dict[str, Any]] | None = [] if together else None

    def record(
        self,
        trigger: str,
        fields: Mapping[str, Any],
        occurred_on: dt.date,
        rationale: str | None = None,
    ) -> Recorded:
        from casereview.store import event_log

        ctx, definition = self.ctx, self.definition
        given = {k: v for k, v in fields.items() if v is not None}
        _check_text(given)
        if rationale is not None:
            free_text.check(rationale, Input("rationale"), multiline=True)
        given = _with_owner(self.plan, trigger, given)
        try:
            plans.check_fields(
                trigger, given, [a.id for a in definition.agencies], rationale=rationale
            )
        except plans.PlanError as exc:
            raise PlanInputError("{problem}", problem=str(exc), field=exc.field) from None
        role = _role(self.rules, trigger, given, self.me, ctx.account)
        _check_date(ctx, occurred_on, self.latest)
        event = {
            "kind": plans.KIND_OF[trigger],
            "case_ref": self.ref,
            "trigger": trigger,
            "from_state": self.row["state"],
            "to_state": self.row["state"],
            "occurred_on": occurred_on.isoformat(),
            "recorded_at": chain.format_instant(ctx.clock.now()),
            "actor": ctx.account,
            "on_behalf_of": None,
            "role": role,
            "rationale": (rationale or "").strip() or None,
            "fields": given,
            "workflow_id": definition.id,
            "workflow_version": definition.version,
            "definition_hash": definition.content_hash,
        }
        try:
            plans.apply(self.plan, {**event, "seq": 0})
        except plans.PlanError as exc:
            raise PlanRefused(
                "case {ref}: {problem}", ref=self.ref, problem=str(exc), field=exc.field
            ) from None
        self.latest = max(self.latest, occurred_on.isoformat())
        if self.pending is not None:  # appended together by `store`
            self.pending.append({**event, "case_id": int(self.row["id"])})
            return Recorded(self.ref, 0, trigger, occurred_on.isoformat(), role, "")
        if self.signer is None:
            self.signer = _write_signer(self.ctx, self.conn)
        appended = event_log.append_event(self.conn, event, int(self.row["id"]), self.signer)
        return Recorded(
            self.ref, appended.seq, trigger, occurred_on.isoformat(), role, appended.entry_hash
        )

    def store(self) -> None:
        """Append the steps kept back (a batch's), and write the case's plan projection."""
        if self.pending:
            from casereview.store import event_log

            if self.signer is None:
                self.signer = _write_signer(self.ctx, self.conn)
            event_log.append_events(self.conn, self.pending, signer=self.signer)
            self.pending = []
        store_plan(self.conn, int(self.row["id"]), live=True)  # a closed case is refused


def store_plan(conn: Connection, case_id: int, *, live: bool) -> None:
    """Write a case's plan projection: the replay of its stored events, as `audit
    verify` rebuilds it; `live`: the case is neither closed nor voided (its open
    actions are still owed). Called after each plan step, and after each step of a
    case whose workflow has an action plan (closing the case ends what is owed)."""
    from casereview.store import actions as plan_rows

    plan_rows.store_plan(conn, case_id, plans.replay(_plan_events(conn, case_id)), live=live)


@dataclass(frozen=True)
class PlanStep:
    """One plan step of a batch (`record_many`): what `record` takes."""

    trigger: str
    fields: Mapping[str, Any]
    on: dt.date
    rationale: str | None = None


def record_many(
    ctx: ServiceContext,
    cases: Iterable[tuple[str, Sequence[PlanStep]]],
    *,
    batch_size: int = 200,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Record the plan steps of many cases (reference, steps in order), `batch_size`
    cases per unit of work, each step checked exactly as `record` checks it: a refused
    step raises, its batch is rolled back, earlier batches are kept. Returns the number
    of events recorded; `progress` is called with each batch's. For the benchmark
    generator, which gives its cases' actions through the same events as the CLI."""
    if batch_size < 1:
        raise InvalidInput(f"batch size must be at least 1, got {batch_size}")
    total = 0
    batch: list[tuple[str, Sequence[PlanStep]]] = []

    def write(chunk: list[tuple[str, Sequence[PlanStep]]]) -> int:
        done = 0
        with ctx.db().unit_of_work() as uow:
            signer = _write_signer(ctx, uow.conn)
            for ref, steps in chunk:
                session = _Session(ctx, uow.conn, ref, signer, together=True)
                for step in steps:
                    session.record(step.trigger, step.fields, step.on, step.rationale)
                    done += 1
                session.store()
            uow.commit()
        if progress is not None:
            progress(done)
        return done

    for item in cases:
        batch.append(item)
        if len(batch) >= batch_size:
            total += write(batch)
            batch = []
    if batch:
        total += write(batch)
    return total


class PlanInputError(InvalidInput):
    """A plan step's values do not fit (`field`: the one at fault, when known)."""

    def __init__(self, template: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(template, **params)
        self.field = field


class PlanRefused(Refused):
    """A plan step does not fit the plan as it stands (`field`, when known)."""

    def __init__(self, template: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(template, **params)
        self.field = field


def _with_owner(plan: plans.Plan, trigger: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A step on an existing action records the agency that owns it (so who may record
    it can be checked from the event alone): taken from the plan when not given."""
    if trigger not in (plans.ACTION_UPDATE, plans.ACTION_EXTEND, plans.ACTION_COMPLETE):
        return fields
    if "agency" in fields:
        return fields
    action = plan.actions.get(str(fields.get("action")))
    if action is None:
        raise NotFound(f"there is no action {str(fields.get('action'))[:20]!r} on this case")
    return {**fields, "agency": action.agency}


def _role(
    rules: ActionPlanRules, trigger: str, fields: Mapping[str, Any], me: Row | None, account: str
) -> str:
    if me is None:
        raise Refused(
            "account {username!r} is not a casereview user; ask an admin to run '{add}'",
            username=account,
            add=Step("add_user", (account,)),
        )
    if not me["active"]:
        raise Refused(f"user {account!r} is deactivated")
    roles = json.loads(me["roles"])
    role, why = plans.role_for(rules, trigger, fields, roles, me["agency"])
    if role is None:
        raise Refused("{why}; {account!r} holds {held}", why=why, account=account,
                      held=", ".join(sorted(roles)) or "no role")  # fmt: skip
    return role


def _check_date(ctx: ServiceContext, on: dt.date, not_before: str) -> None:
    today = ctx.clock.today()
    dates.supported(on, "the date")
    if on > today:
        raise Refused(f"the date {on.isoformat()} is in the future (today is {today.isoformat()})")
    if on.isoformat() < not_before:
        raise Refused(
            f"the date {on.isoformat()} is before the case's latest event on {not_before}; "
            "events are recorded in order"
        )


# -- the gate a workflow step passes -------------------------------------------------------


def gate(conn: Connection, definition: WorkflowDefinition, row: Row, trigger: str) -> None:
    """Refuse `trigger` on the case of `row` while its plan says it must wait
    (`domain.actions.gate_refusal`): open actions, or no plan at all."""
    rules = definition.action_plan
    if rules is None or (
        trigger not in rules.refuse_while_open and trigger not in rules.require_plan
    ):
        return
    plan = plans.replay(_plan_events(conn, int(row["id"])))
    problem = plans.gate_refusal(rules, plan, trigger, int(row["last_seq"]))
    if problem is not None:
        raise Refused("case {ref}: {problem}", ref=str(row["ref"]), problem=problem)


# -- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanView:
    ref: str
    workflow: str
    state: str
    closed: bool
    plan: plans.Plan
    as_of: str
    pseudonym: str = ""


def show_plan(ctx: ServiceContext, ref: str) -> PlanView:
    """A case's plan, replayed from its events; only a role the workflow's
    `[action_plan]` names may read it."""
    from casereview.store import dashboard_queries as views

    with ctx.reader() as reader:
        viewer = require_reader(ctx, reader)
        row = views.case_row(reader, ref)
        if row is None:
            raise _no_case(ref)
        definition = _definition(ctx, row)
        events = views.case_events(reader, int(row["id"]))
    rules = _rules(definition)
    allowed = plans.readers(rules)
    if not viewer.roles & allowed:
        raise Refused(
            "the action plan is read by {roles}; {account!r} holds none of them",
            roles=", ".join(sorted(allowed)),
            account=viewer.username,
        )
    return PlanView(
        ref=ref,
        workflow=definition.label,
        state=str(row["state"]),
        closed=bool(row["closed"]),
        plan=plans.replay(events),
        as_of=ctx.clock.today().isoformat(),
        pseudonym=str(row["pseudonym"] or ""),
    )


@dataclass(frozen=True)
class ActionWhy:
    """Why an action is due when it is: the action as replayed (its first due date, each
    extension with its reason and who agreed it, its history), and how it stands today."""

    ref: str
    pseudonym: str
    workflow: str
    closed: bool  # the case is closed: an open action is no longer owed
    today: dt.date
    action: plans.Action
    status: (
        str  # a clock status (overdue, due_soon, running, met, missed) or closed_without_completion
    )
    outcome: str
    working_days_left: int | None  # open: working days to the due date (negative: overdue)
    warn_from: str  # the day it shows as "due soon" from


ACTION_WARNING_DAYS = 28
"""An open action is "due soon" this many calendar days before its due date (as in `due`)."""


def explain_action(ctx: ServiceContext, ref: str, number: str) -> ActionWhy:
    """Why action `number` of case `ref` is due when it is; read by the roles that may
    read the plan (`show_plan`)."""
    from casereview.domain import clocks
    from casereview.domain.reporting.case_facts import working_days_late

    view = show_plan(ctx, ref)
    action = view.plan.actions.get(number)
    if action is None:
        listed = ", ".join(plans.clock_id(n) for n in view.plan.actions) or "none recorded"
        raise NotFound(
            "case {ref} has no action {number!r}; its actions: {listed}",
            ref=view.ref,
            number=number[:20],
            listed=listed,
        )
    today = ctx.clock.today()
    due = dt.date.fromisoformat(action.due_on)
    warn_from = due - dt.timedelta(days=ACTION_WARNING_DAYS)
    outcome = plans.outcome(action, today)
    left: int | None = None
    if action.open:
        status = clocks.status_of_running(due, warn_from, False, today)
        cal = ctx.calendar
        try:
            late = working_days_late(cal, due, today)
            left = cal.count_working_days(today, due) if due >= today else -late
        except OutOfRange:
            left = None  # outside the calendar's years: shown without a count, as in `due`
    elif outcome in (plans.MET, plans.MET_EXTENDED):
        status = "met"
    elif outcome == plans.MISSED:
        status = "missed"
    else:
        status = plans.CLOSED_UNMET
    return ActionWhy(
        ref=view.ref,
        pseudonym=view.pseudonym,
        workflow=view.workflow,
        closed=view.closed,
        today=today,
        action=action,
        status=status,
        outcome=outcome,
        working_days_left=left,
        warn_from=warn_from.isoformat(),
    )


@dataclass(frozen=True)
class DueAction:
    ref: str
    action: str
    rec: str
    agency: str
    owner: str
    due_on: str
    original_due_on: str
    status: str
    overdue: bool
    days_left: int  # calendar days from today to the due date (negative: overdue)


def actions_due(
    ctx: ServiceContext,
    *,
    agency: str | None = None,
    within: int | None = None,
    limit: int = 500,
) -> Sequence[DueAction]:
    """Open actions across every case, soonest due first: by owner agency when given,
    due within `within` calendar days when given. One indexed query; no replay."""
    from casereview.store import actions_due as plan_rows

    if limit < 1:
        raise InvalidInput("{limit} is at least 1", limit=Input("limit"))
    today = ctx.clock.today()
    before = None
    if within is not None:
        if within < 0:
            raise InvalidInput("{within} is a number of days, 0 or more", within=Input("within"))
        before = (today + dt.timedelta(days=within)).isoformat()
    with ctx.reader() as reader:
        require_reader(ctx, reader)
        rows = plan_rows.actions_due(reader, agency=agency, before=before, limit=limit)
    found = []
    for r in rows:
        due = dt.date.fromisoformat(str(r["due_on"]))
        found.append(
            DueAction(
                ref=str(r["ref"]),
                action=str(r["action"]),
                rec=str(r["rec"]),
                agency=str(r["agency"]),
                owner=str(r["owner"]),
                due_on=str(r["due_on"]),
                original_due_on=str(r["original_due_on"]),
                status=str(r["status"]),
                overdue=due < today,
                days_left=(due - today).days,
            )
        )
    return found


# -- the action plan as a document ---------------------------------------------------------


def plan_document(
    ctx: ServiceContext,
    ref: str | None = None,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> plans.Document:
    """One case's action plan (`ref`), or every case's whose recommendations were made
    within `start`..`end` (each bound optional), with its figures as at today. Each
    plan is replayed from its case's events; a case whose plan the reader's roles may
    not read is left out of a document across cases (and refused for one case)."""
    from casereview.store import actions as plan_rows
    from casereview.store import dashboard_queries as views

    if start is not None and end is not None and end < start:
        raise InvalidInput("the period ends before it starts")
    today = ctx.clock.today()
    found: list[plans.CasePlan] = []
    with ctx.reader() as reader:
        viewer = require_reader(ctx, reader)
        rows = (
            [views.case_row(reader, ref)] if ref is not None else plan_rows.cases_with_plans(reader)
        )
        for row in rows:
            if row is None:
                raise _no_case(str(ref))
            definition = _definition(ctx, row)
            rules = definition.action_plan
            if rules is None or not viewer.roles & plans.readers(rules):
                if ref is None:
                    continue
                allowed = plans.readers(_rules(definition))
                raise Refused(
                    "the action plan is read by {roles}; {account!r} holds none of them",
                    roles=", ".join(sorted(allowed)),
                    account=viewer.username,
                )
            plan = plans.replay(views.case_events(reader, int(row["id"])))
            plan = _within(plan, start, end)
            if ref is None and not plan.recommendations:
                continue
            found.append(plans.CasePlan(str(row["ref"]), definition.label, str(row["state"]), plan))
    figures = plans.figures([(c.ref, c.plan) for c in found], today)
    if ref is not None:
        title, scope = f"Action plan: case {ref}", "Every recommendation and action of the case."
    else:
        title = "Action plans"
        scope = f"Recommendations made {_period_words(start, end)}, in {len(found)} case(s)."
    return plans.Document(title, today.isoformat(), scope, tuple(found), figures)


def _within(plan: plans.Plan, start: dt.date | None, end: dt.date | None) -> plans.Plan:
    """The plan's recommendations made within the period, and their actions."""
    if start is None and end is None:
        return plan
    low = start.isoformat() if start else ""
    high = end.isoformat() if end else "9999-12-31"
    kept = {n: r for n, r in plan.recommendations.items() if low <= r.added_on <= high}
    return plans.Plan(
        recommendations=kept,
        actions={k: a for k, a in plan.actions.items() if a.rec in kept},
        none_reason=plan.none_reason,
        overrides=plan.overrides,
        problems=plan.problems,
    )


def _period_words(start: dt.date | None, end: dt.date | None) -> str:
    if start and end:
        return f"from {start.isoformat()} to {end.isoformat()}"
    if start:
        return f"on or after {start.isoformat()}"
    if end:
        return f"on or before {end.isoformat()}"
    return "at any time"


# -- importing a plan kept in a spreadsheet ------------------------------------------------


IMPORT_LIMIT = 8 * 1024 * 1024
"""The most of a plan file casereview reads."""

_REC_COLUMNS = {"number": "rec", "text": "recommendation", "source": "source",
                "section": "section", "agencies": "agencies", "scope": "scope"}  # fmt: skip
_ACTION_COLUMNS = {"action": "action", "rec": "rec", "text": "text", "agency": "agency",
                   "owner": "owner", "due_on": "due_on"}  # fmt: skip


@dataclass(frozen=True)
class Imported:
    ref: str
    recommendations: int
    actions: int
    first_seq: int | None
    last_seq: int | None


def import_plan(
    ctx: ServiceContext, ref: str, data: bytes, *, on: dt.date | None = None
) -> Imported:
    """Record the recommendations and actions of a CSV file (`formats.action_plan_csv`)
    on case `ref`, through the same checks as each step typed alone, all or nothing: a
    problem names its row and column, and nothing is recorded."""
    from casereview.formats.action_plan_csv import LayoutError, parse

    try:
        rows = parse(data)
    except LayoutError as exc:
        raise InvalidInput("{problem}; nothing was recorded", problem=str(exc)) from None
    occurred_on = on or ctx.clock.today()
    recorded: list[Recorded] = []
    counts = {plans.REC_ADD: 0, plans.ACTION_ADD: 0}
    with ctx.db().unit_of_work() as uow:
        session = _Session(ctx, uow.conn, ref)
        for row in rows:
            columns: Mapping[str, str] = _REC_COLUMNS
            try:
                # `columns` is read by the handlers below: where a step's problem lies.
                for trigger, fields, columns in _steps(session.plan, row.values):  # noqa: B007
                    recorded.append(session.record(trigger, fields, occurred_on))
                    counts[trigger] += 1
            except (PlanInputError, PlanRefused) as exc:
                column = columns.get(exc.field or "", "")
                where = f"row {row.number}" + (f", column {column}" if column else "")
                raise exc.prefixed(f"{where}: ").suffixed("; nothing was recorded") from None
            except (InvalidInput, Refused, NotFound) as exc:
                raise exc.prefixed(f"row {row.number}: ").suffixed(
                    "; nothing was recorded"
                ) from None
        session.store()
        uow.commit()
    return Imported(
        ref,
        counts[plans.REC_ADD],
        counts[plans.ACTION_ADD],
        recorded[0].seq if recorded else None,
        recorded[-1].seq if recorded else None,
    )


def _steps(
    plan: plans.Plan, values: Mapping[str, str]
) -> list[tuple[str, dict[str, Any], Mapping[str, str]]]:
    """The plan steps one row of the file asks for: its recommendation when the plan
    does not hold it yet, and its action when it names one."""
    number = values.get("rec", "")
    steps: list[tuple[str, dict[str, Any], Mapping[str, str]]] = []
    given = {k: v for k, v in values.items() if k in _REC_COLUMNS.values() and k != "rec"}
    if number not in plan.recommendations:
        agencies = [a.strip() for a in values.get("agencies", "").replace(";", ",").split(",")]
        named = [a for a in agencies if a]
        scope = values.get("scope") or (plans.MULTI if len(named) > 1 else plans.SINGLE)
        fields = {
            "number": number,
            "text": values.get("recommendation"),
            "source": values.get("source"),
            "section": values.get("section"),
            "agencies": named,
            "scope": scope,
        }
        steps.append((plans.REC_ADD, fields, _REC_COLUMNS))
    elif given:
        rec = plan.recommendations[number]
        if "recommendation" in given and given["recommendation"] != rec.text:
            raise PlanInputError(
                "recommendation {number} is already recorded with other words",
                number=number,
                field="text",
            )
    if "action" in values:
        fields = {
            "action": values["action"],
            "rec": number,
            "text": values.get("text"),
            "agency": values.get("agency"),
            "owner": values.get("owner"),
            "due_on": values.get("due_on"),
        }
        steps.append((plans.ACTION_ADD, fields, _ACTION_COLUMNS))
    return steps
