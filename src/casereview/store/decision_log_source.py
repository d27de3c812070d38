"""What the decision-log export reads: the events it selects, surveyed before the first
row is written, then streamed in seq order; and where an export's entry hashes sit in
the log, for checking an export against it.

The queries are SQLAlchemy Core constructs over the documented `events` columns, so no
SQL text is composed from the request. A selection is the case events up to a chain
head: of one case, or of a share of the cases (for worker processes), dated within
optional bounds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    case,
    column,
    distinct,
    func,
    or_,
    select,
    table,
)

from casereview.store import dialect
from casereview.store.event_log import EVENT_COLUMNS

BATCH = 2_000
"""Rows the export's stream reads at a time."""

Workflow = tuple[str, int, str]
"""A workflow an event was recorded under: id, version, content hash."""

EXPORTED_KINDS = ("case", "migrate", "rec", "action")
"""The kinds of event the decision log holds: a case's steps, its moves between workflow
versions and its action plan's steps."""

_events = table("events", *(column(name) for name in sorted(EVENT_COLUMNS)))


def _case_kind() -> ColumnElement[bool]:
    """Case steps, and moves between workflow versions (kind "migrate"): the replay of a
    case needs both. (Two comparisons rather than IN: the statement is also compiled
    with its values inline.)"""
    c = _events.c
    return or_(c.kind == "case", c.kind == "migrate")


def _conditions(
    head_seq: int,
    case_id: int | None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    *,
    share: tuple[int, int] | None = None,
    excluded: Sequence[Workflow] = (),
) -> list[ColumnElement[bool]]:
    """Case events up to `head_seq`: of one case, or with `share` (k, n) of the cases
    whose id % n == k; dated within the bounds given; none recorded under an `excluded`
    workflow (one whose definition cannot be loaded here)."""
    c = _events.c
    # Not `in_`: its expanding parameter does not survive `dialect.stream_statement`.
    kinds = or_(*(c.kind == kind for kind in EXPORTED_KINDS))
    where: list[ColumnElement[bool]] = [kinds, c.seq <= head_seq]
    for wid, version, digest in excluded:
        where.append(
            or_(c.workflow_id != wid, c.workflow_version != version, c.definition_hash != digest)
        )
    if case_id is not None:
        where.append(c.case_id == case_id)
    if share is not None:
        k, n = share
        where.append(c.case_id % n == k)
    return where + _dated(date_from, date_to)


def _dated(
    date_from: dt.date | None,
    date_to: dt.date | None,
    actor: str | None = None,
    trigger: str | None = None,
    workflow: tuple[str, int | None] | None = None,
) -> list[ColumnElement[bool]]:
    """The events an export shows of those it reads: dated within the bounds, recorded
    by `actor` or on its behalf, of `trigger`, recorded under `workflow` (id, and
    version when given) (each when given)."""
    c = _events.c
    where: list[ColumnElement[bool]] = []
    if date_from is not None:
        where.append(c.occurred_on >= date_from.isoformat())
    if date_to is not None:
        where.append(c.occurred_on <= date_to.isoformat())
    if actor is not None:
        where.append(or_(c.actor == actor, c.on_behalf_of == actor))
    if trigger is not None:
        where.append(c.trigger == trigger)
    if workflow is not None:
        where.append(c.workflow_id == workflow[0])
        if workflow[1] is not None:
            where.append(c.workflow_version == workflow[1])
    return where


def _workflows(conn: Connection, where: Sequence[ColumnElement[bool]]) -> list[Workflow]:
    c = _events.c
    rows = conn.execute(
        select(c.workflow_id, c.workflow_version, c.definition_hash)
        .distinct()
        .where(*where)
        .order_by(c.workflow_id, c.workflow_version, c.definition_hash)
    ).all()
    return [(str(r[0]), int(r[1]), str(r[2])) for r in rows]


@dataclass(frozen=True)
class Survey:
    """What an export's metadata needs to know before the first row is written."""

    event_count: int  # events the filter selects
    case_count: int  # cases they belong to
    selected: list[Workflow]  # the workflows of the selected events
    read: list[Workflow]  # the workflows of every event read (before the start date too)


def survey(
    conn: Connection,
    head_seq: int,
    case_id: int | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    excluded: Sequence[Workflow] = (),
    *,
    actor: str | None = None,
    trigger: str | None = None,
    workflow: tuple[str, int | None] | None = None,
) -> Survey:
    """Counts and workflows in one scan of the events the export reads.

    A log is nearly always recorded under one workflow version, so the scan takes the
    least and greatest of each workflow column rather than grouping (a `DISTINCT` over
    the three columns sorts every row); only when those differ are the workflows listed
    one by one.
    """
    c = _events.c
    read = _conditions(head_seq, case_id, excluded=excluded)
    dated = _dated(date_from, date_to, actor, trigger, workflow)
    if dated:
        picked = and_(*dated)
        counts = [func.count(case((picked, 1))), func.count(distinct(case((picked, c.case_ref))))]
    else:
        counts = [func.count(), func.count(distinct(c.case_ref))]
    columns = (c.workflow_id, c.workflow_version, c.definition_hash)
    spans = [f(col) for col in columns for f in (func.min, func.max, func.count)]
    row = conn.execute(select(*counts, func.count(), *spans).where(*read)).one()
    events, cases, total = int(row[0]), int(row[1]), int(row[2])
    lows, highs, present = row[3::3], row[4::3], row[5::3]
    if total == 0:
        return Survey(events, cases, [], [])
    if lows == highs and all(n == total for n in present):
        only = [(str(lows[0]), int(lows[1]), str(lows[2]))]
        return Survey(events, cases, only if events else [], only)
    every = _workflows(conn, read)
    return Survey(events, cases, _workflows(conn, read + dated) if dated else every, every)


