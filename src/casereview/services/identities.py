"""Sign-in identities: which casereview user an OpenID Connect identity is.

An admin links a verified (issuer, subject) to a user (`link`) or removes the link
(`unlink`): admin events under no case (`domain.identities`), so who linked whom, and
when, is in the verifiable log like every user change, and `audit verify` replays
them. A web server asks `user_for` after the provider has vouched for someone; an
identity no admin has linked to an active user gets one answer, `NotLinked`, and
nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from casereview.domain import identities
from casereview.domain.identities import Identity
from casereview.errors import Conflict, InvalidInput, NotFound, Refused, Step
from casereview.services.access import require_admin
from casereview.services.context import ServiceContext
from casereview.store import event_log
from casereview.store import identities as identity_rows
from casereview.store import users as user_rows

if TYPE_CHECKING:
    from casereview.store.database import Database

ASK_YOUR_ADMIN = "you are signed in, but not as a casereview user: ask your admin to add you"


class NotLinked(Refused):
    """A verified identity that no admin has linked to an active user."""

    def __init__(self) -> None:
        super().__init__(ASK_YOUR_ADMIN)


@dataclass(frozen=True)
class LinkView:
    username: str
    issuer: str
    subject: str
    linked: bool  # False: just unlinked


def _checked(issuer: str, subject: str) -> Identity:
    problem = identities.issuer_problem(issuer) or identities.subject_problem(subject)
    if problem is not None:
        raise InvalidInput(problem)
    return Identity(issuer, subject)


def _record(ctx: ServiceContext, trigger: str, username: str, identity: Identity) -> None:
    from casereview.services import keys
    from casereview.services.users import admin_event

    with ctx.db().unit_of_work() as uow:
        require_admin(ctx, uow.conn, "link sign-in identities")
        if user_rows.get_user(uow.conn, username) is None:
            raise NotFound(
                "no user {username!r}; see '{next}'", username=username, next=Step("list_users")
            )
        links = identities.mapping(identity_rows.identity_events(uow.conn))
        fields = {"username": username, "issuer": identity.issuer, "subject": identity.subject}
        problem = identities.apply(dict(links), trigger, fields)
        if problem is not None:
            error = NotFound if trigger == identities.IDENTITY_UNLINK else Conflict
            raise error(problem + "; nothing changed")
        event = admin_event(ctx, trigger, dict(fields))
        event_log.append_event(uow.conn, event, None, keys.write_signer(ctx, uow.conn))
        uow.commit()


def link(ctx: ServiceContext, username: str, issuer: str, subject: str) -> LinkView:
    """An admin links the identity (issuer, subject) to `username`."""
    identity = _checked(issuer, subject)
    _record(ctx, identities.IDENTITY_LINK, username, identity)
    return LinkView(username, issuer, subject, True)


def unlink(ctx: ServiceContext, username: str, issuer: str, subject: str) -> LinkView:
    """An admin removes the link of (issuer, subject) to `username`."""
    identity = _checked(issuer, subject)
    _record(ctx, identities.IDENTITY_UNLINK, username, identity)
    return LinkView(username, issuer, subject, False)


def linked(ctx: ServiceContext) -> dict[str, tuple[Identity, ...]]:
    """Each user's linked identities (for `user list`)."""
    with ctx.db().reading() as conn:
        links = identities.mapping(identity_rows.identity_events(conn))
    found: dict[str, list[Identity]] = {}
    for identity, username in sorted(links.items()):
        found.setdefault(username, []).append(identity)
    return {name: tuple(ids) for name, ids in found.items()}


def user_for(shared: Database, issuer: str, subject: str) -> str:
    """The casereview user a verified sign-in is (the server's shared database, before
    anyone is signed in); `NotLinked` ("ask your admin to add you") for an identity no
    admin linked to an active user."""
    if identities.issuer_problem(issuer) or identities.subject_problem(subject):
        raise NotLinked()
    username = identity_rows.linked_user(shared, issuer, subject)
    if username is None:
        raise NotLinked()
    return username
