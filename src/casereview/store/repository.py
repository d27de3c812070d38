"""Reading and writing rows inside a unit of work.

The only code that knows table and column names. Appending an event takes the chain
head (locked: `BEGIN IMMEDIATE` on SQLite, `SELECT … FOR UPDATE` on PostgreSQL),
assigns the next `seq` from it — never from a sequence, whose values are not rolled
back — seals the event and moves the head, all in the caller's transaction.
"""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, text

from casereview.domain import chain


@dataclass(frozen=True)
class AppendedEvent:
    seq: int
    entry_hash: str
    payload: str


def chain_head(conn: Connection, *, lock: bool = False) -> tuple[int, str]:
    suffix = " FOR UPDATE" if lock and conn.dialect.name == "postgresql" else ""
    row = conn.execute(text(f"SELECT seq, entry_hash FROM chain_head WHERE id = 1{suffix}")).first()
    if row is None:
        return 0, chain.GENESIS_HASH
    return int(row[0]), str(row[1])


def seal_event(
    record: Mapping[str, Any], case_id: int | None, seq: int, prev_hash: str
) -> tuple[dict[str, Any], AppendedEvent]:
    """The stored columns of `record` sealed as event `seq` after `prev_hash`.

    Pure (no database): `append_event` uses it for one event, and the bulk importer for
    many, keeping the head in memory, so both write exactly the same columns.
    """
    columns = {name: record.get(name) for name in chain.HASHED_COLUMNS}
    columns["seq"] = seq
    columns["prev_hash"] = prev_hash
    columns["algorithm"] = chain.ALGORITHM
    fields = columns["fields"]
    stored_fields = chain.canonical_json(fields or {})
    # The payload holds the fields as the record gives them (null when there are none).
    sealed = chain.seal(columns, stored_fields if fields else None)
    columns["fields"] = stored_fields
    columns["case_id"] = case_id
    columns["payload"] = sealed.payload
    columns["entry_hash"] = sealed.entry_hash
    return columns, AppendedEvent(seq, sealed.entry_hash, sealed.payload)


EVENT_COLUMNS = (*chain.HASHED_COLUMNS, "case_id", "payload", "entry_hash")


def _marks(conn: Connection, count: int) -> str:
    """`count` positional placeholders in the driver's own style (sqlite3: `?`,
    psycopg: `%s`)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return ", ".join([mark] * count)


def row_values(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    """Each row's values in `columns` order, as `insert_values` takes them."""
    # itemgetter builds each tuple in C (with one column it gives the bare value).
    get = operator.itemgetter(*columns)
    return [get(row) for row in rows] if len(columns) > 1 else [(get(row),) for row in rows]


def insert_values(
    conn: Connection, table: str, columns: Sequence[str], values: Sequence[tuple[Any, ...]]
) -> None:
    """INSERT rows (tuples in `columns` order) straight through the driver's executemany.

    SQLAlchemy's `execute(text(…), [dicts])` costs about 4 µs a row in parameter
    handling alone (a fifth of a bulk import's budget per event); the driver call with
    tuples costs under 1 µs. The values are the same plain str/int/bool/None either way.
    """
    if values:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_marks(conn, len(columns))})"
        conn.exec_driver_sql(sql, list(values))


