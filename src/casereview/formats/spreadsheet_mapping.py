"""The mapping of a tracker's columns to a workflow: reading it, and its template.

A mapping is a TOML file (`casereview import template` writes a commented one for a
workflow). It names the sheet and the date formats the sheet uses, the columns that
open each case (reference, pseudonym, the day the subject became known, opening
fields), the sheet's words and the workflow values they stand for, and the steps: each
a trigger with the column holding the day it happened, the columns (or fixed values)
of its fields, and whose decision it records. docs/import.md explains every key.

Column names are matched ignoring case and runs of spaces; so are the words of a value
map. Pure: TOML text in, a `Mapping` (or InvalidInput naming the key) out.
"""

from __future__ import annotations

import tomllib
from collections import deque
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass, field
from typing import Any

from casereview.domain.workflow.model import IDENTITY_FIELDS, WorkflowDefinition
from casereview.errors import InvalidInput
from casereview.formats.spreadsheet import DATE_FORMATS, DAY_FIRST


def norm(text: str) -> str:
    """A column name or sheet word as it is matched: case and spacing ignored."""
    return " ".join(str(text).split()).casefold()


@dataclass(frozen=True)
class Condition:
    """A step applies only when `column` holds one of `values` (after the value map)."""

    column: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class StepMap:
    trigger: str
    date: str  # the column holding the day the step happened; blank: not (yet) happened
    fields: dict[str, str] = field(default_factory=dict)  # field id -> column
    set: dict[str, str] = field(default_factory=dict)  # field id -> fixed value
    on_behalf_of: str | None = None
    rationale: str | None = None
    rationale_column: str | None = None
    when: Condition | None = None
    optional: bool = False  # may be blank while a later step has a date


@dataclass(frozen=True)
class NotesMap:
    column: str
    trigger: str
    field: str


@dataclass(frozen=True)
class Mapping:
    workflow: str | None
    sheet: str | None
    header_row: int | None
    date_formats: tuple[str, ...]
    ref: str
    aware_on: str
    pseudonym: str | None = None
    opened_on: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    set: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # norm column -> words
    people: dict[str, str] = field(default_factory=dict)  # role -> username
    steps: tuple[StepMap, ...] = ()
    notes: NotesMap | None = None

    def columns(self) -> list[str]:
        """Every column the mapping names, in the order it names them (each once, as
        first spelled)."""
        seen: dict[str, str] = {}
        for name in self.spellings():
            seen.setdefault(norm(name), name)
        return list(seen.values())

    def spellings(self) -> list[str]:
        """Every column name as the mapping writes it, each place it does."""
        named = [self.ref, self.aware_on]
        named += [c for c in (self.pseudonym, self.opened_on) if c]
        named += list(self.fields.values())
        for step in self.steps:
            named.append(step.date)
            named += list(step.fields.values())
            if step.rationale_column:
                named.append(step.rationale_column)
            if step.when:
                named.append(step.when.column)
        if self.notes:
            named.append(self.notes.column)
        return named


def _bad(where: str, what: str) -> InvalidInput:
    return InvalidInput(f"the mapping's {where}: {what}")


