"""Tampering matrix: every kind of raw-SQL tampering in docs/audit.md, each run through
`casereview audit verify` without and with a checkpoint taken before the tampering.

The attacker here has the database file and SQLite: they can drop the append-only
triggers and put them back exactly as they were, recompute hashes with casereview's
own (published) algorithm, and rebuild the projection rows with casereview's own replay
so that the case and clock rows agree with the forged log.

Each class states what it expects (detected or not, without and with a checkpoint) and
which words of docs/audit.md's table say so; `test_docs_table_matches_the_matrix` holds
the two together, so the docs and the behaviour cannot drift apart unnoticed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from casereview.domain import chain
from casereview.infra.now import FixedClock
from casereview.services import audit, cases
from casereview.services import workflows as workflow_service
from casereview.services.context import ServiceContext
from tests.reliability import support

AUDIT_DOC = support.REPO / "docs" / "audit.md"
D = dt.date.fromisoformat


# -- the populated database every class starts from --------------------------------------


def _populate(url: str, clock: FixedClock) -> None:
    # The CLI's own account verifies: read commands are for registered users.
    support.init_database(url, clock, os_account_roles=["scrutineer"])
    ctx = {n: ServiceContext(url=url, account=n, clock=clock) for n in ("bu", "chair", "la")}
    ctx.update({n: ServiceContext(url=url, account=n, clock=clock) for n in ("police", "icb")})
    try:
        for ref in ("T-001", "T-002", "T-003"):
            cases.open_case(ctx["bu"], ref, aware_on=D("2025-06-02"), fields={"nature": "death"})
        steps = [
            ("bu", "T-001", "notify", {"sin_reference": "SIN-1"}, None, None),
            # Keyed by the business unit on the chair's behalf: on_behalf_of is set.
            ("bu", "T-001", "propose_decision", {"recommendation": "lcspr"}, "met", "chair"),
            ("la", "T-001", "sign_off", {}, None, None),
            ("police", "T-001", "sign_off", {}, None, None),
            ("bu", "T-002", "notify", {"sin_reference": "SIN-2"}, None, None),
            ("icb", "T-001", "sign_off", {}, None, None),
            ("bu", "T-001", "submit_rapid_review", {}, None, None),
            ("bu", "T-002", "add_note", {"note": "chronology requested"}, None, None),
            ("chair", "T-001", "add_note", {"note": "panel letter expected"}, None, None),
            ("bu", "T-002", "add_note", {"note": "chronology received"}, None, None),
        ]
        for who, ref, trigger, fields, rationale, behalf in steps:
            cases.advance(
                ctx[who], ref, trigger, fields=fields, rationale=rationale, on_behalf_of=behalf
            )
    finally:
        for c in ctx.values():
            c.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tamper-template") / "template.db"
    _populate(support.sqlite_url(path), FixedClock(support.TODAY))
    support.checkpoint_wal(path)
    return path


# -- the attacker's toolkit ---------------------------------------------------------------


class Attacker:
    """Raw SQLite on the file, append-only protection lifted for the duration."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = sqlite3.connect(str(path), isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.triggers = [
            (r["name"], r["sql"])
            for r in self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'"
            )
        ]
        assert len(self.triggers) >= 2
        for name, _sql in self.triggers:
            self.conn.execute(f"DROP TRIGGER {name}")
        self.restore_triggers = True

    def __enter__(self) -> Attacker:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.restore_triggers:
            for _name, sql in self.triggers:
                self.conn.execute(sql)
        self.conn.close()

    def x(self, sql: str, *params: object) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def last_seq(self) -> int:
        return int(self.x("SELECT MAX(seq) FROM events")[0][0])

    def event(self, seq: int) -> dict:
        rows = self.x("SELECT * FROM events WHERE seq = ?", seq)
        assert rows, seq
        return dict(rows[0])

    def seq_of(self, ref: str, trigger: str, nth: int = 0) -> int:
        rows = self.x(
            "SELECT seq FROM events WHERE case_ref = ? AND trigger = ? ORDER BY seq", ref, trigger
        )
        return int(rows[nth][0])

    def hash_of(self, seq: int) -> str:
        return chain.GENESIS_HASH if seq == 0 else str(self.event(seq)["entry_hash"])

    @staticmethod
    def sealed(row: dict, seq: int, prev_hash: str) -> dict:
        record = {k: row[k] for k in chain.HASHED_COLUMNS}
        record["fields"] = json.loads(row["fields"])
        record["seq"], record["prev_hash"] = seq, prev_hash
        done = chain.seal(record)
        return {
            **row,
            "seq": seq,
            "prev_hash": prev_hash,
            "payload": done.payload,
            "entry_hash": done.entry_hash,
        }

    def write(self, row: dict, *, insert: bool = False) -> None:
        names = [k for k in row if k != "seq"]
        if insert:
            cols = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            self.x(f"INSERT INTO events ({cols}) VALUES ({marks})", *row.values())
        else:
            sets = ", ".join(f"{n} = ?" for n in names)
            self.x(f"UPDATE events SET {sets} WHERE seq = ?", *(row[n] for n in names), row["seq"])

    def reseal_from(self, first: int) -> None:
        """Recompute payload and hash of every event from `first` on; move the head."""
        for seq in range(first, self.last_seq() + 1):
            self.write(self.sealed(self.event(seq), seq, self.hash_of(seq - 1)))
        self.move_head()

    def move_head(self) -> None:
        n = self.last_seq()
        self.x("UPDATE chain_head SET seq = ?, entry_hash = ? WHERE id = 1", n, self.hash_of(n))

    def shift_after(self, seq: int) -> None:
        """Renumber events after `seq` one up (leaving a hole at seq + 1)."""
        for s in range(self.last_seq(), seq, -1):
            self.x("UPDATE events SET seq = ? WHERE seq = ?", s + 1, s)

    def rebuild_projections(self) -> None:
        """Make every case and clock row agree with the (forged) log, using casereview's
        own replay: what an attacker who read the source would do."""
        from sqlalchemy import create_engine

        from casereview.domain import clocks
        from casereview.domain.replay import replay
        from casereview.store import projections

        ctx = ServiceContext(url=support.sqlite_url(self.path), account="x")
        engine = create_engine(support.sqlite_url(self.path))
        try:
            with engine.begin() as conn:
                for row in conn.exec_driver_sql("SELECT * FROM cases").mappings().all():
                    events = [
                        dict(e)
                        for e in conn.exec_driver_sql(
                            "SELECT * FROM events WHERE case_id = ? ORDER BY seq", (row["id"],)
                        ).mappings()
                    ]
                    definition = ctx.registry.get_exact(
                        row["workflow_id"], row["workflow_version"], row["workflow_hash"]
                    )
                    state = replay(definition, row["ref"], events)
                    projections.update_case(
                        conn,
                        row["id"],
                        row["version"],
                        {
                            "state": state.state,
                            "version": state.version,
                            "fields": state.fields,
                            "approvals": state.approvals,
                            "closed": state.closed,
                            "last_event_on": state.last_event_on,
                            "last_seq": state.last_seq,
                        },
                    )
                    derived = clocks.derive(clocks.rules_for(definition), state.facts, ctx.calendar)
                    projections.replace_clocks(
                        conn,
                        row["id"],
                        [clocks.summarise(c) for c in derived.values()],
                        workflow=(definition.id, definition.version),
                    )
        finally:
            engine.dispose()
            ctx.close()


