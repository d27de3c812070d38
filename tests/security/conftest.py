"""Fixtures for the security suite: a seeded database on the backend under test (SQLite,
or PostgreSQL when CASEREVIEW_TEST_DATABASE_URL is set), the CLI's own account as its
business unit officer and chair, and raw SQL that puts a value into the stored log the
way a database written before a rule existed (or written around casereview) holds it:
the event's fields changed, every hash from there on recomputed with casereview's
published algorithm, the chain head moved, and the case row given the same value.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from casereview.domain import chain
from casereview.infra.keys import load_key
from casereview.infra.now import FixedClock
from casereview.services import cases, users
from casereview.services.context import ServiceContext
from tests.conftest import BACKEND, TODAY


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


@dataclass
class Seeded:
    """A database with three cases opened three weeks ago, one of them notified and one
    with a note, recorded by the account the CLI runs as."""

    url: str
    account: str
    tmp: Path

    def cli_args(self) -> tuple[str, ...]:
        return ("--db", self.url)

    def store(self, ref: str, trigger: str, *, field: str | None = None, **values: str) -> None:
        """Give the case's first `trigger` event new stored values, as raw SQL would:
        `occurred_on=…`, or one field (`field=name`, `value=…`); the case row follows."""
        store_in_log(self.url, ref, trigger, field=field, **values)


@pytest.fixture
def seeded(database_url: str, tmp_path: Path) -> Iterator[Seeded]:
    account = ServiceContext.from_options(database_url).account
    clock = FixedClock(TODAY)
    me = ServiceContext(url=database_url, account=account, clock=clock)
    try:
        users.init(me)
        for role in ("business_unit", "chair"):
            users.grant_role(me, account, role, None)
        for n, ref in enumerate(("S-001", "S-002", "S-003")):
            cases.open_case(
                me, ref, aware_on=days_ago(22), fields={"nature": "death"}, on=days_ago(21 - n)
            )
        cases.advance(me, "S-001", "notify", fields={"sin_reference": "SIN-1"}, on=days_ago(18))
        cases.advance(me, "S-002", "notify", fields={"sin_reference": "SIN-2"}, on=days_ago(18))
        cases.advance(me, "S-002", "add_note", fields={"note": "chronology"}, on=days_ago(17))
    finally:
        me.close()
    yield Seeded(database_url, account, tmp_path)


# -- raw SQL on either backend ------------------------------------------------------------


def _engine(url: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(url, poolclass=NullPool)


def raw(url: str, statement: str, **params: object) -> list[tuple]:
    """One statement outside casereview, in its own transaction."""
    from sqlalchemy import text

    engine = _engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


_PROTECTION = {
    "sqlite": (
        ["DROP TRIGGER events_no_update"],
        [
            "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
            "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
        ],
    ),
    "postgresql": (
        ["ALTER TABLE events DISABLE TRIGGER USER"],
        ["ALTER TABLE events ENABLE TRIGGER USER"],
    ),
}


def store_in_log(
    url: str, ref: str, trigger: str, *, field: str | None = None, **values: str
) -> None:
    """See `Seeded.store`."""
    from sqlalchemy import text

    columns = ", ".join(chain.HASHED_COLUMNS)
    lift, restore = _PROTECTION[BACKEND]
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            for statement in lift:
                conn.execute(text(statement))
            first = conn.execute(
                text("SELECT MIN(seq) FROM events WHERE case_ref = :ref AND trigger = :t"),
                {"ref": ref, "t": trigger},
            ).scalar_one()
            assert first is not None, (ref, trigger)
            if field is not None:
                stored = json.loads(
                    conn.execute(
                        text("SELECT fields FROM events WHERE seq = :s"), {"s": first}
                    ).scalar_one()
                )
                stored[field] = values["value"]
                conn.execute(
                    text("UPDATE events SET fields = :f WHERE seq = :s"),
                    {"f": chain.canonical_json(stored), "s": first},
                )
                case_fields = json.loads(
                    conn.execute(
                        text("SELECT fields FROM cases WHERE ref = :ref"), {"ref": ref}
                    ).scalar_one()
                )
                case_fields[field] = values["value"]
                conn.execute(
                    text("UPDATE cases SET fields = :f WHERE ref = :ref"),
                    {"f": json.dumps(case_fields, sort_keys=True), "ref": ref},
                )
            if "occurred_on" in values:
                day = values["occurred_on"]
                old = conn.execute(
                    text("SELECT occurred_on FROM events WHERE seq = :s"), {"s": first}
                ).scalar_one()
                conn.execute(
                    text("UPDATE events SET occurred_on = :d WHERE seq = :s"),
                    {"d": day, "s": first},
                )
                # The case row and the clocks it started, as the write would have stored them.
                if trigger == "open":
                    conn.execute(
                        text("UPDATE cases SET opened_on = :d WHERE ref = :ref"),
                        {"d": day, "ref": ref},
                    )
                conn.execute(
                    text("UPDATE cases SET last_event_on = :d WHERE ref = :ref AND last_seq = :s"),
                    {"d": day, "ref": ref, "s": first},
                )
                conn.execute(
                    text(
                        "UPDATE case_clocks SET started_on = :d WHERE started_on = :old "
                        "AND case_id = (SELECT id FROM cases WHERE ref = :ref)"
                    ),
                    {"d": day, "old": old, "ref": ref},
                )
            previous = (
                conn.execute(
                    text("SELECT entry_hash FROM events WHERE seq = :s"), {"s": first - 1}
                ).scalar_one()
                if first > 1
                else chain.GENESIS_HASH
            )
            last = conn.execute(text("SELECT MAX(seq) FROM events")).scalar_one()
            for seq in range(first, last + 1):
                row = conn.execute(
                    text(f"SELECT {columns} FROM events WHERE seq = :s"), {"s": seq}
                ).one()
                record = dict(zip(chain.HASHED_COLUMNS, row, strict=True))
                record["fields"] = json.loads(record["fields"])
                record["prev_hash"] = previous
                sealed = chain.seal(record)
                # Signed again by its recorder (whose key the test holds), as the event
                # would have been signed had it been recorded with this value.
                signer = load_key(str(record["actor"]))
                conn.execute(
                    text(
                        "UPDATE events SET prev_hash = :p, payload = :b, entry_hash = :h, "
                        "signature = :sig WHERE seq = :s AND signature IS NOT NULL"
                    ),
                    {
                        "p": previous,
                        "b": sealed.payload,
                        "h": sealed.entry_hash,
                        "s": seq,
                        "sig": signer.sign(sealed.entry_hash) if signer else None,
                    },
                )
                conn.execute(
                    text(
                        "UPDATE events SET prev_hash = :p, payload = :b, entry_hash = :h "
                        "WHERE seq = :s AND signature IS NULL"
                    ),
                    {"p": previous, "b": sealed.payload, "h": sealed.entry_hash, "s": seq},
                )
                previous = sealed.entry_hash
            conn.execute(text("UPDATE chain_head SET entry_hash = :h"), {"h": previous})
            for statement in restore:
                conn.execute(text(statement))
    finally:
        engine.dispose()


ADMIN = "root"
"""The account that runs `init` in the tests that act as several people."""
