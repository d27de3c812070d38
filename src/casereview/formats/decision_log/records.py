"""The decision log: one record per case event, and the metadata of an export.

`DecisionLogBuilder` is fed event rows in `seq` order, any mix of cases, and steps each
open case's clocks forward one event at a time (`clocks.step`), so a log streams through
in one pass with memory proportional to the open cases. Each event inside the date filter
gives a `DecisionRecord`: the event as logged (personal fields left out unless asked
for), the labels a person reads, and each clock's position that day. Pure: definitions
come from a lookup the caller provides.

At a case's first correction, undo or void the builder asks for its earlier events
(`earlier`) and from then on replays that case whole at each event, so later records
show the corrected clocks; the amending event's record says what it put right (`Amend`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

from casereview.domain import clocks
from casereview.domain.actions import KIND_OF as PLAN_STEPS
from casereview.domain.amendments import FIELD, changes_of, reversed_seq
from casereview.domain.clocks import (
    AMENDING_TRIGGERS,
    UNDO_TRIGGER,
    Calendar,
    ClockRule,
    ClockState,
    EventFacts,
)
from casereview.domain.facts import fact_on
from casereview.domain.holds import held_after
from casereview.domain.replay import PSEUDONYM, ReplayRules, pseudonym_given, replay
from casereview.domain.workflow.model import WorkflowDefinition
from casereview.errors import OutOfRange

EXPORT_NAME = "casereview decision log"
FORMAT_VERSION = 1


class WorkflowRef(NamedTuple):
    """The workflow an event was recorded under: id, version, content hash."""

    id: str
    version: int
    content_hash: str

    def describe(self) -> str:
        return f"{self.id} v{self.version}"


DefinitionLookup = Callable[[WorkflowRef], WorkflowDefinition]

EarlierEvents = Callable[[str, int], Iterable["EventRow"]]
"""A case's events before a seq, in order (`EVENT_COLUMNS` tuples): what the builder
asks for when a correction, undo or void reaches back into a case's history."""


class EventRow(NamedTuple):
    """The columns of a case event the decision log reads, in this order."""

    seq: int
    case_ref: str
    trigger: str
    from_state: str | None
    to_state: str
    occurred_on: str
    recorded_at: str
    actor: str
    on_behalf_of: str | None
    role: str | None
    rationale: str | None
    fields: str  # the stored canonical JSON text
    workflow_id: str
    workflow_version: int
    definition_hash: str
    entry_hash: str


EVENT_COLUMNS = EventRow._fields


class ClockMoment(NamedTuple):
    """One clock at one event: what the event did to it and where it stood that day."""

    clock: str
    label: str
    change: str  # started | restarted | unchanged | moved | paused | resumed | stopped | corrected
    status: str  # running | due_soon | overdue | paused | met | missed, on the event's day
    position: str | None  # "working day 13 of 15"; None for before-clocks and budget 0
    due_on: str | None  # after the event (when paused: before the pause; else none)

    @property
    def summary(self) -> str:
        """The clock in one line, e.g. `Rapid review to the Panel: working day 13 of 15,
        due 2026-01-26 (due soon)`."""
        label, change, status, position, due_on = self[1:]
        # Each wording is built only in the branch that uses it: this runs for every
        # clock of every exported event.
        due = f"due {due_on}" if due_on else "no due date yet"
        if change == "unchanged":
            if status == "paused":
                return f"{label}: paused"
            where = f"{position}, " if position else ""
            return f"{label}: {where}{due} ({status.replace('_', ' ')})"
        if change in ("started", "restarted"):
            return f"{label}: {change}, {due}"
        at = f" at {position}" if position else ""
        if change == "stopped":
            return f"{label}: stopped{at}, {due} ({status.replace('_', ' ')})"
        if change == "paused":
            return f"{label}: paused{at}"
        if status == "paused":
            return f"{label}: paused"
        where = f"{position}, " if position else ""
        status = status.replace("_", " ")
        if change == "moved":
            return f"{label}: {where}due date moved to {due_on or '(none)'} ({status})"
        if change == "corrected":
            return f"{label}: {where}{due} as corrected ({status})"
        if change == "resumed":
            return f"{label}: resumed, {where}{due} ({status})"
        return f"{label}: {where}{due} ({status})"

    def to_json(self) -> dict[str, Any]:
        return {
            "change": self.change,
            "clock": self.clock,
            "due_on": self.due_on,
            "label": self.label,
            "position": self.position,
            "status": self.status,
            "summary": self.summary,
        }


class FieldValue(NamedTuple):
    """A field an event carried, with its label from the workflow."""

    id: str
    label: str
    value: Any

    @property
    def text(self) -> str:
        return display_value(self.value)