# -- the environment one class runs in ---------------------------------------------------


@dataclass
class Env:
    path: Path
    checkpoint_file: Path
    clock: FixedClock
    checkpointed: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return support.sqlite_url(self.path)

    def take_checkpoint(self) -> None:
        ctx = ServiceContext(url=self.url, account="scrut", clock=self.clock)
        try:
            self.checkpoint_file.write_text(audit.checkpoint(ctx).to_json())
        finally:
            ctx.close()
        self.checkpointed = True

    def advance(self, who: str, ref: str, trigger: str, **fields: str) -> None:
        ctx = ServiceContext(url=self.url, account=who, clock=self.clock)
        try:
            cases.advance(ctx, ref, trigger, fields=fields)
        finally:
            ctx.close()


# -- the classes ------------------------------------------------------------------------

EDITS: dict[str, object] = {
    "seq": None,  # computed: moved past the end of the log
    "kind": "admin",
    "case_ref": "T-002",
    "trigger": "withdraw",
    "from_state": "screening",
    "to_state": "closed",
    "occurred_on": "2025-05-01",
    "recorded_at": "2025-05-01T08:00:00.000000Z",
    "actor": "mallory",
    "on_behalf_of": "police",
    "role": "business_unit",
    "rationale": "nothing to see here",
    "fields": '{"recommendation":"no_lcspr"}',
    "workflow_id": "scr-transitional",
    "workflow_version": 2,
    "definition_hash": "0" * 64,
    "algorithm": "sha512",
    "prev_hash": "f" * 64,
}
assert set(EDITS) == set(chain.HASHED_COLUMNS)


