"""Read-side queries for `due`, `timeline` and `explain`: plain SQL over the projections,
and one case's rows.

Run through a `store.reading.Reader` (no SQLAlchemy on SQLite). The due list reads only
the projection tables, never the event log: one aggregate over the covering index
`ix_case_clocks_due` for its counts, index-ordered pages with a LIMIT for its rows.
Whatever needs the working-day calendar is the service layer's, which passes in the date
limits. The projection is what a replay of the log produces (`audit verify` checks it).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from casereview.store.reading import Reader

_COLUMNS = """
SELECT c.ref, c.pseudonym, c.state AS case_state, k.workflow_id,
       k.clock_id, k.label, k.kind, k.state, k.anchor_on, k.due_on, k.warn_from,
       k.started_on, k.remaining_days, k.paused_days, k.ends_on_due
FROM case_clocks AS k
JOIN cases AS c ON c.id = k.case_id
"""

# A reminder clock (`ends_on_due`) is over once its date has passed, so it is not open
# from the day after. `:no` is the stored false (0 on SQLite, false on PostgreSQL).
_STILL_OPEN = "(k.ends_on_due = :no OR k.due_on >= :as_of)"

_DATED_WHERE = f"WHERE k.state = 'running' AND k.due_on IS NOT NULL AND {_STILL_OPEN}\n"
_DATED_ORDER = "ORDER BY k.due_on, c.ref, k.clock_id"

DATED_SQL = _COLUMNS + _DATED_WHERE + _DATED_ORDER
"""Running clocks with a due date, soonest first (overdue ones are the soonest).

The index gives the `due_on` order; only clocks sharing a date are sorted by case.
"""

WORKFLOW_SQL = "  AND k.workflow_id = :workflow_id\n"
"""Only one workflow's clocks: with it, every query here reads
`ix_case_clocks_workflow_due` (workflow_id, state, due_on, …, workflow_version) instead
of `ix_case_clocks_due`, the counts from that index alone and the dated pages in its
`due_on` order, so the due list by workflow costs what `due` costs (migration 0015)."""

VERSION_SQL = "  AND k.workflow_version = :workflow_version\n"
"""And one version of it (`id@N`), checked from the same index."""

Only = tuple[str, int | None]
"""A workflow id and, optionally, one version of it: the clocks the due list by workflow lists."""

ClockIds = tuple[str, ...]
"""Clock ids (`due --clock`): only those clocks, the condition checked on the index's
rows as they are read in `due_on` order, so a page still stops at its LIMIT."""


DATED_BEFORE_SQL = _COLUMNS + _DATED_WHERE + "  AND k.due_on < :before\n" + _DATED_ORDER
"""The same, only those due before `:before` (the within and overdue filters)."""

UNDATED_SQL = (
    _COLUMNS
    + """WHERE k.state = 'running' AND k.due_on IS NULL
ORDER BY c.ref, k.clock_id"""
)
"""Running clocks with no due date yet (their anchor field is not set)."""

PAUSED_SQL = (
    _COLUMNS
    + """WHERE k.state = 'paused'
ORDER BY k.due_on IS NULL, k.due_on, c.ref, k.clock_id"""
)
"""Paused clocks, by the due date they had before the pause."""

COUNTS_SQL = f"""
SELECT COUNT(*) AS open,
       COALESCE(SUM(CASE WHEN k.state = 'paused' THEN 1 ELSE 0 END), 0) AS paused,
       COALESCE(SUM(CASE WHEN k.state = 'running' AND k.due_on < :as_of
                         THEN 1 ELSE 0 END), 0) AS overdue,
       COALESCE(SUM(CASE WHEN k.state = 'running' AND k.due_on >= :as_of
                          AND k.warn_from <= :as_of THEN 1 ELSE 0 END), 0) AS due_soon,
       COALESCE(SUM(CASE WHEN k.state = 'running' AND k.due_on >= :as_of
                          AND k.due_on < :next_before THEN 1 ELSE 0 END), 0) AS due_next,
       COALESCE(SUM(CASE WHEN k.state = 'running' AND k.due_on < :within_before
                         THEN 1 ELSE 0 END), 0) AS within,
       CASE WHEN EXISTS (SELECT 1 FROM cases WHERE (processes IS NOT NULL) = (1 = 1))
            THEN 1 ELSE 0 END AS with_processes
FROM case_clocks AS k
WHERE k.state IN ('running', 'paused') AND (k.due_on IS NULL OR {_STILL_OPEN})
"""
"""Every open clock counted by status, from the covering index alone; and whether any
case has parallel processes (from the index on that), so that `due` asks for
their key dates only where there are some.

