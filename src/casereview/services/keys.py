"""Use cases about signing keys: enrol, confirm, revoke, list, and the key a write signs with.

Every write signs its events with the recorder's own key (`infra.keys`), and only with a
key the log shows enrolled for that recorder, confirmed by an admin and not revoked
(`domain.signing.KeyRing`, replayed from the events under no case). A write by an
account without one is refused before anything is written. How enrolment and
confirmation make a key added by someone else visible: docs/audit.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from casereview.domain import signing
from casereview.domain.signing import Admins, KeyRing, SignedEvent, Signer
from casereview.errors import Conflict, NotFound, Refused, Step
from casereview.infra import keys as key_files
from casereview.services.context import ServiceContext
from casereview.services.uncased_events import uncased_event
from casereview.store import event_log
from casereview.store import users as user_rows

if TYPE_CHECKING:
    from casereview.store.database import Connection


@dataclass(frozen=True)
class KeyView:
    username: str
    key_id: str
    state: str  # confirmed | unconfirmed | revoked
    enrolled_seq: int
    confirmed_seq: int | None
    confirmed_by: str | None  # None when confirmed: the log's first key (bootstrap)
    revoked_seq: int | None
    revoked_by: str | None
    yours: bool


@dataclass(frozen=True)
class EnrolResult:
    username: str
    key_id: str
    created: bool
    confirmed: bool  # the bootstrap: the log's first key, an admin's


def decoded_fields(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def signed_event(row: Sequence[Any], fields: Any = None) -> SignedEvent:
    """A `event_log.SIGNED_COLUMNS` row as the key ring reads it."""
    seq, _kind, trigger, actor, _fields, signature, kid, entry_hash = row
    return SignedEvent(int(seq), actor, kid, signature, entry_hash, trigger, fields)


def replay_ring(rows: Iterable[Sequence[Any]], *, signatures: bool = True) -> KeyRing:
    """The key ring (and admins) from the unfiled events, in seq order (`signatures`:
    `KeyRing`'s).

    A user event from the first enrolment on changes who is an admin only if it is
    validly signed: a forged grant of admin (itself a finding) confirms nothing."""
    admins = Admins()
    ring = KeyRing(admins, signatures=signatures)
    for row in rows:
        trigger = row[2]
        if trigger in signing.KEY_TRIGGERS:
            ring.apply(signed_event(row, decoded_fields(row[4])))
        elif row[1] == "admin":
            event = signed_event(row)
            if not ring.signed(event.seq) or ring.problem(event) is None:
                admins.apply(trigger, decoded_fields(row[4]))
    return ring


def key_ring(conn: Connection, *, signatures: bool = True) -> KeyRing:
    return replay_ring(event_log.iter_unfiled_signed_events(conn), signatures=signatures)


def _active_user(ctx: ServiceContext, conn: Connection) -> None:
    me = user_rows.get_user(conn, ctx.account)
    if me is None or not me["active"]:
        raise Refused(
            f"account {ctx.account!r} is not a casereview user; an admin must add it first"
        )


def write_signer(ctx: ServiceContext, conn: Connection) -> Signer:
    """The key this account's write signs with: its own, enrolled, confirmed and not
    revoked in the log; refused (nothing written) with the one step that is missing."""
    signer = ctx.own_key()
    ring = key_ring(conn, signatures=False)  # inside the write lock: audit verify checks them
    if signer is None:
        raise Refused(
            "account {account!r} has no signing key on this machine: run '{next}'",
            account=ctx.account,
            next=Step("key_enrol"),
        )
    found = ring.keys.get(signer.key_id)
    if found is None or found.username != ctx.account:
        raise Refused(
            "account {account!r} has not enrolled its signing key {key}: run '{next}'",
            account=ctx.account,
            key=signer.key_id,
            next=Step("key_enrol"),
        )
    if found.state == "revoked":
        raise Refused(
            "signing key {key} of {account!r} was revoked: run '{next}' for a new one",
            key=signer.key_id,
            account=ctx.account,
            next=Step("key_enrol_replace"),
        )
    if found.state != "confirmed":
        raise Refused(
            "signing key {key} of {account!r} is not confirmed yet: an admin must run '{next}'",
            key=signer.key_id,
            account=ctx.account,
            next=Step("key_confirm", (ctx.account, signer.key_id)),
        )
    return signer


def _key_event(
    ctx: ServiceContext, kind: str, trigger: str, fields: dict[str, object]
) -> dict[str, object]:
    return uncased_event(ctx, kind, trigger, fields, role="admin" if kind == "admin" else None)


def enrol_in(ctx: ServiceContext, conn: Connection, *, replace: bool = False) -> EnrolResult:
    """Enrol this account's key (created if it has none) in the caller's transaction."""
    _active_user(ctx, conn)
    ring = key_ring(conn)
    if ring.first_enrol is None and not ring.is_admin(ctx.account):
        raise Refused(
            "the first signing key of this log must be an admin's: an admin runs '{next}' first",
            next=Step("key_enrol"),
        )
    current = ctx.own_key()
    if current is not None:
        known = ring.keys.get(current.key_id)
        if known is not None and replace:
            ctx.retire_own_key()
            current = None
        elif known is not None:
            raise Conflict(
                "key {key} of {account!r} is already enrolled ({state}); "
                "to enrol a new one, run '{next}'",
                key=current.key_id,
                account=ctx.account,
                state=known.state,
                next=Step("key_enrol_replace"),
            )
    signer, created = (current, False) if current is not None else (ctx.new_key(), True)
    fields: dict[str, object] = {
        "username": ctx.account,
        "key_id": signer.key_id,
        "public_key": signing.encode(signer.public_key),
        "algorithm": signing.ALGORITHM,
    }
    event_log.append_event(conn, _key_event(ctx, "key", signing.KEY_ENROL, fields), None, signer)
    return EnrolResult(ctx.account, signer.key_id, created, ring.first_enrol is None)


def enrol(ctx: ServiceContext, *, replace: bool = False) -> EnrolResult:
    """Enrol this account's signing key: `casereview key enrol`."""
    with ctx.db().unit_of_work() as uow:
        result = enrol_in(ctx, uow.conn, replace=replace)
        uow.commit()
    return result


def _require_admin(ctx: ServiceContext, ring: KeyRing) -> None:
    if not ring.is_admin(ctx.account):
        raise Refused(f"only an admin can confirm keys; {ctx.account!r} is not an admin")


def confirm(ctx: ServiceContext, username: str, kid: str) -> KeyView:
    """An admin confirms `username`'s enrolled key `kid`, signing with their own."""
    with ctx.db().unit_of_work() as uow:
        _active_user(ctx, uow.conn)
        ring = key_ring(uow.conn)
        _require_admin(ctx, ring)
        key = ring.keys.get(kid)
        if key is None or key.username != username:
            raise NotFound(
                "no key {key} enrolled for {user!r}; see '{next}'",
                key=kid,
                user=username,
                next=Step("key_list"),
            )
        if key.state != "unconfirmed":
            raise Conflict(f"key {kid} of {username!r} is already {key.state}")
        signer = write_signer(ctx, uow.conn)
        fields: dict[str, object] = {"username": username, "key_id": kid}
        event_log.append_event(
            uow.conn, _key_event(ctx, "admin", signing.KEY_CONFIRM, fields), None, signer
        )
        uow.commit()
    return _find(ctx, kid)


def revoke(ctx: ServiceContext, username: str | None, kid: str | None) -> KeyView:
    """Retire a key: the account's own (by default, the one on this machine), or, for
    an admin, anyone's. Later events signed with it are findings."""
    with ctx.db().unit_of_work() as uow:
        _active_user(ctx, uow.conn)
        ring = key_ring(uow.conn)
        username = username or ctx.account
        own = ctx.own_key()
        if kid is None:
            if username != ctx.account or own is None:
                raise NotFound("name the key to revoke; see '{next}'", next=Step("key_list"))
            kid = own.key_id
        if username != ctx.account and not ring.is_admin(ctx.account):
            raise Refused(
                f"only an admin can revoke another user's key; {ctx.account!r} is not an admin"
            )
        key = ring.keys.get(kid)
        if key is None or key.username != username:
            raise NotFound(
                "no key {key} enrolled for {user!r}; see '{next}'",
                key=kid,
                user=username,
                next=Step("key_list"),
            )
        if key.state == "revoked":
            raise Conflict(f"key {kid} of {username!r} is already revoked")
        signer = write_signer(ctx, uow.conn)
        fields: dict[str, object] = {"username": username, "key_id": kid}
        event_log.append_event(
            uow.conn, _key_event(ctx, "admin", signing.KEY_REVOKE, fields), None, signer
        )
        uow.commit()
    if own is not None and own.key_id == kid:
        ctx.retire_own_key()
    return _find(ctx, kid)


def list_keys(ctx: ServiceContext) -> list[KeyView]:
    with ctx.db().reading() as conn:
        _active_user(ctx, conn)
        ring = key_ring(conn)
    try:
        own = ctx.own_key()
    except key_files.KeyFileError:
        own = None
    mine = own.key_id if own is not None else None
    return [
        KeyView(
            k.username,
            k.key_id,
            k.state,
            k.enrolled_seq,
            k.confirmed_seq,
            k.confirmed_by,
            k.revoked_seq,
            k.revoked_by,
            k.key_id == mine,
        )
        for k in sorted(ring.keys.values(), key=lambda k: (k.username, k.enrolled_seq))
    ]


def _find(ctx: ServiceContext, kid: str) -> KeyView:
    return next(view for view in list_keys(ctx) if view.key_id == kid)