def edit_column(column: str, value: object = None) -> Callable[[Env], None]:
    def tamper(env: Env) -> None:
        with Attacker(env.path) as a:
            seq = a.seq_of("T-001", "propose_decision")
            if column == "seq":
                new = a.last_seq() + 1000
            else:
                new = EDITS[column] if value is None else value
            a.x(f"UPDATE events SET {column} = ? WHERE seq = ?", new, seq)

    return tamper


def recompute_one(which: str) -> Callable[[Env], None]:
    def tamper(env: Env) -> None:
        with Attacker(env.path) as a:
            seq = a.seq_of("T-001", "propose_decision") if which == "middle" else a.last_seq()
            row = a.event(seq)
            if which == "middle":
                row["rationale"] = "rewritten reasons"
            else:
                row["fields"] = '{"note":"nothing received"}'
            a.write(a.sealed(row, seq, row["prev_hash"]))
            if which == "last":
                a.move_head()

    return tamper


def delete(which: str, *, move_head: bool = True) -> Callable[[Env], None]:
    def tamper(env: Env) -> None:
        with Attacker(env.path) as a:
            last = a.last_seq()
            seq = {"first": 1, "middle": a.seq_of("T-001", "sign_off", 1), "last": last}[which]
            a.x("DELETE FROM events WHERE seq = ?", seq)
            if move_head:
                a.move_head()

    return tamper


def forged_note(a: Attacker, seq: int, prev_hash: str, ref: str = "T-003") -> dict:
    template = a.event(a.seq_of(ref, "open"))
    row = {
        **template,
        "trigger": "add_note",
        "from_state": "screening",
        "to_state": "screening",
        "role": "business_unit",
        "actor": "bu",
        "fields": '{"note":"forged"}',
        "occurred_on": "2025-06-02",
    }
    return a.sealed(row, seq, prev_hash)


def insert_middle(env: Env) -> None:
    with Attacker(env.path) as a:
        k = a.seq_of("T-001", "sign_off", 0)
        a.shift_after(k)
        a.write(forged_note(a, k + 1, a.hash_of(k)), insert=True)
        a.move_head()


def append_forged(kind: str) -> Callable[[Env], None]:
    def tamper(env: Env) -> None:
        with Attacker(env.path) as a:
            n = a.last_seq()
            row = forged_note(a, n + 1, a.hash_of(n))
            if kind == "illegal":
                row = a.sealed(
                    {**row, "trigger": "close", "to_state": "closed", "role": "chair"},
                    n + 1,
                    a.hash_of(n),
                )
            a.write(row, insert=True)
            a.move_head()
            if kind == "legal, projections rebuilt":
                a.rebuild_projections()

    return tamper


def append_forged_correction(rebuild: bool) -> Callable[[Env], None]:
    """A correction with correct hashes whose `was` is not what the case recorded."""

    def tamper(env: Env) -> None:
        with Attacker(env.path) as a:
            n = a.last_seq()
            change = {
                "event": a.seq_of("T-003", "open"),
                "field": "aware_on",
                "now": "2025-05-01",
                "was": "1999-01-01",
                "what": "field",
            }
            fields = chain.canonical_json({"changes": [change]})
            row = {**forged_note(a, n + 1, a.hash_of(n)), "trigger": "correct", "fields": fields}
            a.write(a.sealed(row, n + 1, a.hash_of(n)), insert=True)
            a.move_head()
            if rebuild:
                a.rebuild_projections()

    return tamper


def reorder(env: Env) -> None:
    with Attacker(env.path) as a:
        k = a.seq_of("T-001", "sign_off", 0)
        a.x("UPDATE events SET seq = -1 WHERE seq = ?", k)
        a.x("UPDATE events SET seq = ? WHERE seq = ?", k, k + 1)
        a.x("UPDATE events SET seq = ? WHERE seq = -1", k + 1)


def duplicate(env: Env) -> None:
    with Attacker(env.path) as a:
        k = a.seq_of("T-002", "add_note", 0)
        copy = a.event(k)
        a.shift_after(k)
        a.write(a.sealed(copy, k + 1, a.hash_of(k)), insert=True)
        a.move_head()


def rewrite_from(where: str) -> Callable[[Env], None]:
    after = where == "after the checkpoint"

    def tamper(env: Env) -> None:
        if after:  # the checkpoint first, then two more events, then the rewrite
            env.take_checkpoint()
            env.advance("bu", "T-002", "add_note", note="first note after the checkpoint")
            env.advance("bu", "T-002", "add_note", note="second note after the checkpoint")
        with Attacker(env.path) as a:
            first = a.last_seq() - 1 if after else a.seq_of("T-001", "propose_decision")
            row = a.event(first)
            if after:
                row["fields"] = '{"note":"a different note"}'
            else:
                row["rationale"] = "a different rationale"
            a.write(row)
            a.reseal_from(first)
            a.rebuild_projections()

    return tamper


