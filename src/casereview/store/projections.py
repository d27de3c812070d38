"""The case and clock rows: the projections of each case's events that reads use.

Live writes insert and update one case's rows (`insert_case`, `update_case`,
`replace_clocks`); a bulk import inserts many new cases' rows at once
(`insert_case_rows`, `insert_clock_rows`); `audit verify` streams them by runs of case
ids (`CaseRange`) to compare with what the events produce.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, text

from casereview.domain.chain import canonical_json
from casereview.domain.clocks import ClockSummary
from casereview.store import dialect, write_functions

CASE_COLUMNS = (
    "id",
    "ref",
    "pseudonym",
    "workflow_id",
    "workflow_version",
    "workflow_hash",
    "state",
    "version",
    "fields",
    "approvals",
    "opened_on",
    "closed",
    "last_event_on",
    "last_seq",
    "voided_seq",
    "hold",
    "processes",
    "links",
)

CLOCK_COLUMNS = (
    "clock_id",
    "label",
    "kind",
    "state",
    "anchor_on",
    "due_on",
    "warn_from",
    "started_on",
    "stopped_on",
    "remaining_days",
    "paused_days",
    "ends_on_due",
)

CLOCK_WORKFLOW_COLUMNS = ("workflow_id", "workflow_version")
"""The case's workflow, copied onto each of its clock rows (the due list by workflow's index)."""

CLOCK_ROW_COLUMNS = ("case_id", *CLOCK_WORKFLOW_COLUMNS, *CLOCK_COLUMNS)
"""A clock row's columns: its case's id and workflow, then `CLOCK_COLUMNS`."""

CaseRange = tuple[int | None, int | None]
"""Case ids `lo <= id < hi`; None leaves that side open. (None, None) is every case."""

EVERY_CASE: CaseRange = (None, None)


def case_id_condition(column: str, cases: CaseRange) -> str:
    """The SQL condition for `cases` on `column` ("1 = 1" when unbounded). The bounds
    are ints (checked here), so they can be written into the text."""
    lo, hi = cases
    conditions = [f"{column} >= {int(lo)}"] if lo is not None else []
    if hi is not None:
        conditions.append(f"{column} < {int(hi)}")
    return " AND ".join(conditions) or "1 = 1"


# -- one case ----------------------------------------------------------------------------


def get_case(conn: Connection, ref: str) -> RowMapping | None:
    return (
        conn.execute(text("SELECT * FROM cases WHERE ref = :ref"), {"ref": ref}).mappings().first()
    )


def list_cases(
    conn: Connection,
    *,
    state: str | None = None,
    closed: bool | None = None,
    voided: bool = False,
    workflow: tuple[str, int | None] | None = None,
) -> Sequence[RowMapping]:
    """Case rows by reference; voided cases (opened in error) only with `voided`; of
    one workflow (and version) when given."""
    clauses: list[str] = [] if voided else ["voided_seq IS NULL"]
    params: dict[str, Any] = {}
    if workflow is not None:
        clauses.append("workflow_id = :workflow_id")
        params["workflow_id"] = workflow[0]
        if workflow[1] is not None:
            clauses.append("workflow_version = :workflow_version")
            params["workflow_version"] = workflow[1]
    if state is not None:
        clauses.append("state = :state")
        params["state"] = state
    if closed is not None:
        clauses.append("closed = :closed")
        params["closed"] = closed
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return conn.execute(text(f"SELECT * FROM cases{where} ORDER BY ref"), params).mappings().all()


def running_due_clocks(conn: Connection) -> Sequence[RowMapping]:
    """Every running clock with a due date, by case and then soonest first."""
    return (
        conn.execute(
            text(
                "SELECT case_id, clock_id, label, due_on, warn_from, ends_on_due "
                "FROM case_clocks WHERE state = 'running' AND due_on IS NOT NULL "
                "ORDER BY case_id, due_on, clock_id"
            )
        )
        .mappings()
        .all()
    )


def case_with_pseudonym(conn: Connection, pseudonym: str) -> RowMapping | None:
    """The case row holding `pseudonym` (voided cases keep theirs), or None."""
    return (
        conn.execute(
            text("SELECT * FROM cases WHERE pseudonym = :pseudonym ORDER BY id LIMIT 1"),
            {"pseudonym": pseudonym},
        )
        .mappings()
        .first()
    )


def cases_named(conn: Connection, pseudonym: str) -> Sequence[RowMapping]:
    """Case rows whose pseudonym is `pseudonym`, whatever its letter case, by reference."""
    return (
        conn.execute(
            text("SELECT * FROM cases WHERE lower(pseudonym) = lower(:p) ORDER BY ref"),
            {"p": pseudonym},
        )
        .mappings()
        .all()
    )


def pseudonyms_in_use(conn: Connection) -> set[str]:
    return {str(r[0]) for r in conn.execute(text("SELECT pseudonym FROM cases"))}


def next_case_id(conn: Connection) -> int:
    """The id the next case gets."""
    return int(conn.execute(text("SELECT COALESCE(MAX(id), 0) + 1 FROM cases")).scalar_one())


def hold_json(hold: Any) -> str | None:
    """The `hold` column's text for a case's hold (None: not held)."""
    return None if hold is None else canonical_json(hold)


def processes_json(processes: Any) -> str | None:
    """The `processes` column's text for a case's parallel processes (None: it has none);
    the `links` column's for its links likewise."""
    return canonical_json(processes) if processes else None


