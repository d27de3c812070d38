"""`audit verify`'s case pass: every event read once, in case order, checked against its
own payload and hash and against who may record what (`domain.authority`, over the
timeline the coordinator replayed from the events under no case), and every case
replayed through its pinned workflow and compared with its stored case row and clock
rows.

The pass can cover a run of case ids (`CaseRange`), so worker processes can share it
(`services.audit_jobs`); its findings are put back in the order one pass over every
case gives them (`case_findings`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from casereview.domain import actions as plans
from casereview.domain import authority, chain, clocks, dates
from casereview.domain import processes as case_processes
from casereview.domain.actions import PLAN_KINDS
from casereview.domain.migration import FROM_HASH, MIGRATE, MIGRATE_KIND
from casereview.domain.replay import replay
from casereview.domain.workflow.model import ActionPlanRules, WorkflowDefinition
from casereview.errors import CaseReviewError
from casereview.services.context import ServiceContext
from casereview.store import actions as plan_rows
from casereview.store import event_log, projections
from casereview.store.projections import EVERY_CASE, CaseRange

if TYPE_CHECKING:
    from casereview.store.database import Connection

PROGRESS_EVERY = 5000
"""Events read between two calls of a pass's `progress`."""


@dataclass
class _Pinned:
    """A workflow definition a case is pinned to, with what replay needs of it once."""

    definition: WorkflowDefinition | None
    error: str | None
    content_hash: str = ""
    rules: list[clocks.ClockRule] = field(default_factory=list)
    date_fields: frozenset[str] = frozenset()
    personal: frozenset[str] = frozenset()


def _grouped(rows: Iterator[dict[str, Any]]) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """(case id, its rows) from rows ordered by case id."""
    current: int | None = None
    group: list[dict[str, Any]] = []
    for row in rows:
        case_id = int(row["case_id"])
        if case_id != current:
            if current is not None:
                yield current, group
            current, group = case_id, []
        group.append(row)
    if current is not None:
        yield current, group


# Where things are in an `event_log.SEALED_COLUMNS` row, and in its hashed values.
_HASHED_FROM = event_log.SEALED_COLUMNS.index(chain.PAYLOAD_ORDER[0])
_HASHED_TO = _HASHED_FROM + len(chain.PAYLOAD_ORDER)
_PAYLOAD_AT = event_log.SEALED_COLUMNS.index("payload")
_ENTRY_HASH_AT = event_log.SEALED_COLUMNS.index("entry_hash")
_AT = {name: i for i, name in enumerate(chain.PAYLOAD_ORDER)}


class EventPass:
    """Reads every event once, in case order, for the halves that need whole events.

    Each event is checked against its own payload and hash (`chain.check_event`, its
    findings kept in `sealed`), each event filed under a case against who may record
    what (`checker`, its findings kept in `authority`), and handed, fields decoded
    once, to its case's replay. Events under no case are checked against their payload
    and hash too; their authority is `domain.authority.replay`'s, which built the
    checker's timeline.
    """

    def __init__(self, progress: Callable[[int], None] | None, checker: authority.Checker) -> None:
        self.progress = progress
        self.checker = checker
        self.sealed: list[chain.Finding] = []
        self.authority: list[chain.Finding] = []

    def groups(
        self,
        conn: Connection,
        cases: CaseRange = EVERY_CASE,
        *,
        unfiled: bool = True,
    ) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """(case id, its events as replay reads them), in case-id order, for the case
        ids in `cases`; with `unfiled`, events under no case are checked too."""
        check = chain.check_event
        sealed, authorised = self.sealed, self.authority
        check_authority = self.checker.check_filed
        first, end, payload_at, entry_at = _HASHED_FROM, _HASHED_TO, _PAYLOAD_AT, _ENTRY_HASH_AT
        seq_at, ref_at, trigger_at = _AT["seq"], _AT["case_ref"], _AT["trigger"]
        kind_at = _AT["kind"]
        from_at, to_at, on_at = _AT["from_state"], _AT["to_state"], _AT["occurred_on"]
        definition_at = _AT["definition_hash"]
        kind_at, version_at = _AT["kind"], _AT["workflow_version"]
        current: Any = None
        group: list[dict[str, Any]] = []
        unreported = 0
        for row in event_log.iter_sealed_events_by_case(conn, cases, unfiled=unfiled):
            values = row[first:end]
            found, fields = check(values, row[payload_at], row[entry_at])
            if found:
                sealed.extend(found)
            unreported += 1
            if unreported == PROGRESS_EVERY:
                if self.progress is not None:
                    self.progress(unreported)
                unreported = 0
            case_id = row[0]
            if case_id is None:
                continue
            found = check_authority(values, fields)
            if found:
                authorised.extend(found)
            if case_id != current:
                if current is not None:
                    yield int(current), group
                current, group = case_id, []
            group.append(
                {
                    "kind": values[kind_at],
                    "seq": values[seq_at],
                    "case_ref": values[ref_at],
                    "trigger": values[trigger_at],
                    "from_state": values[from_at],
                    "to_state": values[to_at],
                    "occurred_on": values[on_at],
                    "fields": fields,
                    "definition_hash": values[definition_at],
                    "workflow_version": values[version_at],
                }
            )
            if values[kind_at] in PLAN_KINDS:  # its history names who recorded each step
                group[-1].update(
                    actor=values[_AT["actor"]],
                    role=values[_AT["role"]],
                    rationale=values[_AT["rationale"]],
                )
        if current is not None:
            yield int(current), group
        if self.progress is not None and unreported:
            self.progress(unreported)