# -- authority: who may record what ------------------------------------------------------


def role_borrowed_for_one_step(env: Env) -> None:
    """The users row gains chair, `la` records a note (as chair, the first of add_note's
    roles it holds), and the row is put back."""
    conn = support.connect(env.path)
    try:
        conn.execute("UPDATE users SET roles = '[\"chair\",\"partner\"]' WHERE username = 'la'")
        env.advance("la", "T-002", "add_note", note="recorded as chair")
        conn.execute("UPDATE users SET roles = '[\"partner\"]' WHERE username = 'la'")
    finally:
        conn.close()


def append_forged_case_event(**columns: str) -> Callable[[Env], None]:
    """A correctly hashed note on T-003 with `columns` changed; projections rebuilt."""

    def tamper(env: Env) -> None:
        with Attacker(env.path) as a:
            n = a.last_seq()
            row = {**forged_note(a, n + 1, a.hash_of(n)), **columns}
            a.write(a.sealed(row, n + 1, a.hash_of(n)), insert=True)
            a.move_head()
            a.rebuild_projections()

    return tamper


def append_admin_event(
    trigger: str, fields: dict[str, object], actor: str = support.ADMIN, user_row: str = ""
) -> Callable[[Env], None]:
    """A correctly hashed admin event (built on the log's first, the bootstrap); then
    `user_row`, an UPDATE of the users table, if given."""

    def tamper(env: Env) -> None:
        with Attacker(env.path) as a:
            n = a.last_seq()
            row = {
                **a.event(1),
                "trigger": trigger,
                "actor": actor,
                "fields": chain.canonical_json(fields),
            }
            a.write(a.sealed(row, n + 1, a.hash_of(n)), insert=True)
            a.move_head()
            if user_row:
                a.x(user_row)

    return tamper


def on_behalf_of_a_deactivated_account(env: Env) -> None:
    """The admin deactivates `la` (event and row), then a note is forged as recorded by
    the business unit on `la`'s behalf."""
    deactivate = append_admin_event(
        "user_deactivate",
        {"username": "la"},
        user_row="UPDATE users SET active = 0 WHERE username = 'la'",
    )
    deactivate(env)
    append_forged_case_event(on_behalf_of="la", role="partner")(env)


def sign_off_for_another_agency(env: Env) -> None:
    """T-002 reaches its sign-off round; the police partner signs for the local
    authority (a correctly hashed event copied from T-001's first sign-off)."""
    ctx = ServiceContext(url=env.url, account="chair", clock=env.clock)
    try:
        cases.advance(
            ctx, "T-002", "propose_decision", fields={"recommendation": "lcspr"}, rationale="met"
        )
    finally:
        ctx.close()
    with Attacker(env.path) as a:
        n = a.last_seq()
        (case_id,) = a.x("SELECT id FROM cases WHERE ref = 'T-002'")[0]
        row = {
            **a.event(a.seq_of("T-001", "sign_off")),
            "case_id": case_id,
            "case_ref": "T-002",
            "actor": "police",
            "fields": '{"agency":"local_authority"}',
        }
        a.write(a.sealed(row, n + 1, a.hash_of(n)), insert=True)
        a.move_head()
        a.rebuild_projections()


def open_on_a_workflow_not_installed(env: Env) -> None:
    """The admin installs another version of the workflow; the case is then opened on
    the one that was never installed, by a casereview whose own check is taken out."""
    append_admin_event(
        "workflow_install",
        {
            "workflow_id": "england-lcspr",
            "version": 99,
            "definition_hash": "0" * 64,
            "title": "another version",
        },
    )(env)
    ctx = ServiceContext(url=env.url, account="bu", clock=env.clock)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cases, "check_installed", lambda conn, definition: None)
        try:
            cases.open_case(ctx, "T-010", aware_on=D("2025-06-02"), fields={"nature": "death"})
        finally:
            ctx.close()


def truncate_tail(env: Env) -> None:
    with Attacker(env.path) as a:
        n = a.last_seq()
        a.x("DELETE FROM events WHERE seq > ?", n - 3)
        a.move_head()
        a.rebuild_projections()


def restore_older_copy(env: Env) -> None:
    old = env.path.with_name("older-copy.db")
    support.copy_database(env.path, old)
    env.advance("bu", "T-002", "add_note", note="written after the copy was taken")
    env.advance("chair", "T-001", "add_note", note="also after the copy")
    env.take_checkpoint()
    support.copy_database(old, env.path)


