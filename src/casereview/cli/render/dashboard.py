"""Output of `casereview due`, `timeline` and `explain`: tables, the chart, JSON and CSV.

The sentences and the JSON shapes are the presenters' (`presenters.due`, `.timeline`,
`.explain`); this module lays them out. Data goes to stdout; the due list's summary
line goes to stderr with the other messages. Text that came from users (pseudonyms,
rationales, notes, field values, account names) always passes through `literal`, so
markup or escape sequences in it print as typed.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from casereview.cli.messages import spell
from casereview.cli.render.console import (
    COMPACT_BELOW,
    compact,
    emit,
    info,
    literal,
    out,
    print_json_data,
    say,
)
from casereview.cli.render.status import STATUS_STYLE, status_text
from casereview.cli.streams import DataOut
from casereview.domain.clock_status import status_word
from casereview.domain.clocks import OPEN_TRIGGER
from casereview.formats.cells import value_cell
from casereview.presenters import due as due_words
from casereview.presenters.words import day

if TYPE_CHECKING:
    # Annotations only: `due` must not import the timeline's modules.
    from casereview.presenters.timeline import (
        AmendEntry,
        ChartBar,
        ClockNote,
        DuePassed,
        EventEntry,
        Timeline,
    )
    from casereview.services.due import DueItem, DueList
    from casereview.services.explain import ClockExplanation
    from casereview.services.timeline import CaseTimeline


# ------------------------------------------------------------------------------------
# due
# ------------------------------------------------------------------------------------


def due(result: DueList, output: str) -> None:
    """`due`: a table for people (summary on stderr), or JSON, or CSV."""
    if output == "json":
        print_json_data(due_words.due_json(result))
        return
    if output == "csv":
        _due_csv(result.items)
        return
    table = _table(due_words.heading(result))
    # Which review each row belongs to, only when the rows are of several types.
    typed = bool(result.workflow_labels)
    headers = ("Case", "Type", "Pseudonym", "Case state", "Clock", "Kind", "Due")
    for header in headers if typed else tuple(h for h in headers if h != "Type"):
        table.add_column(header, no_wrap=header != "Clock")
    table.add_column("Left", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for item in result.items:
        style = STATUS_STYLE.get(item.status, "")
        # Every cell is a Text: a str cell would be parsed as rich markup.
        kind = (literal(result.workflow_label(item.workflow)),) if typed else ()
        table.add_row(
            literal(item.ref),
            *kind,
            literal(item.pseudonym),
            literal(item.case_state),
            literal(item.label),
            literal(item.kind),
            Text(item.due_on or "—"),
            Text("—" if item.working_days_left is None else str(item.working_days_left), style),
            status_text(item.status),
        )
    if result.items and compact(table):
        _due_blocks(result)
    elif result.items:
        emit(table)
    info(due_words.summary_line(result, spell))


def _due_blocks(result: DueList) -> None:
    """The due list below 100 columns: one block per clock, the case first, then the due
    date, days left and status on a line of their own (never cut), then the clock."""
    console = out()
    console.print(Text(due_words.heading(result), style="italic"))
    for item in result.items:
        console.print()
        kind = f"{result.workflow_label(item.workflow)} · " if result.workflow_labels else ""
        console.print(
            Text(f"{item.ref} · {kind}", style="bold")
            + literal(item.pseudonym)
            + Text(" · ")
            + literal(item.case_state)
        )
        left = "" if item.working_days_left is None else f" · left {item.working_days_left}"
        console.print(Text(f"  due {item.due_on or '—'}{left} · ") + status_text(item.status))
        console.print(Text("  ") + literal(item.label) + Text(f" ({item.kind})", style="dim"))


def _table(title: str, caption: str | None = None) -> Table:
    """A borderless table with a rule under the header, two spaces between columns."""
    return Table(
        title=title,
        title_justify="left",
        caption=caption,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )


def _due_csv(items: Iterable[DueItem]) -> None:
    writer = csv.writer(DataOut(), lineterminator="\n")
    columns = due_words.DUE_COLUMNS
    writer.writerow(columns)
    for item in items:
        record = due_words.clock_record(item)
        writer.writerow([value_cell(record[key]) for key in columns])


# ------------------------------------------------------------------------------------
# timeline
# ------------------------------------------------------------------------------------

_MARK = {
    "started": ("+", ""),
    "restarted": ("+", ""),
    "paused": ("‖", "cyan"),
    "resumed": ("»", "cyan"),
    "moved": ("~", "yellow"),
}
_BAR_RAN, _BAR_PLAN, _BAR_LATE, _BAR_PAUSED = "█", "░", "▓", "╌"
MIN_BAR = 24


def timeline(facts: CaseTimeline, as_json: bool) -> None:
    from casereview.presenters import timeline as timeline_words

    view = timeline_words.present(facts)
    if as_json:
        print_json_data(timeline_words.timeline_json(view))
        return
    console = out()
    heading = Text(f"Case {view.ref} · ", style="bold") + literal(view.pseudonym)
    console.print(heading)
    closed = " · closed" if view.closed and view.state != "closed" else ""
    as_of = day(dt.date.fromisoformat(view.today))
    console.print(Text(f"{view.state_label} ({view.state}){closed} · as of {as_of}"))
    for words, links in (("Linked to ", view.links), ("Linked from ", view.linked_from)):
        for link in links:
            console.print(
                Text(words)
                + literal(str(link["other"]))
                + Text(f" ({link['relation']}, {link['on']})")
            )
    console.print()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for entry in view.entries:
        if isinstance(entry, timeline_words.EventEntry):
            grid.add_row(entry.on, _event_text(entry, view))
        elif isinstance(entry, timeline_words.AmendEntry):
            grid.add_row(entry.on, _amend_text(entry, view))
        elif isinstance(entry, timeline_words.BreachEntry):
            grid.add_row(entry.on, Text(f"! {entry.text}", style="red"))
        else:
            grid.add_row(entry.on, _passed_text(entry))
    if view.now:
        today = Text("Today", style="bold")
        for note in view.now:
            today.append("\n")
            today.append_text(_note_line(note))
        grid.add_row(view.today, today)
    console.print(grid)
    if view.hidden_fields:
        info(f"Personal fields not shown: {', '.join(view.hidden_fields)}.")
    if view.bars:
        console.print()
        console.print(chart(view, console.width))


def _event_text(entry: EventEntry, view: Timeline) -> Text:
    text = Text(entry.trigger_label, style="dim strike" if entry.reversed_by else "bold")
    if entry.trigger != OPEN_TRIGGER:
        text.append(f" ({entry.trigger})")
    if entry.from_state and entry.from_state != entry.to_state:
        text.append(f": {entry.from_state} → {entry.to_state}")
    elif entry.from_state is None and entry.to_state:
        text.append(f" → {entry.to_state}")
    who = Text("\nby ") + literal(view.who(entry.actor))
    if entry.on_behalf_of:
        who += Text(" for ") + literal(view.who(entry.on_behalf_of))
    if entry.role:
        who.append(f" as {entry.role}")
    # The event's number: what `case correct --event` and `case undo --event` name.
    who.append(f" · event {entry.seq}", style="dim")
    text.append_text(who)
    if entry.reversed_by is not None:
        text.append(f"\nreversed by event {entry.reversed_by}: it changes nothing", style="red")
    if entry.rationale:
        text.append("\n")
        quoted = Text("“") + literal(entry.rationale) + Text("”")
        quoted.stylize("italic")
        text.append_text(quoted)
    if entry.fields:
        line = Text("\n", style="dim")
        for index, (name, value) in enumerate(entry.fields.items()):
            if index:
                line.append(" · ", style="dim")
            line.append(f"{name}: ", style="dim")
            line.append_text(literal(value))
        text.append_text(line)
    if entry.corrected_by:
        by = ", ".join(str(seq) for seq in entry.corrected_by)
        line = Text(f"\ncorrected by event {by}; recorded first as ", style="yellow")
        for index, (name, value) in enumerate(entry.was.items()):
            if index:
                line.append(" · ", style="yellow")
            line.append(f"{name}: ", style="yellow")
            line.append_text(literal("(none)" if value is None else value))
        text.append_text(line)
    for note in entry.clocks:
        text.append("\n")
        text.append_text(_note_line(note))
    return text


def _amend_text(entry: AmendEntry, view: Timeline) -> Text:
    text = Text(entry.trigger_label, style="bold yellow")
    text.append(f" ({entry.trigger})")
    who = Text("\nby ") + literal(view.who(entry.actor))
    if entry.role:
        who.append(f" as {entry.role}")
    who.append(f" · event {entry.seq}", style="dim")
    text.append_text(who)
    if entry.rationale:
        text.append("\n")
        quoted = Text("“") + literal(entry.rationale) + Text("”")
        quoted.stylize("italic")
        text.append_text(quoted)
    if entry.changes:
        for change in entry.changes:
            text.append("\n")
            text.append_text(literal(change["text"]))
    else:
        text.append("\n")
        text.append_text(literal(entry.text))
    for shift in entry.clocks:
        text.append("\n")
        text.append_text(Text("~ ") + literal(shift["text"]))
    return text


def _note_line(note: ClockNote) -> Text:
    if note.change == "stopped":
        mark, style = ("✓", "green") if note.status == "met" else ("✗", "red")
    elif note.change == "open":
        word = Text(f"[{status_word(note.status)}]", STATUS_STYLE.get(note.status, ""))
        if compact():  # the status first, where a narrow line cannot split it
            return Text("· ") + word + Text(f" {note.text}")
        return Text(f"· {note.text} ") + word
    else:
        mark, style = _MARK.get(note.change, ("·", ""))
    return Text(f"{mark} {note.text}", style=style)


def _passed_text(entry: DuePassed) -> Text:
    return Text(f"! {entry.text}", style="red")


def chart(view: Timeline, width: int) -> Table:
    """Plan versus actual: one bar per clock run on a shared date axis.

    The planned window (anchor to due date) is shaded; the time the clock actually ran
    (to its stop, or to today) is solid, in red past the due date; pauses are dashed.
    """
    label_width = max(len(_bar_label(b)) for b in view.bars)
    result_width = max(len(b.result) for b in view.bars)
    shortest = MIN_BAR
    if width < COMPACT_BELOW:
        # Narrow: the labels and the results wrap within a share of the width, and the
        # bar shrinks, so that no result (with its status word) is cut.
        label_width, result_width, shortest = min(label_width, 20), min(result_width, 22), 12
    window_width = len("2026-01-01 → 2026-01-01")
    # Two characters between columns; the bar takes what is left, and on a narrow
    # terminal the planned-window column gives way first.
    show_window = width - label_width - result_width - window_width - 6 >= shortest
    used = label_width + result_width + (window_width + 6 if show_window else 4)
    bar_width = max(shortest, min(60, width - used))
    first = dt.date.fromisoformat(view.axis_from)
    last = dt.date.fromisoformat(view.axis_to)
    span = (last - first).days + 1

    def column(iso: str) -> int:
        days = (dt.date.fromisoformat(iso) - first).days
        return min(bar_width - 1, max(0, days * bar_width // span))

    axis = view.axis_from + view.axis_to.rjust(bar_width - len(view.axis_from))
    if len(view.axis_from) + len(view.axis_to) >= bar_width:
        axis = view.axis_from
    legend = (
        f"{_BAR_PLAN} planned window   {_BAR_RAN} ran   {_BAR_LATE} ran past the due date   "
        f"{_BAR_PAUSED} paused"
    )
    table = _table(f"Plan versus actual, as of {view.today}", caption=legend)
    # The clock's label gives way first, then the result wraps: its status word stays whole.
    table.add_column("Clock", ratio=1, overflow="fold")
    if show_window:
        table.add_column("Planned window", no_wrap=True)
    table.add_column(Text(axis), no_wrap=True, min_width=bar_width)
    table.add_column("Result", min_width=result_width)
    for bar in view.bars:
        style = STATUS_STYLE.get(bar.status, "")
        cells: list[RenderableType] = [literal(_bar_label(bar))]
        if show_window:
            cells.append(Text(f"{bar.planned_from} → {bar.planned_to or '?'}"))
        cells += [_bar(bar, bar_width, column), Text(bar.result, style)]
        table.add_row(*cells)
    return table


def _bar_label(bar: ChartBar) -> str:
    return bar.label if bar.run == 1 else f"{bar.label} ({bar.run})"


def _bar(bar: ChartBar, width: int, column: Any) -> Text:
    cells: list[tuple[str, str]] = [(" ", "")] * width

    def paint(start: str, end: str, glyph: str, style: str) -> None:
        for i in range(column(start), column(end) + 1):
            cells[i] = (glyph, style)

    ran_style = "green" if bar.status in ("met", "running", "restarted") else ""
    if bar.status == "due_soon":
        ran_style = "yellow"
    if bar.planned_to:
        paint(bar.planned_from, bar.planned_to, _BAR_PLAN, "dim")
    paint(bar.actual_from, bar.actual_to, _BAR_RAN, ran_style)
    if bar.overrun and bar.planned_to:
        first_late = min(column(bar.planned_to) + 1, column(bar.actual_to))
        for i in range(first_late, column(bar.actual_to) + 1):
            cells[i] = (_BAR_LATE, "bold red")
    for start, end in bar.pauses:
        paint(start, end, _BAR_PAUSED, "cyan")
    text = Text(no_wrap=True)
    for glyph, style in cells:
        text.append(glyph, style)
    return text


# ------------------------------------------------------------------------------------
# explain
# ------------------------------------------------------------------------------------


def explanation(facts: ClockExplanation, as_json: bool) -> None:
    from casereview.presenters import explain as explain_words

    view = explain_words.present(facts)
    if as_json:
        print_json_data(explain_words.explanation_json(view))
        return
    console = out()
    heading = Text(f"Case {view.ref} · ", style="bold") + literal(view.pseudonym)
    heading.append(f" · {view.label} ({view.clock_id})", style="bold")
    console.print(heading)
    status = Text(f"{view.kind} clock, {view.state} · ") + status_text(view.status)
    status.append(f" as of {view.today}")
    console.print(status)
    console.print()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column()
    for name, value in explain_words.facts_table(view):
        grid.add_row(name, Text(value))
    console.print(grid)
    console.print()
    if view.calculation is not None:
        from casereview.cli.render import workdays as workdays_render

        workdays_render.explained(view.calculation, as_json=False)
        if view.calculation_text and not view.calculation_text.startswith(
            view.calculation.summary()
        ):
            say(view.calculation_text)
    else:
        say(view.calculation_text)
    for note in view.notes:
        say(note)
    if view.pauses:
        console.print()
        console.print(Text("Pauses", style="bold"))
        for pause in view.pauses:
            say("  " + explain_words.pause_line(pause))
    if view.moves:
        console.print()
        console.print(Text("Re-projections", style="bold"))
        for move in view.moves:
            say("  " + explain_words.move_line(move, view.anchor_field))
    if view.corrections:
        console.print()
        console.print(Text("Corrections", style="bold"))
        for step in view.corrections:
            console.print(Text("  ") + literal(step.text))
    if view.earlier_runs:
        console.print()
        say(explain_words.earlier_runs_line(view))
    if view.outcome:
        console.print()
        say(view.outcome + ".")
