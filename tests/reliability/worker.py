"""Code that runs in other processes for the reliability suites.

Two ways in:

* `multiprocessing` (spawn) targets: `stress` (one of the concurrent writers) and
  `race` (one of the two processes racing on the same case behind a barrier);
* `crash_child`, a target for a fork server that has this module preloaded (so a child
  starts writing in milliseconds, and a kill cycle stays short): it writes until it is
  killed, printing one line per committed write to its stdout (a pipe to the test),
  flushed after commit returns. `python -m tests.reliability.worker crash URL SEED`
  runs the same loop by hand.

Workers are test code: they build `ServiceContext`s directly with an explicit account,
so no process needs its OS identity patched. They import only casereview and the
standard library, to start quickly.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import time
from typing import Any

from casereview.errors import CaseReviewError, Conflict, NotFound, Refused
from casereview.infra.now import FixedClock
from casereview.services import cases
from casereview.services.context import ServiceContext
from tests.reliability.support import ADMIN, PARTNERS, TODAY

ACCOUNTS = ("bu", "chair", "la", "police", "icb", ADMIN)
_shared: dict[str, Any] = {}


def warm() -> None:
    """Parse the workflows, build the calendar and import the store once per process
    (before any fork)."""
    # The write path imports the store (and SQLAlchemy) on first use; a child that paid
    # for that after saying "ready" could be killed before its first commit every time.
    import casereview.store.database
    import casereview.store.event_log
    import casereview.store.projections
    import casereview.store.users  # noqa: F401

    if not _shared:
        probe = ServiceContext(url="sqlite://", account=ADMIN)
        _shared["registry"] = probe.registry
        _shared["calendar"] = probe.calendar


def as_login(url: str, account: str) -> str:
    """The URL to record as `account`: on PostgreSQL the database records its login, so
    a login of that name (the test creates it); a SQLite URL unchanged."""
    if not url.startswith("postgresql"):
        return url
    from sqlalchemy.engine import make_url

    return make_url(url).set(username=account).render_as_string(hide_password=False)


class Writer:
    """Random but well-formed requests against the England workflow, as several people."""

    def __init__(self, url: str, seed: int, tag: str, today: dt.date = TODAY) -> None:
        self.rng = random.Random(seed)
        self.tag = tag
        self.clock = FixedClock(today)
        self.today = today
        warm()
        # Every context shares the parsed registry and calendar: only the account differs.
        self.ctx = {
            name: ServiceContext(
                url=as_login(url, name),
                account=name,
                clock=self.clock,
                _registry=_shared["registry"],
                _calendar=_shared["calendar"],
            )
            for name in ACCOUNTS
        }
        self.definition = _shared["registry"].get("england-lcspr", 1)
        self.opened = 0
        self.states: dict[str, str] = {}

    def close(self) -> None:
        for ctx in self.ctx.values():
            ctx.close()

    def refresh(self) -> None:
        self.states = {c.ref: c.state for c in cases.list_cases(self.ctx["bu"]) if not c.closed}

    def open_case(self) -> str:
        self.opened += 1
        ref = f"{self.tag}-{self.opened}"
        cases.open_case(
            self.ctx["bu"],
            ref,
            aware_on=self.today,
            pseudonym=f"Child {ref}",
            fields={"nature": self.rng.choice(["death", "serious_harm"])},
        )
        self.states[ref] = "screening"
        return ref

    def value(self, name: str) -> str:
        spec = self.definition.fields_by_id[name]
        if spec.type == "date":
            return self.today.isoformat()
        if spec.type == "choice":
            return str(self.rng.choice(list(spec.choices)))
        if spec.type == "yes_no":
            return "yes"
        return f"{name} by {self.tag}"

    def request(self, state: str) -> tuple[str, str, dict[str, str], str] | None:
        """(trigger, account, fields, rationale) for a random trigger possible in `state`."""
        options = list(self.definition.triggers_from(state))
        if not options:
            return None
        trigger = self.rng.choice(options)
        role = self.rng.choice(list(trigger.roles))
        account = self.rng.choice(PARTNERS) if role == "partner" else ACCOUNTS_BY_ROLE[role]
        fields = {name: self.value(name) for name in trigger.requires if name != "agency"}
        return trigger.id, account, fields, f"decided by {self.tag}"

    def step(self) -> tuple[str, Any]:
        """One attempt. Returns (outcome, detail): ("open", ref), ("advance", (seq, ref,
        trigger, account)), or ("conflict" | "refused" | "not_found" | "idle", message)."""
        if len(self.states) < 6 or self.rng.random() < 0.04:
            return "open", self.open_case()
        ref = self.rng.choice(sorted(self.states))
        state = self.states[ref]
        chosen = self.request(state)
        if chosen is None:
            self.states.pop(ref, None)
            return "idle", ref
        trigger, account, fields, rationale = chosen
        try:
            result = cases.advance(
                self.ctx[account],
                ref,
                trigger,
                fields=fields,
                rationale=rationale,
                expect_state=state,
            )
        except Conflict as exc:
            self.states.pop(ref, None)  # stale: learn the new state on the next refresh
            return "conflict", exc.message
        except Refused as exc:
            return "refused", exc.message
        except NotFound as exc:
            return "not_found", exc.message
        self.states[ref] = result.to_state
        return "advance", (result.seq, ref, trigger, account)


ACCOUNTS_BY_ROLE = {"business_unit": "bu", "chair": "chair", "admin": ADMIN}


def stress(url: str, index: int, seconds: float, seed: int) -> dict[str, Any]:
    """One concurrent writer: random advances on every case for `seconds` (spawn target)."""
    writer = Writer(url, seed, f"W{index}")
    committed: list[tuple[int, str, str, str]] = []
    opened: list[str] = []
    counts = {"conflict": 0, "refused": 0, "not_found": 0, "idle": 0, "errors": 0}
    errors: list[str] = []
    attempts = 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if attempts % 4 == 0:
                writer.refresh()
            attempts += 1
            try:
                outcome, detail = writer.step()
            except CaseReviewError as exc:  # e.g. "busy with another writer"
                counts["errors"] += 1
                errors.append(f"{type(exc).__name__}: {exc.message}")
                continue
            if outcome == "open":
                opened.append(detail)
            elif outcome == "advance":
                committed.append(detail)
            else:
                counts[outcome] += 1
    finally:
        writer.close()
    return {
        "index": index,
        "attempts": attempts,
        "committed": committed,
        "opened": opened,
        "counts": counts,
        "errors": errors[:20],
    }


def race(
    url: str,
    account: str,
    ref: str,
    plan: list[tuple[str, str, dict[str, str], str]],
    barrier: Any,
) -> list[tuple[str, Any]]:
    """Race the other process on `ref`: before each round both wait at `barrier`, then
    fire the round's trigger naming the state both saw (spawn target)."""
    ctx = ServiceContext(url=as_login(url, account), account=account, clock=FixedClock(TODAY))
    ctx.registry.get("england-lcspr", 1)  # parse before the first round, not inside it
    outcomes: list[tuple[str, Any]] = []
    try:
        for trigger, expect_state, fields, rationale in plan:
            barrier.wait()
            try:
                result = cases.advance(
                    ctx, ref, trigger, fields=fields, rationale=rationale, expect_state=expect_state
                )
            except Conflict as exc:
                outcomes.append(("conflict", exc.message))
            except CaseReviewError as exc:
                outcomes.append((type(exc).__name__, exc.message))
            else:
                outcomes.append(("ok", result.seq))
    finally:
        ctx.close()
    return outcomes


