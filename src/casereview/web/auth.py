"""Who may use the web interface: local sign-in by one-time link, the sessions it starts,
their CSRF tokens, and the limit on sign-in attempts.

Local mode acts as the operating-system account that started the server (the same
`ServiceContext.from_options` as the CLI). A browser proves it belongs to that account
by opening a sign-in link only that account saw: the server prints it on its own
console. Each link works once; using it prints the next one, so the console always holds
one unused link. A session lives in this process's memory only (a restart signs everyone
out), under a random id in an HttpOnly, SameSite=Strict cookie, and ends after
`IDLE_TIMEOUT` seconds without a request.

Kept free of Starlette so the rules are tested without a server; `web.app` applies them.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

IDLE_TIMEOUT = 30 * 60
"""Seconds a session lives without a request (documented in docs/web.md)."""

SIGN_IN_LIMIT = 10
"""Sign-in attempts one client may make in `SIGN_IN_WINDOW` seconds."""

SIGN_IN_WINDOW = 60.0

COOKIE = "casereview_session"
"""The session cookie's name."""

Monotonic = Callable[[], float]


@dataclass
class Session:
    """One signed-in browser: its id (the cookie's value), its CSRF token, when it was
    last used (by the store's monotonic clock) and, in shared mode, the username of the
    person signed in ("" in local mode: the server's own account)."""

    id: str
    csrf_token: str
    last_seen: float
    username: str = ""


class SessionStore:
    """Sessions in memory, by id. `now` is a monotonic clock (tests pass their own)."""

    def __init__(self, *, idle_timeout: float = IDLE_TIMEOUT, now: Monotonic = time.monotonic):
        self.idle_timeout = idle_timeout
        self._now = now
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def start(self, username: str = "") -> Session:
        """A new session with fresh random id and CSRF token, for `username` (shared
        mode) or for the server's own account."""
        session = Session(
            secrets.token_urlsafe(32), secrets.token_urlsafe(32), self._now(), username
        )
        with self._lock:
            self._expire()
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, its idle time restarted; None for an unknown,
        forged or expired id (an expired one is forgotten)."""
        if not session_id:
            return None
        with self._lock:
            self._expire()
            session = self._sessions.get(session_id)
            if session is not None:
                session.last_seen = self._now()
            return session

    def end(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)

    def _expire(self) -> None:
        now = self._now()
        for key in [k for k, s in self._sessions.items() if now - s.last_seen > self.idle_timeout]:
            del self._sessions[key]


@dataclass
class SignInLinks:
    """The one-time sign-in token of local mode. `announce` is told each new token (the
    server prints the link on its console)."""

    announce: Callable[[str], None] = lambda token: None
    _token: str = field(default="", init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self._next()

    @property
    def token(self) -> str:
        """The unused token now (for the console and for tests)."""
        return self._token

    def spend(self, offered: str | None) -> bool:
        """True, once, for the unused token (which is then spent and the next one
        announced); False for anything else, in constant time."""
        if not offered:
            return False
        with self._lock:
            if not hmac.compare_digest(offered.encode(), self._token.encode()):
                return False
            self._next()
        return True

    def _next(self) -> None:
        self._token = secrets.token_urlsafe(32)
        self.announce(self._token)


class RateLimit:
    """At most `limit` attempts per client in any `window` seconds (a sliding window)."""

    def __init__(
        self,
        limit: int = SIGN_IN_LIMIT,
        window: float = SIGN_IN_WINDOW,
        now: Monotonic = time.monotonic,
    ) -> None:
        self.limit, self.window, self._now = limit, window, now
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        """Count one attempt by `client`; False when it is over the limit."""
        now = self._now()
        with self._lock:
            times = self._seen.setdefault(client, deque())
            while times and now - times[0] >= self.window:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True


def csrf_ok(session: Session, offered: object) -> bool:
    """Whether a form's CSRF token is the session's (compared in constant time)."""
    if not isinstance(offered, str) or not offered:
        return False
    return hmac.compare_digest(offered.encode(), session.csrf_token.encode())
