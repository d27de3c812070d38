"""The store's side of a bulk import: a prepared batch of new cases, and writing it.

A batch arrives packed (`PackedBatch`: its case rows, clock rows and numbered but
unsealed events, as tuples) with where it expects the log to be. Writing it inserts the
rows and appends the events through `event_log.append_events`, the append every write
uses, in one transaction of a connection kept for the whole import (`ImportSession`),
so SQLite's page cache outlives each commit.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from casereview.domain.signing import Signer
from casereview.store import dialect, event_log, projections
from casereview.store.database import Connection, Database
from casereview.store.event_log import UNSEALED_COLUMNS, Head

Start = tuple[int, str | None, int]
"""Where a batch expects the log: head seq, head hash, next case id. The hash is None
when the batch follows one not written yet: then it is the hash written last."""


@dataclass(frozen=True)
class PackedBatch:
    """A prepared batch as it is written: where it expects the log, and its rows as
    tuples in column order (`projections.CASE_COLUMNS`, `projections.CLOCK_ROW_COLUMNS`,
    `event_log.UNSEALED_COLUMNS`; its events numbered and not yet sealed). Plain tuples,
    so a batch is cheap to hand to another process."""

    start: Start
    cases: list[tuple[Any, ...]]
    clocks: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]


def row_values(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    """Each row's values in `columns` order, as `PackedBatch` holds them."""
    # itemgetter builds each tuple in C (with one column it gives the bare value).
    get = operator.itemgetter(*columns)
    return [get(row) for row in rows] if len(columns) > 1 else [(get(row),) for row in rows]


def log_position(conn: Connection, *, lock: bool = False) -> tuple[int, str, int]:
    """Where the log is: head seq, head hash, next case id (`lock`: take the head row's
    write lock, for a writer about to append)."""
    return (*event_log.chain_head(conn, lock=lock), projections.next_case_id(conn))


def write_batch(conn: Connection, batch: PackedBatch, head: Head, signer: Signer | None) -> Head:
    """Insert a batch's rows and append its events after `head`, signed by `signer`, in
    the caller's transaction; the new head."""
    projections.insert_case_rows(conn, batch.cases)
    projections.insert_clock_rows(conn, batch.clocks)
    events = (dict(zip(UNSEALED_COLUMNS, values, strict=True)) for values in batch.events)
    return event_log.append_events(conn, events, signer=signer, after=head)


def write_sealed(
    conn: Connection,
    batch: PackedBatch,
    names: Sequence[str],
    sealed: list[tuple[Any, ...]],
    head: Head,
) -> Head:
    """Insert a batch's case and clock rows and its events already sealed (and signed)
    after the head the caller holds under its write lock (`event_log.seal_events`), in
    the caller's transaction; the new head."""
    projections.insert_case_rows(conn, batch.cases)
    projections.insert_clock_rows(conn, batch.clocks)
    return event_log.insert_sealed(conn, names, sealed, head)


class ImportSession:
    """One connection for every batch of an import, each batch its own transaction.

    `Database.unit_of_work` opens a connection per transaction, and on SQLite closing it
    throws away the page cache (which holds the index pages the next batch will touch
    again) and checkpoints the whole WAL. Kept open, the cache survives from batch to
    batch.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @contextmanager
    def batch(self) -> Iterator[Connection]:
        """One transaction, committed at the end unless something raised."""
        with self._conn.begin():
            yield self._conn

    def write_if_expected(
        self, batch: PackedBatch, last: Head | None, signer: Signer | None
    ) -> Head | None:
        """Write `batch` in a transaction of its own if, under the write lock, the log is
        where the batch expects it (`last`: the head this session wrote last, for a batch
        prepared before it was written); the new head, or None (nothing written) if
        another writer moved the log."""
        with self._conn.begin() as transaction:
            where = log_position(self._conn, lock=True)
            start = batch.start
            if start[1] is None and last is not None:
                start = (start[0], last[1], start[2])
            if where != start:
                transaction.rollback()
                return None
            return write_batch(self._conn, batch, (where[0], where[1]), signer)


def pipelined(db: Database) -> bool:
    """Whether an import into `db` writes each batch from a second process while the
    importing one prepares the next (`dialect.pipelined_imports`)."""
    return dialect.pipelined_imports(db.engine)


@contextmanager
def import_session(db: Database, *, write: bool) -> Iterator[ImportSession]:
    """A session whose transactions write (`write`: begun as a unit of work's are, the
    connection set up for a long import: `dialect.prepare_import`) or only look up."""
    with db.connection(write=write) as conn:
        if write:
            dialect.prepare_import(conn)
        yield ImportSession(conn)