def display_value(value: Any) -> str:
    """A field value as text: yes/no for booleans, empty for none."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


class Amend(NamedTuple):
    """What a correction, undo or void record puts right: in event `event`, `what`
    (`field`, `occurred_on`, `rationale`, or `reversed` for an undone step) was `was`
    and is now `now` (the superseded value and its replacement; both left out, None,
    for a personal field unless personal fields are exported)."""

    event: int
    what: str
    field: str | None
    was: Any
    now: Any

    @property
    def text(self) -> str:
        """`event 8 aware_on: 2026-11-02 → 2026-11-01`; `event 10 reversed (propose_decision)`."""
        if self.what == "reversed":
            return f"event {self.event} reversed ({self.was})"
        item = self.field if self.what == FIELD else self.what
        return f"event {self.event} {item}: {display_value(self.was)} → {display_value(self.now)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "field": self.field,
            "now": self.now,
            "was": self.was,
            "what": self.what,
        }


class DecisionRecord(NamedTuple):
    """One case event as the decision log shows it. (Named tuples: one is built per
    event, and they are several times cheaper to build than frozen dataclasses.)"""

    seq: int
    case_ref: str
    pseudonym: str
    occurred_on: str
    recorded_at: str
    trigger: str
    trigger_label: str
    from_state: str | None
    from_state_label: str | None
    to_state: str
    to_state_label: str
    actor: str
    on_behalf_of: str | None
    role: str | None
    rationale: str | None
    fields: tuple[FieldValue, ...]
    omitted_fields: tuple[str, ...]
    clocks: tuple[ClockMoment, ...]
    workflow: WorkflowRef
    entry_hash: str
    amends: tuple[Amend, ...] = ()  # a correction's or undo's: what it puts right

    def to_json(self) -> dict[str, Any]:
        """The record as the JSON export writes it (the keys documented in docs/exports.md),
        keys in the sorted order the canonical encoding puts them in."""
        return {
            "actor": self.actor,
            "amends": [a.to_json() for a in self.amends],
            "case_ref": self.case_ref,
            "clocks": [c.to_json() for c in self.clocks],
            "entry_hash": self.entry_hash,
            "fields": {f.id: f.value for f in self.fields},
            "from_state": self.from_state,
            "from_state_label": self.from_state_label,
            "occurred_on": self.occurred_on,
            "omitted_fields": list(self.omitted_fields),
            "on_behalf_of": self.on_behalf_of,
            "pseudonym": self.pseudonym,
            "rationale": self.rationale,
            "recorded_at": self.recorded_at,
            "role": self.role,
            "seq": self.seq,
            "to_state": self.to_state,
            "to_state_label": self.to_state_label,
            "trigger": self.trigger,
            "trigger_label": self.trigger_label,
        }


@dataclass(frozen=True)
class ExportMeta:
    """What an export says about itself; every format carries all of it."""

    format: str
    generator: str
    created_at: str
    chain_head_seq: int
    chain_head_hash: str
    case: str | None
    date_from: str | None
    date_to: str | None
    include_personal: bool
    personal_fields: tuple[str, ...]
    event_count: int
    case_count: int
    workflows: tuple[WorkflowRef, ...]
    export: str = EXPORT_NAME
    format_version: int = FORMAT_VERSION
    partnership: str | None = None
    """The partnership's name as the log stood at the chain head (None: not named then;
    a file made before names were recorded has none, and reads back as None)."""
    actor: str | None = None
    """The filter's account: only events it recorded or that were recorded on its behalf."""
    trigger: str | None = None
    """The filter's step: only events of this trigger."""
    workflow: str | None = None
    """The filter's review type: only events of cases on this workflow (`id` or `id@N`)."""
    people: tuple[tuple[str, str], ...] | None = None
    """(login, display name) of everyone the exported events name as recorder or
    decision maker, as the log had them at the chain head, in login order. None in a
    file made before names were shown: its regeneration leaves them out too."""

    def names(self) -> dict[str, str]:
        return dict(self.people or ())

    def to_json(self) -> dict[str, Any]:
        # `partnership` only once named, so an export of a log that names none is the
        # file it always was.
        named = {"partnership": self.partnership} if self.partnership else {}
        return {
            "export": self.export,
            "format": self.format,
            "format_version": self.format_version,
            **named,
            "generator": self.generator,
            "created_at": self.created_at,
            "chain_head": {"seq": self.chain_head_seq, "entry_hash": self.chain_head_hash},
            "filter": {
                "case": self.case,
                "from": self.date_from,
                "to": self.date_to,
                # Only when used: an export without them is the file it always was.
                **({"actor": self.actor} if self.actor is not None else {}),
                **({"trigger": self.trigger} if self.trigger is not None else {}),
                **({"workflow": self.workflow} if self.workflow is not None else {}),
            },
            **({"people": dict(self.people)} if self.people is not None else {}),
            "include_personal": self.include_personal,
            "personal_fields": list(self.personal_fields),
            "event_count": self.event_count,
            "case_count": self.case_count,
            "workflows": [
                {"id": w.id, "version": w.version, "content_hash": w.content_hash}
                for w in self.workflows
            ],
        }

    @classmethod
    def from_json(cls, data: Any) -> ExportMeta:
        """Read `to_json`'s shape back (ValueError if anything is missing or mistyped)."""
        try:
            head = _obj(data["chain_head"])
            flt = _obj(data["filter"])
            return cls(
                export=_str(data["export"]),
                format=_str(data["format"]),
                format_version=_int(data["format_version"]),
                partnership=_opt_str(data.get("partnership")),
                generator=_str(data["generator"]),
                created_at=_str(data["created_at"]),
                chain_head_seq=_int(head["seq"]),
                chain_head_hash=_str(head["entry_hash"]),
                case=_opt_str(flt["case"]),
                date_from=_opt_str(flt["from"]),
                date_to=_opt_str(flt["to"]),
                actor=_opt_str(flt.get("actor")),
                trigger=_opt_str(flt.get("trigger")),
                workflow=_opt_str(flt.get("workflow")),
                people=_people(data.get("people")),
                include_personal=_bool(data["include_personal"]),
                personal_fields=tuple(_str(f) for f in _list(data["personal_fields"])),
                event_count=_int(data["event_count"]),
                case_count=_int(data["case_count"]),
                workflows=tuple(
                    WorkflowRef(_str(w["id"]), _int(w["version"]), _str(w["content_hash"]))
                    for w in (_obj(x) for x in _list(data["workflows"]))
                ),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"export metadata is incomplete or malformed ({exc})") from None

    def to_pairs(self) -> list[tuple[str, str]]:
        """The metadata as (key, text) pairs: the CSV's `meta` rows."""
        return [
            ("export", self.export),
            ("format", self.format),
            ("format_version", str(self.format_version)),
            *([("partnership", self.partnership)] if self.partnership else []),
            ("generator", self.generator),
            ("created_at", self.created_at),
            ("chain_head_seq", str(self.chain_head_seq)),
            ("chain_head_entry_hash", self.chain_head_hash),
            ("filter_case", self.case or ""),
            ("filter_from", self.date_from or ""),
            ("filter_to", self.date_to or ""),
            *([("filter_actor", self.actor)] if self.actor is not None else []),
            *([("filter_trigger", self.trigger)] if self.trigger is not None else []),
            *([("filter_workflow", self.workflow)] if self.workflow is not None else []),
            *(
                [("people", json.dumps(dict(self.people), ensure_ascii=False, sort_keys=True))]
                if self.people is not None
                else []
            ),
            ("include_personal", "true" if self.include_personal else "false"),
            ("personal_fields", " ".join(self.personal_fields)),
            ("event_count", str(self.event_count)),
            ("case_count", str(self.case_count)),
            (
                "workflows",
                "; ".join(f"{w.id} v{w.version} sha256:{w.content_hash}" for w in self.workflows),
            ),
        ]

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> ExportMeta:
        values: dict[str, str] = {}
        for key, value in pairs:
            if key in values:
                raise ValueError(f"metadata {key!r} is given twice")
            values[key] = value
        try:
            workflows = []
            for item in filter(None, values["workflows"].split("; ")):
                wid, version, digest = item.split(" ")
                if not version.startswith("v") or not digest.startswith("sha256:"):
                    raise ValueError(f"workflow {item!r} is not 'ID vN sha256:HASH'")
                workflows.append(WorkflowRef(wid, int(version[1:]), digest[len("sha256:") :]))
            include = values["include_personal"]
            if include not in ("true", "false"):
                raise ValueError("include_personal must be true or false")
            return cls(
                export=values["export"],
                format=values["format"],
                format_version=int(values["format_version"]),
                partnership=values.get("partnership") or None,
                generator=values["generator"],
                created_at=values["created_at"],
                chain_head_seq=int(values["chain_head_seq"]),
                chain_head_hash=values["chain_head_entry_hash"],
                case=values["filter_case"] or None,
                date_from=values["filter_from"] or None,
                date_to=values["filter_to"] or None,
                actor=values.get("filter_actor") or None,
                trigger=values.get("filter_trigger") or None,
                workflow=values.get("filter_workflow") or None,
                people=_people(json.loads(values["people"])) if "people" in values else None,
                include_personal=include == "true",
                personal_fields=tuple(values["personal_fields"].split()),
                event_count=int(values["event_count"]),
                case_count=int(values["case_count"]),
                workflows=tuple(workflows),
            )
        except TypeError as exc:
            raise ValueError(f"export metadata is malformed ({exc})") from None
        except KeyError as exc:
            raise ValueError(f"export metadata lacks {exc}") from None


