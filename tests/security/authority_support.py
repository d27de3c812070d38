"""A small world for the authority suites, and the forger's tools.

The world: an admin (`ada`) who ran `init`, a business unit officer (`bu`), a chair, two
partners (`bola` for the police, `lee` for the local authority) and a scrutineer, with
case A-001 awaiting the partners' rapid review sign-off and A-002 still screening. It
is built on the backend under test (`database_url`: SQLite, or PostgreSQL when the
suite runs against a server).

The forger writes the database as someone with write access to it would: raw SQL on
the users row, or a whole event sealed with casereview's own (published) chain
algorithm and inserted after the head, with the case's rows rebuilt by casereview's
own replay so that nothing but authority gives the forgery away.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from casereview.domain import chain
from casereview.infra.now import FixedClock
from casereview.services import audit, cases, users
from casereview.services.context import ServiceContext
from tests.conftest import enrol_keys
from tests.security.conftest import raw

TODAY = dt.date(2025, 6, 2)  # a Monday, no bank holiday
ON = TODAY.isoformat()
PEOPLE: dict[str, tuple[list[str], str | None]] = {
    "bu": (["business_unit"], None),
    "chair": (["chair"], None),
    "bola": (["partner"], "police"),
    "lee": (["partner"], "local_authority"),
    "scrut": (["scrutineer"], None),
}


@dataclass
class World:
    url: str
    clock: FixedClock = field(default_factory=lambda: FixedClock(TODAY))
    contexts: dict[str, ServiceContext] = field(default_factory=dict)

    def as_(self, account: str) -> ServiceContext:
        if account not in self.contexts:
            self.contexts[account] = ServiceContext(url=self.url, account=account, clock=self.clock)
        return self.contexts[account]

    def close(self) -> None:
        for ctx in self.contexts.values():
            ctx.close()
        self.contexts.clear()

    def verify(self, jobs: int = 1) -> audit.VerifyReport:
        return audit.verify(self.as_("scrut"), jobs=jobs)

    # -- the forger -------------------------------------------------------------------

    def user_row(self, username: str) -> tuple[Any, ...]:
        (row,) = raw(
            self.url, "SELECT roles, agency, active FROM users WHERE username = :u", u=username
        )
        return row

    def set_user_row(self, username: str, row: tuple[Any, ...]) -> None:
        roles, agency, active = row
        raw(
            self.url,
            "UPDATE users SET roles = :r, agency = :a, active = :active WHERE username = :u",
            r=roles,
            a=agency,
            active=bool(active),
            u=username,
        )

    def case_event(self, ref: str, trigger: str, **columns: Any) -> dict[str, Any]:
        """A case event record as casereview would write it for `ref`, in its current
        state; `columns` override any column (actor, role, on_behalf_of, fields …)."""
        (row,) = raw(
            self.url,
            "SELECT state, workflow_id, workflow_version, workflow_hash FROM cases WHERE ref = :r",
            r=ref,
        )
        record: dict[str, Any] = {
            "kind": "case",
            "case_ref": ref,
            "trigger": trigger,
            "from_state": row[0],
            "to_state": row[0],
            "occurred_on": ON,
            "recorded_at": chain.format_instant(self.clock.now()),
            "actor": "bu",
            "on_behalf_of": None,
            "role": "business_unit",
            "rationale": None,
            "fields": {},
            "workflow_id": row[1],
            "workflow_version": row[2],
            "definition_hash": row[3],
        }
        record.update(columns)
        return record

    def admin_event(self, trigger: str, fields: Mapping[str, Any], **columns: Any) -> dict:
        record: dict[str, Any] = {
            "kind": "admin",
            "case_ref": None,
            "trigger": trigger,
            "from_state": None,
            "to_state": None,
            "occurred_on": ON,
            "recorded_at": chain.format_instant(self.clock.now()),
            "actor": "ada",
            "on_behalf_of": None,
            "role": "admin",
            "rationale": None,
            "fields": dict(fields),
            "workflow_id": None,
            "workflow_version": None,
            "definition_hash": None,
        }
        record.update(columns)
        return record

    def insert(self, record: Mapping[str, Any]) -> int:
        """INSERT `record` after the head with raw SQL, sealed with casereview's chain
        (`chain.seal`), and move the head: a correctly hashed event. Its case's rows
        are then rebuilt from the log by casereview's replay. The event's seq."""
        (head_seq, head_hash), *_ = raw(self.url, "SELECT seq, entry_hash FROM chain_head")
        seq = int(head_seq) + 1
        sealed_record = {**record, "seq": seq, "prev_hash": head_hash, "algorithm": "sha256"}
        sealed = chain.seal(sealed_record)
        case_id = None
        if record.get("case_ref") is not None:
            case_id = raw(self.url, "SELECT id FROM cases WHERE ref = :r", r=record["case_ref"])[0][
                0
            ]
        columns = {
            **{name: sealed_record[name] for name in chain.HASHED_COLUMNS},
            "fields": chain.canonical_json(record.get("fields") or {}),
            "case_id": case_id,
            "payload": sealed.payload,
            "entry_hash": sealed.entry_hash,
        }
        names = ", ".join(columns)
        marks = ", ".join(f":{name}" for name in columns)
        raw(self.url, f"INSERT INTO events ({names}) VALUES ({marks})", **columns)
        raw(
            self.url,
            "UPDATE chain_head SET seq = :s, entry_hash = :h WHERE id = 1",
            s=seq,
            h=sealed.entry_hash,
        )
        if record.get("case_ref") is not None:
            self.rebuild(str(record["case_ref"]))
        return seq

    def rebuild(self, ref: str) -> None:
        """The case's row and clocks as casereview's own replay makes them from the log.

        On PostgreSQL as the owner (the URL's own login), who can do anything: the write
        functions let a case's rows change only in a transaction that appended an event
        to it, so the owner first notes one in their bookkeeping table, as a forger with
        the owner's rights could."""
        ctx = self.forger()
        with ctx.db().unit_of_work() as uow:
            row = cases._case_row(uow.conn, ref)
            self.rows_may_change(uow.conn, int(row["id"]))
            definition = cases._definition_for(ctx, row)
            cases._store_projection(
                ctx, uow.conn, definition, int(row["id"]), ref, expected_version=int(row["version"])
            )
            uow.commit()

    def forger(self) -> ServiceContext:
        """Who rewrites a case's rows after a forged event: on PostgreSQL the owner (the
        URL's own login), who can do anything; on SQLite anyone who can write the file."""
        from sqlalchemy.engine import make_url

        url = make_url(self.url)
        owner = url.get_backend_name() == "postgresql"
        return self.as_(str(url.username) if owner else "scrut")

    def rows_may_change(self, conn: Any, case_id: int) -> None:
        """PostgreSQL: the write functions let a case's rows change only in a transaction
        that appended an event to it; the owner notes one in their bookkeeping table."""
        from sqlalchemy import text

        if conn.dialect.name == "postgresql":
            conn.execute(
                text(
                    "INSERT INTO casereview_written (xact, case_id) "
                    "VALUES (pg_current_xact_id(), :id)"
                ),
                {"id": case_id},
            )

    def deactivate(self, username: str) -> int:
        """The admin deactivates `username` with the users service (a signed event and
        the row); the event's seq."""
        users.deactivate(self.as_("ada"), username)
        return int(raw(self.url, "SELECT MAX(seq) FROM events")[0][0])

    def install(self, workflow_id: str) -> int:
        """An admin installs the shipped `workflow_id` with the install command's service:
        its event, and the installed-workflows row verify compares with it."""
        from casereview.services import workflows as workflow_service

        workflow_service.install(self.as_("ada"), workflow_id)
        return int(raw(self.url, "SELECT MAX(seq) FROM events")[0][0])


def build(url: str) -> Iterator[World]:
    world = World(url)
    try:
        admin = world.as_("ada")
        users.init(admin)
        for name, (roles, agency) in PEOPLE.items():
            users.add_user(admin, name, name.title(), roles, agency)
        enrol_keys(url, *PEOPLE, admin="ada", clock=admin.clock)
        bu = world.as_("bu")
        for ref in ("A-001", "A-002"):
            cases.open_case(bu, ref, aware_on=TODAY, fields={"nature": "death"})
        cases.advance(bu, "A-001", "notify", fields={"sin_reference": "SIN-1"})
        cases.advance(
            world.as_("chair"),
            "A-001",
            "propose_decision",
            fields={"recommendation": "lcspr"},
            rationale="criteria met",
        )
        yield world
    finally:
        world.close()


def authority_findings(report: audit.VerifyReport) -> list[tuple[int | None, str]]:
    return [(f.seq, f.message) for f in report.findings if f.check == "authority"]


def checks(report: audit.VerifyReport) -> list[tuple[str, int | None]]:
    """The findings other than signatures'. An event written into the file directly is
    also unsigned by its actor's key, which the signature check reports (its own tests:
    test_signatures_*.py); these tests are about what the authority replay finds,
    signatures or not."""
    return [(f.check, f.seq) for f in report.findings if f.check != "signature"]


def signature_findings(report: audit.VerifyReport) -> list[int | None]:
    return [f.seq for f in report.findings if f.check == "signature"]


def roles_json(*roles: str) -> str:
    return json.dumps(sorted(roles))