def store_date_out_of_range(env: Env) -> None:
    """A year typed as 1026 for 2026, as casereview accepted before dates were checked on
    input: the event holds it with hashes that agree, and so does the case row."""
    with Attacker(env.path) as a:
        seq = a.seq_of("T-003", "open")
        row = a.event(seq)
        fields = json.loads(row["fields"])
        fields["aware_on"] = "1026-06-02"
        row["fields"] = chain.canonical_json(fields)
        a.write(row)
        a.reseal_from(seq)
        (case_fields,) = a.x("SELECT fields FROM cases WHERE ref = 'T-003'")[0]
        stored = {**json.loads(case_fields), "aware_on": "1026-06-02"}
        a.x("UPDATE cases SET fields = ? WHERE ref = 'T-003'", json.dumps(stored))


def projection_edit(sql: str) -> Callable[[Env], None]:
    def tamper(env: Env) -> None:
        conn = support.connect(env.path)
        try:
            conn.execute(sql)
        finally:
            conn.close()

    return tamper


def drop_trigger(which: str) -> Callable[[Env], None]:
    def tamper(env: Env) -> None:
        with Attacker(env.path) as a:
            a.triggers = [t for t in a.triggers if which not in t[0]]  # not put back

    return tamper


def replace_trigger(which: str) -> Callable[[Env], None]:
    """Put back, under the same name, a trigger that does nothing."""

    def tamper(env: Env) -> None:
        with Attacker(env.path) as a:
            a.triggers = [
                (
                    name,
                    f"CREATE TRIGGER {name} BEFORE {which.upper()} ON events BEGIN SELECT 1; END",
                )
                if which in name
                else (name, sql)
                for name, sql in a.triggers
            ]

    return tamper


@contextmanager
def environment(name: str, value: str) -> Iterator[None]:
    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


def edit_workflow_file(env: Env) -> None:
    workflows = env.path.parent / "workflows"
    workflows.mkdir()
    text = support.WORKFLOW_FILE.read_text(encoding="utf-8")
    assert 'id = "england-lcspr"' in text
    installed = workflows / "tamper-lcspr.toml"
    installed.write_text(text.replace('id = "england-lcspr"', 'id = "tamper-lcspr"', 1))
    env.extra_env["CASEREVIEW_WORKFLOWS"] = str(workflows)
    with environment("CASEREVIEW_WORKFLOWS", str(workflows)):
        admin = ServiceContext(url=env.url, account=support.ADMIN, clock=env.clock)
        try:
            workflow_service.install(admin, "tamper-lcspr")
        finally:
            admin.close()
        ctx = ServiceContext(url=env.url, account="bu", clock=env.clock)
        try:
            cases.open_case(ctx, "T-900", aware_on=D("2025-06-02"), workflow="tamper-lcspr")
        finally:
            ctx.close()
        env.take_checkpoint()
    # Same id, same version number, different bytes: a quiet edit of the rules.
    installed.write_text(installed.read_text() + "\n# rapid review relaxed locally\n")


DETECTED, UNDETECTED = "detected", "not detected"


@dataclass(frozen=True)
class TamperClass:
    name: str
    tamper: Callable[[Env], None]
    row: str  # a phrase of the docs table's first column that identifies the row
    without: str
    with_checkpoint: str
    # Words of the docs row's cells that justify the two expectations.
    docs_without: str = "detected"
    docs_with: str = "detected"
    takes_own_checkpoint: bool = False
    bug: str | None = None  # a known defect in casereview: the test is a strict xfail


