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


SERVER_ROLE = "casereview_server"
"""PostgreSQL: the group of trusted server logins, whose events are recorded as the role
they switched to with SET ROLE (as PostgREST's authenticator does) rather than as their
own login. Membership must be granted directly (`GRANT casereview_server TO web_login`)."""

ACTOR_SQL = f"""CASE
    WHEN current_setting('role') <> 'none' AND EXISTS (
        SELECT 1 FROM pg_catalog.pg_auth_members m
        JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
        JOIN pg_catalog.pg_roles s ON s.oid = m.member
        WHERE g.rolname = '{SERVER_ROLE}' AND s.rolname = session_user)
    THEN current_setting('role')
    ELSE session_user::text
END"""
"""PostgreSQL: who is recording, as the database knows it. The session user (the login
the server authenticated; a later SET ROLE does not change it), except for a trusted
server login (a direct member of `SERVER_ROLE`) that has switched role: then that role.
The write functions record this and nothing else; `store.dialect.session_user` asks the
same question."""

WRITE_FUNCTIONS = (
    "casereview_lock_head()",
    "casereview_append(jsonb)",
    "casereview_insert_rows(text, jsonb)",
    "casereview_replace_rows(text, bigint, jsonb)",
    "casereview_update_case(bigint, integer, jsonb)",
    "casereview_actor()",
    "casereview_install_workflow(jsonb)",
)
"""The functions an application login may execute: its only way to write (and
`casereview_actor()`, who it records as). Migration 0017 adds
`casereview_calendar_feed(jsonb)`."""

CASE_KINDS = ("case", "migrate", "rec", "action")
"""PostgreSQL: the kinds of event filed under a case, each recorded in a role its
recorder holds (or for someone who holds it): workflow steps, a case's move to a later
workflow version (an admin's), recommendations and actions of its action plan."""

AUTHORITY_EVENTS = (
    ("admin", "user_add"),
    ("admin", "user_change"),
    ("admin", "user_grant"),
    ("admin", "user_revoke"),
    ("admin", "user_deactivate"),
    ("admin", "user_reactivate"),
    ("admin", "workflow_install"),
    ("admin", "partnership_set"),
    ("admin", "key_confirm"),
    ("admin", "key_revoke"),
    ("key", "key_enrol"),
    ("access", "view_personal"),
)
"""PostgreSQL: the events other than case events that the write function accepts (kind,
trigger); any other is refused. The user events are applied to `users` by the database
itself (`casereview_apply_user_event`)."""


def _definer(conn: Connection) -> tuple[str, str]:
    """The current schema's name quoted, and the clause every write function carries:
    it runs as its owner, with a search_path the caller cannot change (temp last)."""
    from sqlalchemy import text

    schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
    quoted = '"' + schema.replace('"', '""') + '"'
    return quoted, f"SECURITY DEFINER SET search_path = pg_catalog, {quoted}, pg_temp"


def _revoke_writes(conn: Connection, tables: str) -> None:
    """PostgreSQL: nobody but the owner writes these tables (`ALL TABLES IN SCHEMA s` or
    a list), whether or not the people's group roles exist yet."""
    from sqlalchemy import text

    rights = "INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER"
    conn.execute(text(f"REVOKE {rights} ON {tables} FROM PUBLIC"))
    for role in (APP_ROLE, READ_ROLE):
        conn.execute(
            text(
                f"""
                DO $$
                BEGIN
                    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                        REVOKE {rights} ON {tables} FROM {role};
                    END IF;
                END $$"""
            )
        )


def _guard_case_table(conn: Connection, table: str, case_column: str) -> None:
    """PostgreSQL: `table` is a projection of one case's events (its rows belong to the
    case `case_column` names). An application login writes it only through
    `casereview_insert_rows` / `casereview_replace_rows`, and only rows of a case the
    same transaction appends an event to: checked by the function, and at commit by a
    deferred constraint trigger. A migration adding such a table calls this once."""
    from sqlalchemy import text

    conn.execute(
        text(
            "INSERT INTO casereview_case_tables (relation, case_column) "
            "VALUES (CAST(:t AS regclass), :c)"
        ),
        {"t": table, "c": case_column},
    )
    conn.execute(
        text(
            f"CREATE CONSTRAINT TRIGGER {table}_written_with_event "
            f"AFTER INSERT OR UPDATE OR DELETE ON {table} DEFERRABLE INITIALLY DEFERRED "
            f"FOR EACH ROW EXECUTE FUNCTION casereview_check_written('{case_column}')"
        )
    )
    _revoke_writes(conn, table)


