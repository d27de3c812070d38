"""The decision log: one record per case event, and the metadata of an export.

`DecisionLogBuilder` is fed event rows in `seq` order, any mix of cases, and keeps each
open case's fields and clocks incrementally (`clocks.step` once per event; nothing is
re-derived from scratch), so a log of millions of events streams through in one pass
with memory proportional to the number of open cases. For every event inside the date
filter it returns a `DecisionRecord`: the event as logged (fields marked `personal` in
the workflow left out unless asked for), the labels a person reads, and each clock that
was running or paused just before the event or that the event started, with its
position on that day ("working day 13 of 15").

The case-field bookkeeping mirrors `casereview.replay` (open: the opening fields less
the pseudonym; later events: the case-scoped fields they carry); a test holds the two
to agreement on every demonstration case.

Pure: no database, no clock. Definitions come from a lookup the caller provides.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from casereview import clocks
from casereview.clocks import Calendar, ClockRule, ClockState, EventFacts
from casereview.workflow.model import WorkflowDefinition

EXPORT_NAME = "casereview decision log"
FORMAT_VERSION = 1
FORMATS = ("csv", "json", "md")


class WorkflowRef(NamedTuple):
    """The workflow an event was recorded under: id, version, content hash."""

    id: str
    version: int
    content_hash: str

    def describe(self) -> str:
        return f"{self.id} v{self.version}"


DefinitionLookup = Callable[[WorkflowRef], WorkflowDefinition]


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
    change: str  # started | restarted | unchanged | moved | paused | resumed | stopped
    status: str  # running | due_soon | overdue | paused | met | missed, on the event's day
    position: str | None  # "working day 13 of 15"; None for before-clocks and budget 0
    due_on: str | None  # after the event (when paused: before the pause; else none)

    @property
    def summary(self) -> str:
        """The clock in one line, e.g. `Rapid review to the Panel: working day 13 of 15,
        due 2026-01-26 (due soon)`."""
        status = self.status.replace("_", " ")
        due = f"due {self.due_on}" if self.due_on else "no due date yet"
        where = f"{self.position}, " if self.position else ""
        at = f" at {self.position}" if self.position else ""
        if self.change in ("started", "restarted"):
            return f"{self.label}: {self.change}, {due}"
        if self.change == "stopped":
            return f"{self.label}: stopped{at}, {due} ({status})"
        if self.change == "paused":
            return f"{self.label}: paused{at}"
        if self.status == "paused":
            return f"{self.label}: paused"
        if self.change == "moved":
            return f"{self.label}: {where}due date moved to {self.due_on or '(none)'} ({status})"
        if self.change == "resumed":
            return f"{self.label}: resumed, {where}{due} ({status})"
        return f"{self.label}: {where}{due} ({status})"

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

    def to_json(self) -> dict[str, Any]:
        """The record as the JSON export writes it (the keys documented in docs/exports.md),
        keys in the sorted order the canonical encoding puts them in."""
        return {
            "actor": self.actor,
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

    def to_json(self) -> dict[str, Any]:
        return {
            "export": self.export,
            "format": self.format,
            "format_version": self.format_version,
            "generator": self.generator,
            "created_at": self.created_at,
            "chain_head": {"seq": self.chain_head_seq, "entry_hash": self.chain_head_hash},
            "filter": {"case": self.case, "from": self.date_from, "to": self.date_to},
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
                generator=_str(data["generator"]),
                created_at=_str(data["created_at"]),
                chain_head_seq=_int(head["seq"]),
                chain_head_hash=_str(head["entry_hash"]),
                case=_opt_str(flt["case"]),
                date_from=_opt_str(flt["from"]),
                date_to=_opt_str(flt["to"]),
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
            ("generator", self.generator),
            ("created_at", self.created_at),
            ("chain_head_seq", str(self.chain_head_seq)),
            ("chain_head_entry_hash", self.chain_head_hash),
            ("filter_case", self.case or ""),
            ("filter_from", self.date_from or ""),
            ("filter_to", self.date_to or ""),
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
                generator=values["generator"],
                created_at=values["created_at"],
                chain_head_seq=int(values["chain_head_seq"]),
                chain_head_hash=values["chain_head_entry_hash"],
                case=values["filter_case"] or None,
                date_from=values["filter_from"] or None,
                date_to=values["filter_to"] or None,
                include_personal=include == "true",
                personal_fields=tuple(values["personal_fields"].split()),
                event_count=int(values["event_count"]),
                case_count=int(values["case_count"]),
                workflows=tuple(workflows),
            )
        except KeyError as exc:
            raise ValueError(f"export metadata lacks {exc}") from None


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


@dataclass(frozen=True)
class _Workflow:
    """A definition with the lookups the builder needs per event, computed once."""

    ref: WorkflowRef
    definition: WorkflowDefinition
    rules: tuple[ClockRule, ...]
    personal: frozenset[str]
    case_scoped: frozenset[str]
    field_labels: Mapping[str, str]
    field_order: Mapping[str, int]
    trigger_labels: Mapping[str, str]
    state_labels: Mapping[str, str]
    terminal: frozenset[str]

    @classmethod
    def of(cls, ref: WorkflowRef, definition: WorkflowDefinition) -> _Workflow:
        return cls(
            ref=ref,
            definition=definition,
            rules=tuple(clocks.rules_for(definition)),
            personal=definition.personal_field_ids,
            case_scoped=frozenset(f.id for f in definition.fields if f.scope == "case"),
            field_labels={f.id: f.label for f in definition.fields},
            field_order={f.id: i for i, f in enumerate(definition.fields)},
            trigger_labels={t.id: t.label for t in definition.triggers},
            state_labels={s.id: s.label for s in definition.states},
            terminal=frozenset(s.id for s in definition.states if s.terminal),
        )


OPEN_LABEL = "Case opened"


@dataclass
class _Case:
    pseudonym: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    clocks: dict[str, ClockState] = field(default_factory=dict)


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
    ) -> None:
        self._lookup = lookup
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

    def workflow(self, ref: WorkflowRef) -> _Workflow:
        found = self._workflows.get(ref)
        if found is None:
            found = self._workflows[ref] = _Workflow.of(ref, self._lookup(ref))
        return found

    def open_cases(self) -> int:
        """Cases whose state the builder is holding (for tests of its memory use)."""
        return len(self._cases)

    def feed(self, row: EventRow) -> DecisionRecord | None:
        """Advance the row's case by one event; its record if inside the date filter."""
        key = (row.workflow_id, row.workflow_version, row.definition_hash)
        wf = self._last
        if wf is None or wf.ref != key:
            wf = self._last = self.workflow(WorkflowRef(*key))
        case = self._cases.get(row.case_ref)
        if case is None:
            case = self._cases[row.case_ref] = _Case(self._closed.pop(row.case_ref, ""))
        text = row.fields
        changes: dict[str, Any] = json.loads(text) if text and text != "{}" else {}
        if row.trigger == clocks.OPEN_TRIGGER:
            case.pseudonym = str(changes.get("pseudonym", ""))
            case.fields = {k: v for k, v in changes.items() if k != "pseudonym"}
            changed = frozenset(case.fields)
        else:
            kept = {k: v for k, v in changes.items() if k in wf.case_scoped}
            case.fields.update(kept)
            changed = frozenset(kept)
        occurred = row.occurred_on
        # `step` reads the fields only while it runs and keeps nothing of `facts`, so
        # the case's live dict is passed rather than a copy per event.
        facts = EventFacts(
            trigger=row.trigger,
            occurred_on=dt.date.fromisoformat(occurred),
            to_state=row.to_state,
            fields_after=case.fields,
            changed=changed,
            seq=row.seq,
        )
        before = case.clocks
        after = clocks.step(before, wf.rules, facts, self._calendar)
        case.clocks = after
        record = None
        if (self._from is None or occurred >= self._from) and (
            self._to is None or occurred <= self._to
        ):
            record = self._record(row, wf, case, changes, facts, before, after)
        if row.to_state in wf.terminal:
            del self._cases[row.case_ref]
            self._closed[row.case_ref] = case.pseudonym
        return record

    def _record(
        self,
        row: EventRow,
        wf: _Workflow,
        case: _Case,
        changes: Mapping[str, Any],
        facts: EventFacts,
        before: Mapping[str, ClockState],
        after: Mapping[str, ClockState],
    ) -> DecisionRecord:
        shown: list[FieldValue] = []
        omitted: list[str] = []
        opening = row.trigger == clocks.OPEN_TRIGGER
        if changes:
            order = wf.field_order
            keys = (
                sorted(changes, key=lambda k: (order.get(k, len(order)), k))
                if len(changes) > 1
                else changes
            )
            for key in keys:
                if opening and key == "pseudonym":
                    continue
                if key in wf.personal and not self._include_personal:
                    omitted.append(key)
                    continue
                shown.append(FieldValue(key, wf.field_labels.get(key, key), changes[key]))
        labels = wf.state_labels
        # Positional, in field order: a named tuple builds faster without keywords.
        return DecisionRecord(
            row.seq,
            row.case_ref,
            case.pseudonym,
            row.occurred_on,
            row.recorded_at,
            row.trigger,
            OPEN_LABEL if opening else wf.trigger_labels.get(row.trigger, row.trigger),
            row.from_state,
            labels.get(row.from_state, row.from_state) if row.from_state else None,
            row.to_state,
            labels.get(row.to_state, row.to_state),
            row.actor,
            row.on_behalf_of,
            row.role,
            row.rationale,
            tuple(shown),
            tuple(omitted),
            clock_moments(wf.rules, facts, before, after, self._calendar),
            wf.ref,
            row.entry_hash,
        )