def _text(table: AnyMapping[str, Any], key: str, where: str, *, required: bool = False) -> Any:
    value = table.get(key)
    if value is None:
        if required:
            raise _bad(where, f"{key} is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        raise _bad(where, f"{key} must be a non-empty string")
    return value.strip()


def _strings(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(where, "must be a table of names to strings")
    out: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, bool):
            item = "yes" if item else "no"
        if not isinstance(item, str | int):
            raise _bad(where, f"{key} must be a string")
        out[str(key)] = str(item)
    return out


def _check_keys(table: AnyMapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise _bad(where, f"unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")


def parse(text: str) -> Mapping:
    """The mapping in `text`; InvalidInput naming the first key that is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"the mapping is not valid TOML: {exc}") from None
    _check_keys(data, {"workflow", "sheet", "case", "values", "people", "steps", "notes"}, "top")
    sheet = data.get("sheet") or {}
    if not isinstance(sheet, dict):
        raise _bad("[sheet]", "must be a table")
    _check_keys(sheet, {"name", "header_row", "date_formats"}, "[sheet]")
    header_row = sheet.get("header_row")
    if header_row is not None and (
        not isinstance(header_row, int) or isinstance(header_row, bool) or header_row < 1
    ):
        raise _bad("[sheet]", "header_row must be a row number (1 or more)")
    formats = sheet.get("date_formats", [])
    if isinstance(formats, str):
        formats = [formats]
    if not isinstance(formats, list) or any(f not in DATE_FORMATS for f in formats):
        raise _bad("[sheet]", f"date_formats must list {' and/or '.join(DATE_FORMATS)}")
    case = data.get("case")
    if not isinstance(case, dict):
        raise _bad("[case]", "is missing (it names at least the ref and aware_on columns)")
    _check_keys(case, {"ref", "pseudonym", "aware_on", "opened_on", "fields", "set"}, "[case]")
    opening = _strings(case.get("fields"), "[case] fields")
    for name in opening:
        if name in IDENTITY_FIELDS or name == "aware_on":
            raise _bad("[case] fields", f"{name} is its own key of [case], not a field")
    values_table = data.get("values") or {}
    if not isinstance(values_table, dict):
        raise _bad("[values]", "must be a table of columns")
    values: dict[str, dict[str, str]] = {}
    for column, words in values_table.items():
        given = _strings(words, f"[values.{column!r}]")
        values[norm(column)] = {norm(word): value for word, value in given.items()}
    steps = data.get("steps") or []
    if not isinstance(steps, list):
        raise _bad("[[steps]]", "must be an array of tables")
    notes = data.get("notes")
    notes_map = None
    if notes is not None:
        if not isinstance(notes, dict):
            raise _bad("[notes]", "must be a table")
        _check_keys(notes, {"column", "trigger", "field"}, "[notes]")
        notes_map = NotesMap(
            _text(notes, "column", "[notes]", required=True),
            _text(notes, "trigger", "[notes]", required=True),
            _text(notes, "field", "[notes]", required=True),
        )
    return Mapping(
        workflow=_text(data, "workflow", "top"),
        sheet=_text(sheet, "name", "[sheet]"),
        header_row=header_row,
        date_formats=tuple(formats),
        ref=_text(case, "ref", "[case]", required=True),
        aware_on=_text(case, "aware_on", "[case]", required=True),
        pseudonym=_text(case, "pseudonym", "[case]"),
        opened_on=_text(case, "opened_on", "[case]"),
        fields=opening,
        set=_strings(case.get("set"), "[case] set"),
        values=values,
        people=_strings(data.get("people"), "[people]"),
        steps=tuple(_step(step, number) for number, step in enumerate(steps, start=1)),
        notes=notes_map,
    )


def _step(table: Any, number: int) -> StepMap:
    where = f"step {number}"
    if not isinstance(table, dict):
        raise _bad(where, "must be a table")
    _check_keys(
        table,
        {
            "trigger",
            "date",
            "fields",
            "set",
            "on_behalf_of",
            "rationale",
            "rationale_column",
            "when",
            "optional",
        },
        where,
    )
    when = table.get("when")
    condition = None
    if when is not None:
        if not isinstance(when, dict) or set(when) != {"column", "in"}:
            raise _bad(where, 'when is { column = "…", in = ["…", …] }')
        words = when["in"] if isinstance(when["in"], list) else [when["in"]]
        condition = Condition(
            _text(when, "column", where, required=True), tuple(norm(str(w)) for w in words)
        )
    optional = table.get("optional", False)
    if not isinstance(optional, bool):
        raise _bad(where, "optional is true or false")
    return StepMap(
        trigger=_text(table, "trigger", where, required=True),
        date=_text(table, "date", where, required=True),
        fields=_strings(table.get("fields"), f"{where} fields"),
        set=_strings(table.get("set"), f"{where} set"),
        on_behalf_of=_text(table, "on_behalf_of", where),
        rationale=_text(table, "rationale", where),
        rationale_column=_text(table, "rationale_column", where),
        when=condition,
        optional=optional,
    )


# -- the template ------------------------------------------------------------------------


def _triggers_in_order(definition: WorkflowDefinition) -> list[str]:
    """The workflow's triggers in the order a case meets them: breadth first from the
    initial state, then any left (those that fire from every state) last."""
    order: list[str] = []
    seen_states = {definition.initial_state}
    queue = deque([definition.initial_state])
    while queue:
        state = queue.popleft()
        for trigger in definition.triggers:
            if trigger.from_any or state not in trigger.from_:
                continue
            if trigger.id not in order:
                order.append(trigger.id)
            target = trigger.destination_from(state)
            if target not in seen_states:
                seen_states.add(target)
                queue.append(target)
    order += [t.id for t in definition.triggers if t.id not in order]
    return order


def template(definition: WorkflowDefinition) -> str:
    """A commented mapping for `definition`: every key explained, the opening columns
    filled in with the fields' labels, one commented-out step per trigger."""
    lines = [
        f"# casereview import mapping for {definition.label}",
        "# Fill in the column names of your sheet (as in its header row; case and spacing",
        "# do not matter), uncomment the steps your sheet records, and check it with",
        "#   casereview import cases TRACKER.xlsx --mapping THIS.toml --dry-run",
        "# See docs/import.md.",
        "",
        f'workflow = "{definition.id}"',
        "",
        "[sheet]",
        '# name = "Tracker"        # the sheet to read (default: the first)',
        "# header_row = 2          # the row of column names (default: the first row that",
        "#                         # holds the reference column)",
        "# How the sheet writes dates as numbers: dd/mm/yyyy (UK) or mm/dd/yyyy. Real date",
        "# cells, 2025-04-03 and 3 April 2025 need no declaration. Without one, a date such",
        "# as 03/04/2025 that could be read both ways is refused, never guessed.",
        f'date_formats = ["{DAY_FIRST}"]',
        "",
        "[case]",
        'ref = "Case reference"    # unique; a case already in the database is refused',
        '# pseudonym = "Pseudonym" # default: the next free "Child A", "Child B", ...',
    ]
    aware = definition.fields_by_id.get("aware_on")
    lines.append(f'aware_on = "{aware.label if aware else "Date aware"}"')
    lines.append('# opened_on = "Date opened"  # default: the aware_on date')
    lines.append("[case.fields]               # field = column, given when the case is opened")
    for spec in definition.fields:
        if spec.id in IDENTITY_FIELDS or spec.id == "aware_on" or spec.scope != "case":
            continue
        kind = spec.type + (f": {', '.join(spec.choices)}" if spec.choices else "")
        required = "  (required)" if spec.required_at_open else ""
        prefix = "" if spec.required_at_open else "# "
        lines.append(f'{prefix}{spec.id} = "{spec.label}"  # {kind}{required}')
    lines += [
        "",
        '# The sheet\'s words for workflow values, per column: "sheet word" = "value".',
        '# [values."Decision"]',
        '# "Yes - LCSPR" = "..."',
        '# "NFA" = "..."',
        "",
        "# Who decided the steps the importing user records on their behalf: role = user.",
        "[people]",
    ]
    for role in definition.roles:
        lines.append(f'# {role.id} = "username"   # {role.label}')
    lines += [
        "",
        "# The steps, in the order they happen. A step happened when its date column is",
        "# filled in; a row stops where its dates stop, leaving the case open there.",
        "#   date          the column holding the day it happened",
        "#   fields        field = column;  set: field = fixed value",
        "#   on_behalf_of  the user who decided it (default: from [people] by role)",
        "#   rationale     fixed text, or rationale_column; default where one is needed:",
        '#                 "imported, no rationale recorded"',
        '#   when          { column = "Decision", in = ["value", ...] }: only on those rows',
        "#   optional      true: may be blank while a later step has a date",
    ]
    for trigger_id in _triggers_in_order(definition):
        trigger = definition.trigger(trigger_id)
        lines += ["", f"# {trigger.label}: {', '.join(trigger.from_)} -> {trigger.to or 'same'}"]
        lines.append("# [[steps]]")
        lines.append(f'# trigger = "{trigger.id}"')
        lines.append(f'# date = "{trigger.label} on"')
        needs = [f for f in trigger.requires if f not in trigger.defaults]
        if needs:
            spelled = ", ".join(
                f'{name} = "{definition.fields_by_id[name].label}"'
                for name in needs
                if name in definition.fields_by_id
            )
            lines.append(f"# fields = {{ {spelled} }}")
        lines.append(f"# decided by: {', '.join(trigger.roles)}")
    return "\n".join(lines) + "\n"