def race_to_queue(queue: Any, account: str, url: str, ref: str, plan: Any, barrier: Any) -> None:
    """`race`, reporting (account, outcomes) on `queue` (spawn target)."""
    queue.put((account, race(url, account, ref, plan, barrier)))


def crash(url: str, seed: int, out: Any = None) -> None:
    """Write forever; report each committed write on stdout after commit returns."""
    out = out or sys.stdout
    writer = Writer(url, seed, f"K{seed}")
    out.write("ready\n")
    out.flush()
    n = 0
    while True:
        if n % 4 == 0:
            writer.refresh()
        n += 1
        try:
            outcome, detail = writer.step()
        except CaseReviewError:
            continue
        if outcome == "open":
            out.write(f"open {detail}\n")
            out.flush()
        elif outcome == "advance":
            seq, ref, trigger, account = detail
            out.write(f"advance {seq} {ref} {trigger} {account}\n")
            out.flush()


def crash_child(url: str, seed: int, pipe: Any, key_dir: str) -> None:
    """`crash` in a process forked from the preloaded fork server, with `pipe` as its
    stdout (a multiprocessing target: killed, never returns). The fork server keeps the
    environment it started with, so the test's key folder is handed over."""
    os.environ["CASEREVIEW_KEY_DIR"] = key_dir
    os.dup2(pipe.fileno(), 1)
    pipe.close()
    crash(url, seed, os.fdopen(1, "w", buffering=1, encoding="utf-8", closefd=False))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "crash":
        sys.exit("usage: python -m tests.reliability.worker crash SQLITE_URL SEED")
    crash(sys.argv[2], int(sys.argv[3]))