def _insert_many(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    insert_values(conn, table, columns, row_values(columns, rows))


def insert_events(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert sealed events (from `seal_event`), in one statement when there are many.

    The caller holds the head and moves it with `move_head` in the same transaction.
    """
    _insert_many(conn, "events", EVENT_COLUMNS, rows)


def move_head(conn: Connection, seq: int, entry_hash: str) -> None:
    conn.execute(
        text("UPDATE chain_head SET seq = :seq, entry_hash = :hash WHERE id = 1"),
        {"seq": seq, "hash": entry_hash},
    )


def append_event(conn: Connection, record: Mapping[str, Any], case_id: int | None) -> AppendedEvent:
    """Seal and insert one event after the current head, and advance the head."""
    head_seq, head_hash = chain_head(conn, lock=True)
    columns, appended = seal_event(record, case_id, head_seq + 1, head_hash)
    insert_events(conn, [columns])
    move_head(conn, appended.seq, appended.entry_hash)
    return appended


def iter_events(
    conn: Connection, *, case_id: int | None = None, batch: int = 5000
) -> Iterator[dict[str, Any]]:
    """Events in seq order, fetched in batches so a large log never sits in memory."""
    last = 0
    where = "seq > :last" + (" AND case_id = :case_id" if case_id is not None else "")
    statement = text(f"SELECT * FROM events WHERE {where} ORDER BY seq LIMIT :batch")
    while True:
        result = conn.execute(statement, {"last": last, "case_id": case_id, "batch": batch})
        keys = list(result.keys())
        rows = result.all()
        if not rows:
            return
        # Plain tuples zipped into dicts: half the cost of `.mappings()` then dict().
        for row in rows:
            yield dict(zip(keys, row, strict=True))
        last = int(rows[-1][keys.index("seq")])


def _stream(conn: Connection, sql: str, rows_at_once: int = 2000) -> Iterator[dict[str, Any]]:
    """Every row of one query as dicts, streamed, so a whole-table read holds only
    `rows_at_once` rows in memory.

    PostgreSQL needs `stream_results` (a server-side cursor) and explicit partition
    sizes: with `yield_per` and `partitions()` psycopg's rows piled up client-side
    (330 MiB to verify 77,000 events). pysqlite's cursor is lazy anyway, and
    `yield_per` reads it a fifth faster per row than the alternatives.
    """
    if conn.dialect.name == "sqlite":
        statement = text(sql).execution_options(yield_per=rows_at_once)
        result = conn.execute(statement)
        partitions = result.partitions()
    else:
        statement = text(sql).execution_options(stream_results=True, max_row_buffer=rows_at_once)
        result = conn.execute(statement)
        partitions = result.partitions(rows_at_once)
    keys = list(result.keys())
    for partition in partitions:
        for row in partition:
            yield dict(zip(keys, row, strict=True))


def iter_all_events(conn: Connection) -> Iterator[dict[str, Any]]:
    """Every event in seq order, as `iter_events` gives them, from one streamed query
    (cheaper per row than `iter_events`' batches when the whole log is read)."""
    return _stream(conn, "SELECT * FROM events ORDER BY seq")


def hold_snapshot(conn: Connection) -> None:
    """Make every later statement of this read transaction see the same snapshot.

    SQLite's read transaction does already (under WAL, from its first read on).
    PostgreSQL's default, READ COMMITTED, takes a new snapshot per statement, so a
    reader making several passes could see a writer's event in one pass and not in
    another; REPEATABLE READ holds the first. Must come before any other statement of
    the transaction.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))


def _tuples(conn: Connection, sql: str, rows_at_once: int = 2000) -> Iterator[Sequence[Any]]:
    """Every row of one query as a plain tuple, streamed (for whole-log reads).

    On SQLite, straight from the driver's cursor on the connection's own transaction:
    SQLAlchemy's result rows cost more per row than the rest of reading one. On
    PostgreSQL, `_stream`'s server-side cursor, which keeps memory flat.
    """
    if conn.dialect.name == "sqlite":
        driver = conn.connection.driver_connection
        assert driver is not None  # a checked-out connection always has one
        cursor = driver.cursor()
        try:
            cursor.execute(sql)
            while batch := cursor.fetchmany(rows_at_once):
                yield from batch
        finally:
            cursor.close()
        return
    statement = text(sql).execution_options(stream_results=True, max_row_buffer=rows_at_once)
    result = conn.execute(statement)
    for partition in result.partitions(rows_at_once):
        for row in partition:
            yield tuple(row)


def iter_event_links(conn: Connection) -> Iterator[Sequence[Any]]:
    """(seq, prev_hash, entry_hash) of every event in seq order: the chain's links."""
    return _tuples(conn, "SELECT seq, prev_hash, entry_hash FROM events ORDER BY seq")


# An event as `chain.check_event` checks it: the hashed columns in payload order.
SEALED_COLUMNS = ("case_id", "kind", *chain.PAYLOAD_ORDER, "payload", "entry_hash")


CaseRange = tuple[int | None, int | None]
"""Case ids `lo <= id < hi`; None leaves that side open. (None, None) is every case."""

EVERY_CASE: CaseRange = (None, None)


def _case_id_range(column: str, cases: CaseRange) -> str:
    """The SQL condition for `cases` on `column` ("1 = 1" when unbounded). The bounds
    are ints (checked here), so they can be written into the text."""
    lo, hi = cases
    conditions = [f"{column} >= {int(lo)}"] if lo is not None else []
    if hi is not None:
        conditions.append(f"{column} < {int(hi)}")
    return " AND ".join(conditions) or "1 = 1"


def iter_sealed_events_by_case(
    conn: Connection, cases: CaseRange = EVERY_CASE, *, unfiled: bool = True
) -> Iterator[Sequence[Any]]:
    """Events, `SEALED_COLUMNS` as a tuple, ordered by case then seq (index
    `ix_events_case_id`): those filed under a case id in `cases`, and, with `unfiled`,
    those under no case (first on SQLite and last on PostgreSQL, where NULLs sort last;
    in seq order either way)."""
    columns = ", ".join(SEALED_COLUMNS)
    if cases == EVERY_CASE and unfiled:
        return _tuples(conn, f"SELECT {columns} FROM events ORDER BY case_id, seq")
    # A range is one index range scan; the unfiled events are a second query rather
    # than an OR, which would make SQLite sort the whole range.
    filed = _tuples(
        conn,
        f"SELECT {columns} FROM events WHERE case_id IS NOT NULL "
        f"AND {_case_id_range('case_id', cases)} ORDER BY case_id, seq",
    )
    if not unfiled:
        return filed
    none = _tuples(conn, f"SELECT {columns} FROM events WHERE case_id IS NULL ORDER BY seq")
    return itertools.chain(none, filed)


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


REPLAY_COLUMNS = (
    "seq",
    "case_id",
    "case_ref",
    "trigger",
    "from_state",
    "to_state",
    "occurred_on",
    "fields",
    "definition_hash",
)


def iter_case_events_by_case(conn: Connection) -> Iterator[dict[str, Any]]:
    """Every event filed under a case, ordered by case then seq (index
    `ix_events_case_id`), with the columns replay needs: what `audit verify` replays."""
    return _stream(
        conn,
        f"SELECT {', '.join(REPLAY_COLUMNS)} FROM events "
        "WHERE case_id IS NOT NULL ORDER BY case_id, seq",
    )


def iter_case_rows(conn: Connection, cases: CaseRange = EVERY_CASE) -> Iterator[dict[str, Any]]:
    """The case rows with ids in `cases` (every one by default) in id order, streamed."""
    where = _case_id_range("id", cases)
    return _stream(conn, f"SELECT * FROM cases WHERE {where} ORDER BY id")


def iter_clock_rows(conn: Connection, cases: CaseRange = EVERY_CASE) -> Iterator[dict[str, Any]]:
    """The clock rows of the case ids in `cases` in (case id, clock id) order, streamed."""
    where = _case_id_range("case_id", cases)
    return _stream(conn, f"SELECT * FROM case_clocks WHERE {where} ORDER BY case_id, clock_id")


def event_hash_at(conn: Connection, seq: int) -> str | None:
    row = conn.execute(text("SELECT entry_hash FROM events WHERE seq = :seq"), {"seq": seq}).first()
    return None if row is None else str(row[0])


# Bulk import (services.bulk) ----------------------------------------------------------
#
# The same rows `projections.insert_case` and `projections.replace_clocks` write for one
# case, for a batch of new cases at once: one statement each instead of four per case.

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
)


def next_case_id(conn: Connection) -> int:
    """The id `projections.insert_case` would give the next case."""
    return int(conn.execute(text("SELECT COALESCE(MAX(id), 0) + 1 FROM cases")).scalar_one())


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


def insert_case_rows(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """New case rows with every column of `CASE_COLUMNS` given (JSON columns as text)."""
    _insert_many(conn, "cases", CASE_COLUMNS, rows)


def insert_clock_rows(
    conn: Connection, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Clock rows of new cases (`case_id` plus `projections.CLOCK_COLUMNS`)."""
    _insert_many(conn, "case_clocks", columns, rows)


def pseudonyms_since(conn: Connection, after_id: int) -> tuple[int, set[str]]:
    """Pseudonyms of the cases added after case id `after_id`, and the highest id seen.

    For importers that track pseudonyms in use across many transactions: case rows are
    never deleted and a pseudonym never changes, so only new rows need reading.
    """
    rows = conn.execute(
        text("SELECT id, pseudonym FROM cases WHERE id > :after"), {"after": after_id}
    ).all()
    return max((int(r[0]) for r in rows), default=after_id), {str(r[1]) for r in rows}


def count_events(conn: Connection) -> int:
    return int(conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one())


# Users -----------------------------------------------------------------------------


def get_user(conn: Connection, username: str) -> RowMapping | None:
    return (
        conn.execute(text("SELECT * FROM users WHERE username = :u"), {"u": username})
        .mappings()
        .first()
    )


def list_users(conn: Connection) -> Sequence[RowMapping]:
    return conn.execute(text("SELECT * FROM users ORDER BY username")).mappings().all()


def count_users(conn: Connection) -> int:
    return int(conn.execute(text("SELECT COUNT(*) FROM users")).scalar_one())


def upsert_user(
    conn: Connection,
    *,
    username: str,
    display_name: str,
    roles: Sequence[str],
    agency: str | None,
    active: bool,
    seq: int,
) -> None:
    existing = get_user(conn, username)
    params = {
        "u": username,
        "n": display_name,
        "r": json.dumps(sorted(roles)),
        "a": agency,
        "active": active,
        "seq": seq,
    }
    if existing is None:
        conn.execute(
            text(
                "INSERT INTO users (username, display_name, roles, agency, active, created_seq) "
                "VALUES (:u, :n, :r, :a, :active, :seq)"
            ),
            params,
        )
    else:
        conn.execute(
            text(
                "UPDATE users SET display_name = :n, roles = :r, agency = :a, active = :active "
                "WHERE username = :u"
            ),
            params,
        )