def clock_moments(
    rules: Iterable[ClockRule],
    facts: EventFacts,
    before: Mapping[str, ClockState],
    after: Mapping[str, ClockState],
    cal: Calendar,
) -> tuple[ClockMoment, ...]:
    """Every clock running or paused just before the event, or started by it, in the
    workflow's clock order, with what the event did to it."""
    if not after:
        return ()
    on = facts.occurred_on
    trigger = facts.trigger
    moments: list[ClockMoment] = []
    after_get, before_get = after.get, before.get
    for rule in rules:
        now = after_get(rule.id)
        if now is None:
            continue
        was = before_get(rule.id)
        live_before = was is not None and was.state != "stopped"
        if trigger in rule.start_on:
            change = "restarted" if live_before else "started"
            moments.append(_moment(rule, change, now, now, on, cal))
        elif was is None or not live_before:
            continue
        elif now.state == "stopped":
            # Where it stood when stopped is measured on the clock as it ran.
            moments.append(_moment(rule, "stopped", was, now, on, cal))
        elif now.state == "paused":
            if was.state == "paused":
                moments.append(ClockMoment(rule.id, rule.label, "unchanged", "paused", None, None))
            else:
                moments.append(_moment(rule, "paused", was, now, on, cal))
        elif was.state == "paused":
            moments.append(_moment(rule, "resumed", now, now, on, cal))
        elif now.due_on != was.due_on:
            moments.append(_moment(rule, "moved", now, now, on, cal))
        else:
            moments.append(_moment(rule, "unchanged", now, now, on, cal))
    return tuple(moments)


def _moment(
    rule: ClockRule,
    change: str,
    measured: ClockState,
    result: ClockState,
    on: dt.date,
    cal: Calendar,
) -> ClockMoment:
    """`measured`: the clock its position is read from; `result`: the clock after the
    event, whose status and due date are shown (a paused clock: the due date before)."""
    position = None
    if rule.budget > 0:
        found = clocks.position(measured, on, cal)
        position = str(found) if found is not None else None
    due = measured.due_on if result.state == "paused" else result.due_on
    return ClockMoment(
        rule.id,
        rule.label,
        change,
        clocks.status(result, on),
        position,
        due.isoformat() if due else None,
    )