def _0008_write_functions(conn: Connection) -> None:
    """PostgreSQL: application logins lose every direct INSERT, UPDATE and DELETE; they
    write only through the functions below, owned by the schema owner (SECURITY DEFINER,
    a fixed search_path), which check who may record what against the database's own
    projection in the same transaction. A no-op on SQLite.

    - `casereview_append(events)`: each event's actor must be the recorder
      (`ACTOR_SQL`); seq, prev_hash and entry_hash must continue the chain (sha256 over
      prev_hash ‖ payload) and the payload must hold the stored columns; the recorder
      must be a registered, active user holding the event's role (admin events: an
      admin; the log's first event: the bootstrap `user_add` of the recorder as admin;
      `key_enrol`: for oneself; events other than case events: only those in
      `casereview_authority_events`). It appends, moves the head, applies an authority
      event to its projection through the function that table names (the user events:
      `users`), and notes each case it appended to in `casereview_written` against the
      transaction's id.
    - case rows (`casereview_case_tables`: cases, case_clocks) are written through
      `casereview_insert_rows`, `casereview_replace_rows` and `casereview_update_case`,
      and a deferred constraint trigger on each refuses, at commit, a row of a case that
      the same transaction appended no event to (the table owner excepted: it can
      disable triggers anyway).
    - `casereview_lock_head()`: the writers' lock (SELECT … FOR UPDATE needs UPDATE
      rights, which application logins no longer have).

    Every table in the schema now loses every write right but the owner's. A table a
    later migration adds is covered without a statement (PostgreSQL grants nothing on a
    new table), as long as that migration grants no write right itself; the security
    tests check every table of the schema, not a list.
    """
    from sqlalchemy import text

    if not _is_postgres(conn):
        return
    quoted, definer = _definer(conn)
    case_kinds = ", ".join(f"'{kind}'" for kind in CASE_KINDS)
    statements = [
        # What each write transaction appended to: (transaction id, case id). Rows of
        # finished transactions are removed by the next append (writers take turns on
        # the chain head, so only the current writer's rows can still matter).
        """
        CREATE TABLE casereview_written (
            xact xid8 NOT NULL,
            case_id BIGINT NOT NULL,
            PRIMARY KEY (xact, case_id)
        )""",
        # The case projections (`_guard_case_table`) and the authority events the
        # database accepts, each with the function, if any, that applies it.
        """
        CREATE TABLE casereview_case_tables (
            relation regclass PRIMARY KEY,
            case_column name NOT NULL
        )""",
        """
        CREATE TABLE casereview_authority_events (
            kind TEXT NOT NULL,
            trigger TEXT NOT NULL,
            apply regprocedure,
            PRIMARY KEY (kind, trigger)
        )""",
        f"""
        CREATE FUNCTION casereview_actor() RETURNS text
        LANGUAGE sql STABLE {definer}
        AS $$ SELECT {ACTOR_SQL} $$""",
        f"""
        CREATE FUNCTION casereview_lock_head() RETURNS void
        LANGUAGE sql {definer}
        AS $$ SELECT 1 FROM chain_head WHERE id = 1 FOR UPDATE $$""",
        f"""
        CREATE FUNCTION casereview_refuse(message text) RETURNS void
        LANGUAGE plpgsql {definer}
        AS $$
        BEGIN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = 'casereview refused: ' || message;
        END $$""",
        f"""
        CREATE FUNCTION casereview_require_written(target bigint) RETURNS void
        LANGUAGE plpgsql {definer}
        AS $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM casereview_written w
                           WHERE w.xact = pg_current_xact_id() AND w.case_id = target) THEN
                PERFORM casereview_refuse(
                    'a case''s rows change only with an event appended to it '
                    || 'in the same transaction (case id ' || COALESCE(target::text, 'none')
                    || ')');
            END IF;
        END $$""",
        f"""
        CREATE FUNCTION casereview_sorted_roles(roles jsonb) RETURNS text
        LANGUAGE sql IMMUTABLE {definer}
        AS $$
            SELECT COALESCE(jsonb_agg(r ORDER BY r COLLATE "C"), '[]'::jsonb)::text
            FROM (SELECT DISTINCT jsonb_array_elements_text(roles) AS r) AS x
        $$""",
        # The users projection, kept by the database so that no application login
        # writes a user row at all. `event` has its fields as a JSON object.
        f"""
        CREATE FUNCTION casereview_apply_user_event(p_event jsonb, p_seq bigint) RETURNS void
        LANGUAGE plpgsql {definer}
        AS $$
        DECLARE
            v_trigger text := p_event->>'trigger';
            v_fields jsonb := p_event->'fields';
            v_subject text := p_event->'fields'->>'username';
        BEGIN
            IF v_trigger = 'user_add' THEN
                IF EXISTS (SELECT 1 FROM users u WHERE u.username = v_subject) THEN
                    PERFORM casereview_refuse(format('user %s already exists', v_subject));
                END IF;
                INSERT INTO users (username, display_name, roles, agency, active, created_seq)
                VALUES (v_subject, v_fields->>'display_name',
                        casereview_sorted_roles(v_fields->'roles'), v_fields->>'agency',
                        true, p_seq);
                RETURN;
            ELSIF v_trigger = 'user_change' THEN
                -- A full replace, which (as casereview has always applied it) leaves the
                -- user active.
                UPDATE users u SET display_name = v_fields->>'display_name',
                    roles = casereview_sorted_roles(v_fields->'roles'),
                    agency = v_fields->>'agency', active = true
                WHERE u.username = v_subject;
            ELSIF v_trigger = 'user_grant' THEN
                UPDATE users u SET roles = casereview_sorted_roles(
                        u.roles::jsonb || jsonb_build_array(v_fields->>'role')),
                    agency = COALESCE(v_fields->>'agency', u.agency)
                WHERE u.username = v_subject;
            ELSIF v_trigger = 'user_revoke' THEN
                UPDATE users u SET roles = casereview_sorted_roles(
                        u.roles::jsonb - (v_fields->>'role'))
                WHERE u.username = v_subject;
            ELSIF v_trigger = 'user_deactivate' THEN
                UPDATE users u SET active = false WHERE u.username = v_subject;
            ELSIF v_trigger = 'user_reactivate' THEN
                UPDATE users u SET active = true WHERE u.username = v_subject;
            ELSE
                PERFORM casereview_refuse(format('unknown user event %s', v_trigger));
            END IF;
            IF NOT FOUND THEN
                PERFORM casereview_refuse(format('no user %s', v_subject));
            END IF;
        END $$""",
        f"""
        CREATE FUNCTION casereview_append(p_events jsonb)
        RETURNS TABLE (head_seq bigint, head_hash text)
        LANGUAGE plpgsql {definer}
        AS $$
        DECLARE
            v_actor text := casereview_actor();
            v_xact xid8 := pg_current_xact_id();
            v_last_seq bigint;
            v_last_hash text;
            v_event jsonb;
            v_payload jsonb;
            v_fields jsonb;
            v_kind text;
            v_trigger text;
            v_role text;
            v_target bigint;
            v_apply regprocedure;
            v_me users%ROWTYPE;
            v_known boolean := false;
            v_applied boolean := false;
        BEGIN
            SELECT h.seq, h.entry_hash INTO v_last_seq, v_last_hash
                FROM chain_head h WHERE h.id = 1 FOR UPDATE;
            IF NOT FOUND THEN
                PERFORM casereview_refuse('the chain head is missing');
            END IF;
            DELETE FROM casereview_written w WHERE w.xact <> v_xact;
            FOR v_event IN SELECT e.value FROM jsonb_array_elements(p_events) AS e LOOP
                v_kind := v_event->>'kind';
                v_trigger := v_event->>'trigger';
                v_role := v_event->>'role';
                v_target := (v_event->>'case_id')::bigint;
                v_apply := NULL;
                IF v_event->>'actor' IS DISTINCT FROM v_actor THEN
                    PERFORM casereview_refuse(format(
                        'an event recorded as %s cannot be appended by %s',
                        v_event->>'actor', v_actor));
                END IF;
                -- The chain: numbered after the head, linked to it, hashed as
                -- domain/chain.py hashes (sha256 over prev_hash then payload, UTF-8).
                IF (v_event->>'seq')::bigint IS DISTINCT FROM v_last_seq + 1
                   OR v_event->>'prev_hash' IS DISTINCT FROM v_last_hash
                   OR v_event->>'algorithm' IS DISTINCT FROM 'sha256' THEN
                    PERFORM casereview_refuse(format(
                        'event %s does not follow the chain head (event %s)',
                        v_event->>'seq', v_last_seq));
                END IF;
                IF v_event->>'entry_hash' IS DISTINCT FROM encode(sha256(convert_to(
                       v_last_hash || (v_event->>'payload'), 'UTF8')), 'hex') THEN
                    PERFORM casereview_refuse(format(
                        'event %s: entry_hash is not the hash of its payload', v_last_seq + 1));
                END IF;
                -- The stored columns say what the hashed payload says (signature and
                -- key_id are outside the payload, passed through for verify to check).
                v_payload := (v_event->>'payload')::jsonb;
                v_fields := (v_event->>'fields')::jsonb;
                IF v_payload - 'fields' IS DISTINCT FROM (v_event - 'case_id' - 'payload'
                       - 'entry_hash' - 'signature' - 'key_id' - 'fields')
                   OR v_payload->'fields' IS DISTINCT FROM v_fields THEN
                    PERFORM casereview_refuse(format(
                        'event %s: the stored columns differ from its payload', v_last_seq + 1));
                END IF;
                IF v_kind NOT IN ({case_kinds}) THEN
                    SELECT a.apply INTO v_apply FROM casereview_authority_events a
                        WHERE a.kind = v_kind AND a.trigger = v_trigger;
                    IF NOT FOUND THEN
                        PERFORM casereview_refuse(format(
                            'unknown event %s of kind %s', v_trigger, v_kind));
                    END IF;
                    IF v_target IS NOT NULL THEN
                        PERFORM casereview_refuse('only a case event is filed under a case');
                    END IF;
                END IF;
                -- Who may record what, from the projection as it stands now (earlier
                -- events of this call included).
                IF v_last_seq = 0 THEN
                    IF NOT (v_kind = 'admin' AND v_trigger = 'user_add' AND v_role = 'admin'
                            AND v_fields->>'username' = v_actor
                            AND v_fields->'roles' = '["admin"]'::jsonb) THEN
                        PERFORM casereview_refuse(
                            'the first event must be its recorder adding themselves as admin');
                    END IF;
                ELSE
                    IF NOT v_known THEN
                        SELECT * INTO v_me FROM users u WHERE u.username = v_actor;
                        v_known := true;
                    END IF;
                    IF v_me.username IS NULL OR NOT v_me.active THEN
                        PERFORM casereview_refuse(format(
                            '%s is not a registered, active casereview user', v_actor));
                    END IF;
                    IF v_kind = 'admin' THEN
                        IF v_role IS DISTINCT FROM 'admin'
                           OR NOT (v_me.roles::jsonb ? 'admin'
                                   OR (v_trigger = 'key_revoke'
                                       AND v_fields->>'username' = v_actor)) THEN
                            PERFORM casereview_refuse(format(
                                '%s is not an admin: %s is an admin''s event',
                                v_actor, v_trigger));
                        END IF;
                    ELSIF v_kind IN ({case_kinds}) THEN
                        -- The role is the decider's: the recorder's own, or that of the
                        -- person recorded for (whether the recorder may record for them
                        -- is the workflow's rule, checked by the engine and by verify).
                        IF v_event->>'on_behalf_of' IS NULL
                           AND (v_role IS NULL OR NOT v_me.roles::jsonb ? v_role) THEN
                            PERFORM casereview_refuse(format(
                                '%s does not hold the role %s',
                                v_actor, COALESCE(v_role, '(none)')));
                        END IF;
                        IF v_event->>'on_behalf_of' IS NOT NULL AND NOT EXISTS (
                               SELECT 1 FROM users u
                               WHERE u.username = v_event->>'on_behalf_of' AND u.active
                                 AND u.roles::jsonb ? COALESCE(v_role, '')) THEN
                            PERFORM casereview_refuse(format(
                                '%s is not an active casereview user holding the role %s',
                                v_event->>'on_behalf_of', COALESCE(v_role, '(none)')));
                        END IF;
                        IF NOT EXISTS (SELECT 1 FROM cases c
                                       WHERE c.id = v_target AND c.ref = v_event->>'case_ref') THEN
                            PERFORM casereview_refuse(format(
                                'event %s is not filed under its case %s',
                                v_last_seq + 1, v_event->>'case_ref'));
                        END IF;
                    ELSIF v_kind = 'access' THEN
                        -- A recorded view of personal fields: in a role the viewer holds
                        -- (which roles may ask is the workflow's, checked when asked).
                        IF v_role IS NULL OR NOT v_me.roles::jsonb ? v_role THEN
                            PERFORM casereview_refuse(format(
                                '%s does not hold the role %s',
                                v_actor, COALESCE(v_role, '(none)')));
                        END IF;
                    ELSIF v_kind = 'key' THEN
                        IF v_role IS NOT NULL
                           OR v_fields->>'username' IS DISTINCT FROM v_actor THEN
                            PERFORM casereview_refuse('a key is enrolled only by its owner');
                        END IF;
                    ELSE
                        PERFORM casereview_refuse(format('unknown kind of event %s', v_kind));
                    END IF;
                END IF;
                INSERT INTO events SELECT * FROM jsonb_populate_record(NULL::events, v_event);
                v_last_seq := v_last_seq + 1;
                v_last_hash := v_event->>'entry_hash';
                IF v_target IS NOT NULL THEN
                    INSERT INTO casereview_written (xact, case_id) VALUES (v_xact, v_target)
                        ON CONFLICT DO NOTHING;
                END IF;
                IF v_apply IS NOT NULL THEN
                    EXECUTE format('SELECT %s($1, $2)', v_apply::oid::regproc)
                        USING jsonb_set(v_event, '{{fields}}', v_fields), v_last_seq;
                    v_applied := true;
                    v_known := false;
                END IF;
            END LOOP;
            IF v_applied AND NOT EXISTS (
                   SELECT 1 FROM users u WHERE u.active AND u.roles::jsonb ? 'admin') THEN
                PERFORM casereview_refuse('the last active admin cannot be removed');
            END IF;
            UPDATE chain_head h SET seq = v_last_seq, entry_hash = v_last_hash WHERE h.id = 1;
            RETURN QUERY SELECT v_last_seq, v_last_hash;
        END $$""",
        f"""
        CREATE FUNCTION casereview_columns(target regclass, present jsonb) RETURNS text
        LANGUAGE sql STABLE {definer}
        AS $$
            SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
            FROM pg_attribute a
            WHERE a.attrelid = target AND a.attnum > 0 AND NOT a.attisdropped
              AND present ? a.attname
        $$""",
        # The case projections' rows: `relation` is resolved here, with this function's
        # search_path, and must be one of `casereview_case_tables`.
        f"""
        CREATE FUNCTION casereview_case_table(p_relation text, OUT target regclass,
                                              OUT case_column name)
        LANGUAGE plpgsql STABLE {definer}
        AS $$
        BEGIN
            SELECT t.relation, t.case_column INTO target, case_column
                FROM casereview_case_tables t WHERE t.relation = to_regclass(p_relation);
            IF NOT FOUND THEN
                PERFORM casereview_refuse(format('%s is not a table of case rows', p_relation));
            END IF;
        END $$""",
        f"""
        CREATE FUNCTION casereview_insert_rows(p_relation text, p_rows jsonb) RETURNS void
        LANGUAGE plpgsql {definer}
        AS $$
        DECLARE
            v_target regclass := (casereview_case_table(p_relation)).target;
            v_names text := casereview_columns(v_target, p_rows->0);
        BEGIN
            IF v_names IS NOT NULL THEN
                EXECUTE format('INSERT INTO %1$s (%2$s) SELECT %2$s '
                               'FROM jsonb_populate_recordset(NULL::%1$s, $1)',
                               v_target, v_names)
                    USING p_rows;
            END IF;
        END $$""",
        f"""
        CREATE FUNCTION casereview_replace_rows(p_relation text, p_case bigint, p_rows jsonb)
        RETURNS void
        LANGUAGE plpgsql {definer}
        AS $$
        DECLARE
            v_target regclass;
            v_column name;
        BEGIN
            SELECT t.target, t.case_column INTO v_target, v_column
                FROM casereview_case_table(p_relation) AS t;
            PERFORM casereview_require_written(p_case);
            IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_rows) AS e
                       WHERE (e.value->>v_column)::bigint IS DISTINCT FROM p_case) THEN
                PERFORM casereview_refuse(format('a row of another case in %s', p_relation));
            END IF;
            EXECUTE format('DELETE FROM %s WHERE %I = $1', v_target, v_column) USING p_case;
            PERFORM casereview_insert_rows(p_relation, p_rows);
        END $$""",
        f"""
        CREATE FUNCTION casereview_update_case(target bigint, expected integer, changes jsonb)
        RETURNS boolean
        LANGUAGE plpgsql {definer}
        AS $$
        DECLARE
            sets text;
            changed integer;
        BEGIN
            PERFORM casereview_require_written(target);
            SELECT string_agg(format('%1$I = r.%1$I', a.attname), ', ') INTO sets
            FROM pg_attribute a
            WHERE a.attrelid = 'cases'::regclass AND a.attnum > 0 AND NOT a.attisdropped
              AND changes ? a.attname AND a.attname <> 'id';
            IF sets IS NULL THEN
                PERFORM casereview_refuse('a case update that changes no column');
            END IF;
            EXECUTE format('UPDATE cases c SET %s FROM jsonb_populate_record(NULL::cases, $1) r '
                           'WHERE c.id = $2 AND c.version = $3', sets)
                USING changes, target, expected;
            GET DIAGNOSTICS changed = ROW_COUNT;
            RETURN changed = 1;
        END $$""",
        # The check at commit: every row of a case table written in this transaction
        # belongs to a case it appended an event to.
        f"""
        CREATE FUNCTION casereview_check_written() RETURNS trigger
        LANGUAGE plpgsql {definer}
        AS $$
        DECLARE
            target bigint;
        BEGIN
            IF pg_has_role(session_user,
                           (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID),
                           'MEMBER') THEN
                RETURN NULL;
            END IF;
            IF TG_OP = 'DELETE' THEN
                target := (to_jsonb(OLD)->>TG_ARGV[0])::bigint;
            ELSE
                target := (to_jsonb(NEW)->>TG_ARGV[0])::bigint;
            END IF;
            PERFORM casereview_require_written(target);
            RETURN NULL;
        END $$""",
        # An installed workflow's row: only for a `workflow_install` event already in
        # the log, with the content whose sha256 that event recorded, once.
        f"""
        CREATE FUNCTION casereview_install_workflow(p_row jsonb) RETURNS void
        LANGUAGE plpgsql {definer}
        AS $$
        DECLARE
            v_seq bigint;
        BEGIN
            SELECT e.seq INTO v_seq FROM events e
            WHERE e.kind = 'admin' AND e.trigger = 'workflow_install'
              AND e.fields::jsonb->>'workflow_id' = p_row->>'workflow_id'
              AND (e.fields::jsonb->>'version')::integer = (p_row->>'version')::integer
              AND e.fields::jsonb->>'definition_hash' = encode(sha256(
                      convert_to(p_row->>'content', 'UTF8')), 'hex')
            ORDER BY e.seq DESC LIMIT 1;
            IF NOT FOUND THEN
                PERFORM casereview_refuse(
                    'an installed workflow needs its install event, with this content''s hash');
            END IF;
            INSERT INTO installed_workflows
                (workflow_id, version, definition_hash, title, content, installed_seq)
            VALUES (p_row->>'workflow_id', (p_row->>'version')::integer,
                    encode(sha256(convert_to(p_row->>'content', 'UTF8')), 'hex'),
                    p_row->>'title', p_row->>'content', v_seq);
        END $$""",
        f"REVOKE CREATE ON SCHEMA {quoted} FROM PUBLIC",
    ]
    for statement in statements:
        conn.execute(text(statement))
    for kind, trigger in AUTHORITY_EVENTS:
        conn.execute(
            text(
                "INSERT INTO casereview_authority_events (kind, trigger, apply) "
                "VALUES (:kind, :trigger, CAST(:apply AS regprocedure))"
            ),
            {
                "kind": kind,
                "trigger": trigger,
                "apply": (
                    "casereview_apply_user_event(jsonb, bigint)"
                    if trigger.startswith("user_")
                    else None
                ),
            },
        )
    _guard_case_table(conn, "cases", "id")
    _guard_case_table(conn, "case_clocks", "case_id")
    _revoke_writes(conn, f"ALL TABLES IN SCHEMA {quoted}")
    conn.execute(
        text(
            "REVOKE ALL ON FUNCTION "
            + ", ".join(
                [
                    *WRITE_FUNCTIONS,
                    "casereview_refuse(text)",
                    "casereview_require_written(bigint)",
                    "casereview_sorted_roles(jsonb)",
                    "casereview_apply_user_event(jsonb, bigint)",
                    "casereview_columns(regclass, jsonb)",
                    "casereview_case_table(text)",
                    "casereview_check_written()",
                ]
            )
            + " FROM PUBLIC"
        )
    )
    conn.execute(
        text(
            f"""
            DO $$
            BEGIN
                IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                    GRANT EXECUTE ON FUNCTION {", ".join(WRITE_FUNCTIONS)} TO {APP_ROLE};
                END IF;
            END $$"""
        )
    )
    conn.execute(
        text(
            f"""
            DO $$
            BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SERVER_ROLE}') THEN
                    CREATE ROLE {SERVER_ROLE} NOLOGIN;
                END IF;
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE NOTICE 'casereview: could not create roles; see docs/deployment.md';
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


def _0011_recommendations(conn: Connection) -> None:
    """Add the projection of each case's action plan (`domain.actions`): its
    recommendations, its actions, and one row of what the plan holds beyond them (a
    recorded reason for no recommendations, the chair's overrides). Every table is
    case-scoped and written only by `store.actions`, one function each, from a replay of
    the case's plan events; `audit verify` compares them with that replay. An action's
    history (updates, extensions, evidence) is canonical JSON in its row.

    `due` and `action due` read the actions still owed soonest first, by agency or
    across every agency: `open_due` is an action's due date while it is open and its
    case is neither closed nor voided (null otherwise), and its two indexes serve the
    counts and the pages without reading the cases.
    """
    from sqlalchemy import text

    statements = [
        """
        CREATE TABLE case_recommendations (
            case_id INTEGER NOT NULL REFERENCES cases (id),
            number TEXT NOT NULL,
            text TEXT NOT NULL,
            source TEXT NOT NULL,
            section TEXT NOT NULL,
            agencies TEXT NOT NULL,
            scope TEXT NOT NULL,
            added_on TEXT NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (case_id, number)
        )""",
        """
        CREATE TABLE case_actions (
            case_id INTEGER NOT NULL REFERENCES cases (id),
            action TEXT NOT NULL,
            rec TEXT NOT NULL,
            text TEXT NOT NULL,
            agency TEXT NOT NULL,
            owner TEXT NOT NULL,
            due_on TEXT NOT NULL,
            original_due_on TEXT NOT NULL,
            status TEXT NOT NULL,
            added_on TEXT NOT NULL,
            completed_on TEXT,
            reason TEXT NOT NULL,
            evidence TEXT NOT NULL,
            history TEXT NOT NULL,
            seq INTEGER NOT NULL,
            open_due TEXT,
            PRIMARY KEY (case_id, action)
        )""",
        "CREATE INDEX ix_case_actions_open_due ON case_actions (open_due)",
        "CREATE INDEX ix_case_actions_agency_open_due ON case_actions (agency, open_due)",
        """
        CREATE TABLE case_action_plans (
            case_id INTEGER PRIMARY KEY REFERENCES cases (id),
            none_reason TEXT NOT NULL,
            overrides TEXT NOT NULL
        )""",
    ]
    for statement in statements:
        conn.execute(text(statement))
    if not _is_postgres(conn):
        return
    conn.execute(
        text(
            f"""
            DO $$
            BEGIN
                REVOKE ALL ON case_recommendations, case_actions, case_action_plans
                    FROM PUBLIC;
                GRANT SELECT ON case_recommendations, case_actions, case_action_plans
                    TO {APP_ROLE}, {READ_ROLE};
            EXCEPTION WHEN insufficient_privilege OR undefined_object THEN
                RAISE NOTICE 'casereview: could not grant on the action-plan tables; '
                    'see docs/deployment.md';
            END $$"""
        )
    )
    # Written only through the write functions of 0008, for a case the same transaction
    # appended an event to (the action plan is a projection of the case's events).
    for table in ("case_recommendations", "case_actions", "case_action_plans"):
        _guard_case_table(conn, table, "case_id")


def _0015_clock_workflows(conn: Connection) -> None:
    """Add `case_clocks.workflow_id` and `workflow_version`: the workflow the clock's
    case is on, copied onto each clock row, and an index that leads with it.

    the due list by workflow counts and pages one review type's open clocks. Through a join to
    `cases` every open clock would be looked up (hundreds of milliseconds at 100k
    cases); with the workflow on the clock row, `ix_case_clocks_workflow_due` serves the
    counts from the index alone and the pages in due-date order, like
    `ix_case_clocks_due` does for the whole list. The columns are written with the
    clock rows (`store.projections`) and `audit verify` compares them with the case's.
    """
    from sqlalchemy import text

    conn.execute(text("ALTER TABLE case_clocks ADD COLUMN workflow_id TEXT"))
    conn.execute(text("ALTER TABLE case_clocks ADD COLUMN workflow_version INTEGER"))
    postgres = _is_postgres(conn)
    if postgres:
        # Copying the case's workflow onto its existing rows records no event: the
        # guard that every write of a case table comes with one is off for this alone.
        conn.execute(text("ALTER TABLE case_clocks DISABLE TRIGGER case_clocks_written_with_event"))
    conn.execute(
        text(
            "UPDATE case_clocks SET "
            "workflow_id = (SELECT c.workflow_id FROM cases c WHERE c.id = case_clocks.case_id), "
            "workflow_version = "
            "(SELECT c.workflow_version FROM cases c WHERE c.id = case_clocks.case_id)"
        )
    )
    if postgres:
        conn.execute(text("ALTER TABLE case_clocks ENABLE TRIGGER case_clocks_written_with_event"))
    conn.execute(
        text(
            "CREATE INDEX ix_case_clocks_workflow_due ON case_clocks "
            "(workflow_id, state, due_on, ends_on_due, warn_from, workflow_version)"
        )
    )


IDENTITY_FUNCTION = "casereview_identity(text, text)"
"""PostgreSQL: the one question a web server's login may ask before anyone is signed
in: which active user an (issuer, subject) is linked to."""


def _0016_identity_links(conn: Connection) -> None:
    """Sign-in identities (`domain.identities`): admin events `identity_link` and
    `identity_unlink`, read from the log like the partnership's name (no table).

    PostgreSQL: the write functions accept the two events (no projection to apply), and
    `casereview_identity(issuer, subject)` answers, for a server login switched to
    `casereview_server` and nobody else, which active user the log last linked that
    identity to (NULL if none): the server may ask that before anyone has signed in,
    without any right to read the log itself. That role may also read
    `schema_migrations`, so the server can check the schema it works with.
    """
    from sqlalchemy import text

    if not _is_postgres(conn):
        return
    _quoted, definer = _definer(conn)
    for trigger in ("identity_link", "identity_unlink"):
        conn.execute(
            text(
                "INSERT INTO casereview_authority_events (kind, trigger, apply) "
                "VALUES ('admin', :trigger, NULL)"
            ),
            {"trigger": trigger},
        )
    conn.execute(
        text(
            f"""
            CREATE FUNCTION casereview_identity(p_issuer text, p_subject text) RETURNS text
            LANGUAGE sql STABLE {definer}
            AS $$
                SELECT u.username FROM (
                    SELECT e.trigger, e.fields::jsonb->>'username' AS username
                    FROM events e
                    WHERE e.case_id IS NULL AND e.kind = 'admin'
                      AND e.trigger IN ('identity_link', 'identity_unlink')
                      AND e.fields::jsonb->>'issuer' = p_issuer
                      AND e.fields::jsonb->>'subject' = p_subject
                    ORDER BY e.seq DESC LIMIT 1
                ) last JOIN users u ON u.username = last.username
                WHERE last.trigger = 'identity_link' AND u.active
            $$"""
        )
    )
    conn.execute(text(f"REVOKE ALL ON FUNCTION {IDENTITY_FUNCTION} FROM PUBLIC"))
    conn.execute(
        text(
            f"""
            DO $$
            BEGIN
                IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{SERVER_ROLE}') THEN
                    GRANT EXECUTE ON FUNCTION {IDENTITY_FUNCTION} TO {SERVER_ROLE};
                    GRANT SELECT ON schema_migrations TO {SERVER_ROLE};
                END IF;
            END $$"""
        )
    )


def _0017_calendar_feeds(conn: Connection) -> None:
    """Add `calendar_feeds`: each person's calendar subscription address, kept as the
    sha256 of its secret token (the token itself is shown once and never stored), with
    the events that made and revoked it (`calendar_feed_create` and
    `calendar_feed_revoke`, of kind "key": a credential only its owner makes or
    revokes, as a signing key is enrolled). A revoked feed keeps its row.

    On PostgreSQL the people's role reads the rows and writes them only through
    `casereview_calendar_feed(jsonb)`, which writes the recorder's own row
    (`casereview_actor()`) for the feed's event that recorder appended; the write
    function accepts the two events.
    """
    from sqlalchemy import text

    conn.execute(
        text(
            """
            CREATE TABLE calendar_feeds (
                feed_id TEXT PRIMARY KEY,
                username TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                created_seq INTEGER NOT NULL,
                revoked_seq INTEGER
            )"""
        )
    )
    conn.execute(text("CREATE INDEX ix_calendar_feeds_username ON calendar_feeds (username)"))
    if not _is_postgres(conn):
        return
    for trigger in ("calendar_feed_create", "calendar_feed_revoke"):
        conn.execute(
            text(
                "INSERT INTO casereview_authority_events (kind, trigger, apply) "
                "VALUES ('key', :trigger, NULL)"
            ),
            {"trigger": trigger},
        )
    _, definer = _definer(conn)
    conn.execute(
        text(
            f"""
            CREATE FUNCTION casereview_calendar_feed(p_row jsonb) RETURNS void
            LANGUAGE plpgsql {definer} AS $$
            DECLARE
                v_actor text := casereview_actor();
                v_seq bigint;
            BEGIN
                SELECT e.seq INTO v_seq FROM events e
                WHERE e.kind = 'key' AND e.trigger = p_row->>'trigger'
                  AND e.actor = v_actor AND e.case_id IS NULL
                  AND e.fields::jsonb->>'feed_id' = p_row->>'feed_id'
                  AND e.fields::jsonb->>'username' = v_actor
                ORDER BY e.seq DESC LIMIT 1;
                IF NOT FOUND THEN
                    PERFORM casereview_refuse(
                        'a calendar feed is changed only with its owner''s event');
                END IF;
                IF p_row->>'trigger' = 'calendar_feed_create' THEN
                    INSERT INTO calendar_feeds (feed_id, username, token_hash, created_seq)
                    VALUES (p_row->>'feed_id', v_actor, p_row->>'token_hash', v_seq);
                ELSIF p_row->>'trigger' = 'calendar_feed_revoke' THEN
                    UPDATE calendar_feeds SET revoked_seq = v_seq
                    WHERE feed_id = p_row->>'feed_id' AND username = v_actor
                      AND revoked_seq IS NULL;
                ELSE
                    PERFORM casereview_refuse('unknown change of a calendar feed');
                END IF;
            END $$"""
        )
    )
    _revoke_writes(conn, "calendar_feeds")
    conn.execute(text("REVOKE ALL ON FUNCTION casereview_calendar_feed(jsonb) FROM PUBLIC"))
    conn.execute(
        text(
            f"""
            DO $$
            BEGIN
                IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                    GRANT SELECT ON calendar_feeds TO {APP_ROLE};
                    GRANT EXECUTE ON FUNCTION casereview_calendar_feed(jsonb) TO {APP_ROLE};
                END IF;
                IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{READ_ROLE}') THEN
                    GRANT SELECT ON calendar_feeds TO {READ_ROLE};
                END IF;
            END $$"""
        )
    )


def _0018_clock_due_index(conn: Connection) -> None:
    """Index the open clocks by clock id (`due --clock`, the due page's clock filter).

    With `(clock_id, state, due_on, ends_on_due, warn_from)` the filtered list's counts
    read the index alone and one clock's pages come in due-date order, as the whole list
    does from `ix_case_clocks_due`; without it every open clock would be looked up in
    the table to read its id.
    """
    from sqlalchemy import text

    conn.execute(
        text(
            "CREATE INDEX ix_case_clocks_clock_due ON case_clocks "
            "(clock_id, state, due_on, ends_on_due, warn_from)"
        )
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_initial", _0001_initial),
    Migration("0002_postgres_roles", _0002_postgres_roles),
    Migration("0003_due_covering_index", _0003_due_covering_index),
    Migration("0004_entry_hash_not_unique", _0004_entry_hash_not_unique),
    Migration("0005_voided_cases", _0005_voided_cases),
    Migration("0006_event_signatures", _0006_event_signatures),
    Migration("0007_installed_workflows", _0007_installed_workflows),
    Migration("0008_write_functions", _0008_write_functions),
    Migration("0009_case_overlays", _0009_case_overlays),
    Migration("0010_case_links_processes", _0010_case_links_processes),
    Migration("0011_recommendations", _0011_recommendations),
    Migration("0015_clock_workflows", _0015_clock_workflows),
    Migration("0016_identity_links", _0016_identity_links),
    Migration("0017_calendar_feeds", _0017_calendar_feeds),
    Migration("0018_clock_due_index", _0018_clock_due_index),
)

APPEND_ONLY_TRIGGERS_SQLITE = ("events_no_update", "events_no_delete")
APPEND_ONLY_TRIGGERS_POSTGRES = ("events_append_only", "events_no_truncate")
