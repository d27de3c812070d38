"""The worker-process mechanics (`infra.workers`), with jobs that touch no database:
results and messages come back in order, failures are reported without their text
unless they are casereview's own, and nothing outlives a stop."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from casereview.errors import CaseReviewError, NotFound
from casereview.infra.workers import RequestWorker, WorkerFailed, Workers, workers_for


def counting(job: int, tell: Callable[[Any], None]) -> int:
    for n in range(job):
        tell(n)
    return job * 10


def failing(job: str, tell: Callable[[Any], None]) -> None:
    if job == "ours":
        raise NotFound("no case {ref!r}", ref="2025-001")
    raise ValueError("case data that must not travel")


def test_each_worker_tells_then_returns_its_result():
    workers = Workers(counting, [2, 3])
    try:
        heard = {number: [] for number in range(len(workers))}
        results = {}
        for number in range(len(workers)):
            while True:
                done, value = workers.receive(number)
                if done:
                    results[number] = value
                    break
                heard[number].append(value)
        assert heard == {0: [0, 1], 1: [0, 1, 2]}
        assert results == {0: 20, 1: 30}
    finally:
        workers.stop()
    assert multiprocessing.active_children() == []


def test_a_failure_says_its_type_and_only_casereviews_own_words():
    workers = Workers(failing, ["ours", "theirs"])
    try:
        with pytest.raises(WorkerFailed) as ours:
            workers.receive(0)
        assert (ours.value.kind, ours.value.said) == ("NotFound", "no case '2025-001'")
        with pytest.raises(WorkerFailed) as theirs:
            workers.receive(1)
        assert (theirs.value.kind, theirs.value.said) == ("ValueError", None)
        assert workers.ready([0, 1], timeout=5)  # ended: end of file is ready to read
        with pytest.raises(WorkerFailed) as ended:
            workers.receive(0)
        assert ended.value.kind is None
    finally:
        workers.stop()


def test_a_killed_worker_is_a_failure_without_words():
    workers = Workers(counting, [10**9])
    try:
        workers.processes[0].kill()
        with pytest.raises(WorkerFailed) as killed:
            while True:
                workers.receive(0)
        assert killed.value.kind is None
    finally:
        workers.stop()
    workers.stop()  # safe again


def test_how_many_workers():
    assert workers_for(0, 4) == 0
    assert workers_for(10, 1) == 0
    assert workers_for(10, 3) == 3


class Broken(CaseReviewError):
    pass


@contextmanager
def doubling(start: int) -> Iterator[Callable[[int], int]]:
    if start < 0:
        raise NotFound("nothing to double from")
    total = start

    def answer(n: int) -> int:
        nonlocal total
        if n == 13:
            raise KeyError("unlucky")
        total += 2 * n
        return total

    yield answer


def test_a_request_worker_answers_in_order_and_stops():
    worker = RequestWorker(doubling, 1, name="the doubler", error=Broken)
    try:
        worker.send(2)
        assert worker.reply() == 5
        worker.send(3)
        assert worker.reply() == 11
    finally:
        worker.stop()
    assert not worker.process.is_alive()


def test_a_request_workers_failures_are_raised_here():
    worker = RequestWorker(doubling, -1, name="the doubler", error=Broken)
    try:
        with pytest.raises(NotFound, match="nothing to double"):
            worker.send(1)  # it may have ended already
            worker.reply()
    finally:
        worker.stop()
    worker = RequestWorker(doubling, 0, name="the doubler", error=Broken)
    try:
        worker.send(13)
        with pytest.raises(Broken, match=r"^the doubler failed \(KeyError\)$"):
            worker.reply()
        with pytest.raises(Broken, match=r"^the doubler stopped unexpectedly$"):
            worker.reply()
    finally:
        worker.stop()
