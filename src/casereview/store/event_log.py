"""The event log: its head, the one way events are appended, and reading events back.

Appending takes the chain head (locked for the writer: `store.dialect`), numbers each
event after it — never from a sequence, whose values are not rolled back — seals it
(`domain.chain`: the canonical payload, and its hash over the previous one), inserts it
and moves the head, all in the caller's transaction. Live writes append one event
(`append_event`) and a bulk import a batch (`append_events`): the same sealing, columns
and statement.

Each event is signed as it is sealed (`domain.signing`: Ed25519 over its entry hash) when
the caller hands over the recorder's key, so live writes and bulk writes sign alike.
The signature and key id are stored beside the event, outside the hash chain.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, text

from casereview.domain import authority, chain
from casereview.domain.signing import Signer
from casereview.store import dialect, write_functions
from casereview.store.errors import StoreError
from casereview.store.projections import EVERY_CASE, CaseRange, case_id_condition

Head = tuple[int, str]
"""The chain head: the last event's seq and entry hash."""

EVENT_COLUMNS = (
    *chain.HASHED_COLUMNS,
    "case_id",
    "payload",
    "entry_hash",
    "signature",
    "key_id",
)
"""The stored columns of an event."""

UNSEALED_COLUMNS = tuple(
    c
    for c in EVENT_COLUMNS
    if c not in ("prev_hash", "payload", "entry_hash", "signature", "key_id")
)
"""The columns of an event before it is sealed (`append_events` adds the rest)."""

SEALED_COLUMNS = ("case_id", "kind", *chain.PAYLOAD_ORDER, "payload", "entry_hash")
"""An event as `chain.check_event` checks it: the hashed columns in payload order."""


class AppendedEvent(NamedTuple):
    seq: int
    entry_hash: str


def stored_head(conn: Connection, *, lock: bool = False) -> Head | None:
    """The head row as stored (None if it is missing); `lock` holds it for a writer."""
    if lock:
        dialect.lock_head(conn)
    row = conn.execute(text("SELECT seq, entry_hash FROM chain_head WHERE id = 1")).first()
    return None if row is None else (int(row[0]), str(row[1]))


def chain_head(conn: Connection, *, lock: bool = False) -> Head:
    """The head; an empty log's (no row) is seq 0 and the genesis hash."""
    return stored_head(conn, lock=lock) or (0, chain.GENESIS_HASH)


def append_event(
    conn: Connection,
    record: Mapping[str, Any],
    case_id: int | None,
    signer: Signer | None,
) -> AppendedEvent:
    """Seal, sign and insert one event (a record of `UNSEALED_COLUMNS` but `seq` and
    `case_id`) after the current head, and advance the head."""
    return append_events(conn, [{**record, "case_id": case_id}], signer=signer)


_EVENT_VALUES = operator.itemgetter(*EVENT_COLUMNS)
_UNSIGNED_COLUMNS = EVENT_COLUMNS[:-2]
_UNSIGNED_VALUES = operator.itemgetter(*_UNSIGNED_COLUMNS)
"""An unsigned append names neither signature column (as before they existed)."""


def append_events(
    conn: Connection,
    events: Iterable[Mapping[str, Any]],
    *,
    signer: Signer | None,
    after: Head | None = None,
) -> AppendedEvent:
    """Seal `events` (mappings of `UNSEALED_COLUMNS`) in order after the head, sign each
    with `signer` (None: unsigned, as a log before its first key enrolment was), insert
    them in one statement and move the head; the new head.

    `after` is the head as the caller holds it under the write lock (None: read and
    lock it now). An event that already carries a `seq` (a bulk import numbers events
    as it prepares them) must carry the one it gets here.
    """
    head = chain_head(conn, lock=True) if after is None else after
    names, rows, new_head = seal_events(events, head=head, signer=signer)
    return insert_sealed(conn, names, rows, new_head)


def seal_events(
    events: Iterable[Mapping[str, Any]], *, head: Head, signer: Signer | None
) -> tuple[tuple[str, ...], list[tuple[Any, ...]], Head]:
    """`events` sealed in order after `head` and signed by `signer` (None: unsigned):
    the columns they fill, their rows in that order, and the head after them. Pure
    computation, so a bulk import can seal one part of its events in another process
    while it checks the next (`services.bulk`); `insert_sealed` writes them."""
    seq, prev = head
    sign = signer.event_signing() if signer is not None else None
    key_id = signer.key_id if signer is not None else None
    names, values = (
        (EVENT_COLUMNS, _EVENT_VALUES) if sign else (_UNSIGNED_COLUMNS, _UNSIGNED_VALUES)
    )
    rows = []
    for event in events:
        seq += 1
        numbered = event.get("seq")
        if numbered is not None and numbered != seq:  # a gap would be a bug in the caller
            raise StoreError(f"an event numbered {numbered} was to be appended as {seq}")
        columns = _sealed(event, seq, prev)
        prev = columns["entry_hash"]
        if sign is not None:
            columns["signature"] = sign(seq, prev)
            columns["key_id"] = key_id
        rows.append(values(columns))
    return names, rows, (seq, prev)


def insert_sealed(
    conn: Connection, names: Sequence[str], rows: list[tuple[Any, ...]], head: Head
) -> AppendedEvent:
    """Insert events sealed by `seal_events` (which left the log at `head`) in one
    statement and move the chain head there; the new head. The caller holds the write
    lock and the head the events were sealed after."""
    seq, prev = head
    if dialect.is_postgres(conn):
        # Through the write function, which checks each event again in the database.
        write_functions.append(conn, [dict(zip(names, row, strict=True)) for row in rows])
        return AppendedEvent(seq, prev)
    dialect.insert_rows(conn, "events", names, rows)
    if rows:
        conn.execute(
            text("UPDATE chain_head SET seq = :seq, entry_hash = :hash WHERE id = 1"),
            {"seq": seq, "hash": prev},
        )
    return AppendedEvent(seq, prev)


