"""Rendering for `case …`: case lists, a case's page, the outcome of an advance."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from casereview.cli.messages import spell
from casereview.cli.render.console import compact, emit, info, literal, out, print_json_data
from casereview.cli.render.status import status_text
from casereview.errors import Input
from casereview.presenters.words import plural
from casereview.services.cases import AdvanceResult, CaseListItem, CaseView, ClockView
from casereview.services.find import FindResult
from casereview.services.processes import ProcessRecorded


def _as_dict(value: Any) -> Any:
    return dataclasses.asdict(value)


def _spelled(view: CaseView) -> CaseView:
    """The view with what each possible trigger needs spelled as the command line takes
    it (`--set agency=…`, `--rationale`)."""
    possible = tuple(
        dataclasses.replace(
            option, needs=tuple(spell(n) if isinstance(n, Input) else n for n in option.needs)
        )
        for option in view.possible
    )
    return dataclasses.replace(view, possible=possible)


def opened(view: CaseView, as_json: bool) -> None:
    view = _spelled(view)
    if as_json:
        print_json_data(_as_dict(view))
        return
    info(f"Opened case {view.ref} ({view.pseudonym}) in {view.state}.")
    case(view, False)


_LIST_COLUMNS = (
    "ref",
    "pseudonym",
    "state",
    "next due",
    "status",
    "clock",
    "opened",
    "last event",
    "workflow",
)
_LIST_DROPS = ((), ("clock",), ("clock", "workflow"), ("clock", "workflow", "opened", "last event"))
"""What gives way as the terminal narrows: the long labels first, then the dates."""


def case_list(rows: Sequence[CaseListItem], as_json: bool) -> None:
    """Cases, what is due next on each first: a table with fewer columns as the terminal
    narrows, and below 100 columns (or where no table fits) one block per case."""
    if as_json:
        print_json_data([_as_dict(r) for r in rows])
        return
    # The review type's short label, only when the cases are of several types.
    every = ("ref", "type", *_LIST_COLUMNS[1:]) if any(r.type for r in rows) else _LIST_COLUMNS
    tables = [_list_table(rows, [c for c in every if c not in drop]) for drop in _LIST_DROPS]
    table = next((t for t in tables if not compact(t)), None)
    if rows and table is None:
        console = out()
        for r in rows:
            kind = f"{r.type} · " if r.type else ""
            console.print(Text(f"{r.ref} · {kind}", style="bold") + literal(r.pseudonym))
            console.print(Text(f"  {_list_state(r)}"))
            if r.next_due_on:
                line = Text(f"  next due {r.next_due_on} · ") + _next_status(r)
                console.print(line + Text(" · ") + literal(r.next_clock or ""))
            console.print(Text(f"  opened {r.opened_on} · last event {r.last_event_on}"))
    elif rows and table is not None:
        emit(table)
    info(f"{len(rows)} case{'s' if len(rows) != 1 else ''}")


def _list_table(rows: Sequence[CaseListItem], columns: Sequence[str]) -> Table:
    table = Table(box=box.SIMPLE_HEAD)
    for header in columns:
        table.add_column(header, no_wrap=header not in ("pseudonym", "clock"))
    for r in rows:
        cells: dict[str, Text | str] = {
            "ref": literal(r.ref),
            "pseudonym": literal(r.pseudonym),
            "state": _list_state(r),
            "next due": r.next_due_on or "—",
            "status": _next_status(r),
            "clock": literal(r.next_clock or ""),
            "opened": r.opened_on,
            "last event": r.last_event_on,
            "workflow": r.workflow,
            "type": literal(r.type),
        }
        table.add_row(*(cells[c] for c in columns))
    return table


def _next_status(r: CaseListItem) -> Text:
    return status_text(r.next_status) if r.next_status else Text("")


def _list_state(r: CaseListItem) -> str:
    return (
        r.state
        + (" (closed)" if r.closed and r.state != "closed" else "")
        + (" (voided)" if r.voided else "")
    )


def clock_table(clocks: Sequence[ClockView], title: str | None = None) -> Table:
    """The clocks as a table: the due date, days left and status never wrap; the rule, the
    longest text, wraps first."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("clock")
    table.add_column("kind", no_wrap=True)
    table.add_column("rule")
    table.add_column("anchor", no_wrap=True)
    table.add_column("due", no_wrap=True)
    table.add_column("left", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for c in clocks:
        table.add_row(
            c.label,
            c.kind,
            c.rule,
            c.anchor_on or "—",
            c.due_on or "—",
            _left(c),
            status_text(c.status),
        )
    return table


def _left(c: ClockView) -> str:
    if c.state == "paused" and c.remaining_days is not None:
        return f"{c.remaining_days} (paused)"
    return "" if c.working_days_left is None else str(c.working_days_left)


def clock_lines(c: ClockView) -> list[Text]:
    """One clock as a short block: its label, then its due date and status on a line of
    their own, then its rule."""
    lines = [Text(f"{c.label} ({c.kind})", style="bold")]
    when = Text("  ")
    if c.state == "stopped" and c.stopped_on:
        when.append(f"stopped {c.stopped_on} · due {c.due_on or '—'} · ")
    elif c.state == "paused":
        left = "" if c.remaining_days is None else f" · {c.remaining_days} left"
        when.append(f"paused{left} · ")
    else:
        left = "" if c.working_days_left is None else f" · left {c.working_days_left}"
        when.append(f"due {c.due_on or '—'}{left} · ")
    lines.append(when + status_text(c.status))
    anchor = f" (anchor {c.anchor_on})" if c.anchor_on else ""
    lines.append(Text(f"  {c.rule}{anchor}", style="dim"))
    return lines


def case(view: CaseView, as_json: bool) -> None:
    view = _spelled(view)
    if as_json:
        print_json_data(_as_dict(view))
        return
    console = out()
    heading = Text(f"Case {view.ref} · ", style="bold") + literal(view.pseudonym)
    if view.as_at:
        heading += Text(f"  (as at {view.as_at})", style="italic")
    console.print(heading)
    console.print(
        f"State: {view.state_label} ({view.state})" + ("  [closed]" if view.closed else "")
    )
    if view.voided_on:
        console.print(
            f"Voided on {view.voided_on} as opened in error: it stays in the log, and is "
            "left out of every list, deadline and figure."
        )
    if view.hold is not None:
        held = f"Held since {view.hold.since} ({view.hold.trigger})"
        if view.hold.review_by:
            held += f", to be reviewed by {view.hold.review_by}"
        console.print(Text(held, style="bold"))
        for name, value in view.hold.fields.items():
            console.print(Text(f"  {name}: ") + literal(value))
    console.print(
        f"Workflow: {view.workflow} v{view.workflow_version} · {plural(view.version, 'event')} · "
        f"opened {view.opened_on} · last event {view.last_event_on}"
    )
    fields = Table("field", "value", title="Fields", title_justify="left", box=box.SIMPLE_HEAD)
    for name, value in view.fields.items():
        fields.add_row(name, literal(value))
    console.print(fields)
    if view.hidden_fields:
        info(f"Personal fields not shown: {', '.join(view.hidden_fields)}.")
    for rnd in view.rounds:
        line = f"{rnd.label}"
        if rnd.opened_on:
            line += f" (opened {rnd.opened_on} by {rnd.opened_by})"
        line += f": signed by {', '.join(rnd.signed) or 'nobody yet'}"
        line += f"; waiting for {', '.join(rnd.waiting_for)}" if rnd.waiting_for else "; complete"
        console.print(Text(line))
    for link in view.links:
        console.print(
            Text("Linked to ")
            + literal(str(link["other"]))
            + Text(f" ({link['relation']}, {link['on']})")
        )
    for link in view.linked_from:
        console.print(
            Text("Linked from ")
            + literal(str(link["other"]))
            + Text(f" ({link['relation']}, {link['on']})")
        )
    if view.processes:
        console.print(process_table(view.processes))
    for breach in view.breaches:
        line = (
            f"Breach: event {breach.seq} ({breach.trigger}, {breach.on}) recorded "
            f"{breach.overrides} despite its check: {breach.check}"
        )
        console.print(Text(line + (f"; {breach.detail}" if breach.detail else "")))
    if view.clocks:
        table = clock_table(view.clocks, title="Clocks")
        if compact(table):
            console.print()
            console.print(Text("Clocks", style="italic"))
            for clock in view.clocks:
                for clock_line in clock_lines(clock):
                    console.print(clock_line)
        else:
            emit(table)
    if view.possible:
        nxt = _possible_table(view)
        if compact(nxt):
            console.print()
            console.print(Text("Possible now", style="italic"))
            for option in view.possible:
                console.print(Text(option.trigger, style="bold") + Text(f" → {option.to_state}"))
                console.print(Text(f"  who: {', '.join(option.roles)}"))
                if option.needs:
                    console.print(Text(f"  needs: {'; '.join(str(n) for n in option.needs)}"))
        else:
            emit(nxt)


def _possible_table(view: CaseView) -> Table:
    # The trigger and the state it leads to are what the chair types: they never wrap;
    # who and what it needs wrap (the table is not used where they would be cut).
    nxt = Table(title="Possible now", title_justify="left", box=box.SIMPLE_HEAD)
    nxt.add_column("trigger", no_wrap=True)
    nxt.add_column("to", no_wrap=True)
    nxt.add_column("who", overflow="fold")
    nxt.add_column("needs", overflow="fold")
    for option in view.possible:
        nxt.add_row(
            option.trigger,
            option.to_state,
            ", ".join(option.roles),
            "; ".join(str(n) for n in option.needs),
        )
    return nxt


def advanced(result: AdvanceResult, as_json: bool) -> None:
    """One confirmation line (on stderr), then each clock the event changed, one short
    block each (the due date and status on a line of their own)."""
    if as_json:
        print_json_data(_as_dict(result))
        return
    move = (
        f"{result.from_state} → {result.to_state}"
        if result.from_state != result.to_state
        else f"stays in {result.to_state}"
    )
    info(f"Recorded {result.trigger} on case {result.ref} ({move}), event {result.seq}.")
    for linked in result.followed:
        if linked["seq"] is not None:
            info(f"  and on linked case {linked['ref']}, event {linked['seq']}.")
        else:
            info(f"  not on linked case {linked['ref']} ({linked['left']}).")
    console = out()
    if result.as_of and result.changed:
        console.print(Text(f"Clocks as of {result.as_of}, the event's date:", style="italic"))
    for clock in result.clocks:
        if clock.clock_id in result.changed:
            for line in clock_lines(clock)[:2]:
                console.print(line)


def found(result: FindResult, as_json: bool) -> None:
    """`case find`: the cases and what each matched (a personal field by its id only)."""
    if as_json:
        print_json_data(_as_dict(result))
        return
    console = out()
    for case in result.cases:
        state = case.state + (" (closed)" if case.closed and case.state != "closed" else "")
        console.print(Text(f"{case.ref} · ", style="bold") + literal(case.pseudonym))
        console.print(Text(f"  {state} · matched: {', '.join(case.matched)}"))
    searched = (
        "references, pseudonyms and names"
        if result.names_searched
        else ("references and pseudonyms")
    )
    count = len(result.cases)
    info(f"{count} case{'s' if count != 1 else ''} found (searched {searched}).")


def process_table(processes: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(
        "no.",
        "type",
        "reference",
        "lead",
        "status",
        "key dates",
        title="Parallel processes",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for p in processes:
        dates = "\n".join(f"{k} {v}" for k, v in dict(p.get("dates") or {}).items())
        table.add_row(
            str(p["number"]),
            literal(str(p.get("type") or "")),
            literal(str(p.get("reference") or "")),
            literal(str(p.get("lead") or "")),
            literal(str(p.get("status") or "")) + (" (concluded)" if p.get("concluded") else ""),
            dates,
        )
    return table


def process_list(processes: Sequence[Mapping[str, Any]], as_json: bool) -> None:
    if as_json:
        print_json_data(list(processes))
        return
    if not processes:
        info("No parallel processes on this case.")
        return
    out().print(process_table(processes))


def process_recorded(result: ProcessRecorded, as_json: bool) -> None:
    if as_json:
        print_json_data(_as_dict(result))
        return
    info(
        f"Recorded {result.trigger} on case {result.ref} "
        f"(parallel process {result.number}), event {result.seq}."
    )
    out().print(process_table([result.process]))