def _people(value: Any) -> tuple[tuple[str, str], ...] | None:
    if value is None:
        return None
    return tuple(sorted((_str(k), _str(v)) for k, v in _obj(value).items()))


def _obj(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise TypeError("expected an object")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected text")
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("expected a whole number")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


# -- building records -------------------------------------------------------------------

_NO_CHANGES: Mapping[str, Any] = MappingProxyType({})
# Due dates as text, one string per date: open clocks share a few thousand due dates.
_iso = functools.lru_cache(maxsize=16_384)(dt.date.isoformat)
_NOTHING: frozenset[str] = frozenset()
# The scanner `json.loads` runs (set on every decoder, untyped in the stubs).
_scan: Callable[[str, int], tuple[Any, int]] = getattr(json.JSONDecoder(), "scan_once")  # noqa: B009


def _decode(text: str) -> Any:
    """`json.loads(text)` for the stored fields, by the decoder's scanner directly: the
    log stores them canonically (no white space around the object), and `loads`' own
    checks around the scan are a large share of its time. Anything else — white space, a
    malformed value — goes to `json.loads`, which gives its usual answer or error."""
    try:
        value, end = _scan(text, 0)
    except Exception:  # json.loads raises (or copes) as it always has
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


@dataclass(frozen=True)
class _Workflow:
    """A definition with the lookups the builder needs per event, computed once."""

    ref: WorkflowRef
    definition: WorkflowDefinition
    rules: tuple[ClockRule, ...]
    replay: ReplayRules  # which of an event's fields its case keeps
    personal: frozenset[str]
    field_labels: Mapping[str, str]
    field_order: Mapping[str, int]
    trigger_labels: Mapping[str, str]
    state_labels: Mapping[str, str]
    terminal: frozenset[str]
    rule_by_id: Mapping[str, ClockRule]
    # The fields clocks count from: the only case fields held per open case (`_Case`).
    anchors: frozenset[str]
    moving: frozenset[str]  # the triggers that start or stop a clock

    @classmethod
    def of(cls, ref: WorkflowRef, definition: WorkflowDefinition) -> _Workflow:
        rules = tuple(clocks.rules_for(definition))
        return cls(
            ref=ref,
            definition=definition,
            rules=rules,
            replay=ReplayRules(definition),
            personal=definition.personal_field_ids,
            field_labels={f.id: f.label for f in definition.fields},
            field_order={f.id: i for i, f in enumerate(definition.fields)},
            trigger_labels={t.id: t.label for t in definition.triggers},
            state_labels={s.id: s.label for s in definition.states},
            terminal=frozenset(s.id for s in definition.states if s.terminal),
            rule_by_id={r.id: r for r in rules},
            anchors=frozenset(r.anchor_field for r in rules if r.anchor_field),
            moving=frozenset(t for r in rules for t in (*r.start_on, *r.stoppers)),
        )

    def leaves_clocks_alone(
        self,
        live: Mapping[str, ClockState],
        trigger: str,
        to_state: str,
        changed: frozenset[str],
        held: bool = False,
    ) -> bool:
        """True when `clocks.step` would hand back every clock of `live` as it is: the
        event starts or stops no clock, moves no anchor, and pauses or resumes nothing.

        Most events (notes, sign-offs, updates) are such events; for them the builder
        skips `step` and the `EventFacts` it takes. The conditions are `step`'s own,
        read the other way round; a test holds the two to agreement on every event of a
        generated log.
        """
        if trigger in self.moving or not self.anchors.isdisjoint(changed):
            return False
        rule_by_id = self.rule_by_id
        for clock_id, clock in live.items():
            rule = rule_by_id.get(clock_id)
            if rule is None:
                continue
            if rule.hold_review and not held:
                return False  # the hold ended: its review clock stops
            pausing = to_state in rule.pause_in or (held and rule.paused_while_held)
            if clock.due_on is not None and (clock.state == "running") == pausing:
                return False  # it would pause (running) or resume (paused)
        return True


OPEN_LABEL = "Case opened"


class _Case:
    """What the builder holds for one open case, between its events.

    Only what later events need: the pseudonym, the case fields the clocks read
    (`clocks.step` reads a case field only as a clock's anchor), and the clocks that are
    still running or paused (`step` treats a stopped clock as one never started, and no
    record shows a clock stopped by an earlier event). Holding every field and every
    stopped clock would take most of the builder's memory, which grows with the number
    of open cases.
    """

    __slots__ = ("clocks", "dials", "fields", "held", "pseudonym", "rows")

    def __init__(self, pseudonym: str) -> None:
        self.pseudonym = pseudonym
        self.held = False  # held in its stage (the workflow's `[holds]`)
        # A case a correction, undo or void reached: its events so far, replayed whole
        # at each of its later events (None for every other case).
        self.rows: list[EventRow] | None = None
        # Replaced, never changed in place: `step` is handed the live mapping.
        self.fields: Mapping[str, Any] = _NO_CHANGES
        self.clocks: Mapping[str, ClockState] = _NO_CHANGES
        self.dials: dict[str, _Dial] = {}  # clock id -> the dial of its latest state

    def carry(self, after: Mapping[str, ClockState]) -> None:
        """Keep the clocks after an event for the next one, less the stopped ones."""
        for clock in after.values():
            if clock.state == "stopped":
                live = {k: c for k, c in after.items() if c.state != "stopped"}
                for gone in after.keys() - live.keys():
                    self.dials.pop(gone, None)
                after = live
                break
        self.clocks = after


class DecisionLogBuilder:
    """Turns event rows (in `seq` order) into decision records; see the module docstring."""

    def __init__(
        self,
        lookup: DefinitionLookup,
        calendar: Calendar,
        *,
        include_personal: bool = False,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        earlier: EarlierEvents | None = None,
        actor: str | None = None,
        trigger: str | None = None,
        workflow: str | None = None,
    ) -> None:
        self._lookup = lookup
        # Who and which step (None: anyone, any step): like the dates, a filter on the
        # records shown, never on the events replayed, so every clock is still right.
        self._actor = actor
        self._trigger = trigger
        # A review type, `id` or `id@N`, compared with each event's own workflow columns.
        wid, at, version = (workflow or "").partition("@")
        self._workflow = (wid, int(version) if at else None) if workflow else None
        self._earlier = earlier
        self._calendar = calendar
        self._include_personal = include_personal
        self._from = date_from.isoformat() if date_from else None
        self._to = date_to.isoformat() if date_to else None
        self._workflows: dict[WorkflowRef, _Workflow] = {}
        self._cases: dict[str, _Case] = {}
        # Closed cases are dropped from `_cases` (they take no more events); their
        # pseudonym is kept in case a later event names them anyway.
        self._closed: dict[str, str] = {}
        self._last: _Workflow | None = None
        # Business dates parsed once each: a log spans a few thousand days, and the
        # clocks of every open case share the date objects instead of holding copies.
        self._days: dict[str, dt.date] = {}
        # How to show each set of field ids an event carries (workflow, opening or
        # not): sorted into the workflow's field order, labelled, personal ones set
        # aside. A workflow has a few dozen such sets; working it out per event was a
        # tenth of the builder's time.
        self._plans: dict[tuple[WorkflowRef, bool, tuple[str, ...]], _Plan] = {}

    def _picked(self, row: EventRow) -> bool:
        """The event passes the actor, trigger and workflow filters: recorded by the
        actor or on their behalf, the step asked for, under the workflow asked for."""
        actor, trigger, workflow = self._actor, self._trigger, self._workflow
        if actor is not None and row[7] != actor and row[8] != actor:
            return False
        if workflow is not None and (row[12] != workflow[0] or workflow[1] not in (None, row[13])):
            return False
        return trigger is None or row[2] == trigger

    def workflow(self, ref: WorkflowRef) -> _Workflow:
        found = self._workflows.get(ref)
        if found is None:
            found = self._workflows[ref] = _Workflow.of(ref, self._lookup(ref))
        return found

    def _held(self, value: Any) -> Any:
        """A field value as the case holds it for the clocks: a date given as ISO text
        as the shared date object (`clocks` reads an anchor given either way, and
        open cases share the objects rather than each holding its own copies); anything
        else as it is."""
        if type(value) is not str or not value:
            return value
        day = self._days.get(value)
        if day is None:
            try:
                day = self._days[value] = dt.date.fromisoformat(value)
            except ValueError:
                return value  # not a date: the clocks will say so, as they always have
        return day

    def open_cases(self) -> int:
        """Cases whose state the builder is holding (for tests of its memory use)."""
        return len(self._cases)

    def feed(self, row: EventRow) -> DecisionRecord | None:
        """Advance the row's case by one event; its record if inside the date filter.

        `row` may be any tuple in `EVENT_COLUMNS` order (the export passes the driver's
        rows as they come)."""
        (seq, case_ref, trigger, _, to_state, occurred) = row[:6]
        (text, wid, ver, digest) = row[11:15]
        wf = self._last
        if wf is None or wf.ref != (wid, ver, digest):
            wf = self._last = self.workflow(WorkflowRef(wid, ver, digest))
        case = self._cases.get(case_ref)
        if case is None:
            case = self._cases[case_ref] = _Case(self._closed.pop(case_ref, ""))
        if trigger in PLAN_STEPS and trigger not in wf.trigger_labels:
            return self._plan_step(row, wf, case)
        if case.rows is not None or trigger in AMENDING_TRIGGERS:
            return self._feed_amended(row, wf, case)
        changes: Mapping[str, Any] = _decode(text) if text and text != "{}" else _NO_CHANGES
        changed = wf.replay.fields_kept(trigger, changes)
        if trigger == clocks.OPEN_TRIGGER:
            case.pseudonym = pseudonym_given(changes)
            case.fields = {k: self._held(changes[k]) for k in wf.anchors.intersection(changed)}
        elif changed:
            moved = wf.anchors.intersection(changed)
            if moved:
                case.fields = {**case.fields, **{k: self._held(changes[k]) for k in moved}}
        day = self._days.get(occurred)
        if day is None:
            try:
                day = self._days[occurred] = dt.date.fromisoformat(occurred)
            except ValueError:
                day = None  # stored around casereview: no clock can be placed on it
        holds = wf.definition.holds
        if holds is not None:
            case.held = held_after(holds, case.held, trigger, to_state)
        before = after = case.clocks
        if day is not None and not wf.leaves_clocks_alone(
            before, trigger, to_state, changed, case.held
        ):
            facts = EventFacts(
                trigger=trigger,
                occurred_on=day,
                to_state=to_state,
                fields_after=case.fields,
                changed=changed,
                seq=seq,
                fact_on=fact_on(wf.replay.fact_fields.get(trigger), changes),
                held=case.held,
                recorded=changes,
            )
            after = clocks.step(before, wf.rules, facts, self._calendar)
        record = None
        if (
            (self._from is None or occurred >= self._from)
            and (self._to is None or occurred <= self._to)
            and self._picked(row)
        ):
            moments = (
                _moments(wf.rules, trigger, day, before, after, self._calendar, case.dials)
                if day is not None
                else ()
            )
            record = self._record(row, wf, case, changes, moments)
        if to_state in wf.terminal:
            del self._cases[case_ref]
            self._closed[case_ref] = case.pseudonym
        elif after is not before:
            case.carry(after)
        return record

    def _plan_step(self, row: EventRow, wf: _Workflow, case: _Case) -> DecisionRecord | None:
        """A step of the case's action plan (`domain.actions`, kinds `rec` and `action`):
        it moves neither the case nor its clocks; lists (agencies, evidence) are shown
        joined by "; "."""
        occurred = row[5]
        if (self._from is not None and occurred < self._from) or (
            self._to is not None and occurred > self._to
        ):
            return None
        text = row[11]
        decoded = _decode(text) if text and text != "{}" else _NO_CHANGES
        changes = {
            k: "; ".join(str(item) for item in v) if isinstance(v, list) else v
            for k, v in decoded.items()
        }
        return self._record(row, wf, case, changes, ())

    def _feed_amended(self, row: EventRow, wf: _Workflow, case: _Case) -> DecisionRecord | None:
        """`feed` for a case a correction, undo or void has reached: its events replayed
        whole (corrections applied, undone steps left out), so the clocks each later
        record shows are those of the corrected history."""
        (seq, case_ref, trigger, _, to_state, occurred) = row[:6]
        if case.rows is None:
            if self._earlier is None:
                raise ValueError(
                    f"event {seq} amends case {case_ref}: the decision log needs the case's "
                    "earlier events (`earlier`) to replay it"
                )
            case.rows = list(self._earlier(case_ref, seq))
        case.rows.append(row)
        replayed = replay(wf.definition, case_ref, [_as_mapping(r) for r in case.rows])
        after = clocks.derive(wf.rules, replayed.facts, self._calendar)
        before = case.clocks
        text = row[11]
        changes: Mapping[str, Any] = _decode(text) if text and text != "{}" else _NO_CHANGES
        if trigger == clocks.OPEN_TRIGGER:
            case.pseudonym = pseudonym_given(changes)
        record = None
        if (
            (self._from is None or occurred >= self._from)
            and (self._to is None or occurred <= self._to)
            and self._picked(row)
        ):
            day = dt.date.fromisoformat(occurred)
            if trigger in AMENDING_TRIGGERS:
                moments = _amended_moments(wf.rules, day, before, after, self._calendar)
                amends, omitted = self._amends(wf, case, trigger, changes)
                record = self._record(row, wf, case, _NO_CHANGES, moments)._replace(
                    amends=amends, omitted_fields=omitted
                )
            else:
                moments = _moments(wf.rules, trigger, day, before, after, self._calendar, None)
                record = self._record(row, wf, case, changes, moments)
        case.dials.clear()
        if to_state in wf.terminal:
            del self._cases[case_ref]
            self._closed[case_ref] = case.pseudonym
        else:
            case.carry(after)
        return record

    def _amends(
        self, wf: _Workflow, case: _Case, trigger: str, changes: Mapping[str, Any]
    ) -> tuple[tuple[Amend, ...], tuple[str, ...]]:
        """What an amending event puts right, and the personal fields it leaves out."""
        try:
            if trigger == UNDO_TRIGGER:
                undone = reversed_seq(changes)
                rows = case.rows or []
                step = next((r[2] for r in rows if r[0] == undone), None)
                return (Amend(undone, "reversed", None, step, None),), ()
            if trigger != clocks.CORRECT_TRIGGER:
                return (), ()
            found = changes_of(changes)
        except ValueError:
            return (), ()  # a malformed record: `audit verify` reports it
        hidden = _NOTHING if self._include_personal else wf.personal
        amends: list[Amend] = []
        omitted: list[str] = []
        for c in found:
            if c.field is not None and c.field in hidden:
                amends.append(Amend(c.event, c.what, c.field, None, None))
                omitted.append(c.field)
            else:
                amends.append(Amend(c.event, c.what, c.field, c.was, c.now))
        return tuple(amends), tuple(dict.fromkeys(omitted))

    def _record(
        self,
        row: EventRow,
        wf: _Workflow,
        case: _Case,
        changes: Mapping[str, Any],
        moments: tuple[ClockMoment, ...],
    ) -> DecisionRecord:
        (seq, case_ref, trigger, from_state, to_state, occurred, recorded_at, actor) = row[:8]
        (on_behalf_of, role, rationale, _, _, _, _, entry_hash) = row[8:]
        opening = trigger == clocks.OPEN_TRIGGER
        shown: tuple[FieldValue, ...] = ()
        omitted: tuple[str, ...] = ()
        if changes:
            key = (wf.ref, opening, tuple(changes))
            plan = self._plans.get(key)
            if plan is None:
                if len(self._plans) >= _MAX_PLANS:  # bounded, whatever the log holds
                    self._plans.clear()
                plan = self._plans[key] = _plan(wf, opening, key[2], self._include_personal)
            labelled, omitted = plan
            shown = tuple([FieldValue(k, label, changes[k]) for k, label in labelled])
        states = wf.state_labels
        # Positional, in field order: a named tuple builds faster without keywords.
        return DecisionRecord(
            seq,
            case_ref,
            case.pseudonym,
            occurred,
            recorded_at,
            trigger,
            OPEN_LABEL if opening else wf.trigger_labels.get(trigger, trigger),
            from_state,
            states.get(from_state, from_state) if from_state else None,
            to_state,
            states.get(to_state, to_state),
            actor,
            on_behalf_of,
            role,
            rationale,
            shown,
            omitted,
            moments,
            wf.ref,
            entry_hash,
        )


def _as_mapping(row: EventRow) -> dict[str, Any]:
    """An event row as replay reads it."""
    return dict(zip(EVENT_COLUMNS, row, strict=True))


def _amended_moments(
    rules: Iterable[ClockRule],
    on: dt.date,
    before: Mapping[str, ClockState],
    after: Mapping[str, ClockState],
    cal: Calendar,
) -> tuple[ClockMoment, ...]:
    """The clocks open after a correction, undo or void: `corrected` where it changed
    the due date or the state (a clock it brought back included), else `unchanged`."""
    moments: list[ClockMoment] = []
    for rule in rules:
        now = after.get(rule.id)
        if now is None or now.state == "stopped":
            continue
        was = before.get(rule.id)
        same = was is not None and (was.due_on, was.state) == (now.due_on, now.state)
        change = "unchanged" if same else "corrected"
        dial = _Dial(rule, now, on, cal)
        moments.append(_moment(rule, change, dial, now, on, cal))
    return tuple(moments)


_Plan = tuple[tuple[tuple[str, str], ...], tuple[str, ...]]  # (id, label) shown; ids left out
_MAX_PLANS = 4096


def _plan(wf: _Workflow, opening: bool, keys: tuple[str, ...], include_personal: bool) -> _Plan:
    """The fields an event with these field ids shows, in the workflow's field order
    with their labels, and the personal ones it leaves out."""
    order = wf.field_order
    ordered = sorted(keys, key=lambda k: (order.get(k, len(order)), k)) if len(keys) > 1 else keys
    hidden = _NOTHING if include_personal else wf.personal
    shown: list[tuple[str, str]] = []
    omitted: list[str] = []
    for key in ordered:
        if opening and key == PSEUDONYM:  # the record shows it in its own column
            continue
        if key in hidden:
            omitted.append(key)
        else:
            shown.append((key, wf.field_labels.get(key, key)))
    return tuple(shown), tuple(omitted)


def clock_moments(
    rules: Iterable[ClockRule],
    facts: EventFacts,
    before: Mapping[str, ClockState],
    after: Mapping[str, ClockState],
    cal: Calendar,
) -> tuple[ClockMoment, ...]:
    """Every clock running or paused just before the event, or started by it, in the
    workflow's clock order, with what the event did to it."""
    return _moments(rules, facts.trigger, facts.occurred_on, before, after, cal, None)


def _moments(
    rules: Iterable[ClockRule],
    trigger: str,
    on: dt.date,
    before: Mapping[str, ClockState],
    after: Mapping[str, ClockState],
    cal: Calendar,
    dials: dict[str, _Dial] | None,
) -> tuple[ClockMoment, ...]:
    """`clock_moments`, reading positions from `dials` (rule id -> the dial of that
    clock's latest state) when given, and keeping them up to date."""
    if not after:
        return ()
    moments: list[ClockMoment] = []
    after_get, before_get = after.get, before.get
    for rule in rules:
        now = after_get(rule.id)
        if now is None:
            continue
        was = before_get(rule.id)
        live_before = was is not None and was.state != "stopped"
        if trigger in rule.start_on:
            change, measured = ("restarted" if live_before else "started"), now
        elif was is None or not live_before:
            continue
        elif now.state == "stopped":
            # Where it stood when stopped is measured on the clock as it ran.
            change, measured = "stopped", was
        elif now.state == "paused":
            if was.state == "paused":
                moments.append(ClockMoment(rule.id, rule.label, "unchanged", "paused", None, None))
                continue
            change, measured = "paused", was
        elif was.state == "paused":
            change, measured = "resumed", now
        elif now.due_on != was.due_on:
            change, measured = "moved", now
        else:
            change, measured = "unchanged", now
        dial = dials.get(rule.id) if dials is not None else None
        if dial is None or dial.state is not measured:
            dial = _Dial(rule, measured, on, cal)
            if dials is not None:
                dials[rule.id] = dial
        moments.append(_moment(rule, change, dial, now, on, cal))
    return tuple(moments)


def _moment(
    rule: ClockRule, change: str, dial: _Dial, result: ClockState, on: dt.date, cal: Calendar
) -> ClockMoment:
    """`dial`: of the clock the position is read from; `result`: the clock after the
    event, whose status and due date are shown (a paused clock: the due date before)."""
    if result.state == "paused" or result is dial.state:
        due = dial.due
    else:
        due = _iso(result.due_on) if result.due_on else None
    return ClockMoment(
        rule.id,
        rule.label,
        change,
        clocks.status(result, on),
        dial.position(on, cal),
        due,
    )


class _Dial:
    """One clock state's position ("working day 13 of 15") and due date as text, on any
    day, from one call of `clocks.position`.

    A clock state does not change while nothing happens to it, and its position is a
    count from its anchor less a fixed allowance (paused time, day one), so between two
    days it moves by the working days (or, for other clocks, the days) between them:
    the count the calendar makes in one look-up. The builder keeps a dial per open
    clock, so an event costs that one count per clock rather than a `Position` built,
    measured and formatted. `clock_moments` makes a fresh dial each time, which is
    `clocks.position` itself; a test holds the two to agreement.
    """

    __slots__ = ("between", "day", "due", "of", "on", "prefix", "state", "text")

    def __init__(self, rule: ClockRule, state: ClockState, on: dt.date, cal: Calendar) -> None:
        self.state = state
        self.on = on
        self.due = _iso(state.due_on) if state.due_on else None
        self.text: str | None = None  # the position on `on`
        self.prefix: str | None = None  # "working day ", if the text reads "X N of M"
        self.day = self.of = 0
        self.between = rule.clock_unit.between  # the count of the unit's days between two dates
        # No position on any day for a clock with no budget, no anchor yet or counted
        # before a date: `clocks.position` decides that from the state alone.
        found = clocks.position(state, on, cal) if rule.budget > 0 else None
        if found is None:
            return
        self.text = text = str(found)
        words, sep, rest = text.rpartition(f" {found.day} of {found.of}")
        if sep and not rest:
            self.prefix = sys.intern(words + " ")
            self.day, self.of = found.day, found.of

    def position(self, on: dt.date, cal: Calendar) -> str | None:
        if on == self.on or self.text is None:
            return self.text
        if self.prefix is None:  # a wording this dial cannot move: measure afresh
            found = clocks.position(self.state, on, cal)
            return str(found) if found is not None else None
        try:
            moved = self.between(self.on, on, cal)
        except OutOfRange:  # `on` is a stored date outside the calendar: no position
            return None
        return f"{self.prefix}{self.day + moved} of {self.of}"
