"""A person's calendar subscription address: a secret token in a URL that a calendar
program fetches without signing in, and gets the same feed `calendar export` writes,
read as that person.

The token is random (256 bits), shown once when made and never stored: the database
keeps its sha256 (`store.calendar_feeds`), so a copy of the database does not give
anyone the addresses. A person has at most one live address: making a new one revokes
the old. Making and revoking are events of kind "key" (`calendar_feed_create`,
`calendar_feed_revoke`), signed and recorded only by the address's owner, as a signing
key's enrolment is. A revoked address, or one whose owner was deactivated, finds
nothing (NotFound), as an address that never existed does.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from casereview.domain.authority import CALENDAR_FEED_CREATE, CALENDAR_FEED_REVOKE, KEY
from casereview.errors import NotFound
from casereview.services import keys
from casereview.services.access import require_reader
from casereview.services.context import ServiceContext
from casereview.services.uncased_events import uncased_event
from casereview.store import calendar_feeds as feed_rows
from casereview.store import event_log

if TYPE_CHECKING:
    from casereview.store.database import Connection


@dataclass(frozen=True)
class Feed:
    """A live address: its public id, and the event that made it."""

    feed_id: str
    created_seq: int


@dataclass(frozen=True)
class NewFeed:
    """A new address: its id, and the secret token (shown once, never stored)."""

    feed_id: str
    token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _record(ctx: ServiceContext, conn: Connection, trigger: str, feed_id: str) -> int:
    signer = keys.write_signer(ctx, conn)
    fields: dict[str, object] = {"username": ctx.account, "feed_id": feed_id}
    event = uncased_event(ctx, KEY, trigger, fields, role=None)
    appended = event_log.append_event(conn, event, None, signer)
    return int(appended.seq)


def create(ctx: ServiceContext) -> NewFeed:
    """Make this account's address (revoking the one it had)."""
    token = secrets.token_urlsafe(32)
    feed_id = secrets.token_hex(8)
    with ctx.db().unit_of_work() as uow:
        require_reader(ctx, uow.conn)
        old = feed_rows.live_of(uow.conn, ctx.account)
        if old is not None:
            feed_rows.revoke(
                uow.conn,
                str(old["feed_id"]),
                _record(ctx, uow.conn, CALENDAR_FEED_REVOKE, str(old["feed_id"])),
            )
        seq = _record(ctx, uow.conn, CALENDAR_FEED_CREATE, feed_id)
        feed_rows.add(
            uow.conn, feed_id=feed_id, username=ctx.account, token_hash=token_hash(token), seq=seq
        )
        uow.commit()
    return NewFeed(feed_id, token)


def revoke(ctx: ServiceContext) -> bool:
    """Revoke this account's address; False if it had none."""
    with ctx.db().unit_of_work() as uow:
        require_reader(ctx, uow.conn)
        old = feed_rows.live_of(uow.conn, ctx.account)
        if old is None:
            return False
        feed_id = str(old["feed_id"])
        feed_rows.revoke(uow.conn, feed_id, _record(ctx, uow.conn, CALENDAR_FEED_REVOKE, feed_id))
        uow.commit()
    return True


def current(ctx: ServiceContext) -> Feed | None:
    """This account's live address, if it has one."""
    with ctx.db().reading() as conn:
        require_reader(ctx, conn)
        row = feed_rows.live_of(conn, ctx.account)
    return None if row is None else Feed(str(row["feed_id"]), int(row["created_seq"]))


def owner(ctx: ServiceContext, token: str) -> str:
    """Whose live address `token` is (NotFound for any other token)."""
    with ctx.db().reading() as conn:
        row = feed_rows.live_by_hash(conn, token_hash(token))
    if row is None:
        raise NotFound("no such calendar feed")
    return str(row["username"])


def write_feed(ctx: ServiceContext, token: str, sink: BinaryIO) -> None:
    """The feed of the address `token`, as `calendar export` writes it for the account
    `ctx` acts as, which must be the address's owner (NotFound otherwise, and for a
    revoked address or an owner who may no longer read)."""
    from casereview.errors import Refused
    from casereview.services import exports

    if owner(ctx, token) != ctx.account:
        raise NotFound("no such calendar feed")
    try:
        exports.export_calendar(ctx, sink)
    except Refused:
        raise NotFound("no such calendar feed") from None