ROW_EDIT = "edit any hashed column"
CLASSES: list[TamperClass] = [
    *(
        TamperClass(f"edit column {c}", edit_column(c), ROW_EDIT, DETECTED, DETECTED)
        for c in chain.HASHED_COLUMNS
    ),
    TamperClass("edit payload only", edit_column("payload", "{}"), ROW_EDIT, DETECTED, DETECTED),
    TamperClass(
        "edit entry_hash only", edit_column("entry_hash", "e" * 64), ROW_EDIT, DETECTED, DETECTED
    ),
    TamperClass(
        "edit column occurred_on to a value that is not a date",
        edit_column("occurred_on", "not-a-date"),
        ROW_EDIT,
        DETECTED,
        DETECTED,
    ),
    TamperClass(
        "edit column fields to text that is not JSON",
        edit_column("fields", "{broken"),
        ROW_EDIT,
        DETECTED,
        DETECTED,
    ),
    TamperClass(
        "edit case_id (not hashed; checked against case_ref)",
        edit_column("case_id", 2),
        ROW_EDIT,
        DETECTED,
        DETECTED,
    ),
    TamperClass(
        "recompute one middle event's payload and hash",
        recompute_one("middle"),
        "payload and recompute its hash",
        DETECTED,
        DETECTED,
        docs_without="detected (`link`",
    ),
    TamperClass(
        "recompute the last event's payload and hash, head moved",
        recompute_one("last"),
        "payload and recompute its hash",
        DETECTED,
        DETECTED,
        docs_without="the last event with the head also moved included",
    ),
    TamperClass("delete the first event", delete("first"), "delete the first", DETECTED, DETECTED),
    TamperClass("delete a middle event", delete("middle"), "delete the first", DETECTED, DETECTED),
    TamperClass(
        "delete the last event, head moved back",
        delete("last"),
        "delete the last event",
        DETECTED,
        DETECTED,
        docs_without="detected by replay",
        docs_with="detected (`checkpoint`)",
    ),
    TamperClass(
        "delete the last event, head left",
        delete("last", move_head=False),
        "delete the last event",
        DETECTED,
        DETECTED,
        docs_without="detected",
        docs_with="detected (`checkpoint`)",
    ),
    TamperClass(
        "insert a forged event in the middle", insert_middle, "insert a forged", DETECTED, DETECTED
    ),
    TamperClass(
        "append a forged illegal move with correct hashes",
        append_forged("illegal"),
        "append a forged event",
        DETECTED,
        DETECTED,
        docs_without="detected (`signature`)",
    ),
    TamperClass(
        "append a forged legal event, projections not updated",
        append_forged("legal"),
        "append a forged event",
        DETECTED,
        DETECTED,
        docs_without="detected (`signature`)",
    ),
    TamperClass(
        "append a forged legal event, projections rebuilt",
        append_forged("legal, projections rebuilt"),
        "append a forged event",
        DETECTED,
        DETECTED,
        docs_without="a legal, fully consistent forgery included",
    ),
    *(
        TamperClass(
            f"append a forged correction that misstates what it corrects{how}",
            append_forged_correction(rebuild),
            "append a forged correction",
            DETECTED,
            DETECTED,
            docs_without="detected by replay",
        )
        for rebuild, how in ((False, ""), (True, ", projections rebuilt"))
    ),
    TamperClass("reorder two events", reorder, "reorder or duplicate", DETECTED, DETECTED),
    TamperClass("duplicate an event", duplicate, "reorder or duplicate", DETECTED, DETECTED),
    TamperClass(
        "rewrite from event i (i within the checkpoint), hashes and projections recomputed",
        rewrite_from("within the checkpoint"),
        "rewrite history from event",
        DETECTED,
        DETECTED,
        docs_without="detected (`signature`",
    ),
    TamperClass(
        "rewrite from event i (i after the checkpoint), hashes and projections recomputed",
        rewrite_from("after the checkpoint"),
        "rewrite history from event",
        DETECTED,
        DETECTED,
        docs_without="detected (`signature`",
        takes_own_checkpoint=True,
    ),
    TamperClass(
        "truncate the tail, head and projections fixed",
        truncate_tail,
        "truncate the tail",
        UNDETECTED,
        DETECTED,
        docs_without="**not detected**",
    ),
    TamperClass(
        "restore an older copy of the database file",
        restore_older_copy,
        "restore an older copy",
        UNDETECTED,
        DETECTED,
        docs_without="**not detected**",
        takes_own_checkpoint=True,
    ),
    TamperClass(
        "change a case's state directly",
        projection_edit("UPDATE cases SET state = 'closed' WHERE ref = 'T-001'"),
        "change a case's state",
        DETECTED,
        DETECTED,
    ),
    TamperClass(
        "change a case's fields directly",
        projection_edit(
            "UPDATE cases SET fields = json_set(fields, '$.nature', 'other') WHERE ref = 'T-002'"
        ),
        "change a case's state",
        DETECTED,
        DETECTED,
    ),
    TamperClass(
        "move a clock's due date directly",
        projection_edit("UPDATE case_clocks SET due_on = '2099-01-01'"),
        "change a case's state",
        DETECTED,
        DETECTED,
    ),
    TamperClass(
        "change a user's roles directly",
        projection_edit(
            "UPDATE users SET roles = '[\"chair\",\"scrutineer\"]' WHERE username = 'scrut'"
        ),
        "change a user's roles",
        DETECTED,
        DETECTED,
    ),
    TamperClass(
        "edit the copy of an installed workflow kept in the database",
        projection_edit(
            "UPDATE installed_workflows SET content = content || '# relaxed' "
            "WHERE workflow_id = 'england-lcspr'"
        ),
        "change the installed workflows",
        DETECTED,
        DETECTED,
    ),
    TamperClass(
        "install a workflow directly, without its event",
        projection_edit(
            "INSERT INTO installed_workflows (workflow_id, version, definition_hash, title, "
            "content, installed_seq) VALUES ('mine', 1, 'x', 'Mine', '', 1)"
        ),
        "change the installed workflows",
        DETECTED,
        DETECTED,
    ),
    TamperClass(
        "add chair to a users row for one step, then put the row back",
        role_borrowed_for_one_step,
        "add a role to a user's row",
        DETECTED,
        DETECTED,
        docs_without="detected (`authority`",
    ),
    TamperClass(
        "append a correctly hashed event naming another person and a role they lack",
        append_forged_case_event(actor="la", role="chair"),
        "add a role to a user's row",
        DETECTED,
        DETECTED,
        docs_without="detected (`authority`",
    ),
    TamperClass(
        "append a correctly hashed event by an account that is not a user",
        append_forged_case_event(actor="mallory"),
        "an event recorded by an account that was not a registered user",
        DETECTED,
        DETECTED,
        docs_without="detected (`authority`)",
    ),
    TamperClass(
        "append a correctly hashed event on behalf of a deactivated account",
        on_behalf_of_a_deactivated_account,
        "an event recorded by an account that was not a registered user",
        DETECTED,
        DETECTED,
        docs_without="detected (`authority`)",
    ),
    TamperClass(
        "append a correctly hashed scrutineer's note",
        append_forged_case_event(actor="scrut", role="scrutineer"),
        "an event in a role the workflow does not let record that step",
        DETECTED,
        DETECTED,
        docs_without="detected (`authority`)",
    ),
    TamperClass(
        "append a user change giving a partner chair, made by that partner",
        append_admin_event(
            "user_change",
            {
                "username": "la",
                "display_name": "La",
                "roles": ["chair", "partner"],
                "agency": "local_authority",
            },
            actor="la",
            user_row="UPDATE users SET roles = '[\"chair\",\"partner\"]' WHERE username = 'la'",
        ),
        "an admin event (a user change",
        DETECTED,
        DETECTED,
        docs_without="detected (`authority`)",
    ),
    TamperClass(
        "append a partner's sign-off for another agency",
        sign_off_for_another_agency,
        "a partner's sign-off for another agency",
        DETECTED,
        DETECTED,
        docs_without="detected (`authority`)",
    ),
    TamperClass(
        "deactivate a user in the log, keep the users row active",
        append_admin_event("user_deactivate", {"username": "la"}),
        "a user's row marked active after the log deactivated them",
        DETECTED,
        DETECTED,
        docs_without="detected (`projection`)",
    ),
    TamperClass(
        "open a case on a workflow version no admin installed",
        open_on_a_workflow_not_installed,
        "a case opened, after the log's first workflow installation",
        DETECTED,
        DETECTED,
        docs_without="detected (`authority`)",
    ),
    TamperClass(
        "drop the append-only UPDATE trigger",
        drop_trigger("update"),
        "drop the append-only trigger",
        DETECTED,
        DETECTED,
    ),
    TamperClass(
        "drop the append-only DELETE trigger",
        drop_trigger("delete"),
        "drop the append-only trigger",
        DETECTED,
        DETECTED,
    ),
    TamperClass(
        "replace the append-only UPDATE trigger by one that does nothing",
        replace_trigger("update"),
        "replace an append-only trigger",
        DETECTED,
        DETECTED,
    ),
    TamperClass(
        "store a date outside the supported range, hashes recomputed",
        store_date_out_of_range,
        "a stored date outside the dates casereview supports",
        DETECTED,
        DETECTED,
        docs_without="detected (`date`)",
    ),
    TamperClass(
        "edit a workflow file without a new version number",
        edit_workflow_file,
        "edit a workflow file",
        DETECTED,
        DETECTED,
        docs_without="verify reports it",
        docs_with="the same",
        takes_own_checkpoint=True,
    ),
]
BY_NAME = {c.name: c for c in CLASSES}
assert len(BY_NAME) == len(CLASSES)


