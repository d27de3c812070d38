"""Worker processes: how many a long pass gets, and starting, hearing from and stopping
them.

The mechanics every parallel job shares, and nothing of what the jobs compute (top-level
functions of the services, handed in with a picklable job). `Workers` runs one job per
process and hears from each over a one-way pipe; `RequestWorker` is one process answering
requests in order. A failing worker says only its exception's type, and for casereview's
own errors (never holding case data) their message.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, suppress
from multiprocessing.connection import Connection as Pipe
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Any, NoReturn

from casereview.errors import CaseReviewError

Process = BaseProcess
"""A worker process, as `Workers.processes` lists them."""

PARALLEL_FROM_EVENTS = 200_000
"""Logs shorter than this are read in one process unless `jobs` says otherwise:
starting a worker costs a fresh interpreter and its imports, which pays off only for
long passes."""

MAX_AUTO_JOBS = 4
"""The most workers chosen automatically (one per CPU up to this)."""

Work = Callable[[Any, Callable[[Any], None]], Any]
"""A job function: `work(job, tell)` computes a job's result, calling `tell(message)`
with anything the coordinator should hear on the way (progress, partial results)."""

_TOLD, _DONE, _FAILED = "told", "done", "failed"


def auto_jobs(events: int, cpus: int | None) -> int:
    """How many processes share a pass over a log of `events` events on `cpus` CPUs."""
    if events < PARALLEL_FROM_EVENTS:
        return 1
    return max(1, min(cpus or 1, MAX_AUTO_JOBS))


def workers_for(events: int, jobs: int | None) -> int:
    """How many workers a pass over a log of `events` events starts: `jobs` as asked,
    or (None) `auto_jobs` on this machine; 0 if that is fewer than two, or the log is
    empty: the coordinator then does the pass alone."""
    if events == 0:
        return 0
    wanted = auto_jobs(events, os.cpu_count()) if jobs is None else jobs
    return wanted if wanted >= 2 else 0


class WorkerFailed(Exception):
    """A worker ended without its result: `kind` is the type of the exception it raised
    (None if it ended without a word: killed, or crashed), `said` the message of one
    of casereview's own errors."""

    def __init__(self, kind: str | None, said: str | None = None) -> None:
        super().__init__(kind or "ended early")
        self.kind = kind
        self.said = said


def _failure(exc: BaseException) -> tuple[str, str | None]:
    return type(exc).__name__, str(exc) if isinstance(exc, CaseReviewError) else None


def _run(work: Work, job: Any, out: Pipe) -> None:
    """A worker process: `work(job, tell)`, then its result or its failure."""
    try:
        result = work(job, lambda message: out.send((_TOLD, message)))
        out.send((_DONE, result))
    except BaseException as exc:
        # The coordinator may be gone (its end closed): then there is nobody to tell.
        with suppress(OSError):
            out.send((_FAILED, *_failure(exc)))
    finally:
        out.close()


