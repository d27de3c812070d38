"""Output of `casereview due`, `timeline` and `explain`: tables, the chart, JSON and CSV.

Data goes to stdout; the due list's summary line goes to stderr with the other
messages. The JSON keys and CSV columns below are a public contract, documented in
docs/user-guide.md: add keys, never rename or drop them. Text that came from users
(pseudonyms, rationales, notes, field values, account names) always passes through
`literal`, so markup or escape sequences in it print as typed.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from casereview.cli.render.console import info, literal, out, print_json_data, print_line
from casereview.cli.render.status import STATUS_STYLE, STATUS_WORD, status_text
from casereview.domain.clocks import OPEN_TRIGGER

if TYPE_CHECKING:
    # Annotations only: `due` must not import the timeline's service module.
    from casereview.services.dashboard import (
        ChartBar,
        ClockNote,
        DueExplanation,
        DuePassed,
        EventEntry,
        Timeline,
    )
    from casereview.services.due import DueItem, DueList

DUE_COLUMNS = (
    "ref",
    "pseudonym",
    "case_state",
    "clock_id",
    "label",
    "kind",
    "state",
    "status",
    "anchor_on",
    "started_on",
    "due_on",
    "working_days_left",
    "remaining_days",
)
"""The keys of each clock in `due --json`, and the CSV header, in this order."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(cell: str) -> str:
    """A CSV text cell that a spreadsheet will not run as a formula: a cell starting
    with = + - @ tab or carriage return gets a leading apostrophe (OWASP's advice)."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _weekday(iso: str) -> str:
    from casereview.domain.calendar.workdays import weekday_name

    return f"{weekday_name(dt.date.fromisoformat(iso))[:3]} {iso}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


# ------------------------------------------------------------------------------------
# due
# ------------------------------------------------------------------------------------


def due(result: DueList, output: str) -> None:
    """`due`: a table for people (summary on stderr), or JSON, or CSV."""
    if output == "json":
        print_json_data(due_json(result))
        return
    if output == "csv":
        _due_csv(result.items)
        return
    table = _table(f"Open clocks on {_weekday(result.as_of)}")
    for header in ("Case", "Pseudonym", "Case state", "Clock", "Kind", "Due"):
        table.add_column(header, no_wrap=header != "Clock")
    table.add_column("Left", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for item in result.items:
        style = STATUS_STYLE.get(item.status, "")
        # Every cell is a Text: a str cell would be parsed as rich markup.
        table.add_row(
            literal(item.ref),
            literal(item.pseudonym),
            literal(item.case_state),
            literal(item.label),
            literal(item.kind),
            Text(item.due_on or "—"),
            Text("—" if item.working_days_left is None else str(item.working_days_left), style),
            status_text(item.status),
        )
    if result.items:
        _emit(table)
    info(summary_line(result))


def _emit(renderable: RenderableType) -> None:
    """Print a table to stdout. On a terminal (or with COLUMNS set) it fits the width;
    into a pipe or a file it keeps its natural width rather than wrapping at 80."""
    console = out()
    if console.is_terminal or os.environ.get("COLUMNS"):
        console.print(renderable)
        return
    natural = Measurement.get(console, console.options.update_width(1000), renderable).maximum
    if natural <= console.width:
        console.print(renderable)
        return
    Console(file=sys.stdout, width=natural, highlight=False, soft_wrap=False).print(renderable)


def _table(title: str) -> Table:
    """A borderless table with a rule under the header, two spaces between columns."""
    return Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )


def summary_line(result: DueList) -> str:
    s = result.summary
    line = (
        f"{s.overdue} overdue, {s.due_next_5} due in the next 5 working days, "
        f"{s.paused} paused ({_plural(s.open, 'open clock')}"
    )
    if s.shown < s.matching:
        line += f"; the {s.shown} most urgent of {s.matching} shown, --all for every one"
    elif s.matching != s.open:
        line += f"; {s.matching} shown"
    line += "). Left: working days from the as-of date to the due date."
    return line


def due_json(result: DueList) -> dict[str, Any]:
    return {
        "as_of": result.as_of,
        "within": result.within,
        "overdue_only": result.overdue_only,
        "limit": result.limit,
        "summary": dataclasses.asdict(result.summary),
        "clocks": [_due_record(item) for item in result.items],
    }


def _due_record(item: DueItem) -> dict[str, Any]:
    values = dataclasses.asdict(item)
    return {key: values[key] for key in DUE_COLUMNS}


def _due_csv(items: Iterable[DueItem]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(DUE_COLUMNS)
    for item in items:
        record = _due_record(item)
        writer.writerow([_csv_cell(record[key]) for key in DUE_COLUMNS])


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # numbers stay numbers; only text can smuggle a formula
    return formula_safe(str(value))


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


def timeline(view: Timeline, as_json: bool) -> None:
    if as_json:
        print_json_data(timeline_json(view))
        return
    console = out()
    heading = Text(f"Case {view.ref} · ", style="bold") + literal(view.pseudonym)
    console.print(heading)
    closed = " · closed" if view.closed and view.state != "closed" else ""
    console.print(Text(f"{view.state_label} ({view.state}){closed} · as of {_weekday(view.today)}"))
    console.print()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column()
    from casereview.services.dashboard import EventEntry  # loaded already by `timeline`

    for entry in view.entries:
        if isinstance(entry, EventEntry):
            grid.add_row(entry.on, _event_text(entry))
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


def _event_text(entry: EventEntry) -> Text:
    text = Text(entry.trigger_label, style="bold")
    if entry.trigger != OPEN_TRIGGER:
        text.append(f" ({entry.trigger})")
    if entry.from_state and entry.from_state != entry.to_state:
        text.append(f": {entry.from_state} → {entry.to_state}")
    elif entry.from_state is None and entry.to_state:
        text.append(f" → {entry.to_state}")
    who = Text("\nby ") + literal(entry.actor)
    if entry.on_behalf_of:
        who += Text(" for ") + literal(entry.on_behalf_of)
    if entry.role:
        who.append(f" as {entry.role}")
    text.append_text(who)
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
    for note in entry.clocks:
        text.append("\n")
        text.append_text(_note_line(note))
    return text


def _note_line(note: ClockNote) -> Text:
    if note.change == "stopped":
        mark, style = ("✓", "green") if note.status == "met" else ("✗", "red")
    elif note.change == "open":
        word = STATUS_WORD.get(note.status, note.status)
        return Text(f"· {note.text} ") + Text(f"[{word}]", STATUS_STYLE.get(note.status, ""))
    else:
        mark, style = _MARK.get(note.change, ("·", ""))
    return Text(f"{mark} {note.text}", style=style)


def _passed_text(entry: DuePassed) -> Text:
    return Text(f"! {entry.text}", style="red")


def timeline_json(view: Timeline) -> dict[str, Any]:
    data = dataclasses.asdict(view)
    data["entries"] = [{"kind": e.pop("kind"), **e} for e in data["entries"]]
    data["bars"] = [
        {**b, "pauses": [{"from": f, "to": t} for f, t in b["pauses"]]} for b in data["bars"]
    ]
    return data


def chart(view: Timeline, width: int) -> Table:
    """Plan versus actual: one bar per clock run on a shared date axis.

    The planned window (anchor to due date) is shaded; the time the clock actually ran
    (to its stop, or to today) is solid, in red past the due date; pauses are dashed.
    """
    label_width = max(len(_bar_label(b)) for b in view.bars)
    result_width = max(len(b.result) for b in view.bars)
    window_width = len("2026-01-01 → 2026-01-01")
    # Two characters between columns; the bar takes what is left, and on a narrow
    # terminal the planned-window column gives way first.
    show_window = width - label_width - result_width - window_width - 6 >= MIN_BAR
    used = label_width + result_width + (window_width + 6 if show_window else 4)
    bar_width = max(MIN_BAR, min(60, width - used))
    first = dt.date.fromisoformat(view.axis_from)
    last = dt.date.fromisoformat(view.axis_to)
    span = (last - first).days + 1

    def column(iso: str) -> int:
        days = (dt.date.fromisoformat(iso) - first).days
        return min(bar_width - 1, max(0, days * bar_width // span))

    axis = view.axis_from + view.axis_to.rjust(bar_width - len(view.axis_from))
    if len(view.axis_from) + len(view.axis_to) >= bar_width:
        axis = view.axis_from
    table = _table(f"Plan versus actual, as of {view.today}")
    table.caption = (
        f"{_BAR_PLAN} planned window   {_BAR_RAN} ran   {_BAR_LATE} ran past the due date   "
        f"{_BAR_PAUSED} paused"
    )
    table.caption_justify = "left"
    table.add_column("Clock", no_wrap=True)
    if show_window:
        table.add_column("Planned window", no_wrap=True)
    table.add_column(Text(axis), no_wrap=True, min_width=bar_width)
    table.add_column("Result", no_wrap=True)
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


def explanation(view: DueExplanation, as_json: bool) -> None:
    if as_json:
        print_json_data(explanation_json(view))
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
    for name, value in _facts(view):
        grid.add_row(name, value)
    console.print(grid)
    console.print()
    if view.calculation is not None:
        from casereview.cli.render import workdays as workdays_render

        workdays_render.explained(view.calculation, as_json=False)
        if view.calculation_text and not view.calculation_text.startswith(
            view.calculation.summary()
        ):
            print_line(view.calculation_text)
    else:
        print_line(view.calculation_text)
    for note in view.notes:
        print_line(note)
    if view.pauses:
        console.print()
        console.print(Text("Pauses", style="bold"))
        for pause in view.pauses:
            where = f" (case in {pause.paused_in})" if pause.paused_in else ""
            until = f"resumed {pause.resumed_on}" if pause.resumed_on else "not resumed yet"
            left = _plural(
                pause.remaining, "working day" if pause.unit == "working_days" else "day"
            )
            print_line(f"  paused {pause.paused_on}{where}, {until}; {left} left carried over")
    if view.moves:
        console.print()
        console.print(Text("Re-projections", style="bold"))
        for move in view.moves:
            print_line(
                f"  {move.on} {move.trigger}: {view.anchor_field} became {move.anchor_on}; "
                f"due {move.due_from or 'none'} → {move.due_to or 'none'}"
            )
    if view.earlier_runs:
        console.print()
        runs = ", ".join(f"{start} to {end or 'open'}" for start, end in view.earlier_runs)
        print_line(f"Earlier runs of this clock (before it restarted): {runs}.")
    if view.outcome:
        console.print()
        print_line(view.outcome + ".")


def _facts(view: DueExplanation) -> list[tuple[str, Text]]:
    rows: list[tuple[str, Text]] = [("Rule", Text(view.rule))]
    rows.append(("Counting", Text(view.day_zero_text)))
    if view.anchor_field:
        anchor = f"{view.anchor_field} = {_weekday(view.anchor_on) if view.anchor_on else 'unset'}"
        if view.anchor_setting:
            anchor += f" (chosen by the workflow setting {view.anchor_setting})"
        if view.anchor_set_by == OPEN_TRIGGER:
            anchor += f"; set when the case was opened on {view.anchor_set_on}"
        elif view.anchor_set_by:
            anchor += f"; set by {view.anchor_set_by} on {view.anchor_set_on}"
    else:
        when = _weekday(view.anchor_on) if view.anchor_on else "?"
        anchor = f"the date of {view.anchor_event}, {when}"
    rows.append(("Anchor", Text(anchor)))
    started_by = "opening the case" if view.started_by == OPEN_TRIGGER else view.started_by
    rows.append(("Started", Text(f"{view.started_on} by {started_by}")))
    if view.due_on:
        due = _weekday(view.due_on)
        if view.base_due_on and view.base_due_on != view.due_on:
            due += f" (from the anchor alone: {view.base_due_on})"
        if view.warn_from and view.warn_from != view.due_on:
            due += f"; due soon from {view.warn_from}"
        rows.append(("Due", Text(due)))
    if view.stopped_on:
        rows.append(("Stopped", Text(f"{view.stopped_on} by {view.stopped_by}")))
    return rows


def explanation_json(view: DueExplanation) -> dict[str, Any]:
    from casereview.cli.render import workdays as workdays_render

    data = dataclasses.asdict(view)
    data["calculation"] = (
        workdays_render.explanation_json(view.calculation) if view.calculation else None
    )
    data["earlier_runs"] = [{"started_on": s, "ended_on": e} for s, e in view.earlier_runs]
    return data
