"""The service contexts of a long-running server (`casereview serve`): what a command
does once per run, done once per server, and shared by every request's context.

`ServerContexts(url, account)` opens the database once, reads the workflow files and the bank
holidays once, and on SQLite keeps a pool of read connections (`store.reading.
SnapshotPool`), so the pages that read the way the CLI's `due`, `case show` and
`timeline` do (`ServiceContext.reader`) read through the standard library's driver
without opening and checking the file for each. Calling it gives the context of one
request acting as the server's own account (local mode: the database opened as a
command opens it); `for_person` gives one acting for a person signed in to a shared
server (`shared=True`: `open_shared`). Who a context records as is decided exactly
as before (the server's account as a command records it, or the person as
`ServiceContext.for_person` does); only the connections and the definitions behind
them are shared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from casereview.infra.now import Clock, SystemClock
from casereview.services.context import ServiceContext, open_shared
from casereview.store import location

if TYPE_CHECKING:
    from pathlib import Path

    from casereview.domain.calendar.workdays import WorkingDayCalendar
    from casereview.infra.server_keys import ServerKeys
    from casereview.infra.workflows.registry import Registry
    from casereview.store.database import Database
    from casereview.store.reading import SnapshotPool


class ServerContexts:
    """One per server: makes each request's `ServiceContext` over what it opened once.
    `close()` when the server stops."""

    def __init__(
        self,
        url: str,
        account: str,
        *,
        clock: Clock | None = None,
        key_dir: Path | None = None,
        server_keys: ServerKeys | None = None,
        shared: bool = False,
        pool_size: int = 10,
        registry: Registry | None = None,
        calendar: WorkingDayCalendar | None = None,
    ) -> None:
        self.url = url
        self.account = account
        self.clock = clock if clock is not None else SystemClock()
        self.key_dir = key_dir
        self.server_keys = server_keys
        if shared:
            self.database: Database = open_shared(url, pool_size=pool_size)
        else:
            from casereview.store.database import Database

            # Checked and migrated as a command's; on a file, its connections kept.
            self.database = Database.open(url, pool_size=pool_size)
        self._snapshots: SnapshotPool | None = None
        try:
            if location.file_of(url) is not None:
                from casereview.store.reading import SnapshotPool

                self._snapshots = SnapshotPool(url)
            # The workflow files and the bank holidays, read once: a definition no file
            # holds any more is read from the database (`ServiceContext.stored_workflow`)
            # through a context of the server's own, which lives as long as it does.
            self._base = self._own()
            self.registry = registry if registry is not None else self._base.registry
            self.calendar = calendar if calendar is not None else self._base.calendar
        except BaseException:
            self.close()
            raise

    def _own(self) -> ServiceContext:
        """A context in the server's own name: the account that started it, recorded
        as a command run by that account records it (the database login on
        PostgreSQL)."""
        return self._shared(
            ServiceContext(
                url=self.url,
                account=self.account,
                clock=self.clock,
                server_keys=self.server_keys,
                _db=self.database.view(),
            )
        )

    def _shared(self, ctx: ServiceContext) -> ServiceContext:
        ctx.key_dir = self.key_dir
        if self._snapshots is not None:
            ctx._snapshots = self._snapshots.snapshot
        return ctx

    def _with_definitions(self, ctx: ServiceContext) -> ServiceContext:
        ctx._registry = self.registry
        ctx._calendar = self.calendar
        return ctx

    def for_person(self, username: str) -> ServiceContext:
        """The context of one request by `username`, signed in to a server that acts
        for people (`ServiceContext.for_person`: what the database records and refuses
        on each backend)."""
        ctx = ServiceContext.for_person(
            self.database, username, clock=self.clock, server_keys=self.server_keys
        )
        return self._with_definitions(self._shared(ctx))

    def __call__(self) -> ServiceContext:
        """The context of one request acting as the server's own account (local
        mode)."""
        return self._with_definitions(self._own())

    def close(self) -> None:
        if self._snapshots is not None:
            self._snapshots.close()
        self.database.dispose()