`:next_before` and `:within_before` are the first dates *not* counted as due within
five, and within the asked number of, working days; the service computes them with
the working-day calendar, so the SQL compares ISO dates only.
"""


@dataclass(frozen=True, slots=True)
class OpenClockRow:
    """One open clock joined to its case, as stored in the projection."""

    ref: str
    pseudonym: str
    case_state: str
    clock_id: str
    label: str
    kind: str
    state: str  # running | paused
    anchor_on: str | None
    due_on: str | None
    warn_from: str | None
    started_on: str | None
    remaining_days: int | None
    paused_days: int
    ends_on_due: bool
    workflow_id: str = ""  # the case's workflow ("" where the row has none)
    workflow_version: int | None = None  # read only where the rows are replayed


@dataclass(frozen=True, slots=True)
class OpenClockCounts:
    """Counts over every open clock on a day."""

    open: int
    paused: int
    overdue: int
    due_soon: int  # inside the clock's own warning window, not yet overdue
    due_next: int  # due from the day to `next_before`, not overdue
    within: int  # running and due before `within_before`, overdue included
    with_processes: bool = False  # some case has parallel processes (`open_processes`)


def open_clock_counts(
    reader: Reader,
    as_of: dt.date,
    *,
    next_before: dt.date,
    within_before: dt.date | None,
    workflow: Only | None = None,
    clocks: ClockIds = (),
) -> OpenClockCounts:
    """Every clock open on `as_of` (of one `workflow`, and of the `clocks` ids, when
    given), counted by status (one aggregate over an index)."""
    sql, only = _only(COUNTS_SQL, workflow, clocks)
    row = reader.first(
        sql,
        {
            **only,
            "no": False,
            "as_of": as_of.isoformat(),
            "next_before": next_before.isoformat(),
            # No limit asked: count nothing (the figure is not shown).
            "within_before": within_before.isoformat() if within_before else "",
        },
    )
    assert row is not None  # an aggregate always returns one row
    return OpenClockCounts(
        open=int(row["open"]),
        paused=int(row["paused"]),
        overdue=int(row["overdue"]),
        due_soon=int(row["due_soon"]),
        due_next=int(row["due_next"]),
        within=int(row["within"]),
        with_processes=bool(row["with_processes"]),
    )


def open_clocks(
    reader: Reader,
    as_of: dt.date,
    *,
    due_before: dt.date | None = None,
    dated_only: bool = False,
    limit: int | None = None,
    workflow: Only | None = None,
    clocks: ClockIds = (),
) -> Sequence[OpenClockRow]:
    """Clocks open on `as_of`, soonest first: dated running clocks, then (unless
    `dated_only`) undated ones, then paused ones; at most `limit` rows.

    `due_before` keeps only running clocks due before that date (overdue included);
    `workflow` only the clocks of cases on that workflow (and version); `clocks` only
    clocks with one of those ids.
    """
    params: dict[str, Any] = {"no": False, "as_of": as_of.isoformat()}
    found: list[OpenClockRow] = []
    if due_before is not None:
        params["before"] = due_before.isoformat()
        queries: tuple[str, ...] = (DATED_BEFORE_SQL,)
    elif dated_only:
        queries = (DATED_SQL,)
    else:
        queries = (DATED_SQL, UNDATED_SQL, PAUSED_SQL)
    for query in queries:
        sql, only = _only(query, workflow, clocks)
        params.update(only)
        if limit is None:
            found.extend(_row(r) for r in reader.each(sql, params))
            continue
        left = limit - len(found)
        if left <= 0:
            break
        found.extend(
            _row(r) for r in reader.rows(f"{sql}\nLIMIT :limit", {**params, "limit": left})
        )
    return found


def _only(sql: str, workflow: Only | None, clocks: ClockIds = ()) -> tuple[str, dict[str, Any]]:
    """`sql` narrowed to one workflow (and version) and to some clock ids, and the
    parameters that takes: the conditions go after the WHERE clause's first line,
    before any ORDER BY."""
    extra, params = "", dict[str, Any]()
    if workflow is not None:
        workflow_id, version = workflow
        extra, params["workflow_id"] = WORKFLOW_SQL, workflow_id
        if version is not None:
            extra += VERSION_SQL
            params["workflow_version"] = version
    if clocks:
        names = [f"clock_{n}" for n in range(len(clocks))]
        extra += f"  AND k.clock_id IN ({', '.join(':' + n for n in names)})\n"
        params.update(zip(names, clocks, strict=True))
    if not extra:
        return sql, {}
    head, where, rest = sql.partition("\nWHERE ")
    line, _, tail = rest.partition("\n")
    return f"{head}{where}{line}\n{extra}{tail}", params


def _row(r: dict[str, Any]) -> OpenClockRow:
    # Every value but the case's own repeats across the rows (a few states, labels and
    # workflows, a few thousand dates): one string each, not one per row, keeps every
    # open clock of a national database (200,000) in a quarter less memory.
    one = sys.intern
    return OpenClockRow(
        ref=str(r["ref"]),
        pseudonym=str(r["pseudonym"]),
        case_state=one(str(r["case_state"])),
        clock_id=one(str(r["clock_id"])),
        label=one(str(r["label"])),
        kind=one(str(r["kind"])),
        state=one(str(r["state"])),
        anchor_on=_one_text(r["anchor_on"]),
        due_on=_one_text(r["due_on"]),
        warn_from=_one_text(r["warn_from"]),
        started_on=_one_text(r["started_on"]),
        remaining_days=None if r["remaining_days"] is None else int(r["remaining_days"]),
        paused_days=int(r["paused_days"]),
        ends_on_due=bool(r["ends_on_due"]),
        workflow_id=one(str(r["workflow_id"] or "")),
    )


def _one_text(value: Any) -> str | None:
    return None if value is None else sys.intern(str(value))


# On SQLite the database reads the processes' JSON and returns only the cases that may
# have a key date in the window: a process not marked concluded with a date from
# `:from_day`, before `:before`, or a date not written as YYYY-MM-DD (which compares as
# text only when written that way, as `processes_json` writes it), or text that is not
# JSON. A superset of what the caller keeps: its own reading of each row decides. A
# national database holds about 10,000 open cases with processes, a fifth of them near.
_NEAR_ON_SQLITE = """
  AND (NOT json_valid(processes) OR EXISTS (
    SELECT 1 FROM json_each(cases.processes) AS p, json_each(p.value, '$.dates') AS d
    WHERE json_extract(p.value, '$.concluded') IS NOT 1
      AND ((d.value >= :from_day AND d.value < :before) OR length(d.value) <> 10)))