def _sealed(event: Mapping[str, Any], seq: int, prev_hash: str) -> dict[str, Any]:
    """The stored columns of `event` sealed as event `seq` after `prev_hash`."""
    columns = {name: event.get(name) for name in chain.HASHED_COLUMNS}
    columns["seq"] = seq
    columns["prev_hash"] = prev_hash
    columns["algorithm"] = chain.ALGORITHM
    fields = columns["fields"]
    stored_fields = chain.canonical_json(fields or {})
    # The payload holds the fields as the record gives them (null when there are none).
    sealed = chain.seal(columns, stored_fields if fields else None)
    columns["fields"] = stored_fields
    columns["case_id"] = event.get("case_id")
    columns["payload"] = sealed.payload
    columns["entry_hash"] = sealed.entry_hash
    columns["signature"] = columns["key_id"] = None
    return columns


def protection(conn: Connection) -> dialect.Protection:
    """Which of the triggers that keep events append-only are missing (or disabled)."""
    return dialect.missing_protection(conn)


# -- reading events ----------------------------------------------------------------------


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
        # Plain tuples zipped into dicts: cheaper than `.mappings()` then dict().
        for row in rows:
            yield dict(zip(keys, row, strict=True))
        last = int(rows[-1][keys.index("seq")])


def count_events(conn: Connection) -> int:
    return int(conn.execute(text("SELECT COUNT(*) FROM events")).scalar_one())


def event_hash_at(conn: Connection, seq: int) -> str | None:
    row = conn.execute(text("SELECT entry_hash FROM events WHERE seq = :seq"), {"seq": seq}).first()
    return None if row is None else str(row[0])


def iter_event_links(conn: Connection) -> Iterator[Sequence[Any]]:
    """(seq, prev_hash, entry_hash) of every event in seq order: the chain's links."""
    return dialect.stream_tuples(conn, "SELECT seq, prev_hash, entry_hash FROM events ORDER BY seq")


def iter_unfiled_events(conn: Connection) -> Iterator[Sequence[Any]]:
    """The hashed columns (`chain.PAYLOAD_ORDER`) of every event under no case — user
    management, workflow installations, keys — in seq order (index `ix_events_case_id`):
    what `domain.authority.replay` reads."""
    columns = ", ".join(chain.PAYLOAD_ORDER)
    return dialect.stream_tuples(
        conn, f"SELECT {columns} FROM events WHERE case_id IS NULL ORDER BY seq"
    )


def installed_workflows(conn: Connection) -> list[tuple[int, str]]:
    """(seq, fields as stored) of every workflow installation event, in seq order."""
    rows = conn.execute(
        text(
            "SELECT seq, fields FROM events WHERE case_id IS NULL "
            "AND kind = :kind AND trigger = :trigger ORDER BY seq"
        ),
        {"kind": authority.ADMIN_KIND, "trigger": authority.WORKFLOW_INSTALL},
    ).all()
    return [(int(row[0]), str(row[1])) for row in rows]


def iter_sealed_events_by_case(
    conn: Connection, cases: CaseRange = EVERY_CASE, *, unfiled: bool = True
) -> Iterator[Sequence[Any]]:
    """Events, `SEALED_COLUMNS` as a tuple, ordered by case then seq (index
    `ix_events_case_id`): those filed under a case id in `cases`, and, with `unfiled`,
    those under no case (first on SQLite and last on PostgreSQL, where NULLs sort last;
    in seq order either way)."""
    columns = ", ".join(SEALED_COLUMNS)
    if cases == EVERY_CASE and unfiled:
        return dialect.stream_tuples(conn, f"SELECT {columns} FROM events ORDER BY case_id, seq")
    # A range is one index range scan; the unfiled events are a second query rather
    # than an OR, which would make SQLite sort the whole range.
    filed = dialect.stream_tuples(
        conn,
        f"SELECT {columns} FROM events WHERE case_id IS NOT NULL "
        f"AND {case_id_condition('case_id', cases)} ORDER BY case_id, seq",
    )
    if not unfiled:
        return filed
    none = dialect.stream_tuples(
        conn, f"SELECT {columns} FROM events WHERE case_id IS NULL ORDER BY seq"
    )
    return itertools.chain(none, filed)


SIGNED_COLUMNS = ("seq", "kind", "trigger", "actor", "fields", "signature", "key_id", "entry_hash")
"""What the signature check reads of an event (`iter_signed_events`)."""


def iter_unfiled_signed_events(
    conn: Connection, *, through: int | None = None
) -> Iterator[Sequence[Any]]:
    """`SIGNED_COLUMNS` of the events under no case (users, keys, installations), in seq
    order, up to `through` if given: the few events the key ring is replayed from."""
    bound = "" if through is None else f" AND seq <= {int(through)}"
    return dialect.stream_tuples(
        conn,
        f"SELECT {', '.join(SIGNED_COLUMNS)} FROM events WHERE case_id IS NULL{bound} ORDER BY seq",
    )


def iter_signed_events(conn: Connection, *, after: int = 0) -> Iterator[Sequence[Any]]:
    """`SIGNED_COLUMNS` of every event after seq `after`, in seq order."""
    return dialect.stream_tuples(
        conn,
        f"SELECT {', '.join(SIGNED_COLUMNS)} FROM events WHERE seq > {int(after)} ORDER BY seq",
    )