def people(
    conn: Connection,
    head_seq: int,
    case_id: int | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    excluded: Sequence[Workflow] = (),
    *,
    actor: str | None = None,
    trigger: str | None = None,
    workflow: tuple[str, int | None] | None = None,
) -> list[str]:
    """The accounts the selected events name, as recorder or as the person a decision
    was recorded for, sorted."""
    c = _events.c
    where = [
        *_conditions(head_seq, case_id, excluded=excluded),
        *_dated(date_from, date_to, actor, trigger, workflow),
    ]
    # One scan: a log holds few (recorder, decided for) pairs, however long it is.
    found: set[str] = set()
    for actor, behalf in conn.execute(select(c.actor, c.on_behalf_of).distinct().where(*where)):
        found.update(str(name) for name in (actor, behalf) if name is not None)
    return sorted(found)


def batches(
    conn: Connection,
    columns: Sequence[str],
    head_seq: int,
    case_id: int | None,
    batch: int = BATCH,
    *,
    share: tuple[int, int] | None = None,
    excluded: Sequence[Workflow] = (),
) -> Generator[list[Any], None, None]:
    """Case events up to the head, in seq order, as the driver's own row tuples of
    `columns`: one streamed query, `batch` rows at a time, so the log never sits in
    memory (`dialect.stream_statement`)."""
    c = _events.c
    stmt = (
        select(*(c[name] for name in columns))
        .where(*_conditions(head_seq, case_id, share=share, excluded=excluded))
        .order_by(c.seq)
    )
    return dialect.stream_statement(conn, stmt, batch, "casereview_log_export")


_cases = table("cases", column("id"), column("ref"))


def case_events_before(
    conn: Connection, columns: Sequence[str], case_ref: str, seq: int
) -> list[Any]:
    """One case's events before `seq`, in order, as the driver's tuples of `columns`:
    what the decision log replays when a correction reaches back into a case (served
    by the index on (case_id, seq))."""
    c = _events.c
    case_id = select(_cases.c.id).where(_cases.c.ref == case_ref).scalar_subquery()
    stmt = (
        select(*(c[name] for name in columns))
        .where(_case_kind(), c.case_id == case_id, c.seq < seq)
        .order_by(c.seq)
    )
    return [tuple(row) for row in conn.execute(stmt)]


_MAX_SEQ = 2**63 - 1  # the largest integer either database stores


def hash_positions(conn: Connection, hashes: Mapping[int, str]) -> dict[str, int]:
    """Where each of an export's entry hashes (seq -> hash) sits in the log: hash -> seq.

    `events.entry_hash` has no index (migration 0004), so each hash is first looked for
    at the seq the export gives it, by primary key. Only hashes not found there (a
    changed log, an export of another database, or a seq no database could hold) cost
    a scan of the log, streamed and ended as soon as every one is placed.
    """
    c = _events.c
    found: dict[str, int] = {}
    # The seqs come from the file being checked: only whole numbers a database can hold
    # are looked up (a forged seq of 2**64 or `true` must be a finding, not a crash).
    seqs = sorted(s for s in hashes if type(s) is int and 0 < s <= _MAX_SEQ)
    stmt = select(c.seq, c.entry_hash).where(c.seq.in_(bindparam("seqs", expanding=True)))
    for start in range(0, len(seqs), 500):
        for seq, entry_hash in conn.execute(stmt, {"seqs": seqs[start : start + 500]}):
            if hashes[int(seq)] == entry_hash:
                found[str(entry_hash)] = int(seq)
    wanted = set(hashes.values()) - found.keys()
    if wanted:
        scan = select(c.seq, c.entry_hash).order_by(c.seq)
        for seq, entry_hash in conn.execution_options(yield_per=5_000).execute(scan):
            if entry_hash in wanted:
                found[str(entry_hash)] = int(seq)
                wanted.discard(entry_hash)
                if not wanted:
                    break
    return found


def recorded_at(conn: Connection, seq: int) -> str | None:
    """When event `seq` was recorded (its stored UTC text), or None if there is none."""
    if not 0 < seq <= _MAX_SEQ:
        return None
    c = _events.c
    value = conn.execute(select(c.recorded_at).where(c.seq == seq)).scalar()
    return None if value is None else str(value)