# -- running verify ---------------------------------------------------------------------


def verify(cli, env: Env, *, with_checkpoint: bool) -> tuple[int, list[str]]:
    """`audit verify --json` in-process: (exit code, the checks that found something)."""
    args = ["audit", "verify", "--db", str(env.path), "--json"]
    if with_checkpoint:
        args += ["--checkpoint", str(env.checkpoint_file)]
    result = cli(*args, env=env.extra_env or None)
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code not in (0, 7):
        return result.exit_code, [result.stderr.strip()]
    data = json.loads(result.stdout)
    assert data["ok"] == (result.exit_code == 0)
    assert data["checkpoint_used"] == with_checkpoint
    return result.exit_code, sorted({f["check"] for f in data["findings"]})


@pytest.fixture(scope="module")
def observed():
    results: dict[str, dict] = {}
    yield results
    if not results:
        return

    def having(key: str, outcome: str) -> list[str]:
        return sorted(n for n, r in results.items() if r[key].startswith(outcome))

    summary: dict[str, object] = {
        "classes": len(results),
        "detected without a checkpoint": len(having("without checkpoint", "detected")),
        "detected with a checkpoint": len(having("with checkpoint", "detected")),
        "undetected without a checkpoint": having("without checkpoint", "NOT"),
        "undetected even with a checkpoint": having("with checkpoint", "NOT"),
        "verify itself failed": having("without checkpoint", "verify failed"),
        "classes behaving as docs/audit.md says": sum(r["as documented"] for r in results.values()),
        "known bugs (strict xfail)": sorted(n for n, r in results.items() if r["known bug"]),
    }
    for name in sorted(results):
        r = results[name]
        summary[name] = f"{r['without checkpoint']} / {r['with checkpoint']}"
    support.record_figures("tampering", "matrix", summary, classes=results)


