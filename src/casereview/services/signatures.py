"""`audit verify`'s signature check: every event from the log's first key enrolment on is
signed by a key enrolled for its actor, confirmed by an admin and not revoked then.

The key ring is replayed from the events under no case (`services.keys.replay_ring`);
then each event's signature is checked against it, in seq order. Ed25519 verification
costs tens of microseconds an event, so a verification that found nothing leaves, in
this account's private folder (`infra.keys`), a record of the (seq, entry hash) it
reached; the next one checks only the events after it, once the chain (checked in full
every time) shows the event at that seq still has that hash, which it cannot unless
every event up to it is unchanged; otherwise, or with `full`, it checks them all.
docs/audit.md says what a full check costs.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from casereview.domain import chain
from casereview.infra import keys as key_files
from casereview.services import keys
from casereview.services.context import ServiceContext
from casereview.store import event_log

if TYPE_CHECKING:
    from casereview.services.audit import SignatureSummary
    from casereview.store.database import Connection

RECORD_VERSION = 1


@dataclass(frozen=True)
class Record:
    """What a clean verification leaves for the next: the log (its first event's hash),
    how far it checked, and where the log's first key enrolment was."""

    log_id: str
    seq: int
    entry_hash: str
    first_enrol: int | None

    def to_data(self) -> dict[str, Any]:
        return {
            "casereview_verified": RECORD_VERSION,
            "log": self.log_id,
            "seq": self.seq,
            "entry_hash": self.entry_hash,
            "first_enrol": self.first_enrol,
        }


def check(
    ctx: ServiceContext, conn: Connection, count: int, last_hash: str, *, full: bool
) -> tuple[list[chain.Finding], SignatureSummary, Record | None]:
    """(findings, what was covered, the record to keep if verification finds nothing)."""
    from casereview.services.audit import SignatureSummary

    summary = SignatureSummary(full=full)
    log_id = event_log.event_hash_at(conn, 1)
    if log_id is None or not log_id.isalnum():
        return [], summary, None  # an empty log (or one the chain check reports)
    ring = keys.replay_ring(event_log.iter_unfiled_signed_events(conn))
    findings = [chain.Finding("signature", f.message, f.seq) for f in ring.findings]
    reported = {f.seq for f in ring.findings}
    first = ring.first_enrol
    summary.unsigned_history = count if first is None else min(count, first - 1)
    through = 0 if full else _trusted_point(ctx, conn, log_id, first)
    summary.already_checked_through = through
    start = max(through, (first - 1) if first is not None else count)
    problem = ring.problem
    for row in event_log.iter_signed_events(conn, after=start):
        summary.checked += 1
        event = keys.signed_event(row)
        if event.seq in reported:
            continue
        why = problem(event)
        if why is not None:
            findings.append(chain.Finding("signature", f"{why}", event.seq))
    findings.sort(key=lambda f: f.seq or 0)
    return findings, summary, Record(log_id, count, last_hash, first)


def _trusted_point(ctx: ServiceContext, conn: Connection, log_id: str, first: int | None) -> int:
    """How far this account already checked the signatures of this log: 0 (check them
    all) unless its record names an event that still has the hash it had then and the
    first enrolment where it was. A log that no longer agrees with the record (another
    database begun with the same first event, an older copy restored) is simply checked
    in full: showing what was cut or rewritten is the checkpoints' work."""
    data = key_files.load_record(log_id, ctx.key_dir)
    if data is None or data.get("casereview_verified") != RECORD_VERSION:
        return 0
    seq, entry_hash, was_first = data.get("seq"), data.get("entry_hash"), data.get("first_enrol")
    if type(seq) is not int or seq < 1 or not isinstance(entry_hash, str):
        return 0
    if event_log.event_hash_at(conn, seq) != entry_hash or was_first != first:
        return 0
    return seq


def remember(ctx: ServiceContext, record: Record) -> None:
    """Keep `record` for this account's next verification (best effort: without it the
    next verification checks every signature again)."""
    with suppress(OSError):
        key_files.save_record(record.log_id, record.to_data(), ctx.key_dir)