class Workers:
    """One process per job, each running `work(job, tell)`; their pipes, by number."""

    def __init__(self, work: Work, jobs: Sequence[Any]) -> None:
        """Start them; if any fails to start, those already started are stopped."""
        # Always spawned, never forked: a forked child would share the parent's open
        # database handles.
        spawn = multiprocessing.get_context("spawn")
        self.processes: list[Process] = []
        self._pipes: list[Pipe] = []
        try:
            for job in jobs:
                receive, send = spawn.Pipe(duplex=False)
                process = spawn.Process(target=_run, args=(work, job, send), daemon=True)
                try:
                    process.start()
                except BaseException:
                    receive.close()
                    send.close()
                    raise
                send.close()  # the worker holds the only sending end: EOF means it ended
                self.processes.append(process)
                self._pipes.append(receive)
        except BaseException:
            self.stop()
            raise

    def __len__(self) -> int:
        return len(self._pipes)

    def receive(self, number: int) -> tuple[bool, Any]:
        """The next message of worker `number`, waiting for it: (False, what it told) or
        (True, its result). Raises WorkerFailed if it failed or ended without a result."""
        try:
            message = self._pipes[number].recv()
        except (EOFError, OSError):
            raise WorkerFailed(None) from None
        if message[0] == _FAILED:
            raise WorkerFailed(message[1], message[2])
        return message[0] == _DONE, message[1]

    def pending(self, number: int) -> bool:
        """Whether worker `number` has sent something not yet received (or ended)."""
        return self._pipes[number].poll()

    def ready(self, numbers: Sequence[int], timeout: float | None) -> list[int]:
        """Those of the workers `numbers` with something to receive (or that ended),
        waiting up to `timeout` seconds (None: until one has)."""
        pipes = [self._pipes[n] for n in numbers]
        return [numbers[pipes.index(p)] for p in wait(pipes, timeout)]  # type: ignore[arg-type]

    def stop(self) -> None:
        """End every worker still running and close the pipes (safe to call again)."""
        for process in self.processes:
            if process.is_alive():
                process.terminate()
            process.join()
        for pipe in self._pipes:
            pipe.close()


Serve = Callable[[Any], AbstractContextManager[Callable[[Any], Any]]]
"""What a `RequestWorker` runs: `serve(setup)` opens whatever answering needs and gives
the function that answers one request; it is closed when the worker is told to stop."""


def _serve(
    serve: Serve, setup: Any, pipe: Pipe, name: str, error: Callable[[str], CaseReviewError]
) -> None:
    """A request worker process: answer each request until told to stop (None)."""
    try:
        with serve(setup) as answer:
            while (request := pipe.recv()) is not None:
                pipe.send((_DONE, answer(request)))
    except BaseException as exc:
        # The requesting process may be gone (its end closed): then there is nobody to tell.
        with suppress(OSError):
            failure = (
                exc
                if isinstance(exc, CaseReviewError)
                else error(f"{name} failed ({type(exc).__name__})")
            )
            pipe.send((_FAILED, failure))
    finally:
        pipe.close()


class RequestWorker:
    """One process answering requests in order, one at a time (`send`, then `reply`).

    A failure in the worker is raised here: casereview's own errors as they were
    raised (they pickle), anything else as `error("{name} failed (its type)")`, and a
    worker that ended without a word as `error("{name} stopped unexpectedly")`.
    """

    def __init__(
        self,
        serve: Serve,
        setup: Any,
        *,
        name: str,
        error: Callable[[str], CaseReviewError] = CaseReviewError,
    ) -> None:
        spawn = multiprocessing.get_context("spawn")  # never fork (see `Workers`)
        self._pipe, theirs = spawn.Pipe()
        self._name, self._error = name, error
        self.process = spawn.Process(
            target=_serve, args=(serve, setup, theirs, name, error), daemon=True
        )
        self.process.start()
        theirs.close()

    def send(self, request: Any) -> None:
        try:
            self._pipe.send(request)
        except OSError:
            # The worker ended before taking it: raise what it said, if it said anything.
            self._raise_failure()

    def reply(self) -> Any:
        """The answer to the request sent last (waiting for it)."""
        try:
            message = self._pipe.recv()
        except (EOFError, OSError):
            self._raise_failure()
        if message[0] == _FAILED:
            raise message[1]
        return message[1]

    def _raise_failure(self) -> NoReturn:
        with suppress(EOFError, OSError):
            if self._pipe.poll(5):
                message = self._pipe.recv()
                if message[0] == _FAILED:
                    raise message[1]
        raise self._error(f"{self._name} stopped unexpectedly")

    def stop(self) -> None:
        """Tell the worker to stop and wait for it (a minute at most, then end it)."""
        if self.process.is_alive():
            with suppress(OSError):
                self._pipe.send(None)
            self.process.join(timeout=60)
            if self.process.is_alive():
                self.process.terminate()
                self.process.join()
        self._pipe.close()
