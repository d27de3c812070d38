"""PostgreSQL enforces who may record what (#17, item 2), against a real server.

An application login (a member of casereview_app) holds no INSERT, UPDATE or DELETE
right on any casereview table; it writes only through the write functions of migration
0008, which take the recorder from the session and check, in the same transaction, the
chain, the payload and the recorder's authority from the database's own projection.
Each forgery of the issue is tried here as such a login, with correctly hashed events,
and refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from casereview.domain import chain
from casereview.infra.now import FixedClock
from casereview.services import audit, cases, users
from casereview.services.context import ServiceContext
from tests.conftest import BACKEND, enrol_keys, ensure_pg_login, run_sql, with_user

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL only")

TODAY = dt.date(2026, 3, 2)
BU, CHAIR, PARTNER, STRANGER, WEB = "pgs_bu", "pgs_chair", "pgs_police", "pgs_stranger", "pgs_web"


def sql(url: str, *steps: str | tuple[str, dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Statements in one transaction as the URL's login; the last one's rows."""
    engine = create_engine(url, poolclass=NullPool)
    rows: list[tuple[Any, ...]] = []
    try:
        with engine.begin() as conn:
            for step in steps:
                statement, params = (step, {}) if isinstance(step, str) else step
                result = conn.execute(text(statement), params)
                rows = [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()
    return rows


def refused(url: str, *steps: str | tuple[str, dict[str, Any]], match: str) -> None:
    with pytest.raises(DBAPIError, match=match):
        sql(url, *steps)


@dataclass
class Install:
    """A database set up by its owner (the test server's superuser, casereview's first
    admin) with three people, each with their own login, and one case opened by the
    business unit officer."""

    url: str

    def login(self, name: str) -> str:
        return with_user(self.url, name)

    def ctx(self, name: str) -> ServiceContext:
        return ServiceContext(url=self.login(name), account=name, clock=FixedClock(TODAY))

    def head(self) -> tuple[int, str]:
        seq, entry_hash = run_sql(self.url, "SELECT seq, entry_hash FROM chain_head")[0]
        return int(seq), str(entry_hash)

    def case_id(self, ref: str) -> int:
        return int(run_sql(self.url, f"SELECT id FROM cases WHERE ref = '{ref}'")[0][0])

    def snapshot(self) -> list[list[tuple[Any, ...]]]:
        tables = ("events", "cases", "case_clocks", "chain_head", "users")
        return [sorted(run_sql(self.url, f"SELECT * FROM {t}"), key=repr) for t in tables]

    def sealed(self, *, after: tuple[int, str] | None = None, **columns: Any) -> dict[str, Any]:
        """An event as casereview's own store seals it, numbered after the head: every
        stored column, correctly hashed. `columns` override the defaults."""
        seq, prev = after or self.head()
        record: dict[str, Any] = {
            "seq": seq + 1,
            "kind": "case",
            "case_ref": "P-001",
            "trigger": "add_note",
            "from_state": None,
            "to_state": None,
            "occurred_on": TODAY.isoformat(),
            "recorded_at": "2026-03-02T10:00:00.000000Z",
            "actor": BU,
            "on_behalf_of": None,
            "role": "business_unit",
            "rationale": None,
            "fields": {"note": "forged"},
            "workflow_id": None,
            "workflow_version": None,
            "definition_hash": None,
            "algorithm": chain.ALGORITHM,
            "prev_hash": prev,
        }
        case_id = columns.pop("case_id", "auto")
        record.update(columns)
        if record["case_ref"] is not None and record["workflow_id"] is None:
            row = run_sql(
                self.url,
                "SELECT workflow_id, workflow_version, workflow_hash, state FROM cases "
                f"WHERE ref = '{record['case_ref']}'",
            )
            if row:
                wf_id, version, wf_hash, state = row[0]
                record.update(workflow_id=wf_id, workflow_version=version, definition_hash=wf_hash)
                record["from_state"] = record["from_state"] or state
                record["to_state"] = record["to_state"] or state
        sealed = chain.seal(record)
        event = {**record, "fields": chain.canonical_json(record["fields"])}
        event["payload"], event["entry_hash"] = sealed.payload, sealed.entry_hash
        event["case_id"] = (
            (self.case_id(record["case_ref"]) if record["case_ref"] else None)
            if case_id == "auto"
            else case_id
        )
        return event


def append(events: Sequence[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    return (
        "SELECT * FROM casereview_append(CAST(:e AS jsonb))",
        {"e": json.dumps(list(events))},
    )


@pytest.fixture
def install(database_url: str) -> Iterator[Install]:
    owner = ServiceContext.from_options(database_url)
    owner.clock = FixedClock(TODAY)
    try:
        users.init(owner)
        users.add_user(owner, BU, "Business unit", ["business_unit"], None)
        users.add_user(owner, CHAIR, "Chair", ["chair"], None)
        users.add_user(owner, PARTNER, "Police partner", ["partner"], "police")
    finally:
        owner.close()
    for name in (BU, CHAIR, PARTNER, STRANGER):
        ensure_pg_login(name)
    enrol_keys(database_url, BU, CHAIR, PARTNER, admin=owner.account, clock=FixedClock(TODAY))
    setup = Install(database_url)
    bu = setup.ctx(BU)
    try:
        cases.open_case(bu, "P-001", aware_on=dt.date(2026, 2, 23), fields={"nature": "death"})
        cases.open_case(bu, "P-002", aware_on=dt.date(2026, 2, 23), fields={"nature": "death"})
    finally:
        bu.close()
    yield setup


# -- no direct write on any table ----------------------------------------------------------

TABLES = (
    "events",
    "cases",
    "case_clocks",
    "chain_head",
    "users",
    "schema_migrations",
    "installed_workflows",
)


@pytest.mark.parametrize("table", TABLES)
def test_an_application_login_cannot_insert_update_or_delete(install, table):
    first_column = run_sql(
        install.url,
        "SELECT column_name FROM information_schema.columns WHERE table_name = :t "
        "ORDER BY ordinal_position LIMIT 1",
        params={"t": table},
    )[0][0]
    before = install.snapshot()
    for statement in (
        f"INSERT INTO {table} DEFAULT VALUES",
        f"UPDATE {table} SET {first_column} = {first_column}",
        f"DELETE FROM {table}",
        f"TRUNCATE {table} CASCADE",
    ):
        refused(install.login(BU), statement, match="permission denied")
    assert install.snapshot() == before


def test_no_table_of_the_schema_grants_an_application_login_a_write(install):
    """Every table, including any a later migration adds: a migration that gave
    casereview_app (or everyone) a write right on its table fails here."""
    rows = run_sql(
        install.url,
        "SELECT t.table_name, p.privilege FROM information_schema.tables t "
        "CROSS JOIN (VALUES ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE')) AS p(privilege) "
        "WHERE t.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
        "AND (has_table_privilege('casereview_app', t.table_name, p.privilege) "
        "OR has_table_privilege(:login, t.table_name, p.privilege))",
        params={"login": BU},
    )
    tables = run_sql(
        install.url,
        "SELECT COUNT(*) FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )[0][0]
    assert tables >= len(TABLES) + 1  # the write-mark table too
    assert rows == []


def test_the_read_only_group_cannot_call_the_write_functions(install):
    ensure_pg_login("pgs_reader")
    run_sql(
        install.url, "REVOKE casereview_app FROM pgs_reader", "GRANT casereview_read TO pgs_reader"
    )
    event = install.sealed(actor="pgs_reader")
    refused(install.login("pgs_reader"), append([event]), match="permission denied")
    refused(install.login("pgs_reader"), "SELECT casereview_lock_head()", match="permission denied")


# -- the forgeries of the issue ----------------------------------------------------------


def test_editing_the_users_row_to_add_chair_is_refused(install):
    before = install.snapshot()
    refused(
        install.login(BU),
        f"UPDATE users SET roles = '[\"business_unit\", \"chair\"]' WHERE username = '{BU}'",
        match="permission denied",
    )
    assert install.snapshot() == before


def test_granting_oneself_admin_is_refused(install):
    before = install.snapshot()
    refused(
        install.login(BU),
        f"UPDATE users SET roles = '[\"admin\"]' WHERE username = '{BU}'",
        match="permission denied",
    )
    # Nor through the write function, with an admin event correctly hashed.
    grant = install.sealed(
        kind="admin",
        case_ref=None,
        trigger="user_change",
        role="admin",
        fields={
            "username": BU,
            "display_name": "Business unit",
            "roles": ["admin"],
            "agency": None,
        },
    )
    refused(install.login(BU), append([grant]), match="pgs_bu is not an admin")
    assert install.snapshot() == before


def test_inserting_a_correctly_hashed_event_as_another_actor_is_refused(install):
    before = install.snapshot()
    event = install.sealed(actor=CHAIR, role="chair", trigger="decide_not_to_notify")
    columns = ", ".join(event)
    marks = ", ".join(f":{name}" for name in event)
    refused(
        install.login(BU),
        (f"INSERT INTO events ({columns}) VALUES ({marks})", event),
        match="permission denied",
    )
    assert install.snapshot() == before


def test_calling_the_function_with_another_actor_is_refused(install):
    before = install.snapshot()
    event = install.sealed(actor=CHAIR, role="chair", trigger="decide_not_to_notify")
    refused(
        install.login(BU),
        append([event]),
        match="recorded as pgs_chair cannot be appended by pgs_bu",
    )
    assert install.snapshot() == before


def test_recording_with_a_role_one_does_not_hold_is_refused(install):
    before = install.snapshot()
    event = install.sealed(role="chair", trigger="decide_not_to_notify")
    refused(install.login(BU), append([event]), match="pgs_bu does not hold the role chair")
    # Nor by naming someone who holds it as the person recorded for, in a role they lack.
    event = install.sealed(role="chair", on_behalf_of=PARTNER)
    refused(
        install.login(BU),
        append([event]),
        match="pgs_police is not an active casereview user holding the role chair",
    )
    assert install.snapshot() == before


def test_someone_who_is_not_a_user_cannot_record(install):
    before = install.snapshot()
    event = install.sealed(actor=STRANGER)
    refused(
        install.login(STRANGER), append([event]), match="not a registered, active casereview user"
    )
    assert install.snapshot() == before


def test_writing_a_projection_row_of_a_case_not_just_appended_to_is_refused(install):
    before = install.snapshot()
    other = install.case_id("P-002")
    closing = json.dumps({"state": "closed", "closed": True, "version": 9})
    # Without any event in the transaction.
    refused(
        install.login(BU),
        (f"SELECT casereview_update_case({other}, 1, CAST(:v AS jsonb))", {"v": closing}),
        match="only with an event appended to it",
    )
    refused(
        install.login(BU),
        (f"SELECT casereview_replace_rows('case_clocks', {other}, CAST('[]' AS jsonb))", {}),
        match="only with an event appended to it",
    )
    # After a genuine event on P-001, P-002's row is still not this transaction's to write.
    note = install.sealed()
    refused(
        install.login(BU),
        append([note]),
        (f"SELECT casereview_update_case({other}, 1, CAST(:v AS jsonb))", {"v": closing}),
        match="only with an event appended to it",
    )
    # A fabricated case row with no event is refused when the transaction commits.
    fake = {
        "id": 99,
        "ref": "FAKE-1",
        "pseudonym": "Fake",
        "workflow_id": "x",
        "workflow_version": 1,
        "workflow_hash": "x",
        "state": "closed",
        "version": 0,
        "fields": "{}",
        "approvals": "{}",
        "opened_on": "2026-01-01",
        "closed": True,
        "last_event_on": "2026-01-01",
        "last_seq": 0,
    }
    refused(
        install.login(BU),
        ("SELECT casereview_insert_rows('cases', CAST(:r AS jsonb))", {"r": json.dumps([fake])}),
        match="only with an event appended to it",
    )
    assert install.snapshot() == before


def test_the_row_functions_write_case_tables_only(install):
    """`casereview_insert_rows` / `casereview_replace_rows` take a table name: any table
    but a case projection is refused, and so is a temporary table of the same name."""
    before = install.snapshot()
    note = install.sealed()
    target = install.case_id("P-001")
    user_row = {
        "username": BU,
        "display_name": "B",
        "roles": '["admin"]',
        "agency": None,
        "active": True,
        "created_seq": 1,
    }
    for table in ("users", "events", "chain_head", "casereview_written"):
        refused(
            install.login(BU),
            append([note]),
            (
                "SELECT casereview_insert_rows(:t, CAST(:r AS jsonb))",
                {"t": table, "r": json.dumps([user_row])},
            ),
            match=f"{table} is not a table of case rows",
        )
        refused(
            install.login(BU),
            append([note]),
            (
                f"SELECT casereview_replace_rows(:t, {target}, CAST('[]' AS jsonb))",
                {"t": table},
            ),
            match=f"{table} is not a table of case rows",
        )
    refused(
        install.login(BU),
        "CREATE TEMPORARY TABLE case_clocks (case_id bigint)",
        append([note]),
        (
            "SELECT casereview_insert_rows('pg_temp.case_clocks', CAST(:r AS jsonb))",
            {"r": json.dumps([{"case_id": target}])},
        ),
        match="is not a table of case rows",
    )
    assert install.snapshot() == before


def test_an_event_the_database_does_not_know_is_refused(install):
    """Only case events and the authority events of the shared spec are accepted."""
    before = install.snapshot()
    for kind, trigger in (("admin", "user_promote"), ("key", "key_confirm"), ("root", "x")):
        event = install.sealed(
            actor="postgres",
            kind=kind,
            case_ref=None,
            trigger=trigger,
            role="admin",
            fields={"username": BU},
        )
        refused(install.url, append([event]), match=f"unknown event {trigger} of kind {kind}")
    assert install.snapshot() == before


def test_the_projection_of_a_case_just_appended_to_may_be_written(install):
    """The counterpart of the refusals: the same calls succeed after an event on the case."""
    target = install.case_id("P-001")
    version = run_sql(install.url, f"SELECT version FROM cases WHERE id = {target}")[0][0]
    note = install.sealed()
    rows = sql(
        install.login(BU),
        append([note]),
        (
            f"SELECT casereview_update_case({target}, {version}, CAST(:v AS jsonb))",
            {"v": json.dumps({"version": version + 1, "last_seq": note["seq"]})},
        ),
    )
    assert rows == [(True,)]
    assert install.head() == (note["seq"], note["entry_hash"])


def test_an_event_that_does_not_continue_the_chain_is_refused(install):
    before = install.snapshot()
    good = install.sealed()
    wrong_prev = install.sealed(after=(install.head()[0], "f" * 64))
    refused(install.login(BU), append([wrong_prev]), match="does not follow the chain head")
    refused(install.login(BU), append([{**good, "entry_hash": "0" * 64}]), match="not the hash")
    # The columns say chair, the hashed payload says business unit: refused.
    refused(
        install.login(BU),
        append([{**good, "rationale": "not in the payload"}]),
        match="stored columns differ from its payload",
    )
    assert install.snapshot() == before


def test_admin_events_need_an_admin_and_the_first_event_is_the_bootstrap(install, database_url):
    user_add = install.sealed(
        kind="admin",
        case_ref=None,
        trigger="user_add",
        role="admin",
        fields={"username": STRANGER, "display_name": "S", "roles": ["chair"], "agency": None},
    )
    refused(install.login(BU), append([user_add]), match="pgs_bu is not an admin")
    # On a log with no events, only the recorder adding themselves as admin is accepted.
    name = f"pgs_{uuid.uuid4().hex[:12]}"
    run_sql(database_url, f"CREATE DATABASE {name}")
    try:
        empty = make_url(database_url).set(database=name).render_as_string(hide_password=False)
        ServiceContext.from_options(empty).db(create=True).dispose()
        first = {
            **install.sealed(
                after=(0, chain.GENESIS_HASH),
                kind="admin",
                case_ref=None,
                trigger="user_add",
                role="admin",
                fields={"username": BU, "display_name": "B", "roles": ["chair"], "agency": None},
            )
        }
        bu_empty = with_user(empty, BU)
        refused(bu_empty, append([first]), match="first event must be its recorder adding")
        bootstrap = install.sealed(
            after=(0, chain.GENESIS_HASH),
            kind="admin",
            case_ref=None,
            trigger="user_add",
            role="admin",
            fields={"username": BU, "display_name": "B", "roles": ["admin"], "agency": None},
        )
        assert sql(bu_empty, append([bootstrap])) == [(1, bootstrap["entry_hash"])]
        assert run_sql(empty, "SELECT username, roles, active FROM users") == [
            (BU, '["admin"]', True)
        ]
    finally:
        run_sql(database_url, f"DROP DATABASE {name} WITH (FORCE)")


def test_user_events_are_applied_by_the_database_and_the_last_admin_stays(install):
    """The users projection is the database's own: an admin's grant, revoke, deactivate
    and reactivate take effect there; removing the last active admin is refused."""
    run_sql(install.url, "SELECT 1")
    owner = "postgres"

    def admin_event(trigger: str, fields: dict[str, Any], after: tuple[int, str]) -> dict[str, Any]:
        return install.sealed(
            after=after,
            kind="admin",
            case_ref=None,
            trigger=trigger,
            role="admin",
            actor=owner,
            fields=fields,
        )

    grant = admin_event(
        "user_grant", {"username": BU, "role": "chair", "agency": None}, install.head()
    )
    revoke = admin_event(
        "user_revoke",
        {"username": BU, "role": "business_unit"},
        (grant["seq"], grant["entry_hash"]),
    )
    off = admin_event("user_deactivate", {"username": CHAIR}, (revoke["seq"], revoke["entry_hash"]))
    sql(install.url, append([grant, revoke, off]))
    assert run_sql(
        install.url,
        "SELECT username, roles, active FROM users WHERE username IN (:a, :b) ORDER BY username",
        params={"a": BU, "b": CHAIR},
    ) == [(BU, '["chair"]', True), (CHAIR, '["chair"]', False)]
    # A deactivated user records nothing.
    refused(
        install.login(CHAIR),
        append([install.sealed(actor=CHAIR, role="chair")]),
        match="pgs_chair is not a registered, active casereview user",
    )
    last = admin_event("user_revoke", {"username": owner, "role": "admin"}, install.head())
    before = install.snapshot()
    refused(install.url, append([last]), match="the last active admin cannot be removed")
    assert install.snapshot() == before


def test_a_key_is_enrolled_only_for_oneself(install):
    for_other = install.sealed(
        kind="key",
        case_ref=None,
        trigger="key_enrol",
        role=None,
        fields={
            "username": CHAIR,
            "key_id": "0" * 16,
            "public_key": "AA==",
            "algorithm": "ed25519",
        },
    )
    refused(install.login(BU), append([for_other]), match="enrolled only by its owner")
    mine = install.sealed(
        kind="key",
        case_ref=None,
        trigger="key_enrol",
        role=None,
        fields={"username": BU, "key_id": "0" * 16, "public_key": "AA==", "algorithm": "ed25519"},
    )
    # The signature and its key id are outside the payload: stored as given, for verify.
    mine.update(signature="c2lnbmF0dXJl", key_id="0" * 16)
    assert sql(install.login(BU), append([mine])) == [(mine["seq"], mine["entry_hash"])]
    assert run_sql(
        install.url, f"SELECT signature, key_id FROM events WHERE seq = {mine['seq']}"
    ) == [("c2lnbmF0dXJl", "0" * 16)]


# -- whose name the database records ----------------------------------------------------


def test_set_role_does_not_change_the_recorder_of_an_ordinary_login(install):
    """A login that is a member of another person's role and switches to it with SET ROLE
    still records as itself: only a trusted server login's switch counts."""
    run_sql(install.url, f"GRANT {CHAIR} TO {BU}")
    try:
        event = install.sealed(actor=CHAIR, role="chair", trigger="decide_not_to_notify")
        refused(
            install.login(BU),
            f"SET ROLE {CHAIR}",
            append([event]),
            match="recorded as pgs_chair cannot be appended by pgs_bu",
        )
        # Nor does membership of casereview_server through another group make it trusted.
        run_sql(
            install.url,
            "CREATE ROLE pgs_servers NOLOGIN",
            "GRANT casereview_server TO pgs_servers",
            f"GRANT pgs_servers TO {BU}",
        )
        refused(
            install.login(BU),
            f"SET ROLE {CHAIR}",
            append([event]),
            match="recorded as pgs_chair cannot be appended by pgs_bu",
        )
    finally:
        run_sql(install.url, f"REVOKE {CHAIR} FROM {BU}")
        run_sql(install.url, "DROP ROLE IF EXISTS pgs_servers")


def test_a_trusted_server_login_records_as_the_role_it_switched_to(install):
    """The pattern PostgREST uses: a server login that is a direct member of
    casereview_server and of each person's role, switching with SET ROLE per request."""
    ensure_pg_login(WEB)
    run_sql(
        install.url,
        f"ALTER ROLE {WEB} NOINHERIT",
        f"REVOKE casereview_app FROM {WEB}",
        f"GRANT casereview_server TO {WEB}",
        f"GRANT {BU} TO {WEB}",
    )
    web = install.login(WEB)
    note = install.sealed()
    # Without switching, the server login is nobody casereview knows.
    refused(
        web,
        append([install.sealed(actor=WEB)]),
        match="permission denied for function casereview_append",
    )
    # Switched to pgs_bu, it records as pgs_bu, and only as pgs_bu.
    refused(
        web,
        f"SET ROLE {BU}",
        append([{**install.sealed(actor=CHAIR, role="chair")}]),
        match="recorded as pgs_chair cannot be appended by pgs_bu",
    )
    assert sql(web, f"SET LOCAL ROLE {BU}", "SELECT casereview_actor()") == [(BU,)]
    assert sql(web, f"SET LOCAL ROLE {BU}", append([note])) == [(note["seq"], note["entry_hash"])]
    assert run_sql(install.url, f"SELECT actor FROM events WHERE seq = {note['seq']}") == [(BU,)]


# -- the normal flows, as application logins ----------------------------------------------


def test_the_everyday_flows_work_as_application_logins_and_verify(install, cli):
    bu = install.login(BU)
    chair = install.login(CHAIR)
    result = cli("case", "advance", "P-001", "notify", "--set", "sin_reference=SIN-9", "--db", bu)
    assert result.exit_code == 0, result.stderr
    result = cli(
        "case",
        "advance",
        "P-002",
        "decide_not_to_notify",
        "--rationale",
        "threshold not met",
        "--db",
        chair,
    )
    assert result.exit_code == 0, result.stderr
    assert (
        cli(
            "case", "advance", "P-001", "add_note", "--set", "note=chronology", "--db", bu
        ).exit_code
        == 0
    )
    # The chair's decision as the business unit officer: refused by casereview first.
    denied = cli(
        "case", "advance", "P-001", "add_note", "--set", "note=x", "--db", install.login(STRANGER)
    )
    assert denied.exit_code != 0
    recorded = run_sql(install.url, "SELECT actor, trigger FROM events ORDER BY seq DESC LIMIT 3")
    assert recorded == [(BU, "add_note"), (CHAIR, "decide_not_to_notify"), (BU, "notify")]
    ctx = install.ctx(BU)
    try:
        assert audit.verify(ctx).ok
    finally:
        ctx.close()


def test_an_event_filed_under_another_case_is_refused(install):
    before = install.snapshot()
    event = install.sealed(case_id=install.case_id("P-002"))  # case_ref says P-001
    refused(install.login(BU), append([event]), match="not filed under its case P-001")
    assert install.snapshot() == before


def test_adding_an_existing_user_again_is_refused(install):
    again = install.sealed(
        actor="postgres",
        kind="admin",
        case_ref=None,
        trigger="user_add",
        role="admin",
        fields={"username": BU, "display_name": "B", "roles": ["chair"], "agency": None},
    )
    before = install.snapshot()
    refused(install.url, append([again]), match="user pgs_bu already exists")
    assert install.snapshot() == before


def test_a_key_is_revoked_by_an_admin_or_its_owner_only(install):
    def revoke(username: str) -> dict[str, Any]:
        return install.sealed(
            kind="admin",
            case_ref=None,
            trigger="key_revoke",
            role="admin",
            fields={"username": username, "key_id": "0" * 16},
        )

    refused(install.login(BU), append([revoke(CHAIR)]), match="pgs_bu is not an admin")
    mine = revoke(BU)
    assert sql(install.login(BU), append([mine])) == [(mine["seq"], mine["entry_hash"])]


def test_every_function_runs_as_its_owner_with_a_fixed_search_path(install):
    rows = run_sql(
        install.url,
        "SELECT p.proname, p.prosecdef, p.proconfig, "
        "has_function_privilege('casereview_app', p.oid, 'EXECUTE'), "
        "has_function_privilege('casereview_read', p.oid, 'EXECUTE'), "
        "has_function_privilege('public', p.oid, 'EXECUTE') "
        "FROM pg_proc p WHERE p.proname LIKE 'casereview\\_%' "
        "AND p.proname <> 'casereview_events_append_only' ORDER BY p.proname",
    )
    writes = {
        "casereview_lock_head",
        "casereview_append",
        "casereview_insert_rows",
        "casereview_replace_rows",
        "casereview_update_case",
        "casereview_actor",
        "casereview_install_workflow",
        "casereview_calendar_feed",
    }
    assert writes <= {name for name, *_ in rows}
    for name, definer, config, app, read, public in rows:
        assert definer, name
        assert config is not None and len(config) == 1, name
        assert config[0].replace('"', "") == "search_path=pg_catalog, public, pg_temp", name
        assert not public, name
        assert app == (name in writes), name
        assert not read, name


def test_a_case_row_written_against_its_events_is_reported_by_verify(install):
    """What the database leaves to verify: an app login may rewrite the row of a case it
    just appended to; the row no longer matches the case's events, and verify says so."""
    target = install.case_id("P-001")
    version = run_sql(install.url, f"SELECT version FROM cases WHERE id = {target}")[0][0]
    note = install.sealed()
    sql(
        install.login(BU),
        append([note]),
        (
            f"SELECT casereview_update_case({target}, {version}, CAST(:v AS jsonb))",
            {"v": json.dumps({"state": "closed", "closed": True})},
        ),
    )
    ctx = install.ctx(BU)
    try:
        report = audit.verify(ctx)
    finally:
        ctx.close()
    assert any("P-001" in finding.message for finding in report.findings), report.findings


def test_an_event_the_workflow_would_refuse_is_reported_by_verify(install):
    """The other half of what the database leaves to verify: a trigger the workflow does
    not allow from the case's state, appended through the function under the recorder's
    own name and role, is accepted by the database and reported by verify."""
    note = install.sealed(trigger="publish", fields={"url": "https://example.org/x"})
    sql(install.login(BU), append([note]))
    ctx = install.ctx(BU)
    try:
        report = audit.verify(ctx)
    finally:
        ctx.close()
    assert note["seq"] in {finding.seq for finding in report.findings}


# -- installed workflows, holds and recorded views ------------------------------------------


def _install_row(content: str, version: int = 99) -> tuple[str, dict[str, Any]]:
    row = {"workflow_id": "england-lcspr", "version": version, "title": "T", "content": content}
    return ("SELECT casereview_install_workflow(CAST(:r AS jsonb))", {"r": json.dumps(row)})


def test_an_installed_workflow_row_needs_an_install_event_with_its_hash(install):
    before = install.snapshot()
    # No install event of version 99: refused, whatever the content.
    refused(install.login(BU), _install_row("[workflow]\n"), match="needs its install event")
    # Version 1's install event exists, but its hash is not this content's.
    refused(
        install.login(BU),
        _install_row("[workflow]\nid = 'forged'\n", version=1),
        match="needs its install event",
    )
    # The real content of an installed version is already there: not added twice.
    content, version = run_sql(
        install.url,
        "SELECT content, version FROM installed_workflows WHERE workflow_id = 'england-lcspr'",
    )[0]
    refused(install.login(BU), _install_row(content, version=version), match="duplicate key")
    assert install.snapshot() == before


def test_a_workflow_install_event_needs_an_admin(install):
    content = "[workflow]\n"
    install_event = install.sealed(
        kind="admin",
        case_ref=None,
        trigger="workflow_install",
        role="admin",
        fields={
            "workflow_id": "england-lcspr",
            "version": 99,
            "definition_hash": hashlib.sha256(content.encode()).hexdigest(),
            "title": "T",
        },
    )
    refused(
        install.login(BU),
        append([install_event]),
        _install_row(content),
        match="pgs_bu is not an admin",
    )


def test_a_recorded_view_needs_a_role_the_viewer_holds(install):
    def view(role: str) -> dict[str, Any]:
        return install.sealed(
            kind="access",
            case_ref=None,
            trigger="view_personal",
            role=role,
            fields={"command": "case show", "cases": ["P-001"]},
        )

    refused(install.login(BU), append([view("chair")]), match="does not hold the role chair")
    mine = view("business_unit")
    assert sql(install.login(BU), append([mine])) == [(mine["seq"], mine["entry_hash"])]


def test_an_access_event_cannot_be_filed_under_a_case(install):
    forged = install.sealed(
        kind="access",
        trigger="view_personal",
        role="business_unit",
        fields={"command": "case show", "cases": ["P-001"]},
    )
    refused(install.login(BU), append([forged]), match="only a case event is filed under a case")


def test_a_case_move_to_a_later_version_needs_an_admin(install):
    """Kind `migrate` is filed under its case and recorded in the admin's role: the
    database refuses it from someone who does not hold admin."""
    forged = install.sealed(kind="migrate", trigger="migrate", role="admin", fields={})
    refused(install.login(BU), append([forged]), match="pgs_bu does not hold the role admin")
