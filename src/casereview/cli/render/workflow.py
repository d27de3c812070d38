"""Rendering for `casereview workflow …`: tables for people, JSON with stable keys for scripts.

Every string that came from a workflow file (labels, descriptions, sources) goes through
`literal`, so markup-like text in a file is shown as written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table
from rich.text import Text

from casereview.cli.render.console import info, literal, out, print_json_data, print_line
from casereview.cli.streams import DataOut

if TYPE_CHECKING:
    from casereview.domain.workflow.diff import WorkflowDiff
    from casereview.domain.workflow.lint import Report
    from casereview.domain.workflow.model import WorkflowDefinition
    from casereview.services.workflows import InstallResult, ListedWorkflow

HASH_PREFIX = 12


def _join(items: Iterable[str], empty: str = "—") -> str:
    text = ", ".join(items)
    return text or empty


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    for number, column in enumerate(columns):
        # The first column holds ids, which must stay whole to be copied and typed.
        table.add_column(column, no_wrap=number == 0, overflow="fold")
    return table


# -- list ---------------------------------------------------------------------------------


_STATUS_WORDS = {
    "installed": "installed",
    "installed_no_file": "installed; no file here (the database's copy is used)",
    "differs": "installed; the file here differs (refused)",
    "not_installed": "not installed",
    "in_use_not_installed": "in use by cases, never installed",
}


def list_json(entries: Sequence[ListedWorkflow]) -> None:
    print_json_data(
        [
            {
                "id": e.workflow_id,
                "version": e.version,
                "title": e.title,
                "content_hash": e.content_hash,
                "file": e.file,
                "directory": e.directory,
                "status": e.status,
                "installed_seq": e.installed_seq,
            }
            for e in entries
        ]
    )


def list_table(entries: Sequence[ListedWorkflow]) -> None:
    """One row per (id, version): installed ones, then files found but not installed;
    the status words say which (docs/workflows.md, "Installing")."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for column in ("id", "version", "status", "hash", "from", "title"):
        # Ids and hash prefixes stay whole, to be copied and typed; prose wraps.
        table.add_column(
            column,
            no_wrap=column in ("id", "hash"),
            overflow="fold",
            min_width={"status": 13, "from": 9, "title": 10}.get(column),
        )
    for e in entries:
        table.add_row(
            literal(e.workflow_id),
            str(e.version),
            _STATUS_WORDS[e.status],
            e.content_hash[:HASH_PREFIX],
            literal(e.directory or "—"),
            literal(e.title or "—"),
        )
    out().print(table)


def installed(result: InstallResult) -> None:
    i = result.installed
    info(
        f"Installed workflow {i.workflow_id} v{i.version} ({i.title}) from {result.file}: "
        f"sha256 {i.definition_hash[:HASH_PREFIX]}…, event {i.installed_seq}. "
        "New cases on it can be opened now."
    )


# -- show ---------------------------------------------------------------------------------


def definition_json(definition: WorkflowDefinition) -> dict[str, Any]:
    """The definition in the file's own keys, plus its identity (documented in
    docs/workflows.md: keys are stable)."""
    body = definition.model_dump(mode="json", by_alias=True)
    head = {
        "id": body.pop("id"),
        "version": body.pop("version"),
        "content_hash": definition.content_hash,
        "file": definition.source,
    }
    return head | body


def show_json(definition: WorkflowDefinition) -> None:
    print_json_data(definition_json(definition))


