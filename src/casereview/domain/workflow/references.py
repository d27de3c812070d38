"""Cross-reference validation: every id a definition uses is declared, once, and fits.

The models check each table alone; this module checks the tables against each other (a
trigger's states, roles and fields exist, a guard's value fits its field, a round names
real agencies, a clock's anchor is a date, every id of the `[report]` table exists). It
works on `Parts`, not a whole `WorkflowDefinition`, so the loader reports every problem in
one pass even when some tables failed their own validation. Messages name the table and id
("trigger 'notify': ...") and say what is allowed; the loader adds the file name in front.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from casereview.domain.workflow.model import (
    AMENDING,
    EVENT_DATE,
    FROM_ANY,
    IDENTITY_FIELDS,
    OPEN,
    ActionPlanRules,
    Agency,
    ApprovalCompleteGuard,
    ApprovalRound,
    Clock,
    CorrectionRules,
    DaysApartGuard,
    FieldEqualsGuard,
    FieldGroups,
    FieldInGuard,
    FieldSpec,
    Guard,
    Holds,
    Links,
    OnBehalf,
    Processes,
    ReportTable,
    Role,
    Settings,
    State,
    Trigger,
    VersionMap,
    WorkflowDefinition,
)
from casereview.domain.workflow.moves import sources_of

# Section key in the file -> how one entry is named in messages.
SECTIONS: Mapping[str, str] = {
    "agencies": "agency",
    "roles": "role",
    "fields": "field",
    "states": "state",
    "triggers": "trigger",
    "approval_rounds": "approval round",
    "clocks": "clock",
}


@dataclass(frozen=True)
class Parts:
    """The valid tables of a definition, and the ids the file declares in each section
    (including entries that failed their own validation, so that a typo inside one
    state's table does not also make every reference to that state "unknown")."""

    settings: Settings | None
    initial_state: str | None
    open_roles: tuple[str, ...]
    agencies: tuple[Agency, ...]
    roles: tuple[Role, ...]
    fields: tuple[FieldSpec, ...]
    states: tuple[State, ...]
    triggers: tuple[Trigger, ...]
    approval_rounds: tuple[ApprovalRound, ...]
    clocks: tuple[Clock, ...]
    declared: Mapping[str, tuple[str, ...]]
    report: ReportTable | None = None
    corrections: CorrectionRules | None = None
    holds: Holds | None = None
    migrations: tuple[VersionMap, ...] = ()
    action_plan: ActionPlanRules | None = None
    processes: Processes | None = None
    links: Links | None = None

    @classmethod
    def of(cls, definition: WorkflowDefinition) -> Parts:
        return cls(
            settings=definition.settings,
            initial_state=definition.initial_state,
            open_roles=definition.open_roles,
            agencies=definition.agencies,
            roles=definition.roles,
            fields=definition.fields,
            states=definition.states,
            triggers=definition.triggers,
            approval_rounds=definition.approval_rounds,
            clocks=definition.clocks,
            declared={
                section: tuple(item.id for item in getattr(definition, section))
                for section in SECTIONS
            },
            report=definition.report,
            corrections=definition.corrections,
            holds=definition.holds,
            migrations=definition.migrations,
            action_plan=definition.action_plan,
            processes=definition.processes,
            links=definition.links,
        )


def unknown(what: str, value: str, known: Iterable[str]) -> str:
    """`unknown state 'screenin' (did you mean 'screening'?)`, or the declared ids."""
    options = sorted(set(known))
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.75)
    if close:
        return f"unknown {what} {value!r} (did you mean {close[0]!r}?)"
    if not options:
        return f"unknown {what} {value!r} (none are declared)"
    shown = ", ".join(options[:15]) + (", …" if len(options) > 15 else "")
    return f"unknown {what} {value!r} (declared: {shown})"


