"""Rendering for `rec …` and `action …`: the outcome of a plan step, a case's plan, its
actions, and open actions across cases."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from rich import box
from rich.table import Table
from rich.text import Text

from casereview.cli.render.console import info, literal, out, print_json_data
from casereview.domain import actions as plans
from casereview.errors import NotFound
from casereview.presenters import actions as words
from casereview.services.actions import ActionWhy, DueAction, Imported, PlanView, Recorded

_RAG_STYLE = {"red": "red", "amber": "yellow", "green": "green"}


def recorded(result: Recorded, as_json: bool) -> None:
    if as_json:
        print_json_data(words.recorded_json(result))
        return
    info(words.recorded_line(result))


def _actions_table(view: PlanView, rec: str | None = None) -> Table:
    today = dt.date.fromisoformat(view.as_of)
    table = Table(
        "action", "rec", "agency", "owner", "due", "status", "RAG", "latest update",
        box=box.SIMPLE_HEAD,
    )  # fmt: skip
    for a in view.plan.actions.values():
        if rec is not None and a.rec != rec:
            continue
        rag = plans.rag(a, today)
        table.add_row(
            literal(a.action),
            literal(a.rec),
            literal(a.agency),
            literal(a.owner),
            words.deadline_words(a, today),
            words.STATUS_WORDS.get(a.status, a.status),
            Text(rag, style=_RAG_STYLE.get(rag, "")),
            literal(a.latest_note),
        )
    return table


def plan(view: PlanView, as_json: bool) -> None:
    if as_json:
        print_json_data(words.plan_json(view))
        return
    p = view.plan
    if p.none_reason:
        out().print(Text("No recommendations: ") + literal(p.none_reason))
    table = Table("rec", "scope", "agencies", "actions", "open", "recommendation",
                  box=box.SIMPLE_HEAD)  # fmt: skip
    for r in p.recommendations.values():
        mine = [a for a in p.actions.values() if a.rec == r.number]
        table.add_row(
            literal(r.number),
            r.scope,
            literal(", ".join(r.agencies)),
            str(len(mine)),
            str(sum(1 for a in mine if a.open)),
            literal(r.text),
        )
    out().print(table)


def recommendation(view: PlanView, number: str, as_json: bool) -> None:
    rec = view.plan.recommendations.get(number)
    if rec is None:
        raise NotFound(f"case {view.ref} has no recommendation {number[:20]!r}")
    today = dt.date.fromisoformat(view.as_of)
    if as_json:
        print_json_data(words.rec_json(rec, view.plan, today))
        return
    out().print(Text(f"Recommendation {rec.number} ({rec.scope}-agency): ") + literal(rec.text))
    out().print(
        Text("Source: ") + literal(rec.source + (f", {rec.section}" if rec.section else ""))
    )
    out().print(Text("Addressed to: ") + literal(", ".join(rec.agencies)))
    out().print(_actions_table(view, rec.number))


def actions(view: PlanView, as_json: bool) -> None:
    if as_json:
        today = dt.date.fromisoformat(view.as_of)
        print_json_data([words.action_json(a, today) for a in view.plan.actions.values()])
        return
    out().print(_actions_table(view))


def due(rows: Sequence[DueAction], as_json: bool, *, more: bool = False) -> None:
    """Open actions across cases; `more`: there may be more than the page shown."""
    if as_json:
        print_json_data(words.due_json(rows))
        return
    table = Table("case", "action", "agency", "owner", "due", "days", "status",
                  box=box.SIMPLE_HEAD)  # fmt: skip
    for r in rows:
        table.add_row(
            literal(r.ref),
            literal(r.action),
            literal(r.agency),
            literal(r.owner),
            r.due_on + (f" (was {r.original_due_on})" if r.due_on != r.original_due_on else ""),
            Text(str(r.days_left), style="red" if r.overdue else ""),
            words.STATUS_WORDS.get(r.status, r.status),
        )
    out().print(table)
    if more:
        info(f"The {len(rows)} soonest due open actions; --limit N for more.")
        return
    info(f"{len(rows)} open action{'s' if len(rows) != 1 else ''}.")


def document(doc: plans.Document, fmt: str, output: str | None, force: bool) -> None:
    """Write the action-plan document to stdout or, whole or not at all, to `output`."""
    from pathlib import Path

    from casereview.cli.streams import DataOut
    from casereview.formats.action_plan import WRITERS
    from casereview.infra.output import destination

    if fmt == "xlsx" and output is not None:
        from casereview.formats import action_plan_xlsx

        with destination(Path(output), force=force) as stream:
            stream.write(action_plan_xlsx.workbook(doc))
        info(f"Wrote the xlsx action plan to {output}")
        return
    text = WRITERS[fmt](doc)
    if output is None:
        DataOut().write(text)
        return
    with destination(Path(output), force=force) as stream:
        stream.write(text.encode("utf-8"))
    info(f"Wrote the {fmt} action plan to {output}")


def imported(result: Imported, as_json: bool) -> None:
    if as_json:
        print_json_data(dataclasses.asdict(result))
        return
    info(
        f"Recorded {result.recommendations} recommendation(s) and {result.actions} action(s) "
        f"on case {result.ref}"
        + (f" (events {result.first_seq} to {result.last_seq})." if result.first_seq else ".")
    )


def explanation(why: ActionWhy, as_json: bool) -> None:
    """`explain REF action-N`: laid out as a clock's explanation (heading, status, facts,
    the sentence, then the extensions), each value whole at any width."""
    from casereview.cli.render.status import status_text

    if as_json:
        print_json_data(words.why_json(why))
        return
    console = out()
    heading = Text(f"Case {why.ref} · ", style="bold") + literal(why.pseudonym)
    heading.append(" · ", style="bold")
    heading.append_text(literal(words.why_heading(why)))
    heading.stylize("bold")
    console.print(heading)
    status = Text(f"action, {words.STATUS_WORDS.get(why.action.status, why.action.status)} · ")
    shown = (
        status_text(why.status)
        if why.status != plans.CLOSED_UNMET
        else Text(words.why_status_word(why))
    )
    console.print(status + shown + Text(f" as of {why.today.isoformat()}"))
    console.print()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column()
    for name, value in words.why_facts(why):
        grid.add_row(name, literal(value))
    console.print(grid)
    console.print()
    console.print(literal(words.why_sentence(why)))  # wrapped between words at any width
    extensions = words.extension_lines(why)
    if extensions:
        console.print()
        console.print(Text("Extensions", style="bold"))
        for line in extensions:
            console.print(Text("  ") + literal(line))