@dataclass
class CasePass:
    """What replaying a run of cases found: how many cases, findings about events filed
    under a case id with no row, and each case's findings by reference; and what the
    authority checks of its events found, with how many of its cases are legacy (opened
    before any workflow was installed)."""

    cases: int = 0
    authority: list[chain.Finding] = field(default_factory=list)
    legacy: int = 0
    orphans: list[chain.Finding] = field(default_factory=list)
    by_ref: list[tuple[str, list[chain.Finding]]] = field(default_factory=list)


def case_findings(passes: Iterable[CasePass]) -> list[chain.Finding]:
    """The findings of one or more case passes in report order, as one pass over every
    case gives them: orphaned events first, then each case's, by reference."""
    done = list(passes)
    by_ref = sorted((item for p in done for item in p.by_ref), key=lambda item: item[0])
    return [f for p in done for f in p.orphans] + [f for _, found in by_ref for f in found]


def verify_cases(
    ctx: ServiceContext,
    conn: Connection,
    event_pass: EventPass,
    cases: CaseRange = EVERY_CASE,
    *,
    unfiled: bool = True,
) -> CasePass:
    """Replay the cases with ids in `cases` and compare with their stored rows.

    Three streams in case-id order — case rows, events, clock rows — are merged, so one
    case is in memory at a time. Every event read on the way is checked against its
    payload and hash by `event_pass`.
    """
    done = CasePass()
    orphans, by_ref = done.orphans, done.by_ref
    pinned: dict[tuple[str, int, str], _Pinned] = {}
    events = event_pass.groups(conn, cases, unfiled=unfiled)
    clock_groups = _grouped(projections.iter_clock_rows(conn, cases))
    plan_streams = {
        table: _Following(_grouped(plan_rows.iter_rows(conn, table, cases)))
        for table in plan_rows.COLUMNS
    }
    next_events = next(events, None)
    next_clocks = next(clock_groups, None)
    count = 0
    for row in projections.iter_case_rows(conn, cases):
        count += 1
        case_id, ref = int(row["id"]), str(row["ref"])
        while next_events is not None and next_events[0] < case_id:
            orphans.append(
                chain.Finding(
                    "replay", f"events refer to case id {next_events[0]}, which has no row"
                )
            )
            next_events = next(events, None)
        case_events: list[dict[str, Any]] = []
        if next_events is not None and next_events[0] == case_id:
            case_events = next_events[1]
            next_events = next(events, None)
        while next_clocks is not None and next_clocks[0] < case_id:
            next_clocks = next(clock_groups, None)
        stored_clocks: list[dict[str, Any]] = []
        if next_clocks is not None and next_clocks[0] == case_id:
            stored_clocks = next_clocks[1]
            next_clocks = next(clock_groups, None)
        key = (str(row["workflow_id"]), int(row["workflow_version"]), str(row["workflow_hash"]))
        if key not in pinned:
            pinned[key] = _pin(ctx, key)
        found = _verify_case(ctx, row, case_events, stored_clocks, pinned[key])
        stored_plan = {table: rows.take(case_id) for table, rows in plan_streams.items()}
        definition = pinned[key].definition
        rules = definition.action_plan if definition is not None else None
        # Whether its open actions are still owed: the case row's closed and voided
        # columns, themselves compared with the replay above.
        live = not row["closed"] and row["voided_seq"] is None
        found.extend(_verify_plan(ref, case_id, case_events, stored_plan, rules, live))
        by_ref.append((ref, found))
    while next_events is not None:
        orphans.append(
            chain.Finding("replay", f"events refer to case id {next_events[0]}, which has no row")
        )
        next_events = next(events, None)
    done.cases = count
    done.authority = event_pass.authority
    done.legacy = event_pass.checker.legacy
    return done