def show(definition: WorkflowDefinition) -> None:
    d = definition
    console = out()
    heading = Text()
    heading.append(f"{d.id} v{d.version}", style="bold")
    heading.append("  ")
    heading.append_text(literal(d.title))
    console.print(heading)
    console.print(Text(f"sha256 {d.content_hash}"))
    if d.source:
        console.print(literal(d.source))
    anchors = "".join(f"; {name} = {a.field}" for name, a in d.settings.anchors.items())
    console.print(
        literal(
            f"opened by {_join(d.open_roles)} in {d.initial_state}; "
            f"day zero: {d.settings.day_zero}; calendar: {d.settings.calendar}{anchors}"
        )
    )
    console.print()

    states = _table("States", "state", "label", "")
    for s in d.states:
        states.add_row(literal(s.id), literal(s.label), "terminal" if s.terminal else "")
    console.print(states)
    console.print()

    # Two columns (id, then one line per detail) stay readable in an 80-column terminal.
    triggers = _table("Triggers", "trigger", "")
    for t in d.triggers:
        source = "any open state" if t.from_any else ", ".join(t.from_)
        lines = [f"{source} → {t.to or '(same state)'}", f"roles: {', '.join(t.roles)}"]
        if t.requires:
            shown = [f"{f} (default {t.defaults[f]})" if f in t.defaults else f for f in t.requires]
            lines.append(f"requires: {', '.join(shown)}")
        if t.optional:
            lines.append(f"optional: {', '.join(t.optional)}")
        lines += [f"only if {g.describe()}" for g in t.guards]
        if t.rationale_required:
            lines.append("rationale required")
        if t.signs:
            lines.append("signs the approval round collected in its state")
        lines += [f"clears approval round {r.id}" for r in d.rounds_cleared_by(t.id)]
        triggers.add_row(literal(t.id), literal("\n".join(lines)))
    console.print(triggers)
    console.print()

    clocks = _table("Clocks", "clock", "")
    for c in d.clocks:
        rule = c.rule()
        if c.anchor.setting is not None:
            rule += f" (now {d.anchor_field(c)})"
        lines = [f"{c.kind}: {rule}", f"starts on {_join(c.start_on)}"]
        lines.append(f"stops on {_join(c.stop_on)}" if c.ends == "on_stop" else "ends when due")
        if c.pause_in:
            lines.append(f"paused in {_join(c.pause_in)}")
        if c.reproject_on:
            lines.append(f"moves when {_join(c.reproject_on)} changes")
        if c.warn_within:
            lines.append(f"due soon from {c.warn_within} working days before")
        if c.status_note:
            lines.append(c.status_note)
        clocks.add_row(literal(c.id), literal("\n".join(lines)))
    console.print(clocks)
    console.print()

    if d.approval_rounds:
        rounds = _table("Approval rounds", "round", "agencies", "signed in", "cleared by")
        for r in d.approval_rounds:
            cleared = [t.id for t in d.triggers if r in d.rounds_cleared_by(t.id)]
            rounds.add_row(
                literal(r.id),
                literal(_join(r.agencies)),
                literal(
                    f"{_join(r.collect_in, 'any state')} once opened by {_join(r.opened_by)}"
                    if r.opened
                    else _join(r.collect_in)
                ),
                literal(_join(cleared)),
            )
        console.print(rounds)
    console.print()

    fields = _table("Fields", "field", "type", "label", "")
    for f in d.fields:
        flags = [f"{f.scope} field"] if f.scope == "event" else []
        flags += ["required at open"] if f.required_at_open else []
        flags += ["personal"] if f.personal else []
        kind = f"choice: {', '.join(f.choices)}" if f.type == "choice" else f.type
        fields.add_row(literal(f.id), literal(kind), literal(f.label), ", ".join(flags))
    console.print(fields)
    console.print()

    roles = _table("Roles", "role", "label", "")
    for role in d.roles:
        roles.add_row(
            literal(role.id), literal(role.label), "has agency" if role.has_agency else ""
        )
    console.print(roles)


# -- validate and lint --------------------------------------------------------------------


def reports_json(reports: Sequence[Report]) -> None:
    print_json_data(
        [
            {
                "target": r.target,
                "id": r.key.id if r.key else None,
                "version": r.key.version if r.key else None,
                "content_hash": r.key.content_hash if r.key else None,
                "ok": r.ok,
                "problems": list(r.problems),
            }
            for r in reports
        ]
    )


def reports_text(reports: Sequence[Report], *, clean: str) -> None:
    """Problems one per line on stdout; one line per clean file saying `clean`."""
    for r in reports:
        for problem in r.problems:
            print_line(problem)
        if r.ok:
            key, ident = r.key, ""
            if key is not None:
                ident = f" ({key.id} v{key.version}, sha256 {key.content_hash[:HASH_PREFIX]})"
            print_line(f"{r.target}: {clean}{ident}")


# -- diff -----------------------------------------------------------------------------------

_MARKS = {"added": "+", "removed": "-", "changed": "~"}


def diff_json(result: WorkflowDiff) -> None:
    print_json_data(
        {
            "before": result.before,
            "after": result.after,
            "changes": [
                {
                    "section": c.section,
                    "item": c.item,
                    "change": c.kind,
                    "label": c.label or None,
                    "attributes": [
                        {"name": a.name, "before": a.before, "after": a.after} for a in c.attributes
                    ],
                }
                for c in result.changes
            ],
        }
    )


def _value(value: object) -> str:
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_value(v)}" for k, v in value.items())
    return " ".join(str(value).split())


def _difference(before: object, after: object) -> list[str]:
    """`before → after` as one line; for two lists, a line per item gained (`+ a`) or
    lost (`- b`), which stays readable for long lists such as a workflow's sources."""
    if isinstance(before, list) and isinstance(after, list):
        gained = [f"+ {_value(v)}" for v in after if v not in before]
        lost = [f"- {_value(v)}" for v in before if v not in after]
        return gained + lost or ["same items, new order"]
    return [f"{_value(before)} → {_value(after)}"]


def diff_text(result: WorkflowDiff) -> None:
    """A heading with the counts, then each section's changes: `+` added, `-` removed,
    `~` changed with one `name: before → after` line per key."""
    console = out()
    if not result.changes:
        console.print(literal(f"{result.before} → {result.after}: no differences"))
        return
    counts = ", ".join(f"{result.count(kind)} {kind}" for kind in ("added", "removed", "changed"))
    console.print(literal(f"{result.before} → {result.after}: {counts}"))
    section = None
    for change in result.changes:
        if change.section != section:
            section = change.section
            console.print(literal(section.replace("_", " ")), style="bold")
        head = f"  {_MARKS[change.kind]} {change.item or section}"
        if change.label:
            head += f"  {change.label}"
        console.print(literal(head))
        for attribute in change.attributes:
            lines = _difference(attribute.before, attribute.after)
            if len(lines) == 1:
                console.print(literal(f"      {attribute.name}: {lines[0]}"))
                continue
            console.print(literal(f"      {attribute.name}:"))
            for line in lines:
                console.print(literal(f"        {line}"))


def mermaid(text: str) -> None:
    # Written as is: rich would read "[*]" as markup.
    DataOut().write(text)
