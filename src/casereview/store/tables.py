"""The tables as SQLModel classes, used only by a test that holds them equal to the
migrated schema (tests/integration/test_store.py): no code reads or writes through them.

The schema itself is the DDL in `store.migrations`; these classes are its readable
summary, column by column, and the test fails if a migration and this file disagree.
Dates are stored as ISO `YYYY-MM-DD` text and instants as UTC ISO text, so SQLite and
PostgreSQL hold identical values and the hash chain can be recomputed byte for byte;
structured values (case fields, roles) are canonical JSON text.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    __tablename__ = "users"

    username: str = Field(primary_key=True)
    display_name: str
    roles: str  # JSON list of role ids
    agency: str | None = None
    active: bool = True
    created_seq: int


class Case(SQLModel, table=True):
    __tablename__ = "cases"

    id: int = Field(primary_key=True)
    ref: str = Field(unique=True, index=True)
    pseudonym: str
    workflow_id: str
    workflow_version: int
    workflow_hash: str
    state: str = Field(index=True)
    version: int  # number of events applied to this case; the optimistic-lock token
    fields: str  # JSON object of case fields
    approvals: str  # JSON object: approval round id -> {agency: seq of the sign-off}
    opened_on: str
    closed: bool = Field(index=True)
    last_event_on: str
    last_seq: int
    voided_seq: int | None = None  # the event that voided a case opened in error
    hold: str | None = None  # JSON: the hold on a case held in its stage; null if not held
    processes: str | None = None  # JSON list: the case's parallel processes; null if none
    links: str | None = None  # JSON list: the links it recorded to other cases; null if none


class Event(SQLModel, table=True):
    __tablename__ = "events"

    seq: int = Field(primary_key=True)  # gap-free, assigned inside the write transaction
    kind: str  # "case", "admin" or "access" (a view of personal fields)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    case_ref: str | None = None
    trigger: str
    from_state: str | None = None
    to_state: str | None = None
    occurred_on: str
    recorded_at: str
    actor: str
    on_behalf_of: str | None = None
    role: str | None = None
    rationale: str | None = None
    fields: str  # JSON object of the fields this event set
    workflow_id: str | None = None
    workflow_version: int | None = None
    definition_hash: str | None = None
    algorithm: str
    prev_hash: str
    payload: str  # the exact canonical JSON text that was hashed
    entry_hash: str  # not indexed: see migration 0004
    signature: str | None = None  # the recorder's Ed25519 signature over entry_hash
    key_id: str | None = None  # which of the recorder's enrolled keys signed it


class CaseClock(SQLModel, table=True):
    __tablename__ = "case_clocks"

    case_id: int = Field(primary_key=True, foreign_key="cases.id")
    clock_id: str = Field(primary_key=True)
    label: str
    kind: str
    state: str  # running | paused | stopped | ended
    anchor_on: str | None = None
    due_on: str | None = Field(default=None, index=True)
    warn_from: str | None = None
    started_on: str | None = None
    stopped_on: str | None = None
    # While paused: what was left of the budget, in working days for working-day clocks
    # and calendar days otherwise; re-projected from the resume date.
    remaining_days: int | None = None
    paused_days: int = 0  # calendar days spent paused, for hold-adjusted reporting
    ends_on_due: bool = False  # a reminder clock: it is met, not overdue, once its date passes
    # The case's workflow, copied here so that the due list by workflow reads one index (0015).
    workflow_id: str | None = None
    workflow_version: int | None = None


class ChainHead(SQLModel, table=True):
    __tablename__ = "chain_head"

    id: int = Field(primary_key=True)  # always 1
    seq: int
    entry_hash: str


class InstalledWorkflow(SQLModel, table=True):
    __tablename__ = "installed_workflows"

    workflow_id: str = Field(primary_key=True)
    version: int = Field(primary_key=True)
    definition_hash: str  # sha256 of the installed file's bytes, as the event records
    title: str
    content: str  # the installed file's text, so a case replays without its file
    installed_seq: int  # the workflow_install event


class CaseRecommendation(SQLModel, table=True):
    __tablename__ = "case_recommendations"

    case_id: int = Field(primary_key=True, foreign_key="cases.id")
    number: str = Field(primary_key=True)
    text: str
    source: str  # which report
    section: str  # which section of it ("" when not given)
    agencies: str  # JSON list of the agencies it is addressed to
    scope: str  # single | multi
    added_on: str
    seq: int  # the rec_add event


class CaseAction(SQLModel, table=True):
    __tablename__ = "case_actions"

    case_id: int = Field(primary_key=True, foreign_key="cases.id")
    action: str = Field(primary_key=True)
    rec: str  # the recommendation's number
    text: str
    agency: str  # the owner agency
    owner: str  # the named owner
    due_on: str  # after any agreed extension
    original_due_on: str
    status: str  # not_started | in_progress | completed | evidenced | closed_without_completion
    added_on: str
    completed_on: str | None = None
    reason: str  # why it was closed without completion ("" otherwise)
    evidence: str  # JSON list of references
    history: str  # JSON list: each update, extension and completion, attributable
    seq: int  # the action_add event
    # The due date while the action is owed (open, its case neither closed nor voided);
    # null otherwise: what `due` and `action due` read, from its own index.
    open_due: str | None = Field(default=None, index=True)


class CaseActionPlan(SQLModel, table=True):
    __tablename__ = "case_action_plans"

    case_id: int = Field(primary_key=True, foreign_key="cases.id")
    none_reason: str  # why the review made no recommendations ("" if it made some)
    overrides: str  # JSON list of the chair's overrides of steps waiting for actions


class SchemaMigration(SQLModel, table=True):
    __tablename__ = "schema_migrations"

    name: str = Field(primary_key=True)
    applied_at: str


class CalendarFeed(SQLModel, table=True):
    __tablename__ = "calendar_feeds"

    feed_id: str = Field(primary_key=True)
    username: str = Field(index=True)
    token_hash: str = Field(unique=True)  # sha256 of the secret token, hex
    created_seq: int  # the calendar_feed_create event
    revoked_seq: int | None = None  # the calendar_feed_revoke event
