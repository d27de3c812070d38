"""Use cases for the scrutineer: verify the log, and take a checkpoint of it.

Verification checks the chain (payloads, hashes, `seq`, the head), the append-only
protection, the replay (every case rebuilt from its events must equal its stored rows,
every user row what the user events produce) and authority (every event recorded by a
registered, active user in a role they held, as `domain.authority` replays who was who);
a checkpoint kept outside the database adds what a chain cannot know alone. This module
runs verification, checks the chain, the protection and the users, and replays the
events under no case into the authority timeline; the case pass is
`services.audit_cases`, shared between processes by `services.audit_jobs`. What verify
checks and proves: docs/audit.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casereview.domain import authority, chain
from casereview.errors import InvalidInput
from casereview.infra.files import read_bounded
from casereview.services import audit_jobs, signatures
from casereview.services.access import require_reader
from casereview.services.audit_cases import EventPass, case_findings, rules_loader, verify_cases
from casereview.services.context import ServiceContext
from casereview.services.workflows import verify_installed
from casereview.store import database, event_log
from casereview.store import users as user_rows

if TYPE_CHECKING:
    from casereview.store.database import Connection, Row


CHECKPOINT_LIMIT = 64 * 1024
"""The most of a checkpoint file that is read: one is about 250 bytes."""


@dataclass
class VerifyReport:
    events: int = 0
    cases: int = 0
    users: int = 0
    legacy_cases: int = 0
    """Cases opened before the log's first workflow installation (or in a log with
    none): which workflow they were opened on is not checked against an installation."""
    head_hash: str = chain.GENESIS_HASH
    checkpoint_used: bool = False
    signatures: SignatureSummary = field(default_factory=lambda: SignatureSummary())
    findings: list[chain.Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


@dataclass
class SignatureSummary:
    """What the signature check covered: events before the log's first key enrolment
    (unsigned history, not a finding), the events whose signatures were checked this
    time, and through which event an earlier verification by this account had already
    checked them (0: none; `full` re-checks everything)."""

    unsigned_history: int = 0
    checked: int = 0
    already_checked_through: int = 0
    full: bool = False


def verify(
    ctx: ServiceContext,
    *,
    checkpoint_file: Path | None = None,
    progress: Callable[[int], None] | None = None,
    jobs: int | None = None,
    full: bool = False,
) -> VerifyReport:
    """Check the chain, the protections, every case's replay and every user row.

    Two streaming passes over the log, so memory stays flat however long it is, both in
    one read snapshot, after a read of the events under no case (user management and
    installations: few) that replays who was who at every point (`domain.authority`).
    The first pass reads only each event's seq and two hashes, in `seq` order: the links
    and the head. The second reads whole events once, in case order (index
    `ix_events_case_id`): each is checked against its payload and its hash and against
    who may record what, and each case's events are replayed and compared with its case
    row and clock rows.
    `progress` is told how many events the second pass has read, a batch at a time.

    `jobs` is how many processes share the second pass (`services.audit_jobs`): None
    lets a large log use one per CPU, 1 keeps everything in this process. The report
    is the same either way.

    Signatures (`services.signatures`) are checked from the log's first key enrolment
    on, and only after the point this account's last clean verification reached (its
    private record), unless `full`: the chain shows those events unchanged since.
    """
    checkpoint = None
    if checkpoint_file is not None:
        data = read_bounded(checkpoint_file, CHECKPOINT_LIMIT, what="a checkpoint")
        try:
            checkpoint = chain.Checkpoint.from_json(data.decode("utf-8"))
        except (ValueError, KeyError) as exc:
            raise InvalidInput(
                f"{checkpoint_file} is not a casereview checkpoint ({exc})"
            ) from None
    report = VerifyReport(checkpoint_used=checkpoint is not None)
    record: signatures.Record | None = None
    with ctx.db().reading() as conn:
        database.hold_snapshot(conn)
        require_reader(ctx, conn)
        head = event_log.stored_head(conn)
        timeline, unfiled_findings, checker = replay_authority(ctx, conn)
        # Large logs: the cases are replayed by worker processes, started now so they
        # work while this one checks the links; None means one process does it all.
        workers = audit_jobs.start(ctx, conn, head, jobs, timeline)
        try:
            link_rows = event_log.iter_event_links(conn)
            if workers is not None:
                link_rows = workers.relaying(link_rows, progress)
            links, count, last = chain.check_links(link_rows, head)
            outcome = workers.finish(progress) if workers is not None else None
        finally:
            if workers is not None:
                workers.stop()  # on every path: no worker outlives this call
        report.events = count
        report.head_hash = last
        if outcome is None:
            # Events the workers already reported are not counted twice.
            told = workers.reported if workers is not None else 0
            events = EventPass(audit_jobs.after(progress, told), checker)
            passes = [verify_cases(ctx, conn, events)]
            sealed = events.sealed
        else:
            passes, sealed = outcome
        report.cases = sum(p.cases for p in passes)
        report.findings.extend(chain.merge_findings([*links, *sealed]))
        if checkpoint is not None:
            hash_at: dict[int, str] = {}
            at = event_log.event_hash_at(conn, checkpoint.event_count)
            if at is not None:
                hash_at[checkpoint.event_count] = at
            report.findings.extend(chain.check_against_checkpoint(checkpoint, hash_at, count))
        report.findings.extend(_check_triggers(conn))
        signed, report.signatures, record = signatures.check(ctx, conn, count, last, full=full)
        report.findings.extend(signed)
        report.findings.extend(case_findings(passes))
        report.findings.extend(
            sorted([*unfiled_findings, *(f for p in passes for f in p.authority)], key=_by_seq)
        )
        report.legacy_cases = sum(p.legacy for p in passes)
        users = user_rows.list_users(conn)
        report.users = len(users)
        installs = [{"seq": s, "fields": f} for s, f in event_log.installed_workflows(conn)]
        report.findings.extend(_verify_users(users, timeline))
        report.findings.extend(verify_installed(conn, installs))
    if report.ok and record is not None:
        signatures.remember(ctx, record)
    return report


def _by_seq(finding: chain.Finding) -> int:
    return finding.seq or 0


def replay_authority(
    ctx: ServiceContext, conn: Connection
) -> tuple[authority.Timeline, list[chain.Finding], authority.Checker]:
    """Replay who was who from the events under no case, checking each of them: (the
    timeline, the findings about those events, a checker for the events under cases).
    `conn` must hold the read snapshot the rest of the verification reads."""
    rows = ((values, values[_FIELDS_AT]) for values in event_log.iter_unfiled_events(conn))
    return authority.replay(rows, rules_loader(ctx))


_FIELDS_AT = chain.PAYLOAD_ORDER.index("fields")


def _check_triggers(conn: Connection) -> list[chain.Finding]:
    protection = event_log.protection(conn)
    found = []
    if protection.missing:
        how = "removed or disabled" if protection.can_be_disabled else "removed"
        found.append(
            chain.Finding(
                "protection",
                f"the append-only protection on events has been {how} "
                f"({', '.join(protection.missing)})",
            )
        )
    if protection.altered:
        found.append(
            chain.Finding(
                "protection",
                "the append-only protection on events has been replaced by triggers that "
                f"differ from casereview's ({', '.join(protection.altered)})",
            )
        )
    return found


def _verify_users(users: Iterable[Row], timeline: authority.Timeline) -> list[chain.Finding]:
    """Every user row must be what the user events produce, and every user have one."""
    expected = {
        name: {
            "display_name": state.display_name,
            "roles": sorted(state.roles),
            "agency": state.agency,
            "active": state.active,
        }
        for name, state in timeline.latest().items()
    }
    stored: dict[str, dict[str, Any]] = {}
    for u in users:
        try:
            roles: Any = sorted(json.loads(u["roles"]))
        except (ValueError, TypeError):
            roles = None
        stored[str(u["username"])] = {
            "display_name": u["display_name"],
            "roles": roles,
            "agency": u["agency"],
            "active": bool(u["active"]),
        }
    found: list[chain.Finding] = []
    for username in sorted(set(expected) | set(stored)):
        if expected.get(username) != stored.get(username):
            found.append(
                chain.Finding("projection", f"user {username} differs from the user events")
            )
    return found


def checkpoint(ctx: ServiceContext) -> chain.Checkpoint:
    with ctx.db().reading() as conn:
        require_reader(ctx, conn)
        seq, head = event_log.chain_head(conn)
    return chain.Checkpoint(seq, head, chain.format_instant(ctx.clock.now()))
