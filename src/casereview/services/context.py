"""What every service call needs: the database, the clock, the acting account, and
lazily built domain collaborators (the workflow registry and the working-day calendar);
and what a worker process rebuilds a context from (`WorkerSetup`).

A command's context acts as whoever runs it (`from_options`); a server that acts for
people signed in to it makes one per request (`open_shared` once, then `for_person`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from casereview.infra.now import Clock, SystemClock
from casereview.store import location

if TYPE_CHECKING:
    from pathlib import Path

    from casereview.domain.calendar.workdays import WorkingDayCalendar
    from casereview.domain.signing import Signer
    from casereview.infra.server_keys import ServerKeys
    from casereview.infra.workflows.registry import Registry
    from casereview.store.database import Database
    from casereview.store.reading import Reader


@dataclass
class ServiceContext:
    url: str
    account: str
    clock: Clock = field(default_factory=SystemClock)
    key_dir: Path | None = None  # None: `infra.keys.key_dir()` ($CASEREVIEW_KEY_DIR or the user's)
    server_keys: ServerKeys | None = None  # a server's: the keys it holds for people
    _db: Database | None = None
    _registry: Registry | None = None
    _calendar: WorkingDayCalendar | None = None
    _snapshots: Callable[[], AbstractContextManager[Reader]] | None = None
    """A server's source of read snapshots (`services.server_contexts`), used by
    `reader()` instead of opening the database for each."""

    @classmethod
    def from_options(cls, db_option: str | None, account: str | None = None) -> ServiceContext:
        """The context for one CLI invocation.

        On SQLite the actor is the operating-system account; on PostgreSQL it is the
        database session user, which the server has authenticated, so nobody can record
        events as someone else by changing a local setting.
        """
        from casereview.infra.identity import os_account

        url = location.resolve(db_option)
        if account is None and location.is_server(url):
            from casereview.store.database import Database

            probe = Database(url)  # not opened: no migration, just ask who we are
            try:
                return cls(url=url, account=probe.session_user())
            finally:
                probe.dispose()
        return cls(url=url, account=account or os_account())

    @classmethod
    def for_person(
        cls,
        shared: Database,
        username: str,
        *,
        clock: Clock | None = None,
        server_keys: ServerKeys | None = None,
    ) -> ServiceContext:
        """The context of one request by `username`, signed in to a server that acts for
        people (`shared` from `open_shared`, whose connections it shares).

        On PostgreSQL every transaction it opens begins with `SET LOCAL ROLE username`:
        the database records that person (provided the server's login is a trusted
        server login) and refuses what they may not do; the role ends with the
        transaction. On SQLite the file cannot tell people apart: the server process is
        the trusted party and `username` is recorded on its word (docs/deployment.md,
        "The web interface on a shared installation").

        With `server_keys` (`ServerKeys.from_environment()`), the person's events are
        signed with the key the server holds for them, and only theirs, each use logged;
        their key is enrolled with `services.keys.enrol` like any other."""
        return cls(
            url=shared.url,
            account=username,
            clock=clock if clock is not None else SystemClock(),
            server_keys=server_keys,
            _db=shared.acting(username),
        )

    def db(self, *, create: bool = False, group: int | None = None) -> Database:
        if self._db is None:
            from casereview.store.database import Database

            self._db = Database.open(self.url, create=create, group=group)
        return self._db

    @contextmanager
    def reader(self) -> Iterator[Reader]:
        """A read-only snapshot for commands that only read (`store.reading`): on SQLite
        through the standard library's driver alone, which starts much faster."""
        from casereview.store import reading

        if self._snapshots is not None:
            with self._snapshots() as reader:
                yield reader
            return
        if self._db is not None:
            # Already open (e.g. after a write): reuse it.
            with self._db.reading() as conn:
                yield reading.AlchemyReader(conn)
            return
        with reading.snapshot(self.url) as reader:
            yield reader

    @property
    def registry(self) -> Registry:
        """The workflow files found here; a pinned definition no file holds comes from
        the content the database kept at its install (`stored_workflow`)."""
        if self._registry is None:
            from casereview.infra.workflows.registry import Registry

            self._registry = Registry.from_environment()
        if self._registry.stored is None:
            self._registry.stored = self.stored_workflow
        return self._registry

    def stored_workflow(self, definition_hash: str) -> str | None:
        """The content the database kept for an installed definition (None if none)."""
        from casereview.store import kept_workflow

        with self.reader() as reader:
            return kept_workflow.content_of(reader, definition_hash)

    @property
    def calendar(self) -> WorkingDayCalendar:
        if self._calendar is None:
            from casereview.infra.bank_holidays import default_calendar

            self._calendar = default_calendar()
        return self._calendar

    def own_key(self) -> Signer | None:
        """This account's signing key on this machine, or the one the server holds for
        it (None if it has none yet)."""
        if self.server_keys is not None:
            return self.server_keys.load(self.account)
        from casereview.infra.keys import load_key

        return load_key(self.account, self.key_dir)

    def new_key(self) -> Signer:
        """A new signing key for this account (refused if it has one)."""
        if self.server_keys is not None:
            return self.server_keys.create(self.account)
        from casereview.infra.keys import create_key

        return create_key(self.account, self.key_dir)

    def retire_own_key(self) -> None:
        """Move this account's key aside, so that the next enrolment makes a new one."""
        if self.server_keys is not None:
            self.server_keys.retire(self.account)
            return
        from casereview.infra.keys import retire_key

        retire_key(self.account, self.key_dir)

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None


def open_shared(url: str, *, pool_size: int = 10) -> Database:
    """The database of a server acting for many people, opened once at its start and
    closed (`dispose()`) when it stops: one pool of `pool_size` connections on
    PostgreSQL, which `ServiceContext.for_person` shares."""
    from casereview.store.database import Database

    return Database.shared(url, pool_size=pool_size)


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker process rebuilds its service context from (picklable): the
    database, the account, the workflow registry's sources and the working-day calendar
    (None: the worker's own default, which is the coordinator's unless overrides were
    given)."""

    url: str
    account: str
    directories: list[Path]
    include_shipped: bool
    calendar: WorkingDayCalendar | None
    acting: bool = False  # a server's context for a person (`for_person`): so is the worker's

    @classmethod
    def of(cls, ctx: ServiceContext) -> WorkerSetup:
        from casereview.infra.bank_holidays import is_default_calendar

        directories, include_shipped = ctx.registry.sources()
        calendar = None if is_default_calendar(ctx.calendar) else ctx.calendar
        acting = ctx._db is not None and ctx._db.acting_for is not None
        return cls(ctx.url, ctx.account, directories, include_shipped, calendar, acting)

    def context(self) -> ServiceContext:
        from casereview.infra.workflows.registry import Registry
        from casereview.store.database import Database

        return ServiceContext(
            url=self.url,
            account=self.account,
            _registry=Registry(self.directories, include_shipped=self.include_shipped),
            _calendar=self.calendar,
            # The worker's own connection, acting for the same person.
            _db=Database.acting_alone(self.url, self.account) if self.acting else None,
        )
