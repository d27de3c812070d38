"""casereview's own tracker layout: the workbook `case list` writes with its xlsx
option, which `import cases` reads back without a mapping.

The workbook has two sheets. "Cases" is the tracker a business unit reads: one row per
case, a column per field (personal fields left out) and, per clock, its due date and
status, dates as real dates and rows coloured by the most urgent clock. "History" is
what carries a case over: one row per step of every case (reference, seq, trigger, the
day it happened, who decided it, rationale, fields as JSON), so importing the workbook
into an empty database replays the same steps through the same checks and ends with
the same cases, states, fact dates and clocks. Cases with corrections, undos or voids
are listed but not carried over (their history is more than a list of steps).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from casereview.domain import clocks
from casereview.domain.clocks import OPEN_TRIGGER
from casereview.domain.imports import SOURCE_FIELD, source_mark
from casereview.domain.replay import PSEUDONYM, is_amending
from casereview.formats import xlsx
from casereview.formats.spreadsheet import DateProblem, Sheet, cell_text, read_date
from casereview.services.access import require_reader
from casereview.services.bulk import CaseScript, Step
from casereview.services.context import ServiceContext
from casereview.services.imports_rows import Problem, RowScript

CASES_SHEET, HISTORY_SHEET = "Cases", "History"
HISTORY_COLUMNS = (
    "ref",
    "workflow",
    "seq",
    "trigger",
    "occurred_on",
    "decided_by",
    "rationale",
    "fields",
)
_URGENCY = ("overdue", "due_soon", "running", "paused", "missed", "met")


def tracker_tables(
    ctx: ServiceContext,
    *,
    state: str | None = None,
    closed: bool | None = None,
    voided: bool = False,
    workflow: str | None = None,
) -> list[xlsx.Table]:
    """The "Cases" and "History" sheets of the cases `case list` would list."""
    from casereview.services import filters
    from casereview.store import event_log, projections

    only = filters.workflow(ctx, workflow) if workflow is not None else None

    today = ctx.clock.today()
    case_rows: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    field_columns: dict[str, xlsx.Column] = {}
    clock_ids: dict[str, str] = {}
    with ctx.db().reading() as conn:
        require_reader(ctx, conn)
        for case in projections.list_cases(
            conn, state=state, closed=closed, voided=voided, workflow=only
        ):
            definition = ctx.registry.get_exact(
                str(case["workflow_id"]), int(case["workflow_version"]), str(case["workflow_hash"])
            )
            personal = definition.personal_field_ids
            row: dict[str, Any] = {
                "ref": case["ref"],
                "pseudonym": case["pseudonym"],
                "workflow": f"{case['workflow_id']} v{case['workflow_version']}",
                "state": case["state"],
                "closed": bool(case["closed"]),
                "opened_on": case["opened_on"],
                "last_event_on": case["last_event_on"],
            }
            for name, value in json.loads(case["fields"]).items():
                if name in personal or name == SOURCE_FIELD:
                    continue
                spec = definition.fields_by_id.get(name)
                kind = "date" if spec is not None and spec.type == "date" else "text"
                field_columns.setdefault(
                    name, xlsx.Column(name, spec.label if spec else name, kind)
                )
                row[name] = value
            worst = len(_URGENCY)
            for clock in projections.clocks_of(conn, int(case["id"])):
                status = _status(clock, today)
                clock_ids.setdefault(str(clock["clock_id"]), str(clock["label"]))
                row[f"{clock['clock_id']}:due"] = clock["due_on"]
                row[f"{clock['clock_id']}:status"] = status
                if status in _URGENCY:
                    worst = min(worst, _URGENCY.index(status))
            row["status"] = _URGENCY[worst] if worst < len(_URGENCY) else ""
            case_rows.append(row)
            for event in event_log.iter_events(conn, case_id=int(case["id"])):
                fields = {
                    k: v
                    for k, v in json.loads(event["fields"] or "{}").items()
                    if k not in personal and k != SOURCE_FIELD
                }
                actor, behalf = event["actor"], event["on_behalf_of"]
                history.append(
                    {
                        "ref": case["ref"],
                        "workflow": f"{case['workflow_id']}@{case['workflow_version']}",
                        "seq": int(event["seq"]),
                        "trigger": event["trigger"],
                        "occurred_on": event["occurred_on"],
                        "decided_by": behalf or actor,
                        "rationale": event["rationale"],
                        "fields": json.dumps(fields, sort_keys=True, ensure_ascii=False),
                    }
                )
    columns = [
        xlsx.Column("ref", "ref"),
        xlsx.Column("pseudonym", "pseudonym"),
        xlsx.Column("workflow", "workflow"),
        xlsx.Column("state", "state"),
        xlsx.Column("closed", "closed"),
        xlsx.Column("opened_on", "opened on", "date"),
        xlsx.Column("last_event_on", "last event on", "date"),
        xlsx.Column("status", "most urgent clock"),
        *field_columns.values(),
    ]
    for clock_id, label in clock_ids.items():
        columns.append(xlsx.Column(f"{clock_id}:due", f"{label} due", "date"))
        columns.append(xlsx.Column(f"{clock_id}:status", f"{label} status"))
    history_columns = [
        xlsx.Column(
            name, name, "date" if name == "occurred_on" else "number" if name == "seq" else "text"
        )
        for name in HISTORY_COLUMNS
    ]
    return [
        xlsx.Table(CASES_SHEET, columns, case_rows, status_key="status"),
        xlsx.Table(HISTORY_SHEET, history_columns, history),
    ]


def _status(clock: Any, today: dt.date) -> str:
    def day(value: Any) -> dt.date | None:
        return dt.date.fromisoformat(str(value)) if value else None

    state = str(clock["state"])
    due_on, stopped_on = day(clock["due_on"]), day(clock["stopped_on"])
    if state == "stopped":
        return "met" if due_on is None or stopped_on is None or stopped_on <= due_on else "missed"
    if state == "paused":
        return "paused"
    return clocks.status_of_running(
        due_on, day(clock["warn_from"]), bool(clock["ends_on_due"]), today
    )


# -- reading it back -----------------------------------------------------------------------


def is_own_layout(history: Sheet) -> bool:
    """Whether a History sheet is one the case list workbook wrote (by its header)."""
    if not history.rows:
        return False
    return tuple(cell_text(c) for c in history.rows[0][: len(HISTORY_COLUMNS)]) == HISTORY_COLUMNS


@dataclass
class OwnLayout:
    scripts: list[RowScript]
    problems: list[Problem]
    rows: int  # cases


def scripts_from_history(history: Sheet, sha256: str, account: str) -> OwnLayout:
    """One script per case of the History sheet; amended cases are problems."""
    by_ref: dict[str, list[tuple[int, list[Any]]]] = {}
    for at, cells in enumerate(history.rows[1:], start=2):
        values = [cell_text(c) for c in cells]
        if not any(values):
            continue
        by_ref.setdefault(values[0], []).append((at, list(cells)))
    scripts: list[RowScript] = []
    problems: list[Problem] = []
    for ref, rows in by_ref.items():
        try:
            scripts.append(_script(ref, rows, sha256, account, history.name))
        except _RowProblem as exc:
            problems.append(
                Problem(history.name, exc.row, exc.column, exc.value, exc.what, exc.fix)
            )
    return OwnLayout(scripts, problems, len(by_ref))


class _RowProblem(Exception):
    def __init__(self, row: int, column: str, value: str, what: str, fix: str) -> None:
        super().__init__(what)
        self.row, self.column, self.value, self.what, self.fix = row, column, value, what, fix


def _script(
    ref: str, rows: list[tuple[int, list[Any]]], sha256: str, account: str, sheet: str
) -> RowScript:
    at = {name: i for i, name in enumerate(HISTORY_COLUMNS)}

    def cell(cells: list[Any], name: str) -> Any:
        index = at[name]
        return cells[index] if index < len(cells) else ""

    first_row, first = rows[0]
    if cell_text(cell(first, "trigger")) != OPEN_TRIGGER:
        raise _RowProblem(
            first_row,
            "trigger",
            cell_text(cell(first, "trigger")),
            "a case's history must begin with its opening",
            "keep every row of the case's history, in order",
        )
    steps: list[Step] = []
    origins: list[tuple[str, str]] = []
    opening: dict[str, Any] = {}
    opened_on = dt.date.min
    for number, (row, cells) in enumerate(rows):
        trigger = cell_text(cell(cells, "trigger"))
        if is_amending(trigger):
            raise _RowProblem(
                row,
                "trigger",
                trigger,
                "a case with corrections, undos or voids is not carried over",
                "leave the case out, or enter it by hand",
            )
        try:
            on = read_date(cell(cells, "occurred_on"), ())
            fields = json.loads(cell_text(cell(cells, "fields")) or "{}")
        except (DateProblem, ValueError) as exc:
            raise _RowProblem(
                row,
                "occurred_on",
                cell_text(cell(cells, "occurred_on")),
                str(exc),
                "keep the History sheet as casereview wrote it",
            ) from None
        values = {k: _as_text(v) for k, v in dict(fields).items()}
        origins.append(("History", f"{trigger} {on.isoformat()}"))
        if number == 0:
            opening, opened_on = values, on
            continue
        decided = cell_text(cell(cells, "decided_by")) or None
        steps.append(
            Step(
                trigger,
                on,
                values,
                cell_text(cell(cells, "rationale")) or None,
                None if decided == account else decided,
            )
        )
    aware = opening.pop("aware_on", None)
    pseudonym = opening.pop(PSEUDONYM, None)
    try:
        aware_on = dt.date.fromisoformat(aware) if aware else opened_on
    except ValueError:
        raise _RowProblem(
            first_row,
            "fields",
            str(aware),
            "aware_on is not a date",
            "keep the History sheet as casereview wrote it",
        ) from None
    return RowScript(
        first_row,
        CaseScript(
            ref,
            aware_on,
            opening,
            tuple(steps),
            opened_on,
            pseudonym,
            workflow=cell_text(cell(first, "workflow")),
            source=source_mark(sha256, sheet, first_row),
        ),
        origins,
    )


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
