"""Use cases for the scrutineer: verify the log, and take a checkpoint of it.

Verification has two halves. The chain: every event's payload matches its columns,
every hash matches its payload and predecessor, `seq` has no gaps, and the head record
agrees. The replay: every case's events, run through its pinned workflow, rebuild
exactly the stored case row and clock rows, and every user row matches the user
events. A checkpoint kept outside the database adds what a chain cannot know alone:
that the log has not been cut short or replaced by an older copy.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from casereview import audit, clocks
from casereview.errors import CaseReviewError, InvalidInput
from casereview.replay import replay
from casereview.services.context import ServiceContext
from casereview.store import projections, repository
from casereview.store.migrations import (
    APPEND_ONLY_TRIGGERS_POSTGRES,
    APPEND_ONLY_TRIGGERS_SQLITE,
)


@dataclass
class VerifyReport:
    events: int = 0
    cases: int = 0
    users: int = 0
    head_hash: str = audit.GENESIS_HASH
    checkpoint_used: bool = False
    findings: list[audit.Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def verify(
    ctx: ServiceContext,
    *,
    checkpoint_file: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    checkpoint = None
    if checkpoint_file is not None:
        try:
            checkpoint = audit.Checkpoint.from_json(checkpoint_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InvalidInput(
                f"cannot read checkpoint {checkpoint_file}: {exc.strerror}"
            ) from None
        except (ValueError, KeyError) as exc:
            raise InvalidInput(
                f"{checkpoint_file} is not a casereview checkpoint ({exc})"
            ) from None
    report = VerifyReport(checkpoint_used=checkpoint is not None)
    with ctx.db().reading() as conn:
        head_row = conn.execute(text("SELECT seq, entry_hash FROM chain_head WHERE id = 1")).first()
        head = None if head_row is None else (int(head_row[0]), str(head_row[1]))
        by_case: dict[int, list[dict[str, Any]]] = defaultdict(list)
        user_events: list[dict[str, Any]] = []
        case_refs: dict[int, str] = {}
        hash_at: dict[int, str] = {}

        def rows() -> Any:
            for row in repository.iter_events(conn):
                record = dict(row)
                if record["case_id"] is not None:
                    by_case[int(record["case_id"])].append(record)
                elif record["kind"] == "admin":
                    user_events.append(record)
                if checkpoint is not None and record["seq"] == checkpoint.event_count:
                    hash_at[int(record["seq"])] = str(record["entry_hash"])
                if progress is not None:
                    progress(1)
                yield record

        findings, count, last = audit.verify_chain(rows(), head)
        report.findings.extend(findings)
        report.events = count
        report.head_hash = last
        if checkpoint is not None:
            report.findings.extend(audit.check_against_checkpoint(checkpoint, hash_at, count))
        report.findings.extend(_check_triggers(conn))
        for case_row in projections.list_cases(conn):
            case_refs[int(case_row["id"])] = str(case_row["ref"])
        report.cases = len(case_refs)
        report.findings.extend(_verify_cases(ctx, conn, by_case, case_refs))
        users = repository.list_users(conn)
        report.users = len(users)
        report.findings.extend(_verify_users(users, user_events))
    return report


def _check_triggers(conn: Connection) -> list[audit.Finding]:
    if conn.dialect.name == "postgresql":
        enabled = {
            str(r[0])
            for r in conn.execute(
                text(
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = 'events'::regclass "
                    "AND NOT tgisinternal AND tgenabled <> 'D'"
                )
            )
        }
        missing = [n for n in APPEND_ONLY_TRIGGERS_POSTGRES if n not in enabled]
        if missing:
            return [
                audit.Finding(
                    "protection",
                    "the append-only protection on events has been removed or disabled "
                    f"({', '.join(missing)})",
                )
            ]
        return []
    names = {
        str(r[0])
        for r in conn.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'")
        )
    }
    missing = [n for n in APPEND_ONLY_TRIGGERS_SQLITE if n not in names]
    if missing:
        return [
            audit.Finding(
                "protection",
                f"the append-only protection on events has been removed ({', '.join(missing)})",
            )
        ]
    return []


def _verify_cases(
    ctx: ServiceContext,
    conn: Connection,
    by_case: dict[int, list[dict[str, Any]]],
    case_refs: dict[int, str],
) -> list[audit.Finding]:
    found: list[audit.Finding] = []
    for case_id in sorted(set(by_case) - set(case_refs)):
        found.append(
            audit.Finding("replay", f"events refer to case id {case_id}, which has no row")
        )
    for case_id, ref in case_refs.items():
        events = by_case.get(case_id, [])
        if not events:
            found.append(audit.Finding("replay", f"case {ref} has no events in the log"))
            continue
        for event in events:
            if event["case_ref"] != ref:
                found.append(
                    audit.Finding(
                        "replay",
                        f"event belongs to case {event['case_ref']} but is filed under {ref}",
                        int(event["seq"]),
                    )
                )
        row = projections.get_case(conn, ref)
        assert row is not None
        try:
            definition = ctx.registry.get_exact(
                str(row["workflow_id"]), int(row["workflow_version"]), str(row["workflow_hash"])
            )
        except CaseReviewError as exc:
            found.append(audit.Finding("replay", f"case {ref}: {exc.message}"))
            continue
        for event in events:
            if event["definition_hash"] != definition.content_hash:
                found.append(
                    audit.Finding(
                        "replay",
                        f"case {ref}: event made under a different workflow content",
                        int(event["seq"]),
                    )
                )
                break
        state = replay(definition, ref, events)
        for seq, problem in state.problems:
            found.append(audit.Finding("replay", f"case {ref}: {problem}", seq))
        expected = {
            "state": state.state,
            "pseudonym": state.pseudonym,
            "version": state.version,
            "fields": state.fields,
            "approvals": state.approvals,
            "closed": state.closed,
            "last_event_on": state.last_event_on,
            "last_seq": state.last_seq,
            "opened_on": state.opened_on,
        }
        stored = {
            "state": row["state"],
            "pseudonym": row["pseudonym"],
            "version": int(row["version"]),
            "fields": json.loads(row["fields"]),
            "approvals": json.loads(row["approvals"]),
            "closed": bool(row["closed"]),
            "last_event_on": row["last_event_on"],
            "last_seq": int(row["last_seq"]),
            "opened_on": row["opened_on"],
        }
        for key, value in expected.items():
            if stored[key] != value:
                found.append(
                    audit.Finding(
                        "projection",
                        f"case {ref}: stored {key} differs from what its events produce",
                    )
                )
        derived = clocks.derive(clocks.rules_for(definition), state.facts, ctx.calendar)
        expected_clocks = {c.rule.id: clocks.summarise(c) for c in derived.values()}
        stored_clocks = {str(r["clock_id"]): r for r in projections.clocks_of(conn, case_id)}
        for clock_id in sorted(set(expected_clocks) | set(stored_clocks)):
            want = expected_clocks.get(clock_id)
            have = stored_clocks.get(clock_id)
            if want is None or have is None:
                found.append(
                    audit.Finding(
                        "projection",
                        f"case {ref}: clock {clock_id} should "
                        f"{'not ' if want is None else ''}exist",
                    )
                )
                continue
            for column in projections.CLOCK_COLUMNS:
                if getattr(want, column) != have[column]:
                    found.append(
                        audit.Finding(
                            "projection",
                            f"case {ref}: clock {clock_id} {column} differs from its events",
                        )
                    )
                    break
    return found


def _verify_users(users: Any, events: list[dict[str, Any]]) -> list[audit.Finding]:
    expected: dict[str, dict[str, Any]] = {}
    for event in events:
        fields = json.loads(event["fields"])
        if event["trigger"] in ("user_add", "user_change"):
            expected[fields["username"]] = {
                "display_name": fields["display_name"],
                "roles": sorted(fields["roles"]),
                "agency": fields["agency"],
            }
    found: list[audit.Finding] = []
    stored = {
        str(u["username"]): {
            "display_name": u["display_name"],
            "roles": sorted(json.loads(u["roles"])),
            "agency": u["agency"],
        }
        for u in users
    }
    for username in sorted(set(expected) | set(stored)):
        if expected.get(username) != stored.get(username):
            found.append(
                audit.Finding("projection", f"user {username} differs from the user events")
            )
    return found


def checkpoint(ctx: ServiceContext) -> audit.Checkpoint:
    with ctx.db().reading() as conn:
        seq, head = repository.chain_head(conn)
    return audit.Checkpoint(seq, head, audit.format_instant(ctx.clock.now()))