def describe(code: int) -> str:
    return {0: "NOT detected", 7: "detected"}.get(code, f"verify failed (exit {code})")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(c.name, marks=pytest.mark.xfail(strict=True, reason=c.bug))
        if c.bug
        else c.name
        for c in CLASSES
    ],
)
def test_tampering_is_detected_as_documented(name, template, tmp_path, cli, observed):
    cls = BY_NAME[name]
    path = tmp_path / "tampered.db"
    support.copy_database(template, path)
    env = Env(path, tmp_path / "checkpoint.json", FixedClock(support.TODAY))
    assert verify(cli, env, with_checkpoint=False) == (0, [])  # the untouched copy verifies
    if not cls.takes_own_checkpoint:
        env.take_checkpoint()
    cls.tamper(env)
    assert env.checkpointed
    code, checks = verify(cli, env, with_checkpoint=False)
    code_cp, checks_cp = verify(cli, env, with_checkpoint=True)
    expected = (7 if cls.without == DETECTED else 0, 7 if cls.with_checkpoint == DETECTED else 0)
    observed[name] = {
        "without checkpoint": describe(code),
        "with checkpoint": describe(code_cp),
        "checks without checkpoint": checks,
        "checks with checkpoint": checks_cp,
        "docs row": cls.row,
        "as documented": (code, code_cp) == expected,
        "known bug": cls.bug,
    }
    assert (code, code_cp) == expected, (checks, checks_cp)


# -- the docs' table --------------------------------------------------------------------


def docs_rows() -> list[tuple[str, str, str]]:
    text = AUDIT_DOC.read_text(encoding="utf-8")
    section = text[text.index("## What is detected, and what is not") :]
    rows = []
    in_table = False
    for line in section.splitlines():
        if not line.startswith("|"):
            if in_table:
                break
            continue
        in_table = True
        if line.startswith("|---") or "without a checkpoint" in line:
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) == 3:
            rows.append((cells[0], cells[1], cells[2]))
    return rows


def test_docs_table_matches_the_matrix():
    rows = docs_rows()
    assert len(rows) >= 10, "docs/audit.md lost its table of what is detected"
    for cls in CLASSES:
        matching = [r for r in rows if cls.row in r[0]]
        assert len(matching) == 1, f"{cls.name}: no single docs row says {cls.row!r}"
        _first, without, with_cp = matching[0]
        assert cls.docs_without in without, (cls.name, without)
        assert cls.docs_with in with_cp, (cls.name, with_cp)
        # A plain "**not detected**" cell must mean not detected, and vice versa.
        if without.startswith("**not detected**"):
            assert cls.without == UNDETECTED, cls.name
        if cls.without == UNDETECTED:
            plain = without.replace("*", "")
            assert "not detect" in plain or "except" in plain, (cls.name, without)
        if with_cp == "detected":
            assert cls.with_checkpoint == DETECTED, cls.name
    covered = {r[0] for r in rows if any(c.row in r[0] for c in CLASSES)}
    assert covered == {r[0] for r in rows}, "a docs row has no tampering class here"