def insert_case(conn: Connection, values: dict[str, Any]) -> int:
    values = dict(values)
    values["fields"] = canonical_json(values["fields"])
    values["approvals"] = canonical_json(values["approvals"])
    if "hold" in values:
        values["hold"] = hold_json(values["hold"])
    for column in ("processes", "links"):
        if column in values:
            values[column] = processes_json(values[column])
    values["id"] = case_id = next_case_id(conn)
    if dialect.is_postgres(conn):
        write_functions.insert_rows(conn, "cases", [values])
        return case_id
    names = ", ".join(values)
    params = ", ".join(f":{n}" for n in values)
    conn.execute(text(f"INSERT INTO cases ({names}) VALUES ({params})"), values)
    return case_id


def update_case(
    conn: Connection, case_id: int, expected_version: int, values: dict[str, Any]
) -> bool:
    """Update a case row only if nobody else moved it; False if the version moved on."""
    values = dict(values)
    values["fields"] = canonical_json(values["fields"])
    values["approvals"] = canonical_json(values["approvals"])
    if "hold" in values:
        values["hold"] = hold_json(values["hold"])
    for column in ("processes", "links"):
        if column in values:
            values[column] = processes_json(values[column])
    if dialect.is_postgres(conn):
        return write_functions.update_case(conn, case_id, expected_version, values)
    sets = ", ".join(f"{n} = :{n}" for n in values)
    result = conn.execute(
        text(f"UPDATE cases SET {sets} WHERE id = :case_id AND version = :expected"),
        {**values, "case_id": case_id, "expected": expected_version},
    )
    return result.rowcount == 1


def replace_clocks(
    conn: Connection,
    case_id: int,
    clocks: Iterable[ClockSummary],
    *,
    workflow: tuple[str, int],
) -> None:
    """Replace one case's clock rows; `workflow` is the case's (id, version)."""
    on = dict(zip(CLOCK_WORKFLOW_COLUMNS, workflow, strict=True))
    rows = [
        {"case_id": case_id, **on, **{name: getattr(clock, name) for name in CLOCK_COLUMNS}}
        for clock in clocks
    ]
    if dialect.is_postgres(conn):
        write_functions.replace_rows(conn, "case_clocks", case_id, rows)
        return
    conn.execute(text("DELETE FROM case_clocks WHERE case_id = :id"), {"id": case_id})
    if rows:
        names = ", ".join(CLOCK_ROW_COLUMNS)
        params = ", ".join(f":{n}" for n in CLOCK_ROW_COLUMNS)
        conn.execute(text(f"INSERT INTO case_clocks ({names}) VALUES ({params})"), rows)


