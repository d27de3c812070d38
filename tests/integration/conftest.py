"""Fixtures for service-level tests: a fresh SQLite file, a fixed clock, and people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from casereview.infra.now import FixedClock
from casereview.services import users
from casereview.services.context import ServiceContext
from tests.conftest import enrol_keys

PEOPLE = {
    "bu": (["business_unit"], None),
    "chair": (["chair"], None),
    "la": (["partner"], "local_authority"),
    "police": (["partner"], "police"),
    "icb": (["partner"], "icb"),
    "scrut": (["scrutineer"], None),
}


@dataclass
class World:
    url: str
    clock: FixedClock
    contexts: dict[str, ServiceContext] = field(default_factory=dict)

    def as_(self, account: str) -> ServiceContext:
        if account not in self.contexts:
            self.contexts[account] = ServiceContext(url=self.url, account=account, clock=self.clock)
        return self.contexts[account]

    def on(self, day: str) -> World:
        """Move today to `day` (events are recorded as of today unless told otherwise)."""
        self.clock._instant = FixedClock(dt.date.fromisoformat(day)).now()
        return self

    def close(self) -> None:
        for ctx in self.contexts.values():
            ctx.close()


@pytest.fixture
def world(database_url) -> World:
    w = World(url=database_url, clock=FixedClock(dt.date(2025, 1, 6)))
    users.init(w.as_("admin"))
    for name, (roles, agency) in PEOPLE.items():
        users.add_user(w.as_("admin"), name, name.title(), roles, agency)
    enrol_keys(w.url, *PEOPLE, clock=w.clock)
    yield w
    w.close()


@pytest.fixture
def snapshot_db() -> Callable[[World], list]:
    """The database's full logical content, to prove a refused command changed nothing."""
    from tests.conftest import snapshot

    def take(w: World) -> list:
        return snapshot(w.url)

    return take
