"""Rendering for `case …`: case lists, a case's page, the outcome of an advance."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from casereview.cli.messages import spell
from casereview.cli.render.console import info, literal, out, print_json_data
from casereview.cli.render.status import status_text
from casereview.errors import Input
from casereview.services.cases import AdvanceResult, CaseListItem, CaseView, ClockView
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


def case_list(rows: Sequence[CaseListItem], as_json: bool) -> None:
    if as_json:
        print_json_data([_as_dict(r) for r in rows])
        return
    table = Table(
        "ref", "pseudonym", "state", "opened", "last event", "workflow", box=box.SIMPLE_HEAD
    )
    for r in rows:
        table.add_row(
            literal(r.ref),
            literal(r.pseudonym),
            r.state
            + (" (closed)" if r.closed and r.state != "closed" else "")
            + (" (voided)" if r.voided else ""),
            r.opened_on,
            r.last_event_on,
            r.workflow,
        )
    out().print(table)
    info(f"{len(rows)} case{'s' if len(rows) != 1 else ''}")


def clock_table(clocks: Sequence[ClockView], title: str | None = None) -> Table:
    table = Table(
        "clock",
        "kind",
        "rule",
        "anchor",
        "due",
        "left",
        "status",
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for c in clocks:
        left = "" if c.working_days_left is None else str(c.working_days_left)
        if c.state == "paused" and c.remaining_days is not None:
            left = f"{c.remaining_days} (paused)"
        table.add_row(
            c.label,
            c.kind,
            c.rule,
            c.anchor_on or "—",
            c.due_on or "—",
            left,
            status_text(c.status),
        )
    return table


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
        f"Workflow: {view.workflow} v{view.workflow_version} · {view.version} events · "
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
        console.print(clock_table(view.clocks, title="Clocks"))
    if view.possible:
        nxt = Table(
            "trigger",
            "to",
            "who",
            "needs",
            title="Possible now",
            title_justify="left",
            box=box.SIMPLE_HEAD,
        )
        for option in view.possible:
            nxt.add_row(
                option.trigger,
                option.to_state,
                ", ".join(option.roles),
                "; ".join(str(n) for n in option.needs),
            )
        console.print(nxt)


def advanced(result: AdvanceResult, as_json: bool) -> None:
    if as_json:
        print_json_data(_as_dict(result))
        return
    move = (
        f"{result.from_state} → {result.to_state}"
        if result.from_state != result.to_state
        else f"stays in {result.to_state}"
    )
    info(f"Recorded {result.trigger} on case {result.ref} ({move}), event {result.seq}.")
    if result.clocks:
        out().print(clock_table(result.clocks))


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