class _Checker:
    def __init__(self, parts: Parts) -> None:
        self.p = parts
        self.problems: list[str] = []
        self.states = set(parts.declared.get("states", ()))
        self.triggers = set(parts.declared.get("triggers", ()))
        self.fields = set(parts.declared.get("fields", ()))
        self.roles = set(parts.declared.get("roles", ()))
        self.agencies = set(parts.declared.get("agencies", ()))
        self.rounds = set(parts.declared.get("approval_rounds", ()))
        self.field_specs = {f.id: f for f in parts.fields}
        self.clocks = set(parts.declared.get("clocks", ()))
        self.open_states = tuple(s.id for s in parts.states if not s.terminal)

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    def refs(self, where: str, key: str, values: Iterable[str], what: str, known: set[str]) -> None:
        for value in values:
            if value not in known:
                self.add(where, f"{key!r} names an " + unknown(what, value, known))

    # -- whole file -----------------------------------------------------------------------

    def duplicates(self) -> None:
        for section, singular in SECTIONS.items():
            for item_id, count in Counter(self.p.declared.get(section, ())).items():
                if count > 1:
                    times = "twice" if count == 2 else f"{count} times"
                    self.add(
                        f"{singular} {item_id!r}",
                        f"declared {times} in [[{section}]]; each {singular} needs its own id",
                    )

    def top_level(self) -> None:
        if self.p.initial_state is not None and self.p.initial_state not in self.states:
            self.add("key 'initial_state'", unknown("state", self.p.initial_state, self.states))
        self.refs("key 'open_roles'", "open_roles", self.p.open_roles, "role", self.roles)

    def settings(self) -> None:
        if self.p.settings is None:
            return
        for name, anchor in self.p.settings.anchors.items():
            where = f"settings anchor {name!r}"
            self.date_field(where, "field", anchor.field)
            for alternative in anchor.allowed:
                self.date_field(where, "allowed", alternative)
            if anchor.allowed and anchor.field not in anchor.allowed:
                self.add(
                    where,
                    f"field {anchor.field!r} is not one of the allowed alternatives "
                    f"({', '.join(anchor.allowed)})",
                )

    def date_field(self, where: str, key: str, field_id: str) -> None:
        if field_id not in self.fields:
            self.add(where, f"{key!r} names an " + unknown("field", field_id, self.fields))
            return
        spec = self.field_specs.get(field_id)
        if spec is not None and spec.type != "date":
            self.add(where, f"{key!r} must name a date field; {field_id!r} is a {spec.type} field")

    # -- triggers -------------------------------------------------------------------------

    def trigger(self, t: Trigger) -> None:
        where = f"trigger {t.id!r}"
        if t.id == OPEN:
            self.add(where, f"{OPEN!r} is reserved for the opening of a case; choose another id")
        if t.id in AMENDING:
            self.add(
                where,
                f"{t.id!r} is reserved for the engine's own corrections, undos and voids; "
                "choose another id",
            )
        self.refs(where, "from", (s for s in t.from_ if s != FROM_ANY), "state", self.states)
        if t.to is not None:
            self.refs(where, "to", (t.to,), "state", self.states)
        self.refs(where, "roles", t.roles, "role", self.roles)
        self.refs(where, "requires", t.requires, "field", self.fields)
        self.refs(where, "optional", t.optional, "field", self.fields)
        self.refs(where, "clears", t.clears, "approval round", self.rounds)
        for field_id, value in t.defaults.items():
            self.default(where, t, field_id, value)
        for number, guard in enumerate(t.guards, start=1):
            if isinstance(guard, DaysApartGuard):
                self.days_apart(f"{where}: guard {number} ({guard.kind})", t, guard)
                continue
            self.guard(f"{where}: guard {number} ({guard.kind})", guard)
        if t.signs:
            self.signing(where, t)
        if t.fact_date is not None:
            self.fact_date(where, t, t.fact_date)
        for number, rule in enumerate(t.on_behalf, start=1):
            self.on_behalf(f"{where}: on_behalf rule {number}", t, rule)

    def on_behalf(self, where: str, t: Trigger, rule: OnBehalf) -> None:
        """The roles a rule names exist; it records for roles of the trigger (the event
        records the decision-maker's role); `same_agency` names roles that act for one."""
        self.refs(where, "by", rule.by, "role", self.roles)
        self.refs(where, "for", rule.for_, "role", self.roles)
        for role_id in rule.for_:
            if role_id in self.roles and role_id not in t.roles:
                self.add(
                    where,
                    f"'for' names {role_id!r}, which is not one of the trigger's roles "
                    f"({', '.join(t.roles)}): the event records the decision-maker's role",
                )
        if rule.same_agency:
            specs = {r.id: r for r in self.p.roles}
            for key, role_ids in (("by", rule.by), ("for", rule.for_roles(t))):
                for role_id in role_ids:
                    spec = specs.get(role_id)
                    if spec is not None and not spec.has_agency:
                        self.add(
                            where,
                            f"same_agency = true, but {key!r} role {role_id!r} acts for no "
                            "agency (has_agency = false), so the rule could never apply",
                        )

    def fact_date(self, where: str, t: Trigger, field_id: str) -> None:
        """A fact date is a date field the trigger always records."""
        self.date_field(where, "fact_date", field_id)
        if field_id in self.fields and field_id not in t.requires:
            self.add(
                where,
                f"fact_date {field_id!r} must be listed in 'requires': every event of the "
                "trigger records the day it happened",
            )

    def default(self, where: str, t: Trigger, field_id: str, value: str | bool) -> None:
        if field_id not in self.fields:
            self.add(where, "'defaults' names an " + unknown("field", field_id, self.fields))
            return
        if field_id not in t.requires and field_id not in t.optional:
            self.add(
                where,
                f"'defaults' gives {field_id!r}, which is in neither 'requires' nor 'optional'",
            )
        spec = self.field_specs.get(field_id)
        if spec is None:
            return
        if spec.type == "date":
            if value != EVENT_DATE:
                self.add(
                    where,
                    f"default for date field {field_id!r} can only be {EVENT_DATE!r}, "
                    f"got {value!r}",
                )
            return
        if value == EVENT_DATE:
            self.add(
                where,
                f"{EVENT_DATE!r} is only a default for date fields; "
                f"{field_id!r} is a {spec.type} field",
            )
            return
        self.value_fits(where, f"default for {field_id!r}", spec, value)

    def value_fits(self, where: str, what: str, spec: FieldSpec, value: str | bool) -> None:
        if spec.type == "yes_no":
            if not isinstance(value, bool):
                self.add(where, f"{what} must be true or false ({spec.id!r} is a yes_no field)")
        elif spec.type == "choice":
            if isinstance(value, bool) or value not in spec.choices:
                self.add(
                    where,
                    f"{what}: {value!r} is not a choice of field {spec.id!r} "
                    f"(choices: {', '.join(spec.choices)})",
                )
        elif spec.type == "text":
            if not isinstance(value, str):
                self.add(where, f"{what} must be text ({spec.id!r} is a text field)")
        else:
            self.add(where, f"{what}: date field {spec.id!r} can only be tested with field_set")

    def days_apart(self, where: str, t: Trigger, guard: DaysApartGuard) -> None:
        """A check against what happened names date fields, a real trigger and fields
        for its filters; its later date is one the guarded trigger records or the case
        keeps; its override moves the case as the trigger does and needs a rationale."""
        self.date_field(where, "earlier", guard.earlier)
        self.date_field(where, "later", guard.later)
        if guard.trigger is not None:
            self.refs(where, "trigger", (guard.trigger,), "trigger", self.triggers)
        for key, values in (("where", guard.where), ("each", guard.each)):
            for field_id, value in values.items():
                if field_id not in self.fields:
                    self.add(where, f"{key!r} names an " + unknown("field", field_id, self.fields))
                    continue
                spec = self.field_specs.get(field_id)
                for one in value if isinstance(value, tuple) else (value,):
                    if spec is not None:
                        self.value_fits(where, f"{key!r} {field_id!r}", spec, one)
        later = self.field_specs.get(guard.later)
        if (
            later is not None
            and guard.later not in t.requires
            and guard.later not in t.optional
            and later.scope != "case"
        ):
            self.add(
                where,
                f"'later' {guard.later!r} is neither recorded by {t.id!r} nor kept on the case",
            )
        if guard.override is None:
            return
        self.refs(where, "override", (guard.override,), "trigger", self.triggers)
        other = next((o for o in self.p.triggers if o.id == guard.override), None)
        if other is None:
            return
        if other.to != t.to or set(other.from_) != set(t.from_):
            self.add(
                where,
                f"override {other.id!r} must move the case as {t.id!r} does (the same "
                "'from' and 'to'): it records the same step despite the check",
            )
        if not other.rationale_required:
            self.add(
                where,
                f"override {other.id!r} must have rationale_required = true: the reasons "
                "for the breach are recorded",
            )
        if guard.later not in other.requires and guard.later not in other.optional:
            self.add(where, f"override {other.id!r} must record 'later' {guard.later!r}")

    def guard(self, where: str, guard: Guard) -> None:
        if isinstance(guard, DaysApartGuard):
            return  # `days_apart`, with the trigger it guards
        if isinstance(guard, ApprovalCompleteGuard):
            if guard.round not in self.rounds:
                self.add(
                    where, "'round' names an " + unknown("approval round", guard.round, self.rounds)
                )
            elif guard.if_opened and not any(
                r.opened for r in self.p.approval_rounds if r.id == guard.round
            ):
                self.add(
                    where,
                    f"'if_opened' needs a round that a trigger opens; {guard.round!r} has "
                    "no 'opened_by'",
                )
            return
        if guard.field not in self.fields:
            self.add(where, "'field' names an " + unknown("field", guard.field, self.fields))
            return
        spec = self.field_specs.get(guard.field)
        if spec is None:
            return
        if spec.scope == "event":
            self.add(
                where,
                f"guards test what is kept on the case; {spec.id!r} is an event field "
                "(scope = 'event')",
            )
            return
        if isinstance(guard, FieldEqualsGuard):
            self.value_fits(where, "'value'", spec, guard.value)
        elif isinstance(guard, FieldInGuard):
            for value in guard.values:
                self.value_fits(where, "'values'", spec, value)

    def signing(self, where: str, t: Trigger) -> None:
        sources = sources_of(t, self.open_states)
        for state in sources:
            if state not in self.states:
                continue
            rounds = [r for r in self.p.approval_rounds if r.signable_in(state)]
            if not rounds:
                self.add(
                    where,
                    f"signs = true, but state {state!r} in its 'from' list is in no approval "
                    "round's 'collect_in', so there is nothing to sign there",
                )
            if len({r.agency_field for r in rounds}) > 1:
                self.add(
                    where,
                    f"the approval rounds it may sign in state {state!r} ("
                    + ", ".join(repr(r.id) for r in rounds)
                    + ") name different agency_fields; rounds signed in one state must "
                    "share one",
                )
            for rnd in rounds:
                if rnd.agency_field not in t.requires:
                    self.add(
                        where,
                        f"signs approval round {rnd.id!r} in state {state!r}, so it must list "
                        f"the round's agency_field {rnd.agency_field!r} in 'requires'",
                    )

    # -- approval rounds ------------------------------------------------------------------

    def approval_round(self, rnd: ApprovalRound) -> None:
        where = f"approval round {rnd.id!r}"
        self.refs(where, "agencies", rnd.agencies, "agency", self.agencies)
        self.refs(where, "collect_in", rnd.collect_in, "state", self.states)
        self.refs(where, "cleared_by", rnd.cleared_by, "trigger", self.triggers)
        self.refs(where, "opened_by", rnd.opened_by, "trigger", self.triggers)
        if rnd.agency_field not in self.fields:
            self.add(
                where, "'agency_field' names an " + unknown("field", rnd.agency_field, self.fields)
            )
        else:
            spec = self.field_specs.get(rnd.agency_field)
            if spec is not None and spec.type != "choice":
                self.add(
                    where,
                    f"agency_field {spec.id!r} must be a choice field whose choices are "
                    f"agency ids; it is a {spec.type} field",
                )
            elif spec is not None:
                for agency in rnd.agencies:
                    if agency in self.agencies and agency not in spec.choices:
                        self.add(
                            where,
                            f"agency {agency!r} is not a choice of its agency_field {spec.id!r}, "
                            "so it could never sign",
                        )
        for other in self.p.approval_rounds:
            # Opened rounds may share states: a sign-off signs the latest one opened.
            if other.id <= rnd.id or rnd.opened or other.opened:
                continue
            for state in sorted(set(rnd.collect_in) & set(other.collect_in)):
                self.add(
                    where,
                    f"state {state!r} also collects approval round {other.id!r}; a signature "
                    "there could not tell which round it belongs to",
                )

    def agency_field_choices(self) -> None:
        # A choice of an agency field that is no agency would let someone "sign" for nothing.
        for field_id in {r.agency_field for r in self.p.approval_rounds}:
            spec = self.field_specs.get(field_id)
            if spec is None or spec.type != "choice":
                continue
            for choice in spec.choices:
                if choice not in self.agencies:
                    self.add(
                        f"field {field_id!r}",
                        f"choice {choice!r} is not a declared agency, but this field is an "
                        "approval round's agency_field, so each choice must be one "
                        f"(agencies: {', '.join(sorted(self.agencies)) or 'none'})",
                    )

    # -- clocks ---------------------------------------------------------------------------

    def clock(self, c: Clock) -> None:
        where = f"clock {c.id!r}"
        if c.anchor.field is not None:
            self.date_field(f"{where}: anchor", "field", c.anchor.field)
        elif (
            c.anchor.setting is not None
            and self.p.settings is not None
            and c.anchor.setting not in self.p.settings.anchors
        ):
            self.add(
                f"{where}: anchor",
                "'setting' names an "
                + unknown("settings anchor", c.anchor.setting, self.p.settings.anchors),
            )
        self.refs(where, "start_on", (t for t in c.start_on if t != OPEN), "trigger", self.triggers)
        if OPEN in c.stop_on:
            self.add(
                where, f"'stop_on' cannot list {OPEN!r}: opening a case can only start a clock"
            )
        self.refs(where, "stop_on", (t for t in c.stop_on if t != OPEN), "trigger", self.triggers)
        self.refs(where, "pause_in", c.pause_in, "state", self.states)
        self.refs(where, "reproject_on", c.reproject_on, "field", self.fields)
        self.stop_all(where, c)

    def stop_all(self, where: str, c: Clock) -> None:
        """Each `stop_all` condition names a trigger, and values of fields it records."""
        triggers = {t.id: t for t in self.p.triggers}
        seen: set[tuple[str, tuple[tuple[str, object], ...]]] = set()
        for number, cond in enumerate(c.stop_all, start=1):
            at = f"{where}: stop_all condition {number}"
            key = (cond.trigger, tuple(sorted(cond.where.items())))
            if key in seen:
                self.add(at, "repeats an earlier condition")
            seen.add(key)
            if cond.trigger == OPEN or cond.trigger not in self.triggers:
                self.add(
                    at, "'trigger' names an " + unknown("trigger", cond.trigger, self.triggers)
                )
                continue
            if cond.trigger in c.stop_on:
                self.add(
                    at,
                    f"trigger {cond.trigger!r} is also in 'stop_on', so it stops the clock "
                    "by itself and the condition could never wait for the others",
                )
            t = triggers.get(cond.trigger)
            if t is None:
                continue
            records = {*t.requires, *t.optional, *t.defaults}
            for field_id, value in cond.where.items():
                spec = self.field_specs.get(field_id)
                if spec is None:
                    self.add(at, "'where' names an " + unknown("field", field_id, self.fields))
                elif field_id not in records:
                    self.add(at, f"'where' names {field_id!r}, which {t.id!r} does not record")
                else:
                    self.value_fits(at, f"'where' {field_id!r}", spec, value)

    def run(self) -> list[str]:
        self.duplicates()
        self.top_level()
        self.settings()
        for t in self.p.triggers:
            self.trigger(t)
        for rnd in self.p.approval_rounds:
            self.approval_round(rnd)
        self.agency_field_choices()
        for c in self.p.clocks:
            self.clock(c)
        for spec in self.p.fields:
            self.ordered(spec)
        if self.p.report is not None:
            self.report(self.p.report)
        if self.p.corrections is not None:
            self.corrections(self.p.corrections)
        if self.p.holds is not None:
            self.holds(self.p.holds)
        self.migrations(self.p.migrations)
        if self.p.action_plan is not None:
            self.action_plan(self.p.action_plan)
        if self.p.processes is not None:
            self.processes(self.p.processes)
        if self.p.links is not None:
            self.links(self.p.links)
        return self.problems

    # -- [[migrations]] -------------------------------------------------------------------

    def migrations(self, maps: tuple[VersionMap, ...]) -> None:
        """Each map names states of this version; a state arriving held is one this
        version may hold a case in; each earlier version is mapped once. Whether every
        state of the earlier version is mapped is checked against it when cases move."""
        seen: set[int] = set()
        for m in maps:
            where = f"migration from version {m.from_version}"
            if m.from_version in seen:
                self.add(where, "is given twice")
            seen.add(m.from_version)
            self.refs(where, "states", tuple(m.states.values()), "state", self.states)
            for key in ("held", "resume"):
                for old in getattr(m, key):
                    if old not in m.states:
                        self.add(where, f"{key!r} names {old!r}, which 'states' does not map")
            for old in m.resume:
                if old not in m.held:
                    self.add(where, f"'resume' names {old!r}, which is not in 'held'")
            if m.held:
                holds = self.p.holds
                if holds is None:
                    self.add(where, "'held' needs a [holds] table: cases arrive held")
                    continue
                for old in m.held:
                    if m.states.get(old) not in holds.states:
                        self.add(
                            where,
                            f"{old!r} arrives held in {m.states.get(old)!r}, where a case "
                            "cannot be held ('holds.states')",
                        )

    # -- [links] --------------------------------------------------------------------------

    def links(self, table: Links) -> None:
        """The link triggers exist, record both fields and stay in the case's state; the
        other case is a text field and the relation a choice field, both the event's."""
        where = "table 'links'"
        self.refs(where, "link", table.link, "trigger", self.triggers)
        for key, field_id, kind in (
            ("other", table.other, "text"),
            ("relation", table.relation, "choice"),
        ):
            if field_id not in self.fields:
                self.add(where, f"{key!r} names an " + unknown("field", field_id, self.fields))
                continue
            spec = self.field_specs.get(field_id)
            if spec is None:
                continue
            if spec.type != kind:
                self.add(
                    where, f"{key!r} must name a {kind} field; {field_id!r} is a {spec.type} field"
                )
            if spec.scope != "event":
                self.add(
                    where,
                    f"{key!r} names {field_id!r}, which is kept on the case; a link's fields "
                    "belong to the link: give it scope = 'event'",
                )
        specs = {t.id: t for t in self.p.triggers}
        for trigger_id in table.link:
            t = specs.get(trigger_id)
            if t is None:
                continue
            for field_id in (table.other, table.relation):
                if field_id not in t.requires:
                    self.add(
                        f"trigger {t.id!r}", f"it links cases, so it must require {field_id!r}"
                    )
            if t.to is not None:
                self.add(
                    f"trigger {t.id!r}",
                    f"it links cases, so the case stays in its stage: remove 'to' ({t.to!r})",
                )
        relation = self.field_specs.get(table.relation)
        relations = set(relation.choices) if relation is not None else set()
        for number, entry in enumerate(table.follow, start=1):
            at = f"{where}: follow entry {number}"
            if relation is not None:
                self.refs(at, "relations", entry.relations, "relation", relations)
            self.refs(at, "triggers", entry.triggers, "trigger", self.triggers)
            self.refs(at, "from", entry.from_, "state", self.states)
            for trigger_id in entry.triggers:
                if trigger_id in table.link:
                    self.add(
                        at,
                        f"trigger {trigger_id!r} links cases; a link is each case's own step",
                    )

    # -- [processes] ----------------------------------------------------------------------

    def processes(self, p: Processes) -> None:
        """Every id the processes table names exists; its fields have the types their
        roles need, are the process's own (scope "event"), and its triggers record them."""
        where = "table 'processes'"
        self.refs(where, "add", p.add, "trigger", self.triggers)
        self.refs(where, "update", p.update, "trigger", self.triggers)
        kinds: dict[str, tuple[str, ...]] = {"number": ("text",), "type": ("choice",)}
        kinds |= {"reference": ("text",)}
        kinds |= {"lead": ("text", "choice"), "status": ("choice",)}
        named = [(k, getattr(p, k)) for k in ("number", "type", "reference", "lead", "status")]
        named += [("dates", d) for d in p.dates]
        for key, field_id in named:
            if field_id is None:
                continue
            if field_id not in self.fields:
                self.add(where, f"{key!r} names an " + unknown("field", field_id, self.fields))
                continue
            spec = self.field_specs.get(field_id)
            if spec is None:
                continue
            allowed = kinds.get(key, ("date",))
            if spec.type not in allowed:
                self.add(
                    where,
                    f"{key!r} must name a {' or '.join(allowed)} field; {field_id!r} is a "
                    f"{spec.type} field",
                )
            if spec.scope != "event":
                self.add(
                    where,
                    f"{key!r} names {field_id!r}, which is kept on the case; a process's "
                    "fields belong to the process: give it scope = 'event'",
                )
        status = self.field_specs.get(p.status) if p.status else None
        if status is not None and status.type == "choice":
            for value in p.concluded:
                if value not in status.choices:
                    self.add(
                        where,
                        f"'concluded' value {value!r} is not a choice of field {status.id!r}",
                    )
        specs = {t.id: t for t in self.p.triggers}
        for trigger_id in p.add:
            t = specs.get(trigger_id)
            if t is not None and p.type not in t.requires:
                self.add(
                    f"trigger {t.id!r}", f"it registers a process, so it must require {p.type!r}"
                )
        for trigger_id in p.update:
            t = specs.get(trigger_id)
            if t is not None and p.number not in t.requires:
                self.add(
                    f"trigger {t.id!r}",
                    f"it updates a process, so it must require {p.number!r} (which one)",
                )
        for trigger_id in (*p.add, *p.update):
            t = specs.get(trigger_id)
            if t is not None and t.to is not None:
                self.add(
                    f"trigger {t.id!r}",
                    f"it records a parallel process, so the case stays in its stage: remove "
                    f"'to' ({t.to!r})",
                )

    def ordered(self, spec: FieldSpec) -> None:
        """`not_after` names other date fields kept on the case (the order is checked on
        the case's fields after each step, where event fields are not kept)."""
        where = f"field {spec.id!r}"
        for later in spec.not_after:
            self.date_field(where, "not_after", later)
            if later == spec.id:
                self.add(where, "'not_after' names the field itself")
            other = self.field_specs.get(later)
            if other is not None and "event" in (spec.scope, other.scope):
                event_field = spec.id if spec.scope == "event" else later
                self.add(
                    where,
                    f"'not_after' orders dates kept on the case; {event_field!r} is an event "
                    "field (scope = 'event')",
                )

    # -- [holds] --------------------------------------------------------------------------

    def holds(self, h: Holds) -> None:
        """Every id the holds table names exists; a hold's own triggers stay in the stage
        and record its review date; the review clock is due on that date and started by
        every hold and review."""
        where = "table 'holds'"
        self.refs(where, "states", h.states, "state", self.states)
        for state in h.states:
            if state in self.states and state not in self.open_states:
                self.add(where, f"'states' names {state!r}, a terminal state: it cannot be held")
        triggers = {t.id: t for t in self.p.triggers}
        seen: dict[str, str] = {}
        for key in ("hold", "review", "lift"):
            named: tuple[str, ...] = getattr(h, key)
            self.refs(where, key, named, "trigger", self.triggers)
            for trigger_id in named:
                if trigger_id in seen:
                    self.add(
                        where,
                        f"trigger {trigger_id!r} is named in both {seen[trigger_id]!r} and "
                        f"{key!r}; a trigger does one thing to a hold",
                    )
                seen.setdefault(trigger_id, key)
                t = triggers.get(trigger_id)
                if t is None:
                    continue
                if t.to is not None:
                    self.add(
                        f"trigger {trigger_id!r}",
                        f"it is a {key!r} trigger of table 'holds', so the case stays in its "
                        f"stage: remove 'to' ({t.to!r})",
                    )
                outside = [s for s in sources_of(t, self.open_states) if s not in h.states]
                if outside and t.from_any:
                    outside = []  # `*`: possible wherever a held case can be
                if outside:
                    self.add(
                        f"trigger {trigger_id!r}",
                        f"it is a {key!r} trigger of table 'holds', but fires from "
                        f"{', '.join(outside)}, where a case cannot be held ('holds.states')",
                    )
                if key != "lift" and h.review_by not in t.requires and h.review_by in self.fields:
                    self.add(
                        f"trigger {trigger_id!r}",
                        f"it is a {key!r} trigger of table 'holds', so it must list "
                        f"{h.review_by!r} in 'requires': every hold has a date to be reviewed by",
                    )
        self.refs(where, "allowed", h.allowed, "trigger", self.triggers)
        self.refs(where, "pause", h.pause, "clock", self.clocks)
        self.date_field(where, "review_by", h.review_by)
        spec = self.field_specs.get(h.review_by)
        if spec is not None and spec.scope != "case":
            self.add(
                where,
                f"'review_by' {h.review_by!r} must be kept on the case (scope = 'case'): the "
                "review clock counts to it",
            )
        self.refs(where, "review_clock", (h.review_clock,), "clock", self.clocks)
        self.hold_because(where, h, triggers)
        clock = next((c for c in self.p.clocks if c.id == h.review_clock), None)
        if clock is None:
            return
        if clock.anchor.field != h.review_by:
            self.add(
                f"clock {clock.id!r}",
                f"it is the review clock of table 'holds', so it must be anchored on "
                f"{h.review_by!r}: anchor = {{ field = {h.review_by!r} }}",
            )
        missing = [t for t in (*h.hold, *h.review) if t not in clock.start_on]
        if missing:
            self.add(
                f"clock {clock.id!r}",
                f"it is the review clock of table 'holds', so every hold and review starts it; "
                f"add {', '.join(missing)} to 'start_on'",
            )
        if h.review_clock in h.pause:
            self.add(
                where, f"'pause' names the review clock {h.review_clock!r}, which runs while held"
            )

    def hold_because(self, where: str, h: Holds, triggers: Mapping[str, Trigger]) -> None:
        """The field naming the parallel process held for is an event field of the
        `[processes]` table's kind (a process number); the reason is a field; every hold
        trigger records them."""
        if h.process is not None:
            spec = self.field_specs.get(h.process)
            if spec is None:
                self.add(where, "'process' names an " + unknown("field", h.process, self.fields))
            elif spec.type != "text" or spec.scope != "event":
                self.add(
                    where,
                    f"'process' {h.process!r} must be a text field with scope = 'event' (the "
                    "number of a parallel process on the case)",
                )
            if self.p.processes is None:
                self.add(
                    where,
                    "'process' names the parallel process a hold waits for, but the workflow "
                    "has no [processes] table",
                )
        if h.reason is not None and h.reason not in self.fields:
            self.add(where, "'reason' names an " + unknown("field", h.reason, self.fields))
        for field_id in (h.process, h.reason):
            if field_id is None or field_id not in self.fields:
                continue
            for trigger_id in h.hold:
                t = triggers.get(trigger_id)
                if t is not None and field_id not in (*t.requires, *t.optional):
                    self.add(
                        f"trigger {trigger_id!r}",
                        f"it is a 'hold' trigger of table 'holds', so it must record "
                        f"{field_id!r} (in 'requires' or 'optional')",
                    )

    # -- [action_plan] --------------------------------------------------------------------

    def action_plan(self, a: ActionPlanRules) -> None:
        """Every role and trigger the action-plan table names exists."""
        where = "table 'action_plan'"
        for key in ("approve", "update_any", "update_own", "read"):
            self.refs(where, key, getattr(a, key), "role", self.roles)
        for key in ("refuse_while_open", "require_plan"):
            self.refs(where, key, getattr(a, key), "trigger", self.triggers)

    # -- [corrections] --------------------------------------------------------------------

    def corrections(self, c: CorrectionRules) -> None:
        """Every role and field the corrections table names exists; the identity fields
        (kept in their own columns) are not corrected as fields."""
        where = "table 'corrections'"
        for role, fields in c.fields.items():
            if role not in self.roles:
                self.add(f"{where}: key 'fields.{role}'", unknown("role", role, self.roles))
            self.refs(f"{where}: key 'fields.{role}'", "fields", fields, "field", self.fields)
            for field_id in fields:
                if field_id in IDENTITY_FIELDS:
                    self.add(
                        f"{where}: key 'fields.{role}'",
                        f"{field_id!r} identifies the case and is kept in its own column; "
                        "it cannot be corrected as a field",
                    )
        for key in ("event_dates", "rationales", "undo", "void"):
            self.refs(where, key, getattr(c, key), "role", self.roles)

    # -- [report] -------------------------------------------------------------------------

    def report(self, r: ReportTable) -> None:
        """Every id the report table names exists (the figures would silently count
        nothing otherwise), and each field it reads is kept on the case."""
        for column, field_id in r.columns:
            if field_id is not None:
                self.case_field("table 'report.columns'", column, field_id)
        if r.notifications is not None:
            where = "table 'report.notifications'"
            self.refs(where, "trigger", (r.notifications.trigger,), "trigger", self.triggers)
            self.refs(where, "clock", (r.notifications.clock,), "clock", self.clocks)
            self.refs(where, "only", r.notifications.only, "trigger", self.triggers)
            if r.notifications.escalated_by is not None:
                escalated = (r.notifications.escalated_by,)
                self.refs(where, "escalated_by", escalated, "trigger", self.triggers)
        if r.rapid_reviews is not None:
            where = "table 'report.rapid_reviews'"
            self.refs(where, "clock", (r.rapid_reviews.clock,), "clock", self.clocks)
            self.refs(
                where, "completed_by", (r.rapid_reviews.completed_by,), "trigger", self.triggers
            )
        for decision, triggers in r.decisions.named():
            self.refs("table 'report.decisions'", decision, triggers, "trigger", self.triggers)
        if r.panel is not None:
            self.refs("table 'report.panel'", "query", (r.panel.query,), "trigger", self.triggers)
            for name, outcome in r.panel.outcomes.items():
                where = f"table 'report.panel.outcomes.{name}'"
                self.refs(where, "trigger", (outcome.trigger,), "trigger", self.triggers)
                agreed = outcome.agreed
                spec = self.case_field(where, "agreed.field", agreed.field)
                if spec is not None:
                    for value in agreed.values:
                        self.value_fits(where, "'agreed.values'", spec, value)
            where = "table 'report.panel'"
            for key in ("maintained_by", "reconsidered_by"):
                trigger = getattr(r.panel, key)
                if trigger is not None:
                    self.refs(where, key, (trigger,), "trigger", self.triggers)
            if r.panel.disputed is not None:
                disputed = r.panel.disputed
                spec = self.case_field(where, "disputed.field", disputed.field)
                if spec is not None:
                    for value in disputed.values:
                        self.value_fits(where, "'disputed.values'", spec, value)
        if r.local_reviews is not None:
            where, lr = "table 'report.local_reviews'", r.local_reviews
            self.refs(where, "commissioned_by", (lr.commissioned_by,), "trigger", self.triggers)
            self.refs(where, "published_by", lr.published_by, "trigger", self.triggers)
            self.refs(where, "clock", (lr.clock,), "clock", self.clocks)
            if lr.hold_state is not None:
                self.refs(where, "hold_state", (lr.hold_state,), "state", self.states)
            if lr.revised_target is not None:
                self.case_field(where, "revised_target", lr.revised_target)
        if r.publication is not None:
            where, pub = "table 'report.publication'", r.publication
            self.refs(where, "decided_by", pub.decided_by, "trigger", self.triggers)
            self.groups(where, "form", pub.form)
            if pub.reasons is not None:
                self.case_field(where, "reasons", pub.reasons)
        if r.national_reviews is not None:
            where, nr = "table 'report.national_reviews'", r.national_reviews
            self.refs(where, "commissioned_by", nr.commissioned_by, "trigger", self.triggers)
            self.refs(where, "alongside", nr.alongside, "trigger", self.triggers)
            if nr.reported_by is not None:
                self.refs(where, "reported_by", (nr.reported_by,), "trigger", self.triggers)
            for key, groups in (("by", nr.by), ("outcome", nr.outcome)):
                if groups is not None:
                    self.groups(where, key, groups)
        if r.local_learning is not None:
            where, ll = "table 'report.local_learning'", r.local_learning
            self.refs(where, "started_by", ll.started_by, "trigger", self.triggers)
            self.refs(where, "completed_by", ll.completed_by, "trigger", self.triggers)
            if ll.clock is not None:
                self.refs(where, "clock", (ll.clock,), "clock", self.clocks)
        if r.action_plans is not None:
            where, ap = "table 'report.action_plans'", r.action_plans
            for key, trigger in (("approved_by", ap.approved_by), ("closed_by", ap.closed_by)):
                self.refs(where, key, (trigger,), "trigger", self.triggers)
            self.refs(where, "state", (ap.state,), "state", self.states)

    def groups(self, where: str, key: str, groups: FieldGroups) -> None:
        """A field the report groups cases by is kept on the case, and every value
        named is one the field can hold."""
        spec = self.case_field(where, f"{key}.field", groups.field)
        if spec is not None:
            for name, values in groups.values.items():
                for value in values:
                    self.value_fits(where, f"'{key}.values.{name}'", spec, value)

    def case_field(self, where: str, key: str, field_id: str) -> FieldSpec | None:
        """The spec of a field the report reads from the case, or None (reported) when it
        is undeclared or belongs to single events (scope = 'event')."""
        if field_id not in self.fields:
            self.add(where, f"{key!r} names an " + unknown("field", field_id, self.fields))
            return None
        spec = self.field_specs.get(field_id)
        if spec is not None and spec.scope == "event":
            self.add(
                where,
                f"{key!r} names {field_id!r}, an event field (scope = 'event'); the report "
                "reads what is kept on the case",
            )
            return None
        return spec


def check_references(parts: Parts) -> list[str]:
    """Every cross-reference problem in `parts`, in file order; empty when consistent."""
    return _Checker(parts).run()
