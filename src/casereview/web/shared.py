"""Shared mode: people sign in with the partnership's identity provider (`web.oidc`) and
each request acts for the person its session belongs to.

`SharedSignIn` is what the app keeps for it: the OpenID Connect client and provider,
the sign-ins under way (`PendingSignIns`: server-side, each under a random id in a
short-lived cookie, used once), the ledger of ID token nonces already accepted, and
two functions the server supplies (the CLI, or a test): `user_for` turns a verified
identity into a casereview username (`services.identities.user_for` on the shared
database), and `person` makes one request's service context for a username
(`ServiceContext.for_person(shared, username, server_keys=…)`).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from casereview.web import oidc

if TYPE_CHECKING:
    from casereview.services.context import ServiceContext

PENDING_COOKIE = "casereview_sign_in"
"""The cookie that names a sign-in under way (SameSite=Lax: the provider's redirect back
is a navigation from its site, on which a Strict cookie would not be sent)."""

MOST_PENDING = 10_000
"""Sign-ins kept under way at once; beyond it the oldest is dropped (memory is bounded
whatever a client sends; sign-in attempts are rate-limited as well)."""


class PendingSignIns:
    """The sign-ins begun and not yet finished, by a random id; each taken once."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self._pending: dict[str, oidc.Pending] = {}
        self._lock = threading.Lock()

    def keep(self, pending: oidc.Pending) -> str:
        key = secrets.token_urlsafe(32)
        with self._lock:
            self._expire()
            while len(self._pending) >= MOST_PENDING:
                del self._pending[next(iter(self._pending))]
            self._pending[key] = pending
        return key

    def take(self, key: str | None) -> oidc.Pending | None:
        """The sign-in under `key`, forgotten as it is returned (None if unknown)."""
        if not key:
            return None
        with self._lock:
            self._expire()
            return self._pending.pop(key, None)

    def _expire(self) -> None:
        oldest = self._now() - oidc.PENDING_SECONDS
        for key in [k for k, p in self._pending.items() if p.started_at < oldest]:
            del self._pending[key]


@dataclass
class SharedSignIn:
    client: oidc.Client
    provider: oidc.Provider
    user_for: Callable[[str, str], str]  # (issuer, subject) -> username, or NotLinked
    person: Callable[[str], ServiceContext]
    pending: PendingSignIns = field(default_factory=PendingSignIns)
    ledger: oidc.NonceLedger = field(default_factory=oidc.NonceLedger)
    partnership_name: str | None = None  # for the pages before sign-in
