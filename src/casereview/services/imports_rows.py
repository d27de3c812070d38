"""From a tracker's rows to case scripts, and every problem the rows have.

Each row becomes a `bulk.CaseScript`: the opening from the `[case]` columns, then one
step per mapped step whose date column is filled in (and whose `when` holds), in the
mapping's order. What can be judged from the sheet alone is judged here, every problem
of every row at once: dates that are not dates or could be read two ways, dates out of
order or outside the supported range, a step left blank before a later one, a value the
workflow does not know, a reference or pseudonym given twice. The workflow's own checks
(roles, fields, guards, what may follow what) run afterwards on the scripts, in
`services.imports`, through the bulk write path.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from casereview.domain import dates, engine
from casereview.domain.imports import NO_RATIONALE, source_mark
from casereview.domain.workflow.model import WorkflowDefinition
from casereview.errors import CaseReviewError, InvalidInput
from casereview.formats.spreadsheet import DateProblem, Sheet, cell_text, read_date
from casereview.formats.spreadsheet_mapping import Mapping, StepMap, norm
from casereview.services.bulk import CaseScript, Step

HEADER_SEARCH = 30
"""How many rows from the top are searched for the header row when none is named."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a row: where (sheet, row, column, the cell's value), what is
    wrong, and what would fix it."""

    sheet: str
    row: int
    column: str
    value: str
    what: str
    fix: str


@dataclass
class RowScript:
    """A row's script and, for each of its events (the opening first), the column and
    value it came from: a refusal of step N is reported at `origins[N]`."""

    row: int
    script: CaseScript
    origins: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Converted:
    scripts: list[RowScript]
    problems: list[Problem]
    rows: int  # rows that hold a case (blank rows not counted)
    sheet: str = ""


@dataclass(frozen=True)
class _Columns:
    header_row: int
    index: dict[str, int]  # norm(name) -> column index
    names: dict[str, str]  # norm(name) -> the header's own spelling


def find_columns(sheet: Sheet, mapping: Mapping) -> _Columns:
    """The header row and where each mapped column is; InvalidInput naming the columns
    the header does not have."""
    wanted = norm(mapping.ref)
    if mapping.header_row is not None:
        at = mapping.header_row - 1
        if at >= len(sheet.rows):
            raise InvalidInput(
                f"the mapping's header_row {mapping.header_row} is past the sheet's last row "
                f"({len(sheet.rows)})"
            )
    else:
        found = next(
            (
                i
                for i, row in enumerate(sheet.rows[:HEADER_SEARCH])
                if any(norm(cell_text(c)) == wanted for c in row)
            ),
            None,
        )
        if found is None:
            raise InvalidInput(
                f"no header row with the reference column {mapping.ref!r} in the first "
                f"{HEADER_SEARCH} rows of sheet {sheet.name!r}; name it with header_row "
                "under [sheet] in the mapping"
            )
        at = found
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    for column, cell in enumerate(sheet.rows[at]):
        key = norm(cell_text(cell))
        if key and key not in index:
            index[key] = column
            names[key] = cell_text(cell)
    missing = [name for name in mapping.columns() if norm(name) not in index]
    if missing:
        header = ", ".join(repr(n) for n in names.values()) or "no names"
        raise InvalidInput(
            f"sheet {sheet.name!r} has no column {', '.join(map(repr, missing))} in its header "
            f"(row {at + 1}, which holds {header}); correct the mapping's column names"
        )
    return _Columns(at + 1, index, names)


class _Row:
    """One row being read, collecting its problems."""

    def __init__(
        self,
        sheet: Sheet,
        columns: _Columns,
        mapping: Mapping,
        number: int,
        cells: list[Any],
        at: dict[str, int],
    ) -> None:
        self.sheet, self.columns, self.mapping = sheet, columns, mapping
        self.number, self.cells = number, cells
        self.at = at  # the mapping's column names, as written, to their index
        self.texts: dict[str, str] = {}
        self.problems: list[Problem] = []

    def raw(self, column: str) -> Any:
        at = self.at[column]
        return self.cells[at] if at < len(self.cells) else ""

    def text(self, column: str) -> str:
        found = self.texts.get(column)
        if found is None:
            found = self.texts[column] = cell_text(self.raw(column))
        return found

    def name(self, column: str) -> str:
        return self.columns.names[norm(column)]

    def problem(self, column: str, what: str, fix: str, value: str | None = None) -> None:
        shown = self.text(column) if value is None else value
        self.problems.append(
            Problem(self.sheet.name, self.number, self.name(column), shown[:80], what, fix)
        )

    def word(self, column: str) -> str:
        """The cell's text through the column's value map (when it has one)."""
        text = self.text(column)
        words = self.mapping.values.get(norm(column))
        if words and text:
            return words.get(norm(text), text)
        return text

    def date(self, column: str, what: str) -> dt.date | None:
        """The date in `column` (None: blank, or a problem recorded)."""
        if self.text(column) == "":  # read once per cell: a step's date was read as text
            return None
        raw = self.raw(column)
        try:
            day = read_date(raw, self.mapping.date_formats)
            dates.supported(day, what)
        except DateProblem as exc:
            self.problem(column, exc.what, exc.fix)
            return None
        except CaseReviewError as exc:
            self.problem(column, exc.message, "correct the date")
            return None
        return day

    def value(self, definition: WorkflowDefinition, name: str, column: str) -> str | None:
        """A field's value from `column` as the workflow stores it (None: blank or a
        problem recorded)."""
        spec = definition.fields_by_id.get(name)
        if spec is not None and spec.type == "date":
            day = self.date(column, name)
            return None if day is None else day.isoformat()
        text = self.word(column)
        if text == "":
            return None
        try:
            engine.parse_value(definition, name, text)
        except CaseReviewError as exc:
            words = ", ".join(spec.choices) if spec is not None and spec.choices else ""
            fix = (
                f'correct the cell, or map the word under [values."{self.name(column)}"] '
                f"to one of: {words}"
                if words
                else "correct the cell"
            )
            if spec is not None and spec.type == "yes_no":
                fix = (
                    f'correct the cell, or map the word under [values."{self.name(column)}"] '
                    "to yes or no"
                )
            self.problem(column, f"unknown value: {exc.message}", fix)
            return None
        return text


def convert(
    sheet: Sheet,
    mapping: Mapping,
    definition: WorkflowDefinition,
    *,
    sha256: str,
    importer_roles: frozenset[str],
    today: dt.date,
) -> Converted:
    """Every row of `sheet` below the header as a script, and every problem found."""
    columns = find_columns(sheet, mapping)
    scripts: list[RowScript] = []
    problems: list[Problem] = []
    refs: dict[str, int] = {}
    pseudonyms: dict[str, int] = {}
    rows = 0
    where = {name: columns.index[norm(name)] for name in mapping.spellings()}
    for at in range(columns.header_row, len(sheet.rows)):
        cells = sheet.rows[at]
        if all(c == "" or c is None or cell_text(c) == "" for c in cells):
            continue  # a blank row
        rows += 1
        row = _Row(sheet, columns, mapping, at + 1, cells, where)
        script = _row_script(row, definition, sha256, importer_roles, today)
        ref = row.text(mapping.ref)
        if ref:
            if ref.casefold() in refs:
                row.problem(
                    mapping.ref,
                    f"duplicate reference: also on row {refs[ref.casefold()]}",
                    "give each case its own reference, or remove the repeated row",
                )
            else:
                refs[ref.casefold()] = row.number
        if mapping.pseudonym:
            pseudonym = row.text(mapping.pseudonym)
            if pseudonym:
                key = " ".join(pseudonym.split()).casefold()
                if key in pseudonyms:
                    row.problem(
                        mapping.pseudonym,
                        f"duplicate pseudonym: also on row {pseudonyms[key]}",
                        "give each case its own pseudonym",
                    )
                else:
                    pseudonyms[key] = row.number
        problems += row.problems
        if script is not None and not row.problems:
            scripts.append(script)
    return Converted(scripts, problems, rows, sheet.name)


def _row_script(
    row: _Row,
    definition: WorkflowDefinition,
    sha256: str,
    importer_roles: frozenset[str],
    today: dt.date,
) -> RowScript | None:
    mapping = row.mapping
    ref = row.text(mapping.ref)
    if not ref:
        row.problem(mapping.ref, "missing reference", "fill in the case reference")
    aware = row.date(mapping.aware_on, "aware_on")
    if aware is None and row.text(mapping.aware_on) == "":
        row.problem(mapping.aware_on, "missing date", "fill in the date the case became known")
    opened = aware
    if mapping.opened_on is not None:
        opened = row.date(mapping.opened_on, "the opening date") or aware
    fields: dict[str, str] = dict(mapping.set)
    for name, column in mapping.fields.items():
        value = row.value(definition, name, column)
        if value is not None:
            fields[name] = value
    origins = [(mapping.ref, ref)]
    steps: list[Step] = []
    last: tuple[dt.date, str] | None = None
    if opened is not None:
        last = (opened, mapping.opened_on or mapping.aware_on)
        for named, day in ((mapping.aware_on, aware), (mapping.opened_on, opened)):
            if named is not None and day is not None and day > today:
                row.problem(named, f"{day.isoformat()} is in the future", "correct the date")
    blank: StepMap | None = None
    for spec in mapping.steps:
        if spec.when is not None and norm(row.word(spec.when.column)) not in spec.when.values:
            continue
        if row.text(spec.date) == "":
            if not spec.optional and blank is None:
                blank = spec
            continue
        day = row.date(spec.date, "the event date")
        if day is None:
            continue
        if blank is not None:
            row.problem(
                blank.date,
                f"missing date: {row.name(spec.date)} has a date but this earlier step has none",
                f"fill in {row.name(blank.date)}, or mark its step optional in the mapping",
                value="",
            )
            blank = None
        if day > today:
            row.problem(spec.date, f"{day.isoformat()} is in the future", "correct the date")
        if last is not None and day < last[0]:
            row.problem(
                spec.date,
                f"dates out of order: {day.isoformat()} is before {row.name(last[1])} "
                f"({last[0].isoformat()})",
                "correct whichever date is wrong; steps are recorded in the order they happened",
            )
        last = (day, spec.date)
        step = _step(row, definition, spec, day, importer_roles)
        if step is not None:
            steps.append(step)
            origins.append((spec.date, day.isoformat()))
    notes = mapping.notes
    if notes is not None and row.text(notes.column) and last is not None:
        steps.append(
            Step(
                notes.trigger,
                last[0],
                {notes.field: row.text(notes.column)},
                on_behalf_of=_decider(definition, notes.trigger, None, mapping, importer_roles),
            )
        )
        origins.append((notes.column, row.text(notes.column)))
    if row.problems or aware is None or not ref:
        return None
    pseudonym = row.text(mapping.pseudonym) if mapping.pseudonym else ""
    return RowScript(
        row.number,
        CaseScript(
            ref=ref,
            aware_on=aware,
            fields=fields,
            steps=tuple(steps),
            opened_on=opened,
            pseudonym=pseudonym or None,
            workflow=f"{definition.id}@{definition.version}",
            source=source_mark(sha256, row.sheet.name, row.number),
        ),
        origins,
    )


def _step(
    row: _Row,
    definition: WorkflowDefinition,
    spec: StepMap,
    day: dt.date,
    importer_roles: frozenset[str],
) -> Step | None:
    trigger = definition.triggers_by_id.get(spec.trigger)
    if trigger is None:
        row.problem(
            spec.date,
            f"the workflow has no step {spec.trigger!r}",
            "correct the trigger in the mapping; the workflow's are: "
            + ", ".join(t.id for t in definition.triggers),
        )
        return None
    fields = dict(spec.set)
    for name, column in spec.fields.items():
        value = row.value(definition, name, column)
        if value is None:
            if name in trigger.requires and name not in trigger.defaults and not row.text(column):
                row.problem(
                    column,
                    f"missing value: {trigger.id} needs {name}",
                    f"fill in {row.name(column)} (or clear {row.name(spec.date)} if the step "
                    "has not happened)",
                    value="",
                )
            continue
        fields[name] = value
    if trigger.fact_date is not None and trigger.fact_date not in fields:
        fields[trigger.fact_date] = day.isoformat()
    rationale = spec.rationale
    if spec.rationale_column is not None:
        rationale = row.text(spec.rationale_column) or rationale
    if rationale is None and trigger.rationale_required:
        rationale = NO_RATIONALE
    return Step(
        trigger.id,
        day,
        fields,
        rationale,
        _decider(definition, trigger.id, spec.on_behalf_of, row.mapping, importer_roles),
    )


def _decider(
    definition: WorkflowDefinition,
    trigger_id: str,
    named: str | None,
    mapping: Mapping,
    importer_roles: frozenset[str],
) -> str | None:
    """Whose decision a step records: the step's `on_behalf_of`, else none when the
    importing user holds one of the trigger's roles, else the `[people]` entry of the
    first of its roles that has one (none: the engine's refusal names what is missing)."""
    if named is not None:
        return named
    trigger = definition.triggers_by_id.get(trigger_id)
    if trigger is None or not importer_roles.isdisjoint(trigger.roles):
        return None
    return next((mapping.people[r] for r in trigger.roles if r in mapping.people), None)


def fix_for(error: CaseReviewError) -> str:
    """What would fix a refusal of the workflow's own checks."""
    text = error.message
    if "already exists" in text:
        return "the case is already in the database (imported before?): remove the row"
    if "already used by" in text:
        return "give the case a pseudonym no other case has"
    if "needs one of the roles" in text or "on behalf" in text or "no user" in text:
        return "name who decided it: on_behalf_of in the mapping's step, or the role in [people]"
    if "needs" in text:
        return "map the column holding what the step needs (fields or set in the mapping's step)"
    return "correct the row's dates or values, or the mapping's step, so the workflow allows it"


def unwrap(error: CaseReviewError) -> CaseReviewError:
    """The refusal without the bulk path's `step N (trigger): ` prefix."""
    cause = error.__cause__
    return cause if isinstance(cause, CaseReviewError) else error


def refusal_problem(item: RowScript, sheet: str, step: int, error: CaseReviewError) -> Problem:
    """The problem a workflow refusal of `item`'s event `step` (0: the opening) is."""
    column, value = item.origins[min(step, len(item.origins) - 1)]
    plain = unwrap(error)
    return Problem(sheet, item.row, column, value[:80], plain.message, fix_for(plain))