def clocks_of(conn: Connection, case_id: int) -> Sequence[RowMapping]:
    return (
        conn.execute(
            text("SELECT * FROM case_clocks WHERE case_id = :id ORDER BY started_on, clock_id"),
            {"id": case_id},
        )
        .mappings()
        .all()
    )


# -- many new cases (a bulk import) ------------------------------------------------------
#
# The same rows `insert_case` and `replace_clocks` write for one case, for a batch of new
# cases at once: one statement each instead of four per case.


def existing_case_refs(conn: Connection, refs: Sequence[str]) -> set[str]:
    """Which of `refs` already have a case row."""
    found: set[str] = set()
    for start in range(0, len(refs), 500):
        chunk = list(refs[start : start + 500])
        marks = ", ".join(f":r{i}" for i in range(len(chunk)))
        found.update(
            str(r[0])
            for r in conn.execute(
                text(f"SELECT ref FROM cases WHERE ref IN ({marks})"),
                {f"r{i}": ref for i, ref in enumerate(chunk)},
            )
        )
    return found


def pseudonyms_since(conn: Connection, after_id: int) -> tuple[int, set[str]]:
    """Pseudonyms of the cases added after case id `after_id`, and the highest id seen.

    For importers that track pseudonyms in use across many transactions: case rows are
    never deleted and a pseudonym never changes, so only new rows need reading.
    """
    rows = conn.execute(
        text("SELECT id, pseudonym FROM cases WHERE id > :after"), {"after": after_id}
    ).all()
    return max((int(r[0]) for r in rows), default=after_id), {str(r[1]) for r in rows}


def insert_case_rows(conn: Connection, values: Sequence[tuple[Any, ...]]) -> None:
    """New case rows: tuples of every column in `CASE_COLUMNS` order (JSON as text)."""
    if dialect.is_postgres(conn):
        rows = [dict(zip(CASE_COLUMNS, v, strict=True)) for v in values]
        write_functions.insert_rows(conn, "cases", rows)
        return
    dialect.insert_rows(conn, "cases", CASE_COLUMNS, values)


def insert_clock_rows(conn: Connection, values: Sequence[tuple[Any, ...]]) -> None:
    """Clock rows of new cases: tuples in `CLOCK_ROW_COLUMNS` order."""
    if dialect.is_postgres(conn):
        rows = [dict(zip(CLOCK_ROW_COLUMNS, v, strict=True)) for v in values]
        write_functions.insert_rows(conn, "case_clocks", rows)
        return
    dialect.insert_rows(conn, "case_clocks", CLOCK_ROW_COLUMNS, values)


# -- every case, in runs of ids (`audit verify`) -----------------------------------------


def case_id_bounds(conn: Connection, parts: int) -> list[int]:
    """Case ids that cut the cases into `parts` runs of about equal size, ascending
    (`parts - 1` of them, fewer if there are few cases)."""
    total = int(conn.execute(text("SELECT COUNT(*) FROM cases")).scalar_one())
    bounds: list[int] = []
    for part in range(1, parts):
        row = conn.execute(
            text("SELECT id FROM cases ORDER BY id LIMIT 1 OFFSET :skip"),
            {"skip": total * part // parts},
        ).first()
        if row is not None and (not bounds or int(row[0]) > bounds[-1]):
            bounds.append(int(row[0]))
    return bounds


def iter_case_rows(conn: Connection, cases: CaseRange = EVERY_CASE) -> Iterator[dict[str, Any]]:
    """The case rows with ids in `cases` (every one by default) in id order, streamed."""
    where = case_id_condition("id", cases)
    return dialect.stream_dicts(conn, f"SELECT * FROM cases WHERE {where} ORDER BY id")


def iter_clock_rows(conn: Connection, cases: CaseRange = EVERY_CASE) -> Iterator[dict[str, Any]]:
    """The clock rows of the case ids in `cases` in (case id, clock id) order, streamed."""
    where = case_id_condition("case_id", cases)
    return dialect.stream_dicts(
        conn, f"SELECT * FROM case_clocks WHERE {where} ORDER BY case_id, clock_id"
    )