class _Following:
    """Rows grouped by case id, taken case by case in increasing id order."""

    def __init__(self, groups: Iterator[tuple[int, list[dict[str, Any]]]]) -> None:
        self._groups = groups
        self._next = next(groups, None)

    def take(self, case_id: int) -> list[dict[str, Any]]:
        while self._next is not None and self._next[0] < case_id:
            self._next = next(self._groups, None)
        if self._next is not None and self._next[0] == case_id:
            rows = self._next[1]
            self._next = next(self._groups, None)
            return rows
        return []


def _verify_plan(
    ref: str,
    case_id: int,
    events: list[dict[str, Any]],
    stored: dict[str, list[dict[str, Any]]],
    rules: ActionPlanRules | None,
    live: bool,
) -> list[chain.Finding]:
    """The case's action plan (`domain.actions`) replayed from its events and compared
    with its stored rows; plan steps that do not apply are findings too, and so is a
    step of the case the plan should have held back (`domain.actions.gate_refusal`)."""
    found = _gate_findings(ref, events, rules) if rules is not None else []
    if not any(stored.values()) and not any(e.get("kind") in PLAN_KINDS for e in events):
        return found
    try:
        plan = plans.replay(events)
    except (ValueError, TypeError, KeyError) as exc:
        return [
            chain.Finding(
                "replay", f"case {ref}: its action plan cannot be replayed ({type(exc).__name__})"
            )
        ]
    found += [chain.Finding("replay", f"case {ref}: {p}", seq) for seq, p in plan.problems]
    expected = plan_rows.expected_rows(case_id, plan, live=live)
    for table, columns in plan_rows.COLUMNS.items():
        have = sorted(plan_rows.as_tuples(stored[table], columns), key=repr)
        if have != sorted(expected[table], key=repr):
            found.append(
                chain.Finding(
                    "projection",
                    f"case {ref}: stored action plan ({table}) differs from its events",
                )
            )
    return found


def _gate_findings(
    ref: str, events: list[dict[str, Any]], rules: ActionPlanRules
) -> list[chain.Finding]:
    """Each step of the case that its plan, as it stood then, should have refused (a
    close with actions open and no override after the case's previous step): the write
    path refuses them, so one found here was written around casereview."""
    gated = set(rules.refuse_while_open) | set(rules.require_plan)
    if not gated:
        return []
    found: list[chain.Finding] = []
    plan = plans.Plan()
    last_step = 0
    # The rules are the case's current version's: a step recorded before the case moved
    # to it was decided under its earlier version, whose file may not gate it.
    moved = max((int(e["seq"]) for e in events if e.get("trigger") == MIGRATE), default=0)
    for event in events:
        seq = int(event["seq"])
        if event.get("kind") in PLAN_KINDS:
            # A step that does not apply is reported with the plan's replay.
            with contextlib.suppress(plans.PlanError, ValueError, TypeError, KeyError):
                plans.apply(plan, event)
            continue
        trigger = str(event["trigger"])
        if trigger in gated and seq > moved:
            problem = plans.gate_refusal(rules, plan, trigger, last_step)
            if problem is not None:
                found.append(chain.Finding("replay", f"case {ref}: {problem}", seq))
        last_step = seq
    return found


