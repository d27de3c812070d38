"""Domain checks on a valid definition: can every case actually get through the process?

Validation (`loader`, `references`) proves the file well-formed and every id it uses
declared; lint judges the process those ids describe, on the graph of states and triggers
(guards are not evaluated: the graph says what *could* happen). The checks are listed in
docs/workflows.md ("Validation and lint"). Pure: a definition in, findings out, each one
line naming the state, trigger, clock or round (`lint_report` puts the file in front);
reading files and the installed workflows is `casereview.services.workflows`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from casereview.domain.workflow.model import (
    OPEN,
    ApprovalCompleteGuard,
    Clock,
    Trigger,
    WorkflowDefinition,
    WorkflowKey,
)


@dataclass(frozen=True)
class Edge:
    source: str
    trigger: str
    dest: str


def edges(definition: WorkflowDefinition) -> list[Edge]:
    """Every (state, trigger, destination) move the definition allows, `*` expanded."""
    return [
        Edge(state, t.id, t.destination_from(state))
        for t in definition.triggers
        for state in definition.sources_of(t)
    ]


def _reach(starts: Iterable[str], moves: Iterable[Edge], *, backwards: bool = False) -> set[str]:
    step: dict[str, set[str]] = {}
    for e in moves:
        a, b = (e.dest, e.source) if backwards else (e.source, e.dest)
        step.setdefault(a, set()).add(b)
    seen = set(starts)
    queue = deque(seen)
    while queue:
        for nxt in step.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _names(ids: Iterable[str]) -> str:
    return ", ".join(repr(i) for i in ids)


class _Linter:
    def __init__(self, definition: WorkflowDefinition) -> None:
        self.d = definition
        self.edges = edges(definition)
        self.findings: list[str] = []
        self.terminal = {s.id for s in definition.states if s.terminal}
        self.reachable = _reach([definition.initial_state], self.edges)

    def add(self, message: str) -> None:
        self.findings.append(message)

    # -- states ---------------------------------------------------------------------------

    def states(self) -> None:
        d = self.d
        if not self.terminal:
            self.add("no state is terminal (terminal = true), so a case could never finish")
        if d.initial_state in self.terminal:
            self.add(
                f"initial state {d.initial_state!r} is terminal: a case would be finished "
                "as soon as it was opened"
            )
        for state in d.states:
            if state.id not in self.reachable:
                self.add(
                    f"state {state.id!r} cannot be reached from the initial state "
                    f"{d.initial_state!r}: no chain of triggers leads to it"
                )
        no_exit = set()
        for state in d.states:
            if state.terminal:
                continue
            if not any(e.source == state.id and e.dest != state.id for e in self.edges):
                no_exit.add(state.id)
                self.add(
                    f"state {state.id!r} is not terminal but no trigger leads out of it "
                    "(add a trigger from it to another state, or mark it terminal = true)"
                )
        finishing = _reach(self.terminal, self.edges, backwards=True)
        trapped = {s for s in self.reachable if s not in finishing and s not in no_exit}
        if self.terminal and d.initial_state in trapped:
            self.add(f"no terminal state can be reached from the initial state {d.initial_state!r}")
            return
        for e in self.edges:
            if e.dest in trapped and e.source not in trapped and e.source in self.reachable:
                self.add(
                    f"trigger {e.trigger!r} leads from {e.source!r} into {e.dest!r}, a dead "
                    "end: no terminal state can be reached from there"
                )

    def terminal_exits(self) -> None:
        for t in self.d.triggers:
            if t.from_any:
                continue
            for state in t.from_:
                if state in self.terminal:
                    self.add(
                        f"trigger {t.id!r} fires from terminal state {state!r}; a terminal "
                        "state is the end of a case and has no outgoing triggers"
                    )

    # -- clocks ---------------------------------------------------------------------------

    def clock(self, c: Clock) -> None:
        where = f"clock {c.id!r}"
        start_states: set[str] = set()
        for trigger in c.start_on:
            if trigger == OPEN:
                start_states.add(self.d.initial_state)
            else:
                start_states |= {
                    e.dest
                    for e in self.edges
                    if e.trigger == trigger and e.source in self.reachable
                }
        if not c.start_on:
            self.add(f"{where} never starts: 'start_on' is empty")
        elif not start_states:
            self.add(
                f"{where} never starts: none of its start triggers ({_names(c.start_on)}) "
                f"can fire from a state reachable from {self.d.initial_state!r}"
            )
        if c.ends == "on_stop":
            self.stops(c, start_states)
        self.anchor(c)

    def stops(self, c: Clock, start_states: set[str]) -> None:
        """An on_stop clock can stop, and cannot be left running in a terminal state.
        One finding per clock: the later checks only make sense once the earlier pass."""
        where = f"clock {c.id!r}"
        if not c.stop_on and not c.stop_all:
            self.add(
                f"{where} never stops: 'stop_on' is empty and ends = 'on_stop' (add the "
                "triggers that stop it, or set ends = 'on_due' for a reminder that ends "
                "on its due date)"
            )
            return
        if not start_states:
            return  # already reported: it never starts
        running_moves = [e for e in self.edges if e.trigger not in c.stop_on]
        h = self.d.holds
        if h is not None and c.id == h.review_clock:
            # A hold's review clock also stops when the case leaves the states it can be
            # held in (the hold ends with the stage), so no terminal state can hold it.
            running_moves = [e for e in running_moves if e.dest in h.states]
        running = _reach(start_states, running_moves)
        fires = {e.trigger for e in self.edges if e.source in running}
        for number, cond in enumerate(c.stop_all, start=1):
            if cond.trigger not in fires:
                self.add(
                    f"{where}: stop_all condition {number} ({cond.describe()}) can never be "
                    f"met: {cond.trigger!r} fires in no state where the clock runs "
                    f"({_names(sorted(running))}), so the clock never stops that way"
                )
        if not c.stop_on:
            return
        if not any(e.trigger in c.stop_on and e.source in running for e in self.edges):
            self.add(
                f"{where} can never stop: none of its stop triggers ({_names(c.stop_on)}) "
                f"can fire in a state where it runs ({_names(sorted(running))})"
            )
            return
        for state in sorted(running & self.terminal):
            into = [e for e in running_moves if e.dest == state and e.source in running]
            if state in start_states or not into:
                how = ", where it starts"
            else:
                first = into[0]
                how = (
                    f" via {first.trigger!r} from {first.source!r}; add that trigger to its stop_on"
                )
            self.add(
                f"{where} can still be running when the case reaches terminal state {state!r}{how}"
            )

    def anchor(self, c: Clock) -> None:
        where = f"clock {c.id!r}"
        current = self.d.anchor_field(c)
        candidates: list[tuple[str, str]] = []
        if current is not None:
            candidates.append((current, ""))
        if c.anchor.setting is not None:
            setting = self.d.settings.anchors[c.anchor.setting]
            candidates += [
                (alt, f" (if settings anchor {c.anchor.setting!r} is set to {alt!r})")
                for alt in setting.allowed
                if alt != current
            ]
        at_open = {f.id for f in self.d.fields_required_at_open}
        for field_id, condition in candidates:
            if field_id in at_open:
                continue  # set on every case from the start
            for trigger_id in c.start_on:
                if trigger_id != OPEN:
                    t = self.d.trigger(trigger_id)
                    if field_id in t.requires or field_id in t.defaults:
                        continue
                starter = "opening the case" if trigger_id == OPEN else f"{trigger_id!r}"
                self.add(
                    f"{where} counts from {field_id!r}, which is not certain to be set when "
                    f"{starter} starts it{condition} (require it there, give it a default, "
                    "or make it required_at_open)"
                )
        for field_id in c.reproject_on:
            if field_id != current:
                counted = repr(current) if current else "the event that started it"
                self.add(
                    f"{where} re-projects on {field_id!r} but counts from {counted}; a change "
                    f"to {field_id!r} cannot move its due date"
                )
        if current is not None and current not in c.reproject_on:
            for t in self.d.triggers:
                if t.id not in c.start_on and current in t.fields:
                    self.add(
                        f"{where} counts from {current!r}, which trigger {t.id!r} can change, "
                        f"but {current!r} is not in its reproject_on, so its due date would "
                        "not move"
                    )

    # -- approval rounds ------------------------------------------------------------------

    def approvals(self) -> None:
        signers = [t for t in self.d.triggers if t.signs]
        for t in signers:
            for role_id in t.roles:
                if not self.d.role(role_id).has_agency:
                    self.add(
                        f"trigger {t.id!r} signs approval rounds, but role {role_id!r} has no "
                        "agency (has_agency = false), so its users could not sign for one"
                    )
        for t in signers:
            self.signing_for_others(t)
        for rnd in self.d.approval_rounds:
            if not any(rnd.signable_in(s) for t in signers for s in self.d.sources_of(t)):
                where = (
                    f"in its collect_in states ({_names(rnd.collect_in)})"
                    if rnd.collect_in
                    else "anywhere"
                )
                self.add(
                    f"approval round {rnd.id!r} can never be signed: no trigger with "
                    f"signs = true fires {where}"
                )
        self.opened_rounds()

    def opened_rounds(self) -> None:
        """A round a trigger opens is the partners' decision: a later step waits for it
        (an `approval_complete` guard), and it can be signed where it is opened or after."""
        awaited = {
            g.round
            for t in self.d.triggers
            for g in t.guards
            if isinstance(g, ApprovalCompleteGuard)
        }
        for rnd in self.d.approval_rounds:
            if not rnd.opened:
                continue
            if rnd.id not in awaited:
                self.add(
                    f"approval round {rnd.id!r} is opened by {_names(rnd.opened_by)}, but no "
                    "trigger's guard requires it complete, so its sign-offs would change nothing"
                )
            for trigger_id in rnd.opened_by:
                after = _reach({e.dest for e in self.edges if e.trigger == trigger_id}, self.edges)
                if after and not any(rnd.signable_in(s) for s in after):
                    self.add(
                        f"approval round {rnd.id!r} is opened by trigger {trigger_id!r}, but "
                        f"no state a case can reach after it collects the round "
                        f"({_names(rnd.collect_in)})"
                    )

    def signing_for_others(self, t: Trigger) -> None:
        """A sign-off is an agency's: a rule that lets someone who acts for an agency
        record it for someone of any agency lets one agency sign for the others."""
        for number, rule in enumerate(t.on_behalf, start=1):
            if rule.same_agency:
                continue
            by = [r for r in rule.by if self.d.role(r).has_agency]
            for_ = [r for r in rule.for_roles(t) if self.d.role(r).has_agency]
            if by and for_:
                self.add(
                    f"trigger {t.id!r}: on_behalf rule {number} lets a {_names(by)} record "
                    f"the sign-off of a {_names(for_)} of another agency, so one agency "
                    "could sign for the others; add same_agency = true"
                )

    # -- [holds] -------------------------------------------------------------------------

    def holds(self) -> None:
        """A trigger allowed while held that fires from no holdable state is never
        possible while held (a typo, or a trigger listed for another stage)."""
        h = self.d.holds
        if h is None:
            return
        for trigger_id in h.allowed:
            sources = set(self.d.sources_of(self.d.trigger(trigger_id)))
            if sources.isdisjoint(h.states):
                self.add(
                    f"table 'holds': 'allowed' names trigger {trigger_id!r}, which fires from "
                    f"none of the states a case can be held in ({_names(h.states)}), so it is "
                    "never possible while held"
                )

    # -- [links] and [processes] ----------------------------------------------------------

    def links(self) -> None:
        """A step a linked case takes with the lead must be one the lead can take from
        the states the entry names; a link trigger must be possible somewhere."""
        table = self.d.links
        if table is None:
            return
        fires: dict[str, set[str]] = {}
        for e in self.edges:
            if e.source in self.reachable:
                fires.setdefault(e.trigger, set()).add(e.source)
        for trigger_id in table.link:
            if trigger_id not in fires:
                self.add(
                    f"table 'links': link trigger {trigger_id!r} fires from no state a case "
                    "can reach, so no case could be linked"
                )
        for number, entry in enumerate(table.follow, start=1):
            for trigger_id in entry.triggers:
                sources = fires.get(trigger_id, set())
                if entry.from_:
                    sources = sources & set(entry.from_)
                if not sources:
                    where = f" from {_names(entry.from_)}" if entry.from_ else ""
                    self.add(
                        f"table 'links': follow entry {number} names trigger {trigger_id!r}, "
                        f"which fires from no reachable state{where}, so a linked case would "
                        "never take it"
                    )

    def processes(self) -> None:
        """A process can be registered somewhere; a hold that waits for a process can be
        given one (some `add` trigger fires where, or before, the case can be held)."""
        table = self.d.processes
        if table is None:
            return
        fires = {e.trigger for e in self.edges if e.source in self.reachable}
        added = [t for t in table.add if t in fires]
        if not added:
            self.add(
                f"table 'processes': none of its add triggers ({_names(table.add)}) fires "
                "from a state a case can reach, so no process could be registered"
            )
        for trigger_id in table.update:
            if trigger_id not in fires:
                self.add(
                    f"table 'processes': update trigger {trigger_id!r} fires from no state a "
                    "case can reach"
                )
        h = self.d.holds
        if h is not None and h.process is not None and added:
            before = {e.source for e in self.edges if e.trigger in added}
            can_reach_hold = _reach(before, self.edges) & set(h.states)
            if not can_reach_hold:
                self.add(
                    f"table 'holds': 'process' {h.process!r} names a parallel process, but no "
                    "state where one can be registered leads to a state a case can be held in"
                )

    # -- [report] ------------------------------------------------------------------------

    def report(self) -> None:
        """A figure the report table counts by a clock's stop can count something: the
        trigger it names must stop that clock."""
        r = self.d.report
        if r is None:
            return
        checks: list[tuple[str, str, str, str, str]] = []
        if r.notifications is not None:
            n = r.notifications
            consequence = "a notified case would still count as awaiting notification"
            checks.append(("notifications", "trigger", n.trigger, n.clock, consequence))
        if r.rapid_reviews is not None:
            rr = r.rapid_reviews
            consequence = "no review would ever count as completed"
            checks.append(("rapid_reviews", "completed_by", rr.completed_by, rr.clock, consequence))
        if r.local_reviews is not None:
            lr = r.local_reviews
            consequence = "no review would count as published within the expectation"
            for trigger in lr.published_by:
                checks.append(("local_reviews", "published_by", trigger, lr.clock, consequence))
        for table, key, trigger, clock_id, consequence in checks:
            if trigger not in self.d.clock(clock_id).stop_on:
                self.add(
                    f"table 'report.{table}': {key} {trigger!r} does not stop clock "
                    f"{clock_id!r}, so {consequence}"
                )

    def run(self) -> list[str]:
        self.states()
        self.terminal_exits()
        for c in self.d.clocks:
            self.clock(c)
        self.approvals()
        self.holds()
        self.links()
        self.processes()
        self.report()
        return self.findings


def lint_definition(definition: WorkflowDefinition) -> list[str]:
    """Domain findings for a valid definition (no file prefix); empty when clean."""
    return _Linter(definition).run()


@dataclass(frozen=True)
class Report:
    """What validate or lint found in one file or installed workflow."""

    target: str
    problems: tuple[str, ...]
    key: WorkflowKey | None = None
    """Identity of the definition, when the file is valid."""

    @property
    def ok(self) -> bool:
        return not self.problems


def lint_report(target: str, definition: WorkflowDefinition) -> Report:
    """The findings for a valid definition, each line starting with `target`."""
    findings = tuple(f"{target}: {f}" for f in lint_definition(definition))
    return Report(target, findings, definition.key)