"""


def open_processes(reader: Reader, from_day: dt.date, before: dt.date) -> list[dict[str, Any]]:
    """`ref`, `pseudonym`, `case_state`, `workflow_id`, `workflow_version` and
    `processes` (JSON text) of every open case with parallel processes, by reference; on
    SQLite, only those that may have a key date from `from_day`, before `before`."""
    near = _NEAR_ON_SQLITE if reader.dialect == "sqlite" else ""
    return reader.rows(
        "SELECT ref, pseudonym, state AS case_state, workflow_id, workflow_version, "
        "processes FROM cases "
        # Written as the index `ix_cases_has_processes` is, so the planner takes it
        # (the few cases with processes) over the index on `closed` (every open case).
        f"WHERE (processes IS NOT NULL) = :yes AND closed = :no AND voided_seq IS NULL{near} "
        "ORDER BY ref",
        {
            "yes": True,
            "no": False,
            "from_day": from_day.isoformat(),
            "before": before.isoformat(),
        },
    )


def cases_with_links(reader: Reader) -> list[dict[str, Any]]:
    """`ref` and `links` (JSON text) of every case that recorded links, by reference."""
    return reader.rows(
        "SELECT ref, links FROM cases WHERE links IS NOT NULL AND voided_seq IS NULL ORDER BY ref"
    )


def case_row(reader: Reader, ref: str) -> dict[str, Any] | None:
    """The projection row of one case, or None."""
    return reader.first("SELECT * FROM cases WHERE ref = :ref", {"ref": ref})


def cases_named(reader: Reader, pseudonym: str) -> list[dict[str, Any]]:
    """Case rows whose pseudonym is `pseudonym`, whatever its letter case, by reference."""
    return reader.rows(
        "SELECT * FROM cases WHERE lower(pseudonym) = lower(:p) ORDER BY ref", {"p": pseudonym}
    )


def cases_not_voided(reader: Reader) -> list[dict[str, Any]]:
    """Every case row but those voided as opened in error, by id."""
    return reader.rows("SELECT * FROM cases WHERE voided_seq IS NULL ORDER BY id", {})


def case_events(reader: Reader, case_id: int) -> list[dict[str, Any]]:
    """One case's events in log order (served by the index on (case_id, seq))."""
    return reader.rows(
        "SELECT * FROM events WHERE case_id = :case_id ORDER BY seq", {"case_id": case_id}
    )