def rules_loader(ctx: ServiceContext) -> authority.RulesOf:
    """The authority rules of a pinned workflow version, from the workflow files; None
    when its file cannot be read (the case pass reports that for each case)."""

    def rules_of(key: authority.WorkflowKey) -> authority.WorkflowRules | None:
        try:
            return authority.WorkflowRules.of(ctx.registry.get_exact(*key))
        except CaseReviewError:
            return None

    return rules_of


def _pin(ctx: ServiceContext, key: tuple[str, int, str]) -> _Pinned:
    try:
        definition = ctx.registry.get_exact(*key)
    except CaseReviewError as exc:
        return _Pinned(None, exc.message)
    return _Pinned(
        definition,
        None,
        definition.content_hash,
        clocks.rules_for(definition),
        frozenset(f.id for f in definition.fields if f.type == "date"),
        frozenset(f.id for f in definition.fields if f.personal),
    )


def _date_findings(ref: str, events: list[dict[str, Any]], pinned: _Pinned) -> list[chain.Finding]:
    """Every stored date of the case's events that casereview cannot compute with: the
    business date, and each value of a date field. Entered before dates were checked on
    input (or written around casereview), such a value stays in the log as recorded; the
    readers show it as stored, and this is where it is reported."""
    found: list[chain.Finding] = []
    problem_of, date_fields = dates.stored_problem, pinned.date_fields
    for event in events:
        seq = int(event["seq"])
        problem = problem_of(event["occurred_on"])
        if problem is not None:
            found.append(chain.Finding("date", f"case {ref}: occurred_on {problem}", seq))
        values = event["fields"]
        if not date_fields or type(values) is not dict:
            continue
        for name, value in values.items():
            if name not in date_fields:
                continue
            problem = problem_of(value)
            if problem is None:
                continue
            if name in pinned.personal:  # the value itself is not for the report
                problem = "is not a date casereview can compute with"
            found.append(chain.Finding("date", f"case {ref}: {name} {problem}", seq))
    return found


def _hashes_before_moves(
    events: list[dict[str, Any]], moves: list[dict[str, Any]]
) -> dict[int, str]:
    """seq -> the workflow hash a step before a move between versions must carry."""
    if not moves:
        return {}
    found: dict[int, str] = {}
    bounds = [int(m["seq"]) for m in moves]
    hashes = []
    for move in moves:
        fields = move["fields"] if type(move["fields"]) is dict else {}
        hashes.append(str(fields.get(FROM_HASH, "")))
    for event in events:
        seq = int(event["seq"])
        for bound, digest in zip(bounds, hashes, strict=True):
            if seq < bound:
                found[seq] = digest
                break
    return found


