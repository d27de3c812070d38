"""Ordered, named schema migrations, applied when a database is opened.

Each migration is a function that receives a connection inside the migration
transaction; its name is recorded in `schema_migrations` so it runs exactly once.
Never edit a migration that has shipped: add a new one. The DDL is written out rather
than generated from the SQLModel classes so that an old database is upgraded by exactly
the statements a reviewer can read here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Connection


@dataclass(frozen=True)
class Migration:
    name: str
    apply: Callable[[Connection], None]


def _is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _0001_initial(conn: Connection) -> None:
    from sqlalchemy import text

    boolean = "BOOLEAN" if _is_postgres(conn) else "INTEGER"
    statements = [
        f"""
        CREATE TABLE users (
            username TEXT PRIMARY KEY,
            display_name TEXT NOT NULL,
            roles TEXT NOT NULL,
            agency TEXT,
            active {boolean} NOT NULL,
            created_seq INTEGER NOT NULL
        )""",
        f"""
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            ref TEXT NOT NULL UNIQUE,
            pseudonym TEXT NOT NULL,
            workflow_id TEXT NOT NULL,
            workflow_version INTEGER NOT NULL,
            workflow_hash TEXT NOT NULL,
            state TEXT NOT NULL,
            version INTEGER NOT NULL,
            fields TEXT NOT NULL,
            approvals TEXT NOT NULL,
            opened_on TEXT NOT NULL,
            closed {boolean} NOT NULL,
            last_event_on TEXT NOT NULL,
            last_seq INTEGER NOT NULL
        )""",
        "CREATE INDEX ix_cases_state ON cases (state)",
        "CREATE INDEX ix_cases_closed ON cases (closed)",
        """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            case_id INTEGER REFERENCES cases (id),
            case_ref TEXT,
            trigger TEXT NOT NULL,
            from_state TEXT,
            to_state TEXT,
            occurred_on TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            actor TEXT NOT NULL,
            on_behalf_of TEXT,
            role TEXT,
            rationale TEXT,
            fields TEXT NOT NULL,
            workflow_id TEXT,
            workflow_version INTEGER,
            definition_hash TEXT,
            algorithm TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            payload TEXT NOT NULL,
            entry_hash TEXT NOT NULL UNIQUE
        )""",
        "CREATE INDEX ix_events_case_id ON events (case_id, seq)",
        f"""
        CREATE TABLE case_clocks (
            case_id INTEGER NOT NULL REFERENCES cases (id),
            clock_id TEXT NOT NULL,
            label TEXT NOT NULL,
            kind TEXT NOT NULL,
            state TEXT NOT NULL,
            anchor_on TEXT,
            due_on TEXT,
            warn_from TEXT,
            started_on TEXT,
            stopped_on TEXT,
            remaining_days INTEGER,
            paused_days INTEGER NOT NULL,
            ends_on_due {boolean} NOT NULL,
            PRIMARY KEY (case_id, clock_id)
        )""",
        # The dashboard reads open clocks soonest first: this index serves it directly.
        "CREATE INDEX ix_case_clocks_open_due ON case_clocks (state, due_on)",
        """
        CREATE TABLE chain_head (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq INTEGER NOT NULL,
            entry_hash TEXT NOT NULL
        )""",
        # The head row exists from the start, so every writer can lock it (PostgreSQL:
        # SELECT … FOR UPDATE) even before the first event.
        f"INSERT INTO chain_head (id, seq, entry_hash) VALUES (1, 0, '{'0' * 64}')",
    ]
    for statement in statements:
        conn.execute(text(statement))
    _append_only_triggers(conn)


def _append_only_triggers(conn: Connection) -> None:
    """Refuse UPDATE and DELETE on events inside the database itself."""
    from sqlalchemy import text

    if _is_postgres(conn):
        conn.execute(
            text(
                """
                CREATE FUNCTION casereview_events_append_only() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'events are append-only';
                END $$"""
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
                "FOR EACH ROW EXECUTE FUNCTION casereview_events_append_only()"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
                "FOR EACH STATEMENT EXECUTE FUNCTION casereview_events_append_only()"
            )
        )
        return
    for action in ("UPDATE", "DELETE"):
        conn.execute(
            text(
                f"CREATE TRIGGER events_no_{action.lower()} BEFORE {action} ON events "
                "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
            )
        )


APP_ROLE = "casereview_app"
READ_ROLE = "casereview_read"


def _0002_postgres_roles(conn: Connection) -> None:
    """PostgreSQL: group roles for people (read-write without UPDATE/DELETE on events) and
    for read-only scrutiny. Grant them to login roles with `GRANT casereview_app TO alice`.

    Creating roles needs CREATEROLE; where the installing account lacks it, the grants
    are skipped with a notice and docs/deployment.md has the statements to run by hand.
    """
    from sqlalchemy import text

    if not _is_postgres(conn):
        return
    conn.execute(
        text(
            f"""
            DO $$
            BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                    CREATE ROLE {APP_ROLE} NOLOGIN;
                END IF;
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READ_ROLE}') THEN
                    CREATE ROLE {READ_ROLE} NOLOGIN;
                END IF;
                REVOKE ALL ON events, cases, case_clocks, chain_head, users, schema_migrations
                    FROM PUBLIC;
                GRANT SELECT ON events, cases, case_clocks, chain_head, users, schema_migrations
                    TO {APP_ROLE}, {READ_ROLE};
                GRANT INSERT ON events TO {APP_ROLE};
                GRANT INSERT, UPDATE, DELETE ON cases, case_clocks, users TO {APP_ROLE};
                GRANT UPDATE ON chain_head TO {APP_ROLE};
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE NOTICE 'casereview: could not create roles; see docs/deployment.md';
            END $$"""
        )
    )


def _0003_due_covering_index(conn: Connection) -> None:
    """Let `due` count and page open clocks from the index alone.

    The dashboard's summary counts every open clock by status (overdue, in its warning
    window, due within five working days, paused) and shows the soonest page of them.
    With `ends_on_due` and `warn_from` in the index beside `(state, due_on)`, those
    counts read only the index; before, every open clock was looked up in the table.
    """
    from sqlalchemy import text

    conn.execute(text("DROP INDEX ix_case_clocks_open_due"))
    conn.execute(
        text(
            "CREATE INDEX ix_case_clocks_due ON case_clocks (state, due_on, ends_on_due, warn_from)"
        )
    )


_EVENT_COLUMNS = (
    "seq, kind, case_id, case_ref, trigger, from_state, to_state, occurred_on, recorded_at, "
    "actor, on_behalf_of, role, rationale, fields, workflow_id, workflow_version, "
    "definition_hash, algorithm, prev_hash, payload, entry_hash"
)


def _0004_entry_hash_not_unique(conn: Connection) -> None:
    """Drop the unique index on `events.entry_hash`.

    Nothing looks events up by hash on a hot path, and the chain already makes every
    hash distinct (each one covers its predecessor and the event's own seq), so the
    index bought no integrity. It cost a great deal: every event inserted one random
    key into it, touching a different page each time, which halved the speed of a
    national-scale import (docs/performance-history.md has the figures).

    PostgreSQL drops the constraint. SQLite cannot drop an index made by a column
    constraint, so the table is rebuilt with the same columns and the same bytes in
    every row (SQLite's documented twelve-step procedure, within the migration's
    transaction); the append-only triggers are dropped for the copy and made again.
    """
    from sqlalchemy import text

    if _is_postgres(conn):
        names = conn.execute(
            text(
                "SELECT con.conname FROM pg_constraint con "
                "JOIN pg_attribute att ON att.attrelid = con.conrelid "
                "AND att.attnum = ANY (con.conkey) "
                "WHERE con.conrelid = 'events'::regclass AND con.contype = 'u' "
                "AND att.attname = 'entry_hash'"
            )
        ).scalars()
        for name in list(names):
            conn.execute(text(f'ALTER TABLE events DROP CONSTRAINT "{name}"'))
        return
    for trigger in APPEND_ONLY_TRIGGERS_SQLITE:
        conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
    conn.execute(
        text(
            """
            CREATE TABLE events_rebuilt (
                seq INTEGER PRIMARY KEY,
                kind TEXT NOT NULL,
                case_id INTEGER REFERENCES cases (id),
                case_ref TEXT,
                trigger TEXT NOT NULL,
                from_state TEXT,
                to_state TEXT,
                occurred_on TEXT NOT NULL,
                recorded_at TEXT NOT NULL,
                actor TEXT NOT NULL,
                on_behalf_of TEXT,
                role TEXT,
                rationale TEXT,
                fields TEXT NOT NULL,
                workflow_id TEXT,
                workflow_version INTEGER,
                definition_hash TEXT,
                algorithm TEXT NOT NULL,
                prev_hash TEXT NOT NULL,
                payload TEXT NOT NULL,
                entry_hash TEXT NOT NULL
            )"""
        )
    )
    conn.execute(
        text(
            f"INSERT INTO events_rebuilt ({_EVENT_COLUMNS}) "
            f"SELECT {_EVENT_COLUMNS} FROM events ORDER BY seq"
        )
    )
    conn.execute(text("DROP TABLE events"))
    conn.execute(text("ALTER TABLE events_rebuilt RENAME TO events"))
    conn.execute(text("CREATE INDEX ix_events_case_id ON events (case_id, seq)"))
    _append_only_triggers(conn)


def _0005_voided_cases(conn: Connection) -> None:
    """Add `cases.voided_seq`: the seq of the event that voided a case opened in error
    (null for every other case, so every existing row stays as it was).

    Lists of cases, the calendar feed and the annual report leave voided cases out; a
    voided case's clocks are already gone from `case_clocks` (its replay ends them), so
    `due` needs no change.
    """
    from sqlalchemy import text

    conn.execute(text("ALTER TABLE cases ADD COLUMN voided_seq INTEGER"))


def _0006_event_signatures(conn: Connection) -> None:
    """Add `events.signature` and `events.key_id`: the recorder's Ed25519 signature over
    the event's entry hash, and which of the recorder's enrolled keys made it.

    Both stay outside the hash chain (a signature covers the hash, so it cannot be part
    of it) and are null on events recorded before signing began.
    """
    from sqlalchemy import text

    conn.execute(text("ALTER TABLE events ADD COLUMN signature TEXT"))
    conn.execute(text("ALTER TABLE events ADD COLUMN key_id TEXT"))


def _0007_installed_workflows(conn: Connection) -> None:
    """Add `installed_workflows`: the projection of the `workflow_install` events (which
    workflow versions an admin made usable for new cases), one row per (id, version)
    with the installed file's content, so that a case replays from the database even
    where its file is missing. The content is trusted only as far as its sha256 equals
    the install event's `definition_hash`. On PostgreSQL the people's role may read the
    rows and add one (an install); nobody changes or removes them.
    """
    from sqlalchemy import text

    conn.execute(
        text(
            """
            CREATE TABLE installed_workflows (
                workflow_id TEXT NOT NULL,
                version INTEGER NOT NULL,
                definition_hash TEXT NOT NULL,
                title TEXT NOT NULL,
                content TEXT NOT NULL,
                installed_seq INTEGER NOT NULL,
                PRIMARY KEY (workflow_id, version)
            )"""
        )
    )
    if not _is_postgres(conn):
        return
    conn.execute(
        text(
            f"""
            DO $$
            BEGIN
                REVOKE ALL ON installed_workflows FROM PUBLIC;
                GRANT SELECT ON installed_workflows TO {APP_ROLE}, {READ_ROLE};
                GRANT INSERT ON installed_workflows TO {APP_ROLE};
            EXCEPTION WHEN insufficient_privilege OR undefined_object THEN
                RAISE NOTICE 'casereview: could not grant on installed_workflows; '
                    'see docs/deployment.md';
            END $$"""
        )
    )


def _0009_case_overlays(conn: Connection) -> None:
    """Add `cases.hold`: the hold on a case held in its stage (the workflow's `[holds]`),
    as JSON (since, review_by, the hold's trigger and seq, what it recorded); null for a
    case that is not held, so every existing row stays as it was.

    The hold is a projection of the case's events like its state and fields (`audit
    verify` compares it with replay); `due` reads the clock rows, where a held case's
    paused clocks and its hold-review clock already are, so it needs no index here.
    """
    from sqlalchemy import text

    conn.execute(text("ALTER TABLE cases ADD COLUMN hold TEXT"))


def _0010_case_links_processes(conn: Connection) -> None:
    """Add `cases.processes` and `cases.links`: the case's parallel processes (the
    workflow's `[processes]`: a trial, an inquest) as a JSON list in number order, and
    the links it recorded to other cases (`[links]`) as a JSON list in event order; null
    for a case with none, so every existing row stays as it was.

    Like the hold, projections of the case's events written with the case row (`audit
    verify` compares them with replay); `due` reads the processes for the key dates of
    those not concluded, and a case's page reads the links other cases recorded to it.
    """
    from sqlalchemy import text

    conn.execute(text("ALTER TABLE cases ADD COLUMN processes TEXT"))
    conn.execute(text("ALTER TABLE cases ADD COLUMN links TEXT"))
    # `due` asks whether any case has processes on every read: an index on that answers
    # at once, however many cases have none. (Not a partial index: one with no entries
    # is a page a damaged backup could blank unnoticed.)
    conn.execute(text("CREATE INDEX ix_cases_has_processes ON cases ((processes IS NOT NULL))"))


MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_initial", _0001_initial),
    Migration("0002_postgres_roles", _0002_postgres_roles),
    Migration("0003_due_covering_index", _0003_due_covering_index),
    Migration("0004_entry_hash_not_unique", _0004_entry_hash_not_unique),
    Migration("0005_voided_cases", _0005_voided_cases),
    Migration("0006_event_signatures", _0006_event_signatures),
    Migration("0007_installed_workflows", _0007_installed_workflows),
    Migration("0009_case_overlays", _0009_case_overlays),
    Migration("0010_case_links_processes", _0010_case_links_processes),
)

APPEND_ONLY_TRIGGERS_SQLITE = ("events_no_update", "events_no_delete")
APPEND_ONLY_TRIGGERS_POSTGRES = ("events_append_only", "events_no_truncate")