def _verify_case(
    ctx: ServiceContext,
    row: dict[str, Any],
    events: list[dict[str, Any]],
    stored_clock_rows: list[dict[str, Any]],
    pinned: _Pinned,
) -> list[chain.Finding]:
    ref = str(row["ref"])
    found: list[chain.Finding] = []
    if not events:
        return [chain.Finding("replay", f"case {ref} has no events in the log")]
    for event in events:
        if event["case_ref"] != ref:
            found.append(
                chain.Finding(
                    "replay",
                    f"event belongs to case {event['case_ref']} but is filed under {ref}",
                    int(event["seq"]),
                )
            )
    definition = pinned.definition
    if definition is None:
        found.append(chain.Finding("replay", f"case {ref}: {pinned.error}"))
        return found
    # A case moved between versions (`domain.migration`) has its steps before the move
    # recorded under the version it came from: those must carry the hash the move names.
    moves = [e for e in events if e["trigger"] == MIGRATE and e["kind"] == MIGRATE_KIND]
    expected_hash = _hashes_before_moves(events, moves)
    for event in events:
        if event["definition_hash"] != expected_hash.get(int(event["seq"]), pinned.content_hash):
            found.append(
                chain.Finding(
                    "replay",
                    f"case {ref}: event made under a different workflow content",
                    int(event["seq"]),
                )
            )
            break
    try:
        state = replay(definition, ref, events)
    except (ValueError, TypeError, KeyError) as exc:
        # A tampered row can hold a date that is not a date or fields that are not
        # JSON: that is a finding about the log, not a reason to stop verifying.
        found.append(
            chain.Finding(
                "replay", f"case {ref}: its events cannot be replayed ({type(exc).__name__})"
            )
        )
        return found
    for seq, problem in state.problems:
        found.append(chain.Finding("replay", f"case {ref}: {problem}", seq))
    stored_dates = _date_findings(ref, events, pinned)
    found.extend(stored_dates)
    expected = {
        "state": state.state,
        "pseudonym": state.pseudonym,
        "version": state.version,
        "fields": state.fields,
        "approvals": state.approvals,
        "closed": state.closed,
        "last_event_on": state.last_event_on,
        "last_seq": state.last_seq,
        "opened_on": state.opened_on,
        "hold": state.hold,
        "processes": case_processes.listed(state.processes),
        "links": state.links,
    }
    try:
        stored_fields = json.loads(row["fields"])
        stored_approvals = json.loads(row["approvals"])
        stored_hold = json.loads(row["hold"]) if row.get("hold") else None
        stored_processes = json.loads(row["processes"]) if row.get("processes") else []
        stored_links = json.loads(row["links"]) if row.get("links") else []
    except (ValueError, TypeError):
        found.append(chain.Finding("projection", f"case {ref}: stored fields are not JSON"))
        return found
    stored = {
        "state": row["state"],
        "pseudonym": row["pseudonym"],
        "version": int(row["version"]),
        "fields": stored_fields,
        "approvals": stored_approvals,
        "closed": bool(row["closed"]),
        "last_event_on": row["last_event_on"],
        "last_seq": int(row["last_seq"]),
        "opened_on": row["opened_on"],
        "hold": stored_hold,
        "processes": stored_processes,
        "links": stored_links,
    }
    for key, value in expected.items():
        if stored[key] != value:
            found.append(
                chain.Finding(
                    "projection",
                    f"case {ref}: stored {key} differs from what its events produce",
                )
            )
    try:
        derived = clocks.derive(pinned.rules, state.facts, ctx.calendar)
    except (ValueError, TypeError) as exc:
        # A date field holding something that is not a date: reported above when it is
        # a field of type date; a clock cannot be derived from it either way.
        found.append(
            chain.Finding(
                "replay", f"case {ref}: its clocks cannot be derived ({type(exc).__name__})"
            )
        )
        return found
    expected_clocks = {c.rule.id: clocks.summarise(c) for c in derived.values()}
    stored_clocks = {str(r["clock_id"]): r for r in stored_clock_rows}
    # A clock whose arithmetic left the supported calendar has nothing to compare its
    # stored row with; the stored date behind it is the finding (a computed date beyond
    # the range, with no stored date to blame, is reported for the clock).
    for clock in derived.values():
        if clock.undetermined is not None:
            expected_clocks.pop(clock.rule.id)
            stored_clocks.pop(clock.rule.id, None)
            if not stored_dates:
                found.append(
                    chain.Finding(
                        "date",
                        f"case {ref}: clock {clock.rule.id} cannot be computed: "
                        f"{clock.undetermined}",
                    )
                )
    for clock_id in sorted(set(expected_clocks) | set(stored_clocks)):
        want = expected_clocks.get(clock_id)
        have = stored_clocks.get(clock_id)
        if want is None or have is None:
            found.append(
                chain.Finding(
                    "projection",
                    f"case {ref}: clock {clock_id} should {'not ' if want is None else ''}exist",
                )
            )
            continue
        for column in projections.CLOCK_COLUMNS:
            if getattr(want, column) != have[column]:
                found.append(
                    chain.Finding(
                        "projection",
                        f"case {ref}: clock {clock_id} {column} differs from its events",
                    )
                )
                break
        else:
            # The copy of the case's workflow the due list by workflow filters on.
            on = (row["workflow_id"], row["workflow_version"])
            if (have["workflow_id"], have["workflow_version"]) != on:
                found.append(
                    chain.Finding(
                        "projection",
                        f"case {ref}: clock {clock_id} workflow differs from its case's",
                    )
                )
    return found
